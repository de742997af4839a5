"""The backend interface: ``generate(requests)`` (and, later, ``loglikelihood``).

A backend turns :class:`~tulu_eval.api.request.Request` objects into text. Local backends (vLLM,
transformers) render each request with the model's chat template, tokenize it the same way,
and fit it into the context window the same way, so that greedy fp32 outputs agree token for
token between them. ``render`` returns the exact prompt string; the runner uses it (with the
model fingerprint and the settings) as the generation-cache key.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Sequence

from ..errors import UserError
from ..api.outputs import GenOutput, LLResult  # noqa: F401  (LLResult: the type loglikelihood returns)
from ..api.request import GenSettings, Request


def apply_stop(text: str, stop: Sequence[str]) -> str:
    """Cut ``text`` at the first stop sequence (the stop sequence itself is dropped)."""
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if 0 <= i < cut:
                cut = i
    return text[:cut]


def collect(stream: Iterator[tuple[int, GenOutput]], n: int) -> list[GenOutput]:
    """The outputs of a ``generate_stream`` in request order (for backends whose ``generate`` streams)."""
    out: list[GenOutput | None] = [None] * n
    for pos, o in stream:
        out[pos] = o
    return out  # type: ignore[return-value]


# backend options that only change how requests travel or which cores compute, never what is computed: left
# out of the cache key (the vLLM engine's core binding: outputs measured identical on one core and on two).
# Every other option (dtype, seed, batch size, kv-cache dtype, revision, quantization, ...) is in it.
_TRANSPORT_KEYS = ("base_url", "concurrency", "timeout", "max_retries", "data_parallel", "ray_address",
                   "cpu_threads_bind")


class Backend:
    name = "base"
    # how many requests the runner hands over at once; results are cached after each chunk
    chunk_size = 256

    def config(self) -> dict[str, Any]:
        """Settings that influence outputs; stored in results.json and in the cache key."""
        return {"backend": self.name}

    def identity(self) -> dict[str, Any]:
        """``config()`` less the transport options: part of every cache key. A backend's ``config()``
        must hold every option it was given, so that any option that can change an output is here."""
        return {k: v for k, v in self.config().items() if k not in _TRANSPORT_KEYS}

    def render(self, request: Request) -> str:
        raise NotImplementedError

    def generate(self, requests: list[Request], prompts: list[str]) -> list[GenOutput]:
        raise NotImplementedError

    def generate_stream(self, requests: list[Request], prompts: list[str]) -> Iterator[tuple[int, GenOutput]]:
        """Outputs as they become available, as ``(position in requests, output)``, in any order.

        The runner hands over a whole workload and caches each output as it arrives. This default runs
        ``generate`` on chunks of ``chunk_size`` requests (transformers); vLLM and the OpenAI backend
        override it to keep every request in flight at once."""
        for start in range(0, len(requests), self.chunk_size):
            outs = self.generate(requests[start:start + self.chunk_size], prompts[start:start + self.chunk_size])
            for j, out in enumerate(outs):
                yield start + j, out

    def stream(self, requests: list[Request], prompts: list[str],
               pairs: list[tuple[str, str]]) -> Iterator[tuple[str, int, GenOutput | LLResult]]:
        """A whole workload, generations and log-likelihood pairs, as results become available:
        ``("gen", position in requests, GenOutput)`` or ``("ll", position in pairs, LLResult)``.

        This default generates first (``generate_stream``), then scores the pairs in batches of at least
        256 (contexts shared within a batch); vLLM overrides it to run both kinds through one engine call
        (generations, then every prefill at once, never beside a decode: see ``VLLMBackend.stream``). Closing
        the generator early (a stop signal) stops the work in flight."""
        gen = self.generate_stream(requests, prompts) if requests else iter(())
        try:
            for pos, out in gen:
                yield "gen", pos, out
        finally:
            if hasattr(gen, "close"):
                gen.close()
        size = max(self.chunk_size, 256)
        for start in range(0, len(pairs), size):
            for j, res in enumerate(self.loglikelihood(pairs[start:start + size])):
                yield "ll", start + j, res

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[LLResult]:
        """Summed log-probability of each ``continuation`` after its rendered ``context``."""
        raise UserError(f"backend {self.name!r} cannot score log-likelihoods (multiple-choice tasks); "
                        "use --backend hf or vllm, or an OpenAI-compatible server with echo+logprobs")

    def close(self) -> None:
        pass


class LocalBackend(Backend):
    """Shared by vLLM and transformers: chat-template rendering, tokenization, context fitting."""

    def __init__(self, model_path: str, use_chat_template: bool | None = None, max_model_len: int | None = None):
        from transformers import AutoTokenizer  # noqa: PLC0415

        self.model_path = model_path
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        except Exception as exc:
            raise UserError(f"cannot load a tokenizer from {model_path} ({type(exc).__name__}: {exc})".splitlines()[0]) from None
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        self.use_chat_template = has_template if use_chat_template is None else use_chat_template
        if self.use_chat_template and not has_template:
            raise UserError(f"{model_path} has no chat template; drop --chat-template or pass a chat model")
        limit = getattr(self.tokenizer, "model_max_length", None) or 4096
        self.max_model_len = int(max_model_len or min(limit if limit < 1e9 else 4096, 4096))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "chat_template": self.use_chat_template, "max_model_len": self.max_model_len}

    def render(self, request: Request) -> str:
        if self.use_chat_template:
            return (self.tokenizer.apply_chat_template(request.messages, tokenize=False, add_generation_prompt=True)
                    + request.assistant_prefix)
        return request.text

    def encode(self, prompt: str, settings: GenSettings) -> tuple[list[int], int]:
        """Token ids of ``prompt`` and the number of new tokens allowed.

        A prompt that fits is kept whole and generation gets the room that is left (OLMES's
        ``truncate_context=False``): a task asking for 8,192 new tokens on a 4,096-token model
        gets less output, never a cut prompt. Only a prompt that leaves less than
        ``min(max_tokens, 256, max_model_len / 2)`` tokens of room keeps its last tokens (left truncation, as
        lm-eval does).
        """
        ids = self.tokenizer(prompt, add_special_tokens=not self.use_chat_template)["input_ids"]
        max_new = min(settings.max_tokens, self.max_model_len - 1)
        if len(ids) + max_new > self.max_model_len:
            floor = min(max_new, 256, self.max_model_len // 2)
            if len(ids) + floor <= self.max_model_len:
                max_new = self.max_model_len - len(ids)
            else:
                ids = ids[-(self.max_model_len - floor):]
                max_new = floor
        return ids, max_new

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Context and continuation tokens as lm-eval splits them: the pair is tokenized whole
        (so tokens merging across the boundary are handled) and the context's own length cuts it;
        trailing spaces of the context move to the continuation. The context is left-truncated
        so that both fit in ``max_model_len``."""
        spaces = len(context) - len(context.rstrip(" "))
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        add = not self.use_chat_template
        whole = self.tokenizer(context + continuation, add_special_tokens=add)["input_ids"]
        ctx = self.tokenizer(context, add_special_tokens=add)["input_ids"]
        ctx_ids, cont_ids = whole[: len(ctx)], whole[len(ctx):]
        if not cont_ids:
            raise UserError("log-likelihood request with an empty continuation")
        keep = self.max_model_len - len(cont_ids)
        if keep < 1:
            cont_ids = cont_ids[-(self.max_model_len - 1):]
            keep = 1
        return ctx_ids[-keep:], cont_ids


def settings_key(settings: GenSettings) -> str:
    return json.dumps(settings.as_dict(), sort_keys=True)
