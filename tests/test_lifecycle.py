"""A stopped harness leaves nothing behind (issue 18): no process it started outlives it, no
half-written run folder, and nothing is ever written into the data folder.

Processes are followed by process tree (pid + start time, so a reused pid never counts) and by
session, never by name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tulu_eval import procs
from tulu_eval.data import deepmind_math as gen

from .conftest import REPO

# A guarded process with the kinds of children the harness has: forked from the main thread (as
# vLLM forks EngineCore), exec'd from a thread that has ended (only the watcher covers it), and an
# exec'd one that ignores SIGTERM (as the orphaned EngineCore did).
CHILD = r"""
import multiprocessing as mp, signal, subprocess, sys, threading, time
from tulu_eval import procs

def sleeper():
    time.sleep(600)

if __name__ == "__main__":
    procs.guard()
    mp.get_context("fork").Process(target=sleeper).start()
    t = threading.Thread(target=lambda: subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]))
    t.start(); t.join()
    subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                      "print('x', flush=True); time.sleep(600)"], stdout=subprocess.PIPE, **procs.child_kwargs()).stdout.readline()
    print("ready", flush=True)
    try:
        time.sleep(600)
    except procs.Interrupted as exc:
        procs.reap_children()
        print(exc.line())
        sys.exit(exc.exit_code)
"""


def _session(sid: int) -> list[int]:
    """Living processes (zombies aside) of session ``sid``."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                rest = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(rest[4]) == sid and rest[0] != "Z":
                found.append(int(entry.name))
    return found


def _alive(seen: dict[int, int]) -> list[int]:
    return [p for p, start in seen.items() if procs.start_time(p) == start and _session_state(p) != "Z"]


def _session_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _gone_within(proc: subprocess.Popen, seen: dict[int, int], limit: float) -> float:
    """Seconds until every process in ``seen`` and in the harness's session is gone (fails past ``limit``)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if not _alive(seen) and not _session(proc.pid):
            return time.monotonic() - t0
        time.sleep(0.05)
    left = _alive(seen) + _session(proc.pid)
    for pid in left:  # do not leave them to the other tests
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    raise AssertionError(f"still alive after {limit} s: {sorted(set(left))}")


def _start_child(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", CHILD], cwd=REPO, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.6)  # the watcher records descendants every 0.2 s
    seen = procs.descendants(proc.pid)
    assert len(seen) >= 4, seen  # fork child, two exec'd children, the watcher
    return proc, seen


def test_sigkill_of_a_guarded_process_ends_all_its_children(tmp_path):
    proc, seen = _start_child(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    took = _gone_within(proc, seen, 30)
    assert took < 5, f"{took:.1f} s"


def test_sigterm_stops_cleanly_with_one_line_and_exit_143(tmp_path):
    proc, seen = _start_child(tmp_path)
    os.kill(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert out.strip().splitlines()[-1] == "interrupted (SIGTERM); rerun the same command to resume"
    assert _gone_within(proc, seen, 30) < 5


# --- the data folder ----------------------------------------------------------------------------------
def _snapshot(root: Path) -> dict[str, tuple]:
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
            snap[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return snap


def test_run_over_a_writable_data_folder_leaves_it_byte_identical(tmp_path, data_dir, bundled_model, monkeypatch):
    """GSM8K and DeepMind Mathematics (generated on first use) over a writable copy of the data."""
    from tulu_eval.engine.plan import RunConfig
    from tulu_eval.engine.run import run

    writable = tmp_path / "data"
    writable.mkdir()
    shutil.copytree(data_dir / "gsm8k", writable / "gsm8k")
    for path in [writable, *writable.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    before = _snapshot(writable)
    monkeypatch.setenv("TULU_EVAL_CACHE", str(tmp_path / "cache"))
    real = gen.cached_path  # generating takes ~15 s: copy the pinned file instead, wherever asked to
    source = data_dir / gen.RELPATH if (data_dir / gen.RELPATH).is_file() else None
    if source is None:
        pytest.skip("no pre-generated DeepMind Mathematics file to stand in for the generator")
    monkeypatch.setattr(gen, "generate", lambda out, **kw: (Path(out).parent.mkdir(parents=True, exist_ok=True),
                                                             shutil.copyfile(source, out), Path(out))[-1])
    result = run(RunConfig(tasks="gsm8k,deepmind_math", limit=1, backend="hf", max_tokens=4, data_dir=str(writable),
                           output_dir=str(tmp_path / "run"), cache=str(tmp_path / "c.sqlite"), progress=False,
                           report=False))
    assert set(result["tasks"]) == {"gsm8k", "deepmind_math"}
    assert real().is_file()  # the generated file went to the user cache
    assert _snapshot(writable) == before
    assert not (tmp_path / "run" / "INCOMPLETE").exists()


# --- a real vLLM run, stopped mid-generation ----------------------------------------------------------
RUN_ARGS = ["run", "--tasks", "gsm8k", "--limit", "8", "--backend", "vllm", "--max-tokens", "96", "--chunk-size", "4",
            "--no-report"]


def _cached(cache: Path) -> int:
    try:
        return sqlite3.connect(cache).execute("SELECT COUNT(*) FROM generations").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, data_dir, bundled_model):
    root = tmp_path_factory.mktemp("clean")
    res = subprocess.run([sys.executable, "-m", "tulu_eval.cli", *RUN_ARGS, "-o", str(root / "run"), "--cache",
                          str(root / "c.sqlite")], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return root / "run"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopped_vllm_run_leaves_no_process_and_resumes_identically(sig, tmp_path, uninterrupted):
    cache, out = tmp_path / "c.sqlite", tmp_path / "run"
    cmd = [sys.executable, "-m", "tulu_eval.cli", *RUN_ARGS, "-o", str(out), "--cache", str(cache)]
    log = tmp_path / "log"
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    seen: dict[int, int] = {}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None and _cached(cache) < 4:
        seen.update(procs.descendants(proc.pid))  # every process the run starts, recorded as it appears
        time.sleep(0.1)
    assert proc.poll() is None, log.read_text()[-3000:]
    seen.update(procs.descendants(proc.pid))
    assert len(seen) >= 2, seen  # at least the watcher and vLLM's EngineCore
    os.kill(proc.pid, sig)
    t0 = time.monotonic()
    proc.wait(timeout=60)
    took = _gone_within(proc, seen, 30)
    print(f"{signal.Signals(sig).name}: harness exited after {proc.returncode}, all {len(seen)} processes gone "
          f"{time.monotonic() - t0:.1f} s after the signal ({took:.1f} s after the harness)")
    done = _cached(cache)
    assert 4 <= done < 8, f"the stop landed at {done} cached generations"
    if sig == signal.SIGTERM:
        assert proc.returncode == 143
        assert log.read_text().strip().splitlines()[-1] == \
            f"interrupted: {done} of 8 requests cached; rerun the same command to resume"
    else:
        assert proc.returncode == -signal.SIGKILL
    assert not out.exists()  # stopped during generation: the run folder was never touched

    res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (out / "predictions" / "gsm8k.jsonl").read_bytes() == \
        (uninterrupted / "predictions" / "gsm8k.jsonl").read_bytes()
    resumed, clean = (json.loads((d / "results.json").read_text()) for d in (out, uninterrupted))
    assert resumed["generation"]["cached"] == done
    assert resumed["tasks"] == clean["tasks"]
    assert not (out / "INCOMPLETE").exists()


def test_sigterm_stops_train_sft_with_one_line_and_no_children_left(tmp_path, data_dir, bundled_model):
    out = tmp_path / "sft"
    cmd = [sys.executable, "-m", "tulu_eval.cli", "train-sft", "--recipe", "training/sft_codealpaca.yaml", "-o",
           str(out), "--max-steps", "1000", "--no-decontam"]
    log = tmp_path / "log"
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    seen: dict[int, int] = {}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None and "train-sft:" not in log.read_text():
        seen.update(procs.descendants(proc.pid))
        time.sleep(0.1)
    time.sleep(3)  # into the model load / first steps
    assert proc.poll() is None, log.read_text()[-3000:]
    seen.update(procs.descendants(proc.pid))
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode == 143, log.read_text()[-3000:]
    assert log.read_text().strip().splitlines()[-1] == \
        "interrupted (SIGTERM); rerun with --resume to continue from the last saved checkpoint"
    assert _gone_within(proc, seen, 30) < 5
