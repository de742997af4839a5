"""The pipeline section of a report: one row per stage (base, then each trained stage), its dev and
unseen averages and their gap, and its gains over the base and over the stage before it, each with
a paired-bootstrap p (per task: on that task's shared instances; per suite average: stratified over
the average's tasks, :func:`tulu_eval.report.compare.suite_gain`)."""

from __future__ import annotations

from .compare import ALPHA, Pair, suite_gain
from .load import Entry

SUITES = ("dev", "unseen")


def _task_gain(pairs: dict[str, list[Pair]], new: int, old: int) -> dict[str, dict]:
    out = {}
    for task, plist in pairs.items():
        for p in plist:
            if {p.a, p.b} != {new, old} or p.result is None:
                continue
            sign = 1 if p.a == new else -1  # a pair's diff is A - B
            r = p.result
            lo, hi = sorted((sign * r.ci_low + 0.0, sign * r.ci_high + 0.0))  # + 0.0: no "-0.0" 
            out[task] = {"diff": sign * r.diff + 0.0, "ci_low": lo, "ci_high": hi, "p_value": r.p_value, "n": r.n,
                         "significant": r.p_value < ALPHA}
    return out


def _avg(entry: Entry, suite: str):
    s = entry.suites.get(suite)
    return s["average"] if s else None


def stage_rows(entries: list[Entry], pairs: dict[str, list[Pair]], meta: list[dict], iters: int = 2000) -> list[dict]:
    """``entries[k]`` is stage ``meta[k]`` (``meta[0]`` the base model): rows for the report and pipeline.json."""
    rows = []
    for k, (entry, m) in enumerate(zip(entries, meta)):
        dev, unseen = _avg(entry, "dev"), _avg(entry, "unseen")
        row = {**m, "k": k, "label": entry.label, "dev": dev, "unseen": unseen,
               "gap": dev - unseen if dev is not None and unseen is not None else None,
               "vs_base": {}, "vs_previous": {}, "tasks_vs_base": {}, "tasks_vs_previous": {}}
        for key, other in (("base", 0), ("previous", k - 1)):
            if k == 0:
                continue
            row[f"vs_{key}"] = {s: suite_gain(entry, entries[other], s, iters) for s in SUITES
                                if s in entry.suites and s in entries[other].suites}
            tasks = _task_gain(pairs, k, other)
            row[f"tasks_vs_{key}"] = tasks
            row[f"better_vs_{key}"] = sorted(t for t, g in tasks.items() if g["significant"] and g["diff"] > 0)
            row[f"worse_vs_{key}"] = sorted(t for t, g in tasks.items() if g["significant"] and g["diff"] < 0)
        rows.append(row)
    return rows
