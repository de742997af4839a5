"""tulu-eval's overhead over a plain vLLM script on the same prompts (issue 14).

    python benchmarks/bench_overhead.py [--tasks gsm8k::tulu,ifeval::tulu] [--limit 20] [--max-tokens N]

1. ``tulu-eval run`` (vLLM, no cache) on the tasks; wall time of the whole command.
2. A plain script in a fresh process: reads that run's recorded prompts (``predictions/*.jsonl``)
   and each task's sampling settings, starts ``vllm.LLM`` with the engine settings recorded in
   ``results.json`` (its OpenMP threads on the same cores), calls ``LLM.generate`` once on every prompt, writes the texts; wall time of the
   whole process (start-up, import and engine start included, as for tulu-eval).

Prints both walls, their ratio (goal: tulu-eval <= 1.10x the plain script) and how many outputs are
identical (goal: all). Generation-only tasks: log-likelihood tasks have no plain-script twin here.
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

PLAIN = r'''
import json, sys, time


def main():
    t0 = time.perf_counter()
    from vllm import LLM, SamplingParams
    job = json.load(open(sys.argv[1]))
    llm = LLM(model=job["model"], tokenizer=job["model"], **job["engine"])
    tok = llm.get_tokenizer()
    inputs, params = [], []
    for r in job["requests"]:
        ids = tok(r["prompt"], add_special_tokens=not job["chat_template"])["input_ids"]
        inputs.append({"prompt_token_ids": ids})
        params.append(SamplingParams(n=r["n"], temperature=r["temperature"],
                                     top_p=r["top_p"] if r["temperature"] > 0 else 1.0,
                                     max_tokens=min(r["max_tokens"], job["max_model_len"] - len(ids)),
                                     stop=r["stop"] or None, skip_special_tokens=True))
    outs = llm.generate(inputs, params, use_tqdm=False)
    json.dump([o.outputs[0].text for o in outs], open(sys.argv[2], "w"))
    print(json.dumps({"generate_s": time.perf_counter() - t0}))


if __name__ == "__main__":  # vLLM starts its engine process with spawn
    main()
'''


def apply_stop(text: str, stop: list[str]) -> str:
    cut = len(text)
    for s in stop:
        i = text.find(s) if s else -1
        if 0 <= i < cut:
            cut = i
    return text[:cut]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="gsm8k::tulu,ifeval::tulu")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--max-tokens", type=int)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from tulu_eval.registry import Registry  # noqa: PLC0415

    tmp = Path(tempfile.mkdtemp(prefix="bench_overhead_"))
    run_dir = tmp / "run"
    cmd = [sys.executable, "-m", "tulu_eval.cli", "run", "--tasks", args.tasks, "--limit", str(args.limit),
           "--backend", "vllm", "--no-cache", "--no-report", "-o", str(run_dir)]
    if args.max_tokens:
        cmd += ["--max-tokens", str(args.max_tokens)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    tulu_wall = time.perf_counter() - t0

    results = json.loads((run_dir / "results.json").read_text())
    backend = results["backend"]
    registry = Registry()
    requests, ours = [], []
    for pred in sorted((run_dir / "predictions").glob("*.jsonl")):
        rows = [json.loads(line) for line in pred.open()]
        settings = registry.get(rows[0]["task"]).generation
        for row in rows:
            if "continuations" in row:
                continue
            requests.append({"prompt": row["prompt"], "n": settings.n, "temperature": settings.temperature,
                             "top_p": settings.top_p, "stop": list(settings.stop),
                             "max_tokens": min(settings.max_tokens, args.max_tokens or settings.max_tokens)})
            ours.append(row["output"])
    engine = {k: backend[k] for k in ("dtype", "seed", "enforce_eager", "gpu_memory_utilization",
                                      "tensor_parallel_size", "max_model_len") if k in backend}
    job = {"model": results["model"]["path"], "engine": engine, "chat_template": backend.get("chat_template", True),
           "max_model_len": backend["max_model_len"], "requests": requests}
    (tmp / "job.json").write_text(json.dumps(job))
    (tmp / "plain.py").write_text(PLAIN)
    env = {**os.environ}
    if backend.get("cpu_threads_bind"):  # the same cores as tulu-eval's engine (vllm.py: cpu_threads_bind)
        env["VLLM_CPU_OMP_THREADS_BIND"] = backend["cpu_threads_bind"]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(tmp / "plain.py"), str(tmp / "job.json"), str(tmp / "out.json")], check=True,
                   stdout=subprocess.DEVNULL, stderr=(tmp / "plain.log").open("w"), env=env)
    plain_wall = time.perf_counter() - t0
    plain = [apply_stop(t, r["stop"]) for t, r in zip(json.loads((tmp / "out.json").read_text()), requests)]
    same = sum(a == b for a, b in zip(ours, plain))

    print(f"tasks {args.tasks}, limit {args.limit}, {len(requests)} generation requests, "
          f"{results.get('tokens_generated')} tokens generated by tulu-eval")
    print(f"{'':24}{'wall s':>10}")
    print(f"{'tulu-eval run':24}{tulu_wall:10.1f}")
    print(f"{'plain LLM.generate':24}{plain_wall:10.1f}")
    print(f"ratio tulu-eval / plain: {tulu_wall / plain_wall:.2f}x (goal <= 1.10x)")
    print(f"identical outputs: {same}/{len(requests)}")


if __name__ == "__main__":
    main()
