"""How long ``tulu-eval report`` takes, and how big the file gets, for 5 runs x 20 tasks x 1,000 instances.

Run folders are synthesized in a temporary folder with the layout and field sizes of real ones:
a few-shot prompt prefix of ~3,000 characters shared by a task's instances, a question of ~300,
outputs of 200-3,000 characters, binary verdicts correlated between runs, every fifth task with
per-instance lists of judgements (as IFEval) and every fifth grouped into 57 subjects with a
macro average (as MMLU). Budget (issue 5): under 5 s and under 20 MB.

    python benchmarks/bench_report.py [--runs 5] [--tasks 20] [--instances 1000] [--max-instances 50]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

WORDS = ("the model answer question number step total each more than less so therefore we have then "
         "apples dollars hours minutes price half twice left right first second last").split()
SKILLS = ("math", "instruction following", "knowledge", "reasoning", "code", "safety", "chat")


def _text(rng: random.Random, chars: int) -> str:
    out, size = [], 0
    while size < chars:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def _mean_se(values: list[float]) -> dict:
    n = len(values)
    mu = sum(values) / n
    var = sum((v - mu) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return {"value": mu, "stderr": (var / n) ** 0.5, "n": n}


def make_runs(root: Path, runs: int, tasks: int, instances: int, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    names = [f"task{t:02d}" for t in range(tasks)]
    prefixes = {n: "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + "\n".join(
        _text(rng, 370) for _ in range(8)) + "\n" for n in names}
    questions = {n: [_text(rng, rng.randint(150, 450)) for _ in range(instances)] for n in names}
    difficulty = {n: [rng.random() for _ in range(instances)] for n in names}
    dirs = []
    for r in range(runs):
        run_dir = root / f"model{r}"
        (run_dir / "predictions").mkdir(parents=True)
        skill_of = {n: SKILLS[i % len(SKILLS)] for i, n in enumerate(names)}
        suite_of = {n: "dev" if i < tasks // 2 else "unseen" for i, n in enumerate(names)}
        task_results = {}
        for ti, name in enumerate(names):
            ability = 0.3 + 0.1 * r + 0.02 * (ti % 5)
            kind = "list" if ti % 5 == 1 else "macro" if ti % 5 == 2 else "binary"
            rows, flat, per_group = [], [], {}
            for i in range(instances):
                group = f"subject{i % 57:02d}" if kind == "macro" else None
                judgements = rng.randint(1, 3) if kind == "list" else 1
                vals = [float(rng.random() * 1.2 < ability + 0.4 * (1 - difficulty[name][i])) for _ in range(judgements)]
                metric = vals if kind == "list" else vals[0]
                flat.extend(vals)
                per_group.setdefault(group, []).extend(vals)
                verdict = sum(vals) / len(vals)
                output = _text(rng, rng.randint(200, 3000))
                rows.append({"id": str(i), "task": name, "group": group, "prompt": prefixes[name] + questions[name][i],
                             "output": output, "gold": str(rng.randint(1, 999)), "extracted": output[-6:].strip() or None,
                             "verdict": verdict, "metrics": {"acc": metric}, "details": {},
                             "num_tokens": len(output) // 4, "finish_reason": rng.choice(["stop", "stop", "length"])})
            with (run_dir / "predictions" / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row) + "\n")
            if kind == "macro":
                parts = [_mean_se(v) for v in per_group.values()]
                primary = {"value": sum(p["value"] for p in parts) / len(parts),
                           "stderr": sum(p["stderr"] ** 2 for p in parts) ** 0.5 / len(parts), "n": len(flat)}
            else:
                primary = _mean_se(flat)
            task_results[name] = {
                "full_name": f"{name}::bench", "suite": suite_of[name], "skill": skill_of[name], "primary_metric": "acc",
                "primary": primary, "metrics": {"acc": primary}, "num_instances": instances,
                "tokens_generated": sum(row["num_tokens"] for row in rows),
                "generation": {"max_tokens": 1024, "temperature": 0.0, "top_p": 1.0, "n": 1, "stop": []},
                "data_files": {f"{name}/test.jsonl": "0" * 64}}
            if kind == "macro":
                task_results[name]["groups"] = {g: _mean_se(v) for g, v in sorted(per_group.items())}
        suites = {}
        for suite in ("dev", "unseen"):
            ran = [n for n in names if suite_of[n] == suite]
            suites[suite] = {"average": sum(task_results[n]["primary"]["value"] for n in ran) / len(ran),
                             "tasks": ran, "missing": [], "complete": True}
        results = {"tulu_eval_version": "bench", "created": "2026-01-01T00:00:00+00:00", "command": ["bench"],
                   "model": {"name": f"bench/model-{r}", "path": None, "kind": "synthetic", "fingerprint": f"sha256:{r:016x}"},
                   "backend": {"backend": "synthetic"}, "selection": {"suite": "dev,unseen", "tasks": names, "limit": None},
                   "tasks": task_results, "skipped": {}, "suites": suites,
                   "tokens_generated": sum(t["tokens_generated"] for t in task_results.values()),
                   "timings": {"total_s": 1.0}, "versions": {"python": sys.version.split()[0]}}
        (run_dir / "results.json").write_text(json.dumps(results), encoding="utf-8")
        dirs.append(run_dir)
    return dirs


def bench(runs: int, tasks: int, instances: int, max_instances: int, workdir: Path) -> dict:
    from tulu_eval.report import render  # noqa: PLC0415
    from tulu_eval.report.load import load_entries  # noqa: PLC0415

    dirs = make_runs(workdir, runs, tasks, instances)
    data_mb = sum(p.stat().st_size for d in dirs for p in d.rglob("*") if p.is_file()) / 1e6
    out = workdir / "report.html"
    t0 = time.perf_counter()
    info = render.write_report(dirs, out, max_instances=max_instances)
    total = time.perf_counter() - t0
    # the same work again in stages, for the table
    t1 = time.perf_counter()
    entries = load_entries(dirs, max_instances=max_instances)
    t2 = time.perf_counter()
    ctx = render.build_context(entries, title="bench", max_instances=max_instances, iters=2000)
    t3 = time.perf_counter()
    render._env().get_template("report.html.j2").render(**ctx)
    t4 = time.perf_counter()
    return {"runs": runs, "tasks": tasks, "instances": instances, "max_instances": max_instances,
            "input_mb": data_mb, "total_s": total, "load_s": t2 - t1, "compare_s": t3 - t2, "render_s": t4 - t3,
            "report_mb": info["bytes"] / 1e6}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--instances", type=int, default=1000)
    ap.add_argument("--max-instances", type=int, default=50)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_report_") as tmp:
        res = bench(args.runs, args.tasks, args.instances, args.max_instances, Path(tmp))
    ok_time, ok_size = res["total_s"] < 5.0, res["report_mb"] < 20.0
    print(f"{'runs':>5} {'tasks':>6} {'instances':>10} {'cap':>5} {'input MB':>9} {'load s':>7} {'pairwise s':>11} "
          f"{'render s':>9} {'total s':>8} {'report MB':>10}")
    print(f"{res['runs']:>5} {res['tasks']:>6} {res['instances']:>10,} {res['max_instances']:>5} {res['input_mb']:>9.1f} "
          f"{res['load_s']:>7.2f} {res['compare_s']:>11.2f} {res['render_s']:>9.2f} {res['total_s']:>8.2f} "
          f"{res['report_mb']:>10.2f}")
    print(f"budget: total < 5 s {'OK' if ok_time else 'EXCEEDED'}; report < 20 MB {'OK' if ok_size else 'EXCEEDED'}")
    return 0 if ok_time and ok_size else 1


if __name__ == "__main__":
    sys.exit(main())
