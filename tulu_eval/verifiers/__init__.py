"""Verifiers: one module per family; the same objects score evaluations and reward RL."""

from .base import Verifier, VerifierResult, get_verifier, verifier_names

_BUILTIN = ("gsm8k", "math", "ifeval", "mc_answer", "bbh", "popqa", "refusal", "code", "deepmind_math", "ifbench", "drop")


def load_all() -> None:
    """Import the built-in verifier modules so that they register themselves."""
    import importlib

    for mod in _BUILTIN:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise


__all__ = ["Verifier", "VerifierResult", "get_verifier", "verifier_names", "load_all"]
