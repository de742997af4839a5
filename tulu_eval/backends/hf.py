"""transformers backend: length-sorted batches, left padding, stop sequences.

Greedy decoding is deterministic; sampled decoding is seeded once per run (``seed``). On a
CPU the default dtype is float32 (bit-for-bit comparable with vLLM's fp32 greedy outputs);
on a GPU it is bfloat16.
"""

from __future__ import annotations

from typing import Any

from ..api.outputs import GenOutput, LLResult
from ..api.request import Request
from ..errors import UserError
from .base import LocalBackend, apply_stop


class HFBackend(LocalBackend):
    name = "hf"
    chunk_size = 64

    def __init__(self, model_path: str, dtype: str = "auto", batch_size: int = 32, seed: int = 1234,
                 device: str | None = None, use_chat_template: bool | None = None,
                 max_model_len: int | None = None, **unknown: Any):
        if unknown:
            raise UserError(f"--model-args: unknown option(s) for the hf backend: {', '.join(unknown)}")
        import torch  # noqa: PLC0415

        super().__init__(model_path, use_chat_template, max_model_len)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = dtype if dtype != "auto" else ("bfloat16" if self.device.startswith("cuda") else "float32")
        self.model = None  # loaded on the first generate(): a fully cached rerun never loads it
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.chunk_size = max(self.chunk_size, self.batch_size)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _load(self):
        if self.model is None:
            import torch  # noqa: PLC0415
            from transformers import AutoModelForCausalLM  # noqa: PLC0415

            try:
                model = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=getattr(torch, self.dtype))
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [""])[0]
                raise UserError(f"cannot load model {self.model_path} ({type(exc).__name__}: {first})") from None
            self.model = model.to(self.device).eval()
            torch.manual_seed(self.seed)
        return self.model

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dtype": self.dtype, "device": self.device, "batch_size": self.batch_size,
                "seed": self.seed}

    def generate(self, requests: list[Request], prompts: list[str]) -> list[GenOutput]:
        self._load()
        encoded = [self.encode(p, r.settings) for p, r in zip(prompts, requests)]
        # batches share settings; inside a settings group, longest prompts first
        order = sorted(range(len(requests)),
                       key=lambda i: (str(requests[i].settings), -len(encoded[i][0])))
        results: list[GenOutput | None] = [None] * len(requests)
        limit = self._position_limit()
        start = 0
        while start < len(order):
            first = requests[order[start]].settings
            batch = [order[start]]
            longest, budget = len(encoded[order[start]][0]), encoded[order[start]][1]
            # a batch runs to its largest budget; its longest prompt must not go past the model's positions
            while (len(batch) < self.batch_size and start + len(batch) < len(order)
                   and requests[order[start + len(batch)]].settings == first
                   and longest + max(budget, encoded[order[start + len(batch)]][1]) <= limit):
                budget = max(budget, encoded[order[start + len(batch)]][1])
                batch.append(order[start + len(batch)])
            for i, out in zip(batch, self._generate_batch([encoded[i] for i in batch], first)):
                results[i] = out
            start += len(batch)
        return results  # type: ignore[return-value]

    def _position_limit(self) -> int:
        """How far a sequence may run: the model's position table (at least ``max_model_len``)."""
        return max(self.max_model_len, int(getattr(self.model.config, "max_position_embeddings", 0) or 0))

    def _generate_batch(self, encoded, settings) -> list[GenOutput]:
        """One ``generate`` call; each request keeps its own budget (``encode``'s room for it): the batch
        runs to the largest, and each sequence is stopped at its own (it ends there, as if alone)."""
        import torch  # noqa: PLC0415
        from transformers import StoppingCriteria, StoppingCriteriaList  # noqa: PLC0415

        ids = [e[0] for e in encoded]
        budgets = [e[1] for e in encoded for _ in range(settings.n)]  # one row per returned sequence
        max_new = max(budgets)
        width = max(len(x) for x in ids)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + x for x in ids], device=self.device)
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids], device=self.device)
        sample = settings.temperature > 0
        class OwnBudget(StoppingCriteria):
            def __call__(self, input_ids, scores, **_):
                made = input_ids.shape[1] - width
                return torch.tensor([made >= b for b in budgets], device=input_ids.device)

        kwargs: dict[str, Any] = {"max_new_tokens": max_new, "do_sample": sample,
                                  "num_return_sequences": settings.n, "pad_token_id": pad}
        if min(budgets) < max_new:
            kwargs["stopping_criteria"] = StoppingCriteriaList([OwnBudget()])
        if sample:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p, top_k=0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if settings.stop:
            kwargs.update(stop_strings=list(settings.stop), tokenizer=self.tokenizer)
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=attention, **kwargs)
        new = out[:, width:].tolist()
        eos = set(self._eos_ids())
        outputs = []
        for b in range(len(ids)):
            texts, counts, reasons = [], [], []
            for seq in new[b * settings.n:(b + 1) * settings.n]:
                seq = seq[:encoded[b][1]]  # its own budget (what follows, if anything, is padding)
                n_text, n_tok, reason = len(seq), len(seq), "length"
                for j, t in enumerate(seq):
                    if t in eos:  # counted like vLLM counts it: the EOS token is generated
                        n_text, n_tok, reason = j, j + 1, "stop"
                        break
                text = self.tokenizer.decode(seq[:n_text], skip_special_tokens=True)
                cut = apply_stop(text, settings.stop)
                if len(cut) < len(text):
                    reason = "stop"
                texts.append(cut)
                counts.append(n_tok)
                reasons.append(reason)
            outputs.append(GenOutput(texts, counts, reasons))
        return outputs

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[LLResult]:
        """Exact log-likelihoods: one forward pass per distinct input sequence (continuations of one
        token after the same context share it), left-padded batches, logits kept only for the
        continuation positions."""
        import torch  # noqa: PLC0415

        model = self._load()
        encoded = [self.encode_pair(c, x) for c, x in pairs]
        units: dict[tuple[int, ...], list[int]] = {}
        for i, (ctx, cont) in enumerate(encoded):
            units.setdefault(tuple(ctx + cont[:-1]), []).append(i)
        inputs = sorted(units, key=len, reverse=True)
        results: list[LLResult | None] = [None] * len(pairs)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(inputs), self.batch_size):
            batch = inputs[start:start + self.batch_size]
            width = max(len(x) for x in batch)
            keep = max(len(encoded[i][1]) for x in batch for i in units[x])
            ids = torch.tensor([[pad] * (width - len(x)) + list(x) for x in batch], device=self.device)
            mask = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in batch], device=self.device)
            pos = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                logits = model(input_ids=ids, attention_mask=mask, position_ids=pos, logits_to_keep=keep).logits
                logp = torch.log_softmax(logits.float(), dim=-1)
            for row, x in enumerate(batch):
                for i in units[x]:
                    cont = encoded[i][1]
                    lp = logp[row, keep - len(cont):]  # the positions that predict the continuation
                    target = torch.tensor(cont, device=self.device)
                    total = lp.gather(-1, target[:, None]).sum().item()
                    greedy = bool((lp.argmax(-1) == target).all().item())
                    results[i] = LLResult(total, greedy, len(cont))
        return results  # type: ignore[return-value]

    def _eos_ids(self) -> list[int]:
        eos = self.model.generation_config.eos_token_id
        ids = eos if isinstance(eos, list) else [eos]
        return [i for i in ids if i is not None] or [self.tokenizer.eos_token_id]
