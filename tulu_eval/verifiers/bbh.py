"""BIG-Bench Hard: the final answer of a chain of thought, extracted three ways.

Ground truth is ``{"target": str, "subtask": str}`` (what ``tasks/bbh.py`` passes), optionally
with ``"options"`` (the option texts of a multiple-choice question, as ``(X) text`` lines of
its input) and ``"words"`` (the word list of a ``word_sorting`` question); a bare target
string works too, its answer type then read from the target's shape. Answer types:
multiple choice ``(A)``, ``True``/``False``, ``Yes``/``No``, ``valid``/``invalid``, an
integer, a run of closing brackets (``dyck_languages``), a list of words (``word_sorting``).

* ``exact_match`` (the score; OLMES ``bbh:cot-v1``, ``answer_extract_fn: answer_regex``): look
  for an answer phrase -- "So the answer is", then "the answer is", "answer is", "answer:",
  case-insensitive, first occurrence of each -- and take the answer type's pattern right
  after it; failing that, the *last* match of that pattern anywhere in the response
  (``answer_format`` in the details says which: 1 phrase "So the answer is", 0.5 another
  phrase, 0 anywhere). Compared case-insensitively, spaces collapsed, a final "." dropped.
  OLMES's own ``bbh.py`` is not in the reference index; the answer-type patterns are those of
  AllenAI's port of it (olmo-eval ``BBH_ANSWER_REGEX``), with word boundaries added around
  the word answers (so "Nothing" is not "No") and one pattern for all letter ranges. The 3
  free-text targets among BBH's lettered answers (e.g. "Monsters, Inc" in
  movie_recommendation) can therefore never be matched, as under OLMES's regexes.
* ``exact_match_strict``: lm-eval's ``bbh_cot_fewshot`` filter ``get-answer``: the first match
  of ``(?<=the answer is )(.*)(?=.)`` (everything after the phrase on its line but the last
  character), else ``[invalid]``; equal to the target as a string (lm-eval's metric there sets
  no ``ignore_case``).
* ``exact_match_flex``: lm-eval's ``bbh_cot_zeroshot`` ``flexible-extract`` filters, per
  subtask: the last ``(X)``, else the last option text mapped to its letter, else the last
  ``: X``; the last True/False, Yes/No, valid/invalid; the last integer; the last bracket
  run; the question's words in order of last mention; web_of_lies and sports_understanding
  map phrases ("tells the truth", "plausible") to yes/no. Compared as that task's metric
  does (case ignored; ``.`` at the end, ``,``, ``\\``, newlines and ``"`` deleted). Deviation:
  lm-eval's number filter also reads English number words ("seven") when no digit appears
  (through the ``word2number`` package); we do not, so such responses read ``[invalid]``.
"""

from __future__ import annotations

import collections
import functools
import re
import sys
import unicodedata
from typing import Any

from ..api.verifier import Verifier, VerifierResult

INVALID = "[invalid]"

MC_SUBTASKS = frozenset({
    "date_understanding", "disambiguation_qa", "geometric_shapes", "hyperbaton",
    "logical_deduction_five_objects", "logical_deduction_seven_objects", "logical_deduction_three_objects",
    "movie_recommendation", "penguins_in_a_table", "reasoning_about_colored_objects", "ruin_names",
    "salient_translation_error_detection", "snarks", "temporal_sequences",
    "tracking_shuffled_objects_five_objects", "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
})
KIND_OF = {
    **{name: "mc" for name in MC_SUBTASKS},
    "boolean_expressions": "bool",
    "causal_judgement": "yesno", "navigate": "yesno", "sports_understanding": "yesno", "web_of_lies": "yesno",
    "formal_fallacies": "validity",
    "multistep_arithmetic_two": "number", "object_counting": "number",
    "dyck_languages": "dyck",
    "word_sorting": "words",
}
# the answer itself, per answer type (OLMES-style extraction)
ANSWER_PATTERN = {
    "mc": r"\([A-Z]\)",
    "bool": r"(?i)\b(?:true|false)\b",
    "yesno": r"(?i)\b(?:yes|no)\b",
    "validity": r"(?i)\b(?:invalid|valid)\b",
    "number": r"-?\d+",
    "dyck": r"[\]\)\}>]+(?: +[\]\)\}>]+)*",
    "words": r"[a-z0-9&'\-]+(?: +[a-z0-9&'\-]+)*",
}
ANSWER_PHRASES = ((r"(?i)so the answer is", 1.0), (r"(?i)the answer is", 0.5), (r"(?i)answer is", 0.5),
                  (r"(?i)answer:", 0.5))

# lm-eval bbh_cot_fewshot (strict) and bbh_cot_zeroshot (flexible) settings
LM_EVAL_STRICT = r"(?<=the answer is )(.*)(?=.)"
FLEX_PATTERN = {
    "mc": r"(\([A-Z]\))",
    "bool": r"\b(True|False)\b",
    "yesno": r"\b(Yes|No|yes|no)\b",
    "validity": r"\b(valid|invalid)\b",
    "number": r"([-0-9]+)",
    "dyck": r"(?<= )([\" \[\(<{}>\)\]]+)|([\" \[\(<{}>\)\]]+)",
}
FLEX_MAPS = {
    "sports_understanding": {r"\b(no|not plausible)\b": "no", r"\b(yes|plausible)\b": "yes"},
    "web_of_lies": {r"\b(no|does not tell the truth|is not telling the truth)\b": "no",
                    r"\b(yes|tells the truth|is telling the truth)\b": "yes"},
}
FLEX_IGNORE = (r"\.$", ",", r"\\", "\n", '"')
_OPTION = re.compile(r"\([A-Z]\)([^\n^(]*)")


@functools.cache
def _punctuation() -> dict:
    """Every Unicode punctuation character, as lm-eval's ``ignore_punctuation`` filter drops them."""
    return dict.fromkeys(i for i in range(sys.maxunicode) if unicodedata.category(chr(i)).startswith("P"))


def options_of(question: str) -> list[str]:
    """The option texts of a multiple-choice input, as lm-eval's filter parses them."""
    return _OPTION.findall(question)


def words_of(question: str) -> list[str]:
    """The words to sort of a ``word_sorting`` input (after "List:")."""
    return question.split("List:")[1].strip().split() if "List:" in question else []


def kind_of(subtask: str | None, target: str) -> str:
    if subtask in KIND_OF:
        return KIND_OF[subtask]
    t = target.strip()
    if re.fullmatch(r"\([A-Z]\)", t):
        return "mc"
    if t.lower() in ("true", "false"):
        return "bool"
    if t.lower() in ("yes", "no"):
        return "yesno"
    if t.lower() in ("valid", "invalid"):
        return "validity"
    if re.fullmatch(r"-?\d+", t):
        return "number"
    if t and re.fullmatch(r"[\]\)\}> ]+", t):
        return "dyck"
    return "words"


# --- primary: OLMES-style answer regex ---------------------------------------------------
def olmes_extract(response: str, kind: str) -> tuple[str, float]:
    """The answer right after the first answer phrase followed by one, else the last one anywhere."""
    pattern = re.compile(ANSWER_PATTERN[kind])
    for phrase, fmt in ANSWER_PHRASES:
        found = re.search(phrase, response)
        if found:
            m = pattern.match(response[found.end():].lstrip())
            if m:
                return m.group(0), fmt
    matches = pattern.findall(response)
    return (matches[-1], 0.0) if matches else (INVALID, 0.0)


def normalize(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip()).lower()
    return text[:-1].rstrip() if text.endswith(".") else text


# --- lm-eval filters -----------------------------------------------------------------------
def _regex_filter(pattern: str | re.Pattern, text: str, group_select: int, convert: dict | None = None) -> str | None:
    """lm-eval ``RegexFilter``: the chosen match (its first non-empty group), stripped; None if none.

    With ``convert`` it is ``ExtendedRegexFilter.find_match``, which maps the match through it.
    """
    found = re.findall(pattern, text)
    if not found:
        return None
    match = found[group_select]
    if isinstance(match, tuple):
        nonempty = [m for m in match if m]
        if not nonempty:
            return None
        match = nonempty[0]
    match = match.strip()
    return convert.get(match, match) if (convert and match) else match


def _or_invalid(match: str | None) -> str:
    return INVALID if match is None else match


def lm_eval_strict(response: str) -> str:
    return _or_invalid(_regex_filter(LM_EVAL_STRICT, response, 0))


def _ignore(text: str, lower: bool = True, punct: bool = False) -> str:
    text = text.lower() if lower else text
    return text.translate(_punctuation()) if punct else text


def _flex_mc(response: str, options: list[str]) -> str:
    match = _regex_filter(FLEX_PATTERN["mc"], response, -1)
    if match:
        return match
    choice_to_letter, letters = {}, []
    for i, option in enumerate(options):
        letter = chr(ord("A") + i)
        choice_to_letter[_ignore(option.strip(), punct=True)] = f"({letter})"
        letters.append(letter)
    texts = sorted((re.escape(t) for t in choice_to_letter), key=len, reverse=True)
    match = _regex_filter(re.compile("|".join(texts)), _ignore(response, punct=True), -1, choice_to_letter)
    if match:
        return match
    bare = re.compile(rf":[\s]*({'|'.join(letters)})")
    return _regex_filter(bare, response, -1, {x: f"({x})" for x in letters}) or INVALID


def _flex_map(response: str, mapping: dict[str, str]) -> str:
    whole = _regex_filter(re.compile("|".join(mapping)), response.lower(), -1)
    if whole:
        for pattern, value in mapping.items():
            if _regex_filter(re.compile(pattern), whole.lower(), -1):
                return value
    return INVALID


def _flex_words(response: str, words: list[str]) -> str:
    found = re.findall("|".join(rf"\b{w}\b" for w in words), response) if words else []
    last_first = list(collections.OrderedDict.fromkeys(reversed(found)))
    return " ".join(reversed(last_first))


def lm_eval_flex(response: str, subtask: str | None, kind: str, options: list[str], words: list[str]) -> str:
    if subtask in FLEX_MAPS:
        return _flex_map(response, FLEX_MAPS[subtask])
    if kind == "mc":
        return _flex_mc(response, options)
    if kind == "words":
        return _flex_words(response, words)
    return _or_invalid(_regex_filter(FLEX_PATTERN[kind], response, -1))


def lm_eval_flex_equal(prediction: str, target: str) -> float:
    def norm(text: str) -> str:
        for pattern in FLEX_IGNORE:
            text = re.sub(pattern, "", text)
        return text.lower()
    return float(norm(prediction) == norm(target))


def parse_ground_truth(ground_truth: Any) -> tuple[str, str | None, list[str], list[str]]:
    if isinstance(ground_truth, dict):
        return (str(ground_truth["target"]), ground_truth.get("subtask"), list(ground_truth.get("options") or []),
                list(ground_truth.get("words") or []))
    return str(ground_truth), None, [], []


class BBHVerifier(Verifier):
    name = "bbh"

    def _verify(self, response: str, ground_truth: Any) -> VerifierResult:
        target, subtask, options, words = parse_ground_truth(ground_truth)
        kind = kind_of(subtask, target)
        predicted, fmt = olmes_extract(response, kind)
        em = float(predicted != INVALID and normalize(predicted) == normalize(target))
        strict = lm_eval_strict(response)
        flex = lm_eval_flex(response, subtask, kind, options, words)
        return VerifierResult(em, {
            "extracted": predicted,
            "extracted_strict": strict,
            "extracted_flex": flex,
            "answer_format": fmt,
            "exact_match": em,
            "exact_match_strict": float(strict == target),
            "exact_match_flex": lm_eval_flex_equal(flex, target),
        })
