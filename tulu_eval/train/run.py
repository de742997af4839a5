"""What every trainer shares: checks, output folder, resume, decontamination warning, saving, curves.

``train(kind, recipe, options)`` runs, in this order, so that a user's mistake costs nothing:

1. the recipe is already checked (:mod:`.recipe`); the data file is read and every row converted
   and checked (:mod:`.data`), verifier names included; the TRL config is built (TRL's own checks);
2. the output folder: an existing one with checkpoints needs ``--resume`` (continue from the last
   ``checkpoint-N``) or ``--overwrite`` (delete those checkpoints);
3. the decontamination check (:mod:`tulu_eval.decontam`, n-gram overlap of the training prompts
   with the eval suites' prompts): a warning with counts per task, the full report written to
   ``decontamination.json`` in the output folder; ``--no-decontam`` skips it;
4. the model is loaded and TRL trains (its progress bar, its checkpoints every ``save_steps``);
5. the final model and tokenizer are saved in the output folder itself, so that
   ``tulu-eval run --model <output folder>`` evaluates it (so does any ``checkpoint-N``), next to
   ``recipe.yaml`` (the recipe as run), ``train_log.jsonl`` (every logged step), ``curves.svg``
   and ``train_summary.json`` (wall time, steps, first/last metrics, data counts).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click
import yaml

from ..errors import UserError
from . import data as train_data
from .plot import write_curves
from .recipe import Recipe, make_trl_config

CURVES = {
    "sft": ["loss", "mean_token_accuracy", "learning_rate", "grad_norm"],
    "dpo": ["loss", "rewards/margins", "rewards/accuracies", "rewards/chosen", "rewards/rejected", "logps/chosen"],
    "rlvr": ["reward", "rewards/verifier_reward/mean", "reward_std", "kl", "completions/mean_length",
             "completions/clipped_ratio"],
}


@dataclass
class Options:
    data_dir: str | None = None
    resume: bool = False
    overwrite: bool = False
    decontam: bool = True


def is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") == "0"


def say(text: str, err: bool = True) -> None:
    if is_main_process():
        click.echo(text, err=err)


def checkpoints(out: Path) -> list[Path]:
    found = [p for p in out.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-")[-1]))


def checkpoint_step(ckpt: Path) -> int:
    """The global step a checkpoint folder was saved at (0 when it has no trainer state)."""
    state = ckpt / "trainer_state.json"
    return json.loads(state.read_text(encoding="utf-8")).get("global_step", 0) if state.is_file() else 0


def prepare_output(out: Path, options: Options, max_steps: int = -1) -> Path | None:
    """The checkpoint to resume from (None: start fresh); refuses to mix two runs in one folder, and a
    resume of a finished run from a checkpoint already at ``max_steps`` (transformers 5 would train one step
    more). An unfinished one there (stopped between its last checkpoint and the final save) is returned:
    ``train`` then only saves that checkpoint as the run's model."""
    existing = checkpoints(out) if out.is_dir() else []
    if options.resume and options.overwrite:
        raise UserError("--resume and --overwrite contradict each other")
    if existing and not (options.resume or options.overwrite):
        raise UserError(f"{out} already has {existing[-1].name}; pass --resume to continue it or --overwrite "
                        "to start again")
    if options.overwrite and is_main_process():
        for ckpt in existing:
            shutil.rmtree(ckpt)
        return None
    if options.resume:
        if not existing:
            say(f"--resume: {out} has no checkpoint yet; starting from the beginning")
            return None
        last = existing[-1]
        done = checkpoint_step(last)
        if max_steps > 0 and done >= max_steps and (out / "train_summary.json").is_file():
            raise UserError(f"--resume: {last} is at step {done}, the run's max_steps is {max_steps}: nothing to "
                            f"train (raise --max-steps to go on, or evaluate it: tulu-eval run --model {out})")
        return last
    return None


def resolve_model_path(name: str) -> str:
    from ..models import resolve_model  # noqa: PLC0415

    spec = resolve_model(name)
    if spec.is_openai:
        raise UserError(f"model {name}: an API model cannot be trained")
    return spec.path


def decontam_warning(rows: list[dict], recipe: Recipe, out: Path, data_dir: str | None) -> dict:
    """Scan the training prompts against the eval suites; warn, write the report, return a summary."""
    from ..decontam.index import EvalIndex  # noqa: PLC0415
    from ..decontam.scan import Scanner  # noqa: PLC0415
    from ..decontam.report import DecontamReport  # noqa: PLC0415

    spec = recipe.decontam
    start = time.perf_counter()
    index = EvalIndex.from_registry(suite=spec.suite, data_dir=data_dir, n=spec.n)
    with Scanner(index, threshold=spec.threshold, workers=1) as scanner:
        result = scanner.scan_texts(train_data.prompt_texts(rows), label="training prompts")
    report = DecontamReport(index, spec.threshold, [result])
    report.write_json(out / "decontamination.json")
    per_task = {s["task"]: s["contaminated"] for s in report.summary(result) if s["contaminated"]}
    rows_hit = len(result.contaminated_rows())
    summary = {"suite": spec.suite, "n": spec.n, "threshold": spec.threshold, "eval_instances": len(index.ids),
               "contaminated_eval_instances": per_task, "training_rows_matched": rows_hit,
               "seconds": round(time.perf_counter() - start, 1)}
    if per_task:
        tasks = ", ".join(f"{t}: {c}" for t, c in sorted(per_task.items()))
        say(f"warning: {rows_hit} training prompt(s) overlap eval instances of the {spec.suite} suite(s) "
            f"({tasks}); details in {out / 'decontamination.json'}")
    else:
        say(f"decontamination: no training prompt overlaps the {spec.suite} suite(s) "
            f"({len(index.ids)} eval instances, {summary['seconds']} s)")
    return summary


def train(recipe: Recipe, options: Options, make_trainer: Callable[..., Any]) -> dict:
    """Run one trainer; ``make_trainer(recipe, rows, model_path, tokenizer, config)`` builds the TRL trainer."""
    kind = recipe.trainer
    rows, data_summary = train_data.load(recipe.data, kind, options.data_dir)
    out = Path(recipe.output_dir).expanduser()
    config = make_trl_config(recipe, out)
    resume_from = prepare_output(out, options, config.max_steps)
    model_path = resolve_model_path(recipe.model)
    out.mkdir(parents=True, exist_ok=True)
    say(f"train-{kind}: {data_summary['examples']} examples from {data_summary['file']} "
        f"({data_summary['skipped']} skipped), model {recipe.model}, output {out}")
    decontam = None
    if options.decontam and recipe.decontam.check and is_main_process():
        decontam = decontam_warning(rows, recipe, out, options.data_dir)
    if is_main_process():
        (out / "recipe.yaml").write_text(yaml.safe_dump(recipe.to_dict(), sort_keys=False), encoding="utf-8")

    from transformers import AutoTokenizer  # noqa: PLC0415

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise UserError(f"model {recipe.model}: its tokenizer has no chat template, which training formats with")
    start = time.perf_counter()
    if resume_from is not None and 0 < config.max_steps <= checkpoint_step(resume_from):
        # stopped after its last checkpoint, before the final save: that checkpoint is the trained model
        from transformers import TrainerState  # noqa: PLC0415

        say(f"--resume: {resume_from.name} is at max_steps ({config.max_steps}); no step left to train, saving it "
            "as the run's model")
        trainer = make_trainer(recipe, rows, str(resume_from), tokenizer, config)
        trainer.state = TrainerState.load_from_json(str(resume_from / "trainer_state.json"))
        result = None
    else:
        trainer = make_trainer(recipe, rows, model_path, tokenizer, config)
        result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    wall = time.perf_counter() - start
    trainer.save_model(str(out))
    summary = {}
    if trainer.is_world_process_zero():
        summary = write_outputs(trainer, recipe, out, wall, data_summary, decontam, resume_from, result)
        say(f"saved {out} (evaluate with: tulu-eval run --model {out}); {summary['steps']} steps in "
            f"{wall:.0f} s; curves in {out / 'curves.svg'}")
    return summary


def _peak_rss_mib() -> float:
    """The largest resident set of this process so far (Linux reports KiB), MiB: training's memory cost
    (after ``--resume``, of the resumed part only; ``wall_seconds`` likewise)."""
    import resource  # noqa: PLC0415

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_outputs(trainer, recipe: Recipe, out: Path, wall: float, data_summary: dict, decontam: dict | None,
                  resume_from: Path | None, result) -> dict:
    import torch  # noqa: PLC0415
    import transformers  # noqa: PLC0415
    import trl  # noqa: PLC0415

    history = trainer.state.log_history
    with (out / "train_log.jsonl").open("w", encoding="utf-8") as fh:
        for entry in history:
            fh.write(json.dumps(entry) + "\n")
    keys = CURVES[recipe.trainer] + sorted({k for e in history for k in e
                                             if k.startswith("rewards/") and k.endswith("/mean")} - set(CURVES["rlvr"]))
    plotted = write_curves(history, keys if recipe.trainer == "rlvr" else CURVES[recipe.trainer],
                           out / "curves.svg", title=f"train-{recipe.trainer}: {Path(recipe.source).name}")
    steps = [e for e in history if "step" in e and "loss" in e or "reward" in e]
    first, last = (steps[0], steps[-1]) if steps else ({}, {})
    summary = {
        "trainer": recipe.trainer, "recipe": recipe.source, "model": recipe.model, "output_dir": str(out),
        "steps": trainer.state.global_step, "wall_seconds": round(wall, 1), "world_size": trainer.args.world_size,
        "resumed_from": str(resume_from) if resume_from else None,
        "train_runtime": getattr(result, "metrics", {}).get("train_runtime"),
        "peak_rss_mib": _peak_rss_mib(),
        "first_logged": first, "last_logged": last, "curves": plotted, "data": data_summary,
        "decontamination": decontam,
        "versions": {"trl": trl.__version__, "transformers": transformers.__version__, "torch": torch.__version__,
                     "python": sys.version.split()[0]},
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary
