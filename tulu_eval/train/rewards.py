"""Verifiers as TRL reward functions: reward = scale x score (Tülu 3: 10), unchanged verifier code.

TRL's GRPO trainer calls a reward function as ``f(prompts=..., completions=..., completion_ids=...,
**columns)``, one list entry per completion, with every other dataset column as a keyword
argument. :class:`VerifierReward` reads the ``verifier`` and ``ground_truth`` columns, looks the
verifier up by name (the very objects the eval tasks use, from :func:`get_verifier`), and returns
``scale * verifier.verify(text, ground_truth).score``. With ``non_stop_penalty`` set, a completion
that did not end with an end-of-sequence token gets that value instead (open-instruct's
``non_stop_penalty``), since a truncated answer should not be rewarded.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..verifiers import get_verifier


def completion_text(completion: Any) -> str:
    """A completion as text: TRL passes a string, or a list of messages in conversational mode."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(m.get("content") or "" for m in completion if isinstance(m, dict))
    return str(completion)


class VerifierReward:
    """``reward(completions, ground_truth, verifier, completion_ids=None, **_)`` -> list of floats."""

    def __init__(self, scale: float = 10.0, non_stop_penalty: float | None = None,
                 eos_token_ids: Sequence[int] = ()):
        self.scale = scale
        self.non_stop_penalty = non_stop_penalty
        self.eos_token_ids = set(eos_token_ids)
        self._verifiers: dict[str, Any] = {}
        self.__name__ = "verifier_reward"  # TRL names reward columns after the function
        self.last_details: list[dict] = []

    def verifier(self, name: str):
        if name not in self._verifiers:
            self._verifiers[name] = get_verifier(name)
        return self._verifiers[name]

    def stopped(self, ids: Sequence[int] | None) -> bool:
        return bool(ids) and ids[-1] in self.eos_token_ids

    def __call__(self, completions: list, ground_truth: list, verifier: list, completion_ids: list | None = None,
                 **_: Any) -> list[float]:
        rewards, details = [], []
        for i, (completion, truth, name) in enumerate(zip(completions, ground_truth, verifier, strict=True)):
            ids = completion_ids[i] if completion_ids is not None else None
            if self.non_stop_penalty is not None and ids is not None and not self.stopped(ids):
                rewards.append(float(self.non_stop_penalty))
                details.append({"verifier": name, "stopped": False})
                continue
            result = self.verifier(name).verify(completion_text(completion), truth)
            rewards.append(self.scale * result.score)
            details.append({"verifier": name, "score": result.score,
                            **({"error": result.error} if result.is_error else {})})
        self.last_details = details
        return rewards

    @property
    def last_error_share(self) -> float:
        """Share of the last batch's rewards that are verifier errors (0 given as reward, not a judgment)."""
        return sum("error" in d for d in self.last_details) / len(self.last_details) if self.last_details else 0.0
