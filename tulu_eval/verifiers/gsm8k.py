"""GSM8K: exact match on the final number, scored three ways.

* ``exact_match`` (the score; OLMES ``gsm8k::tulu``, and open-instruct's GSM8K reward): commas
  between digits are dropped, the *last* number (``[-+]?\\d*\\.\\d+|\\d+``) of the response is the
  prediction and the last number of the gold answer the label. Note the regex keeps a sign only
  on decimals, so "-5" is read as "5" -- OLMES does the same.
* ``exact_match_strict``: lm-eval's ``strict-match`` filter with the phrase the few-shot exemplars
  teach ("So the answer is N"): the first match, else ``[invalid]``. Its pattern ends in an
  unescaped ``.``, so the number must be followed by some character other than a newline
  ("So the answer is 12" at the very end is ``[invalid]``), as in lm-eval.
* ``exact_match_flex``: lm-eval's ``flexible-extract`` filter (last match of
  ``(-?[$0-9.,]{2,})|(-?[0-9]+)``).

Every comparison is lm-eval's / OLMES's ``exact_match``: the ``regexes_to_ignore`` of
``gsm8k-cot.yaml`` (``,``, ``$``, ``.*#### ``, a trailing ``.``) are deleted from prediction
and reference, then both are lower-cased and compared as strings.
"""

from __future__ import annotations

import re

from ..api.verifier import Verifier, VerifierResult

LM_EVAL_STRICT = r"The answer is (\-?[0-9\.\,]+)."  # gsm8k-cot.yaml strict-match, trailing "." (any character) included
TULU_STRICT = LM_EVAL_STRICT.replace("The answer is", "So the answer is")
FLEX = r"(-?[$0-9.,]{2,})|(-?[0-9]+)"
REGEXES_TO_IGNORE = (",", r"\$", r"(?s).*#### ", r"\.$")
INVALID = "[invalid]"

_NUMBER = re.compile(r"[-+]?\d*\.\d+|\d+")
_DIGIT_COMMA = re.compile(r"(\d),(\d)")
_IGNORE = [re.compile(p) for p in REGEXES_TO_IGNORE]


def normalize(text: str) -> str:
    """lm-eval ``exact_match`` preprocessing: delete ``regexes_to_ignore``, then lower-case."""
    for pat in _IGNORE:
        text = pat.sub("", text)
    return text.lower()


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize(prediction) == normalize(reference))


def last_number(text: str) -> str:
    """OLMES ``_extract_answer``: the last number once digit-separating commas are gone."""
    text = _DIGIT_COMMA.sub(r"\1\2", text)
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else text


def regex_extract(response: str, pattern: str, group_select: int = 0) -> str:
    """lm-eval's ``regex`` filter: the ``group_select``-th match (first non-empty group), stripped."""
    matches = re.findall(pattern, response)
    if not matches:
        return INVALID
    match = matches[group_select]
    if isinstance(match, tuple):
        found = [m for m in match if m]
        match = found[0] if found else INVALID
    return match.strip()


def short_answer(ground_truth) -> str:
    """The gold number: the text after the last ``####`` of a GSM8K solution, or the value itself."""
    return str(ground_truth).split("####")[-1].strip()


def gold_answer(answer_field: str) -> str:
    return short_answer(answer_field)


class GSM8KVerifier(Verifier):
    name = "gsm8k"

    def __init__(self, strict_pattern: str = TULU_STRICT):
        self.strict_pattern = strict_pattern

    def _verify(self, response: str, ground_truth) -> VerifierResult:
        gold = short_answer(ground_truth)
        predicted = last_number(response)
        strict = regex_extract(response, self.strict_pattern, 0)
        flex = regex_extract(response, FLEX, -1)
        em = exact_match(predicted, last_number(gold))
        return VerifierResult(em, {
            "extracted": predicted,
            "extracted_strict": strict,
            "extracted_flex": flex,
            "exact_match": em,
            "exact_match_strict": exact_match(strict, gold),
            "exact_match_flex": exact_match(flex, gold),
        })
