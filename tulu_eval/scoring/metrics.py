"""Corpus-level metrics: means with standard errors, micro or macro over groups.

Sample records carry ``metrics: {name: value}``, where a value is a number (one per
instance) or a list of numbers (several judgements per instance, e.g. IFEval's per-instruction
verdicts, averaged micro over all of them). Standard errors are analytic (sample standard
deviation / sqrt(n), as lm-eval reports for means); a macro average over groups combines the
per-group variances.
"""

from __future__ import annotations

import math
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
    return paired_bootstrap_test(a, b, iters=iters, seed=seed).p_a_not_better


@dataclass
class PairedComparison:
    """A paired bootstrap comparison of A and B on their shared instances."""

    diff: float  # observed A - B of the (weighted) mean
    ci_low: float
    ci_high: float
    p_value: float  # two-sided: how often the resampled difference falls on either side of 0, doubled
    p_a_not_better: float  # one-sided: share of resamples with A - B <= 0
    n: int
    iters: int

    def winner(self, alpha: float = 0.05) -> int:
        """1 if A beats B significantly, -1 if B beats A, 0 if the difference is not significant."""
        if self.p_value >= alpha:
            return 0
        return 1 if self.diff > 0 else -1 if self.diff < 0 else 0


def paired_bootstrap_test(a: Sequence[float], b: Sequence[float], weights: Sequence[float] | None = None,
                          iters: int = 2000, seed: int = 0, confidence: float = 0.95) -> PairedComparison:
    """Paired bootstrap over instances (Koehn 2004; Berg-Kirkpatrick et al. 2012).

    ``a[i]`` and ``b[i]`` are the two systems' scores on the same instance ``i``; ``weights[i]``
    (default 1) is its share of the aggregate, e.g. its number of judgements for a micro average
    over per-instance lists, or 1/group size for a macro average over groups. Each resample draws
    ``n`` instances with replacement; the statistic is the weighted mean difference with the
    weights held fixed (a linearisation of ratio statistics). Drawing ``n`` instances with
    replacement is drawing multinomial counts over the distinct per-instance differences, which
    keeps this fast: binary metrics have at most a handful of distinct values.
    """
    import numpy as np  # noqa: PLC0415

    observed, stats = _resampled(a, b, weights, iters, np.random.default_rng(seed))
    return _summarize(observed, stats, len(a), iters, confidence)


def _resampled(a, b, weights, iters: int, rng):
    """The observed weighted mean difference and ``iters`` bootstrap replicates of it."""
    import numpy as np  # noqa: PLC0415

    if len(a) != len(b) or not len(a):
        raise ValueError("paired bootstrap needs two equally long, non-empty score lists")
    n = len(a)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if len(w) != n or w.sum() <= 0:
        raise ValueError("paired bootstrap: weights must match the scores and sum to a positive number")
    x = (np.asarray(a, dtype=float) - np.asarray(b, dtype=float)) * w * (n / w.sum())
    values, counts = np.unique(np.round(x, 12), return_counts=True)
    observed = float(x.mean())
    if len(values) == 1:
        return observed, np.full(iters, values[0])
    return observed, rng.multinomial(n, counts / n, size=iters) @ values / n


def stratified_bootstrap_test(strata: Sequence[tuple[Sequence[float], Sequence[float], Sequence[float] | None]],
                              iters: int = 2000, seed: int = 0, confidence: float = 0.95) -> PairedComparison:
    """Paired bootstrap of an unweighted mean over strata (e.g. a suite average over tasks): each
    stratum ``(a, b, weights)`` is resampled on its own, as :func:`paired_bootstrap_test` does, and
    each replicate is the mean of the strata's replicates. ``n`` is the number of instances in all."""
    import numpy as np  # noqa: PLC0415

    if not strata:
        raise ValueError("stratified bootstrap needs at least one stratum")
    rng = np.random.default_rng(seed)
    parts = [_resampled(a, b, w, iters, rng) for a, b, w in strata]
    observed = sum(p[0] for p in parts) / len(parts)
    stats = sum(p[1] for p in parts) / len(parts)
    return _summarize(observed, stats, sum(len(s[0]) for s in strata), iters, confidence)


def _summarize(observed: float, stats, n: int, iters: int, confidence: float) -> PairedComparison:
    import numpy as np  # noqa: PLC0415

    low, high = np.quantile(stats, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    le, ge = float(np.mean(stats <= 0)), float(np.mean(stats >= 0))
    return PairedComparison(diff=observed, ci_low=float(low), ci_high=float(high), p_value=min(1.0, 2 * min(le, ge)),
                            p_a_not_better=le, n=n, iters=iters)
