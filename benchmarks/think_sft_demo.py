"""Reasoning mode on a model that really writes ``<think>`` traces: the bundled SmolLM2-135M-Instruct
fine-tuned for a few SFT steps on GSM8K train answers rewritten as "<think>\\n{worked solution}\\n</think>
\\n\\nThe answer is {n}.", then evaluated with ``--reasoning`` (the termination rate then measures
whether the tiny model closes its trace within the budget).

    python benchmarks/think_sft_demo.py [--rows 400] [--steps 12] [--out runs/think_demo]

Writes ``<out>/think_sft.jsonl`` (the SFT rows), trains into ``<out>/model`` (``tulu-eval
train-sft`` with ``training/sft_think_demo.yaml``), and runs ``tulu-eval run --reasoning`` on
IFEval and GSM8K into ``<out>/eval``; prints the table. Needs $TULU_EVAL_DATA (gsm8k/train.jsonl).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path


def think_rows(train: Path, n: int) -> list[dict]:
    rows = []
    for line in train.read_text(encoding="utf-8").splitlines()[:n]:
        r = json.loads(line)
        steps, answer = r["answer"].split("####")
        steps = re.sub(r"<<[^>]*>>", "", steps).strip()
        rows.append({"messages": [{"role": "user", "content": r["question"]},
                                  {"role": "assistant",
                                   "content": f"<think>\n{steps}\n</think>\n\nThe answer is {answer.strip()}."}]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--out", default="runs/think_demo")
    ap.add_argument("--backend", default="vllm")
    args = ap.parse_args()
    data_dir = Path(os.environ["TULU_EVAL_DATA"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sft = out / "think_sft.jsonl"
    sft.write_text("".join(json.dumps(r) + "\n" for r in think_rows(data_dir / "gsm8k" / "train.jsonl", args.rows)),
                   encoding="utf-8")
    cli = [sys.executable, "-m", "tulu_eval.cli"]
    recipe = Path(__file__).resolve().parents[1] / "training" / "sft_think_demo.yaml"
    subprocess.run([*cli, "train-sft", "--recipe", str(recipe), "--data", str(sft), "-o", str(out / "model"),
                    "--max-steps", str(args.steps), "--no-decontam", "--overwrite"], check=True)
    subprocess.run([*cli, "run", "--model", str(out / "model"), "--backend", args.backend, "--tasks", "ifeval,gsm8k",
                    "--limit", str(args.limit), "--reasoning", "--reasoning-max-tokens", "256", "--max-tokens", "64",
                    "-o", str(out / "eval"), "--no-report"], check=True)


if __name__ == "__main__":
    main()
