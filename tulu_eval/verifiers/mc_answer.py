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

from .base import Verifier, VerifierResult

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
