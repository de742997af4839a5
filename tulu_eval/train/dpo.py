"""``tulu-eval train-dpo``: DPO with TRL's ``DPOTrainer`` and Tülu 3's length-normalized loss.

Tülu 3's ``dpo_norm`` (open-instruct ``dpo_loss`` with ``average_log_prob=True``) is the sigmoid
DPO loss on per-token *average* log-probabilities: ``-logsigmoid(beta * ((avg logp_c - avg ref_c) -
(avg logp_r - avg ref_r)))``. TRL 1.16 ships it as ``loss_type: sigmoid_norm`` (the summed
log-ratios divided by each completion's token count); a recipe may say ``dpo_norm``, which is
mapped to that name (:data:`.recipe.DPO_ALIASES`). TRL's ``rewards/*`` metrics are beta times the *summed* log-ratios, as in
open-instruct's logs. The reference model is the starting model, loaded by TRL.
"""

from __future__ import annotations

from .recipe import Recipe


def make_trainer(recipe: Recipe, rows: list[dict], model_path: str, tokenizer, config):
    from datasets import Dataset  # noqa: PLC0415
    from trl import DPOTrainer  # noqa: PLC0415

    return DPOTrainer(model=model_path, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
