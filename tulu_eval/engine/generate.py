"""generate: one batched, cached workload of every task's requests on one backend.

Requests are rendered, looked up in the generation cache, and what is missing is handed to the
backend longest-expected-first; each output is cached as it arrives, so a killed run resumes
where it stopped, and prompts shared by several tasks are generated once.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from tqdm import tqdm

from ..api.outputs import GenOutput
from ..api.request import Instance
from ..backends import Backend
from ..models import cache_dir
from ..procs import Interrupted
from .cache import GenerationCache, request_key


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
    # longest contexts first, the continuations of one context side by side (their prefix is computed once)
    ll_order = sorted(ll_todo.items(), key=lambda kv: (-len(kv[1][0]), kv[1][0], kv[1][1]))
    n_units = len(set(all_keys))
    stats = {"requests": len(instances), "units": n_units, "cached": n_units - len(gen_order) - len(ll_order),
             "generated": len(gen_order), "scored": len(ll_order), "generate_s": 0.0, "new_tokens": 0}
    t0 = time.perf_counter()
    total = len(gen_order) + len(ll_order)
    made: dict[str, list[int]] = {}  # task -> tokens of each new generation (typical lengths, next time)
    # generations (longest expected first), then log-likelihood units: one workload, one schedule
    work = [("gen", key, i) for key, i in gen_order] + [("ll", key, pair) for key, pair in ll_order]
    with _count_on_interrupt(set(all_keys), done), \
            tqdm(total=total, desc="generating" if gen_order else "scoring choices", unit="req",
                 disable=not progress or not total, file=progress_stream()) as bar:
        # every request is handed over at once (or --chunk-size at a time); each result is cached as it
        # arrives, at most a few seconds late, so a stopped run loses only what was in flight
        size = chunk_size or len(work) or 1
        first = first_tokens = None
        for start in range(0, len(work), size):
            chunk = work[start:start + size]
            gens = [(key, i) for kind, key, i in chunk if kind == "gen"]
            lls = [(key, pair) for kind, key, pair in chunk if kind == "ll"]
            fresh: dict[str, GenOutput] = {}
            last = time.perf_counter()
            stream = backend.stream([instances[i].request for _, i in gens], [prompts[i] for _, i in gens],
                                    [pair for _, pair in lls])
            try:
                for kind, pos, out in stream:
                    if kind == "gen":
                        key, i = gens[pos]
                        fresh[key] = out
                        made.setdefault(instances[i].task, []).extend(out.num_tokens)
                        stats["new_tokens"] += sum(out.num_tokens)
                    else:
                        fresh[lls[pos][0]] = GenOutput(texts=[], num_tokens=[out.num_tokens], logprobs=[out.logprob],
                                                       is_greedy=[out.is_greedy])
                    now = time.perf_counter()
                    if first is None:  # tokens/s from the first output on (engine start-up left out)
                        first, first_tokens = now, stats["new_tokens"]
                    elif now > first and kind == "gen":
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
