"""cgroups for model-written programs: one budget (memory, pids) for every program of this harness
process, one group per program inside it; v1 or v2, wherever the process's own cgroup is writable."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any


def _own_cgroup(controller: str) -> tuple[Path, str] | None:
    """(mount point, our path in it) for a v1 controller, or the v2 hierarchy (controller "")."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _id, ctrls, path = line.split(":", 2)
        if (controller and controller in ctrls.split(",")) or (not controller and _id == "0" and not ctrls):
            for m in mounts:
                parts = m.split()
                if controller and parts[2] == "cgroup" and controller in parts[3].split(","):
                    return Path(parts[1]), path
                if not controller and parts[2] == "cgroup2":
                    return Path(parts[1]), path
    return None


class _TreeBudget:
    """cgroup groups ``tulu-eval-<pid>/`` under this process's own cgroup; a subgroup per program."""

    def __init__(self, memory_mb: int, max_pids: int):
        self.version, self.roots, self.why = None, {}, ""
        try:
            v1 = {c: _own_cgroup(c) for c in ("memory", "pids")}
            if all(v1.values()):
                self.version = "v1"
                for c, (mount, path) in v1.items():
                    root = mount / path.lstrip("/") / f"tulu-eval-{os.getpid()}"
                    _remove_stale(root.parent)
                    root.mkdir(exist_ok=True)
                    self.roots[c] = root
                self._write_limits(self.roots["memory"], self.roots["pids"], memory_mb, max_pids)
            elif (v2 := _own_cgroup("")) is not None:
                mount, path = v2
                parent = mount / path.lstrip("/")
                (parent / "cgroup.subtree_control").write_text("+memory +pids")
                _remove_stale(parent)
                root = parent / f"tulu-eval-{os.getpid()}"
                root.mkdir(exist_ok=True)
                (root / "cgroup.subtree_control").write_text("+memory +pids")
                self.version, self.roots = "v2", {"memory": root, "pids": root}
                self._write_limits(root, root, memory_mb, max_pids)
            else:
                self.why = "no memory and pids cgroup controllers found"
        except OSError as exc:
            self.remove()
            self.version, self.roots, self.why = None, {}, f"cgroups not writable here ({exc.strerror or exc})"
        self.memory_mb, self.max_pids = memory_mb, max_pids

    def _write_limits(self, mem_dir: Path, pids_dir: Path, memory_mb: int, max_pids: int) -> None:
        mem_file = "memory.max" if self.version == "v2" else "memory.limit_in_bytes"
        (mem_dir / mem_file).write_text(str(memory_mb * 1024 * 1024))
        if self.version == "v2":
            try:
                (mem_dir / "memory.swap.max").write_text("0")
            except OSError:
                pass
        (pids_dir / "pids.max").write_text(str(max_pids))

    def program_group(self, memory_mb: int, max_pids: int) -> list[Path]:
        """Fresh groups for one program; returns the ``cgroup.procs`` files to join."""
        if not self.version:
            return []
        name = uuid.uuid4().hex
        dirs = {c: root / name for c, root in self.roots.items()}
        for d in set(dirs.values()):
            d.mkdir()
        self._write_limits(dirs["memory"], dirs["pids"], memory_mb, max_pids)
        return [d / "cgroup.procs" for d in sorted(set(dirs.values()))]

    @staticmethod
    def destroy(procs_files: list[Path]) -> None:
        """SIGKILL whatever is left in a program's groups until they are empty, then remove them."""
        for procs in procs_files:
            for _ in range(500):
                try:
                    pids = [int(p) for p in procs.read_text().split()]
                except OSError:
                    pids = []
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                try:
                    procs.parent.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)

    def remove(self) -> None:
        for root in set(self.roots.values()):
            self.destroy([p / "cgroup.procs" for p in root.iterdir() if p.is_dir()] if root.is_dir() else [])
            try:
                root.rmdir()
            except OSError:
                pass

    def describe(self) -> dict[str, Any]:
        if not self.version:
            return {"cgroup": None, "why": self.why}
        return {"cgroup": self.version, "memory_mb": self.memory_mb, "pids": self.max_pids}


def _remove_stale(parent: Path) -> None:
    """Groups left by harness processes that died without cleaning up (SIGKILL)."""
    for d in parent.glob("tulu-eval-*"):
        pid = d.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            _TreeBudget.destroy([p / "cgroup.procs" for p in d.iterdir() if p.is_dir()])
            try:
                d.rmdir()
            except OSError:
                pass
