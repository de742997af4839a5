"""``comparison.json``: a base run and a trained run side by side, with a paired-bootstrap p-value.

Written by ``tulu-eval compare-runs BASE_RUN TRAINED_RUN -o comparison.json`` from two run folders
only (their ``results.json`` and ``predictions/``), so anyone holding the folders can recompute it::

    {"base":    {"ifeval": {"prompt_level_loose": {"value", "stderr", "n"}, ...}, ...},
     "trained": {same tasks and metrics},
     "p_value": two-sided paired-bootstrap p of the primary comparison (IFEval prompt-level loose
                by default), null when that task is not in both runs,
     "primary": {"task", "metric", "diff" (trained - base), "ci95", "n" (shared instances), "iters", "seed"},
     "tests":   {task: the same for that task's primary metric},
     "runs":    {"base": folder, "trained": folder}, "models": {"base": name, "trained": name},
     "also":    [{"base", "trained", "tasks", "limit"}: more pairs of folders (``--also``), when given]}

Tasks are those both runs evaluated; every metric either run reports is listed with what its
``results.json`` says. The bootstrap pairs instances by id and resamples them as the report's
pairwise table does (:mod:`tulu_eval.report.compare`): each instance's score is the mean of its
judgements of the metric, weighted by their number (micro) or by group (macro, when that is how the
run aggregated the metric).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from ..errors import UserError
from ..results.folder import read_results
from .compare import compare_task
from .load import Run, read_view

DEFAULT_PRIMARY = ("ifeval", "prompt_level_loose")


def _metric_view(run: Run, task: str, metric: str):
    """The run's predictions of ``task`` scored on ``metric`` (any metric, not only the primary one)."""
    summary = run.results["tasks"][task]
    value = (summary.get("metrics", {}).get(metric) or {}).get("value")
    return read_view(run, task, {"primary_metric": metric, "primary": {"value": value}}, max_instances=0)


def _test(base: Run, trained: Run, task: str, metric: str, iters: int, seed: int) -> dict:
    for run in (base, trained):
        if metric not in run.results["tasks"][task].get("metrics", {}):
            raise UserError(f"{run.path}: task {task} has no metric {metric!r} "
                            f"(it has: {', '.join(run.results['tasks'][task].get('metrics', {}))})")
    # A = trained, B = base: the difference is the gain of training
    result, note = compare_task(_metric_view(trained, task, metric), _metric_view(base, task, metric), iters, seed)
    out = {"task": task, "metric": metric, "test": "paired bootstrap over shared instances, two-sided"}
    if result is None:
        return {**out, "p_value": None, "note": note}
    return {**out, "diff": result.diff, "ci95": [result.ci_low, result.ci_high], "p_value": result.p_value,
            "n": result.n, "iters": result.iters, "seed": seed}


def _metrics(summary: dict) -> dict:
    return {m: {k: v.get(k) for k in ("value", "stderr", "n")} for m, v in sorted(summary.get("metrics", {}).items())}


def _limits(base: Run, trained: Run) -> dict:
    return {k: (r.results.get("selection") or {}).get("limit") for k, r in (("base", base), ("trained", trained))}


def compare_runs(base_dir: str | os.PathLike, trained_dir: str | os.PathLike, task: str | None = None,
                 metric: str | None = None, iters: int = 10000, seed: int = 0,
                 also: list[tuple[str | os.PathLike, str | os.PathLike]] = ()) -> dict:
    """``also``: more (base, trained) pairs of run folders whose tasks join the comparison, for tasks run
    at another ``--limit`` (all 541 IFEval prompts in one pair of folders, GSM8K at limit 50 in another).
    A task may come from one pair only."""
    pairs = []
    owner: dict[str, int] = {}
    for i, (b_dir, t_dir) in enumerate([(base_dir, trained_dir), *also]):
        base = Run(Path(b_dir), read_results(Path(b_dir)))
        trained = Run(Path(t_dir), read_results(Path(t_dir)))
        shared = [t for t in base.results.get("tasks", {}) if t in trained.results.get("tasks", {})]
        if not shared:
            raise UserError(f"{b_dir} and {t_dir} share no task: nothing to compare")
        for t in shared:
            if t in owner:
                raise UserError(f"task {t} is in two pairs of runs ({pairs[owner[t]][0].path} and {b_dir}): "
                                "compare it from one")
            owner[t] = i
        pairs.append((base, trained, shared))
    shared = list(owner)
    if task is not None and task.split("::")[0] not in shared:
        raise UserError(f"--task {task}: not in both runs (shared: {', '.join(shared)})")
    task = task.split("::")[0] if task else None
    if task is None and metric is not None:
        raise UserError("--metric needs --task")
    if task is None and DEFAULT_PRIMARY[0] in shared:
        task, metric = DEFAULT_PRIMARY
    pair = {t: pairs[owner[t]][:2] for t in shared}
    if task is not None and metric is None:
        metric = pair[task][0].results["tasks"][task]["primary_metric"]
    tests = {t: _test(*pair[t], t, pair[t][0].results["tasks"][t]["primary_metric"], iters, seed) for t in shared}
    primary = None
    if task is not None:
        primary = tests[task] if metric == tests[task]["metric"] else _test(*pair[task], task, metric, iters, seed)
    base, trained = pairs[0][:2]
    out = {
        "base": {t: _metrics(pair[t][0].results["tasks"][t]) for t in shared},
        "trained": {t: _metrics(pair[t][1].results["tasks"][t]) for t in shared},
        "p_value": primary["p_value"] if primary else None,
        "primary": primary,
        "tests": tests,
        "runs": {"base": str(base.path), "trained": str(trained.path)},
        "models": {"base": base.results.get("model", {}).get("name"),
                   "trained": trained.results.get("model", {}).get("name")},
        "limit": _limits(base, trained),
        "note": None if primary else f"no primary comparison: {DEFAULT_PRIMARY[0]} is not in both runs; pass --task",
    }
    if also:
        out["also"] = [{"base": str(b.path), "trained": str(t.path), "tasks": sh, "limit": _limits(b, t)}
                       for b, t, sh in pairs[1:]]
    return out


def write_comparison(data: dict, out: str | os.PathLike) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=True) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out


def summary_lines(data: dict) -> list[str]:
    """A few lines for the terminal: per task, primary metric base -> trained, gain and p."""
    lines = [f"{'task':<22} {'metric':<26} {'base':>6} {'trained':>8} {'gain':>7} {'p':>7}"]
    for task, test in data["tests"].items():
        metric = test["metric"]
        b, t = data["base"][task][metric]["value"], data["trained"][task][metric]["value"]
        p = test.get("p_value")
        gain = t - b if isinstance(b, (int, float)) and isinstance(t, (int, float)) else math.nan
        lines.append(f"{task:<22} {metric:<26} {100 * b:>6.1f} {100 * t:>8.1f} {100 * gain:>+7.1f} "
                     f"{'n/a' if p is None else format(p, '.3f'):>7}")
    prim = data.get("primary")
    if prim:
        lines.append(f"primary: {prim['task']} {prim['metric']}: p = {data['p_value']}")
    else:
        lines.append(data["note"])
    return lines
