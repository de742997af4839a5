"""Contamination-aware results: a real decontamination manifest (the n-gram check run on a tiny
training file holding two real GSM8K test questions) flags those instances of a real run folder
(the committed reference run of the bundled model) and scores the clean rest."""

from __future__ import annotations

import json
import shutil

import pytest

from tulu_eval.scoring.metrics import mean_stderr

from .conftest import run_cli
from .test_report import CHAT

CONTAMINATED = ("1", "3")  # GSM8K test ids (0-based line numbers) copied into the training file


def make_manifest(folder, data_dir, ids=CONTAMINATED):
    """decontamination.json as `tulu-eval decontaminate` (and every trainer) writes it."""
    from tulu_eval.decontam.scan import decontaminate

    test = [json.loads(line) for line in (data_dir / "gsm8k" / "test.jsonl").open()]
    rows = [{"messages": [{"role": "user", "content": "Write a haiku about autumn leaves falling."},
                          {"role": "assistant", "content": "Red leaves drift down."}]}]
    rows += [{"messages": [{"role": "user", "content": test[int(i)]["question"]},
                           {"role": "assistant", "content": test[int(i)]["answer"]}]} for i in ids]
    folder.mkdir(parents=True, exist_ok=True)
    train = folder / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    decontaminate([train], tasks="gsm8k,ifeval", data_dir=data_dir, workers=1, output_dir=folder)
    return folder / "decontamination.json"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, data_dir):
    return make_manifest(tmp_path_factory.mktemp("train"), data_dir)


@pytest.fixture(scope="module")
def flagged_run(tmp_path_factory, manifest):
    run = tmp_path_factory.mktemp("run") / "chat-dev"
    shutil.copytree(CHAT, run)
    proc = run_cli("score", str(run), "--training-manifest", str(manifest))
    assert proc.returncode == 0, proc.stderr
    (run.parent / "table.txt").write_text(proc.stdout)
    return run


def test_manifest_names_the_copied_instances(manifest):
    from tulu_eval.decontam.manifest import load_manifests

    m = load_manifests([manifest])
    assert m.hits == {"gsm8k": set(CONTAMINATED)} and m.checked == {"gsm8k", "ifeval"}


def test_results_carry_contaminated_instances_and_clean_score(flagged_run, manifest):
    res = json.loads((flagged_run / "results.json").read_text())
    assert res["training_manifest"]["sources"] == [str(manifest)]
    assert res["training_manifest"]["tasks_checked"] == ["gsm8k", "ifeval"]
    g = res["tasks"]["gsm8k"]["contamination"]
    assert g["instances"] == list(CONTAMINATED) and g["n"] == 2 and g["of"] == 5
    rows = [json.loads(x) for x in (flagged_run / "predictions" / "gsm8k.jsonl").open()]
    clean = mean_stderr([r["metrics"]["exact_match"] for r in rows if r["id"] not in CONTAMINATED])
    assert g["clean"]["exact_match"] == clean.as_dict() and clean.n == 3
    # checked and clean: an empty list; not checked: no key at all (unknown is not clean)
    assert res["tasks"]["ifeval"]["contamination"] == {"source": [str(manifest)], "instances": [], "n": 0, "of": 5}
    assert "contamination" not in res["tasks"]["bbh"]
    # the full scores are unchanged
    ref = json.loads((CHAT / "results.json").read_text())
    assert res["tasks"]["gsm8k"]["primary"] == ref["tasks"]["gsm8k"]["primary"]
    assert "contaminated: 2 of 5 instances overlap the training data; clean subset:" in (flagged_run.parent / "table.txt").read_text()


def test_rescore_keeps_the_manifest(flagged_run, tmp_path):
    run = tmp_path / "again"
    shutil.copytree(flagged_run, run)
    proc = run_cli("score", str(run))
    assert proc.returncode == 0, proc.stderr
    before, after = (json.loads((r / "results.json").read_text()) for r in (flagged_run, run))
    assert after["tasks"]["gsm8k"]["contamination"] == before["tasks"]["gsm8k"]["contamination"]
    assert after["training_manifest"] == before["training_manifest"]


def test_model_folder_manifest_is_found(tmp_path, manifest):
    from tulu_eval.decontam.manifest import find_manifests

    (tmp_path / "checkpoint-2").mkdir()
    shutil.copy(manifest, tmp_path / "decontamination.json")
    assert find_manifests(str(tmp_path)) == find_manifests(str(tmp_path / "checkpoint-2")) \
        == [tmp_path / "decontamination.json"]
    assert find_manifests(str(tmp_path / "checkpoint-2" / "x")) == []


def test_bad_manifest_is_one_line(tmp_path):
    bad = tmp_path / "d.json"
    bad.write_text('{"files": 1}')
    run = tmp_path / "run"
    shutil.copytree(CHAT, run)
    for path, msg in ((bad, "not a decontamination report"), (tmp_path / "nope.json", "no such file"),
                      (tmp_path / "empty", "no such file")):
        (tmp_path / "empty").mkdir(exist_ok=True)
        proc = run_cli("score", str(run), "--training-manifest", str(path))
        assert proc.returncode == 2 and msg in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.slow  # ~80 s on the shared 2-core machine (model load on hf)
def test_run_finds_the_model_folders_manifest(tmp_path, manifest, bundled_model):
    """`run --model FOLDER` with FOLDER/decontamination.json (as a trainer leaves it): flagged without a flag."""
    model = tmp_path / "trained"
    model.mkdir()
    for f in bundled_model.iterdir():
        (model / f.name).symlink_to(f)
    shutil.copy(manifest, model / "decontamination.json")
    out = tmp_path / "run"
    proc = run_cli("run", "--model", str(model), "--tasks", "gsm8k", "--limit", "4", "--backend", "hf",
                   "--max-tokens", "8", "-o", str(out), "--no-report", "--cache", str(tmp_path / "c.sqlite"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    assert res["training_manifest"]["sources"] == [str(model / "decontamination.json")]
    assert res["tasks"]["gsm8k"]["contamination"]["instances"] == list(CONTAMINATED)
    assert res["tasks"]["gsm8k"]["contamination"]["clean"]["exact_match"]["n"] == 2
    assert "contaminated: 2 of 4 instances" in proc.stdout
