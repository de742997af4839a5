"""``tulu-eval pipeline PIPELINE.yaml``: the command line over :mod:`tulu_eval.pipeline`."""

from __future__ import annotations

import click

from ..api.backends import BACKENDS
from ..options import DATA_HELP


@click.command("pipeline")
@click.argument("pipeline_file", metavar="PIPELINE.yaml")
@click.option("--output-dir", "-o", help="Folder of the stages, run folders and report (overrides output_dir).")
@click.option("--limit", type=click.IntRange(min=1), help="Evaluate the first N instances of each task (eval.limit).")
@click.option("--backend", type=click.Choice(list(BACKENDS)), help="Inference engine of the evals (eval.backend).")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Cap every task's new tokens (eval.max_tokens; smoke tests).")
@click.option("--data-dir", help=DATA_HELP)
@click.option("--cache", help="Generation cache file (sqlite). Default: ~/.cache/tulu_eval/generations.sqlite.")
@click.option("--bootstrap-iters", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Paired bootstrap resamples for the gains.")
@click.option("--check", is_flag=True, help="Only check the pipeline file and its recipes, print the plan, train nothing.")
def pipeline(pipeline_file, output_dir, limit, backend, max_tokens, data_dir, cache, bootstrap_iters, check):
    """Train a pipeline's stages (SFT -> DPO -> RLVR, any subset), evaluate every model alike, report.

    The base model and every stage's output are evaluated with the same settings, and one
    report compares them.

    \b
    PIPELINE.yaml (see training/tulu3_mini.yaml):
      base: bundled                        # starting model
      output_dir: runs/pipeline/tulu3_mini
      stages:                              # each trains from the previous stage's output
        - {name: sft, recipe: training/sft_codealpaca.yaml, overrides: {trl.max_steps: 50}}
        - {name: dpo, recipe: training/dpo_hh_rlhf.yaml}
      eval: {suite: dev,unseen, limit: 20}  # also tasks, backend, model_args, max_tokens

    \b
    Everything is checked before anything trains. Resumable: a stage whose folder has
    train_summary.json is not re-run (a stopped one continues from its last checkpoint), and a
    model already evaluated with the same weights and settings is not re-evaluated. Writes
    OUTPUT_DIR/report.html (stage rows, gains over base and previous stage with paired-bootstrap
    p, dev -> unseen gap per stage), comparison.json (base vs last stage) and pipeline.json.
    """
    from .run import format_summary, load_pipeline, run_pipeline  # noqa: PLC0415

    pipe = load_pipeline(pipeline_file, output_dir=output_dir, limit=limit, backend=backend, max_tokens=max_tokens,
                         data_dir=data_dir)
    if check:
        click.echo(f"{pipeline_file}: ok. base {pipe.base}; output {pipe.output_dir}")
        model = pipe.base
        for s in pipe.stages:
            extra = ", ".join(f"{k}={v}" for k, v in s.overrides.items())
            click.echo(f"  {s.name}: train-{s.kind} {s.recipe}{f' ({extra})' if extra else ''} from {model}")
            model = str(pipe.stage_dir(s))
        e = pipe.eval
        click.echo(f"  eval: {e.suite or ''} {e.tasks or ''} limit {e.limit} backend {e.backend or 'default'}")
        return
    click.echo(format_summary(run_pipeline(pipe, data_dir=data_dir, cache=cache, iters=bootstrap_iters)))
