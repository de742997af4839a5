"""The verifier interface shared by evaluation and RL training.

A verifier is a small object with one call, ``verify(response, ground_truth)``, returning a
:class:`VerifierResult` (a score in [0, 1] plus details). It never raises on any model
output: a response it cannot parse scores 0 with the reason in ``details``. The very same
objects are looked up by name (``get_verifier("gsm8k")``) by the RLVR trainer, whose reward
is ``10 * score``; nothing in a verifier knows whether it is evaluating or rewarding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

_REGISTRY: dict[str, type["Verifier"]] = {}


@dataclass
class VerifierResult:
    score: float
    details: dict[str, Any] = field(default_factory=dict)


class Verifier:
    """Subclasses set ``name`` and implement ``_verify``; ``verify`` adds the no-raise guarantee."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            _REGISTRY[cls.name] = cls

    def verify(self, response: str, ground_truth: Any) -> VerifierResult:
        try:
            result = self._verify(response if isinstance(response, str) else str(response), ground_truth)
        except Exception as exc:  # a verifier must never crash a run or a training step
            return VerifierResult(0.0, {"error": f"{type(exc).__name__}: {exc}"})
        result.score = float(min(1.0, max(0.0, result.score)))
        return result

    def _verify(self, response: str, ground_truth: Any) -> VerifierResult:  # pragma: no cover
        raise NotImplementedError

    def __call__(self, response: str, ground_truth: Any) -> VerifierResult:
        return self.verify(response, ground_truth)


def get_verifier(name: str, **kwargs) -> Verifier:
    """The registered verifier called ``name`` (as used in RLVR rows' ``verifier`` column)."""
    from . import load_all  # noqa: PLC0415  (registers the built-in verifiers)

    load_all()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown verifier {name!r}; known: {known}")
    return _REGISTRY[name](**kwargs)


def verifier_names() -> list[str]:
    from . import load_all  # noqa: PLC0415

    load_all()
    return sorted(_REGISTRY)
