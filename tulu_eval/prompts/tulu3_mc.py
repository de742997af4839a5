"""The Tülu 3 zero-shot chain-of-thought multiple-choice prompt (OLMES ``*:0shot_cot::tulu3``:
AGIEval, GPQA, MMLU-Pro): a description asking for "Therefore, the answer is (X)", the question,
and a reminder of the phrase. What differs between the tasks is how the letters are listed and
the gap before the reminder (MMLU-Pro's regime has one newline, the others two)."""

from __future__ import annotations

ABCD = "(A), (B), (C), (D)."
ABCDE_ETC = "(A), (B), (C), (D), (E), etc."


def phrase(letters: str) -> str:
    return f'"Therefore, the answer is (ANSWER_LETTER)" where (ANSWER_LETTER) is one of {letters}'


def description(letters: str) -> str:
    return ("Answer the following multiple-choice question by giving the correct answer letter in parentheses. "
            f"Provide CONCISE reasoning for the answer, and make sure to finish the response with {phrase(letters)}\n\n")


def reminder(letters: str, gap: str = "\n\n") -> str:
    return f"{gap}Answer the above question and REMEMBER to finish your response with the exact phrase {phrase(letters)}"


def prompt(question: str, letters: str, gap: str = "\n\n") -> str:
    """The whole user message around ``question`` (the question and its lettered options)."""
    return description(letters) + question + reminder(letters, gap)
