"""MATH answer equivalence: Minerva's sympy test, Hendrycks's normalization, Math-Verify, each
bounded in time; :func:`score` computes every MATH metric of one response (main thread only:
the bounds are SIGALRM timers; ``worker.py`` runs it in a child process for other threads)."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any

from .normalize import INVALID, candidates, hendrycks_equiv, minerva_answer, normalize_final_answer

STEP_SECONDS = 5  # one parse, one simplify, one Math-Verify comparison


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
