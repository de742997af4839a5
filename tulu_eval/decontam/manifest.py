"""Contamination-aware results: which evaluated instances overlap the model's training data.

The trainers write ``decontamination.json`` into their output folder (the n-gram check of
:mod:`tulu_eval.decontam` of the training prompts against the eval suites; ``tulu-eval
decontaminate`` writes the same file). Its ``files[].tasks[].pairs[].instance_id`` are the eval
instances' ids as the tasks number them (``task.doc_id(doc, i)`` over the task's full data), which
are the ``id`` of every row in a run folder's ``predictions/<task>.jsonl``.

``tulu-eval run`` looks for that file in the model folder (or the folder above a ``checkpoint-N``);
``--training-manifest PATH`` (a file, or a folder holding one; repeatable: a model trained in
stages has seen every stage's data) overrides that. Then every task the manifest checked gets, in
results.json::

    "contamination": {"source": [manifest files], "instances": [ids of this run's instances that
                      overlap], "n": how many, "of": instances evaluated,
                      "clean": {metric: {"value", "stderr", "n"}} on the instances that do not}

and the top level ``"training_manifest"`` records the files, their n-gram settings and the tasks
they checked (a task not checked has no ``contamination`` key: unknown is not clean). The table
and the report flag a task with overlapping instances and show the clean-subset score beside the
full one. ``tulu-eval score RUN --training-manifest PATH`` adds or replaces it without a model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..errors import UserError

MANIFEST_NAME = "decontamination.json"


@dataclass
class Manifest:
    sources: list[str]
    checked: set[str]  # tasks the manifest's index held (a task it skipped, e.g. without data, is unknown)
    hits: dict[str, set[str]] = field(default_factory=dict)  # task -> instance ids over the threshold
    method: list[dict] = field(default_factory=list)

    def describe(self) -> dict:
        return {"sources": self.sources, "tasks_checked": sorted(self.checked), "method": self.method}


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"--training-manifest {path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
    except OSError as exc:
        raise UserError(f"--training-manifest {path}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list) or not isinstance(data.get("tasks"), dict):
        raise UserError(f"--training-manifest {path}: not a decontamination report (no 'files' and 'tasks'; "
                        "written by the trainers and by `tulu-eval decontaminate`)")
    return data


def manifest_file(path: str | Path) -> Path:
    """A manifest given as a file, or as a folder that holds ``decontamination.json``."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / MANIFEST_NAME
    if not p.is_file():
        raise UserError(f"--training-manifest {path}: no such file" + (f" ({p})" if p != Path(path) else ""))
    return p


def load_manifests(paths: Iterable[str | Path]) -> Manifest | None:
    """The union of several manifests (e.g. every stage of a pipeline); None when given none."""
    files = [manifest_file(p) for p in paths]
    if not files:
        return None
    out = Manifest([], set())
    for path in files:
        data = _read(path)
        out.sources.append(str(path))
        out.checked |= set(data["tasks"])
        out.method.append({k: data.get("method", {}).get(k) for k in ("n", "threshold")})
        for f in data["files"]:
            for t in f.get("tasks", []):
                ids = {str(p["instance_id"]) for p in t.get("pairs", [])}
                if ids:
                    out.hits.setdefault(t["task"], set()).update(ids)
    return out


def find_manifests(model_path: str | None) -> list[Path]:
    """``decontamination.json`` of a local model folder (a ``checkpoint-N``: its training folder's)."""
    if not model_path:
        return []
    folder = Path(model_path)
    for candidate in (folder, folder.parent if re.fullmatch(r"checkpoint-\d+", folder.name) else None):
        if candidate is not None and (candidate / MANIFEST_NAME).is_file():
            return [candidate / MANIFEST_NAME]
    return []


def task_contamination(task, scored: list[dict], manifest: Manifest) -> dict | None:
    """The ``contamination`` entry of one task's results (None when the manifest did not check it)."""
    if manifest is None or task.name not in manifest.checked:
        return None
    hit = manifest.hits.get(task.name, set())
    instances = [str(r["id"]) for r in scored if str(r["id"]) in hit]
    out = {"source": manifest.sources, "instances": instances, "n": len(instances), "of": len(scored)}
    if instances:
        clean_rows = [r for r in scored if str(r["id"]) not in hit]
        if clean_rows:
            try:
                out["clean"] = {k: v.as_dict() for k, v in sorted(task.aggregate(clean_rows).items())}
            except Exception as exc:  # noqa: BLE001 - the full scores stand; say why the clean ones are missing
                out["clean"] = {}
                out["clean_error"] = f"{type(exc).__name__}: {exc}"
        else:
            out["clean"] = {}
            out["clean_note"] = "every evaluated instance overlaps the training data"
    return out


def from_results(result: dict) -> Manifest | None:
    """The manifest a run folder was scored with, rebuilt from its results.json (for ``score``)."""
    info = result.get("training_manifest")
    if not info:
        return None
    hits = {name: set(t["contamination"]["instances"]) for name, t in result.get("tasks", {}).items()
            if t.get("contamination")}
    return Manifest(list(info.get("sources", [])), set(info.get("tasks_checked", [])), hits,
                    list(info.get("method", [])))


def annotate(result: dict, tasks: dict, scored_by_task: dict[str, list[dict]], manifest: Manifest | None) -> None:
    """Add ``contamination`` to each checked task of ``result`` and ``training_manifest`` at the top."""
    result.pop("training_manifest", None)
    for name in result.get("tasks", {}):
        result["tasks"][name].pop("contamination", None)
    if manifest is None:
        return
    result["training_manifest"] = manifest.describe()
    for name, scored in scored_by_task.items():
        entry = task_contamination(tasks[name], scored, manifest)
        if entry is not None:
            result["tasks"][name]["contamination"] = entry


def note(task_result: dict) -> str:
    """'' or e.g. 'contaminated: 2 of 5 instances in the training data; clean subset: 33.3 ± 33.3 (n = 3)'."""
    c = task_result.get("contamination")
    if not c or not c.get("n"):
        return ""
    text = f"contaminated: {c['n']} of {c['of']} instances overlap the training data"
    clean = (c.get("clean") or {}).get(task_result.get("primary_metric"))
    if clean:
        se = clean.get("stderr")
        se_text = f" ± {100 * se:.1f}" if isinstance(se, (int, float)) and se == se else ""
        text += f"; clean subset: {100 * clean['value']:.1f}{se_text} (n = {clean['n']})"
    else:
        text += "; " + (c.get("clean_note") or c.get("clean_error") or "no clean score")
    return text
