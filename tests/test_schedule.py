"""One schedule (issue 14): every request handed to the engine at once, outputs cached as they arrive,
longest expected work first; and a quiet terminal (engine output in <run folder>/engine.log).

The streaming and stop tests use the real bundled model on the transformers backend (a vLLM engine
start is a minute here); ``tests/test_backends.py::test_vllm_matches_transformers_greedy_fp32`` (slow)
runs the same runner path on vLLM's streaming and must still match transformers token for token.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tulu_eval.api.request import GenSettings, Instance, Request
from tulu_eval.backends import make_backend
from tulu_eval.engine import generate as runner
from tulu_eval.engine.cache import GenerationCache
from tulu_eval.models import fingerprint, resolve_model
from tulu_eval.procs import Interrupted
from tulu_eval.registry import Registry


def _instances(data_dir: Path, n: int = 4, max_tokens: int = 6) -> list[Instance]:
    task = Registry().get("gsm8k")
    insts = task.instances(task.load_docs(data_dir)[:n])
    return [replace(i, request=replace(i.request, settings=replace(i.request.settings, max_tokens=max_tokens)))
            for i in insts]


def test_expected_work_orders_requests():
    def inst(task, max_tokens, n=1):
        return Instance(task=task, id="x", doc={}, gold=None,
                        request=Request(messages=[], text="p", settings=GenSettings(max_tokens=max_tokens, n=n)))

    typical = {"ifeval": 300.0}
    assert runner.expected_tokens(inst("ifeval", 2048), typical) == 300  # learned length below the budget
    assert runner.expected_tokens(inst("ifeval", 100), typical) == 100   # never above the budget
    assert runner.expected_tokens(inst("gsm8k", 512), typical) == 512    # nothing learned: the budget
    assert runner.expected_tokens(inst("gsm8k", 512, n=10), typical) == 5120


def test_typical_lengths_are_running_means(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "cache_dir", lambda: tmp_path)
    assert runner.typical_lengths() == {}
    runner.record_typical_lengths({"gsm8k": [10, 20]})
    runner.record_typical_lengths({"gsm8k": [30], "ifeval": [100]})
    assert runner.typical_lengths() == {"gsm8k": 20.0, "ifeval": 100.0}
    (tmp_path / "typical_lengths.json").write_text("not json")
    assert runner.typical_lengths() == {}  # a broken file changes only the order, never fails a run


class _StopAfter:
    """The real transformers backend, stopped (as SIGTERM does: Interrupted) after ``k`` outputs."""

    def __init__(self, backend, k: int):
        self.backend, self.k, self.delivered = backend, k, 0

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def stream(self, requests, prompts, pairs):
        for item in self.backend.stream(requests, prompts, pairs):
            if self.delivered == self.k:
                raise Interrupted(15)
            self.delivered += 1
            yield item


def test_outputs_are_cached_as_they_arrive_and_a_stop_keeps_them(tmp_path, bundled_model, data_dir):
    spec = resolve_model(None)
    backend = make_backend("hf", spec, batch_size=1)  # one request per generate call: outputs arrive one by one
    backend.chunk_size = 1
    fp = fingerprint(spec)
    insts = _instances(data_dir)
    cache = GenerationCache(tmp_path / "c.sqlite")
    with pytest.raises(Interrupted) as stop:
        runner.generate_all(_StopAfter(backend, 3), insts, fp, cache, progress=False)
    assert stop.value.progress == (3, 4)  # the three outputs delivered before the stop are cached
    cache.close()
    cache = GenerationCache(tmp_path / "c.sqlite")
    _, outputs, stats = runner.generate_all(backend, insts, fp, cache, progress=False)
    assert stats["cached"] == 3 and stats["generated"] == 1  # the rerun generates only the missing one
    cache.close()
    _, alone, _ = runner.generate_all(backend, insts, fp, None, progress=False)
    assert [o.texts for o in outputs] == [o.texts for o in alone]


def test_quiet_terminal_and_engine_log(tmp_path, bundled_model, data_dir):
    args = ["run", "--tasks", "gsm8k", "--limit", "2", "--backend", "hf", "--max-tokens", "8", "--no-report",
            "--no-cache"]
    quiet = run_cli(*args, "-o", str(tmp_path / "quiet"))
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    log = (tmp_path / "quiet" / "engine.log").read_text()
    assert "Loading weights" in log  # what transformers prints while loading went to the log ...
    assert "Loading weights" not in quiet.stderr  # ... not to the terminal, which has the progress line
    assert "generating" in quiet.stderr and "gsm8k" in quiet.stdout
    loud = run_cli(*args, "-v", "-o", str(tmp_path / "loud"))
    assert loud.returncode == 0 and "Loading weights" in loud.stderr
    assert not (tmp_path / "loud" / "engine.log").exists()
    a = [json.loads(x)["output"] for x in (tmp_path / "quiet" / "predictions" / "gsm8k.jsonl").open()]
    b = [json.loads(x)["output"] for x in (tmp_path / "loud" / "predictions" / "gsm8k.jsonl").open()]
    assert a == b
