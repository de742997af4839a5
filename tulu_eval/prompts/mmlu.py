"""MMLU's prompts in OLMES's two Tülu 3 regimes (``tasks/mmlu.py`` documents them): the CoT
description, the ``make_mcq_prompt`` question block, and ``mmlu:mc::tulu``'s chat layout, where the
subject's description opens the first few-shot user turn (or the question, with no shots)."""

from __future__ import annotations

from ..api.request import Request
from ..data.mmlu import LETTERS

COT_DESCRIPTION = ("The following are multiple choice questions about {subject}. Summarize your reasoning concisely, "
                   "then conclude with 'Therefore, the answer is: X' where X is one of A, B, C, or D.\n\n")
MC_DESCRIPTION = "The following are multiple choice questions (with answers) about {subject}.\n\n"


def question_block(doc: dict) -> str:
    """OLMES ``make_mcq_prompt`` body: "Question: q" and the choices labelled " A." ... " D."."""
    choices = "\n".join(f" {letter}. {doc[letter]}" for letter in LETTERS)
    return f"Question: {doc['question']}\n{choices}\n"


def subject_words(doc: dict) -> str:
    return doc["subject"].replace("_", " ")


def cot_prompt(doc: dict) -> str:
    return COT_DESCRIPTION.format(subject=subject_words(doc)) + question_block(doc)


def mc_prompt(doc: dict) -> str:
    return question_block(doc) + "Answer:"


def mc_shots(doc: dict) -> list[tuple[str, str]]:
    """The subject's exemplars (``doc["fewshot"]``) as (question, " letter") pairs."""
    return [(mc_prompt(s), f" {s['answer']}") for s in doc.get("fewshot", ())]


def mc_request(task, doc: dict) -> Request:
    """``mmlu:mc::tulu``: the exemplars of ``doc["fewshot"]`` as multi-turn chat, the description
    opening the first user turn; the plain text joins each exemplar to its answer with no space."""
    description = MC_DESCRIPTION.format(subject=subject_words(doc))
    shots = mc_shots(doc)
    messages: list[dict[str, str]] = []
    for i, (user, assistant) in enumerate(shots):
        messages += [{"role": "user", "content": (description if i == 0 else "") + user},
                     {"role": "assistant", "content": assistant}]
    query = mc_prompt(doc)
    messages.append({"role": "user", "content": ("" if shots else description) + query})
    text = description + "".join(f"{u}{a}\n\n" for u, a in shots) + query
    return Request(messages=messages, text=text, settings=task.generation,
                   continuations=tuple(f" {letter}" for letter in LETTERS))
