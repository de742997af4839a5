"""DeepMind Mathematics answers: extraction (strict, flex) and equivalence with the gold.

Gold answers are the generator's strings: integers, decimals, fractions ("-1/3"), SymPy
expressions in Python syntax ("-148*f**2 + 111*f - 23", "w**513", "-13072 + 264*sqrt(3)"),
comma-separated lists in a set order ("-1338, -30, -5"), True/False, an option letter or a
variable name ("b", "z"), a number in another base ("-41b35"), a clock time ("9:37 PM").

Extraction:

* strict: the last match of OLMES's ``answer_format_regex`` for ``deepmind_math:0shot_cot::tulu3``,
  ``(?i)Therefore, the final answer is (.*?). I hope it is correct.`` (dots unescaped, as there);
* flex: that phrase, else the last "final answer is X" / "answer is X" (to the end of its
  line), else the last ``\\boxed{X}``, else the last number in the response.

Equivalence (``equivalent(pred, gold)``), in order: same text without spaces; True/False
against true/yes and false/no; a letter, a base-N numeral or a time compared as text, case
ignored; lists element by element, in order; otherwise SymPy: both sides parsed
(``parse_expr`` with implicit multiplication and ``^`` as power) and their difference
simplified to 0, so "-0.25" equals "-1/4" and "2*(x+1)" equals "2*x + 2". A LaTeX answer
("\\frac{1}{3}") is read with Math-Verify's parser first. Each symbolic step is bounded (5 s,
SIGALRM; off the main thread the symbolic steps are skipped). ``parse_expr`` evaluates Python,
so only plain arithmetic text reaches it (digits, letters, ``+-*/^().`` and spaces, no ``__``,
no huge numeric powers); anything else is "not equivalent".
"""

from __future__ import annotations

import re
import threading
from typing import Any

from ...api.verifier import Verifier, VerifierResult
from .normalize import last_boxed_only_string, remove_boxed

STRICT = r"(?i)Therefore, the final answer is (.*?). I hope it is correct."
STEP_SECONDS = 5

_PHRASES = (re.compile(r"(?i)final answer is:?[ \t]*([^\n]+)"), re.compile(r"(?i)answer is:?[ \t]*([^\n]+)"))
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")
_SAFE = re.compile(r"^[0-9A-Za-z\s+\-*/^().]*$")
_BIG_POWER = re.compile(r"\d\s*(\*\*|\^)\s*\(?\s*(\d{3,}|\d+\s*(\*\*|\^))")


def clean(answer: str) -> str:
    """Strip what dresses an answer: spaces, $...$, \\boxed{}, **bold**, a final period, "x = "."""
    text = answer.strip()
    for _ in range(2):
        text = text.strip().strip("$").strip()
        boxed = last_boxed_only_string(text)
        if boxed and text.startswith(boxed):
            text = remove_boxed(boxed) or ""
        if text.startswith("**") and text.endswith("**") and len(text) > 4:
            text = text[2:-2]
        text = re.sub(r"(?i)\s*i hope it is correct\.?$", "", text)
        text = text.rstrip(".").strip()
    return text


def extract_strict(response: str) -> str | None:
    found = re.findall(STRICT, response)
    return clean(found[-1]) if found else None


def extract_flex(response: str) -> str:
    strict = extract_strict(response)
    if strict is not None:
        return strict
    for pattern in _PHRASES:
        found = pattern.findall(response)
        if found:
            return clean(found[-1])
    boxed = last_boxed_only_string(response)
    if boxed:
        return clean(remove_boxed(boxed) or "")
    numbers = _NUMBER.findall(response)
    return numbers[-1] if numbers else ""


# --- equivalence -------------------------------------------------------------------------------
def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _drop_lhs(pred: str, gold: str) -> str:
    """"x = 5" -> "5" when the gold is not itself an equation."""
    if "=" in pred and "=" not in gold:
        return pred.rsplit("=", 1)[1].strip()
    return pred


def _symbolic_ok() -> bool:
    return threading.current_thread() is threading.main_thread()


def _parse(text: str):
    """SymPy expression of plain arithmetic text, or None."""
    from sympy.parsing.sympy_parser import (  # noqa: PLC0415
        convert_xor, implicit_multiplication, parse_expr, standard_transformations)

    if not text or len(text) > 300 or not _SAFE.match(text) or "__" in text or _BIG_POWER.search(text):
        return None
    if re.search(r"\.(?!\d)", text):  # a dot only inside a number: no attribute access
        return None
    return parse_expr(text, transformations=standard_transformations + (implicit_multiplication, convert_xor))


def _parse_latex(text: str):
    import math_verify.parser  # noqa: PLC0415
    from math_verify import parse  # noqa: PLC0415

    math_verify.parser.TIMEOUT_WARNING_SHOWN = True
    found = parse(f"${text}$", parsing_timeout=None)
    return next((f for f in found if not isinstance(f, str)), None)


def _sympy_equal(pred: str, gold: str) -> bool:
    if not _symbolic_ok():
        return False
    from sympy import simplify  # noqa: PLC0415

    from .equivalence import Timeout, time_limit  # noqa: PLC0415

    try:
        with time_limit(STEP_SECONDS):
            g = _parse(gold)
            p = _parse_latex(pred) if "\\" in pred else _parse(pred)
            if g is None or p is None:
                return False
            return bool(simplify(p - g) == 0)
    except (Exception, Timeout):  # unparsable, not comparable, too slow
        return False


def _atom_equal(pred: str, gold: str) -> bool:
    pred = _drop_lhs(pred, gold)
    if _squash(pred) == _squash(gold):
        return True
    low = _squash(pred).lower().strip("()")
    if gold in ("True", "False"):
        return low in (("true", "yes") if gold == "True" else ("false", "no"))
    if re.fullmatch(r"-?[0-9a-z]*[a-z][0-9a-z]*", gold) or ":" in gold:
        return low == _squash(gold).lower()  # option letter, variable name, base-N numeral, clock time
    return _sympy_equal(pred, gold)


def equivalent(pred: str, gold: str) -> bool:
    """Is the extracted answer ``pred`` the generator's answer ``gold``?"""
    pred, gold = pred.strip(), gold.strip()
    if not pred:
        return False
    if "," in gold:
        preds = [p.strip() for p in re.sub(r"(?i)\s+and\s+", ", ", pred).split(",") if p.strip()]
        golds = [g.strip() for g in gold.split(",")]
        return len(preds) == len(golds) and all(_atom_equal(p, g) for p, g in zip(preds, golds))
    return _atom_equal(pred, gold)


class DeepMindMathVerifier(Verifier):
    """``exact_match`` (strict phrase) and ``exact_match_flex`` (the score) against the gold string."""

    name = "deepmind_math"

    def _verify(self, response: str, ground_truth: Any) -> VerifierResult:
        gold = str(ground_truth)
        strict = extract_strict(response)
        flex = extract_flex(response)
        em_strict = float(strict is not None and equivalent(strict, gold))
        em_flex = em_strict if strict is not None else float(equivalent(flex, gold))
        return VerifierResult(em_flex, {"extracted": flex, "strict_extracted": strict, "gold": gold,
                                        "exact_match": em_strict, "exact_match_flex": em_flex})
