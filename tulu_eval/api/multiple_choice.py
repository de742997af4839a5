"""Multiple-choice tasks scored by log-likelihood (no generation).

The prompt is rendered exactly like a generative task's (chat template, few-shot as multi-turn,
assistant prefix); each answer choice is a continuation whose summed log-probability the backend
computes (``Backend.loglikelihood``). Default sample metrics, as in lm-eval / OLMES:

* ``acc``: the choice with the highest log-likelihood is the gold one;
* ``acc_norm``: the same after dividing each log-likelihood by the choice's length in characters
  (lm-eval's ``acc_norm``, OLMES's ``acc_per_char``).

Tasks with other rules (TruthfulQA's MC2) pass ``choice_metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .request import Instance, Request
from .task import GenerationTask


def default_choice_metrics(logprobs: Sequence[float], choices: Sequence[str], gold: Any) -> dict[str, float]:
    best = max(range(len(choices)), key=lambda j: logprobs[j])
    norm = [lp / max(1, len(c)) for lp, c in zip(logprobs, choices)]
    best_norm = max(range(len(choices)), key=lambda j: norm[j])
    return {"acc": float(best == gold), "acc_norm": float(best_norm == gold)}


@dataclass
class MultipleChoiceTask(GenerationTask):
    # doc -> the continuation strings to score (e.g. [" A", " B", " C", " D"])
    choices: Callable[[dict], Sequence[str]] | None = None
    # (logprobs, choices, gold) -> sample metrics; default: acc and acc_norm with gold = choice index
    choice_metrics: Callable[[Sequence[float], Sequence[str], Any], dict[str, float]] = default_choice_metrics
    # gold -> the choice numbers the reported answer (``extracted``) is picked among; default: all
    # (TruthfulQA reports its MC1 answer)
    answer_among: Callable[[Any], Sequence[int]] | None = None

    def __post_init__(self):
        super().__post_init__()
        if self.choices is None:
            raise ValueError(f"task {self.name}: a multiple-choice task needs choices(doc)")

    def build_request(self, doc: dict) -> Request:
        req = super().build_request(doc)
        req.continuations = tuple(self.choices(doc))
        return req

    def score_row(self, instance: Instance, row: dict) -> dict:
        conts = row["continuations"]
        metrics = self.choice_metrics(row["logprobs"], conts, instance.gold)
        among = self.answer_among(instance.gold) if self.answer_among else range(len(conts))
        best = max(among, key=lambda j: row["logprobs"][j])
        return {"extracted": conts[best], "verdict": metrics.get(self.primary_metric), "metrics": metrics,
                "details": {}}
