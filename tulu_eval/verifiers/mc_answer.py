"""Multiple-choice answer letters from free-form (chain-of-thought) responses.

The extraction is OLMES's ``GenericMMLU_OneTurnCoT._extract_answer`` (``oe_eval/tasks/
oe_eval_tasks/mmlu.py``), which scores ``mmlu:cot::summarize`` and the other MMLU CoT regimes:

1. if the regime names an ``answer_format_regex`` (the exact phrase the prompt asks for), its
   *last* match is the answer and the format counts as correct (1.0); no match sets it to 0.5;
2. otherwise the first of these patterns that matches anywhere (``re.search``, so the *first*
   occurrence) gives the answer, upper-cased, and the format counts as wrong (0):
   ``(?i)therefore,?\\s*the\\s*answer\\s*is:?\\s*\\(?([A-D])\\b``, ``(?i)answer\\s*is:?\\s*\\(?([A-D])\\b``,
   ``(?i)([A-D])\\)?\\s+is\\s+correct``, ``\\(([A-D])\\)``, ``.*\\b([A-D])\\b`` (the last stand-alone
   capital letter of the first line that has one);
3. parentheses are removed; nothing found is the empty answer.

OLMES keeps ``answer_format_correct`` at 1.0 when neither step finds anything and no format regex
is set (its initial value); we report the same number so that the metric is comparable.
The comparison is OLMES's ``ExactMatch(ignore_case=True, ignore_punctuation=True)``.

Details: ``extracted``, ``exact_match`` (the score), ``exact_match_strict`` (only the last match of
the requested phrase, ``strict_pattern``; a response that does not use it scores 0) and
``answer_format_correct``. ``letters`` generalises the ``[A-D]`` class for tasks with more
choices (e.g. "ABCDEFGHIJ"); the default is MMLU's four.
"""

from __future__ import annotations

import functools
import re
import string

from ..api.verifier import Verifier, VerifierResult

# the phrase mmlu:cot::summarize asks for: "... conclude with 'Therefore, the answer is: X'"
SUMMARIZE_STRICT = r"Therefore, the answer is: ([{L}])\b"


@functools.lru_cache(maxsize=None)
def backup_patterns(letters: str = "ABCD") -> tuple[re.Pattern, ...]:
    cls = _class(letters)
    return tuple(re.compile(p.replace("{L}", cls)) for p in (
        r"(?i)therefore,?\s*the\s*answer\s*is:?\s*\(?([{L}])\b",
        r"(?i)answer\s*is:?\s*\(?([{L}])\b",
        r"(?i)([{L}])\)?\s+is\s+correct",
        r"\(([{L}])\)",
        r".*\b([{L}])\b",
    ))


def _class(letters: str) -> str:
    """The regex character class body of ``letters``: "A-D" for a run of consecutive letters."""
    if len(letters) > 1 and all(ord(b) - ord(a) == 1 for a, b in zip(letters, letters[1:])):
        return f"{letters[0]}-{letters[-1]}"
    return "".join(re.escape(c) for c in letters)


def extract_letter(response: str, answer_format_regex: str | None = None,
                   letters: str = "ABCD") -> tuple[str, float]:
    """(answer letter or "", OLMES's ``answer_format_correct``) for one response."""
    answer, fmt = None, 1.0
    if answer_format_regex:
        found = re.findall(answer_format_regex, response)
        if found:
            answer = found[-1]
        else:
            fmt = 0.5
    if answer is None:
        for pat in backup_patterns(letters):
            match = pat.search(response)
            if match:
                answer, fmt = match.group(1).upper(), 0.0
                break
    return re.sub(r"[()]", "", answer or ""), fmt


def normalize(text: str) -> str:
    """OLMES ``ExactMatch`` with ignore_case and ignore_punctuation."""
    return text.lower().translate(str.maketrans("", "", string.punctuation)).strip()


class MCAnswerVerifier(Verifier):
    """Scores a response against the gold letter (``"A"``..``"D"``)."""

    name = "mc_answer"

    def __init__(self, letters: str = "ABCD", answer_format_regex: str | None = None,
                 strict_pattern: str = SUMMARIZE_STRICT):
        self.letters = letters
        self.answer_format_regex = answer_format_regex
        self.strict_pattern = strict_pattern.replace("{L}", _class(letters))

    def _verify(self, response: str, ground_truth) -> VerifierResult:
        gold = normalize(str(ground_truth))
        answer, fmt = extract_letter(response, self.answer_format_regex, self.letters)
        strict = re.findall(self.strict_pattern, response)
        em = float(normalize(answer) == gold)
        em_strict = float(bool(strict) and normalize(strict[-1]) == gold)
        return VerifierResult(em, {"extracted": answer, "exact_match": em, "exact_match_strict": em_strict,
                                   "answer_format_correct": fmt, "strict_extracted": strict[-1] if strict else None})


# --- Tülu 3 unseen regimes: "Therefore, the answer is (X)", strict and flex ----------------------
# The phrase every ``::tulu3`` multiple-choice prompt asks for (OLMES ``answer_format_regex``).
TULU3_STRICT = r"Therefore, the answer is \(([{L}])\)"

# What OLMES tries when that phrase is missing, per task family: (pattern, which match, the
# ``answer_format_correct`` it leaves; None keeps 0.5). "first" is ``re.search``, "last" is the
# last of ``re.findall`` (the last line's last letter for ``.*\b(X)\b``).
FALLBACK_CHAINS = {
    # GenericMMLU_OneTurnCoT (the MMLU CoT regimes), as extract_letter above
    "mmlu": tuple((p, "first", 0.0) for p in (
        r"(?i)therefore,?\s*the\s*answer\s*is:?\s*\(?([{L}])\b",
        r"(?i)answer\s*is:?\s*\(?([{L}])\b",
        r"(?i)([{L}])\)?\s+is\s+correct",
        r"\(([{L}])\)",
        r".*\b([{L}])\b",
    )),
    # GenericMMLUPro_CoT (after TIGER-Lab's evaluate_from_local.py)
    "mmlu_pro": (
        (r"(?i)answer is:?\s*\(?([{L}])\)?", "first", None),
        (r".*[aA]nswer:\s*([{L}])", "first", None),
        (r".*\b([{L}])\b", "last", 0.0),
    ),
    # GPQA: the last "(X)", then "The correct answer is: X", then the last stand-alone letter
    "gpqa": (
        (r"\(([{L}])\)", "last", None),
        (r"(?<=The correct answer is: )([{L}])", "first", None),
        (r".*\b([{L}])\b", "last", 0.0),
    ),
}


@functools.lru_cache(maxsize=None)
def _chain(name: str, letters: str) -> tuple[tuple[re.Pattern, str, float | None], ...]:
    cls = _class(letters)
    return tuple((re.compile(p.replace("{L}", cls)), which, fmt) for p, which, fmt in FALLBACK_CHAINS[name])


def extract_letter_chain(response: str, answer_format_regex: str, chain: str = "mmlu",
                         letters: str = "ABCD") -> tuple[str, float]:
    """(answer letter or "", ``answer_format_correct``): the last match of the format regex (1.0),
    else the first fallback of ``FALLBACK_CHAINS[chain]`` that matches (0.5 or its own value)."""
    found = re.findall(answer_format_regex, response)
    if found:
        return re.sub(r"[()]", "", found[-1]).upper(), 1.0
    for pattern, which, fmt in _chain(chain, letters):
        if which == "first":
            match = pattern.search(response)
            hit = match.group(1) if match else None
        else:
            hits = pattern.findall(response)
            hit = hits[-1] if hits else None
        if hit:
            return re.sub(r"[()]", "", hit).upper(), 0.5 if fmt is None else fmt
    return "", 0.0


class Tulu3LetterVerifier(Verifier):
    """The Tülu 3 unseen multiple-choice regimes (AGIEval, MMLU-Pro, GPQA), scored both ways.

    ``exact_match`` (strict): the last "Therefore, the answer is (X)" equals the gold.
    ``exact_match_flex`` (the score; OLMES's ``exact_match`` for these regimes, which have no
    ``answer_format_correct_cutoff``): OLMES's extraction, that phrase first and then the task's
    fallback chain. ``answer_format_correct``: 1 (phrase), 0.5 (a fallback), 0 (a bare letter).
    """

    name = "mc_answer_tulu3"

    def __init__(self, letters: str = "ABCD", chain: str = "mmlu"):
        if chain not in FALLBACK_CHAINS:
            raise ValueError(f"unknown fallback chain {chain!r}; known: {', '.join(FALLBACK_CHAINS)}")
        self.letters, self.chain = letters, chain
        self.strict_pattern = TULU3_STRICT.replace("{L}", _class(letters))

    def _verify(self, response: str, ground_truth) -> VerifierResult:
        gold = normalize(str(ground_truth))
        strict = re.findall(self.strict_pattern, response)
        flex, fmt = extract_letter_chain(response, self.strict_pattern, self.chain, self.letters)
        em_flex = float(bool(flex) and normalize(flex) == gold)
        em_strict = float(bool(strict) and normalize(strict[-1]) == gold)
        return VerifierResult(em_flex, {"extracted": flex, "strict_extracted": strict[-1] if strict else None,
                                        "exact_match": em_strict, "exact_match_flex": em_flex,
                                        "answer_format_correct": fmt})
