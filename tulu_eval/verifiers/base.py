"""The verifier interface shared by evaluation and RL training.

A verifier is a small object with one call, ``verify(response, ground_truth)``, returning a
:class:`VerifierResult` (a score in [0, 1] plus details). It never raises. The very same
objects are looked up by name (``get_verifier("gsm8k")``) by the RLVR trainer, whose reward
is ``10 * score``; nothing in a verifier knows whether it is evaluating or rewarding.

**Judgment or error.** A result is either a *judgment* (``error is None``: the score says how
good the response is; an unparsable or wrong response is a judgment of 0) or an *error*
(``error`` holds a one-line reason: no judgment could be made, e.g. the code sandbox did not
start, the MATH worker died, a package such as antlr4 or langdetect did not import, the gold
was malformed). An error's score is 0 and means nothing; runs count errors per task
(``results.json`` ``tasks.<name>.errors``), and training logs their share per step.

How a verifier reports one:

* raise: ``verify`` catches every exception of ``_verify`` and returns
  ``VerifierResult.failed("TypeError: ...")`` — the simplest way, and the default for bugs;
* or return ``VerifierResult.failed(reason, **details)`` yourself, e.g. for each of ``n`` samples
  when a shared resource (a sandbox, a worker) is unavailable.

Do not catch environment faults (ImportError, OSError of the harness itself) inside a check and
turn them into a score of 0: that is the silent zero this API exists to prevent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

_REGISTRY: dict[str, type["Verifier"]] = {}


@dataclass
class VerifierResult:
    """``score`` in [0, 1]; ``details`` for the record; ``error`` set when there is no judgment."""

    score: float
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @classmethod
    def failed(cls, reason: str, **details: Any) -> "VerifierResult":
        """An error result: no judgment could be made (score 0, to be counted, never read as wrong)."""
        return cls(0.0, dict(details), error=str(reason) or "error")

    @property
    def is_error(self) -> bool:
        return self.error is not None


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
        except Exception as exc:  # a verifier must never crash a run or a training step: count it instead
            return VerifierResult.failed(f"{type(exc).__name__}: {exc}")
        result.score = 0.0 if result.error is not None else float(min(1.0, max(0.0, result.score)))
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
