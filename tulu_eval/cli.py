"""The ``tulu-eval`` command line: thin wrappers that parse, call, and print."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from .api.backends import BACKENDS
from .engine.reasoning import cli_options as reasoning_options, config_from_flags as reasoning_config
from .errors import UserError
from .options import DATA_HELP, parse_model_args

# Commands implemented in their own modules, imported only when used ("name": "module:function").
LAZY_COMMANDS = {
    "report": "tulu_eval.report.cli:report",
    "compare-runs": "tulu_eval.report.cli:compare_runs",
    "pipeline": "tulu_eval.pipeline.cli:pipeline",
    "decontaminate": "tulu_eval.decontam.cli:decontaminate",
    "train-sft": "tulu_eval.train.cli:train_sft",
    "train-dpo": "tulu_eval.train.cli:train_dpo",
    "train-rlvr": "tulu_eval.train.cli:train_rlvr",
    "build-rlvr-data": "tulu_eval.train.cli:build_rlvr_data",
    "probe-rlvr": "tulu_eval.train.cli:probe_rlvr",
}


def _lazy(name: str):
    import importlib  # noqa: PLC0415

    module, func = LAZY_COMMANDS[name].split(":")
    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError):
        return None


class _Group(click.Group):
    """Lazily loaded subcommands; a UserError anywhere below becomes one line on stderr, exit 2."""

    def list_commands(self, ctx):
        extra = [n for n in LAZY_COMMANDS if _lazy(n) is not None]
        return sorted(set(super().list_commands(ctx)) | set(extra))

    def get_command(self, ctx, name):
        cmd = super().get_command(ctx, name)
        if cmd is None and name in LAZY_COMMANDS:
            cmd = _lazy(name)
        return cmd

    def invoke(self, ctx):
        from .procs import Interrupted, reap_children  # noqa: PLC0415

        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"tulu-eval: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Interrupted as exc:  # SIGINT/SIGTERM: the engine is already shut down; end what is left
            import traceback  # noqa: PLC0415

            traceback.clear_frames(exc.__traceback__)  # progress bars held by the frames close now, not after our line
            reap_children()
            hint = RESUME_HINTS.get(ctx.invoked_subcommand or "", "rerun the same command")
            click.echo(exc.line(hint), err=True)
            sys.exit(exc.exit_code)


# Commands that start processes: they run under tulu_eval.procs.guard (children never outlive the
# harness; SIGINT/SIGTERM stop them cleanly), with what to tell the user after a stop.
RESUME_HINTS = {
    "run": "rerun the same command to resume",
    "score": "rerun the same command",
    "decontaminate": "rerun the same command",
    "pipeline": "rerun the same command: finished stages and evaluations are kept",
    "probe-rlvr": "rerun the same command",
    **{f"train-{k}": "rerun with --resume to continue from the last saved checkpoint" for k in ("sft", "dpo", "rlvr")},
}


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tulu-eval")
def main():
    """Evaluate post-trained models on the Tülu 3 dev and unseen suites.

    \b
    Quick start (bundled SmolLM2-135M-Instruct, data in $TULU_EVAL_DATA):
      tulu-eval tasks
      tulu-eval run --suite dev --limit 5
      tulu-eval score runs/SmolLM2-135M-Instruct/dev-limit5
    """
    # PyTorch's CPU allocator with transparent huge pages (2 MiB-aligned, madvise): training steps and
    # log-likelihood batches free and re-allocate buffers of hundreds of MB, which with 4 KiB pages the kernel
    # faults in and zeroes page by page. Measured on this 2-core machine: DPO (dpo_hh_rlhf, steps 1-10) 29.6 ->
    # 25.0 s a step, system time 62 % -> 25 % of its CPU; a 400 MB alloc-and-fill loop 8.0 -> 2.7 s. Set before
    # torch is imported (children inherit it); THP_MEM_ALLOC_ENABLE=0 turns it off.
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    if click.get_current_context().invoked_subcommand in RESUME_HINTS:
        from .procs import guard  # noqa: PLC0415

        guard()


@main.command()
@click.option("--suite", help="Suite(s) to run: dev, unseen, or dev,unseen.")
@click.option("--tasks", "tasks_", help="Comma-separated task names (see `tulu-eval tasks`).")
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate only the first N instances of each task.")
@click.option("--model", help="HF hub id, local checkpoint folder, or openai:<name>. Default: the bundled SmolLM2-135M-Instruct (also by name: bundled).")
@click.option("--base-url", help="OpenAI-compatible server URL for --model openai:<name> (e.g. http://127.0.0.1:8000/v1).")
@click.option("--backend", type=click.Choice(list(BACKENDS)),
              help="Inference engine. Default: vllm where it imports, else hf; openai for openai: models.")
@click.option("--model-args", help="Backend options as k=v,k=v (dtype=bfloat16, batch_size=16, "
              "gpu_memory_utilization=0.5, max_model_len=8192, api=completions, concurrency=16, ...).")
@click.option("--model-revision", help="A label of the model's weights, part of its fingerprint (cache key, results): "
              "for openai: models, whose weights the server does not reveal, the way to tell checkpoints apart.")
@click.option("--chat-template/--no-chat-template", default=None,
              help="Format prompts with the model's chat template (default: when the model has one).")
@click.option("--max-tokens", type=click.IntRange(min=1),
              help="Cap every task's max new tokens (smoke tests; scores are then not comparable).")
@click.option("--output-dir", "-o", help="Run folder. Default: runs/<model>-<hash of model and settings>/<suite-or-tasks>[-limitN].")
@click.option("--data-dir", help=DATA_HELP)
@click.option("--include-path", multiple=True, help="Extra folder of task declarations (*.py). Repeatable.")
@click.option("--cache", help="Generation cache file (sqlite). Default: ~/.cache/tulu_eval/generations.sqlite.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the generation cache.")
@click.option("--judge-model", help="Judge model for tasks scored by a model (AlpacaEval, safety classifier): "
              "HF id, folder, or openai:<name>.")
@click.option("--judge-base-url", help="Server URL when --judge-model is openai:<name>.")
@click.option("--judge-backend", type=click.Choice(list(BACKENDS)), help="Backend of the judge model.")
@click.option("--judge-model-args", help="Judge backend options as k=v,k=v.")
@click.option("--chunk-size", type=click.IntRange(min=1),
              help="Requests handed to the backend at once; generations are cached after each chunk.")
@click.option("--no-report", is_flag=True, help="Do not write report.html into the run folder.")
@click.option("--allow-code-execution", is_flag=True, help="Run model-written code (HumanEval) in the sandbox "
              "(tulu_eval/sandbox/execute.py); also $TULU_EVAL_ALLOW_CODE_EXECUTION=1. Without it such tasks are refused.")
@click.option("--code-sandbox", type=click.Choice(["bwrap", "unsafe-no-isolation"]),
              help="Where model code runs: bwrap (default; needs the bubblewrap package) or unsafe-no-isolation "
              "(limits only: the code can read your files and use the network). Also $TULU_EVAL_SANDBOX.")
@reasoning_options()
@click.option("--samples", type=click.IntRange(min=2), help="k samples per problem (greedy tasks sample at T=0.6, "
              "top_p 0.95); adds avg_at_k and pass_at_k (see tulu_eval/engine/sampling.py).")
@click.option("--training-manifest", multiple=True, type=click.Path(), help="decontamination.json of the model's "
              "training data (or a folder holding one; repeatable, e.g. one per training stage): results.json then "
              "lists, per task, the instances that overlap it and the score on the clean rest. Default: the model "
              "folder's own decontamination.json, which the trainers write.")
@click.option("--json", "as_json", is_flag=True, help="Print results.json to stdout instead of the table.")
@click.option("-v", "--verbose", is_flag=True, help="Show the inference engine's own output (by default it goes to "
              "<run folder>/engine.log and the terminal shows one progress line and the table).")
@click.option("--data-parallel", type=click.IntRange(min=1), help="N vLLM engine replicas as Ray actors (GPUs by "
              "Ray's accounting; on CPU the cores split between them); needs pip install 'tulu-eval[ray]'.")
@click.option("--ray-address", help="An existing Ray cluster for --data-parallel (e.g. auto, after `ray start "
              "--head`); default: a local Ray started for the run.")
def run(suite, tasks_, limit, model, base_url, backend, model_args, chat_template, max_tokens, output_dir, data_dir,
        include_path, cache, no_cache, judge_model, judge_base_url, judge_backend, judge_model_args, chunk_size,
        no_report, allow_code_execution, code_sandbox, reasoning, reasoning_pattern, reasoning_max_tokens, samples,
        training_manifest, as_json, verbose=False, data_parallel=None, ray_address=None, model_revision=None):
    """Generate, verify and score; write a run folder and print a table.

    The run folder holds results.json (metrics with standard errors, config, model
    fingerprint, versions, data hashes, timings, token counts) and predictions/<task>.jsonl.
    Generations are cached, so re-running a killed command resumes it.
    """
    from .engine.judge import JudgeConfig  # noqa: PLC0415
    from .engine.plan import RunConfig  # noqa: PLC0415
    from .engine.run import run as run_eval  # noqa: PLC0415
    from .results.folder import format_table  # noqa: PLC0415

    margs = parse_model_args(model_args)
    if chat_template is not None:
        margs["use_chat_template"] = chat_template
    cfg = RunConfig(suite=suite, tasks=tasks_, limit=limit, model=model, base_url=base_url, backend=backend,
                    output_dir=output_dir, data_dir=data_dir, include_path=tuple(include_path), model_args=margs,
                    cache="" if no_cache else cache, progress=True, max_tokens=max_tokens,
                    chunk_size=chunk_size, report=not no_report, allow_code_execution=allow_code_execution,
                    code_sandbox=code_sandbox,
                    reasoning=reasoning_config(reasoning, reasoning_pattern, reasoning_max_tokens) or None,
                    samples=samples,
                    judge=JudgeConfig(judge_model, judge_base_url, judge_backend, parse_model_args(judge_model_args)),
                    model_revision=model_revision, training_manifest=tuple(training_manifest), quiet=not verbose,
                    data_parallel=data_parallel, ray_address=ray_address)
    result = run_eval(cfg)
    if as_json:
        click.echo(json.dumps({k: v for k, v in result.items() if not k.startswith("_")}, indent=2))
    else:
        click.echo(format_table(result))
        click.echo(f"\nrun folder: {result['_run_dir']}")


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--include-path", multiple=True, help="Extra folder of task declarations, as given to `run`.")
@click.option("--allow-code-execution", is_flag=True, help="Run model-written code (HumanEval) in the sandbox "
              "(tulu_eval/sandbox/execute.py); also $TULU_EVAL_ALLOW_CODE_EXECUTION=1. Without it such tasks are refused.")
@click.option("--code-sandbox", type=click.Choice(["bwrap", "unsafe-no-isolation"]),
              help="Where model code runs: bwrap (default; needs the bubblewrap package) or unsafe-no-isolation "
              "(limits only: the code can read your files and use the network). Also $TULU_EVAL_SANDBOX.")
@reasoning_options(score=True)
@click.option("--training-manifest", multiple=True, type=click.Path(),
              help="decontamination.json of the model's training data (or a folder holding one; repeatable): flag the "
              "instances that overlap it and score the clean rest. Default: what the run folder was scored with.")
def score(run_dir, include_path, allow_code_execution, code_sandbox, reasoning, reasoning_pattern, training_manifest):
    """Re-score a run folder's saved predictions (no model is loaded)."""
    from .engine.run import rescore  # noqa: PLC0415
    from .results.folder import format_table  # noqa: PLC0415

    click.echo(format_table(rescore(run_dir, tuple(include_path), allow_code_execution, code_sandbox,
                                    reasoning_config(reasoning, reasoning_pattern), tuple(training_manifest))))


@main.command("tasks")
@click.option("--suite", help="Only this suite (dev or unseen).")
@click.option("--data-dir", help=DATA_HELP)
@click.option("--include-path", multiple=True, help="Extra folder of task declarations (*.py). Repeatable.")
def tasks_cmd(suite, data_dir, include_path):
    """List tasks: name, suite, skill, instances, primary metric, data found or not."""
    from .data.files import resolve_data_dir  # noqa: PLC0415
    from .registry import Registry  # noqa: PLC0415

    registry = Registry(include_path)
    ddir = resolve_data_dir(data_dir)
    chosen = registry.suite(suite) if suite else list(registry.tasks.values())
    click.echo(f"{'task':<34} {'suite':<7} {'skill':<22} {'instances':>9}  {'primary metric':<26} data")
    for task in sorted(chosen, key=lambda t: (t.suite, t.name)):
        files = task.data_files_in(ddir)
        missing = [f.relpath for f in files if f.locate(ddir) is None]
        if missing:
            count, found = "-", f"missing: {', '.join(missing)}"
        else:  # a task with alternative layouts (DROP) names the one it uses
            count = str(len(task.load_docs(ddir)))
            found = "found" if files == task.data_files() else f"found: {', '.join(f.relpath for f in files)}"
        click.echo(f"{task.full_name:<34} {task.suite:<7} {task.skill:<22} {count:>9}  {task.primary_metric:<26} {found}")


if __name__ == "__main__":  # pragma: no cover
    main()
