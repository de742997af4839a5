"""Model judges: a second model that reads the evaluated model's outputs (AlpacaEval's
annotator, a safety refusal classifier).

A task with a ``judge`` builds judge requests from its prediction rows; the runner sends them
to the judge model named by ``--judge-model`` (any backend, cached like every generation) after
the evaluated model's engine is closed, and ``Judge.attach`` stores the parsed verdicts in the
row (``row["judge"]``) before the task scores it. ``tulu-eval score`` re-scores from the saved
judgements without any model. A judge with ``required = True`` makes its task skip (with the
reason in the summary) when no judge model is given; otherwise the task scores without one
(e.g. the keyword refusal baseline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..api.request import Instance
from .generate import generate_all


@dataclass
class JudgeConfig:
    model: str | None = None
    base_url: str | None = None
    backend: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)


def run_judges(tasks, rows_by_task: dict[str, list[dict]], cfg: JudgeConfig, cache, chunk_size=None,
               progress=True) -> dict | None:
    """Judge every row of every task that has a judge; returns the judge's description for results.json."""
    from ..backends import make_backend  # noqa: PLC0415
    from ..models import fingerprint, resolve_model  # noqa: PLC0415

    judged = [t for t in tasks if getattr(t, "judge", None) is not None and rows_by_task.get(t.name)]
    if not judged or not cfg.model:
        return None
    spec = resolve_model(cfg.model, cfg.base_url)
    backend = make_backend(cfg.backend, spec, **cfg.model_args)
    fp = fingerprint(spec)
    instances, owners = [], []
    for task in judged:
        for r, row in enumerate(rows_by_task[task.name]):
            reqs = task.judge.requests(row)
            for req in reqs:
                instances.append(Instance(task=f"{task.name}:judge", id=row["id"], doc={}, request=req, gold=None))
            owners.append((task, r, len(reqs)))
    try:
        _, outputs, stats = generate_all(backend, instances, fp, cache, chunk_size, progress)
    finally:
        backend.close()
    pos = 0
    for task, r, k in owners:
        row = rows_by_task[task.name][r]
        row["judge"] = task.judge.attach(row, [o.texts[0] for o in outputs[pos:pos + k]])
        pos += k
    return {"model": spec.name, "fingerprint": fp, "backend": backend.config(), "generation": stats}
