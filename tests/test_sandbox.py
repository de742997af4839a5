"""The sandbox holds: an infinite loop, a fork bomb, a 10 GB allocation, ``rm -rf ~`` and a network
call each end as not-passed within the time limit, and the harness and machine are unharmed.

Every attack runs in the mode this machine gives (``isolated`` where namespaces work: CI runs as
root on Linux) and again in the ``basic`` fallback mode.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from tulu_eval import sandbox
from tulu_eval.errors import UserError
from tulu_eval.sandbox import Limits, run_program, run_programs

MODES = sorted({sandbox.sandbox_mode(), "basic"})
LIMITS = Limits(timeout_s=3.0)


def _procs_with(marker: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if marker.encode() in Path(entry.path, "cmdline").read_bytes() + Path(entry.path, "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _assert_contained(res, limits=LIMITS):
    assert not res.passed
    assert res.status in ("failed", "timeout")
    assert res.duration_s < limits.timeout_s + 2.0


def test_a_plain_program_runs_and_its_output_comes_back():
    res = run_program("import sys\nprint('hello', 6 * 7)\nprint('oops', file=sys.stderr)")
    assert res.status == "passed" and res.returncode == 0
    assert res.stdout == "hello 42\n" and res.stderr == "oops\n"
    assert run_program("raise SystemExit(3)").status == "failed"
    assert run_program("def f(:\n  pass").status == "failed"


@pytest.mark.parametrize("mode", MODES)
def test_infinite_loop_times_out_and_is_killed(mode):
    marker = uuid.uuid4().hex
    res = run_program(f"# {marker}\nwhile True:\n    pass", LIMITS, mode=mode)
    assert res.status == "timeout"
    _assert_contained(res)
    assert _procs_with(marker) == []


@pytest.mark.parametrize("mode", MODES)
def test_fork_bomb_is_capped_and_every_process_is_gone(mode):
    marker = uuid.uuid4().hex
    bomb = (f"import os\nMARK = '{marker}'\nos.environ['MARK'] = MARK\n"
            "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n")
    before = len(os.listdir("/proc"))
    res = run_program(bomb, LIMITS, mode=mode)
    _assert_contained(res)
    time.sleep(0.2)
    assert _procs_with(marker) == []
    assert len(os.listdir("/proc")) < before + 20  # nothing left running


def test_process_cap_is_enforced_by_the_os():
    """Without the guard (isolated mode) the kernel stops the forks at the cap."""
    if sandbox.sandbox_mode() != "isolated":
        pytest.skip("namespaces are not available here")
    prog = ("import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(5)\n        os._exit(0)\n"
            "    n += 1\nprint(n)")
    res = run_program(prog, Limits(timeout_s=3.0, max_procs=16))
    assert res.passed
    assert 0 < int(res.stdout) <= 16


@pytest.mark.parametrize("mode", MODES)
def test_ten_gigabyte_allocation_fails(mode):
    res = run_program("x = bytearray(10 * 1024 ** 3)\nprint(len(x))", LIMITS, mode=mode)
    _assert_contained(res)
    assert res.status == "failed" and "MemoryError" in res.stderr


@pytest.mark.parametrize("mode", MODES)
def test_rm_rf_home_only_reaches_the_temporary_home(mode, tmp_path):
    sentinel = tmp_path / "keep.txt"
    sentinel.write_text("still here")
    real_home = Path.home()
    home_entries = sorted(os.listdir(real_home))
    prog = ("import os\nhome = os.path.expanduser('~')\nassert home.startswith(os.getcwd()), home\n"
            "open(os.path.join(home, 'mine'), 'w').write('x')\n"
            f"os.system('rm -rf ~ {sentinel} {tmp_path}')\n"
            "raise SystemExit(0 if not os.path.exists(home) else 1)")
    res = run_program(prog, LIMITS, mode=mode)
    assert res.duration_s < LIMITS.timeout_s + 2.0
    assert sentinel.read_text() == "still here"
    assert sorted(os.listdir(real_home)) == home_entries
    if mode == "isolated":
        assert res.passed  # rm ran: its own temporary home is gone, nothing else


@pytest.mark.parametrize("mode", MODES)
def test_network_call_to_a_loopback_server_fails(mode):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(6)
    hits = []

    def accept():
        try:
            conn, _ = srv.accept()
            hits.append(1)
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = srv.getsockname()[1]
    prog = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')"
    res = run_program(prog, LIMITS, mode=mode)
    _assert_contained(res)
    assert "connected" not in res.stdout
    # the harness itself can still reach its own server: only the child is cut off
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    thread.join(5)
    srv.close()
    assert hits == [1]


def test_isolated_mode_filesystem_capabilities_and_limits():
    if sandbox.sandbox_mode() != "isolated":
        pytest.skip("namespaces are not available here")
    prog = ("import os, resource\n"
            "cap = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
            "print(int(cap, 16))\n"
            "for path in ('/tmp/tulu-sandbox-escape', os.path.expanduser('~/../../escape')):\n"
            "    try:\n        open(path, 'w')\n        print('wrote', path)\n    except OSError as e:\n        print(e.errno)\n"
            "try:\n    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\n    print('raised')\nexcept (ValueError, OSError):\n"
            "    print('kept')\n"
            "open('scratch', 'w').write('ok')\nprint(open('scratch').read())\n")
    res = run_program(prog)
    assert res.passed, res.stderr
    lines = res.stdout.split()
    assert lines[0] == "0"  # no capabilities at all
    assert "wrote" not in res.stdout and "raised" not in res.stdout
    assert lines[-1] == "ok"
    assert not Path("/tmp/tulu-sandbox-escape").exists()


def test_output_flood_is_bounded():
    res = run_program("while True:\n    print('x' * 10000)", Limits(timeout_s=5.0, file_size_mb=1))
    assert not res.passed and res.duration_s < 7
    assert len(res.stdout) <= Limits().output_chars


def test_a_detached_child_does_not_outlive_its_program():
    marker = uuid.uuid4().hex
    prog = (f"import os, time\nos.environ['MARK'] = '{marker}'\n"
            "if hasattr(os, 'fork') and callable(os.fork):\n"
            "    try:\n        pid = os.fork()\n    except Exception:\n        pid = -1\n"
            "    if pid == 0:\n        try:\n            os.setsid()\n        except Exception:\n            pass\n"
            "        time.sleep(60)\n        os._exit(0)\n"
            "time.sleep(60)")
    res = run_program(prog, Limits(timeout_s=2.0))
    assert res.status == "timeout"
    time.sleep(0.3)
    assert _procs_with(marker) == []


def test_parallel_runs_keep_their_order():
    res = run_programs([f"print({i} * {i})" for i in range(12)], workers=2)
    assert [r.stdout.strip() for r in res] == [str(i * i) for i in range(12)]


def test_code_execution_needs_the_opt_in(monkeypatch):
    monkeypatch.delenv(sandbox.ALLOW_ENV, raising=False)
    with pytest.raises(UserError, match="--allow-code-execution"):
        sandbox.require_code_execution(["codex_humaneval"], False)
    sandbox.require_code_execution(["codex_humaneval"], True)
    sandbox.require_code_execution([], False)
    monkeypatch.setenv(sandbox.ALLOW_ENV, "1")
    sandbox.require_code_execution(["codex_humaneval"], False)
