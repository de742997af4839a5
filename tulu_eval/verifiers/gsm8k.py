"""GSM8K: exact match on the final number, with strict and flexible extraction.

Extraction follows lm-eval's ``gsm8k-cot`` filters: *strict* takes the number after the
answer phrase the few-shot exemplars teach ("So the answer is 6." in the Tülu/OLMES format;
lm-eval's own exemplars say "The answer is 6."), *flexible* takes the last number-like span
in the response (regex ``(-?[$0-9.,]{2,})|(-?[0-9]+)``, last match). Both are normalized like
lm-eval's ``exact_match`` with ``regexes_to_ignore`` (``,``, ``$``, ``.*#### ``, a trailing
``.``) and ``ignore_case``. The verifier's score is the flexible verdict (what OLMES's
``exact_match`` counts: the answer phrase first, else the last number); the strict verdict is
in ``details`` so a format failure stays visible.
"""

from __future__ import annotations

import re

from .base import Verifier, VerifierResult

TULU_STRICT = r"So the answer is (\-?[0-9\.\,]+)"
LM_EVAL_STRICT = r"The answer is (\-?[0-9\.\,]+)."
FLEX = r"(-?[$0-9.,]{2,})|(-?[0-9]+)"
_IGNORE = [re.compile(p) for p in (r",", r"\$", r"(?s).*#### ", r"\.$")]
INVALID = "[invalid]"


def normalize(text: str) -> str:
    """lm-eval's exact_match normalization for GSM8K (regexes_to_ignore, ignore_case)."""
    for pat in _IGNORE:
        text = pat.sub("", text)
    return text.lower().strip()


def extract_strict(response: str, pattern: str = TULU_STRICT) -> str:
    """First match of the answer phrase (lm-eval ``regex`` filter, group 1), else [invalid]."""
    match = re.search(pattern, response)
    if not match:
        return INVALID
    groups = match.groups()
    if not groups:
        return match.group(0)
    found = [g for g in groups if g]
    return found[0] if found else INVALID


def extract_flex(response: str) -> str:
    """Last number-like span (lm-eval ``regex`` filter with ``group_select: -1``)."""
    matches = re.findall(FLEX, response)
    if not matches:
        return INVALID
    last = matches[-1]
    if isinstance(last, tuple):
        nonempty = [m for m in last if m]
        return nonempty[0] if nonempty else INVALID
    return last


def gold_answer(answer_field: str) -> str:
    """The number after ``####`` in a GSM8K solution, normalized."""
    return normalize(answer_field.split("####")[-1].strip())


class GSM8KVerifier(Verifier):
    name = "gsm8k"

    def __init__(self, strict_pattern: str = TULU_STRICT):
        self.strict_pattern = strict_pattern

    def _verify(self, response: str, ground_truth) -> VerifierResult:
        gold = normalize(str(ground_truth))
        strict = extract_strict(response, self.strict_pattern)
        flex = extract_flex(response)
        strict_ok = float(strict != INVALID and normalize(strict) == gold)
        flex_ok = float(flex != INVALID and normalize(flex) == gold)
        return VerifierResult(flex_ok, {"extracted": flex, "extracted_strict": strict,
                                        "exact_match_strict": strict_ok, "exact_match_flex": flex_ok})
