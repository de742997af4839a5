"""plan: select tasks, check their data and opt-ins, build their instances (no model is touched).

``RunConfig`` is everything ``tulu-eval run`` was asked; ``make_plan`` turns it into the
instances of every task to run and the reasons the others are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..api.request import Instance
from ..api.task import GenerationTask
from ..data.files import file_sha256, resolve_data_dir
from ..errors import UserError
from ..registry import Registry
from ..sandbox import execute as sandbox
from ..sandbox.execute import ALLOW_ENV, code_execution_allowed, require_sandbox
from .judge import JudgeConfig


@dataclass
class RunConfig:
    suite: str | None = None
    tasks: str | None = None
    limit: int | None = None
    model: str | None = None
    base_url: str | None = None
    backend: str | None = None
    output_dir: str | None = None
    data_dir: str | None = None
    include_path: tuple[str, ...] = ()
    model_args: dict[str, Any] = field(default_factory=dict)
    model_revision: str | None = None  # --model-revision: part of the model fingerprint (openai: the only way)
    cache: str | None = None  # sqlite file; "" disables caching
    chunk_size: int | None = None
    progress: bool = True
    max_tokens: int | None = None  # caps every task's max new tokens (smoke runs, fixtures)
    report: bool = True  # write report.html into the run folder
    judge: JudgeConfig = field(default_factory=JudgeConfig)  # --judge-model etc.
    allow_code_execution: bool = False  # tasks with executes_code (HumanEval) run model code in tulu_eval.sandbox
    code_sandbox: str | None = None  # "bwrap" (default) or "unsafe-no-isolation"; None: $TULU_EVAL_SANDBOX or bwrap
    reasoning: Any = None  # a tulu_eval.engine.reasoning.ReasoningConfig (--reasoning): trace budget, answer = text after it
    samples: int | None = None  # --samples k: k samples per problem, avg@k and pass@k (tulu_eval/engine/sampling.py)
    data_parallel: int | None = None  # --data-parallel N: N vLLM replicas on Ray (tulu_eval/backends/ray_dp.py)
    ray_address: str | None = None  # --ray-address: an existing Ray cluster (default: a local Ray for the run)
    quiet: bool = False  # engine output to <run folder>/engine.log, not the terminal (the CLI's default; -v: off)
    # --training-manifest: decontamination.json file(s) of the model's training data (tulu_eval/decontam/manifest.py);
    # empty: the model folder's own, when it has one
    training_manifest: tuple[str, ...] = ()


@dataclass
class Plan:
    tasks: list[GenerationTask]
    instances: dict[str, list[Instance]]
    skipped: dict[str, str]
    data_files: dict[str, dict[str, str]]
    data_dir: Path | None


def make_plan(cfg: RunConfig, registry: Registry | None = None) -> Plan:
    """Select tasks and build their instances; no model is touched here."""
    registry = registry or Registry(cfg.include_path)
    selected = registry.select(cfg.suite, cfg.tasks)
    sandbox.set_kind(cfg.code_sandbox)
    data_dir = resolve_data_dir(cfg.data_dir)
    explicit = {registry.get(n.strip()).name for n in (cfg.tasks or "").split(",") if n.strip()}
    instances, skipped, hashes, kept = {}, {}, {}, []
    for task in selected:
        if cfg.samples:
            from .sampling import apply as with_samples  # noqa: PLC0415

            task = with_samples(task, cfg.samples)
        if cfg.max_tokens is not None and cfg.max_tokens < task.generation.max_tokens:
            task = task.with_overrides(generation=replace(task.generation, max_tokens=cfg.max_tokens))
        if getattr(task.judge, "required", False) and not cfg.judge.model:
            reason = f"{task.name} needs a judge model: pass --judge-model (HF id, folder or openai:<name>)"
            if task.name in explicit:
                raise UserError(reason)
            skipped[task.name] = reason
            continue
        if getattr(task, "executes_code", False) and not code_execution_allowed(cfg.allow_code_execution):
            reason = f"{task.name} runs model-written code: pass --allow-code-execution (or set {ALLOW_ENV}=1)"
            if task.name in explicit:
                raise UserError(reason)
            skipped[task.name] = reason
            continue
        if getattr(task, "executes_code", False):
            require_sandbox()  # no silent fallback: without bubblewrap, one line and exit 2
        files = task.data_files_in(data_dir)
        missing = [f for f in files if f.locate(data_dir) is None and not (data_dir is None and f.hub)]
        if missing:
            reason = missing[0].missing_message(data_dir)
            if task.name in explicit:
                raise UserError(reason)
            skipped[task.name] = reason
            continue
        docs = task.load_docs(data_dir)
        if cfg.limit is not None:
            docs = docs[: cfg.limit]
        instances[task.name] = task.instances(docs)
        hashes[task.name] = {f.relpath: file_sha256(p) for f in files if (p := f.locate(data_dir))}
        kept.append(task)
    if not kept:
        raise UserError("no selected task has its data: " + "; ".join(skipped.values()))
    return Plan(kept, instances, skipped, hashes, data_dir)
