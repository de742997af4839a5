"""MATH: "flex" exact match as OLMES ``minerva_math`` computes it, plus the strict Minerva
match and Math-Verify.

The gold is the reference answer (the content of the solution's last ``\\boxed{}``), normalized
with Minerva's ``normalize_final_answer`` as OLMES and lm-eval normalize it. Details:

* ``candidates``: the response's candidate answers, most trusted first (see
  :func:`~tulu_eval.verifiers.math_normalize.candidates`); ``extracted`` is the first.
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
import signal
import threading
from contextlib import contextmanager
from typing import Any

from .base import Verifier, VerifierResult
from .math_normalize import INVALID, candidates, hendrycks_equiv, minerva_answer, normalize_final_answer
from .math_worker import MathWorker

STEP_SECONDS = 5  # one parse, one simplify, one Math-Verify comparison
WORKER_SECONDS = 120  # a whole verification run off the main thread


class Timeout(BaseException):
    """Raised by :func:`time_limit`; a BaseException so that ``except Exception`` inside sympy or
    Math-Verify cannot swallow it."""


@contextmanager
def time_limit(seconds: float):
    """Raise :class:`Timeout` in the block after ``seconds`` (main thread only; SIGALRM).

    The timer repeats every second until the block ends, in case library code catches the
    first :class:`Timeout`; once the block is left, late alarms are ignored.
    """
    state = {"active": True}

    def _raise(signum, frame):
        if state["active"]:
            raise Timeout()

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield
    finally:
        try:
            state["active"] = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def minerva_equiv(a: str, b: str) -> bool:
    """Minerva's equivalence (lm-eval ``minerva_math`` ``is_equiv``): same string, or sympy
    simplifies the difference of the parsed LaTeX to 0. Unparsable or slow pairs are not equal."""
    if a and a == b:
        return True
    from sympy import simplify  # noqa: PLC0415  (sympy's import is slow; keep it off the CLI path)
    from sympy.parsing.latex import parse_latex  # noqa: PLC0415

    try:
        with time_limit(STEP_SECONDS):
            return bool(simplify(parse_latex(a) - parse_latex(b)) == 0)
    except ImportError:  # antlr4 missing or of the wrong version: no judgment (an error), never "not equal"
        raise
    except (Exception, Timeout):  # parse errors, non-numeric differences, overruns
        return False


def math_verify_equiv(gold: str, response: str) -> bool:
    """Math-Verify's verdict; its own timers are off (ours bounds it) and so is its warning."""
    import math_verify.grader  # noqa: PLC0415
    import math_verify.parser  # noqa: PLC0415
    from math_verify import parse, verify  # noqa: PLC0415

    math_verify.parser.TIMEOUT_WARNING_SHOWN = math_verify.grader.TIMEOUT_WARNING_SHOWN = True
    gold_text = gold if "\\boxed" in gold else "\\boxed{" + gold + "}"
    try:
        with time_limit(3 * STEP_SECONDS):
            return bool(verify(parse(gold_text, parsing_timeout=None), parse(response, parsing_timeout=None),
                               timeout_seconds=None))
    except ImportError:
        raise
    except (Exception, Timeout):
        return False


def score(response: str, gold: str) -> dict[str, Any]:
    """All MATH metrics of one response (main thread: uses SIGALRM)."""
    gold_norm = normalize_final_answer(gold)
    found = candidates(response)
    flex = any(minerva_equiv(c, gold_norm) or hendrycks_equiv(c, gold_norm) for c in found)
    phrase = normalize_final_answer(minerva_answer(response))
    strict = phrase != INVALID and minerva_equiv(phrase, gold_norm)
    return {
        "extracted": found[0],
        "candidates": found,
        "extracted_minerva": phrase,
        "gold": gold_norm,
        "exact_match_flex": float(flex),
        "exact_match": float(strict),
        "math_verify": float(math_verify_equiv(gold, response)),
    }


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
