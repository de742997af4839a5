"""run: plan -> generate -> judge -> verify -> results (and ``rescore``: verify -> results again).

The requests of all selected tasks go to one backend together: the model loads once and a
whole suite is one batched workload. Generations are cached after every chunk, so a killed
run resumes where it stopped; prompts shared by several tasks (MATH-500 is inside MATH) are
generated once.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..api.request import Instance
from ..api.task import GenerationTask
from ..backends import make_backend
from ..decontam import manifest as contamination
from ..models import cache_dir, fingerprint, resolve_model
from ..registry import Registry
from ..results import folder as results_mod
from ..sandbox import execute as sandbox
from ..sandbox.execute import require_code_execution
from .cache import GenerationCache
from .generate import generate_all, prediction_rows
from .judge import run_judges
from .plan import RunConfig, make_plan
from .quiet import engine_log_in_errors, engine_log_path, engine_output_to


def score_rows(task: GenerationTask, rows: list[dict], reasoning=None, samples: bool = False) -> list[dict]:
    """Verify saved predictions (used by ``run`` and by ``score``, which loads no model); with a
    reasoning config the verifier sees only the answer after the trace (tulu_eval/engine/reasoning.py);
    with ``samples``, k-sample rows also get avg@k and pass@k (tulu_eval/engine/sampling.py)."""
    scored = []
    for row in rows:
        inst = Instance(task=task.name, id=row["id"], doc={}, request=None, gold=row["gold"], group=row.get("group"))
        if reasoning is not None:
            from .reasoning import score_row  # noqa: PLC0415

            rec = score_row(task, inst, row, reasoning)
        else:
            rec = task.score_row(inst, row)
        if samples and row.get("continuations") is None and len(row.get("outputs") or []) > 1:
            from . import reasoning as reasoning_mod, sampling  # noqa: PLC0415

            answers = reasoning_mod.answers(row, reasoning) if reasoning is not None else row["outputs"]
            rec = sampling.add_metrics(task, inst, answers, rec)
        scored.append({**row, **rec})
    return scored


def run(cfg: RunConfig) -> dict:
    t_start = time.perf_counter()
    plan = make_plan(cfg)
    spec = resolve_model(cfg.model, cfg.base_url)
    backend = make_backend(cfg.backend, spec, data_parallel=cfg.data_parallel, ray_address=cfg.ray_address,
                           **cfg.model_args)
    model_fp = fingerprint(spec, cfg.model_revision or cfg.model_args.get("revision"))
    manifest = contamination.load_manifests(cfg.training_manifest or contamination.find_manifests(
        spec.path if spec.kind == "local" else None))
    out_dir = Path(cfg.output_dir) if cfg.output_dir else results_mod.default_run_dir(
        spec.name, cfg, {"fingerprint": model_fp or spec.path, "revision": cfg.model_revision, **backend.identity()})
    cache = None
    if cfg.cache != "":
        cache = GenerationCache(Path(cfg.cache) if cfg.cache else cache_dir() / "generations.sqlite")
    all_instances = [i for t in plan.tasks for i in plan.instances[t.name]]
    t_plan = time.perf_counter()
    log = engine_log_path() if cfg.quiet else None
    with engine_output_to(log), engine_log_in_errors(log):
        try:
            try:
                if cfg.reasoning is not None:  # trace pass, then answer pass
                    from .reasoning import generate as generate_reasoning  # noqa: PLC0415

                    prompts, outputs, gen_stats = generate_reasoning(backend, all_instances, model_fp, cache,
                                                                     cfg.reasoning, cfg.chunk_size, cfg.progress)
                else:
                    prompts, outputs, gen_stats = generate_all(backend, all_instances, model_fp, cache, cfg.chunk_size,
                                                               cfg.progress)
            finally:
                backend.close()
            rows_by_task: dict[str, list[dict]] = {}
            offset = 0
            for task in plan.tasks:
                n = len(plan.instances[task.name])
                rows_by_task[task.name] = prediction_rows(plan.instances[task.name], prompts[offset:offset + n],
                                                          outputs[offset:offset + n])
                offset += n
            if cfg.reasoning is not None:  # a judge reads the answer after the trace, as a verifier does
                from .reasoning import copy_judgements, judge_view  # noqa: PLC0415

                view = judge_view(rows_by_task, cfg.reasoning)
                judge_info = run_judges(plan.tasks, view, cfg.judge, cache, cfg.chunk_size, cfg.progress)
                copy_judgements(view, rows_by_task)
            else:
                judge_info = run_judges(plan.tasks, rows_by_task, cfg.judge, cache, cfg.chunk_size, cfg.progress)
        finally:
            if cache is not None:
                cache.close()
    t_gen = time.perf_counter()
    results_mod.mark_incomplete(out_dir)  # the folder is first touched here, once generation is done
    task_results: dict[str, dict] = {}
    scored_by_task: dict[str, list[dict]] = {}
    for task in plan.tasks:
        scored_by_task[task.name] = scored = score_rows(task, rows_by_task[task.name], cfg.reasoning, bool(cfg.samples))
        results_mod.write_predictions(out_dir, task.name, scored)
        task_results[task.name] = results_mod.task_summary(task, scored, plan.data_files[task.name])
    t_score = time.perf_counter()
    result = results_mod.build_results(
        cfg=cfg, spec=spec, model_fp=model_fp, backend=backend, tasks=plan.tasks, task_results=task_results,
        skipped=plan.skipped, data_dir=plan.data_dir, gen_stats=gen_stats,
        timings={"plan_s": t_plan - t_start, "generate_s": t_gen - t_plan, "score_s": t_score - t_gen,
                 "total_s": time.perf_counter() - t_start},
    )
    if judge_info:
        result["judge"] = judge_info
    contamination.annotate(result, {t.name: t for t in plan.tasks}, scored_by_task, manifest)
    if cfg.reasoning is not None:
        result["reasoning"] = cfg.reasoning.as_dict()
    if cfg.samples:
        result["samples"] = cfg.samples
    _record_sandbox(result, [t.name for t in plan.tasks if getattr(t, "executes_code", False)])
    results_mod.write_results(out_dir, result)
    if cfg.report:  # report.html beside results.json; a failure there only warns
        from ..report import write_run_report  # noqa: PLC0415
        write_run_report(out_dir)
    if log is not None and log.is_file():
        import shutil  # noqa: PLC0415
        shutil.move(str(log), str(out_dir / "engine.log"))
    results_mod.mark_complete(out_dir)
    result["_run_dir"] = str(out_dir)
    return result


def _record_sandbox(result: dict, code_tasks: list[str]) -> None:
    """What the model code of a run ran in: results.json, the table and the report show it beside code scores."""
    if not code_tasks:
        return
    result["sandbox"] = sandbox.describe()
    for name in code_tasks:
        if name in result["tasks"]:
            result["tasks"][name]["sandbox"] = sandbox.summary(result["sandbox"])


def rescore(run_dir: Path, include_path: tuple[str, ...] = (), allow_code_execution: bool = False,
            code_sandbox: str | None = None, reasoning=None, training_manifest: tuple[str, ...] = ()) -> dict:
    """Recompute every metric of a run folder from its saved predictions; ``reasoning``: a
    ReasoningConfig, False to score raw outputs, None to keep what the run folder recorded;
    ``training_manifest``: decontamination.json file(s) to flag contaminated instances with (default:
    the ones the run folder was scored with)."""
    result = results_mod.read_results(run_dir)
    manifest = (contamination.load_manifests(training_manifest) if training_manifest
                else contamination.from_results(result))
    if reasoning is None and result.get("reasoning"):
        from .reasoning import ReasoningConfig  # noqa: PLC0415

        reasoning = ReasoningConfig.from_dict(result["reasoning"])
    reasoning = reasoning or None
    result.pop("reasoning", None)
    if reasoning is not None:
        result["reasoning"] = reasoning.as_dict()
    registry = Registry(include_path)
    sandbox.set_kind(code_sandbox)
    code_tasks = [n for n in result["tasks"] if getattr(registry.get(n), "executes_code", False)]
    require_code_execution(code_tasks, allow_code_execution)
    results_mod.mark_incomplete(run_dir)
    # everything is scored before anything is written (a verifier failing on task 3 leaves the folder as it
    # was); then each predictions file is replaced atomically, and results.json, which names the scores, last
    scored_by_task, task_objs = {}, {}
    for name, summary in result["tasks"].items():
        task_objs[name] = task = registry.get(name)
        if result.get("samples"):
            from .sampling import apply as with_samples  # noqa: PLC0415

            task_objs[name] = task = with_samples(task, int(result["samples"]))
        rows = results_mod.read_predictions(run_dir, name)
        scored_by_task[name] = scored = score_rows(task, rows, reasoning, bool(result.get("samples")))
        result["tasks"][name] = results_mod.task_summary(task, scored, summary.get("data_files", {}))
    for name, scored in scored_by_task.items():
        results_mod.write_predictions(run_dir, name, scored)
    result["suites"] = results_mod.suite_averages(registry, result["tasks"], result.get("skipped"))
    contamination.annotate(result, task_objs, scored_by_task, manifest)
    _record_sandbox(result, code_tasks)
    result["rescored_at"] = results_mod.now()
    results_mod.write_results(run_dir, result)
    results_mod.mark_complete(run_dir)
    return result
