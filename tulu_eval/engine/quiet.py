"""A quiet terminal: what the inference engine prints goes to a log file, not to the screen.

vLLM and its worker processes write ~60 INFO/WARNING lines (and C++ warnings, and progress bars of
their own) before the first output. :func:`engine_output_to` sends the process's file descriptors 1
and 2, which child processes inherit, to a log file while the engine runs; the one progress line of
the runner goes to the terminal through :func:`terminal_stderr`. ``tulu-eval run -v`` leaves the
descriptors alone and shows everything. The log is kept as ``<run folder>/engine.log``.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from ..errors import UserError
from ..models import cache_dir

_terminal: TextIO | None = None  # the terminal's stderr while output is redirected


def terminal_stderr() -> TextIO:
    """The stream progress lines go to: the real terminal even while fd 2 points at the log."""
    return _terminal if _terminal is not None else sys.stderr


@contextmanager
def engine_output_to(path: Path | None) -> Iterator[Path | None]:
    """Redirect fds 1 and 2 (this process and every child it starts meanwhile) into ``path``.

    ``None`` leaves them alone (``-v``). Nested use keeps the outer redirection."""
    global _terminal
    if path is None or _terminal is not None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    saved = os.dup(1), os.dup(2)
    _terminal = os.fdopen(os.dup(saved[1]), "w", buffering=1, encoding="utf-8", errors="replace")
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        yield path
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        _terminal.close()
        _terminal = None


def tail(path: Path | None, lines: int = 5) -> str:
    """The last lines of a log, for an error message."""
    if path is None or not path.is_file():
        return ""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 8192))
        text = fh.read().decode("utf-8", "replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


def engine_log_path() -> Path:
    """Where the engine's output goes while it runs (moved into the run folder as engine.log after)."""
    return cache_dir() / "logs" / f"engine-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


@contextmanager
def engine_log_in_errors(log: Path | None):
    """A failure while the engine's output went to a log names the log and quotes its last line."""
    try:
        yield
    except UserError as exc:
        if log is not None and log.is_file() and log.stat().st_size:
            last = tail(log, 1).strip()
            exc.args = (f"{exc} (engine log: {log}{'; last line: ' + last[:200] if last else ''})",)
        raise
