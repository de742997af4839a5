"""Any OpenAI-compatible server (vLLM's ``vllm serve``, TGI, llama.cpp server, hosted APIs).

``api=chat`` (the default) sends the request's messages to ``/chat/completions``, so the
server applies its own chat template; ``api=completions`` sends the plain-text prompt to
``/completions``. Requests run concurrently (``concurrency``, default 8) and are retried a few
times on transient errors. The API key comes from ``$OPENAI_API_KEY`` when set.

``--base-url`` may list several servers of the same model, comma-separated: each gets
``concurrency`` requests in flight from one shared queue (a faster server takes more), and a server
that stops answering (unreachable, or 5xx after the retries) has its request put back for the others;
the run stops with one line only when no server is left.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..api.outputs import GenOutput, LLResult
from ..api.request import Request
from ..errors import UserError
from .base import Backend, collect, apply_stop


class ServerDown(UserError):
    """A server did not answer (unreachable, or 5xx / 429 after every retry)."""


class OpenAIBackend(Backend):
    name = "openai"
    chunk_size = 64

    def __init__(self, model: str, base_url: str, api: str = "chat", concurrency: int = 8, seed: int = 1234,
                 timeout: float = 600.0, max_retries: int = 3, **unknown: Any):
        if unknown:
            raise UserError(f"--model-args: unknown option(s) for the openai backend: {', '.join(unknown)}")
        if api not in ("chat", "completions"):
            raise UserError(f"--model-args api={api}: expected chat or completions")
        import requests  # noqa: PLC0415

        self.base_urls = [u.strip().rstrip("/") for u in base_url.split(",") if u.strip()]
        if not self.base_urls:
            raise UserError("--base-url: no server URL given")
        self.model, self.base_url, self.api = model, ",".join(self.base_urls), api
        self.concurrency, self.seed, self.timeout, self.max_retries = int(concurrency), int(seed), float(timeout), int(max_retries)
        self.session = requests.Session()
        key = os.environ.get("OPENAI_API_KEY")
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"
        for url in self.base_urls:
            try:
                resp = self.session.get(f"{url}/models", timeout=10)
            except requests.RequestException as exc:
                raise UserError(f"--base-url {url}: server unreachable ({type(exc).__name__})") from None
            if resp.status_code == 200:
                served = [m.get("id") for m in resp.json().get("data", [])]
                if served and model not in served:
                    raise UserError(f"--model openai:{model}: the server at {url} serves {', '.join(served)}")

    def config(self) -> dict[str, Any]:
        return {**super().config(), "api": self.api, "base_url": self.base_url, "seed": self.seed,
                "concurrency": self.concurrency, "timeout": self.timeout, "max_retries": self.max_retries}

    def render(self, request: Request) -> str:
        if self.api == "chat":
            return json.dumps([request.messages, request.assistant_prefix], ensure_ascii=False)
        return request.text

    def generate(self, requests: list[Request], prompts: list[str]) -> list[GenOutput]:
        return collect(self.generate_stream(requests, prompts), len(requests))

    def generate_stream(self, requests: list[Request], prompts: list[str]):
        """All requests queued at once, ``concurrency`` in flight per server; each yielded when its answer
        arrives. A server that goes down hands its request back to the queue for the others."""
        import queue  # noqa: PLC0415
        import threading  # noqa: PLC0415
        from collections import deque  # noqa: PLC0415

        todo = deque(range(len(requests)))
        lock, stop = threading.Lock(), threading.Event()
        alive = set(self.base_urls)
        results: queue.Queue = queue.Queue()

        def worker(url: str) -> None:
            while not stop.is_set():
                with lock:
                    if url not in alive:
                        return
                    i = todo.popleft() if todo else None
                if i is None:
                    time.sleep(0.05)  # a request may still come back from a server that goes down
                    continue
                try:
                    out = self._one(requests[i], url)
                except ServerDown as exc:
                    with lock:
                        todo.appendleft(i)
                        alive.discard(url)
                        if not alive:
                            results.put(("error", exc))
                    return
                except Exception as exc:  # a bad request (4xx), a malformed answer: the run stops
                    results.put(("error", exc))
                    return
                results.put((i, out))

        threads = [threading.Thread(target=worker, args=(u,), daemon=True)
                   for u in self.base_urls for _ in range(self.concurrency)]
        for t in threads:
            t.start()
        try:
            for _ in range(len(requests)):
                item = results.get()
                if item[0] == "error":
                    raise item[1]
                yield item
        finally:
            stop.set()
        self.down = sorted(set(self.base_urls) - alive)

    def _one(self, req: Request, url: str | None = None) -> GenOutput:
        s = req.settings
        body: dict[str, Any] = {"model": self.model, "max_tokens": s.max_tokens, "temperature": s.temperature,
                                "n": s.n, "seed": self.seed}
        if s.temperature > 0:
            body["top_p"] = s.top_p
        if s.stop:
            body["stop"] = list(s.stop)[:4]  # the OpenAI API takes at most four
        if self.api == "chat":
            body["messages"] = req.messages
            if req.assistant_prefix:
                # the answer turn opens with a prefix ("Answer:"): vLLM's chat API continues a final
                # assistant message instead of starting a new turn
                body["messages"] = [*req.messages, {"role": "assistant", "content": req.assistant_prefix}]
                body.update(add_generation_prompt=False, continue_final_message=True)
        else:
            body["prompt"] = req.text
        data = self._post(f"{url or self.base_urls[0]}/{'chat/completions' if self.api == 'chat' else 'completions'}",
                          body)
        choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
        texts = [(c["message"]["content"] or "") if self.api == "chat" else c["text"] for c in choices]
        total = (data.get("usage") or {}).get("completion_tokens", 0)
        return GenOutput(
            texts=[apply_stop(t, s.stop) for t in texts],
            num_tokens=[total // max(1, len(choices))] * len(choices),
            finish_reasons=[c.get("finish_reason") or "" for c in choices],
        )

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[LLResult]:
        """Via ``/completions`` with ``echo`` and ``logprobs`` (vLLM and most local servers support it;
        hosted chat-only APIs do not). Plain-text prompts only: needs ``api=completions``."""
        if self.api != "completions":
            raise UserError("log-likelihood scoring over HTTP needs --model-args api=completions "
                            "(a server that supports echo+logprobs on /completions)")
        urls = self.base_urls
        with ThreadPoolExecutor(max_workers=self.concurrency * len(urls)) as pool:
            return list(pool.map(lambda ip: self._ll_one(*ip[1], url=urls[ip[0] % len(urls)]), enumerate(pairs)))

    def _ll_one(self, context: str, continuation: str, url: str | None = None) -> LLResult:
        body = {"model": self.model, "prompt": context + continuation, "max_tokens": 1, "temperature": 0,
                "echo": True, "logprobs": 1}
        base = url or self.base_urls[0]
        data = self._post(f"{base}/completions", body)
        lp = (data["choices"][0].get("logprobs") or {})
        offsets, tokens, values = lp.get("text_offset"), lp.get("tokens"), lp.get("token_logprobs")
        if not offsets or values is None:
            raise UserError(f"{base}: the server does not return echoed prompt logprobs")
        n_prompt = len(tokens) - 1  # the last token is the one generated
        idx = [i for i in range(n_prompt) if offsets[i] >= len(context)]
        if not idx or any(values[i] is None for i in idx):
            raise UserError(f"{base}: no prompt logprobs for the continuation")
        tops = lp.get("top_logprobs") or [None] * len(tokens)
        greedy = all(tops[i] and max(tops[i].values()) <= values[i] + 1e-9 for i in idx)
        return LLResult(sum(values[i] for i in idx), greedy, len(idx))

    def _post(self, url: str, body: dict) -> dict:
        import requests  # noqa: PLC0415

        for attempt in range(self.max_retries + 1):
            try:
                resp = self.session.post(url, json=body, timeout=self.timeout)
            except requests.RequestException as exc:
                if attempt == self.max_retries:
                    raise ServerDown(f"{url}: request failed ({type(exc).__name__})") from None
            else:
                if resp.status_code == 200:
                    return resp.json()
                if resp.status_code < 500 and resp.status_code != 429:
                    raise UserError(f"{url}: HTTP {resp.status_code}: {resp.text[:200]}")
                if attempt == self.max_retries:
                    raise ServerDown(f"{url}: HTTP {resp.status_code} after {attempt + 1} tries")
            time.sleep(min(30, 2 ** attempt))
        raise AssertionError("unreachable")
