"""IFEval verifier: verdict for verdict against lm-eval's port of the official checkers.

The reference (``lm_eval.tasks.ifeval``) is imported only here. It needs NLTK's Punkt
English model, which our ``sentences`` module materializes offline before the import (the
reference's import-time ``download_nltk_resources()`` must then find it), and its
langdetect calls are seeded like ours (``DetectorFactory.seed = 0``).
"""

from __future__ import annotations

import json
import os
import string
import types
from pathlib import Path

import pytest

from tulu_eval.verifiers import sentences
from tulu_eval.verifiers.ifeval import INSTRUCTION_IDS, IFEvalVerifier, loose_variants
from tulu_eval.verifiers.ifeval_checks import detect_language

sentences.ensure_punkt_tab()  # before lm_eval's ifeval modules are imported

import langdetect  # noqa: E402
import nltk  # noqa: E402
from lm_eval.tasks.ifeval import instructions as ref_instructions  # noqa: E402
from lm_eval.tasks.ifeval import instructions_util as ref_util  # noqa: E402
from lm_eval.tasks.ifeval import utils as ref_utils  # noqa: E402

langdetect.DetectorFactory.seed = 0

DATA = Path(os.environ.get("TULU_EVAL_DATA", "/work/shared/data")) / "ifeval" / "input_data.jsonl"
FIXTURE = Path(__file__).parent / "fixtures" / "ifeval_smollm2.jsonl"
VERIFIER = IFEvalVerifier()
# rows whose letter_frequency symbol ("#", "!") the reference replaces by a random letter
RANDOM_LETTER_KEYS = {1122, 1129}


def rows_by_key() -> dict[int, dict]:
    return {row["key"]: row for row in map(json.loads, DATA.read_text().splitlines())}


class _PinnedRandom(types.SimpleNamespace):
    """Stands in for ``random`` in the reference: its letter draw returns ``letter``."""

    def __init__(self, letter):
        import random  # noqa: PLC0415

        super().__init__(**{k: getattr(random, k) for k in ("randint", "sample")})
        self.letter = letter

    def choice(self, seq):
        assert list(seq) == list(string.ascii_letters), "only the letter draw is pinned"
        return self.letter


def reference(row: dict, response: str, monkeypatch=None) -> tuple:
    if row.get("key") in RANDOM_LETTER_KEYS and monkeypatch is not None:
        letter = next(kw["letter"] for kw in row["kwargs"] if "letter" in kw)
        monkeypatch.setattr(ref_instructions, "random", _PinnedRandom(letter))
    out = ref_utils.process_results(row, [response])
    if monkeypatch is not None:
        monkeypatch.undo()
    return (int(out["prompt_level_strict_acc"]), int(out["prompt_level_loose_acc"]),
            [int(x) for x in out["inst_level_strict_acc"]], [int(x) for x in out["inst_level_loose_acc"]])


def ours(row: dict, response: str) -> tuple:
    d = VERIFIER.verify(response, row).details
    return (d["prompt_level_strict"], d["prompt_level_loose"], d["inst_level_strict"], d["inst_level_loose"])


# --- (a) hand-written cases, every instruction type ----------------------------------------------
# (instruction id, kwargs, response, expected strict verdict)
CASES = [
    ("keywords:existence", {"keywords": ["apple", "banana"]}, "I like Apple and BANANA.", 1),
    ("keywords:existence", {"keywords": ["apple", "banana"]}, "I like apple only.", 0),
    ("keywords:existence", {"keywords": ["c.t"]}, "the cut", 1),  # a regex, not literal text
    ("keywords:frequency", {"keyword": "the", "frequency": 3, "relation": "at least"}, "The theme of the day", 1),
    ("keywords:frequency", {"keyword": "the", "frequency": 3, "relation": "at least"}, "the end", 0),
    ("keywords:frequency", {"keyword": "the", "frequency": 2, "relation": "less than"}, "the end", 1),
    ("keywords:forbidden_words", {"forbidden_words": ["cat", "dog"]}, "A catalog of dogs", 1),
    ("keywords:forbidden_words", {"forbidden_words": ["cat", "dog"]}, "My Cat sleeps", 0),
    ("keywords:letter_frequency", {"letter": "a", "let_frequency": 3, "let_relation": "at least"}, "bAnana", 1),
    ("keywords:letter_frequency", {"letter": "A", "let_frequency": 3, "let_relation": "at least"}, "AbA", 0),
    ("keywords:letter_frequency", {"letter": "z", "let_frequency": 2, "let_relation": "less than"}, "buzz", 0),
    ("keywords:letter_frequency", {"letter": "z", "let_frequency": 2, "let_relation": "less than"}, "bus", 1),
    ("language:response_language", {"language": "de"},
     "Das ist ein schöner Tag, und ich gehe heute mit meinem Hund in den Park.", 1),
    ("language:response_language", {"language": "de"}, "This is an English sentence about the park.", 0),
    ("language:response_language", {"language": "de"}, "12345 !!! 678", 1),  # undetectable: followed
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"},
     "Hi. Dr. Smith is here. Bye.", 0),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"},
     "Mr. Brown met Mrs. Green at 5 p.m. on Jan. 3. They talked.", 1),
    ("length_constraints:number_sentences", {"num_sentences": 2, "relation": "at least"}, "Wait... what? No!", 1),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n***\nSecond.", 1),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\nFirst\n***\nSecond\n***", 1),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First\n***\n\n***\nSecond", 0),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "Only one", 0),
    ("length_constraints:number_words", {"num_words": 5, "relation": "at least"}, "one two three four five", 1),
    ("length_constraints:number_words", {"num_words": 4, "relation": "at least"}, "don't stop", 0),
    ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "well-known fact", 0),
    ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "short one", 1),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "Then"},
     "Intro.\n\nthen we go.\n\nEnd.", 1),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "then"},
     'Intro.\n\n"Then," he said.\n\nEnd.', 1),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "then"},
     "Intro.\n\nNow we go.\n\nEnd.", 0),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "then"},
     "Intro.\n\nThen.\n\n\n\nEnd.", 1),
    # the raw list is indexed: a leading blank paragraph shifts it
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 3, "nth_paragraph": 2, "first_word": "then"},
     "\n\nIntro.\n\nThen go.\n\nEnd.", 0),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] lives at [address]", 1),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[name] only", 0),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "[a\nb] [c]", 0),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hello.\nP.S. see you", 1),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hello. PS see you", 0),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Note\np. p. s here", 1),
    ("detectable_content:postscript", {"postscript_marker": "Note:"}, "text\n  note: more", 1),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n* two", 1),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* one\n- two\n- three", 0),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "**bold**\n* one\n  - two", 1),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "*\n- x", 1),  # "*\n- x" and "- x" both match
    ("detectable_format:constrained_response", {}, "My answer is yes.", 1),
    ("detectable_format:constrained_response", {}, "Yes.", 0),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and *two*", 1),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "**bold** only", 0),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "**a** *b*", 1),
    ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2},
     "Section 1\nfoo\nSection 2\nbar", 1),
    ("detectable_format:multiple_sections", {"section_spliter": " SECTION ", "num_sections": 2},
     "SECTION one\nSECTION two", 0),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', 1),
    ("detectable_format:json_format", {}, "{'a': 1}", 0),
    ("detectable_format:json_format", {}, 'Here: {"a": 1}', 0),
    ("detectable_format:title", {}, "<<My Title>>\nText", 1),
    ("detectable_format:title", {}, "<<  >>", 0),
    ("detectable_format:title", {}, "<< >> and <<>>", 1),  # one greedy match: "<< >> and <<>>"
    ("detectable_format:title", {}, "<<a\nb>>", 0),
    ("combination:two_responses", {}, "Answer one.\n******\nAnswer two.", 1),
    ("combination:two_responses", {}, "Same\n******\nSame ", 0),
    ("combination:two_responses", {}, "A\n******\n******\nB", 0),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem. "}, "write a poem. Roses are red.", 1),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, "Sure! Write a poem.", 0),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, '"Done. any other questions?"', 1),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Any other questions? Yes.", 0),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"},
     "I LOVE NEW YORK", 1),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"},
     "Hello World, USA-based", 0),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "less than"},
     "Only NASA here.", 1),
    ("change_case:english_capital", {}, "THIS IS AN ENGLISH SENTENCE ABOUT THE WEATHER TODAY.", 1),
    ("change_case:english_capital", {}, "This is mixed case.", 0),
    ("change_case:english_capital", {}, "ДОБРОЕ УТРО, КАК У ВАС СЕГОДНЯ ДЕЛА? Я НАДЕЮСЬ, ЧТО ВСЁ ХОРОШО.", 0),
    ("change_case:english_lowercase", {}, "this is an english sentence about the weather today.", 1),
    ("change_case:english_lowercase", {}, "This is not.", 0),
    ("punctuation:no_comma", {}, "No commas here.", 1),
    ("punctuation:no_comma", {}, "Yes, commas.", 0),
    ("startend:quotation", {}, '  "Wrapped in quotes."\n', 1),
    ("startend:quotation", {}, "Not wrapped.", 0),
    ("startend:quotation", {}, '"', 0),
]
# strict fails, loose passes: a chatty first line, markdown stars
LOOSE_CASES = [
    ("startend:quotation", {}, 'Here you go:\n"Quoted answer."', 0),
    ("punctuation:no_comma", {}, "Sure, here it is:\nno comma in the answer", 0),
    ("change_case:english_lowercase", {}, "Sure!\nall lowercase text about the weather in the city today.", 0),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Say hi."}, "**Say hi.** Hi!", 0),
]
CASES += LOOSE_CASES


def test_every_instruction_type_has_a_passing_and_a_failing_case():
    seen = {}
    for iid, _, _, strict in CASES:
        seen.setdefault(iid, set()).add(strict)
    assert set(INSTRUCTION_IDS) <= set(seen)
    assert all(seen[iid] == {0, 1} for iid in INSTRUCTION_IDS), {i: s for i, s in seen.items() if s != {0, 1}}


@pytest.mark.parametrize("iid,kwargs,response,strict", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_hand_case_matches_reference(iid, kwargs, response, strict):
    row = {"key": 0, "prompt": "p", "instruction_id_list": [iid], "kwargs": [kwargs]}
    mine = ours(row, response)
    assert mine == reference(row, response)
    assert mine[0] == strict


def test_loose_cases_pass_loose_only():
    for iid, kwargs, response, _ in LOOSE_CASES:
        row = {"key": 0, "prompt": "p", "instruction_id_list": [iid], "kwargs": [kwargs]}
        assert ours(row, response)[:2] == (0, 1), (iid, response)


def test_loose_variants_in_reference_order():
    assert loose_variants("a*\nb*\nc*") == ["a*\nb*\nc*", "a\nb\nc", "b*\nc*", "a*\nb*", "b*", "b\nc", "a\nb", "b"]
