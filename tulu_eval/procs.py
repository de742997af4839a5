"""Processes the harness starts never outlive it; a stop signal ends a command cleanly.

Every command that starts processes (``run``, ``score``, ``train-*``, ``decontaminate``) calls
:func:`guard` first. It sets up three things:

* **SIGINT / SIGTERM** raise :class:`Interrupted` in the main thread (a ``BaseException``, so
  no library's ``except Exception`` swallows it). The command's ``finally`` blocks shut the
  engine down; the CLI then ends every remaining child (:func:`reap_children`), prints one line
  and exits 128 + the signal number (130 / 143). A second signal while stopping exits at once.
* **children forked from the main thread** (vLLM's ``EngineCore``, which vLLM forks by default;
  multiprocessing pools; DataLoader workers) get ``PR_SET_PDEATHSIG = SIGKILL`` through an
  ``os.register_at_fork`` hook: the kernel kills them the moment the harness dies, SIGKILL
  included. (Only main-thread forks: the kernel ties the signal to the forking *thread*.)
  :func:`child_kwargs` gives ``subprocess`` calls in the main thread the same.
* **a watcher process** (``python -m tulu_eval.procs``, in its own session so that Ctrl-C and a
  kill of the harness's process group do not reach it) covers everything else, e.g. children
  started by exec (vLLM's ``spawn`` method on GPUs, torchrun, Ray) or from other threads: it
  records the harness's descendants every 0.2 s and, once the harness has exited for any
  reason, SIGKILLs each recorded process still alive (same start time, so never a reused pid),
  their descendants, and any process whose environment carries this harness's
  ``TULU_EVAL_OWNER`` token; then it exits.

Processes are identified by process tree, start time and that token, never by name.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

OWNER_ENV = "TULU_EVAL_OWNER"
PR_SET_PDEATHSIG = 1
POLL_S = 0.2
SWEEP_S = 10.0

_state: dict = {"guarded": False, "watcher": None, "interrupted": None, "main_fork": False}


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; ``progress`` is (cached, total) when generation was running."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.progress: tuple[int, int] | None = None

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def line(self, hint: str = "rerun the same command to resume") -> str:
        if self.progress is not None:
            return f"interrupted: {self.progress[0]} of {self.progress[1]} requests cached; {hint}"
        return f"interrupted ({signal.Signals(self.signum).name}); {hint}"


# --- /proc ------------------------------------------------------------------------------------------
def _stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, start time in clock ticks, state) of ``pid``; None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[19]), rest[0]


def start_time(pid: int) -> int | None:
    st = _stat(pid)
    return st[1] if st else None


def _table() -> dict[int, tuple[int, int, str]]:
    table = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                table[int(entry.name)] = st
    return table


def _children(pid: int) -> list[int] | None:
    """Children of ``pid`` from /proc/PID/task/TID/children (None where the kernel lacks that file)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                found.extend(int(c) for c in fh.read().split())
        except FileNotFoundError:
            if not os.path.exists(f"/proc/{pid}/task/{tid}/children") and os.path.isdir(f"/proc/{pid}/task/{tid}"):
                return None
        except OSError:
            pass
    return found


def descendants(root: int, table: dict | None = None) -> dict[int, int]:
    """Living descendants of ``root`` (zombies excluded): {pid: start time}."""
    if table is None and _children(os.getpid()) is not None:  # cheap: follow the children files
        found, todo = {}, [root]
        while todo:
            for child in _children(todo.pop()) or []:
                st = _stat(child)
                if child not in found and st is not None and st[2] != "Z":
                    found[child] = st[1]
                    todo.append(child)
        return found
    table = _table() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and table[child][2] != "Z":
                found[child] = table[child][1]
                todo.append(child)
    return found


def _alive(pid: int, started: int) -> bool:
    st = _stat(pid)
    return st is not None and st[1] == started and st[2] != "Z"


def _carries(pid: int, token: str) -> bool:
    try:
        return f"{OWNER_ENV}={token}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


# --- parent-death signal ----------------------------------------------------------------------------
def set_pdeathsig(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when the thread that started it exits."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


_prctl = None


def _pdeathsig_preexec() -> None:  # runs between fork and exec: nothing but the one call
    _prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def child_kwargs() -> dict:
    """Extra ``subprocess.Popen``/``run`` arguments: the child is killed when the harness dies.

    Only from the main thread (the kernel ties the signal to the starting thread); elsewhere the
    watcher alone covers the child."""
    global _prctl
    if threading.current_thread() is not threading.main_thread():
        return {}
    if _prctl is None:
        try:
            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            return {}
    return {"preexec_fn": _pdeathsig_preexec}


def _before_fork() -> None:
    _state["main_fork"] = threading.current_thread() is threading.main_thread()


def _after_fork_in_child() -> None:
    _state["watcher"] = None  # the child is not the watcher's harness; its own exit must not matter
    for signum, handler in _state.get("previous", {}).items():  # a forked worker stops as it would unguarded
        try:
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        except (ValueError, OSError, TypeError):  # pragma: no cover
            pass
    if _state["main_fork"]:
        parent = _state.get("pid")
        set_pdeathsig(signal.SIGKILL)
        if parent is not None and os.getppid() != parent:  # the harness died before prctl took effect
            os._exit(1)
    _state["pid"] = os.getpid()


# --- signals ------------------------------------------------------------------------------------------
def _on_signal(signum, frame):
    if _state["interrupted"] is not None:  # second signal while stopping: stop now (watcher cleans up)
        os._exit(128 + signum)
    _state["interrupted"] = signum
    raise Interrupted(signum)


# --- the guard ----------------------------------------------------------------------------------------
def guard() -> None:
    """Set up signal handling, the fork hook and the watcher for this process (once)."""
    if _state["guarded"] or sys.platform != "linux":
        return
    _state["guarded"] = True
    _state["pid"] = os.getpid()
    started = start_time(os.getpid())
    token = f"{os.getpid()}-{started}"
    os.environ[OWNER_ENV] = token  # inherited by every exec'd child
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
    if threading.current_thread() is threading.main_thread():
        _state["previous"] = {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    if os.environ.get("LOCAL_RANK") is not None and os.getppid() != 1:
        set_pdeathsig(signal.SIGTERM)  # a rank started by torchrun / accelerate stops with its launcher
    try:
        _state["watcher"] = subprocess.Popen(
            [sys.executable, "-m", "tulu_eval.procs", str(os.getpid()), str(started), token],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)
    except OSError:  # pragma: no cover - the kernel-level hook still works
        _state["watcher"] = None


def watcher_pid() -> int | None:
    proc = _state.get("watcher")
    return proc.pid if proc is not None else None


def reap_children(grace: float = 3.0) -> int:
    """End every living descendant of this process but the watcher: SIGTERM, then SIGKILL after
    ``grace`` seconds. Returns how many there were."""
    skip = {watcher_pid()}
    procs = {p: s for p, s in descendants(os.getpid()).items() if p not in skip}
    for pid in procs:
        _kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p, s) for p, s in procs.items()):
        time.sleep(0.05)
    for _ in range(3):  # children of the killed ones may appear late
        left = {p: s for p, s in procs.items() if _alive(p, s)}
        left.update({p: s for p, s in descendants(os.getpid()).items() if p not in skip})
        if not left:
            break
        for pid in left:
            _kill(pid, signal.SIGKILL)
        procs.update(left)
        time.sleep(0.1)
    return len(procs)


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --- the watcher process --------------------------------------------------------------------------
def watch(pid: int, started: int, token: str) -> None:
    """Record ``pid``'s descendants until it exits, then SIGKILL what is left of them."""
    me = os.getpid()
    known: dict[int, int] = {}
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        fd = None
    while fd is not None and _alive(pid, started):
        known.update(descendants(pid))
        if select.select([fd], [], [], POLL_S)[0]:
            break
    known.pop(me, None)
    deadline = time.monotonic() + SWEEP_S
    uid = os.getuid()
    while time.monotonic() < deadline:
        table = _table()
        targets = {p: s for p, s in known.items() if p in table and table[p][1] == s and table[p][2] != "Z"}
        for p in list(targets):
            targets.update(descendants(p, table))
        for p, (_, s, state) in table.items():
            if p not in targets and p != me and state != "Z" and _owned(p, uid) and _carries(p, token):
                targets[p] = s
        targets.pop(me, None)
        if not targets:
            return
        for p in targets:
            _kill(p, signal.SIGKILL)
        known.update(targets)
        time.sleep(0.1)


def _owned(pid: int, uid: int) -> bool:
    try:
        return os.stat(f"/proc/{pid}").st_uid == uid
    except OSError:
        return False


if __name__ == "__main__":
    watch(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
