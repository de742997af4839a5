"""Cache identity = everything that can change an output: one test per field that changing it misses.

Each check goes through the runner's own ``generate_all`` with a real sqlite cache and real backend
objects on the bundled model (tokenizer, chat template, options); only the engine's ``stream``
(what the runner's one schedule calls) is replaced by a recorder, since what is tested is whether the cache is consulted or bypassed.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tulu_eval.api.outputs import GenOutput
from tulu_eval.api.request import GenSettings, Instance, Request
from tulu_eval.backends.hf import HFBackend
from tulu_eval.backends.vllm import VLLMBackend
from tulu_eval.engine.cache import GenerationCache
from tulu_eval.engine.generate import generate_all
from tulu_eval.models import ModelSpec, fingerprint

SETTINGS = GenSettings(max_tokens=32, temperature=0.0, top_p=1.0, n=1, stop=("Question:",))


def _instance(settings: GenSettings = SETTINGS) -> Instance:
    req = Request(messages=[{"role": "user", "content": "What is 2 + 2?"}], text="What is 2 + 2?", settings=settings)
    return Instance(task="t", id="0", doc={}, request=req, gold="4")


def generated(backend, model_fp, cache, settings: GenSettings = SETTINGS) -> bool:
    """Whether ``generate_all`` had to call the engine (a cache miss) for one request."""
    calls = []

    def record(requests, prompts):
        calls.extend(prompts)
        return [GenOutput(["4"] * r.settings.n, [1] * r.settings.n, ["stop"] * r.settings.n) for r in requests]

    def stream(requests, prompts, pairs):
        assert not pairs
        return iter([("gen", pos, out) for pos, out in enumerate(record(requests, prompts))])

    backend.stream = stream
    generate_all(backend, [_instance(settings)], model_fp, cache, progress=False)
    return bool(calls)


@pytest.fixture()
def cache(tmp_path):
    c = GenerationCache(tmp_path / "c.sqlite")
    yield c
    c.close()


@pytest.fixture(scope="module")
def model_fp(bundled_model):
    return fingerprint(ModelSpec("m", str(bundled_model), "local"))


def test_same_everything_hits(bundled_model, model_fp, cache):
    assert generated(HFBackend(str(bundled_model)), model_fp, cache)
    assert not generated(HFBackend(str(bundled_model)), model_fp, cache)  # a fresh backend, same options
    assert len(cache) == 1


@pytest.mark.parametrize("field,value", [("max_tokens", 33), ("temperature", 0.7), ("top_p", 0.9), ("n", 2),
                                         ("stop", ("Q:",))])
def test_each_generation_setting_misses(field, value, bundled_model, model_fp, cache):
    from dataclasses import replace

    backend = HFBackend(str(bundled_model))
    assert generated(backend, model_fp, cache)
    assert generated(backend, model_fp, cache, replace(SETTINGS, **{field: value}))


@pytest.mark.parametrize("option,value", [("dtype", "bfloat16"), ("seed", 7), ("batch_size", 4),
                                          ("max_model_len", 1024), ("use_chat_template", False)])
def test_each_hf_option_misses(option, value, bundled_model, model_fp, cache):
    assert generated(HFBackend(str(bundled_model)), model_fp, cache)
    assert generated(HFBackend(str(bundled_model), **{option: value}), model_fp, cache)


@pytest.mark.parametrize("option,value", [("kv_cache_dtype", "fp8"), ("revision", "abc123"), ("quantization", "fp8"),
                                          ("enforce_eager", False), ("dtype", "bfloat16"), ("seed", 7),
                                          ("gpu_memory_utilization", 0.5), ("max_num_seqs", 8),
                                          ("speculative_tokens", 4)])
def test_each_vllm_option_misses(option, value, bundled_model, model_fp, cache):
    """--model-args go to the engine; every one of them is in the key (the engine itself is not started)."""
    assert generated(VLLMBackend(str(bundled_model)), model_fp, cache)
    assert generated(VLLMBackend(str(bundled_model), **{option: value}), model_fp, cache)


def test_speculative_tokens_option(bundled_model):
    """speculative_tokens=K becomes vLLM's n-gram speculative_config (in the identity); a user's own
    speculative_config is kept as given; a negative count is a one-line error."""
    from tulu_eval.backends.vllm import ngram_config
    from tulu_eval.errors import UserError

    spec = VLLMBackend(str(bundled_model), speculative_tokens=4)
    assert spec.identity()["speculative_config"] == ngram_config(4) == {
        "method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4, "prompt_lookup_min": 2}
    assert "speculative_config" not in VLLMBackend(str(bundled_model)).identity()  # off by default
    own = {"method": "ngram", "num_speculative_tokens": 2, "prompt_lookup_max": 3}
    assert VLLMBackend(str(bundled_model), speculative_tokens=4, speculative_config=own).identity()[
        "speculative_config"] == own
    with pytest.raises(UserError, match="speculative_tokens"):
        VLLMBackend(str(bundled_model), speculative_tokens=-1)


def test_cpu_threads_bind(bundled_model, monkeypatch):
    """On a small machine the CPU engine's OpenMP threads get every usable core (vLLM's own choice keeps one
    for its scheduler); a user's VLLM_CPU_OMP_THREADS_BIND wins; large machines keep vLLM's choice. The
    binding is recorded in config() but is not part of the cache key (outputs measured identical)."""
    from tulu_eval.backends import vllm as vb

    assert vb.cpu_threads_bind([1, 0], env={}) == "0,1"
    assert vb.cpu_threads_bind([0, 1, 2, 3], env={}) == "0,1,2,3"
    assert vb.cpu_threads_bind(list(range(16)), env={}) is None
    assert vb.cpu_threads_bind([0, 1], env={vb.THREADS_BIND_ENV: "1"}) == "1"
    monkeypatch.setenv(vb.THREADS_BIND_ENV, "0")
    backend = VLLMBackend(str(bundled_model))
    assert backend.config()["cpu_threads_bind"] == "0"
    assert "cpu_threads_bind" not in backend.identity()
    monkeypatch.setenv(vb.THREADS_BIND_ENV, "1")
    assert VLLMBackend(str(bundled_model)).identity() == backend.identity()


def test_chat_template_text_misses(bundled_model, model_fp, cache):
    backend = HFBackend(str(bundled_model))
    assert generated(backend, model_fp, cache)
    backend.tokenizer.chat_template = backend.tokenizer.chat_template.replace("You are a helpful", "You are a")
    assert generated(backend, model_fp, cache)


def test_changed_checkpoint_file_misses(bundled_model, model_fp, cache, tmp_path):
    """Same folder name, one file changed (here the generation config): a different fingerprint."""
    other = tmp_path / bundled_model.name
    other.mkdir()
    for f in bundled_model.iterdir():
        if f.is_file():
            (other / f.name).symlink_to(f)
    gen = json.loads((bundled_model / "generation_config.json").read_text())
    (other / "generation_config.json").unlink()
    (other / "generation_config.json").write_text(json.dumps({**gen, "eos_token_id": 0}))
    other_fp = fingerprint(ModelSpec("m", str(other), "local"))
    assert other_fp != model_fp
    assert fingerprint(ModelSpec("m", str(bundled_model), "local"), "v2") != model_fp  # --model-revision
    backend = HFBackend(str(bundled_model))
    assert generated(backend, model_fp, cache)
    assert generated(backend, other_fp, cache)


def test_hub_model_not_downloaded_is_never_cached(bundled_model, cache, monkeypatch, tmp_path):
    """A hub id missing from the local HF cache has no fingerprint: no name-only key, nothing cached."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    fp = fingerprint(ModelSpec("someone/never-downloaded", "someone/never-downloaded", "hub"))
    assert fp is None
    backend = HFBackend(str(bundled_model))
    assert generated(backend, fp, cache) and generated(backend, fp, cache)
    assert len(cache) == 0


class _Server:
    """A minimal OpenAI-compatible /models endpoint whose reported entry the test can change."""

    def __init__(self):
        self.card = {"id": "smol", "object": "model", "owned_by": "vllm", "root": "/ckpt/step-100",
                     "max_model_len": 4096, "created": 1}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.card["created"] += 1  # changes on every call, as vLLM's does
                body = json.dumps({"object": "list", "data": [server.card]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_openai_identity(cache, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    from tulu_eval.backends.openai import OpenAIBackend

    server = _Server()
    try:
        spec = ModelSpec("openai:smol", "smol", "openai", server.url)
        fp = fingerprint(spec)
        assert fingerprint(spec) == fp  # the volatile 'created' field is not part of it
        assert generated(OpenAIBackend("smol", server.url), fp, cache)
        assert not generated(OpenAIBackend("smol", server.url, concurrency=2, timeout=5), fp, cache)  # transport only
        assert generated(OpenAIBackend("smol", server.url, api="completions"), fp, cache)
        assert generated(OpenAIBackend("smol", server.url, seed=7), fp, cache)
        revised = fingerprint(spec, "step-200")  # --model-revision: the user's label of opaque weights
        assert revised != fp and generated(OpenAIBackend("smol", server.url), revised, cache)
        server.card["root"] = "/ckpt/step-200"  # the server reports a new checkpoint under the same name
        assert fingerprint(spec) != fp
        assert generated(OpenAIBackend("smol", server.url), fingerprint(spec), cache)
    finally:
        server.httpd.shutdown()
