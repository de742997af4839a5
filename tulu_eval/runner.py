"""plan -> generate -> verify -> results.

The requests of all selected tasks go to one backend together: the model loads once and a
whole suite is one batched workload. Generations are cached after every chunk, so a killed
run resumes where it stopped; prompts shared by several tasks (MATH-500 is inside MATH) are
generated once.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from . import contamination, results as results_mod
from .backends import Backend, GenOutput, make_backend
from .cache import GenerationCache, request_key
from .data import file_sha256, resolve_data_dir
from .errors import UserError
from .judge import JudgeConfig, run_judges
from .models import cache_dir, fingerprint, resolve_model
from .procs import Interrupted
from .quiet import engine_output_to
from .registry import Registry
from . import sandbox
from .sandbox import ALLOW_ENV, code_execution_allowed, require_code_execution, require_sandbox
from .task import GenerationTask, Instance


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
    reasoning: Any = None  # a tulu_eval.reasoning.ReasoningConfig (--reasoning): trace budget, answer = text after it
    samples: int | None = None  # --samples k: k samples per problem, avg@k and pass@k (tulu_eval/sampling.py)
    data_parallel: int | None = None  # --data-parallel N: N vLLM replicas on Ray (tulu_eval/backends/ray_dp.py)
    ray_address: str | None = None  # --ray-address: an existing Ray cluster (default: a local Ray for the run)
    quiet: bool = False  # engine output to <run folder>/engine.log, not the terminal (the CLI's default; -v: off)
    # --training-manifest: decontamination.json file(s) of the model's training data (tulu_eval/contamination.py);
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


def generate_all(backend: Backend, instances: list[Instance], model_fp: str, cache: GenerationCache | None,
                 chunk_size: int | None = None, progress: bool = True) -> tuple[list[str], list[GenOutput], dict]:
    """Render, look up the cache, run what is missing chunk by chunk, caching as it goes.

    Generation requests and log-likelihood requests (one unit per continuation) are both cached
    under the same identity; identical units across tasks are computed once.
    """
    if model_fp is None:  # weights not identifiable (a hub id not downloaded yet): nothing cached, nothing reused
        cache = None
    identity = {"model": model_fp, **backend.identity()}
    prompts = [backend.render(inst.request) for inst in instances]
    units: list[list[str]] = []  # cache keys of each instance: one (generation) or one per continuation
    gen_todo: dict[str, int] = {}
    ll_todo: dict[str, tuple[str, str]] = {}
    for i, (p, inst) in enumerate(zip(prompts, instances)):
        conts = inst.request.continuations
        if conts is None:
            units.append([request_key(identity, p, inst.request.settings.as_dict())])
        else:
            units.append([request_key(identity, p, {"loglikelihood": c}) for c in conts])
    all_keys = [k for ks in units for k in ks]
    done: dict[str, GenOutput] = cache.get_many(all_keys) if cache is not None else {}
    for i, (ks, inst) in enumerate(zip(units, instances)):
        for j, key in enumerate(ks):
            if key in done:
                continue
            if inst.request.continuations is None:
                gen_todo.setdefault(key, i)
            else:
                ll_todo.setdefault(key, (prompts[i], inst.request.continuations[j]))
    # one schedule: longest expected work first, so that the last requests to finish are short ones
    typical = typical_lengths()
    gen_order = sorted(gen_todo.items(), key=lambda kv: (-expected_tokens(instances[kv[1]], typical),
                                                         -len(prompts[kv[1]])))
    ll_order = sorted(ll_todo.items(), key=lambda kv: -len(kv[1][0]) - len(kv[1][1]))
    n_units = len(set(all_keys))
    stats = {"requests": len(instances), "units": n_units, "cached": n_units - len(gen_order) - len(ll_order),
             "generated": len(gen_order), "scored": len(ll_order), "generate_s": 0.0, "new_tokens": 0}
    t0 = time.perf_counter()
    total = len(gen_order) + len(ll_order)
    made: dict[str, list[int]] = {}  # task -> tokens of each new generation (typical lengths, next time)
    with _count_on_interrupt(set(all_keys), done), \
            tqdm(total=total, desc="generating", unit="req", disable=not progress or not total,
                 file=progress_stream()) as bar:
        # every request is handed over at once (or --chunk-size at a time); each output is cached as it
        # arrives, at most a few seconds late, so a stopped run loses only what was in flight
        size = chunk_size or len(gen_order) or 1
        for start in range(0, len(gen_order), size):
            chunk = gen_order[start:start + size]
            fresh: dict[str, GenOutput] = {}
            last = first = None
            stream = backend.generate_stream([instances[i].request for _, i in chunk], [prompts[i] for _, i in chunk])
            try:
                for pos, out in stream:
                    key, i = chunk[pos]
                    fresh[key] = out
                    made.setdefault(instances[i].task, []).extend(out.num_tokens)
                    stats["new_tokens"] += sum(out.num_tokens)
                    now = time.perf_counter()
                    if first is None:  # tokens/s from the first output on (engine start-up left out)
                        first = last = now
                        first_tokens = stats["new_tokens"]
                    elif now > first:
                        bar.set_postfix_str(f"{(stats['new_tokens'] - first_tokens) / (now - first):.0f} tok/s",
                                            refresh=False)
                    bar.update(1)
                    if len(fresh) >= 256 or now - last > 5:
                        _store(cache, done, fresh)
                        fresh, last = {}, now
            finally:
                if hasattr(stream, "close"):
                    stream.close()  # a stop: the engine aborts what is still running
                _store(cache, done, fresh)
        record_typical_lengths(made)
        size = chunk_size or backend.chunk_size
        if ll_order:
            bar.set_description("scoring choices")
        ll_size = max(size, 256)
        for start in range(0, len(ll_order), ll_size):
            chunk = ll_order[start:start + ll_size]
            res = backend.loglikelihood([pair for _, pair in chunk])
            _store(cache, done, {key: GenOutput(texts=[], num_tokens=[r.num_tokens], logprobs=[r.logprob],
                                                is_greedy=[r.is_greedy]) for (key, _), r in zip(chunk, res)})
            bar.update(len(chunk))
    stats["generate_s"] = round(time.perf_counter() - t0, 3)
    outputs = []
    for ks, inst in zip(units, instances):
        if inst.request.continuations is None:
            outputs.append(done[ks[0]])
        else:
            parts = [done[k] for k in ks]
            outputs.append(GenOutput(texts=[], num_tokens=[p.num_tokens[0] for p in parts],
                                     logprobs=[p.logprobs[0] for p in parts], is_greedy=[p.is_greedy[0] for p in parts]))
    return prompts, outputs, stats


_LENGTHS = "typical_lengths.json"


def typical_lengths() -> dict[str, float]:
    """Mean new tokens per generation of each task in earlier runs (any model): the scheduler's guess."""
    import json  # noqa: PLC0415

    try:
        data = json.loads((cache_dir() / _LENGTHS).read_text())
        return {k: float(v["mean"]) for k, v in data.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def record_typical_lengths(made: dict[str, list[int]]) -> None:
    """Fold this run's generation lengths into the running means (best effort; a lost update only
    changes the order of the next run's requests, never an output)."""
    import json  # noqa: PLC0415
    import os  # noqa: PLC0415

    if not made:
        return
    path = cache_dir() / _LENGTHS
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
        for task, lengths in made.items():
            old = data.get(task) or {"mean": 0.0, "n": 0}
            n = int(old["n"]) + len(lengths)
            data[task] = {"mean": (float(old["mean"]) * int(old["n"]) + sum(lengths)) / n, "n": min(n, 100_000)}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)
    except (OSError, ValueError, KeyError, TypeError):
        pass


def expected_tokens(inst: Instance, typical: dict[str, float]) -> float:
    """Expected new tokens of a request: its budget times n, or the task's typical length if smaller."""
    s = inst.request.settings
    guess = typical.get(inst.task)
    return s.n * (min(s.max_tokens, guess) if guess is not None else s.max_tokens)


def engine_log_path() -> Path:
    """Where the engine's output goes while it runs (moved into the run folder as engine.log after)."""
    import os  # noqa: PLC0415

    return cache_dir() / "logs" / f"engine-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"


@contextmanager
def engine_log_in_errors(log: Path | None):
    """A failure while the engine's output went to a log names the log and quotes its last line."""
    try:
        yield
    except UserError as exc:
        if log is not None and log.is_file() and log.stat().st_size:
            from .quiet import tail  # noqa: PLC0415

            last = tail(log, 1).strip()
            exc.args = (f"{exc} (engine log: {log}{'; last line: ' + last[:200] if last else ''})",)
        raise


def progress_stream():
    """Where progress lines go: the terminal's stderr even while engine output is sent to a log file."""
    from .quiet import terminal_stderr  # noqa: PLC0415

    return terminal_stderr()


@contextmanager
def _count_on_interrupt(keys: set[str], done: dict):
    """A stop signal during generation reports how many of this workload's requests are cached."""
    try:
        yield
    except Interrupted as exc:
        exc.progress = (len(keys & done.keys()), len(keys))
        raise


def _store(cache: GenerationCache | None, done: dict, fresh: dict) -> None:
    if not fresh:
        return
    if cache is not None:
        cache.put_many(fresh)
    done.update(fresh)


def prediction_rows(instances: list[Instance], prompts: list[str], outputs: list[GenOutput]) -> list[dict]:
    rows = []
    for inst, prompt, out in zip(instances, prompts, outputs):
        if inst.request.continuations is not None:
            conts = list(inst.request.continuations)
            best = max(range(len(conts)), key=lambda j: out.logprobs[j])
            rows.append({"id": inst.id, "task": inst.task, "group": inst.group, "prompt": prompt,
                         "output": conts[best], "continuations": conts, "logprobs": out.logprobs,
                         "is_greedy": out.is_greedy, "continuation_tokens": out.num_tokens, "gold": inst.gold,
                         "num_tokens": 0})
            continue
        row = {"id": inst.id, "task": inst.task, "group": inst.group, "prompt": prompt, "output": out.texts[0],
               "gold": inst.gold, "num_tokens": sum(out.num_tokens), "finish_reason": (out.finish_reasons or [""])[0]}
        if len(out.texts) > 1:
            row["outputs"] = out.texts
        rows.append(row)
    return rows


def score_rows(task: GenerationTask, rows: list[dict], reasoning=None, samples: bool = False) -> list[dict]:
    """Verify saved predictions (used by ``run`` and by ``score``, which loads no model); with a
    reasoning config the verifier sees only the answer after the trace (tulu_eval/reasoning.py);
    with ``samples``, k-sample rows also get avg@k and pass@k (tulu_eval/sampling.py)."""
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
        from .report import write_run_report  # noqa: PLC0415
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
