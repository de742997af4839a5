"""End to end on the real bundled model (transformers backend, short generations)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tulu_eval.backends.hf import HFBackend
from tulu_eval.engine.plan import RunConfig
from tulu_eval.engine.run import run

from .conftest import REPO, run_cli

ARGS = ["--tasks", "gsm8k", "--limit", "8", "--backend", "hf", "--max-tokens", "24"]


def _predictions(run_dir):
    return [json.loads(line) for line in (run_dir / "predictions" / "gsm8k.jsonl").open()]


def test_run_writes_run_folder_and_score_reproduces_it(tmp_path, bundled_model, data_dir):
    out = tmp_path / "run"
    res = run_cli("run", *ARGS, "-o", str(out), "--cache", str(tmp_path / "c.sqlite"))
    assert res.returncode == 0, res.stderr
    assert "gsm8k::tulu" in res.stdout and "exact_match" in res.stdout
    result = json.loads((out / "results.json").read_text())
    task = result["tasks"]["gsm8k"]
    assert task["num_instances"] == 8 and task["primary_metric"] == "exact_match"
    assert set(task["primary"]) == {"value", "stderr", "n"}
    assert result["model"]["fingerprint"].startswith("sha256:")
    assert result["backend"]["backend"] == "hf" and result["backend"]["dtype"] == "float32"
    assert len(task["data_files"]["gsm8k/test.jsonl"]) == 64
    assert result["versions"]["torch"] and result["tokens_generated"] > 0
    assert task["generation"]["max_tokens"] == 24
    rows = _predictions(out)
    assert len(rows) == 8
    assert {"prompt", "output", "extracted", "gold", "verdict", "metrics"} <= set(rows[0])
    assert rows[0]["prompt"].startswith("<|im_start|>system")
    # `score` recomputes the same metrics from the saved predictions without a model
    rescored = run_cli("score", str(out))
    assert rescored.returncode == 0, rescored.stderr
    again = json.loads((out / "results.json").read_text())
    assert again["tasks"]["gsm8k"]["metrics"] == task["metrics"]


def test_killed_run_resumes_without_regenerating(tmp_path, bundled_model, data_dir, monkeypatch):
    """SIGKILL mid-generation, restart: no prompt is generated twice and results equal a clean run."""
    cache = tmp_path / "c.sqlite"
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "tulu_eval.cli", "run", *ARGS, "--chunk-size", "2", "-o", str(out),
           "--cache", str(cache)]
    log = (tmp_path / "log").open("w")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=log, start_new_session=True)
    done_before = 0
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if cache.exists():
            try:
                done_before = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM generations").fetchone()[0]
            except sqlite3.OperationalError:
                done_before = 0
            if done_before >= 2:
                break
        time.sleep(0.2)
    assert proc.poll() is None, (tmp_path / "log").read_text()[-2000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 2 <= done_before < 8, f"kill landed at {done_before} cached generations"
    done_before = sqlite3.connect(cache).execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    assert not (out / "results.json").exists()

    generated: list[str] = []
    original = HFBackend.generate

    def counting(self, requests, prompts):
        generated.extend(prompts)
        return original(self, requests, prompts)

    monkeypatch.setattr(HFBackend, "generate", counting)
    cfg = RunConfig(tasks="gsm8k", limit=8, backend="hf", max_tokens=24, output_dir=str(out), cache=str(cache),
                    chunk_size=2, progress=False)
    resumed = run(cfg)
    assert len(generated) == 8 - done_before and len(set(generated)) == len(generated)
    assert resumed["generation"]["cached"] == done_before

    clean = run(RunConfig(tasks="gsm8k", limit=8, backend="hf", max_tokens=24, output_dir=str(tmp_path / "clean"),
                          cache="", progress=False))
    assert [r["output"] for r in _predictions(out)] == [r["output"] for r in _predictions(tmp_path / "clean")]
    assert resumed["tasks"]["gsm8k"]["metrics"] == clean["tasks"]["gsm8k"]["metrics"]
    # a third run with the same arguments generates nothing at all (and never loads the model)
    generated.clear()
    run(cfg)
    assert generated == []
