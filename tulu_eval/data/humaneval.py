"""HumanEval and HumanEval+ rows as the gold the code verifier reads (``tulu_eval/verifiers/code.py``):
HumanEval's ``check(candidate)`` program, or HumanEval+'s inputs and canonical solution."""

from __future__ import annotations

PLUS_FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input", "atol")


def humaneval_gold(doc: dict) -> dict:
    return {k: doc[k] for k in ("task_id", "prompt", "entry_point", "test")}


def plus_gold(doc: dict) -> dict:
    return {k: doc[k] for k in PLUS_FIELDS}
