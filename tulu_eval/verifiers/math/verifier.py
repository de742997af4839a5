"""MATH: "flex" exact match as OLMES ``minerva_math`` computes it, plus the strict Minerva
match and Math-Verify.

The gold is the reference answer (the content of the solution's last ``\\boxed{}``), normalized
with Minerva's ``normalize_final_answer`` as OLMES and lm-eval normalize it. Details:

* ``candidates``: the response's candidate answers, most trusted first (see
  :func:`~tulu_eval.verifiers.math.normalize.candidates`); ``extracted`` is the first.
* ``exact_match_flex`` (the score): some candidate is equivalent to the gold by Minerva's test
  (identical strings, or sympy finds the difference of the two parsed LaTeX expressions to be 0)
  or by Hendrycks's string normalization -- OLMES's ``exact_match_flex``, the Tülu 3 MATH metric.
  open-instruct's RLVR reward (``MathVerifier``) differs slightly: it tries the boxed content
  before normalizing it and, when nothing is found, also the raw response.
* ``exact_match``: lm-eval ``minerva_math``: only the Minerva "final answer" phrase, Minerva's test.
* ``math_verify``: Hugging Face Math-Verify, ``verify(parse(gold), parse(response))``, as lm-eval
  ``minerva_math`` (and OLMES) report it; the gold is parsed as ``\\boxed{answer}``, which reads
  as the full solution does.

Every symbolic step is bounded (5 s, as in lm-eval and Math-Verify). In the main thread the
bound is a SIGALRM timer, with Math-Verify's own (signal-based) timeouts turned off; elsewhere
(trainer threads, where signals cannot be set) the whole check runs in a worker process that
is killed and replaced when it overruns. A timed-out check counts as "not equivalent".
"""

from __future__ import annotations

import atexit
import threading
from typing import Any

from ...api.verifier import Verifier, VerifierResult
from .equivalence import score
from .worker import MathWorker

WORKER_SECONDS = 120  # a whole verification run off the main thread


_worker = MathWorker()
atexit.register(_worker.kill)


def score_anywhere(response: str, gold: str, timeout: float = WORKER_SECONDS) -> dict[str, Any]:
    """:func:`score`, from any thread: off the main thread it runs in a worker process."""
    if threading.current_thread() is threading.main_thread():
        return score(response, gold)
    return _worker.score(response, gold, timeout)


def _golds(ground_truth) -> list[str]:
    if isinstance(ground_truth, (list, tuple)):
        return [str(g) for g in ground_truth]
    return [str(ground_truth)]


class MathVerifier(Verifier):
    name = "math"

    def _verify(self, response: str, ground_truth) -> VerifierResult:
        best: dict[str, Any] | None = None
        for gold in _golds(ground_truth):  # several acceptable answers: the best-scoring one
            try:
                result = score_anywhere(response, gold)
            except (TimeoutError, RuntimeError) as exc:  # the worker overran or died: no judgment
                result = {"exact_match_flex": 0.0, "exact_match": 0.0, "math_verify": 0.0, "error": str(exc)}
            if best is None or result["exact_match_flex"] > best["exact_match_flex"]:
                best = result
        if "error" in best:  # set by the worker (which catches everything to stay alive) or above
            return VerifierResult.failed(best.pop("error"), **best)
        return VerifierResult(best["exact_match_flex"], best)
