"""TruthfulQA (``truthfulqa::tulu``, MC1/MC2 by log-likelihood) against lm-eval, on real log-likelihoods.

The fixture holds the bundled SmolLM2-135M-Instruct's log-likelihoods of every answer of the
first 40 questions (``tulu-eval run --tasks truthfulqa --limit 40 --backend hf``). References,
both from lm-eval 0.4.13 as installed: the prompt of ``truthfulqa_mc1.yaml`` (its Jinja
``doc_to_text``), MC1 by ``ConfigurableTask.process_results`` for ``multiple_choice``, and MC2 by
``lm_eval/tasks/truthfulqa/utils.py:process_results_mc2``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from lm_eval.api.task import ConfigurableTask
from lm_eval.tasks.truthfulqa.utils import process_results_mc2
from lm_eval.utils import apply_template

import lm_eval
from tulu_eval.registry import Registry

from .conftest import run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "truthfulqa_smollm2.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.open(encoding="utf-8")]
MC1_YAML = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks/truthfulqa/truthfulqa_mc1.yaml").read_text())
TASK = Registry().get("truthfulqa::tulu")


def hf_doc(doc: dict) -> dict:
    """The HF ``truthful_qa``/``multiple_choice`` row lm-eval reads, built from the same json row."""
    return {"question": doc["question"],
            **{k: {"choices": list(doc[k]), "labels": list(doc[k].values())} for k in ("mc1_targets", "mc2_targets")}}


def lm_eval_mc1(lls: list[float]) -> float:
    task = ConfigurableTask.__new__(ConfigurableTask)
    task._config = SimpleNamespace(process_results=None)
    task.OUTPUT_TYPE, task.multiple_input, task.multiple_target = "multiple_choice", False, False
    task._metric_fn_list = {"acc": None}
    task.doc_to_choice = lambda d: [str(i) for i in range(len(lls))]
    task.doc_to_target = lambda d: 0  # truthfulqa_mc1.yaml: doc_to_target 0
    return task.process_results({}, [(ll, False) for ll in lls])["acc"]


def lm_eval_mc2(row: dict) -> float:
    gold = row["gold"]
    doc = {"mc2_targets": {"labels": [gold["labels"][j] for j in gold["mc2"]]}}
    return float(process_results_mc2(doc, [(row["logprobs"][j], False) for j in gold["mc2"]])["acc"])


@pytest.fixture(scope="module")
def docs(data_dir):
    return TASK.load_docs(data_dir)


def test_data_is_the_original_release(docs):
    assert len(docs) == 817
    assert docs[0]["question"].startswith("What is the smallest country in the world that is at least one square mile")
    assert sum(len(TASK.choices(d)) for d in docs) == 5882  # distinct answers (MC1's are among MC2's)


def test_prompt_equals_lm_eval_truthfulqa_mc1(docs):
    for doc in docs[:25] + docs[-5:]:
        req = TASK.instances([doc])[0].request
        want = apply_template(MC1_YAML["doc_to_text"], hf_doc(doc))
        assert req.text == want
        assert req.messages == [{"role": "user", "content": want}] and req.assistant_prefix == ""
        assert list(req.continuations) == [" " + c for c in dict.fromkeys([*doc["mc1_targets"], *doc["mc2_targets"]])]


def test_fixture_is_real():
    assert len(ROWS) == 40
    assert all(len(r["logprobs"]) == len(r["continuations"]) and max(r["logprobs"]) < 0 for r in ROWS)
    mc1 = [TASK.score_row(SimpleNamespace(gold=r["gold"]), r)["metrics"]["mc1"] for r in ROWS]
    assert 0 < sum(mc1) < len(mc1)


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_mc1_mc2_match_lm_eval(row):
    metrics = TASK.score_row(SimpleNamespace(gold=row["gold"]), row)["metrics"]
    mc1_lls = [row["logprobs"][j] for j in row["gold"]["mc1"]]
    assert metrics["mc1"] == lm_eval_mc1(mc1_lls)
    assert metrics["mc2"] == pytest.approx(lm_eval_mc2(row), rel=1e-9, abs=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_unsorted_labels_and_underflow(docs):
    # two questions list a true MC2 answer after a false one: the mass must follow labels, not order
    doc = next(d for d in docs if list(d["mc2_targets"].values()) != sorted(d["mc2_targets"].values(), reverse=True))
    inst = TASK.instances([doc])[0]
    lls = [-1.0 - 0.37 * j for j in range(len(inst.request.continuations))]
    row = {"continuations": list(inst.request.continuations), "logprobs": lls, "gold": inst.gold}
    assert TASK.score_row(inst, row)["metrics"]["mc2"] == pytest.approx(lm_eval_mc2(row))
    # far below exp's range lm-eval's ratio is 0/0; ours stays the same ratio
    deep = {**row, "logprobs": [x - 5000 for x in lls]}
    assert math.isnan(lm_eval_mc2(deep))
    assert TASK.score_row(inst, deep)["metrics"]["mc2"] == pytest.approx(lm_eval_mc2(row))


def test_truthfulqa_runs_end_to_end(tmp_path, bundled_model, data_dir):
    out = tmp_path / "run"
    res = run_cli("run", "--tasks", "truthfulqa", "--limit", "3", "--backend", "hf", "--no-cache", "-o", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads((out / "results.json").read_text())
    task = result["tasks"]["truthfulqa"]
    assert set(task["metrics"]) == {"mc1", "mc2"} and task["primary_metric"] == "mc2"
    rows = [json.loads(line) for line in (out / "predictions" / "truthfulqa.jsonl").open()]
    assert [len(r["logprobs"]) for r in rows] == [len(TASK.choices(d)) for d in TASK.load_docs(data_dir)[:3]]
    for row in rows:
        assert row["metrics"]["mc2"] == pytest.approx(lm_eval_mc2(row))
    assert result["suites"]["dev"]["entries"][0]["label"] == "TruthfulQA"
