"""Suite averages: which task and which metric enter the Tülu 3 dev/unseen averages, and how a
partial average names what is missing."""

from __future__ import annotations

import pytest

from tulu_eval.registry import Registry
from tulu_eval.results.folder import format_table
from tulu_eval.scoring.suites import DEV, SUITES, UNSEEN, compute, suite_averages


def _summary(primary: str, **metrics: float) -> dict:
    metrics = {primary: 0.0, **metrics} if primary not in metrics else metrics
    return {"primary_metric": primary, "primary": {"value": metrics[primary], "stderr": 0.01, "n": 10},
            "metrics": {k: {"value": v, "stderr": 0.01, "n": 10} for k, v in metrics.items()},
            "full_name": f"{primary}::x", "suite": "dev"}


def _dev_results() -> dict[str, dict]:
    """Every dev column but DROP, with decoy metrics that must not enter the average."""
    return {
        "mmlu": _summary("exact_match", exact_match=0.60),
        "popqa": _summary("exact_match", exact_match=0.30),
        "truthfulqa": _summary("mc2", mc2=0.55, mc1=0.99),
        "bbh": _summary("exact_match", exact_match=0.65),
        "minerva_math": _summary("exact_match_flex", exact_match_flex=0.40, exact_match=0.99),
        "gsm8k": _summary("exact_match", exact_match=0.80, exact_match_strict=0.99),
        "codex_humaneval": _summary("pass_at_1", pass_at_1=0.99, pass_at_10=0.85),
        "codex_humanevalplus": _summary("pass_at_1", pass_at_1=0.99, pass_at_10=0.80),
        "ifeval": _summary("prompt_level_loose", prompt_level_loose=0.75, inst_level_loose=0.99),
        "alpaca_eval": _summary("length_controlled_winrate", length_controlled_winrate=0.30, win_rate=0.99),
        "safety": _summary("safe", safe=0.90, refusal=0.99),
    }


def test_dev_average_uses_the_reports_metrics_and_names_drop_as_missing():
    res = compute(DEV, _dev_results(), known=set(_dev_results()) | {"drop"})
    expected = [0.60, 0.30, 0.55, 0.65, 0.40, 0.80, 0.85, 0.80, 0.75, 0.30, 0.90]
    assert res["average"] == pytest.approx(sum(expected) / 11)
    assert res["n"] == 11 and res["of"] == 12 and not res["complete"]
    # DROP's data is in shared/data now: a run without it is "not selected", not "no data here"
    assert res["missing"] == ["drop"] and res["reasons"]["drop"] == "not run (not selected)"
    assert [e["label"] for e in res["entries"]][:4] == ["MMLU", "PopQA", "TruthfulQA", "BBH"]
    assert {e["task"]: e["metric"] for e in res["entries"]}["alpaca_eval"] == "length_controlled_winrate"


def test_dev_average_with_drop_is_complete():
    results = {**_dev_results(), "drop": _summary("f1", f1=0.20, em=0.99)}
    res = compute(DEV, results, known=set(results))
    expected = [0.60, 0.30, 0.55, 0.65, 0.20, 0.40, 0.80, 0.85, 0.80, 0.75, 0.30, 0.90]
    assert res["complete"] and res["n"] == res["of"] == 12 and res["missing"] == []
    assert res["average"] == pytest.approx(sum(expected) / 12)
    assert {e["task"]: e["metric"] for e in res["entries"]}["drop"] == "f1"


def test_missing_metric_falls_back_to_primary_with_a_note_and_nan_is_missing():
    results = _dev_results()
    results["codex_humaneval"] = _summary("pass_at_1", pass_at_1=0.5)
    results["alpaca_eval"] = _summary("length_controlled_winrate", length_controlled_winrate=float("nan"))
    res = compute(DEV, results)
    he = next(e for e in res["entries"] if e["task"] == "codex_humaneval")
    assert he["value"] == 0.5 and he["metric"] == "pass_at_1" and "pass_at_10 not computed" in he["note"]
    assert "alpaca_eval" in res["missing"] and res["reasons"]["alpaca_eval"] == "no value (nan)"
    assert res["n"] == 10


def test_reasons_skipped_undeclared_unselected_and_tasks_outside_the_declaration():
    results = {"gsm8k": _summary("exact_match", exact_match=0.5), "my_extra_task": _summary("acc", acc=1.0)}
    skipped = {"alpaca_eval": "alpaca_eval needs a judge model: pass --judge-model"}
    known = {"gsm8k", "ifeval", "alpaca_eval", "my_extra_task"}
    res = suite_averages(results, skipped, known)
    dev = res["dev"]
    assert dev["average"] == 0.5 and dev["tasks"] == ["gsm8k"]  # the extra task never enters
    assert dev["reasons"]["alpaca_eval"].startswith("skipped: alpaca_eval needs a judge model")
    assert dev["reasons"]["ifeval"] == "not run (not selected)"
    assert dev["reasons"]["codex_humaneval"] == "no task named codex_humaneval is declared"
    assert "unseen" not in res  # no unseen entry ran


def test_unseen_declaration_and_alternative_names():
    assert [e.label for e in UNSEEN.entries] == ["AGIEval English", "MMLU-Pro", "GPQA", "IFEval-OOD",
                                                 "DeepMind Math", "BigCodeBench", "HREF"]
    res = compute(UNSEEN, {"ifbench": _summary("prompt_level_loose", prompt_level_loose=0.2),
                           "mmlu_pro": _summary("exact_match", exact_match=0.4)})
    assert res["average"] == pytest.approx(0.3) and res["tasks"] == ["mmlu_pro", "ifbench"]
    assert "password" in res["reasons"]["gpqa"] and "HREF" in res["reasons"]["href"]


def test_declared_metrics_match_the_registered_tasks():
    """Each registered task of a suite that counts in the average is declared in that suite, under
    its primary metric (a changed task declaration must be reflected in suites.py)."""
    registry = Registry()
    for name, suite in SUITES.items():
        declared = {t: e for e in suite.entries for t in e.tasks}
        for task in registry.suite(name):
            if not task.in_average:
                continue
            assert task.name in declared, f"{task.name} counts in the {name} average but is not in suites.py"
            metric = declared[task.name].metric
            assert metric in (None, task.primary_metric), (task.name, metric, task.primary_metric)


def test_table_prints_the_partial_average_with_missing_tasks():
    results = _dev_results()
    out = {"model": {"name": "m", "fingerprint": "f"}, "backend": {"backend": "hf"},
           "tasks": {k: {**v, "full_name": f"{k}::tulu"} for k, v in results.items()},
           "skipped": {}, "suites": suite_averages(results)}
    table = format_table(out)
    line = next(x for x in table.splitlines() if x.startswith("dev average"))
    assert "partial: 11 of 12; missing: drop" in line
    assert f"{100 * out['suites']['dev']['average']:5.1f}" in line
