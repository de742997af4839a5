"""Reasoning mode end to end on the real bundled model, with a chat template that opens the trace.

SmolLM2-135M-Instruct has no thinking template; ``think_model`` is the same checkpoint (weights
linked, not copied) whose chat template ends the generation prompt with ``<think>\\n``, as the
templates of Qwen3 (thinking on) and the DeepSeek-R1 distills do. The run goes through the CLI:
the trace pass with its own budget, the answer pass where a trace closed, scoring on the answer
only, ``termination_rate`` in results.json, the table and the report; ``score`` re-scores the
saved outputs with and without the flag.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def think_model(bundled_model, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("smollm2_think")
    for item in bundled_model.iterdir():
        if item.is_file() and item.name != "chat_template.jinja":
            os.symlink(item, folder / item.name)
    template = (bundled_model / "chat_template.jinja").read_text(encoding="utf-8")
    opening = "{{ '<|im_start|>assistant\n' }}"
    assert opening in template
    (folder / "chat_template.jinja").write_text(template.replace(opening, "{{ '<|im_start|>assistant\n<think>\n' }}"),
                                               encoding="utf-8")
    return folder


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_reasoning_run_reports_termination_rate(think_model, tmp_path, data_dir):
    out = tmp_path / "run"
    args = ["run", "--model", str(think_model), "--backend", "hf", "--tasks", "popqa,gsm8k", "--limit", "3",
            "--reasoning", "--reasoning-max-tokens", "24", "--max-tokens", "16", "-o", str(out),
            "--cache", str(tmp_path / "c.sqlite"), "--data-dir", str(data_dir)]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "results.json").read_text())
    assert result["reasoning"] == {"open_tag": "<think>", "close_tag": "</think>", "trace_max_tokens": 24}
    for task in ("popqa", "gsm8k"):
        rows = _rows(out / "predictions" / f"{task}.jsonl")
        # the template opened the trace (GSM8K's assistant prefix "Answer:" follows it)
        assert all(r["prompt"].rfind("<think>\n") > r["prompt"].rfind("<|im_start|>assistant") for r in rows)
        closed = [("</think>" in r["output"]) for r in rows]
        assert [r["trace_terminated"] for r in rows] == closed
        rate = result["tasks"][task]["metrics"]["termination_rate"]
        assert rate["value"] == pytest.approx(sum(closed) / len(rows)) and rate["n"] == 3
        for r in rows:
            if not r["trace_terminated"]:  # budget spent inside the trace: a failed answer, raw text kept
                assert r["answer"] == "" and r["verdict"] in (0, 0.0, False) and r["output"].strip()
                assert 0 < r["num_tokens"] <= 24  # budget spent, or the model stopped inside the trace
    assert "termination_rate" in proc.stdout
    assert "termination_rate" in (out / "report.html").read_text(encoding="utf-8")
    # re-scoring keeps the recorded mode; --no-reasoning scores the raw outputs instead
    again = run_cli("score", str(out))
    assert again.returncode == 0 and "termination_rate" in again.stdout
    raw = run_cli("score", str(out), "--no-reasoning")
    assert raw.returncode == 0 and "termination_rate" not in raw.stdout
    assert "reasoning" not in json.loads((out / "results.json").read_text())
