"""Verifiers: one module per family; the same configured objects score evaluations and reward RL.

The interface (result, error state, gold encoding) is ``tulu_eval/api/verifier.py``, re-exported
here; ``table.py`` holds the named objects.
"""

from ..api.verifier import Verifier, VerifierResult, decode_gold, encode_gold
from .table import get_verifier, register_verifier, verifier_config, verifier_keys

__all__ = ["Verifier", "VerifierResult", "decode_gold", "encode_gold", "get_verifier", "register_verifier",
           "verifier_config", "verifier_keys"]
