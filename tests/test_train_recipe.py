"""Recipes, data conversion and one-line errors of the trainers, all before any model is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import REPO, run_cli
from tulu_eval.cli import main
from tulu_eval.errors import UserError
from tulu_eval.train import data as train_data
from tulu_eval.train import run as train_run
from tulu_eval.train.recipe import DataSpec, load_recipe, make_trl_config

# training recipes (a `trainer:` key); pipeline files (`stages:`, e.g. tulu3_mini.yaml) are tested in test_pipeline.py
RECIPES = sorted(p for p in (REPO / "training").glob("*.yaml") if "stages" not in (yaml.safe_load(p.read_text()) or {}))
KIND = {"sft": "sft", "dpo": "dpo", "rlvr": "rlvr"}


def _kind(path: Path) -> str:
    return yaml.safe_load(path.read_text())["trainer"]


@pytest.mark.parametrize("path", [p for p in RECIPES if not p.name.startswith("accelerate_")], ids=lambda p: p.name)
def test_shipped_recipes_build_their_trl_config(path, tmp_path):
    recipe = load_recipe(path, _kind(path))
    if path.stem.endswith("_gpu"):
        import torch
        if not torch.cuda.is_available():
            pytest.skip("a GPU recipe (bf16, vLLM): TRL refuses its config without a GPU; its keys were checked")
    config = make_trl_config(recipe, tmp_path)
    raw = yaml.safe_load(path.read_text())
    for key, value in raw["trl"].items():  # every value of the file reaches TRL (aliases mapped)
        got = getattr(config, key)
        if key == "loss_type" and recipe.trainer == "dpo":
            assert got == ["sigmoid_norm"] and value == "dpo_norm"
        elif key == "report_to":
            assert got in ([], "none", ["none"])
        elif isinstance(value, float):
            assert got == pytest.approx(value)
        else:
            assert got == value, key


def test_deepspeed_and_accelerate_configs_are_valid():
    for name in ("deepspeed_zero2.json", "deepspeed_zero3.json"):
        cfg = json.loads((REPO / "training" / name).read_text())
        assert cfg["zero_optimization"]["stage"] == int(name[-6])
    for path in (REPO / "training").glob("accelerate_*.yaml"):
        cfg = yaml.safe_load(path.read_text())
        assert cfg["distributed_type"] in ("MULTI_CPU", "MULTI_GPU", "DEEPSPEED")
        if cfg["distributed_type"] == "DEEPSPEED":
            assert (REPO / cfg["deepspeed_config"]["deepspeed_config_file"]).is_file()


def test_overrides_and_number_spelling(tmp_path):
    src = tmp_path / "r.yaml"
    src.write_text((REPO / "training/sft_codealpaca.yaml").read_text().replace("2.0e-5", "2e-5"))
    recipe = load_recipe(src, "sft", {"trl.max_steps": 3, "trl.learning_rate": "1e-4", "data.limit": 7,
                                      "model": "/some/folder", "output_dir": str(tmp_path / "o")})
    assert recipe.trl["max_steps"] == 3 and recipe.trl["learning_rate"] == 1e-4
    assert recipe.data.limit == 7 and recipe.model == "/some/folder"
    assert load_recipe(src, "sft").trl["learning_rate"] == 2e-5  # YAML 1.1 reads 2e-5 as a string


@pytest.fixture
def no_model(monkeypatch):
    """Fail if anything tries to resolve or load a model."""
    def boom(*a, **k):
        raise AssertionError("a model was loaded before the error")
    monkeypatch.setattr(train_run, "resolve_model_path", boom)
    import transformers
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", boom)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", boom)


def _write_recipe(tmp_path, base: str, edit) -> Path:
    raw = yaml.safe_load((REPO / "training" / base).read_text())
    raw["output_dir"] = str(tmp_path / "out")
    edit(raw)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _cli_error(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("tulu-eval: error: "), result.output
    return lines[0]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("cmd,base,edit,expect", [
    ("train-sft", "sft_codealpaca.yaml", lambda r: r.update(lr=1), "unknown key 'lr'"),
    ("train-sft", "sft_codealpaca.yaml", lambda r: r["trl"].update(learning_rat=1e-5),
     "trl.learning_rat is not a field of TRL's SFTConfig"),
    ("train-sft", "sft_codealpaca.yaml", lambda r: r["data"].update(fomat="alpaca"), "unknown key data.'fomat'"),
    ("train-dpo", "sft_codealpaca.yaml", lambda r: None, "is a sft recipe; use tulu-eval train-sft"),
    ("train-dpo", "dpo_hh_rlhf.yaml", lambda r: r["trl"].update(loss_type="dpo_normalized"),
     "trl.loss_type 'dpo_normalized' is not a DPO loss"),
    ("train-dpo", "dpo_hh_rlhf.yaml", lambda r: r.update(reward={"scale": 1}), "unknown key 'reward'"),
    ("train-rlvr", "rlvr_gsm8k.yaml", lambda r: r["trl"].update(num_generations=3),
     "TRL rejects the trl section"),
    ("train-sft", "sft_codealpaca.yaml", lambda r: r["data"].update(format="hh_rlhf"),
     "data.format 'hh_rlhf' is not for train-sft"),
])
def test_bad_recipes_fail_in_one_line_before_the_model(tmp_path, no_model, cmd, base, edit, expect):
    recipe = _write_recipe(tmp_path, base, edit)
    line = _cli_error([cmd, "--recipe", str(recipe), "--no-decontam"])
    assert expect in line
    assert not (tmp_path / "out").exists()


def test_missing_column_and_unknown_verifier(tmp_path, no_model):
    bad_sft = _jsonl(tmp_path / "sft.jsonl", [{"messages": [{"role": "user", "content": "hi"},
                                                            {"role": "assistant", "content": "hello"}]},
                                              {"conversation": []}])
    recipe = _write_recipe(tmp_path, "sft_codealpaca.yaml", lambda r: r["data"].update(path=str(bad_sft),
                                                                                        format="messages"))
    line = _cli_error(["train-sft", "--recipe", str(recipe), "--no-decontam"])
    assert "sft.jsonl: row 2: missing column 'messages' (has: conversation)" in line

    alpaca = tmp_path / "alpaca.json"
    alpaca.write_text(json.dumps([{"instruction": "Say hi", "input": ""}]))
    line = _cli_error(["train-sft", "--recipe", str(recipe), "--data", str(alpaca), "--data-format", "alpaca"])
    assert "row 1: missing column 'output'" in line

    rl = _jsonl(tmp_path / "rl.jsonl", [{"messages": [{"role": "user", "content": "1+1?"}], "ground_truth": "2",
                                         "verifier": "gsm8k"},
                                        {"messages": [{"role": "user", "content": "2+2?"}], "ground_truth": "4",
                                         "verifier": "gsm8k_v2"}])
    recipe = _write_recipe(tmp_path, "rlvr_gsm8k.yaml", lambda r: r["data"].update(path=str(rl), format="rlvr"))
    line = _cli_error(["train-rlvr", "--recipe", str(recipe), "--no-decontam"])
    assert "row 2: unknown verifier 'gsm8k_v2'" in line and "gsm8k" in line

    no_truth = _jsonl(tmp_path / "rl2.jsonl", [{"messages": [{"role": "user", "content": "1+1?"}], "verifier": "x"}])
    line = _cli_error(["train-rlvr", "--recipe", str(recipe), "--data", str(no_truth), "--no-decontam"])
    assert "row 1: missing column 'ground_truth'" in line

    line = _cli_error(["train-rlvr", "--recipe", str(recipe), "--data", "nowhere/none.jsonl"])
    assert "data file nowhere/none.jsonl not found" in line
    line = _cli_error(["train-rlvr", "--recipe", str(tmp_path / "nope.yaml")])
    assert "--recipe" in line and "no such file" in line


def test_error_exit_status_from_the_real_entry_point(tmp_path):
    recipe = _write_recipe(tmp_path, "dpo_hh_rlhf.yaml", lambda r: r["trl"].update(betta=0.1))
    proc = run_cli("train-dpo", "--recipe", str(recipe), "--no-decontam", timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == \
        f"tulu-eval: error: {recipe.name}: trl.betta is not a field of TRL's DPOConfig"


def test_existing_checkpoints_need_resume_or_overwrite(tmp_path):
    out = tmp_path / "out"
    (out / "checkpoint-5").mkdir(parents=True)
    (out / "checkpoint-10").mkdir()
    with pytest.raises(UserError, match="already has checkpoint-10; pass --resume"):
        train_run.prepare_output(out, train_run.Options())
    assert train_run.prepare_output(out, train_run.Options(resume=True)) == out / "checkpoint-10"
    assert train_run.prepare_output(out, train_run.Options(overwrite=True)) is None
    assert not list(out.glob("checkpoint-*"))


def test_resume_from_a_checkpoint_at_max_steps(tmp_path):
    """transformers 5 trains one step past max_steps when resumed from a checkpoint already there (seen: a run
    stopped at checkpoint-18, resumed with --max-steps 18, ended at step 19). A finished run there is refused
    with what to do; an unfinished one (stopped before its final save) gets its checkpoint back, which train()
    only saves (tests/test_train_run.py)."""
    out = tmp_path / "out"
    (out / "checkpoint-18").mkdir(parents=True)
    (out / "checkpoint-18" / "trainer_state.json").write_text(json.dumps({"global_step": 18}))
    assert train_run.checkpoint_step(out / "checkpoint-18") == 18
    assert train_run.prepare_output(out, train_run.Options(resume=True), max_steps=18) == out / "checkpoint-18"
    (out / "train_summary.json").write_text("{}")
    with pytest.raises(UserError, match="checkpoint-18 is at step 18, the run's max_steps is 18: nothing to train"):
        train_run.prepare_output(out, train_run.Options(resume=True), max_steps=18)
    assert train_run.prepare_output(out, train_run.Options(resume=True), max_steps=19) == out / "checkpoint-18"
    assert train_run.prepare_output(out, train_run.Options(resume=True)) == out / "checkpoint-18"  # epochs decide


# --- converters on real rows ----------------------------------------------------------------------
def test_hh_rlhf_rows_become_preference_pairs(data_dir):
    rows, summary = train_data.load(DataSpec("hh_rlhf/harmless-base/test.jsonl", "hh_rlhf"), "dpo")
    raw = [json.loads(line) for line in (data_dir / "hh_rlhf/harmless-base/test.jsonl").open()]
    assert summary["rows_read"] == len(raw) == 2312
    assert summary["examples"] + summary["skipped"] == 2312 and summary["skipped"] < 20
    for row in rows[:200]:
        assert row["prompt"][0]["role"] == "user" and row["prompt"][-1]["role"] == "user"
        roles = [m["role"] for m in row["prompt"]]
        assert all(a != b for a, b in zip(roles, roles[1:]))  # turns alternate
        assert row["chosen"][0]["content"] != row["rejected"][0]["content"]
    # the first raw row, by hand: the prompt is every turn before the last "Assistant:"
    first = raw[0]
    pair = train_data.hh_rlhf_pair(first)
    cut = first["chosen"].rfind("\n\nAssistant: ")
    assert first["chosen"][cut + len("\n\nAssistant: "):].strip() == pair["chosen"][0]["content"]
    assert first["chosen"][:cut].count("\n\nHuman: ") == sum(m["role"] == "user" for m in pair["prompt"])


def test_alpaca_and_multi_turn_messages():
    rows = train_data.sft_rows(train_data.alpaca_messages({"instruction": "Add.", "input": "1 and 2", "output": "3"}))
    assert rows == [{"prompt": [{"role": "user", "content": "Add.\n\n1 and 2"}],
                     "completion": [{"role": "assistant", "content": "3"}]}]
    convo = [{"role": "system", "content": "S"}, {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
             {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]
    rows = train_data.sft_rows(convo)
    assert [r["completion"][0]["content"] for r in rows] == ["b", "d"]
    assert rows[1]["prompt"] == convo[:4]
    pair = train_data.preference_pair({"chosen": convo, "rejected": convo[:4] + [{"role": "assistant", "content": "x"}]})
    assert pair == {"prompt": convo[:4], "chosen": [convo[4]], "rejected": [{"role": "assistant", "content": "x"}]}


def test_build_rlvr_data_command(tmp_path, data_dir):
    out = tmp_path / "mix.jsonl"
    result = CliRunner().invoke(main, ["build-rlvr-data", "-o", str(out), "--gsm8k", "5", "--math", "4",
                                       "--ifeval", "3", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "wrote 12 rows" in result.output and "gsm8k 5, ifeval 3, math 4" in result.output
    rows = [json.loads(line) for line in out.open()]
    assert sorted(r["verifier"] for r in rows) == ["gsm8k"] * 5 + ["ifeval"] * 3 + ["math"] * 4
    loaded, summary = train_data.load(DataSpec(str(out), "rlvr"), "rlvr")  # the trainer reads it as written
    assert summary["examples"] == 12 and all(isinstance(r["ground_truth"], str) for r in loaded)
    assert "nothing to build" in _cli_error(["build-rlvr-data", "-o", str(out)])
