"""Verifiers: one module per family; the same configured objects score evaluations and reward RL.

``base.py`` is the interface (result, error state, gold encoding); ``table.py`` the named objects.
"""

from .base import Verifier, VerifierResult, decode_gold, encode_gold
from .table import get_verifier, register_verifier, verifier_config, verifier_keys

__all__ = ["Verifier", "VerifierResult", "decode_gold", "encode_gold", "get_verifier", "register_verifier",
           "verifier_config", "verifier_keys"]
