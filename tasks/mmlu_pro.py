"""MMLU-Pro (Wang et al., 2024), Tülu 3 unseen regime: OLMES ``mmlu_pro:0shot_cot::tulu3``.

* data: ``mmlu_pro/test.jsonl``, the 12,032 test questions in 14 categories, 3-10 options each
  (rebuilt from TIGER-Lab's own eval dump; see shared/data/SOURCES.md). Instances interleave the
  categories (question 0 of each, then question 1, ...), so ``--limit N`` samples all 14.
* prompt (one user turn, chat format, 0-shot; OLMES ``GenericMMLUPro_CoT`` with
  ``answer_prefix: None``, options as " (A) ..." lines): 'Answer the following multiple-choice
  question by giving the correct answer letter in parentheses. Provide CONCISE reasoning for the
  answer, and make sure to finish the response with "Therefore, the answer is (ANSWER_LETTER)"
  where (ANSWER_LETTER) is one of (A), (B), (C), (D), (E), etc.\\n\\nQuestion: {question}\\n
  (A) {option}\\n (B) ...\\n' + '\\nAnswer the above question and REMEMBER to finish your response
  with the exact phrase "Therefore, the answer is (ANSWER_LETTER)" where (ANSWER_LETTER) is one
  of (A), (B), (C), (D), (E), etc.' (this regime's reminder opens with one newline, not two).
* generation: greedy, at most 2048 new tokens, no stop sequence.
* metrics (``Tulu3LetterVerifier``, letters A-J): ``exact_match_flex`` (primary; OLMES's
  ``exact_match`` here): the last "Therefore, the answer is (X)", else OLMES's MMLU-Pro fallbacks
  (the first "answer is (X)", then the first "Answer: X", then the last stand-alone capital
  letter A-J); ``exact_match`` (strict): only the requested phrase; ``answer_format_correct``.
  Macro average over the 14 categories (OLMES suite ``primary_metric: macro``).
* deviations: OLMES reads TIGER-Lab/MMLU-Pro from the HF hub; the rows here are the same
  questions with 18 later upstream text fixes (SOURCES.md). OLMES's ``ExactMatch`` here keeps
  punctuation; after its parentheses are removed a letter has none, so nothing changes.
"""

from __future__ import annotations

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.data.sources import Checked, GroupedBy
from tulu_eval.prompts import tulu3_mc

LETTERS = "ABCDEFGHIJ"
DATA = DataFile("mmlu_pro/test.jsonl", how_to_get="the TIGER-Lab/MMLU-Pro test split as JSON lines "
                                                  "(question_id, question, options, answer, category)")


def well_formed(row: dict) -> bool:
    options = row.get("options")
    return (isinstance(options, list) and 0 < len(options) <= len(LETTERS)
            and row.get("answer") in LETTERS[:len(options)] and "category" in row)


def prompt(doc: dict) -> str:
    options = "".join(f" ({letter}) {option}\n" for letter, option in zip(LETTERS, doc["options"]))
    return tulu3_mc.prompt(f"Question: {doc['question']}\n{options}", tulu3_mc.ABCDE_ETC, gap="\n")


TASK = GenerationTask(
    name="mmlu_pro",
    regime="tulu3",
    suite="unseen",
    skill="knowledge",
    description=__doc__,
    data=GroupedBy(Checked(DATA, well_formed, "expected up to 10 options, an answer letter among them and a category"),
                   key="category"),
    prompt=prompt,
    gold=lambda doc: doc["answer"],
    verifier="mmlu_pro",  # Tulu3LetterVerifier, letters A-J (LETTERS), the MMLU-Pro fallback chain
    generation=GenSettings(max_tokens=2048, temperature=0.0, stop=()),
    doc_id=lambda doc, idx: str(doc["question_id"]),
    group=lambda doc: doc["category"],
    macro_over_groups=True,
    metric_keys=("exact_match_flex", "exact_match", "answer_format_correct"),
    primary_metric="exact_match_flex",
    aliases=("mmlu_pro:0shot_cot::tulu3", "mmlu-pro"),
)
