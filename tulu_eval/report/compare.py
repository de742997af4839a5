"""Pairwise significance between leaderboard entries: paired bootstrap per task on shared instances.

Instances are paired by id. Each instance's score is its primary metric (the mean of its
judgements when the metric is a list, e.g. IFEval's per-instruction verdicts); the statistic is
the task's aggregate over the shared instances: micro (weighted by judgements) or macro over
groups, as the run reported it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..scoring.metrics import PairedComparison, paired_bootstrap_test
from .load import Entry, TaskView

ALPHA = 0.05


@dataclass
class Pair:
    a: int  # entry indexes
    b: int
    result: PairedComparison | None
    note: str = ""

    @property
    def winner(self) -> int:
        return self.result.winner(ALPHA) if self.result else 0


def _weights(ids: list[str], va: TaskView) -> list[float]:
    if va.mode != "macro":
        return [float(va.counts[i]) for i in ids]
    size: dict[str, int] = {}
    for i in ids:
        size[va.groups.get(i, "")] = size.get(va.groups.get(i, ""), 0) + va.counts[i]
    return [va.counts[i] / size[va.groups.get(i, "")] for i in ids]


def compare_task(va: TaskView, vb: TaskView, iters: int, seed: int = 0) -> tuple[PairedComparison | None, str]:
    if va.missing or vb.missing:
        return None, "predictions missing"
    ids = [i for i in va.scores if i in vb.scores]
    if not ids:
        return None, "no shared instances"
    result = paired_bootstrap_test([va.scores[i] for i in ids], [vb.scores[i] for i in ids],
                                   weights=_weights(ids, va), iters=iters, seed=seed)
    return result, ""


def pairwise(entries: list[Entry], task_names: list[str], iters: int = 2000) -> dict[str, list[Pair]]:
    """For each task, every pair of entries that both ran it (A = the earlier entry)."""
    out: dict[str, list[Pair]] = {}
    for task in task_names:
        pairs = []
        have = [k for k, e in enumerate(entries) if task in e.views]
        for x, a in enumerate(have):
            for b in have[x + 1:]:
                result, note = compare_task(entries[a].views[task], entries[b].views[task], iters)
                pairs.append(Pair(a, b, result, note))
        out[task] = pairs
    return out


def win_matrix(n: int, pairs: dict[str, list[Pair]]) -> list[list[dict]]:
    """cell[a][b]: tasks where a beats b significantly, b beats a, and tasks compared."""
    cells = [[{"wins": 0, "losses": 0, "compared": 0} for _ in range(n)] for _ in range(n)]
    for plist in pairs.values():
        for p in plist:
            if p.result is None:
                continue
            for x, y, sign in ((p.a, p.b, 1), (p.b, p.a, -1)):
                cells[x][y]["compared"] += 1
                if p.winner == sign:
                    cells[x][y]["wins"] += 1
                elif p.winner == -sign:
                    cells[x][y]["losses"] += 1
    return cells


def suite_gain(new: Entry, old: Entry, suite: str, iters: int = 2000, seed: int = 0) -> dict | None:
    """``new`` − ``old`` on a suite average, with a stratified paired bootstrap: each task of the average
    (the tasks both entries averaged) is resampled over its shared instances, and each replicate is the
    mean of the tasks' replicates. None when the two share no task of the suite."""
    from ..scoring.metrics import stratified_bootstrap_test  # noqa: PLC0415

    names = [t for t in (new.suites.get(suite) or {}).get("tasks", []) if t in (old.suites.get(suite) or {}).get("tasks", [])]
    strata = []
    for t in names:
        vn, vo = new.views.get(t), old.views.get(t)
        if vn is None or vo is None or vn.missing or vo.missing:
            continue
        ids = [i for i in vn.scores if i in vo.scores]
        if ids:
            strata.append(([vn.scores[i] for i in ids], [vo.scores[i] for i in ids], _weights(ids, vn)))
    if not strata:
        return None
    result = stratified_bootstrap_test(strata, iters=iters, seed=seed)
    return {"diff": result.diff, "ci_low": result.ci_low, "ci_high": result.ci_high, "p_value": result.p_value,
            "tasks": len(strata), "n": result.n, "significant": result.p_value < ALPHA}
