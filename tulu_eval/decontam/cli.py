"""``tulu-eval decontaminate``: the command line over :func:`tulu_eval.decontam.decontaminate`."""

from __future__ import annotations

from pathlib import Path

import click

DATA_HELP = "Benchmark data folder (layout of shared/data/SOURCES.md). Default: $TULU_EVAL_DATA."


@click.command("decontaminate")
@click.argument("train", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--suite", help="Eval suite(s) to check against: dev, unseen, or dev,unseen (the default when no --tasks).")
@click.option("--tasks", "tasks_", help="Comma-separated eval task names (see `tulu-eval tasks`).")
@click.option("-n", "--ngram", "n", type=click.IntRange(min=1), default=8, show_default=True,
              help="Words per n-gram.")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=0.5, show_default=True,
              help="An instance is contaminated when this fraction of its n-grams is in one training row.")
@click.option("--field", default="auto", show_default=True,
              help="Training field holding the prompt (dots go into objects: a.b); auto picks messages "
                   "(user turns), conversations, prompt, instruction+input, question, problem, ..., chosen.")
@click.option("--all-turns", is_flag=True, help="Use every turn of a conversation, not only the user turns.")
@click.option("--output-dir", "-o", type=click.Path(path_type=Path), default=Path("decontamination"),
              show_default=True, help="Where decontamination.json (and clean copies) are written.")
@click.option("--write-clean", is_flag=True,
              help="Also write <output-dir>/<name>.clean.<ext>: each training file without the matching rows.")
@click.option("--workers", "-j", type=click.IntRange(min=1), help="Worker processes. Default: all cores.")
@click.option("--data-dir", help=DATA_HELP)
@click.option("--include-path", multiple=True, help="Extra folder of task declarations (*.py). Repeatable.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def decontaminate(train, suite, tasks_, n, threshold, field, all_turns, output_dir, write_clean, workers, data_dir,
                  include_path, no_progress):
    """Find eval instances whose prompt appears in TRAIN files (jsonl, json, parquet, csv).

    Each eval prompt (no few-shot exemplars, task template words dropped) is split into word
    n-grams; its score is the largest fraction of them found in any single training row, and it
    counts as contaminated when the score is >= --threshold. Prints a table per (training file,
    eval task), writes the matching pairs with their overlapping text to decontamination.json.
    """
    from .scan import REPORT_NAME, decontaminate as run  # noqa: PLC0415

    if not suite and not tasks_:
        suite = "dev,unseen"

    def log(msg: str) -> None:
        click.echo(msg, err=True)

    report = run(list(train), suite=suite, tasks=tasks_, n=n, threshold=threshold, field=field, all_turns=all_turns,
                 data_dir=data_dir, include_path=tuple(include_path), workers=workers, progress=not no_progress,
                 output_dir=output_dir, clean=write_clean, log=log)
    idx = report.index
    for task, why in idx.skipped.items():
        log(f"note: skipped {task}: {why}")
    by_task: dict = {}
    for key, edges in idx.trimmed.items():
        by_task.setdefault(key.split("/")[0], []).append(edges)
    for task, edges in by_task.items():
        pre, suf = (t if len(t) <= 40 else t[:18] + "…" + t[-18:] for t in edges[0])
        groups = f" (in each of {len(edges)} groups; e.g.)" if len(edges) > 1 else ""
        log(f"note: {task}: template words every prompt starts/ends with are not indexed{groups}: {pre!r} … {suf!r}")
    click.echo(f"{len(idx.ids):,} eval instances from {len(idx.tasks)} tasks, {len(idx.lookup.keys):,} distinct "
               f"{n}-grams; threshold {threshold}")
    for f in report.files:
        rate = f.bytes / max(f.seconds, 1e-9) / 1e6
        click.echo(f"{f.label}: {f.rows:,} rows, field {f.field}; {f.bytes / 1e6:.1f} MB in {f.seconds:.1f} s "
                   f"({rate:.1f} MB/s, {f.rows / max(f.seconds, 1e-9):,.0f} rows/s)"
                   + (f"; clean copy: {f.clean_file}" if f.clean_file else ""))
    click.echo("")
    click.echo(report.table())
    click.echo(f"\nreport: {output_dir / REPORT_NAME}")
