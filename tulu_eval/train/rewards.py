"""Verifiers as TRL reward functions: reward = scale x score (Tülu 3: 10), unchanged verifier code.

TRL's GRPO trainer calls a reward function as ``f(prompts=..., completions=..., completion_ids=...,
**columns)``, one list entry per completion, with every other dataset column as a keyword
argument. :class:`VerifierReward` reads the ``verifier`` and ``ground_truth`` columns, takes the
verifier object with that key from the verifier table (:func:`tulu_eval.verifiers.get_verifier`:
the very object the eval task with that key scores with), decodes the ground truth once
(``decode_gold``: the column is JSON text of the eval's gold value) and returns
``scale * verifier.verify(text, gold).score``.

* A reward built with ``keys=`` owns only those verifier keys and returns ``None`` (TRL's "not
  applicable") for other rows, so several reward functions can share one mixed batch.
* With ``non_stop_penalty`` set, a completion that did not end with an end-of-sequence token gets
  that value instead (open-instruct's ``non_stop_penalty``): a truncated answer is not rewarded.
* A verdict that is an error (no judgment, see ``tulu_eval/api/verifier.py``) is rewarded 0 and
  counted: :attr:`VerifierReward.last_error_share` (logged per step by the trainer).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from ..verifiers import decode_gold, get_verifier
from ..api.verifier import VerifierResult


def completion_text(completion: Any) -> str:
    """A completion as text: TRL passes a string, or a list of messages in conversational mode."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(m.get("content") or "" for m in completion if isinstance(m, dict))
    return str(completion)


class VerifierReward:
    """``reward(completions, ground_truth, verifier, completion_ids=None, **_)`` -> list of floats (or None)."""

    def __init__(self, scale: float = 10.0, non_stop_penalty: float | None = None,
                 eos_token_ids: Sequence[int] = (), keys: Iterable[str] | None = None):
        self.scale = scale
        self.non_stop_penalty = non_stop_penalty
        self.eos_token_ids = set(eos_token_ids)
        self.keys = set(keys) if keys is not None else None
        self.__name__ = "verifier_reward"  # TRL names reward columns after the function
        self.last_details: list[dict] = []

    @staticmethod
    def verifier(key: str):
        return get_verifier(key)

    def owns(self, key: str) -> bool:
        return self.keys is None or key in self.keys

    def stopped(self, ids: Sequence[int] | None) -> bool:
        return bool(ids) and ids[-1] in self.eos_token_ids

    def verify(self, completion: Any, ground_truth: str, key: str) -> VerifierResult:
        """The eval's verdict on one completion (``ground_truth`` as the dataset column holds it)."""
        try:
            gold = decode_gold(ground_truth)
        except (TypeError, ValueError) as exc:
            return VerifierResult.failed(f"ground_truth is not JSON text of the gold ({exc})")
        return self.verifier(key).verify(completion_text(completion), gold)

    def __call__(self, completions: list, ground_truth: list, verifier: list, completion_ids: list | None = None,
                 **_: Any) -> list[float | None]:
        rewards: list[float | None] = []
        details: list[dict] = []
        for i, (completion, truth, key) in enumerate(zip(completions, ground_truth, verifier, strict=True)):
            if not self.owns(key):
                rewards.append(None)
                details.append({"verifier": key, "owned": False})
                continue
            ids = completion_ids[i] if completion_ids is not None else None
            if self.non_stop_penalty is not None and ids is not None and not self.stopped(ids):
                rewards.append(float(self.non_stop_penalty))
                details.append({"verifier": key, "stopped": False})
                continue
            result = self.verify(completion, truth, key)
            rewards.append(self.scale * result.score)
            details.append({"verifier": key, "score": result.score,
                            **({"error": result.error} if result.is_error else {})})
        self.last_details = details
        return rewards

    @property
    def last_error_share(self) -> float:
        """Share of the last batch's owned rewards that are verifier errors (0 given, not a judgment)."""
        owned = [d for d in self.last_details if d.get("owned", True)]
        return sum("error" in d for d in owned) / len(owned) if owned else 0.0
