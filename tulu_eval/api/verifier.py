"""The verifier interface shared by evaluation and RL training.

A verifier is a small object with one call, ``verify(response, ground_truth)``, returning a
:class:`VerifierResult` (a score in [0, 1] plus details). It never raises. The very same
objects are looked up by key (``get_verifier("mmlu_pro")``, the table in ``verifiers/table.py``) by the
eval tasks and by the RLVR trainer, whose reward is ``10 * score``; nothing in a verifier knows
whether it is evaluating or rewarding.

**One gold encoding.** ``ground_truth`` is the plain JSON value the eval task's ``gold(doc)``
returns (a string, a list, a dict), never JSON text of it; verifiers do not parse JSON. An RLVR
row's ``ground_truth`` column is ``encode_gold(value)`` (JSON text, because one dataset column
needs one type) and the reward calls ``verify(response, decode_gold(text))``.

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

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


def encode_gold(value: Any) -> str:
    """An eval gold value as the JSON text an RLVR dataset column stores."""
    return json.dumps(value, ensure_ascii=False)


def decode_gold(text: str) -> Any:
    """The inverse of :func:`encode_gold` (ValueError on text that is not JSON)."""
    return json.loads(text)

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

    name: ClassVar[str] = ""  # the family (several configured objects may share one class)

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
