"""Suite averages as the Tülu 3 report computes them (Lambert et al. 2024, Tables 2 and 6).

A suite is a fixed list of entries, one per column of the report's table. Each entry names the
task (by registry name; the first of several candidate names that ran), the metric that enters
the average (None: the task's primary metric), and, where we know it, why its data is missing.
The suite average is the unweighted mean of the entries' values (each in [0, 1]); how a task
averages over its own instances or subtasks (micro or macro) is already in that task's metric
(BBH micro over 27 subtasks, MATH macro over 7 subjects, Safety macro over its benchmarks).

When entries are missing the average is over the k that ran and is reported as "partial: k of N"
with every missing entry named and its reason (skipped for missing data or judge, no task,
not selected, or no value). Tasks outside the declaration never enter the average.

* dev (12 columns): MMLU (0-shot CoT), PopQA (15-shot), TruthfulQA (MC2), BBH (3-shot CoT),
  DROP (3-shot, F1; shared/data has OLMES's 1,000-question subsample, a user's full split is
  used when present, see tasks/drop.py), MATH (4-shot CoT, flex), GSM8K (8-shot CoT),
  HumanEval (pass@10), HumanEval+ (pass@10), IFEval (prompt-level loose), AlpacaEval 2
  (length-controlled win rate), Safety (6-benchmark average; we have 2 of them, see tasks/safety.py).
* unseen (7 columns): AGIEval English, MMLU-Pro, GPQA (data withheld by its authors), IFEval-OOD,
  DeepMind Mathematics, BigCodeBench and HREF (HF-hub-only data, not here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    label: str
    tasks: tuple[str, ...]  # candidate task names, first that ran wins
    metric: str | None = None  # None: the task's primary metric
    unavailable: str | None = None  # why no data exists here (shown when the entry is missing)


@dataclass(frozen=True)
class Suite:
    name: str
    entries: tuple[Entry, ...]
    rule: str


_NO_DATA = "no data here (shared/data/SOURCES.md, 'Not found')"

DEV = Suite("dev", (
    Entry("MMLU", ("mmlu",)),
    Entry("PopQA", ("popqa",)),
    Entry("TruthfulQA", ("truthfulqa",), "mc2"),
    Entry("BBH", ("bbh",)),
    Entry("DROP", ("drop",), "f1"),
    Entry("MATH", ("minerva_math",), "exact_match_flex"),
    Entry("GSM8K", ("gsm8k",), "exact_match"),
    Entry("HumanEval", ("codex_humaneval",), "pass_at_10"),
    Entry("HumanEval+", ("codex_humanevalplus",), "pass_at_10"),
    Entry("IFEval", ("ifeval",), "prompt_level_loose"),
    Entry("AlpacaEval 2", ("alpaca_eval",), "length_controlled_winrate"),
    Entry("Safety", ("safety",), "safe"),
), "unweighted mean over the report's 12 dev columns")

UNSEEN = Suite("unseen", (
    Entry("AGIEval English", ("agieval", "agi_eval_english")),
    Entry("MMLU-Pro", ("mmlu_pro",)),
    Entry("GPQA", ("gpqa",), unavailable="GPQA: data withheld on purpose (password-protected release)"),
    Entry("IFEval-OOD", ("ifeval_ood", "ifbench")),
    Entry("DeepMind Math", ("deepmind_math",)),
    Entry("BigCodeBench", ("bigcodebench", "bigcodebench_hard"), unavailable=f"BigCodeBench: {_NO_DATA}"),
    Entry("HREF", ("href",), unavailable=f"HREF: {_NO_DATA}"),
), "unweighted mean over the report's unseen columns")

SUITES = {"dev": DEV, "unseen": UNSEEN}


def _value(summary: dict, metric: str | None) -> tuple[float, str, str]:
    """(value, metric used, note) of one task summary from results.json."""
    primary = summary["primary_metric"]
    metrics = summary.get("metrics") or {}
    if metric and metric in metrics:
        return metrics[metric]["value"], metric, ""
    note = f"{metric} not computed, used {primary}" if metric and metric != primary else ""
    return summary["primary"]["value"], primary, note


def _reason(entry: Entry, skipped: dict[str, str], known: set[str] | None) -> str:
    for name in entry.tasks:
        if name in skipped:
            return f"skipped: {skipped[name]}"
    if entry.unavailable:
        return entry.unavailable
    if known is not None and not any(n in known for n in entry.tasks):
        return f"no task named {entry.tasks[0]} is declared"
    return "not run (not selected)"


def compute(suite: Suite, task_results: dict[str, dict], skipped: dict[str, str] | None = None,
            known: set[str] | None = None) -> dict | None:
    """The suite's average over the entries that have a value; None when no entry ran."""
    skipped = skipped or {}
    entries, missing, reasons = [], [], {}
    for entry in suite.entries:
        name = next((n for n in entry.tasks if n in task_results), None)
        value = metric = note = None
        if name is not None:
            value, metric, note = _value(task_results[name], entry.metric)
        if name is None or value is None or (isinstance(value, float) and math.isnan(value)):
            key = name or entry.tasks[0]
            missing.append(key)
            reasons[key] = "no value (nan)" if name else _reason(entry, skipped, known)
            continue
        entries.append({"label": entry.label, "task": name, "metric": metric, "value": value,
                        **({"note": note} if note else {})})
    if not entries:
        return None
    values = [e["value"] for e in entries]
    return {"average": sum(values) / len(values), "tasks": [e["task"] for e in entries], "missing": missing,
            "complete": not missing, "n": len(entries), "of": len(suite.entries), "entries": entries,
            "reasons": reasons, "rule": suite.rule}


def suite_averages(task_results: dict[str, dict], skipped: dict[str, str] | None = None,
                   known: set[str] | None = None) -> dict[str, dict]:
    """Every suite with at least one entry that ran, keyed by suite name (results.json ``suites``)."""
    out = {}
    for name, suite in SUITES.items():
        result = compute(suite, task_results, skipped, known)
        if result is not None:
            out[name] = result
    return out


def partial_note(summary: dict) -> str:
    """'' for a complete suite, else 'partial: k of N; missing: a, b (reasons in results.json)'."""
    if summary.get("complete"):
        return ""
    k = summary.get("n", len(summary["tasks"]))
    total = summary.get("of", k + len(summary["missing"]))
    return f"partial: {k} of {total}; missing: {', '.join(summary['missing'])}"
