"""Run folders -> leaderboard entries and per-task instance summaries for the report.

An *entry* is one leaderboard row: one run folder, or several run folders of the same model,
backend configuration and ``--limit`` whose task sets do not overlap (a ``--suite dev`` run and
a ``--suite unseen`` run of one model become one row with both averages).

Predictions are read in full once: every instance's primary-metric score feeds the paired
bootstrap, and every instance is counted in the task summary, but at most ``max_instances``
per run and task are kept for display, failures first.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from ..errors import UserError
from ..results.folder import read_results

MAX_FIELD_CHARS = 4000  # prompt/output/gold text shown per instance; the rest is cut, with a note
MAX_PREFIX_CHARS = 8000  # shared prompt prefix (few-shot exemplars) shown once per run and task
# backend settings that name a run best when two runs of one model need telling apart
_SALIENT = ("backend", "chat_template", "limit", "dtype", "max_model_len")


@dataclass
class Run:
    path: Path
    results: dict


@dataclass
class TaskView:
    """One run's predictions of one task, summarized; ``shown`` is capped, failures first."""

    scores: dict[str, float]  # instance id -> mean of the primary metric over its judgements
    counts: dict[str, int]  # instance id -> number of judgements (1, or the length of a list metric)
    groups: dict[str, str]
    mode: str  # how the primary metric aggregates: "micro" or "macro" (over groups)
    total: int = 0
    verdicts: Counter = field(default_factory=Counter)  # fail / partial / pass
    finish: Counter = field(default_factory=Counter)
    no_answer: int = 0  # instances where nothing was extracted
    prefix: str = ""  # prompt text shared by every instance (few-shot turns), shown once
    shown: list[SimpleNamespace] = field(default_factory=list)
    missing: str | None = None  # why predictions could not be read


@dataclass
class Entry:
    label: str
    runs: list[Run]
    tasks: dict[str, dict]  # task name -> its summary in results.json
    task_run: dict[str, Run]
    suites: dict[str, dict]
    views: dict[str, TaskView] = field(default_factory=dict)

    @property
    def first(self) -> dict:
        return self.runs[0].results


def load_runs(paths: list[str | os.PathLike]) -> list[Run]:
    runs, seen = [], set()
    for p in paths:
        path = Path(p)
        if not path.is_dir():
            raise UserError(f"{p}: no such run folder")
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        runs.append(Run(path, read_results(path)))
    if not runs:
        raise UserError("report: give at least one run folder")
    return runs


def _identity(results: dict) -> str:
    return json.dumps([results.get("model", {}).get("fingerprint") or results.get("model", {}).get("name"),
                       results.get("backend", {}), (results.get("selection") or {}).get("limit")], sort_keys=True)


def merge_suites(entry_runs: list[Run], tasks: dict[str, dict]) -> dict[str, dict]:
    """Suite averages of runs merged into one row (a dev run + an unseen run), by the same rules
    as results.json (``tulu_eval.scoring.suites``: which task and which metric enter each average)."""
    if len(entry_runs) == 1:
        return entry_runs[0].results.get("suites", {})
    from ..scoring.suites import suite_averages  # noqa: PLC0415

    skipped = {k: v for r in entry_runs for k, v in (r.results.get("skipped") or {}).items() if k not in tasks}
    return suite_averages(tasks, skipped)


def _labels(entries: list[Entry]) -> None:
    """Model name; where names collide, the backend settings that differ, else the run folder."""
    base = [(e.first.get("model", {}).get("name") or "model").removeprefix("bundled:") for e in entries]
    base = [Path(b).name if "/" in b and not b.startswith("openai:") else b for b in base]
    for name in set(base):
        same = [i for i, b in enumerate(base) if b == name]
        if len(same) == 1:
            entries[same[0]].label = name
            continue
        configs = [{**entries[i].first.get("backend", {}), "limit": (entries[i].first.get("selection") or {}).get("limit")}
                   for i in same]
        differ = sorted({k for c in configs for k in c if len({json.dumps(d.get(k)) for d in configs}) > 1})
        keys = [k for k in _SALIENT if k in differ] or differ[:2]
        for i, cfg in zip(same, configs):
            extra = ", ".join(f"{k}={cfg.get(k)}" for k in keys) or "/".join(r.path.name for r in entries[i].runs)
            entries[i].label = f"{name} [{extra}]"
    counts = Counter(e.label for e in entries)
    for e in entries:
        if counts[e.label] > 1:
            e.label = f"{e.label} ({'/'.join(r.path.name for r in e.runs)})"


def build_entries(runs: list[Run]) -> list[Entry]:
    entries: list[Entry] = []
    for run in runs:
        names = set(run.results.get("tasks", {}))
        host = next((e for e in entries if _identity(e.first) == _identity(run.results) and not names & set(e.tasks)),
                    None)
        if host is None:
            host = Entry("", [], {}, {}, {})
            entries.append(host)
        host.runs.append(run)
        for name, summary in run.results.get("tasks", {}).items():
            host.tasks[name] = summary
            host.task_run[name] = run
    for e in entries:
        e.suites = merge_suites(e.runs, e.tasks)
    _labels(entries)
    return entries


def _cut(text, limit: int = MAX_FIELD_CHARS) -> tuple[str, int]:
    """Text for display and how many characters were cut."""
    if text is None:
        return "", 0
    if not isinstance(text, str):
        text = json.dumps(text, ensure_ascii=False)
    return (text, 0) if len(text) <= limit else (text[:limit], len(text) - limit)


def _prefix(prompts: list[str]) -> str:
    if len(prompts) < 2:
        return ""
    common = os.path.commonprefix([min(prompts), max(prompts)])
    cut = common.rfind("\n") + 1  # keep whole lines in the shared part
    return common[:cut] if cut > 200 else ""


def _verdict_class(v) -> str:
    if v is None:
        return "fail"
    return "pass" if v >= 1 else "fail" if v <= 0 else "partial"


def _detect_mode(scores, counts, groups, reported: float | None) -> str:
    """Micro (over judgements) unless the reported value is the macro average over groups."""
    if reported is None or not groups or not scores:
        return "micro"
    micro = sum(scores[i] * counts[i] for i in scores) / max(1, sum(counts[i] for i in scores))
    if math.isclose(micro, reported, abs_tol=1e-9):
        return "micro"
    per_group: dict[str, list[float]] = {}
    for i in scores:
        per_group.setdefault(groups.get(i, ""), [0.0, 0])
        per_group[groups.get(i, "")][0] += scores[i] * counts[i]
        per_group[groups.get(i, "")][1] += counts[i]
    macro = sum(s / c for s, c in per_group.values() if c) / len(per_group)
    return "macro" if math.isclose(macro, reported, abs_tol=1e-9) else "micro"


def read_view(run: Run, task: str, summary: dict, max_instances: int) -> TaskView:
    path = run.path / "predictions" / f"{task}.jsonl"
    metric = summary.get("primary_metric")
    view = TaskView({}, {}, {}, "micro")
    if not path.is_file():
        view.missing = f"{path} is missing"
        return view
    rows = []
    flagged = set((summary.get("contamination") or {}).get("instances") or [])
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{lineno}: malformed JSON ({exc.msg})") from None
    for row in rows:
        iid = str(row.get("id"))
        value = (row.get("metrics") or {}).get(metric)
        if value is not None:
            vals = value if isinstance(value, (list, tuple)) else [value]
            if vals:
                view.scores[iid] = sum(float(v) for v in vals) / len(vals)
                view.counts[iid] = len(vals)
        if row.get("group"):
            view.groups[iid] = str(row["group"])
        view.verdicts[_verdict_class(row.get("verdict"))] += 1
        view.finish[row.get("finish_reason") or ("scored choices" if "continuations" in row else "?")] += 1
        if row.get("extracted") in (None, "", []):
            view.no_answer += 1
    view.total = len(rows)
    view.mode = _detect_mode(view.scores, view.counts, view.groups, (summary.get("primary") or {}).get("value"))
    prompts = [r.get("prompt") or "" for r in rows]
    view.prefix = _prefix(prompts)
    order = sorted(range(len(rows)), key=lambda i: (rows[i].get("verdict") is not None, rows[i].get("verdict") or 0, i))
    for i in order[:max_instances]:
        view.shown.append(_display_row(rows[i], len(view.prefix), str(rows[i].get("id")) in flagged))
    return view


def _display_row(row: dict, skip: int, contaminated: bool = False) -> SimpleNamespace:
    prompt, prompt_cut = _cut((row.get("prompt") or "")[skip:])
    output, output_cut = _cut(row.get("output"))
    gold, _ = _cut(row.get("gold"), 1000)
    extracted, _ = _cut(row.get("extracted"), 1000)
    details, _ = _cut(row.get("details") or {}, 1500)
    verdict = row.get("verdict")
    # an object, not a dict: jinja's ``r.prompt`` tries attributes first, and that miss is slow per instance
    return SimpleNamespace(
        id=str(row.get("id")), group=row.get("group") or "", prompt=prompt, prompt_cut=prompt_cut, output=output,
        output_cut=output_cut, gold=gold, extracted=extracted, verdict=verdict, verdict_class=_verdict_class(verdict),
        metrics=row.get("metrics") or {}, details=details if details not in ("{}", "") else "",
        finish_reason=row.get("finish_reason") or ("scored choices" if "continuations" in row else ""),
        num_tokens=row.get("num_tokens"), choices=_choices(row), contaminated=contaminated,
        # rounded down, so that a partial 0.999 never reads as 1.00
        verdict_label=f"{math.floor(verdict * 100) / 100:.2f}" if isinstance(verdict, (int, float)) else "")


def _choices(row: dict) -> list[tuple[str, str]]:
    """Multiple-choice rows: each continuation with its log-likelihood, as scored."""
    conts, logprobs = row.get("continuations") or [], row.get("logprobs") or []
    return [(_cut(c, 300)[0], f"{lp:.3f}" if isinstance(lp, (int, float)) else str(lp))
            for c, lp in zip(conts[:26], logprobs[:26])]


def load_entries(paths: list[str | os.PathLike], max_instances: int = 50) -> list[Entry]:
    entries = build_entries(load_runs(paths))
    for e in entries:
        for name, summary in e.tasks.items():
            e.views[name] = read_view(e.task_run[name], name, summary, max_instances)
    return entries
