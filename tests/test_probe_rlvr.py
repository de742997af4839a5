"""``tulu-eval probe-rlvr``: the reward signal of an RLVR recipe measured before training."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tulu_eval.errors import UserError
from tulu_eval.train.data import load, row_key
from tulu_eval.train.probe import format_summary, learnable_keys, summarize
from tulu_eval.train.recipe import load_recipe
from tulu_eval.verifiers import get_verifier


def test_summary_counts_groups_with_a_gradient():
    samples = [{"prompt": 0, "verifier": "ifeval", "reward": r, "cut": False, "instructions": None} for r in (0, 10)]
    samples += [{"prompt": 1, "verifier": "ifeval", "reward": 0.0, "cut": c, "instructions": None} for c in (False, True)]
    samples += [{"prompt": 2, "verifier": "gsm8k", "reward": 10.0, "cut": False} for _ in range(2)]
    res = summarize(samples, group=2, scale=10.0)
    assert res["groups_with_gradient"] == 1 / 3  # only prompt 0's group has reward variance
    assert res["rewarded_share"] == 3 / 6 and res["cut_share"] == 1 / 6
    assert res["per_verifier"]["gsm8k"]["mean_reward"] == 10.0
    assert "groups with reward variance (a gradient) 33.3%" in format_summary(res)


def test_probe_on_the_bundled_model(tmp_path, data_dir, bundled_model):
    """A real probe (transformers, 2 prompts x 2 samples, 24 tokens): each sample's reward is 10 x the eval
    verifier's verdict on its text, or the non-stop penalty (0) when the sample was cut."""
    out = tmp_path / "probe.json"
    res = run_cli("probe-rlvr", "--recipe", "training/rlvr_ifeval.yaml", "--prompts", "2", "--backend", "hf",
                  "--set", "trl.num_generations=2", "--set", "trl.max_completion_length=24", "-o", str(out),
                  "--keep-learnable", str(tmp_path / "keep.json"))
    assert res.returncode == 0, res.stderr[-3000:]
    assert "2 prompts x 2 samples" in res.stdout and "instruction type" in res.stdout
    data = json.loads(out.read_text())
    assert len(data["samples"]) == 4 and data["settings"]["max_tokens"] == 24
    for s in data["samples"]:
        if s["cut"]:
            assert s["reward"] == 0.0
        else:
            assert s["reward"] == 10 * get_verifier("ifeval").verify(s["completion"], json.loads(s["ground_truth"])).score
    keep = json.loads((tmp_path / "keep.json").read_text())
    assert keep["probed"] == 2 and keep["keys"] == learnable_keys(data["samples"])
    assert f"{len(keep['keys'])} of 2 prompts with reward variance" in res.stdout


def test_learnable_keys_are_the_groups_with_reward_variance():
    samples = [{"key": "a", "reward": r} for r in (0.0, 10.0)] + [{"key": "b", "reward": 0.0} for _ in range(2)]
    samples += [{"key": "c", "reward": 10.0} for _ in range(2)]
    assert learnable_keys(samples) == ["a"]  # all wrong (b) or all right (c): no gradient


def test_data_keep_trains_on_the_listed_rows_only(tmp_path, data_dir):
    recipe = load_recipe("training/rlvr_ifeval.yaml", "rlvr", {"data.limit": 5})
    rows, _ = load(recipe.data, "rlvr")
    (tmp_path / "keep.json").write_text(json.dumps({"keys": [row_key(rows[1]), row_key(rows[3])]}))
    kept, summary = load(load_recipe("training/rlvr_ifeval.yaml", "rlvr", {"data.keep": str(tmp_path / "keep.json")}).data,
                         "rlvr")
    assert kept == [rows[1], rows[3]] and summary["examples"] == 2 and summary["not_kept"] == 2015
    (tmp_path / "none.json").write_text(json.dumps({"keys": ["0000"]}))
    with pytest.raises(UserError, match="not in data.keep"):
        load(load_recipe("training/rlvr_ifeval.yaml", "rlvr", {"data.keep": str(tmp_path / "none.json")}).data, "rlvr")
    with pytest.raises(UserError, match="data.keep .*missing.json: no such file"):
        load(load_recipe("training/rlvr_ifeval.yaml", "rlvr", {"data.keep": str(tmp_path / "missing.json")}).data, "rlvr")
