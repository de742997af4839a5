"""A child process that scores MATH responses for callers outside the main thread.

sympy and Math-Verify can hang on pathological LaTeX, and the only cheap way to stop them, a
SIGALRM timer, works in the main thread only. Trainer threads therefore send their checks to
this worker (``python -m tulu_eval.verifiers.math.worker``: one JSON request per line on stdin,
one JSON result per line on stdout), which runs them in its own main thread under the usual
timers; a worker that overruns the caller's deadline is killed and a new one started. It is a
fresh interpreter, not a fork, so the caller's threads, locks and ``__main__`` are not involved.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading

from ...procs import child_kwargs


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # the worker exited


class MathWorker:
    """One worker process, used by one thread at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._lines: queue.Queue = queue.Queue()

    def _start(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "tulu_eval.verifiers.math.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                **child_kwargs())
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        self._proc, self._lines = proc, lines
        return proc

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def score(self, response: str, gold: str, timeout: float) -> dict:
        """The worker's :func:`tulu_eval.verifiers.math.score`; TimeoutError past ``timeout``."""
        with self._lock:
            proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
            proc.stdin.write(json.dumps({"response": response, "gold": gold}) + "\n")
            proc.stdin.flush()
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                self.kill()
                raise TimeoutError(f"MATH verification took over {timeout:.0f} s") from None
            if line is None:
                self.kill()
                raise RuntimeError("the MATH verification worker died")
            return json.loads(line)


def main() -> None:
    from .equivalence import score  # noqa: PLC0415  (sympy and Math-Verify load in the worker only)

    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = score(request["response"], request["gold"])
        except Exception as exc:  # score never raises by design; keep the worker alive anyway
            result = {"exact_match_flex": 0.0, "exact_match": 0.0, "math_verify": 0.0, "error": repr(exc)}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
