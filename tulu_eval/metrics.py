"""Corpus-level metrics: means with standard errors, micro or macro over groups.

Sample records carry ``metrics: {name: value}``, where a value is a number (one per
instance) or a list of numbers (several judgements per instance, e.g. IFEval's per-instruction
verdicts, averaged micro over all of them). Standard errors are analytic (sample standard
deviation / sqrt(n), as lm-eval reports for means); a macro average over groups combines the
per-group variances.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass
class MetricValue:
    value: float
    stderr: float
    n: int

    def as_dict(self) -> dict:
        return {"value": self.value, "stderr": self.stderr, "n": self.n}


def mean_stderr(values: Sequence[float]) -> MetricValue:
    n = len(values)
    if n == 0:
        return MetricValue(float("nan"), float("nan"), 0)
    mu = sum(values) / n
    if n < 2:
        return MetricValue(mu, float("nan"), n)
    var = sum((v - mu) ** 2 for v in values) / (n - 1)
    return MetricValue(mu, math.sqrt(var / n), n)


def macro_mean(groups: dict[str, Sequence[float]]) -> MetricValue:
    """Mean of group means; its stderr combines the groups' standard errors."""
    parts = [mean_stderr(v) for v in groups.values() if len(v)]
    if not parts:
        return MetricValue(float("nan"), float("nan"), 0)
    k = len(parts)
    value = sum(p.value for p in parts) / k
    se_terms = [p.stderr for p in parts if not math.isnan(p.stderr)]
    stderr = math.sqrt(sum(s * s for s in se_terms)) / k if se_terms else float("nan")
    return MetricValue(value, stderr, sum(p.n for p in parts))


def _flatten(value) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    return [float(value)]


def aggregate_records(records: Iterable[dict], macro_over_groups: bool = False) -> dict[str, MetricValue]:
    """Aggregate every metric found in the records' ``metrics`` dicts."""
    per_metric: dict[str, list[float]] = defaultdict(list)
    per_group: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for rec in records:
        for name, value in rec["metrics"].items():
            if value is None:
                continue
            vals = _flatten(value)
            per_metric[name].extend(vals)
            per_group[name][rec.get("group") or ""].extend(vals)
    out: dict[str, MetricValue] = {}
    for name, values in per_metric.items():
        out[name] = macro_mean(per_group[name]) if macro_over_groups else mean_stderr(values)
    return out


def group_breakdown(records: Iterable[dict], metric: str) -> dict[str, MetricValue]:
    groups: dict[str, list[float]] = defaultdict(list)
    for rec in records:
        value = rec["metrics"].get(metric)
        if value is not None and rec.get("group"):
            groups[rec["group"]].extend(_flatten(value))
    return {g: mean_stderr(v) for g, v in sorted(groups.items())}


def paired_bootstrap(a: Sequence[float], b: Sequence[float], iters: int = 1000, seed: int = 0) -> float:
    """Share of bootstrap resamples of shared instances in which A does not beat B (a p-value)."""
    if len(a) != len(b) or not a:
        raise ValueError("paired bootstrap needs two equally long, non-empty score lists")
    rng = random.Random(seed)
    n = len(a)
    diffs = [x - y for x, y in zip(a, b)]
    worse = 0
    for _ in range(iters):
        s = sum(diffs[rng.randrange(n)] for _ in range(n))
        if s <= 0:
            worse += 1
    return worse / iters
