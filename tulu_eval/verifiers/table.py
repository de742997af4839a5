"""The verifier table: named, configured verifier objects that eval tasks and RLVR rows both use.

A task names its verifier by key (``verifier="mmlu_pro"``); an RLVR training row names the same
key in its ``verifier`` column; both get the very same object from :func:`get_verifier`, built
once per process with the configuration below. So an MMLU-Pro row is rewarded with letters A-J
and the MMLU-Pro fallback chain, exactly as the MMLU-Pro task scores it.

| key | class | configuration | tasks |
|---|---|---|---|
| ``gsm8k`` | ``GSM8KVerifier`` | | gsm8k::tulu |
| ``math`` | ``MathVerifier`` | | minerva_math(_500)::tulu |
| ``ifeval`` | ``IFEvalVerifier`` | | ifeval::tulu |
| ``ifbench`` | ``IFBenchVerifier`` | | ifeval_ood::tulu |
| ``mmlu`` | ``MCAnswerVerifier`` | letters A-D, OLMES "summarize" extraction | mmlu::summarize |
| ``mmlu_pro`` | ``Tulu3LetterVerifier`` | letters A-J, chain mmlu_pro | mmlu_pro::tulu3 |
| ``agieval`` | ``Tulu3LetterVerifier`` | letters A-F, chain mmlu | agieval::tulu3 |
| ``gpqa`` | ``Tulu3LetterVerifier`` | letters A-D, chain gpqa | gpqa::tulu3 |
| ``bbh`` | ``BBHVerifier`` | | bbh::tulu |
| ``popqa`` | ``PopQAVerifier`` | | popqa::tulu |
| ``deepmind_math`` | ``DeepMindMathVerifier`` | | deepmind_math::tulu3 |
| ``drop`` | ``DROPVerifier`` | | drop::llama3 |
| ``refusal`` | ``RefusalVerifier`` | 300-character window | safety::tulu (keyword rule) |
| ``code`` | ``CodeVerifier`` | 10 s per program, in the sandbox | codex_humaneval(plus)(_greedy)::tulu |

Tasks from ``--include-path`` may add their own with :func:`register_verifier`.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from ..api.verifier import Verifier

# key -> (module under tulu_eval.verifiers, class name, constructor arguments)
TABLE: dict[str, tuple[str, str, dict[str, Any]]] = {
    "gsm8k": ("gsm8k", "GSM8KVerifier", {}),
    "math": ("math.verifier", "MathVerifier", {}),
    "ifeval": ("ifeval.verifier", "IFEvalVerifier", {}),
    "ifbench": ("ifbench.verifier", "IFBenchVerifier", {}),
    "mmlu": ("mc_answer", "MCAnswerVerifier", {"letters": "ABCD"}),
    "mmlu_pro": ("mc_answer", "Tulu3LetterVerifier", {"letters": "ABCDEFGHIJ", "chain": "mmlu_pro"}),
    "agieval": ("mc_answer", "Tulu3LetterVerifier", {"letters": "ABCDEF", "chain": "mmlu"}),
    "gpqa": ("mc_answer", "Tulu3LetterVerifier", {"letters": "ABCD", "chain": "gpqa"}),
    "bbh": ("bbh", "BBHVerifier", {}),
    "popqa": ("popqa", "PopQAVerifier", {}),
    "deepmind_math": ("math.deepmind", "DeepMindMathVerifier", {}),
    "drop": ("drop", "DROPVerifier", {}),
    "refusal": ("refusal", "RefusalVerifier", {"window": 300}),
    "code": ("code", "CodeVerifier", {"timeout_s": 10.0}),
}

_objects: dict[str, Verifier] = {}
_lock = threading.Lock()


def get_verifier(key: str) -> Verifier:
    """The configured verifier object called ``key``: the same object on every call."""
    with _lock:
        if key not in _objects:
            if key not in TABLE:
                raise KeyError(f"unknown verifier {key!r}; known: {', '.join(verifier_keys())}")
            module, cls, kwargs = TABLE[key]
            _objects[key] = getattr(importlib.import_module(f"{__package__}.{module}"), cls)(**kwargs)
        return _objects[key]


def register_verifier(key: str, verifier: Verifier) -> Verifier:
    """Add a configured object under a new key (for tasks outside the package); returns it."""
    if not isinstance(verifier, Verifier):
        raise TypeError(f"verifier {key!r} must be a Verifier instance, not {type(verifier).__name__}")
    with _lock:
        if (key in TABLE and _objects.get(key) is not verifier) or (key in _objects and _objects[key] is not verifier):
            raise ValueError(f"verifier key {key!r} is taken")
        _objects[key] = verifier
    return verifier


def key_of(verifier: Verifier) -> str | None:
    """The key an object is registered under, or None."""
    with _lock:
        return next((k for k, v in _objects.items() if v is verifier), None)


def verifier_keys() -> list[str]:
    return sorted(set(TABLE) | set(_objects))


def verifier_config(key: str) -> dict[str, Any]:
    """Class and constructor arguments of a key (recorded in results.json, shown in errors)."""
    if key in TABLE:
        module, cls, kwargs = TABLE[key]
        return {"class": cls, **kwargs}
    return {"class": type(get_verifier(key)).__name__}
