"""``--data-parallel N``: vLLM engine replicas as Ray actors (tulu_eval/backends/ray_dp.py).

Fast tests: the placement of replicas (CPU core groups, GPU accounting), the one-line errors, and
that the cache identity is the single engine's. Slow tests (a local Ray cluster with 2 replicas of the
bundled model, one core each): outputs, run folder and cache equal to one engine's on a real task
mix; a replica killed mid-run, and the run still finishes with identical results.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tulu_eval.backends import make_backend
from tulu_eval.backends.ray_dp import cpu_groups, replica_options
from tulu_eval.errors import UserError
from tulu_eval.models import resolve_model


def test_cpu_cores_are_split_into_pinned_groups():
    assert cpu_groups(2, [0, 1]) == [[0], [1]]
    assert cpu_groups(2, [0, 1, 2, 3, 4]) == [[0, 1], [2, 3]]  # equal shares; the odd core is left out
    opts = replica_options(1, 2, on_gpu=False, cores=[0, 1, 2, 3])
    assert opts["num_cpus"] == 2 and opts["runtime_env"]["env_vars"]["VLLM_CPU_OMP_THREADS_BIND"] == "2,3"
    with pytest.raises(UserError, match="3 cores"):
        cpu_groups(4, [0, 1, 2])


def test_gpu_replicas_ask_ray_for_their_gpus():
    """The GPU path (N GPUs -> N replicas; tensor parallel inside one) as Ray sees it."""
    assert replica_options(0, 4, on_gpu=True, tensor_parallel_size=2) == {"num_gpus": 2, "num_cpus": 1}
    assert "runtime_env" not in replica_options(3, 8, on_gpu=True)  # no core pinning on GPU machines


def test_cache_identity_is_the_single_engines(bundled_model):
    spec = resolve_model(None)
    one = make_backend("vllm", spec)
    dp = make_backend("vllm", spec, data_parallel=2)
    assert dp.identity() == {**one.identity(), "gpu_memory_utilization": 0.15}  # the KV share is per replica
    dp_same = make_backend("vllm", spec, data_parallel=2, gpu_memory_utilization=0.3)
    assert dp_same.identity() == make_backend("vllm", spec, gpu_memory_utilization=0.3).identity()
    assert dp.config()["data_parallel"] == 2  # recorded in results.json, not in the cache key
    req_text = "hello"
    from tulu_eval.api.request import GenSettings, Request
    req = Request(messages=[{"role": "user", "content": req_text}], text=req_text, settings=GenSettings())
    assert dp.render(req) == one.render(req)


def test_errors_are_one_line(tmp_path, bundled_model, data_dir):
    res = run_cli("run", "--tasks", "gsm8k", "--limit", "1", "--backend", "hf", "--data-parallel", "2",
                  "-o", str(tmp_path / "r"))
    assert res.returncode == 2 and "--backend vllm" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_without_ray_the_flag_says_how_to_install(monkeypatch, bundled_model):
    from tulu_eval.backends import ray_dp

    monkeypatch.setattr(ray_dp, "ray_available", lambda: False)
    with pytest.raises(UserError, match=r"pip install 'tulu-eval\[ray\]'"):
        make_backend("vllm", resolve_model(None), data_parallel=2)


# the same engine options for one engine and for the replicas (the KV-cache share is part of the cache key;
# replicas default to 0.3 / N each on CPU), so both runs have the same cache keys
MIX = ["--tasks", "gsm8k,ifeval,minerva_math_500,truthfulqa", "--limit", "4", "--max-tokens", "96", "--no-report",
       "--model-args", "gpu_memory_utilization=0.15"]


def _cache_rows(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("select key, value from generations"))


def _predictions(run: Path) -> dict[str, list]:
    return {p.name: [{k: v for k, v in json.loads(line).items()} for line in p.open()]
            for p in sorted((run / "predictions").glob("*.jsonl"))}


def _results(run: Path) -> dict:
    res = json.loads((run / "results.json").read_text())
    return {name: t["metrics"] if "metrics" in t else t for name, t in res["tasks"].items()}


@pytest.fixture(scope="module")
def single_engine(tmp_path_factory, bundled_model, data_dir):
    tmp = tmp_path_factory.mktemp("single")
    res = run_cli("run", *MIX, "--backend", "vllm", "--cache", str(tmp / "c.sqlite"), "-o", str(tmp / "run"))
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp


@pytest.mark.slow  # two vLLM replica starts + one single engine: ~4 min here
def test_two_replicas_equal_one_engine(single_engine, tmp_path):
    res = run_cli("run", *MIX, "--backend", "vllm", "--data-parallel", "2", "--cache", str(tmp_path / "c.sqlite"),
                  "-o", str(tmp_path / "run"))
    assert res.returncode == 0, res.stderr[-3000:]
    assert _predictions(tmp_path / "run") == _predictions(single_engine / "run")
    assert _results(tmp_path / "run") == _results(single_engine / "run")
    assert _cache_rows(tmp_path / "c.sqlite") == _cache_rows(single_engine / "c.sqlite")
    log = (tmp_path / "run" / "engine.log").read_text()
    assert "VLLM_CPU_OMP_THREADS_BIND" not in res.stderr  # the terminal stays quiet; Ray's lines are in the log
    assert json.loads((tmp_path / "run" / "results.json").read_text())["backend"]["data_parallel"] == 2
    assert log


@pytest.mark.slow
def test_a_replica_killed_mid_run_loses_nothing(single_engine, tmp_path):
    cache = tmp_path / "c.sqlite"
    cmd = [sys.executable, "-m", "tulu_eval.cli", "run", *MIX, "--backend", "vllm", "--data-parallel", "2",
           "--cache", str(cache), "-o", str(tmp_path / "run")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = []

    def kill_one_replica_after_first_outputs():
        while proc.poll() is None and not killed:
            try:
                n = len(_cache_rows(cache)) if cache.exists() else 0
            except sqlite3.Error:
                n = 0
            if n >= 1:  # a replica has delivered: kill the other one's whole actor process
                ps = subprocess.run(["pgrep", "-f", "ray::Replica"], capture_output=True, text=True).stdout.split()
                if ps:
                    os.kill(int(ps[-1]), signal.SIGKILL)
                    killed.append(int(ps[-1]))
                    return
            time.sleep(0.2)

    watcher = threading.Thread(target=kill_one_replica_after_first_outputs)
    watcher.start()
    out, err = proc.communicate(timeout=1800)
    watcher.join()
    assert killed, "no replica was seen running"
    assert proc.returncode == 0, err[-3000:]
    assert _predictions(tmp_path / "run") == _predictions(single_engine / "run")
    assert _cache_rows(cache) == _cache_rows(single_engine / "c.sqlite")
