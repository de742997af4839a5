"""1 engine vs N data-parallel replicas (``--data-parallel``) on the same workload.

    python benchmarks/bench_data_parallel.py [--tasks gsm8k::tulu,ifeval::tulu] [--limit 20] [--max-tokens 256] [--replicas 2]

Runs ``tulu-eval run`` (vLLM, no cache) once with one engine and once with ``--data-parallel N``,
prints wall time, generated tokens and tokens/s of each, the speed-up, and whether the predictions
are identical. On this 2-core machine N=2 means one core per replica against two for the single
engine: the comparison shows the overhead and balance of the schedule, not a scaling win (that needs
a machine with a GPU or many cores per replica).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(args, out: Path, extra: list[str]) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "tulu_eval.cli", "run", "--tasks", args.tasks, "--limit", str(args.limit),
           "--backend", "vllm", "--no-cache", "--no-report", "-o", str(out), *extra]
    if args.max_tokens:
        cmd += ["--max-tokens", str(args.max_tokens)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    return wall, json.loads((out / "results.json").read_text())["tokens_generated"]


def predictions(out: Path) -> list:
    return [line for p in sorted((out / "predictions").glob("*.jsonl")) for line in p.read_text().splitlines()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="gsm8k::tulu,ifeval::tulu")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--replicas", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_dp_"))
    one_wall, one_tok = run(args, tmp / "one", [])
    dp_wall, dp_tok = run(args, tmp / "dp", ["--data-parallel", str(args.replicas)])
    same = predictions(tmp / "one") == predictions(tmp / "dp")
    print(f"tasks {args.tasks}, limit {args.limit}, max tokens {args.max_tokens}")
    print(f"{'':28}{'wall s':>9}{'tokens':>9}{'tok/s':>8}")
    print(f"{'1 engine':28}{one_wall:9.1f}{one_tok:9d}{one_tok / one_wall:8.1f}")
    print(f"{f'{args.replicas} replicas (Ray)':28}{dp_wall:9.1f}{dp_tok:9d}{dp_tok / dp_wall:8.1f}")
    print(f"speed-up {one_wall / dp_wall:.2f}x; predictions identical: {same}")


if __name__ == "__main__":
    main()
