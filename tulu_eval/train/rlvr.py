"""``tulu-eval train-rlvr``: RL with verifiable rewards, TRL's ``GRPOTrainer`` with our verifiers.

Each row carries ``prompt`` (messages), ``ground_truth`` and ``verifier``; TRL hands those columns
to the reward function (:class:`~tulu_eval.train.rewards.VerifierReward`), which returns
``reward.scale`` (10) x the score of the verifier object with that key (the eval task's own), or ``reward.non_stop_penalty`` for a
completion that hit the length limit without an end-of-sequence token. KL ``beta``, lr, group size
(``num_generations``), sampling temperature and lengths come from the recipe's ``trl:`` section
(a ``GRPOConfig``); on GPUs, ``use_vllm: true`` (with ``vllm_mode: colocate`` or ``server``)
makes TRL generate with vLLM. TRL logs the mean reward of every step as
``rewards/verifier_reward/mean``; we add one mean per verifier (``rewards/<verifier>/mean``), the
share of rewards that are verifier errors rather than judgments (``rewards/error_share``), and
keep every rollout in ``rollouts.jsonl`` of the output folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from .recipe import Recipe
from .rewards import VerifierReward, completion_text


class LoggedReward(VerifierReward):
    """:class:`VerifierReward` that also logs per-verifier means and writes the rollouts."""

    def __init__(self, *args, rollouts: Path | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rollouts = rollouts

    def __call__(self, prompts=None, completions=None, ground_truth=None, verifier=None, completion_ids=None,
                 log_metric=None, trainer_state=None, **kwargs):
        rewards = super().__call__(completions, ground_truth, verifier, completion_ids=completion_ids)
        if log_metric is not None:
            for name in sorted(k for k in set(verifier) if self.owns(k)):
                mine = [r for r, v in zip(rewards, verifier) if v == name]
                log_metric(f"rewards/{name}/mean", sum(mine) / len(mine))
            # rewards that are verifier errors (no judgment; given as 0): a silent zero otherwise
            log_metric("rewards/error_share", self.last_error_share)
        if self.rollouts is not None:
            step = getattr(trainer_state, "global_step", None)
            with self.rollouts.open("a", encoding="utf-8") as fh:
                for i, (completion, truth, name, reward) in enumerate(zip(completions, ground_truth, verifier, rewards)):
                    prompt = prompts[i] if prompts is not None else None
                    fh.write(json.dumps({"step": step, "verifier": name, "ground_truth": truth,
                                         "prompt": prompt[-1]["content"] if isinstance(prompt, list) else prompt,
                                         "completion": completion_text(completion), "reward": reward,
                                         "error": self.last_details[i].get("error"),
                                         "stopped": self.stopped(completion_ids[i]) if completion_ids else None},
                                        ensure_ascii=False) + "\n")
        return rewards


def eos_ids(tokenizer, model_path: str) -> list[int]:
    ids = {tokenizer.eos_token_id}
    try:
        from transformers import GenerationConfig  # noqa: PLC0415

        gen = GenerationConfig.from_pretrained(model_path).eos_token_id
        ids |= set(gen if isinstance(gen, list) else [gen])
    except OSError:
        pass
    return sorted(i for i in ids if i is not None)


def make_trainer(recipe: Recipe, rows: list[dict], model_path: str, tokenizer, config):
    from datasets import Dataset  # noqa: PLC0415
    from trl import GRPOTrainer  # noqa: PLC0415

    from .run import is_main_process  # noqa: PLC0415

    rollouts = Path(config.output_dir) / "rollouts.jsonl" if is_main_process() else None
    reward = LoggedReward(recipe.reward.scale, recipe.reward.non_stop_penalty, eos_ids(tokenizer, model_path),
                          rollouts=rollouts)
    return GRPOTrainer(model=model_path, reward_funcs=[reward], args=config, train_dataset=Dataset.from_list(rows),
                       processing_class=tokenizer)
