"""``tulu-eval pipeline``: a tiny real SFT -> DPO -> RLVR pipeline of the bundled model (1 step per stage,
``--limit 2`` on GSM8K and IFEval, hf backend), its report and resume; and the file's checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, run_cli

RLVR = "training/rlvr_ifeval.yaml"
TINY = {"trl.max_steps": 1, "trl.per_device_train_batch_size": 2, "trl.save_steps": 1, "data.limit": 8}


def tiny_pipeline(folder: Path, **changes) -> Path:
    spec = {
        "base": "bundled",
        "output_dir": str(folder / "out"),
        "stages": [
            {"name": "sft", "recipe": "training/sft_codealpaca.yaml", "overrides": {**TINY, "trl.max_length": 64}},
            {"name": "dpo", "recipe": "training/dpo_hh_rlhf.yaml",
             "overrides": {**TINY, "trl.max_length": 64, "decontam.check": False}},
            {"name": "rlvr", "recipe": RLVR,
             "overrides": {**TINY, "data.limit": 4, "trl.num_generations": 2, "trl.max_completion_length": 16,
                           "decontam.check": False}},
        ],
        "eval": {"tasks": "gsm8k,ifeval", "limit": 2, "backend": "hf", "max_tokens": 8},
        **changes,
    }
    path = folder / "pipe.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.mark.slow  # 12 min on the shared 2-core machine (load 4-5): three trainings, four hf evaluations
def test_tiny_pipeline_trains_evaluates_reports_and_resumes(tmp_path, data_dir, bundled_model):
    pipe = tiny_pipeline(tmp_path)
    cache = str(tmp_path / "gen.sqlite")
    proc = run_cli("pipeline", str(pipe), "--cache", cache, "--bootstrap-iters", "200", timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = tmp_path / "out"
    for stage in ("sft", "dpo", "rlvr"):
        assert json.loads((out / stage / "train_summary.json").read_text())["steps"] == 1
        assert f"{stage} (train-" in proc.stderr and "training from" in proc.stderr
    # each stage trains from the one before it
    assert yaml.safe_load((out / "dpo" / "recipe.yaml").read_text())["model"] == str(out / "sft")
    assert yaml.safe_load((out / "rlvr" / "recipe.yaml").read_text())["model"] == str(out / "dpo")
    runs = {name: json.loads((out / "eval" / name / "results.json").read_text()) for name in ("base", "sft", "dpo", "rlvr")}
    for name, res in runs.items():
        assert set(res["tasks"]) == {"gsm8k", "ifeval"} and res["selection"]["limit"] == 2
    assert runs["dpo"]["model"]["path"] == str((out / "dpo").resolve())
    # the SFT manifest travels with every later stage's evaluation
    assert runs["rlvr"]["training_manifest"]["sources"] == [str(out / "sft" / "decontamination.json")]
    assert "training_manifest" not in runs["base"]
    summary = json.loads((out / "pipeline.json").read_text())
    assert [s["name"] for s in summary["stages"]] == ["base", "sft", "dpo", "rlvr"]
    assert summary["stages"][3]["vs_previous"]["dev"]["tasks"] == 2  # gsm8k and ifeval both count in dev
    dev = [s["dev"] for s in summary["stages"]]
    assert dev == [r["suites"]["dev"]["average"] for r in runs.values()]
    gain = summary["stages"][2]["vs_base"]["dev"]["diff"]
    assert gain == pytest.approx(dev[2] - dev[0])
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["primary"]["task"] == "ifeval" and set(comparison["base"]) == {"gsm8k", "ifeval"}
    html = (out / "report.html").read_text()
    assert 'id="stage-table"' in html and re.findall(r'<tr data-stage="([^"]+)"', html) == ["base", "sft", "dpo", "rlvr"]
    assert "Pipeline: base → sft → dpo → rlvr" in html
    # rerun: nothing is trained or evaluated again
    again = run_cli("pipeline", str(pipe), "--cache", cache, "--bootstrap-iters", "200", timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("finished already") == 3 and again.stderr.count("is up to date") == 4
    assert "training from" not in again.stderr


@pytest.mark.parametrize("change, message", [
    ({"stages": []}, "stages must be a non-empty list"),
    ({"stages": [{"name": "sft", "recipe": "training/nope.yaml"}]}, "stage sft: recipe training/nope.yaml: no such file"),
    ({"stages": [{"name": "sft", "recipe": "training/sft_codealpaca.yaml", "overrides": {"trl.bogus": 1}}]},
     "stage sft: sft_codealpaca.yaml: trl.bogus is not a field of TRL's SFTConfig"),
    ({"stages": [{"name": "sft", "recipe": "training/sft_codealpaca.yaml", "overrides": {"model": "x"}}]},
     "overrides.model is set by the pipeline"),
    ({"stages": [{"name": "a", "recipe": "training/sft_codealpaca.yaml"},
                 {"name": "a", "recipe": "training/dpo_hh_rlhf.yaml"}]}, "name 'a' is used twice"),
    ({"stages": [{"name": "sft", "recipe": "training/sft_codealpaca.yaml", "overrides": {"data.path": "no/such.json"}}]},
     "data file no/such.json not found"),
    ({"eval": {"tasks": "gsm8k,nosuchtask"}}, "eval: unknown task"),
    ({"eval": {"limit": 0}}, "eval.limit must be a positive integer"),
    ({"evals": {}}, "unknown key 'evals'"),
])
def test_pipeline_file_errors_are_one_line_before_training(tmp_path, data_dir, change, message):
    pipe = tiny_pipeline(tmp_path, **change)
    proc = run_cli("pipeline", str(pipe))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (tmp_path / "out").exists()  # nothing trained, nothing written


def test_check_prints_the_plan(tmp_path, data_dir):
    proc = run_cli("pipeline", str(tiny_pipeline(tmp_path)), "--check")
    assert proc.returncode == 0, proc.stderr
    out = str(tmp_path / "out")
    assert f"dpo: train-dpo training/dpo_hh_rlhf.yaml" in proc.stdout and f"from {out}/sft" in proc.stdout
    assert not (tmp_path / "out").exists()


def test_shipped_pipeline_checks(data_dir):
    """training/tulu3_mini.yaml: the file, every recipe it names and its eval tasks pass --check."""
    res = run_cli("pipeline", "training/tulu3_mini.yaml", "--check")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "rlvr: train-rlvr training/rlvr_ifeval.yaml" in res.stdout + res.stderr
