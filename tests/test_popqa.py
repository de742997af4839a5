"""PopQA: prompts, exemplars and the any-alias match, on real SmolLM2-135M-Instruct outputs.

The fixture holds the bundled model's responses to the first 60 ``popqa::tulu`` prompts
(``tulu-eval run --tasks popqa --limit 60 --backend vllm``). lm-eval has no PopQA task; the
reference is PopQA's own scoring loop (AlexTMallen/adaptive-retrieval ``run_model.py``), which
OLMES's ``popqa`` task keeps. Neither is installable (a research repository and OLMES, neither on
PyPI), so that loop is transcribed below and the verdict test is a regression test against the
transcription, not conformance.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from .conftest import run_cli
from tulu_eval.registry import Registry
from tulu_eval.verifiers import get_verifier

FIXTURE = Path(__file__).parent / "fixtures" / "popqa_smollm2.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.open(encoding="utf-8")]
VERIFIER = get_verifier("popqa")


def reference_is_correct(pred: str, possible_answers: list[str]) -> bool:
    """run_model.py: ``pa in pred or pa.lower() in pred or pa.capitalize() in pred`` for any answer."""
    is_correct = False
    for pa in possible_answers:
        if pa in pred or pa.lower() in pred or pa.capitalize() in pred:
            is_correct = True
    return is_correct


def reference_first_line(pred: str) -> str:
    if pred.startswith("\n\n"):
        pred = pred[2:]
    return pred.split("\n")[0]


@pytest.fixture(scope="module")
def task():
    return Registry().get("popqa")


@pytest.fixture(scope="module")
def docs(task, data_dir):
    return task.load_docs(data_dir)


def test_fixture_is_real_and_mixed():
    assert len(ROWS) == 60 and len({r["id"] for r in ROWS}) == 60
    verdicts = [VERIFIER.verify(r["response"], r["golden_answers"]).score for r in ROWS]
    assert 0 < sum(verdicts) < len(verdicts)


def test_verdicts_equal_transcribed_popqa_rule_regression():
    for row in ROWS:
        d = VERIFIER.verify(row["response"], row["golden_answers"]).details
        assert d["exact_match"] == reference_is_correct(row["response"], row["golden_answers"]), row["id"]
        first = reference_is_correct(reference_first_line(row["response"]), row["golden_answers"])
        assert d["exact_match_first_line"] == first, row["id"]


def test_fixture_rows_are_the_task_gold(task, docs):
    by_id = {d["id"]: d for d in docs}
    for row in ROWS:
        assert task.gold(by_id[row["id"]]) == row["golden_answers"]


def test_exemplars_one_per_other_relation_and_excluded(task, docs, data_dir):
    raw = task.data.read(data_dir)
    assert len(raw) == 1000 and len(docs) == 984
    first_of = {}
    for row in raw:
        first_of.setdefault(row["metadata"]["prop_id"], row)
    assert len(first_of) == 16
    exemplar_ids = {row["id"] for row in first_of.values()}
    assert not exemplar_ids & {d["id"] for d in docs}
    for doc in docs[:50]:
        request = task.build_request(doc)
        users = [m["content"] for m in request.messages if m["role"] == "user"]
        answers = [m["content"] for m in request.messages if m["role"] == "assistant"]
        assert len(users) == 16 and len(answers) == 15 and users[-1] == f"Q: {doc['question']} A:"
        shot_rows = [next(r for r in first_of.values() if f"Q: {r['question']} A:" == u) for u in users[:-1]]
        relations = Counter(r["metadata"]["prop_id"] for r in shot_rows)
        assert set(relations) == set(first_of) - {doc["metadata"]["prop_id"]} and max(relations.values()) == 1
        assert answers == [r["metadata"]["obj"] for r in shot_rows]
        # plain-text form, as the PopQA paper's prompt
        assert request.text == "\n\n".join([*(f"{u} {a}" for u, a in zip(users, answers)), users[-1]])
    assert task.generation.max_tokens == 15 and task.generation.stop == ("\n\n",)
    assert len(task.fewshot) == 15  # what results.json records


def test_same_relation_same_prompt_prefix(task, docs):
    by_rel = {}
    for doc in docs[:200]:
        prefix = task.build_request(doc).messages[:-1]
        assert by_rel.setdefault(doc["metadata"]["prop_id"], prefix) == prefix


@pytest.mark.parametrize("response,answers,em,first", [
    (" Paris", ["Paris"], 1, 1),
    (" paris", ["Paris"], 1, 1),  # a.lower()
    (" Paris", ["paris"], 1, 1),  # a.capitalize()
    (" PARIS", ["Paris"], 0, 0),  # otherwise case-sensitive
    (" Parisian", ["Paris"], 1, 1),  # substring
    (" London\nParis", ["Paris"], 1, 0),  # second line: whole response only
    ("\n\nParis", ["Paris"], 1, 1),
    (" the film director", ["film director", "director"], 1, 1),
    (" Nobody", ["Ralph Rainger", "Ralph Reichenthal"], 0, 0),
    ("", ["Paris"], 0, 0),
    (" anything", ["", "x"], 0, 0),  # an empty answer matches nothing
    (" Paris", "Paris", 1, 1),  # one string
    (" Paris", '["Lyon", "Paris"]', 0, 0),  # JSON text is one literal answer (one gold encoding)
])
def test_edge_cases(response, answers, em, first):
    d = VERIFIER.verify(response, answers).details
    assert (d["exact_match"], d["exact_match_first_line"]) == (em, first)


@pytest.mark.parametrize("junk", [None, 12, "\x00", "x" * 100000])
def test_never_raises(junk):
    result = VERIFIER.verify(junk, ["Paris"])
    assert result.score in (0.0, 1.0) and "error" not in result.details


def test_end_to_end_run_on_bundled_model(tmp_path, bundled_model, data_dir):
    out = tmp_path / "run"
    res = run_cli("run", "--tasks", "popqa", "--limit", "4", "--backend", "hf", "-o", str(out),
                  "--cache", str(tmp_path / "c.sqlite"), "--no-report")
    assert res.returncode == 0, res.stderr
    result = json.loads((out / "results.json").read_text())
    assert "popqa::tulu" in json.dumps(result)
    rows = [json.loads(line) for line in (out / "predictions" / "popqa.jsonl").open()]
    assert len(rows) == 4 and all(r["num_tokens"] <= 15 for r in rows)
    assert all(r["prompt"].count("Q: ") == 16 for r in rows)
