"""Log-likelihood scoring on the real bundled model: exactness, batching, and a multiple-choice run."""

from __future__ import annotations

import json

import pytest

from .conftest import run_cli

PAIRS = [
    ("The capital of France is", " Paris"),
    ("The capital of France is", " Berlin"),
    ("The capital of France is ", "Paris"),  # trailing space moves into the continuation
    ("Question: 2 + 2 =\nAnswer:", " 4"),
    ("Question: 2 + 2 =\nAnswer:", " four, obviously"),
    ("Once upon a time", " there was a little girl who lived in a village near the forest."),
]


def _naive(model, tok, context, continuation):
    import torch

    ctx = tok(context)["input_ids"]
    whole = tok(context + continuation)["input_ids"]
    cont = whole[len(ctx):]
    with torch.inference_mode():
        logits = model(torch.tensor([whole])).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    return sum(logp[len(ctx) - 1 + k, t].item() for k, t in enumerate(cont)), len(cont)


def test_hf_loglikelihood_equals_unbatched_forward(bundled_model):
    from tulu_eval.backends.hf import HFBackend

    be = HFBackend(str(bundled_model), batch_size=3, use_chat_template=False)
    got = be.loglikelihood(PAIRS)
    model, tok = be.model, be.tokenizer
    for (ctx, cont), res in zip(PAIRS, got):
        c, x = (ctx.rstrip(" "), ctx[len(ctx.rstrip(" ")):] + cont)
        want, n = _naive(model, tok, c, x)
        assert res.num_tokens == n
        assert res.logprob == pytest.approx(want, abs=2e-4), (ctx, cont)
    assert got[0].logprob > got[1].logprob  # Paris beats Berlin
    assert got[2].logprob == pytest.approx(got[0].logprob, abs=1e-6)


MC_TASK = '''
"""Five MMLU abstract-algebra questions as letter choices (test fixture task)."""
from tulu_eval.api.multiple_choice import MultipleChoiceTask
from tulu_eval.data.files import DataFile

def prompt(doc):
    opts = "".join(f"\\n{l}. {doc[l]}" for l in "ABCD")
    return f"{doc['question']}{opts}\\nAnswer:"

TASK = MultipleChoiceTask(
    name="mmlu_algebra_mc_fixture", suite="dev", skill="knowledge", in_average=False,
    data=DataFile("mmlu/test/abstract_algebra_test.csv", kwargs={"fieldnames": ["question", "A", "B", "C", "D", "answer"]}),
    prompt=prompt, choices=lambda doc: [" A", " B", " C", " D"], gold=lambda doc: "ABCD".index(doc["answer"]),
    primary_metric="acc",
)
'''


def test_multiple_choice_run_end_to_end(tmp_path, bundled_model, data_dir):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "mc.py").write_text(MC_TASK)
    res = run_cli("run", "--tasks", "mmlu_algebra_mc_fixture", "--include-path", str(tmp_path / "tasks"),
                  "--limit", "5", "--backend", "hf", "--no-cache", "-o", str(tmp_path / "run"))
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads((tmp_path / "run" / "results.json").read_text())
    task = result["tasks"]["mmlu_algebra_mc_fixture"]
    assert set(task["metrics"]) == {"acc", "acc_norm"} and task["num_instances"] == 5
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions" / "mmlu_algebra_mc_fixture.jsonl").open()]
    assert all(len(r["logprobs"]) == 4 and r["output"] in r["continuations"] for r in rows)
    assert result["generation"]["scored"] == 20 and result["tokens_generated"] == 0


def test_openai_chat_backend_refuses_loglikelihood():
    from tulu_eval.backends.openai import OpenAIBackend
    from tulu_eval.errors import UserError

    be = OpenAIBackend.__new__(OpenAIBackend)
    be.api = "chat"
    with pytest.raises(UserError, match="api=completions"):
        be.loglikelihood([("a", " b")])


@pytest.mark.slow
def test_vllm_loglikelihood_matches_hf(bundled_model):
    from tulu_eval.backends.hf import HFBackend
    from tulu_eval.backends.vllm import VLLMBackend

    hf = HFBackend(str(bundled_model), use_chat_template=False).loglikelihood(PAIRS)
    vl_backend = VLLMBackend(str(bundled_model), use_chat_template=False)
    try:
        vl = vl_backend.loglikelihood(PAIRS)
        # the runner's one engine call: generations, then the log-likelihood prefills; a prefill never shares a
        # step with a decode, so its logprob is exactly the one loglikelihood() gives (a score must not depend
        # on what else the run holds)
        from tulu_eval.api.request import GenSettings, Request

        reqs = [Request(messages=[], text=t, settings=GenSettings(max_tokens=24)) for t in ("Once upon a time", "2 + 2 =")]
        prompts = [vl_backend.render(r) for r in reqs]
        got = {(kind, pos): out for kind, pos, out in vl_backend.stream(reqs, prompts, PAIRS)}
        assert sorted(got) == sorted([("gen", i) for i in range(2)] + [("ll", i) for i in range(len(PAIRS))])
        assert [got["gen", i].texts for i in range(2)] == [o.texts for o in vl_backend.generate(reqs, prompts)]
        for i, b in enumerate(vl):
            assert got["ll", i].num_tokens == b.num_tokens and got["ll", i].is_greedy == b.is_greedy
            assert got["ll", i].logprob == b.logprob
    finally:
        vl_backend.close()
    for a, b in zip(hf, vl):
        assert a.num_tokens == b.num_tokens
        assert a.logprob == pytest.approx(b.logprob, abs=1e-3)
        assert a.is_greedy == b.is_greedy


@pytest.mark.slow
def test_vllm_continuation_read_from_the_prefix_cache_is_redone(bundled_model, monkeypatch):
    """On the real engine: a context that ends two tokens before a cache block boundary, scored with one
    continuation and then with another that starts with the same two tokens. The second request finds the
    whole first block cached, past the context: its first continuation positions have no logprob, so it is
    redone from scratch, in loglikelihood() and in the runner's stream(), and gives exactly the value an
    engine scoring from scratch gives."""
    from tulu_eval.backends import vllm as vb

    backend = vb.VLLMBackend(str(bundled_model), use_chat_template=False)
    retries = []
    real_retry = vb.VLLMBackend._ll_retry
    monkeypatch.setattr(vb.VLLMBackend, "_ll_retry", staticmethod(lambda job: retries.append(job) or real_retry(job)))
    try:
        block = backend._load().llm_engine.vllm_config.cache_config.block_size

        def context(word: str) -> str:  # exactly block - 2 tokens
            text = word * (block - 2)
            assert len(backend.encode_pair(text, " cat sat on the mat")[0]) == block - 2
            return text

        first, second = " cat sat on the mat", " cat sat by a red door"
        ctx_a, ctx_b = context(" the"), context(" a")
        assert backend.encode_pair(ctx_a, first)[1][:2] == backend.encode_pair(ctx_a, second)[1][:2]
        backend.loglikelihood([(ctx_a, first)])
        assert not retries
        cached = backend.loglikelihood([(ctx_a, second)])[0]
        assert len(retries) == 1
        list(backend.stream([], [], [(ctx_b, first)]))
        streamed = [out for kind, _, out in backend.stream([], [], [(ctx_b, second)]) if kind == "ll"]
        assert len(retries) == 2 and len(streamed) == 1
        monkeypatch.setattr(vb, "LL_READS_PREFIX_CACHE", False)
        scratch = backend.loglikelihood([(ctx_a, second), (ctx_b, second)])
    finally:
        backend.close()
    assert (cached.logprob, cached.is_greedy, cached.num_tokens) == (
        scratch[0].logprob, scratch[0].is_greedy, scratch[0].num_tokens)
    assert (streamed[0].logprob, streamed[0].num_tokens) == (scratch[1].logprob, scratch[1].num_tokens)


def test_vllm_scores_one_token_continuations_per_context():
    """The requests vLLM gets for a batch of pairs (no engine needed): one-token continuations of one context
    share one cached-prefix request asking for exactly their tokens; longer ones a prompt-logprobs request."""
    pytest.importorskip("vllm")
    from tulu_eval.backends import vllm as vb

    encoded = [([1, 2, 3], [7]), ([1, 2, 3], [8]), ([1, 2, 3], [7]), ([1, 2, 4], [7]), ([1, 2, 3], [7, 9]), ([], [5])]
    jobs = vb.VLLMBackend._ll_jobs(encoded)
    shapes = sorted((ids, par.logprob_token_ids, par.prompt_logprobs, pos) for ids, par, pos in jobs)
    assert shapes == [([1, 2, 3], [7, 8], None, [0, 1, 2]), ([1, 2, 3, 7, 9], None, 1, [4]),
                      ([1, 2, 4], [7], None, [3]), ([5], None, 1, [5])]
    assert all(par.max_tokens == 1 and par.temperature == 0.0 for _, par, _ in jobs)
    many = [([1], [t]) for t in range(45)]  # more tokens than vLLM returns for one request: split in parts
    parts = vb.VLLMBackend._ll_jobs(many)
    assert [len(par.logprob_token_ids) for _, par, _ in parts] == [20, 20, 5]
    assert sorted(p for _, _, pos in parts for p in pos) == list(range(45))


def test_vllm_one_token_results_come_from_the_requested_tokens():
    """A finished one-token request: each pair gets its token's log-probability; greedy = the generated token."""
    pytest.importorskip("vllm")
    from types import SimpleNamespace as NS

    from tulu_eval.backends import vllm as vb

    encoded = [([1, 2], [7]), ([1, 2], [8])]
    job = vb.VLLMBackend._ll_jobs(encoded)[0]
    out = NS(outputs=[NS(token_ids=[8], logprobs=[{8: NS(logprob=-0.5, rank=1), 7: NS(logprob=-2.0, rank=1)}])])
    got = dict(vb.VLLMBackend._ll_job_results(encoded, job, out))
    assert (got[0].logprob, got[0].is_greedy, got[0].num_tokens) == (-2.0, False, 1)
    assert (got[1].logprob, got[1].is_greedy) == (-0.5, True)


def test_vllm_prompt_logprobs_read_from_the_cache_are_redone_from_scratch():
    """A longer continuation is read from prompt logprobs; if the prefix cache covered one of its positions
    (no logprob there), the request is redone without reading the cache."""
    pytest.importorskip("vllm")
    from types import SimpleNamespace as NS

    from tulu_eval.backends import vllm as vb

    encoded = [([1, 2, 3], [7, 9])]
    job = vb.VLLMBackend._ll_jobs(encoded)[0]
    assert job[1].skip_reading_prefix_cache is False and job[1].detokenize is False
    plp = [None, {2: NS(logprob=-1.0, rank=3)}, {3: NS(logprob=-1.0, rank=1)},
           {7: NS(logprob=-0.25, rank=1)}, {9: NS(logprob=-0.5, rank=2)}]
    got = vb.VLLMBackend._ll_job_results(encoded, job, NS(num_cached_tokens=2, prompt_logprobs=plp))
    assert got[0][1].logprob == -0.75 and got[0][1].is_greedy is False and got[0][1].num_tokens == 2
    assert vb.VLLMBackend._ll_job_results(encoded, job, NS(num_cached_tokens=3, prompt_logprobs=plp)) is None
    ids, par, pos = vb.VLLMBackend._ll_retry(job)
    assert (ids, pos, par.skip_reading_prefix_cache, par.prompt_logprobs) == ([1, 2, 3, 7, 9], [0], True, 1)
