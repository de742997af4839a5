"""AGIEval English (Zhong et al., 2023), Tülu 3 unseen regime: OLMES ``agi_eval_english:0shot_cot::tulu3``.

* data: the AGIEval v1 files ``agieval/<subset>.jsonl`` for the 8 English multiple-choice subsets
  of OLMES's suite: lsat-ar, lsat-lr, lsat-rc, logiqa-en, sat-math, sat-en, aqua-rat,
  gaokao-english (2,646 questions). Left out, as OLMES leaves them out: ``sat-en-without-passage``
  (the sat-en questions again, without their passages) and the cloze ``math`` file (not a
  multiple-choice subset; OLMES's English suite does not include it). Instances interleave the
  subsets (question 0 of each, then question 1, ...), so ``--limit N`` samples all 8.
* prompt (one user turn, chat format, 0-shot): OLMES's description, then AGIEval's own zero-shot
  question text (``convert_zero_shot``: "{passage}Q: {question} Answer Choices: (A)... (B)...")
  without its "A: Among A through E, the answer is" prefix (OLMES ``prompt_style:
  no_answer_prefix``), then the reminder: 'Answer the following multiple-choice question by
  giving the correct answer letter in parentheses. Provide CONCISE reasoning for the answer, and
  make sure to finish the response with "Therefore, the answer is (ANSWER_LETTER)" where
  (ANSWER_LETTER) is one of (A), (B), (C), (D), (E), etc.\\n\\n' + question + '\\n\\nAnswer the
  above question and REMEMBER to finish your response with the exact phrase "Therefore, the
  answer is (ANSWER_LETTER)" where (ANSWER_LETTER) is one of (A), (B), (C), (D), (E), etc.'
* generation: greedy, at most 2048 new tokens, no stop sequence (the chat template ends the turn).
* metrics (``tulu_eval/verifiers/mc_answer.py`` ``Tulu3LetterVerifier``): ``exact_match_flex``
  (primary; OLMES's ``exact_match`` here): the last "Therefore, the answer is (X)" (X in A-F, the
  regime's ``answer_format_regex``), else the first hit of OLMES's MMLU-CoT fallbacks ("the
  answer is X", "X is correct", "(X)", a stand-alone capital letter); ``exact_match`` (strict):
  only the requested phrase; ``answer_format_correct``. Macro average over the 8 subsets
  (OLMES suite ``primary_metric: macro``).
* deviations / unverified: OLMES's ``agi_eval.py`` is not in the search index, so two things are
  reconstructed rather than read: the question text (AGIEval's ``convert_zero_shot``, which
  OLMES loads through AGIEval's own dataset loader, with the answer prefix and the newline before
  it removed) and the fallback chain after the phrase (OLMES's MMLU CoT chain with letters A-F).
  The strict metric does not depend on either.
"""

from __future__ import annotations

from pathlib import Path

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.data.sources import Subsets, checked_rows
from tulu_eval.prompts import tulu3_mc

SUBSETS = ("lsat-ar", "lsat-lr", "lsat-rc", "logiqa-en", "sat-math", "sat-en", "aqua-rat", "gaokao-english")
HOW_TO_GET = "copy data/v1/<subset>.jsonl of github.com/ruixiangcui/AGIEval"
FILES = {s: DataFile(f"agieval/{s}.jsonl", how_to_get=HOW_TO_GET) for s in SUBSETS}


def read_subset(subset: str, data_dir: Path | None) -> list[dict]:
    rows = checked_rows(FILES[subset], data_dir, expected="expected options and a label in A-E",
                        check=lambda r: isinstance(r.get("options"), list) and r.get("label") in ("A", "B", "C", "D", "E"))
    return [{**row, "subset": subset, "index": i} for i, row in enumerate(rows)]


def question_text(doc: dict) -> str:
    """AGIEval ``convert_zero_shot`` for English multiple choice, without the answer prefix."""
    return f"{doc['passage'] or ''}Q: {doc['question']} Answer Choices: {' '.join(doc['options'])}"


TASK = GenerationTask(
    name="agieval",
    regime="tulu3",
    suite="unseen",
    skill="reasoning",
    description=__doc__,
    data=Subsets(SUBSETS, list(FILES.values()), read_subset),
    prompt=lambda doc: tulu3_mc.prompt(question_text(doc), tulu3_mc.ABCDE_ETC),
    gold=lambda doc: doc["label"],
    verifier="agieval",  # Tulu3LetterVerifier, letters A-F, the MMLU fallback chain
    generation=GenSettings(max_tokens=2048, temperature=0.0, stop=()),
    doc_id=lambda doc, idx: f"{doc['subset']}/{doc['index']}",
    group=lambda doc: doc["subset"],
    macro_over_groups=True,
    metric_keys=("exact_match_flex", "exact_match", "answer_format_correct"),
    primary_metric="exact_match_flex",
    aliases=("agi_eval_english", "agi_eval_english:0shot_cot::tulu3", "agieval_english"),
)
