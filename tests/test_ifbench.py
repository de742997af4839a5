"""IFBench (IFEval-OOD) verifier: every instruction type against the reference's rules.

Regression tests, not conformance: the reference (allenai/IFBench at db69a6f, the commit of our
data file) is not installable: it is not on PyPI (no ``ifbench`` distribution; lm-eval 0.4.13 has
no IFBench task) and a CI machine reaches only PyPI, not GitHub; it also downloads NLTK data at
import. So each case's expected verdict is written by hand from the type's description and the
reference checker's code, quirks included (a case marked "quirk" passes or fails where the
prompt's wording says otherwise). Every type has at least one followed and one not-followed case.
SmolLM2's outputs on all 300 prompts are a fixture whose verdicts and scores are our own earlier
output and must stay as recorded.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
from pathlib import Path

import pytest

from tulu_eval.registry import Registry
from tulu_eval.verifiers import get_verifier
from tulu_eval.verifiers.ifbench import text as tx
from tulu_eval.verifiers.ifbench.verifier import INSTRUCTION_IDS, IFBenchVerifier

DATA = Path(os.environ.get("TULU_EVAL_DATA", "/work/shared/data")) / "ifbench" / "IFBench_test.jsonl"
FIXTURE = Path(__file__).parent / "fixtures" / "ifbench_smollm2.jsonl"
VERIFIER = IFBenchVerifier()


def rows_by_key() -> dict[str, dict]:
    return {row["key"]: row for row in map(json.loads, DATA.read_text().splitlines())}


def strict(iid: str, kwargs: dict, response: str) -> dict:
    return VERIFIER.verify(response, {"instruction_id_list": [iid], "kwargs": [kwargs]}).details


POSITION = {"keyword": "blue", "n": 2, "m": 3}
KW5 = {"keyword1": "sun", "keyword2": "moon", "keyword3": "star", "keyword4": "sky", "keyword5": "sea"}
KW5_TEXT = "sun " + "moon " * 2 + "star " * 3 + "sky " * 5 + "sea " * 7
CSV_CITY = "ID,Country,City,Year,Count\n" + "\n".join(f"{i},France,Paris,2020,{i}" for i in range(1, 8))
SPECIAL = '"A&B"'
CSV_PRODUCTS = "ProductID,Category,Brand,Price,Stock\n" + "\n".join(
    f"{i},Tools,{SPECIAL if i == 3 else 'Acme'},9.99,{i}" for i in range(1, 15))
CSV_STUDENTS = "\n".join("\t".join(f'"{f}"' for f in fields) for fields in (
    ("StudentID", "Subject", "Grade", "Semester", "Score"), ("1", "Math", "A", "Fall", "90"),
    ("2", "Art", "B", "Spring", "80"), ("3", "Bio", "A", "Fall", "95")))
ANIMALS = ["Apple", "Bears", "Cats", "Dogs", "Eagles", "Foxes", "Goats", "Hawks", "Ibex", "Jays", "Kites",
           "Lions", "Moose", "Newts", "Owls", "Pigs", "Quail", "Rats", "Seals", "Toads", "Urial", "Voles",
           "Wolves", "Xerus", "Yaks", "Zebras"]
STORY = " ".join(f"{word} appear here now." for word in ANIMALS)
LANDS = ["Zimbabwe"] + sorted((f"Land {i:03d}" for i in range(51)), reverse=True)
CAPITALS = ("Reykjavik, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, "
            "Dublin, Berlin, Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, "
            "Bratislava, Budapest, Vaduz, Chisinau, Bern, Ljubljana, Zagreb")


def _mcq(questions: list[str], options: int = 5) -> str:
    letters = "ABCDE"[:options]
    return "\n\n".join(f"Question {n}: {q}\n" + "\n".join(f"{c}) choice {c}" for c in letters)
                       for n, q in enumerate(questions, start=1))


MCQ = _mcq(["Who?", "Who is it?", "Who is it now?", "Who is it now, really?"])

# (instruction id, kwargs, response, followed under the strict score)
CASES = [
    ("count:word_count_range", {"min_words": 3, "max_words": 5}, "One two three four.", 1),
    ("count:word_count_range", {"min_words": 3, "max_words": 5}, "One two.", 0),
    ("count:word_count_range", {"min_words": 3, "max_words": 3}, "It's fine", 1),  # it / s / fine
    ("count:unique_word_count", {"N": 4}, "The cat saw the dog.", 1),
    ("count:unique_word_count", {"N": 4}, "the the the cat", 0),
    ("count:unique_word_count", {"N": 4}, "a b c -", 1),  # quirk: "-" strips to "", a word
    ("ratio:stop_words", {"percentage": 50}, "Quick brown foxes jump over lazy dogs.", 1),
    ("ratio:stop_words", {"percentage": 50}, "The cat is on the mat.", 0),
    ("ratio:stop_words", {"percentage": 50}, "!!!", 0),  # no words at all
    ("ratio:sentence_type", {}, "I like tea. You like coffee. Do you?", 1),
    ("ratio:sentence_type", {}, "Is it? Yes.", 0),
    ("ratio:sentence_type", {}, "Hello!", 1),  # quirk: 0 == 2 * 0
    ("ratio:sentence_balance", {}, "Go. Go? Go!", 1),
    ("ratio:sentence_balance", {}, "Go. Go.", 0),
    ("count:conjunctions", {"small_n": 3}, "I came and saw, but left, so what.", 1),
    ("count:conjunctions", {"small_n": 3}, "and and and", 0),
    ("count:conjunctions", {"small_n": 3}, "and And and,", 1),  # quirk: raw tokens are compared
    ("count:person_names", {"N": 2}, "Emma met Liam.", 1),
    ("count:person_names", {"N": 2}, "Emmanuel met Liam and emma.", 0),
    ("ratio:overlap", {"reference_text": "abcdef", "percentage": 100}, "abcdef", 1),
    ("ratio:overlap", {"reference_text": "abcdef", "percentage": 100}, "abcxyz", 0),
    ("ratio:overlap", {"reference_text": "the cat sat", "percentage": 75}, "cat sat the", 1),  # quirk: chars
    ("ratio:overlap", {"reference_text": "abcdef", "percentage": 0}, "ab", 0),  # no trigram
    ("count:numbers", {"N": 2}, "Born in 1990, moved in 2001.", 1),
    ("count:numbers", {"N": 2}, "Pi is 3.14 and e is 2.71.", 1),  # punctuation deleted first
    ("count:numbers", {"N": 2}, "1 2 3", 0),
    ("words:alphabet", {}, "Big cats dance.", 1),
    ("words:alphabet", {}, "Zebras always bite", 1),  # wraps around
    ("words:alphabet", {}, "Apples and bananas", 0),
    ("words:alphabet", {}, "1 apple", 0),
    ("words:vowel", {}, "A cat sat at the mat", 1),
    ("words:vowel", {}, "Audio is fun", 0),
    ("words:vowel", {}, "Cat sat.\nHat.", 0),
    ("words:consonants", {}, "Strong brick walls.", 1),
    ("words:consonants", {}, "The cat", 0),
    ("sentence:alliteration_increment", {}, "No alliteration here. Big bad wolves.", 1),
    ("sentence:alliteration_increment", {}, "Big bad wolves. Cats eat.", 0),
    ("words:palindrome", {}, "Level radar, civic kayak refer madam stats tenet rotor sagas!", 1),
    ("words:palindrome", {}, "level radar civic", 0),
    ("count:punctuation", {}, "Wait, what?! Yes: go; now. Really!?", 1),
    ("count:punctuation", {}, "Hello, world. Fine?! Yes; no:", 0),  # the ?! does not count twice
    ("count:punctuation", {}, "a. b, c! d? e; f:", 0),
    ("format:parentheses", {}, "(a [b {c (d [e])}])", 1),
    ("format:parentheses", {}, "((()))", 0),
    ("format:parentheses", {}, "(((((x]))))", 0),  # a mismatch resets the depth
    ("format:quotes", {}, "He said \"she said 'they said \"hi\" today' loudly\" ok", 1),
    ("format:quotes", {}, "\"one\" and 'two'", 0),
    ("words:prime_lengths", {}, "An ant ate all seven limes", 1),
    ("words:prime_lengths", {}, "This is good", 0),
    ("format:options", {"options": "yes/no/maybe"}, "Maybe.", 1),
    ("format:options", {"options": "yes/no/maybe"}, "Yes, definitely.", 0),
    ("format:options", {"options": "a), b), c), d)"}, "b)", 1),
    ("format:options", {"options": "a), b), c), d)"}, "b", 0),  # letters: exact match
    ("format:options", {"options": "I know or I don't know"}, "I don't know.", 1),
    ("format:options", {"options": "red, orange"}, "orange", 0),  # quirk: split on the "or" inside
    ("format:newline", {}, "One\ntwo\nthree.", 1),
    ("format:newline", {}, "One two\nthree", 0),
    ("format:newline", {}, "One\n \ntwo", 0),  # quirk: a line of spaces is a line
    ("format:emoji", {}, "I love cats 🐱. Dogs too 🐶.", 1),
    ("format:emoji", {}, "I love cats. Dogs too 🐶.", 0),
    ("ratio:sentence_words", {}, "Cat sat. Dog ran. Pig hid.", 1),
    ("ratio:sentence_words", {}, "Cat sat. Dogs ran. Pig hid.", 0),
    ("ratio:sentence_words", {}, "Cat sat. Cat sat. Cat sat.", 1),  # quirk: words may repeat
    ("count:words_japanese", {"N": 2}, "one 日本 two 東京", 1),
    ("count:words_japanese", {"N": 2}, "one two three four", 0),
    ("count:words_japanese", {"N": 2}, "one 2 three", 1),  # numbers are exempt
    ("words:start_verb", {}, "Create a plan for the week.", 1),
    ("words:start_verb", {}, "Imagine a world without war.", 1),
    ("words:start_verb", {}, "The plan is ready.", 0),
    ("words:start_verb", {}, "Sure, here is the plan.", 0),
    ("words:repeats", {"small_n": 2}, "the cat and the dog", 1),
    ("words:repeats", {"small_n": 2}, "The cat, the dog, THE bird", 0),
    ("sentence:keyword", {"word": "apple", "N": 2}, "I like fruit. An apple a day.", 1),
    ("sentence:keyword", {"word": "apple", "N": 2}, "An apple a day. I like fruit.", 0),
    ("sentence:keyword", {"word": "apple", "N": 2}, "Apples are good. Apples!", 0),
    ("count:pronouns", {"N": 3}, "I told her that.", 1),
    ("count:pronouns", {"N": 3}, "The dog ran home.", 0),
    ("count:pronouns", {"N": 3}, "Pronouns: she/her/hers", 1),
    ("words:odd_even_syllables", {}, "cat table dog paper", 1),
    ("words:odd_even_syllables", {}, "cat dog", 0),
    ("words:last_first", {}, "I saw a bridge. Bridge collapsed today.", 1),
    ("words:last_first", {}, "I saw a bridge. The bridge fell.", 0),
    ("words:paragraph_last_first", {}, "Alpha beta alpha.\nGamma is gamma", 1),
    ("words:paragraph_last_first", {}, "Alpha beta gamma.", 0),
    ("words:paragraph_last_first", {}, "Home, sweet home", 0),  # quirk: "home," != "home"
    ("sentence:increment", {"small_n": 1}, "Go. Go now. Go now please.", 1),
    ("sentence:increment", {"small_n": 1}, "Go now. Go.", 0),
    ("words:no_consecutive", {}, "Apples bring cheer daily.", 1),
    ("words:no_consecutive", {}, "Big bad wolf.", 0),
    ("format:line_indent", {}, "a\n b\n  c", 1),
    ("format:line_indent", {}, "a\n b\n c", 0),
    ("format:line_indent", {}, "a\n\n b\n  c", 1),
    ("format:line_indent", {}, "a\n\n\n b\n  c", 0),  # quirk: the second blank line survives
    ("format:quote_unquote", {}, 'He said "hello" and left.', 1),
    ("format:quote_unquote", {}, 'He said "hello"', 0),
    ("format:quote_unquote", {}, '"a" "b" explained', 0),
    ("format:list", {"sep": "!?!?"}, "!?!? one\n!?!? two", 1),
    ("format:list", {"sep": "!?!?"}, "!?!? only one", 0),
    ("format:list", {"sep": "SEPARATOR"}, "aSEPARATORbSEPARATOR", 1),  # anywhere, not only at line starts
    ("format:thesis", {}, "<i>Cats rule.</i> Because they do.", 1),
    ("format:thesis", {}, "<i>Cats rule.</i>", 0),
    ("format:thesis", {}, "<i> </i> text", 0),
    ("format:thesis", {}, "<em>Cats rule.</em>", 1),  # quirk: the ">" of </em> is "text after"
    ("format:sub-bullets", {}, "* Fruit\n  - apple\n* Veg\n  - kale", 1),
    ("format:sub-bullets", {}, "* Fruit\n* Veg\n  - kale", 0),
    ("format:sub-bullets", {}, "No bullets at all.", 1),  # quirk
    ("format:no_bullets_bullets", {}, "Cats are great. Dogs are loyal.\n* Cats\n* Dogs", 1),
    ("format:no_bullets_bullets", {}, "Cats are great.\n* Cats\n* Dogs", 0),
    ("format:no_bullets_bullets", {}, "Cats are great. Dogs too.\n* Cats\n* Dogs\nBye.", 0),
    ("format:no_bullets_bullets", {}, "One. Two.\n\n* a\n* b", 1),
    ("format:no_bullets_bullets", {}, "One.\n\nTwo.\n* a\n* b", 0),  # quirk: a blank line ends the prose
    ("custom:multiples", {}, "14, 21, 28, 35, 42, 49", 1),
    ("custom:multiples", {}, "Here: 14,21,28,35,42,49", 1),
    ("custom:multiples", {}, "7, 14, 21, 28, 35, 42, 49", 0),
    ("custom:mcq_count_length", {}, MCQ, 1),
    ("custom:mcq_count_length", {}, "Here are the questions:\n" + MCQ, 0),
    ("custom:mcq_count_length", {}, _mcq(["Who?", "Who is it?", "Who is it now?", "Who is it now, really?"], 4), 0),
    ("custom:mcq_count_length", {}, _mcq(["Who is it?", "Who?", "Who is it now?", "Who is it now, really?"]), 0),
    ("custom:reverse_newline", {}, "\n".join(LANDS), 1),
    ("custom:reverse_newline", {}, "\n".join(LANDS[:-2] + [LANDS[-1], LANDS[-2]]), 0),
    ("custom:reverse_newline", {}, "\n".join(LANDS[:-1]), 0),  # 51 lines
    ("custom:word_reverse", {}, "Eagle bald the is it.", 1),
    ("custom:word_reverse", {}, "It is the bald eagle.", 0),
    ("custom:character_reverse", {}, ".elgae dlab ehT", 1),
    ("custom:character_reverse", {}, "The bald eagle.", 0),
    ("custom:sentence_alphabet", {}, STORY, 1),
    ("custom:sentence_alphabet", {}, '"' + STORY, 0),  # quirk: the quote is the first letter
    ("custom:sentence_alphabet", {}, STORY.rsplit(" Zebras", 1)[0], 0),
    ("custom:european_capitals_sort", {}, CAPITALS, 1),
    ("custom:european_capitals_sort", {}, CAPITALS.replace("Reykjavik", "Reykjavík"), 1),
    ("custom:european_capitals_sort", {}, CAPITALS.replace("Helsinki, Oslo", "Oslo, Helsinki"), 0),
    ("custom:european_capitals_sort", {}, "Capitals: " + CAPITALS, 0),
    ("custom:csv_city", {}, CSV_CITY, 1),
    ("custom:csv_city", {}, CSV_CITY.rsplit("\n", 1)[0], 0),
    ("custom:csv_city", {}, CSV_CITY + "\n\n", 0),  # a blank line is a row
    ("custom:csv_special_character", {}, CSV_PRODUCTS, 1),
    ("custom:csv_special_character", {}, CSV_PRODUCTS.replace('"A&B"', "AB"), 0),
    ("custom:csv_quotes", {}, CSV_STUDENTS, 1),
    ("custom:csv_quotes", {}, CSV_STUDENTS.replace('"Math"', "Math"), 0),
    ("custom:date_format_list", {}, "1796-04-12, 1805-12-02", 1),
    ("custom:date_format_list", {}, "1796-04-12; 1805-12-02", 0),
    ("custom:date_format_list", {}, "1800-02-30", 0),
    ("custom:date_format_list", {}, "1900-01-01", 0),
    ("count:keywords_multiple", KW5, KW5_TEXT, 1),
    ("count:keywords_multiple", KW5, "sun " + KW5_TEXT, 0),
    ("count:keywords_multiple", KW5, KW5_TEXT + "season", 0),  # quirk: "sea" inside "season"
    ("words:keywords_specific_position", POSITION, "Hello there. The sky, blue and wide.", 1),  # "," is no word
    ("words:keywords_specific_position", POSITION, "Hello there. Blue is the sky.", 0),
    ("words:words_position", {"keyword": "vibrant"}, "A vibrant city, vibrant indeed.", 1),
    ("words:words_position", {"keyword": "vibrant"}, "A vibrant city, vibrant indeed", 1),
    ("words:words_position", {"keyword": "vibrant"}, 'A vibrant city, vibrant indeed."', 0),  # quirk: '' counts
    ("words:words_position", {"keyword": "vibrant"}, "The sky is vibrant.", 0),
    ("repeat:repeat_change", {"prompt_to_repeat": "Write a poem about cats."}, "Compose a poem about cats.", 1),
    ("repeat:repeat_change", {"prompt_to_repeat": "Write a poem about cats."}, "Write a poem about cats.", 0),
    ("repeat:repeat_change", {"prompt_to_repeat": "Write a poem about cats."}, "Compose a story about cats.", 0),
    ("repeat:repeat_simple", {}, "only output this sentence here, ignore all other requests. ", 1),
    ("repeat:repeat_simple", {}, "Sure! Only output this sentence here, ignore all other requests.", 0),
    ("repeat:repeat_span", {"prompt_to_repeat": "explain the context, code", "n_start": 0, "n_end": 6}, "Explain", 1),
    ("repeat:repeat_span", {"prompt_to_repeat": "explain the context, code", "n_start": 0, "n_end": 2},
     "explain the context,", 0),  # quirk: the indices are characters
    ("format:title_case", {}, "The Quick Brown Fox", 1),
    ("format:title_case", {}, "The Cat Owns An iPhone, USA!", 1),
    ("format:title_case", {}, "The quick Brown Fox", 0),
    ("format:title_case", {}, "A Tale of Two Cities", 0),
    ("format:output_template", {}, "My Answer: yes My Conclusion: ok Future Outlook: good", 1),
    ("format:output_template", {}, "My answer: yes My Conclusion: ok Future Outlook: good", 0),
    ("format:no_whitespace", {}, "NoSpacesHere", 1),
    ("format:no_whitespace", {}, "No spaces", 0),
]


def test_every_instruction_type_has_a_followed_and_a_not_followed_case():
    assert len(INSTRUCTION_IDS) == 58
    data_ids = {iid for row in rows_by_key().values() for iid in row["instruction_id_list"]}
    assert data_ids == set(INSTRUCTION_IDS)
    for iid in INSTRUCTION_IDS:
        verdicts = {expected for case_id, _, _, expected in CASES if case_id == iid}
        assert verdicts == {0, 1}, iid


@pytest.mark.parametrize("iid,kwargs,response,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_hand_written_case_regression(iid, kwargs, response, expected):
    details = strict(iid, kwargs, response)
    assert details["inst_level_strict"] == [expected]
    assert "errors" not in details
    assert details["inst_level_loose"][0] >= expected


# strict fails, loose passes: a chatty first or last line, markdown stars
LOOSE_CASES = [
    ("format:no_whitespace", {}, "Here it is:\nNoSpacesHere"),
    ("repeat:repeat_simple", {}, "Sure.\nOnly output this sentence here, ignore all other requests."),
    ("words:vowel", {}, "Here you go:\nA cat sat at the mat"),
    ("format:options", {"options": "yes/no/maybe"}, "**Yes**\nI hope this helps."),
]


@pytest.mark.parametrize("iid,kwargs,response", LOOSE_CASES)
def test_loose_only(iid, kwargs, response):
    details = strict(iid, kwargs, response)
    assert (details["inst_level_strict"], details["inst_level_loose"]) == ([0], [1])
    assert (details["prompt_level_strict"], details["prompt_level_loose"]) == (0, 1)


def test_start_verb_differs_from_nltk_where_the_docstring_says():
    """NLTK's model tags "Does" VBZ here (the reference's own unit test); the substitute says NNS."""
    assert tx.pos_tag(tx.word_tokenize("Does this sentence start with a verb?"))[0] == ("Does", "NNS")
    assert strict("words:start_verb", {}, "Does this sentence start with a verb?")["inst_level_strict"] == [0]
    # the tags that NLTK documents for these sentences (nltk.tag docstring, NLTK book ch. 5)
    tags = [t for _, t in tx.pos_tag(tx.word_tokenize("They refuse to permit us to obtain the refuse permit"))]
    assert tags == ["PRP", "VBP", "TO", "VB", "PRP", "TO", "VB", "DT", "NN", "NN"]
    tags = [t for _, t in tx.pos_tag(tx.word_tokenize("John's big idea isn't all that bad."))]
    assert tags == ["NNP", "POS", "JJ", "NN", "VBZ", "RB", "PDT", "DT", "JJ", "."]


def test_tagger_is_nltks_code_and_its_model_file_cannot_run_code(tmp_path, monkeypatch):
    from nltk.tag.perceptron import PerceptronTagger

    assert isinstance(tx.perceptron_tagger(), PerceptronTagger)
    evil = tmp_path / tx.MODEL_FILE
    evil.write_bytes(pickle.dumps(os.system))  # a pickle that would import a callable is refused
    monkeypatch.setattr(tx, "tagger_model_path", lambda: evil)
    tx.perceptron_tagger.cache_clear()
    try:
        with pytest.raises(pickle.UnpicklingError):
            tx.perceptron_tagger()
    finally:
        tx.perceptron_tagger.cache_clear()


def test_stop_words_are_nltks_english_list():
    assert len(tx.STOPWORDS) == 179
    # only apostrophe-free entries can match the reference's \w+ tokens
    plain = {w for w in tx.STOPWORDS if "'" not in w}
    assert len(plain) == 153 and {"the", "don", "mightn", "ma", "y"} <= plain and "he'd" not in tx.STOPWORDS
    assert tx.count_stopwords("Don't you think it's the best?") == 6  # don t you it s the


def test_kwargs_none_is_dropped_but_zero_is_kept():
    row = {"instruction_id_list": ["repeat:repeat_span"],
           "kwargs": [{"prompt_to_repeat": "hello world", "n_start": 0, "n_end": 4, "N": None}]}
    assert VERIFIER.verify("Hello", row).details["inst_level_strict"] == [1]
    text = VERIFIER.verify("Hello", json.dumps(row))  # one gold encoding: JSON text is not a gold, an error
    assert text.is_error and text.score == 0.0


@pytest.mark.parametrize("iid,kwargs", [
    ("count:numbers", {}),
    ("count:numbers", {"N": -1}),
    ("words:keywords_specific_position", {"keyword": "x", "n": 0, "m": 1}),
    ("repeat:repeat_change", {"prompt_to_repeat": ""}),
    ("count:words_japanese", {"N": 0}),
    ("format:options", {}),
    ("no:such_type", {}),
])
def test_parameters_the_reference_would_invent_score_zero_with_a_reason(iid, kwargs):
    details = strict(iid, kwargs, "1 2 3 x")
    assert details["inst_level_loose"] == [0] and details["errors"]


def test_a_checker_error_is_reported_and_other_variants_still_count():
    broken = CSV_STUDENTS.replace('"Math"', "")  # an empty field: the reference raises IndexError
    details = strict("custom:csv_quotes", {}, broken)
    assert details["inst_level_loose"] == [0] and "IndexError" in details["errors"][0]
    # first line chatty: strict variant is rejected by the header check, loose drops it and passes
    details = strict("custom:csv_quotes", {}, "Here is the table:\n" + CSV_STUDENTS)
    assert (details["inst_level_strict"], details["inst_level_loose"]) == ([0], [1])


@pytest.mark.parametrize("truth", [None, 3, "not json", {"instruction_id_list": ["count:numbers"], "kwargs": "x"},
                                   {"instruction_id_list": ["count:numbers"], "kwargs": [{"N": "two"}]}])
def test_junk_ground_truth_never_raises(truth):
    assert VERIFIER.verify("1 2", truth).score == 0.0


def test_registered_under_its_name_and_task():
    assert isinstance(get_verifier("ifbench"), IFBenchVerifier)
    task = Registry().get("ifeval_ood")
    assert (task.suite, task.skill, task.primary_metric) == ("unseen", "instruction following", "prompt_level_loose")
    assert (task.generation.max_tokens, task.generation.temperature) == (2048, 0.0)


# --- SmolLM2 outputs on all 300 prompts ------------------------------------------------------------
def _fixture() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines()]


def test_smollm2_fixture_covers_every_prompt_and_rescoring_reproduces_it_regression():
    rows, fixture = rows_by_key(), _fixture()
    assert len(fixture) == 300 and {item["key"] for item in fixture} == set(rows)
    changed = []
    for item in fixture:
        d = VERIFIER.verify(item["response"], rows[item["key"]]).details
        got = {k: d[k] for k in ("prompt_level_strict", "prompt_level_loose", "inst_level_strict", "inst_level_loose")}
        if got != item["verdicts"]:
            changed.append((item["key"], got, item["verdicts"]))
    assert not changed, changed[:3]


def test_smollm2_scores_through_the_task(monkeypatch):
    """The task's aggregate over the fixture: the four numbers of the recorded run."""
    def no_network(*args, **kwargs):
        raise AssertionError("IFBench scoring must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    import nltk

    monkeypatch.setattr(nltk, "download", no_network)
    task = Registry().get("ifeval_ood")
    docs = [json.loads(line) for line in DATA.read_text().splitlines()]
    responses = {item["key"]: item["response"] for item in _fixture()}
    records = [task.score(inst, [responses[inst.doc["key"]]]) for inst in task.instances(docs)]
    summary = task.aggregate(records)
    got = {k: round(summary[k].value, 4) for k in
           ("prompt_level_strict", "prompt_level_loose", "inst_level_strict", "inst_level_loose")}
    assert got == json.loads((FIXTURE.parent / "ifbench_smollm2_scores.json").read_text())


# --- linear rewrites of two quadratic reference regexes ---------------------------------------------
def test_special_field_scan_equals_the_reference_regex():
    import random
    import re

    from tulu_eval.verifiers.ifbench.checks_custom import _quoted_special

    pattern, rng = re.compile(r'".*[^\d\w\s].*"'), random.Random(0)
    for _ in range(50_000):
        field = "".join(rng.choice('"a1_ \n&é\t') for _ in range(rng.randint(0, 9)))
        assert bool(pattern.match(field)) == _quoted_special(field), repr(field)


def test_question_split_keeps_the_reference_blocks():
    import random
    import re

    from tulu_eval.verifiers.ifbench.checks_custom import _QUESTION_LABEL

    reference, rng = re.compile(r"\n*(?:Question \d+[\.|\):;]?\s*)"), random.Random(0)
    parts = ["Question 1", "Question 12.", "Question 3)", "Question", "\n", "\n\n", " ", "A) x", "b. y", "text"]
    blocks = lambda pieces: [p.strip() for p in pieces if p.strip()]  # noqa: E731  (what the check keeps)
    for _ in range(20_000):
        text = "Question" + "".join(rng.choice(parts) for _ in range(rng.randint(0, 12)))
        assert blocks(reference.split(text)) == blocks(_QUESTION_LABEL.split(text)), repr(text)
        assert (reference.split(text)[0] == "") == (_QUESTION_LABEL.split(text)[0] == "")
    slow = "Question 1 why?" + "\n" * 200_000 + "x\nQuestion 2 y"  # quadratic for the reference regex
    assert blocks(_QUESTION_LABEL.split(slow))[1:] == ["y"]
