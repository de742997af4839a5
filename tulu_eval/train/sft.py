"""``tulu-eval train-sft``: supervised fine-tuning with TRL's ``SFTTrainer``, loss on assistant tokens only.

Rows arrive as conversational prompt-completion pairs (:mod:`.data`: one per assistant turn), so
TRL renders them with the model's own chat template and masks the prompt: ``completion_only_loss``
is forced on, and the completion includes the template's end-of-turn token (``<|im_end|>`` for
SmolLM2), so the model learns to stop. Everything else (lr, batch, length, schedule) is the
recipe's ``trl:`` section, an ``SFTConfig``.
"""

from __future__ import annotations

from .recipe import Recipe


def make_trainer(recipe: Recipe, rows: list[dict], model_path: str, tokenizer, config):
    from datasets import Dataset  # noqa: PLC0415
    from trl import SFTTrainer  # noqa: PLC0415

    config.completion_only_loss = True
    config.assistant_only_loss = False  # the prompt/completion split already keeps the loss on assistant turns
    return SFTTrainer(model=model_path, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
