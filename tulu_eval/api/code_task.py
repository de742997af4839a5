"""Code-generation tasks: the model's program runs in the sandbox, scored by pass@k.

A :class:`CodeTask` is a :class:`~tulu_eval.api.task.GenerationTask` with two differences:

* ``executes_code = True``: ``tulu-eval run``/``score`` refuse it (one line, exit 2, before any
  model loads) unless ``--allow-code-execution`` or ``TULU_EVAL_ALLOW_CODE_EXECUTION=1`` is
  given; selected through ``--suite`` without the opt-in, it is skipped with that reason.
* ``score`` runs all ``n`` samples of a problem in parallel and reports ``pass_at_k`` for each
  k in ``pass_ks`` (the unbiased estimator, ``tulu_eval.scoring.passk``), plus ``pass_at_k_base`` when
  the verifier reports a base verdict (HumanEval+).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..scoring.passk import pass_at_k
from .request import Instance
from .task import GenerationTask, error_fields


@dataclass
class CodeTask(GenerationTask):
    executes_code: ClassVar[bool] = True
    pass_ks: tuple[int, ...] = (1,)

    def score(self, instance: Instance, outputs: list[str]) -> dict:
        results = self.verifier.verify_many(outputs, instance.gold)
        n = len(results)
        correct = sum(r.score >= 1.0 for r in results)
        base = [r.details["passed_base"] for r in results if "passed_base" in r.details]
        metrics: dict[str, Any] = {}
        for k in self.pass_ks:
            if k <= n:
                metrics[f"pass_at_{k}"] = pass_at_k(n, correct, k)
                if len(base) == n:
                    metrics[f"pass_at_{k}_base"] = pass_at_k(n, sum(base), k)
        first = results[0]
        details = {"n": n, "correct": correct, "statuses": [r.details.get("status", "error") for r in results]}
        if len(base) == n:
            details["correct_base"] = sum(base)
        if "error" in first.details:
            details["error"] = first.details["error"]
        return {"extracted": first.details.get("extracted"), "verdict": first.score, "metrics": metrics,
                "details": details, **error_fields(results)}
