"""Real (tiny) training runs of the bundled model through the real CLI: output folder, resume, eval.

Each run is a few steps at a tiny length so the default test run stays short; the 50-step runs
of the closing note use the same commands with the shipped recipes unchanged.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

TINY = ["--set", "trl.max_length=64", "--set", "trl.per_device_train_batch_size=2", "--set", "trl.save_steps=1",
        "--set", "trl.logging_steps=1", "--limit", "16"]


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "train_log.jsonl").open()]


@pytest.fixture(scope="module")
def sft_out(tmp_path_factory, data_dir, bundled_model) -> Path:
    out = tmp_path_factory.mktemp("sft") / "run"
    proc = run_cli("train-sft", "--recipe", "training/sft_codealpaca.yaml", "-o", str(out), "--max-steps", "2",
                   *TINY, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "decontamination" in proc.stderr  # the check ran (its verdict: warning or clean)
    return out


def test_sft_output_folder(sft_out):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", "recipe.yaml",
                 "train_summary.json", "curves.svg", "decontamination.json"):
        assert (sft_out / name).is_file(), name
    assert sorted(p.name for p in sft_out.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    summary = json.loads((sft_out / "train_summary.json").read_text())
    assert summary["steps"] == 2 and summary["data"]["examples"] == 16
    losses = [e["loss"] for e in _log(sft_out) if "loss" in e]
    assert len(losses) == 2 and all(math.isfinite(x) and x > 0 for x in losses)
    assert "<svg" in (sft_out / "curves.svg").read_text()


def test_sft_resume_continues_from_the_last_checkpoint(sft_out, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(sft_out, out)
    proc = run_cli("train-sft", "--recipe", "training/sft_codealpaca.yaml", "-o", str(out), "--max-steps", "3",
                   "--no-decontam", *TINY, timeout=600)
    assert proc.returncode == 2 and "already has checkpoint-2; pass --resume" in proc.stderr
    proc = run_cli("train-sft", "--recipe", "training/sft_codealpaca.yaml", "-o", str(out), "--max-steps", "3",
                   "--no-decontam", "--resume", *TINY, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["resumed_from"] == str(out / "checkpoint-2") and summary["steps"] == 3
    steps = [e["step"] for e in _log(out) if "loss" in e]
    assert steps == [1, 2, 3]  # the earlier steps' logs come back with the checkpoint's state


def test_resume_of_a_run_stopped_after_its_last_checkpoint_saves_it(sft_out, tmp_path):
    """A run stopped between its last checkpoint (at max_steps) and the final save: --resume trains no step
    more and saves that checkpoint's weights as the run's model; a second --resume is refused (finished)."""
    from safetensors.torch import load_file

    out = tmp_path / "run"
    shutil.copytree(sft_out, out)
    for name in ("train_summary.json", "model.safetensors", "config.json", "train_log.jsonl", "curves.svg"):
        (out / name).unlink()
    args = ["train-sft", "--recipe", "training/sft_codealpaca.yaml", "-o", str(out), "--max-steps", "2",
            "--no-decontam", "--resume", *TINY]
    proc = run_cli(*args, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no step left to train" in proc.stderr
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["steps"] == 2 and summary["resumed_from"] == str(out / "checkpoint-2")
    assert [e["step"] for e in _log(out) if "loss" in e] == [1, 2]  # the checkpoint's logged history
    saved, ckpt = load_file(out / "model.safetensors"), load_file(out / "checkpoint-2" / "model.safetensors")
    assert saved.keys() == ckpt.keys() and all(saved[k].equal(ckpt[k]) for k in ckpt)
    again = run_cli(*args, timeout=600)
    assert again.returncode == 2 and "nothing to train" in again.stderr


def test_sft_loss_is_on_the_assistant_turn_only(bundled_model, tmp_path):
    from transformers import AutoTokenizer

    from tulu_eval.train import sft
    from tulu_eval.train.data import alpaca_messages, sft_rows
    from tulu_eval.train.recipe import load_recipe, make_trl_config

    recipe = load_recipe(REPO / "training/sft_codealpaca.yaml", "sft", {"trl.max_length": 512})
    tok = AutoTokenizer.from_pretrained(bundled_model)
    row = {"instruction": "Write a function that adds two numbers.", "input": "",
           "output": "def add(a, b):\n    return a + b"}
    trainer = sft.make_trainer(recipe, sft_rows(alpaca_messages(row)), str(bundled_model), tok,
                               make_trl_config(recipe, tmp_path))
    ex = trainer.train_dataset[0]
    # TRL 1.16 folds the completion mask into a "labels" column (-100 outside the completion)
    trained = [i for i, lab in zip(ex["input_ids"], ex["labels"]) if lab != -100]
    assert tok.decode(trained) == row["output"] + "<|im_end|>\n"  # the answer and the end-of-turn token
    assert tok.decode(ex["input_ids"]) == tok.apply_chat_template(
        alpaca_messages(row), tokenize=False)  # the model's own chat template, system prompt included
    batch = trainer.data_collator([ex])
    labels = batch["labels"][0].tolist()
    assert [i for i, lab in zip(ex["input_ids"], labels) if lab != -100] == trained


def test_dpo_runs_and_logs_preference_metrics(tmp_path, data_dir, bundled_model):
    out = tmp_path / "dpo"
    proc = run_cli("train-dpo", "--recipe", "training/dpo_hh_rlhf.yaml", "-o", str(out), "--max-steps", "2",
                   "--no-decontam", *TINY, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    logged = [e for e in _log(out) if "rewards/margins" in e]
    assert len(logged) == 2 and all("rewards/accuracies" in e for e in logged)
    assert (out / "config.json").is_file()


def test_rlvr_runs_with_verifier_rewards(tmp_path, data_dir, bundled_model):
    out = tmp_path / "rlvr"
    proc = run_cli("train-rlvr", "--recipe", "training/rlvr_gsm8k.yaml", "-o", str(out), "--max-steps", "2",
                   "--no-decontam", "--limit", "8", "--set", "trl.per_device_train_batch_size=4",
                   "--set", "trl.num_generations=2", "--set", "trl.max_completion_length=24",
                   "--set", "trl.save_steps=1", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rollouts = [json.loads(line) for line in (out / "rollouts.jsonl").open()]
    assert len(rollouts) == 2 * 4
    assert all(r["verifier"] == "gsm8k" and r["reward"] in (0.0, 10.0) for r in rollouts)
    logged = [e for e in _log(out) if "rewards/gsm8k/mean" in e]
    assert len(logged) == 2
    for entry in logged:  # the logged mean is the mean of that step's rollout rewards
        mine = [r["reward"] for r in rollouts if r["step"] == entry["step"] - 1]
        assert entry["rewards/gsm8k/mean"] == pytest.approx(sum(mine) / len(mine))


def test_trained_folder_evaluates_with_run(sft_out, tmp_path):
    run_dir = tmp_path / "eval"
    proc = run_cli("run", "--model", str(sft_out), "--tasks", "gsm8k", "--limit", "2", "--backend", "hf",
                   "--max-tokens", "16", "-o", str(run_dir), "--no-report", timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"]["path"] == str(sft_out.resolve()) and results["model"]["kind"] == "local"
    assert "gsm8k" in results["tasks"]


@pytest.mark.slow
def test_accelerate_two_cpu_processes(tmp_path, data_dir, bundled_model):
    """A real two-process job (gloo): each process trains on its shard, gradients are all-reduced."""
    import subprocess

    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", "training/accelerate_cpu.yaml",
           "-m", "tulu_eval.cli", "train-sft", "--recipe", "training/sft_codealpaca.yaml", "-o", str(out),
           "--max-steps", "3", "--no-decontam", *TINY]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["steps"] == 3
    state = json.loads((out / "checkpoint-3" / "trainer_state.json").read_text())
    # 2 processes x 2 rows per device: each optimizer step saw 4 rows
    assert state["train_batch_size"] == 2 and summary["world_size"] == 2
    assert (out / "model.safetensors").is_file()
