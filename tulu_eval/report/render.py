"""Render run folders into one self-contained HTML file (jinja2; inline CSS, SVG and a little JS).

Nothing in the page refers to anything outside it: no CDN, fonts, images or scripts, so it
opens offline and can be mailed or archived as is. Templates, CSS and JS are package data
(``tulu_eval.report_templates``, the repo's ``reports/templates``).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import time
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from .. import __version__
from ..api.labels import SKILLS
from ..decontam.manifest import note as contamination_note
from ..results.folder import ERROR_SHARE_LIMIT, error_note
from . import charts
from .compare import ALPHA, pairwise, win_matrix
from .load import MAX_FIELD_CHARS, MAX_PREFIX_CHARS, Entry, load_entries
from .stages import stage_rows

DEFAULT_MAX_INSTANCES = 50
SUITES = ("dev", "unseen")


def _ok(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def pct(v, digits: int = 1) -> str:
    return f"{100 * v:.{digits}f}" if _ok(v) else "n/a"


def _template_text(name: str) -> str:
    return resources.files("tulu_eval.report_templates").joinpath(name).read_text(encoding="utf-8")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FunctionLoader(_template_text), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = pct
    env.filters["fmt"] = lambda v: f"{v:,}" if isinstance(v, int) else f"{v:g}" if _ok(v) else str(v)
    env.filters["dv"] = lambda v: repr(float(v)) if _ok(v) else ""
    return env


def _combined_se(ses: list) -> float:
    ses = [s for s in ses if _ok(s)]
    return math.sqrt(sum(s * s for s in ses)) if ses else float("nan")


def _task_columns(entries: list[Entry]) -> list[dict]:
    seen: dict[str, dict] = {}
    for e in entries:
        for name, t in e.tasks.items():
            seen.setdefault(name, {"name": name, "full_name": t.get("full_name", name), "suite": t.get("suite", "dev"),
                                   "skill": t.get("skill", ""), "metric": t.get("primary_metric", "")})
    order = {s: i for i, s in enumerate(SUITES)}
    return sorted(seen.values(), key=lambda c: (order.get(c["suite"], 9), c["name"]))


def _suite_cell(entry: Entry, suite: str) -> dict:
    s = entry.suites.get(suite)
    if not s:
        return {"v": float("nan"), "se": float("nan"), "note": ""}
    names = s["tasks"]
    se = _combined_se([entry.tasks[n]["primary"].get("stderr") for n in names if n in entry.tasks])
    note = "" if s.get("complete") else f"partial: {len(names)} of {len(names) + len(s['missing'])} tasks"
    return {"v": s["average"], "se": se / len(names) if names else se, "note": note}


def _mark_best(rows: list[dict], key: str, lower_is_better: bool = False) -> None:
    vals = [r[key]["v"] for r in rows if _ok(r[key]["v"])]
    if len(vals) < 2 or len(set(vals)) == 1:  # one value, or all tied: nothing stands out
        return
    best = min(vals) if lower_is_better else max(vals)
    for r in rows:
        r[key]["best"] = _ok(r[key]["v"]) and r[key]["v"] == best


def contam_cell(task_result: dict) -> dict | None:
    """A flagged cell: how many instances overlap the training data and the clean-subset score."""
    c = task_result.get("contamination")
    if not c or not c.get("n"):
        return None
    clean = (c.get("clean") or {}).get(task_result.get("primary_metric")) or {}
    return {"k": c["n"], "of": c.get("of"), "v": clean.get("value", float("nan")),
            "se": clean.get("stderr", float("nan")), "n": clean.get("n", 0), "note": contamination_note(task_result),
            "source": ", ".join(c.get("source") or [])}


def leaderboard(entries: list[Entry], columns: list[dict]) -> tuple[list[dict], list[str]]:
    rows = []
    for k, e in enumerate(entries):
        row = {"k": k, "label": e.label, "color": charts.color(k)}
        for c in columns:
            t = e.tasks.get(c["name"], {})
            p = t.get("primary")
            row[c["name"]] = ({"v": p["value"], "se": p.get("stderr"), "n": p.get("n"), "errors": t.get("errors", 0),
                               "error_note": error_note(t), "contam": contam_cell(t)} if p
                              else {"v": float("nan"), "se": float("nan"), "n": 0})
        for suite in SUITES:
            row[suite] = _suite_cell(e, suite)
        d, u = row["dev"], row["unseen"]
        row["gap"] = {"v": d["v"] - u["v"] if _ok(d["v"]) and _ok(u["v"]) else float("nan"),
                      "se": _combined_se([d["se"], u["se"]])}
        rows.append(row)
    extra = [s for s in SUITES if any(s in e.suites for e in entries)]
    if "dev" in extra and "unseen" in extra:
        extra.append("gap")
    for c in columns:
        _mark_best(rows, c["name"])
    for key in extra:
        _mark_best(rows, key, lower_is_better=key == "gap")
    return rows, extra


def skill_table(entries: list[Entry]) -> list[dict]:
    """Dev and unseen averages per Tülu 3 skill area, and the dev -> unseen gap."""
    out = []
    for skill in SKILLS:
        cells, any_value = [], False
        for e in entries:
            cell = {}
            for suite in SUITES:
                names = [n for n in e.suites.get(suite, {}).get("tasks", []) if e.tasks[n].get("skill") == skill]
                vals = [e.tasks[n]["primary"]["value"] for n in names]
                cell[suite] = sum(vals) / len(vals) if vals else float("nan")
                cell[suite + "_n"] = len(vals)
                any_value = any_value or bool(vals)
            cell["gap"] = cell["dev"] - cell["unseen"] if _ok(cell["dev"]) and _ok(cell["unseen"]) else float("nan")
            cells.append(cell)
        if any_value:
            out.append({"skill": skill, "cells": cells})
    return out


def _differs(values: list) -> bool:
    return len({repr(v) for v in values if v is not None}) > 1


def task_details(entries: list[Entry], columns: list[dict], pairs: dict) -> list[dict]:
    out = []
    for c in columns:
        name = c["name"]
        have = [k for k, e in enumerate(entries) if name in e.tasks]
        metric_names = sorted({m for k in have for m in entries[k].tasks[name].get("metrics", {})},
                              key=lambda m: (m != c["metric"], m))
        group_names = sorted({g for k in have for g in entries[k].tasks[name].get("groups", {})})
        gens = [entries[k].tasks[name].get("generation") for k in have]
        out.append({
            **c, "have": have, "metrics": metric_names, "groups": group_names,
            "generation_differs": _differs(gens),
            "hash_differs": _differs([entries[k].tasks[name].get("data_files") for k in have]),
            "views": {k: entries[k].views[name] for k in have},
            "pairs": pairs.get(name, []),
            "failures": sum(entries[k].views[name].verdicts["fail"] for k in have),
            "contaminated": [k for k in have if (entries[k].tasks[name].get("contamination") or {}).get("n")],
        })
    return out


def run_metadata(entries: list[Entry]) -> dict:
    runs = [(k, e, r) for k, e in enumerate(entries) for r in e.runs]
    packages = sorted({p for _, _, r in runs for p in r.results.get("versions", {})}, key=lambda p: (p != "python", p))
    return {
        "runs": runs,
        "packages": [{"name": p, "cells": [r.results.get("versions", {}).get(p) for _, _, r in runs],
                      "differs": _differs([r.results.get("versions", {}).get(p) for _, _, r in runs])} for p in packages],
    }


def build_context(entries: list[Entry], *, title: str, max_instances: int, iters: int,
                  pipeline: list[dict] | None = None) -> dict:
    columns = _task_columns(entries)
    rows, extra = leaderboard(entries, columns)
    names = [c["name"] for c in columns]
    pairs = pairwise(entries, names, iters=iters)
    labels = [e.label for e in entries]
    bar = charts.bar_chart([c["full_name"] for c in columns], labels,
                           [[r[n]["v"] for n in names] for r in rows], [[r[n]["se"] for n in names] for r in rows])
    points = [(r["k"], r["label"], r["dev"]["v"], r["unseen"]["v"]) for r in rows
              if _ok(r["dev"]["v"]) and _ok(r["unseen"]["v"])]
    limits = sorted({str((r.results.get("selection") or {}).get("limit")) for e in entries for r in e.runs
                     if (r.results.get("selection") or {}).get("limit")})
    return {
        "title": title, "version": __version__,
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "entries": entries, "labels": labels, "colors": [charts.color(k) for k in range(len(entries))],
        "columns": columns, "rows": rows, "extra": extra, "skills": skill_table(entries),
        "bar_chart": Markup(bar), "scatter": Markup(charts.scatter(points)) if points else None,
        "pairs": pairs, "win_matrix": win_matrix(len(entries), pairs), "alpha": ALPHA, "iters": iters,
        "tasks": task_details(entries, columns, pairs), "meta": run_metadata(entries), "limits": limits,
        "manifests": [(e.label, sorted({s for r in e.runs for s in (r.results.get("training_manifest") or {}).get("sources", [])}))
                      for e in entries if any(r.results.get("training_manifest") for r in e.runs)],
        "error_limit": ERROR_SHARE_LIMIT, "max_instances": max_instances, "max_field_chars": MAX_FIELD_CHARS, "max_prefix_chars": MAX_PREFIX_CHARS,
        "stages": stage_rows(entries, pairs, pipeline, iters) if pipeline else None,
        "css": Markup(_template_text("report.css")), "js": Markup(_template_text("report.js")),
    }


def render_report(run_dirs: list[str | os.PathLike], *, title: str | None = None,
                  max_instances: int = DEFAULT_MAX_INSTANCES, iters: int = 2000, labels: list[str] | None = None,
                  pipeline: list[dict] | None = None) -> str:
    """``labels``: one per run folder, replacing the model names as row labels; ``pipeline``: one dict
    per run folder (stage name, trainer, recipe, ...), which adds the stages section (gains per stage)."""
    entries = load_entries(run_dirs, max_instances=max_instances)
    if labels or pipeline:
        if len(entries) != len(run_dirs):
            raise ValueError("labels/pipeline need one leaderboard row per run folder")
        for e, label in zip(entries, labels or [m["name"] for m in pipeline]):
            e.label = label
    title = title or "tulu-eval report: " + ", ".join(e.label for e in entries)
    ctx = build_context(entries, title=title, max_instances=max_instances, iters=iters, pipeline=pipeline)
    return _env().get_template("report.html.j2").render(**ctx)


def write_report(run_dirs: list[str | os.PathLike], out: str | os.PathLike, **kwargs) -> dict:
    """Render and write atomically; returns the path, size in bytes and seconds taken."""
    t0 = time.perf_counter()
    html = render_report(run_dirs, **kwargs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{time.time_ns()}.tmp")  # unique: concurrent writers never share one
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return {"path": str(out), "bytes": out.stat().st_size, "seconds": time.perf_counter() - t0}
