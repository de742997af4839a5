"""Throughput and memory of ``tulu-eval decontaminate`` on a synthetic stream, against a baseline.

The training side is a JSON-lines stream of chat rows (``messages``: a user turn and an
assistant turn) generated on the fly, never stored: row texts are drawn (Zipf) from the words of
GSM8K train questions, and every ``--plant-every``-th row carries a real eval prompt (a GSM8K test
question, verbatim) in its user turn, so the scan must find exactly those rows.

Measured, each in its own subprocess (peak RSS is per process):

* ``tulu_eval.decontam`` with 1 worker (per-core rate) and with ``--workers`` processes;
* the same scan at ``--small-mb`` and ``--mb`` (flat memory: the peak must not grow with input);
* a straightforward pure-Python baseline written here (json.loads, regex words, a set of word
  n-gram tuples per row, a dict from n-gram to eval instances), on ``--baseline-mb`` of the same
  stream; its per-instance best scores are compared with the fast scan on the same rows.

Recorded on the shared 2-core dev VM (other jobs running), dev suite index of 45,987 instances /
1,236,288 distinct 8-grams: pure-Python baseline 4.3 MB/s (6.7k rows/s); 1 worker 65.7 MB/s
(102k rows/s) over 1,001 MB; 2 workers 106.6 MB/s; peak RSS 476 MB at 100 MB and 476 MB at
1,001 MB (451 MB of it the eval index and imports, before the scan); 78/78 planted rows found,
0 other rows flagged; per-instance scores identical to the baseline's on the same 32,768 rows.

Usage: python benchmarks/bench_decontaminate.py [--mb 1000] [--small-mb 100] [--baseline-mb 20]
       [--suite dev,unseen | --tasks gsm8k] [--workers N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROWS_PER_READ = 2048
# the word rule of tulu_eval.decontam.ngrams as a regex (on lowercased text)
WORD_RE = re.compile("[0-9a-z\u00c0-\u1fff\u2070-\u2fff\u3040-\U0010ffff]+")


class SyntheticChat:
    """A readable binary stream of ``total`` bytes (about) of JSON-lines chat rows."""

    def __init__(self, total: int, vocab: list[str], planted: list[str], plant_every: int, seed: int = 0):
        self.total, self.done, self.row = total, 0, 0
        self.rng = np.random.default_rng(seed)
        self.planted, self.plant_every = [json.dumps(p)[1:-1].encode() for p in planted], plant_every
        self.planted_rows: list[int] = []
        ranks = np.arange(1, len(vocab) + 1)
        probs = 1 / ranks / (1 / ranks).sum()
        # 8192 fragments of 8..60 words, joined three at a time into rows (2 user, 1 assistant)
        sizes = self.rng.integers(8, 60, size=8192)
        picks = self.rng.choice(len(vocab), size=int(sizes.sum()), p=probs).tolist()
        ends = np.cumsum(sizes).tolist()
        self.frags = [json.dumps(" ".join(vocab[w] for w in picks[e - k: e]).capitalize() + ".")[1:-1].encode()
                      for e, k in zip(ends, sizes.tolist())]

    def read(self, size: int = -1) -> bytes:
        if self.done >= self.total:
            return b""
        pick = self.rng.integers(0, len(self.frags), size=(ROWS_PER_READ, 3)).tolist()
        f, out = self.frags, []
        for a, b, c in pick:
            if self.row % self.plant_every == self.plant_every // 2:
                user = self.planted[(self.row // self.plant_every) % len(self.planted)]
                self.planted_rows.append(self.row)
            else:
                user = f[a] + b" " + f[b]
            out.append(b'{"messages": [{"role": "user", "content": "' + user + b'"}, {"role": "assistant", '
                       b'"content": "' + f[c] + b'"}], "source": "synthetic"}\n')
            self.row += 1
        data = b"".join(out)
        self.done += len(data)
        return data


def _stream(args, total_mb: float) -> SyntheticChat:
    data = Path(args.data_dir)
    vocab_count = collections.Counter()
    with (data / "gsm8k/train.jsonl").open() as fh:
        for line in fh:
            vocab_count.update(json.loads(line)["question"].split())
    vocab = [w for w, _ in vocab_count.most_common()]
    planted = [json.loads(line)["question"] for line in (data / "gsm8k/test.jsonl").open()][:500]
    return SyntheticChat(int(total_mb * 1e6), vocab, planted, args.plant_every)


def _index(args):
    from tulu_eval.decontam.index import EvalIndex  # noqa: PLC0415

    start = time.perf_counter()
    index = EvalIndex.from_registry(suite=args.suite, tasks=args.tasks, data_dir=args.data_dir, n=args.n)
    return index, time.perf_counter() - start


def _peak_mb() -> tuple[float, float]:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, child_kb / 1024


def child_scan(args, total_mb: float, workers: int) -> dict:
    from tulu_eval.decontam.fields import FieldSpec  # noqa: PLC0415
    from tulu_eval.decontam.scan import Scanner  # noqa: PLC0415

    index, build_s = _index(args)
    stream = _stream(args, total_mb)
    base_mb = _peak_mb()[0]
    probe = _stream(args, min(total_mb, 50))
    gen_start = time.perf_counter()
    while probe.read():
        pass
    gen_rate = probe.done / (time.perf_counter() - gen_start) / 1e6
    del probe
    spec = FieldSpec("field", ("messages",), shape="messages")
    with Scanner(index, threshold=0.5, workers=workers) as scanner:
        res = scanner.scan_stream(stream, spec, label="synthetic")
    planted = set(stream.planted_rows)
    found = res.contaminated_rows()
    own, kids = _peak_mb()
    out = {"mode": "scan", "workers": workers, "mb": res.bytes / 1e6, "rows": res.rows, "seconds": res.seconds,
           "mb_s": res.bytes / 1e6 / res.seconds, "rows_s": res.rows / res.seconds, "index_build_s": build_s,
           "index_instances": len(index.ids), "index_ngrams": int(len(index.lookup.keys)),
           "planted": len(planted), "planted_found": len(planted & found), "other_rows_flagged": len(found - planted),
           "generator_mb_s": gen_rate, "rss_before_scan_mb": base_mb, "peak_rss_mb": own, "peak_worker_rss_mb": kids}
    if args.compare_rows:
        out["best_score"] = res.best_score.tolist()
    return out


def child_baseline(args, total_mb: float) -> dict:
    index, _ = _index(args)
    n = args.n
    grams: dict[tuple, list[int]] = {}
    sizes, short = [], set()
    for i, text in enumerate(index.texts):
        toks = WORD_RE.findall(text)
        if 0 < len(toks) < n:
            short.add(len(toks))
        mine = {tuple(toks)} if 0 < len(toks) < n else set(zip(*(toks[j:] for j in range(n))))
        sizes.append(len(mine))
        for g in mine:
            grams.setdefault(g, []).append(i)
    stream = _stream(args, total_mb)
    best = [0.0] * len(sizes)
    rows = nbytes = 0
    start = time.perf_counter()
    while True:
        data = stream.read()
        if not data:
            break
        nbytes += len(data)
        for line in data.splitlines():
            row = json.loads(line)
            text = "\n".join(m["content"] for m in row["messages"] if m["role"] == "user")
            toks = WORD_RE.findall(text.lower())
            mine = set(zip(*(toks[j:] for j in range(n))))
            for k in short:
                mine |= set(zip(*(toks[j:] for j in range(k))))
            counts = collections.Counter(i for g in mine for i in grams.get(g, ()))
            for i, c in counts.items():
                s = c / sizes[i]
                if s > best[i]:
                    best[i] = s
            rows += 1
    secs = time.perf_counter() - start
    out = {"mode": "baseline", "workers": 1, "mb": nbytes / 1e6, "rows": rows, "seconds": secs,
           "mb_s": nbytes / 1e6 / secs, "rows_s": rows / secs, "peak_rss_mb": _peak_mb()[0]}
    out["best_score"] = best
    return out


def run_child(args, *extra: str) -> dict:
    cmd = [sys.executable, __file__, "--_child", *extra, "--n", str(args.n), "--data-dir", args.data_dir,
           "--plant-every", str(args.plant_every)]
    cmd += ["--suite", args.suite] if args.suite else []
    cmd += ["--tasks", args.tasks] if args.tasks else []
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=1000, help="size of the large stream (MB)")
    ap.add_argument("--small-mb", type=float, default=100, help="size of the small stream (MB), for memory")
    ap.add_argument("--baseline-mb", type=float, default=20, help="stream size for the pure-Python baseline")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--suite", default=None)
    ap.add_argument("--tasks", default=None)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--plant-every", type=int, default=20000)
    ap.add_argument("--data-dir", default=os.environ.get("TULU_EVAL_DATA", "../shared/data"))
    ap.add_argument("--_child", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--compare-rows", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.suite and not args.tasks:
        args.suite = "dev,unseen"
    if args._child:
        mode, size, *rest = args._child
        res = child_baseline(args, float(size)) if mode == "baseline" else child_scan(args, float(size), int(rest[0]))
        print(json.dumps(res))
        return
    print(f"cores available: {len(os.sched_getaffinity(0))}; eval suite: {args.suite or args.tasks}; n={args.n}",
          flush=True)
    base = run_child(args, "baseline", str(args.baseline_mb))
    same = run_child(args, "scan", str(args.baseline_mb), "1", "--compare-rows")
    diff = float(np.max(np.abs(np.array(base["best_score"]) - np.array(same["best_score"]))))
    runs = [base, same,
            run_child(args, "scan", str(args.small_mb), "1"),
            run_child(args, "scan", str(args.mb), "1"),
            run_child(args, "scan", str(args.mb), str(args.workers))]
    print(f"eval index: {same['index_instances']:,} instances, {same['index_ngrams']:,} distinct n-grams, built in "
          f"{same['index_build_s']:.1f} s; stream generator alone: {same['generator_mb_s']:.0f} MB/s")
    print(f"{'what':<34} {'MB':>7} {'rows':>10} {'s':>7} {'MB/s':>7} {'rows/s':>9} {'peak RSS MB':>12} "
          f"{'worker RSS':>10} {'planted found':>14}")
    for r in runs:
        what = "pure-Python baseline" if r["mode"] == "baseline" else f"tulu_eval.decontam, {r['workers']} worker(s)"
        found = f"{r['planted_found']}/{r['planted']}" if "planted" in r else "-"
        kids = f"{r['peak_worker_rss_mb']:.0f}" if r.get("workers", 1) > 1 and "peak_worker_rss_mb" in r else "-"
        print(f"{what:<34} {r['mb']:>7.0f} {r['rows']:>10,} {r['seconds']:>7.1f} {r['mb_s']:>7.1f} {r['rows_s']:>9,.0f} "
              f"{r['peak_rss_mb']:>12.0f} {kids:>10} {found:>14}")
    print(f"speed-up over the baseline (1 worker): {same['mb_s'] / base['mb_s']:.1f}x; "
          f"max |score difference| on the same {base['rows']:,} rows: {diff:.2g}")
    print(f"peak RSS at {runs[2]['mb']:.0f} MB vs {runs[3]['mb']:.0f} MB (1 worker): "
          f"{runs[2]['peak_rss_mb']:.0f} MB vs {runs[3]['peak_rss_mb']:.0f} MB "
          f"(of which before the scan, eval index loaded: {runs[3]['rss_before_scan_mb']:.0f} MB)")
    flagged = sum(r.get("other_rows_flagged", 0) for r in runs[1:])
    print(f"rows flagged that were not planted (all runs): {flagged}")


if __name__ == "__main__":
    main()
