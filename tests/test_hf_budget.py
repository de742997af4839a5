"""hf backend: each request keeps its own generation budget inside a batch (real bundled model).

With ``max_model_len=64`` and ``max_tokens=40`` (plain prompts), a 28-token prompt has room for 36
new tokens while a short prompt keeps all 40. Before, the whole batch got the smaller budget, so the short
prompt's output was cut (and cached cut). Now each output equals the one generated alone.
"""

from __future__ import annotations

from tulu_eval.api.request import GenSettings, Request
from tulu_eval.backends.hf import HFBackend

SETTINGS = GenSettings(max_tokens=40, temperature=0.0)


def _request(text: str) -> Request:
    return Request(messages=[{"role": "user", "content": text}], text=text, settings=SETTINGS)


def test_batch_of_long_and_short_prompts_equals_each_alone(bundled_model):
    backend = HFBackend(str(bundled_model), max_model_len=64, batch_size=8, use_chat_template=False)
    passage = "The river flows past the old mill, under the stone bridge and on through the quiet valley " * 3
    long_text = backend.tokenizer.decode(backend.tokenizer(passage)["input_ids"][:28])
    short = _request("Once upon a time, a dragon")
    long = _request(long_text)
    prompts = [backend.render(r) for r in (short, long)]
    (_, short_budget), (long_ids, long_budget) = (backend.encode(p, SETTINGS) for p in prompts)
    assert short_budget == 40 and 32 <= long_budget < 40, (short_budget, long_budget, len(long_ids))

    together = backend.generate([short, long], prompts)
    alone_short = backend.generate([short], prompts[:1])[0]
    alone_long = backend.generate([long], prompts[1:])[0]
    assert backend._position_limit() >= len(long_ids) + short_budget  # so both did share one batch
    assert together[0].texts == alone_short.texts and together[0].num_tokens == alone_short.num_tokens
    assert together[1].texts == alone_long.texts and together[1].num_tokens == alone_long.num_tokens
    # the case that used to be cut: the short prompt's answer runs past the long prompt's budget
    assert alone_short.num_tokens[0] > long_budget
    assert together[1].num_tokens[0] <= long_budget
