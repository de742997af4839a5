"""``tulu-eval report RUN_DIR... -o report.html``: one self-contained HTML leaderboard."""

from __future__ import annotations

from pathlib import Path

import click

from .render import DEFAULT_MAX_INSTANCES, write_report


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="HTML file to write. Default: RUN_DIR/report.html for one run folder, else ./report.html.")
@click.option("--title", help="Page title. Default: the models' names.")
@click.option("--max-instances", type=click.IntRange(min=0), default=DEFAULT_MAX_INSTANCES, show_default=True,
              help="Instances listed per model/run and task (failures first); the rest are only counted.")
@click.option("--bootstrap-iters", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Paired bootstrap resamples per task and pair of runs.")
def report(run_dirs, output, title, max_instances, bootstrap_iters):
    """Render run folders into one HTML file that opens offline.

    Leaderboard (sortable, ± standard errors, dev/unseen averages and their gap), per-skill
    gaps, paired-bootstrap significance between runs, per-task drill-down with instances
    (failures first), run metadata, and inline SVG charts. Runs of the same model and
    backend settings with disjoint tasks (e.g. a dev run and an unseen run) share one row.
    """
    out = output or (run_dirs[0] / "report.html" if len(run_dirs) == 1 else Path("report.html"))
    info = write_report(list(run_dirs), out, title=title, max_instances=max_instances, iters=bootstrap_iters)
    click.echo(f"wrote {info['path']} ({info['bytes'] / 1e6:.2f} MB, {info['seconds']:.2f} s)")


@click.command("compare-runs")
@click.argument("base_run", type=click.Path(path_type=Path))
@click.argument("trained_run", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("comparison.json"), show_default=True,
              help="JSON file to write.")
@click.option("--task", help="Task of the primary comparison (its p-value is comparison.json's p_value). "
              "Default: ifeval when both runs have it.")
@click.option("--metric", help="Metric of the primary comparison. Default: prompt_level_loose for ifeval, "
              "else the task's primary metric.")
@click.option("--bootstrap-iters", type=click.IntRange(min=100), default=10000, show_default=True,
              help="Paired bootstrap resamples.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--also", nargs=2, multiple=True, type=click.Path(path_type=Path), metavar="BASE_RUN TRAINED_RUN",
              help="Another pair of run folders whose tasks join the comparison (tasks run at another --limit). "
              "Repeatable; a task may come from one pair only.")
def compare_runs(base_run, trained_run, output, task, metric, bootstrap_iters, seed, also):
    """Write comparison.json for a base run and a trained run of the same tasks.

    \b
    For every task both run folders evaluated: each metric's value, stderr and n from their
    results.json ("base", "trained"), a paired bootstrap over the shared instances of each task's
    primary metric ("tests"), and "p_value": that of the primary comparison (IFEval
    prompt_level_loose by default). Only the two folders are read, so anyone can recompute it:
      tulu-eval compare-runs runs/base/dev-limit20 runs/trained/dev-limit20 -o comparison.json
    Tasks run at another limit join from another pair of folders:
      tulu-eval compare-runs runs/base/ifeval runs/trained/ifeval \\
          --also runs/base/gsm8k-limit50 runs/trained/gsm8k-limit50 -o comparison.json
    """
    from .comparison import compare_runs as compare, summary_lines, write_comparison  # noqa: PLC0415

    data = compare(base_run, trained_run, task=task, metric=metric, iters=bootstrap_iters, seed=seed, also=list(also))
    for line in summary_lines(data):
        click.echo(line)
    click.echo(f"wrote {write_comparison(data, output)}")
