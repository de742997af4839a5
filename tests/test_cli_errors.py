"""Errors a user can cause: one line on stderr, exit status 2, nothing written."""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import run_cli


def _one_line_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("tulu-eval: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_unknown_task_and_suite_list_known_names(tmp_path):
    _one_line_error(run_cli("run", "--tasks", "gsm9k", "-o", str(tmp_path / "r")), "unknown task 'gsm9k'", "gsm8k")
    _one_line_error(run_cli("run", "--suite", "devv", "-o", str(tmp_path / "r")), "unknown suite 'devv'", "dev, unseen")
    assert not (tmp_path / "r").exists()


def test_missing_data_dir_and_missing_file(tmp_path):
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--data-dir", str(tmp_path / "nope")), "does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--data-dir", str(empty)),
                    "missing data file gsm8k/test.jsonl", str(empty))


def test_malformed_jsonl_row_names_file_and_line(tmp_path, data_dir):
    bad = tmp_path / "data" / "gsm8k"
    bad.mkdir(parents=True)
    lines = (data_dir / "gsm8k" / "test.jsonl").read_text().splitlines()[:3]
    lines.insert(2, '{"question": "broken",')
    (bad / "test.jsonl").write_text("\n".join(lines) + "\n")
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--data-dir", str(tmp_path / "data")),
                    f"{bad / 'test.jsonl'}:3: malformed JSONL row")


def test_unloadable_models(tmp_path, data_dir):
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--limit", "1", "--model", str(tmp_path / "none")), "no such folder")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "llama"}))
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--limit", "1", "--backend", "hf", "--model", str(broken),
                            "--no-cache", "-o", str(tmp_path / "r")), "cannot load")
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--limit", "1", "--backend", "hf", "--model", str(tmp_path)),
                    "no config.json")


def test_unreachable_server(data_dir, tmp_path):
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--limit", "1", "--model", "openai:smol",
                            "--base-url", "http://127.0.0.1:9/v1", "-o", str(tmp_path / "r")), "unreachable")
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--model", "openai:smol"), "needs --base-url")


def test_bad_model_args_and_score_on_a_non_run(tmp_path):
    _one_line_error(run_cli("run", "--tasks", "gsm8k", "--model-args", "dtype"), "expected key=value")
    _one_line_error(run_cli("score", str(tmp_path)), "not a run folder")


@pytest.mark.skipif(shutil.which("tulu-eval") is None, reason="entry point not installed")
def test_help_explains_commands():
    import subprocess

    out = subprocess.run(["tulu-eval", "run", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for flag in ("--suite", "--tasks", "--limit", "--model", "--backend", "--output-dir", "--data-dir",
                 "--include-path", "--max-tokens"):
        assert flag in out.stdout


def test_bundled_is_the_default_model_by_name(bundled_model):
    """`--model bundled`, the word the training recipes use, is the bundled model (it had been looked up on the
    hub: five retries of a network call, then an error)."""
    from tulu_eval.models import resolve_model

    assert resolve_model("bundled") == resolve_model(None) == resolve_model("smollm2")
