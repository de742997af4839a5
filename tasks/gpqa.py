"""GPQA (Rein et al., 2023), main set, Tülu 3 unseen regime: OLMES ``gpqa:0shot_cot::tulu3``.

* data: supplied by the user. The official release is a password-protected zip whose authors ask
  that it not be reposted, so no copy ships anywhere here: download ``dataset.zip`` from
  github.com/idavidrein/gpqa (password in its README), unzip it and put ``gpqa_main.csv`` (448
  questions; OLMES's ``dataset_name: gpqa_main``, split ``train``) in ``<data dir>/gpqa/``.
  Without that file a ``--suite unseen`` run skips the task and says why; ``--tasks gpqa`` stops
  with the same one-line message. Columns used: Question, Correct Answer, Incorrect Answer 1-3
  (and Record ID for instance ids).
* choices: OLMES's order. Each answer is cleaned (stripped, " [title]" -> ". ", "[...]" removed,
  double spaces halved); the list [incorrect 1, incorrect 2, incorrect 3, correct] is shuffled by
  ``random.Random(111 + row_index)`` (``answer_shuffling_seed`` 111 plus the 0-based row
  number), so every run, and OLMES, puts the correct answer at the same letter.
* prompt (one user turn, chat format, 0-shot): 'Answer the following multiple-choice question by
  giving the correct answer letter in parentheses. Provide CONCISE reasoning for the answer, and
  make sure to finish the response with "Therefore, the answer is (ANSWER_LETTER)" where
  (ANSWER_LETTER) is one of (A), (B), (C), (D).\\n\\nQuestion: {question}\\nChoices:\\n (A) ...\\n
  (B) ...\\n (C) ...\\n (D) ...\\n' + '\\n\\nAnswer the above question and REMEMBER to finish your
  response with the exact phrase "Therefore, the answer is (ANSWER_LETTER)" where
  (ANSWER_LETTER) is one of (A), (B), (C), (D).'
* generation: greedy, at most 2048 new tokens, no stop sequence.
* metrics (``Tulu3LetterVerifier``, letters A-D): ``exact_match_flex`` (primary; OLMES's
  ``exact_match`` here): the last "Therefore, the answer is (X)", else OLMES's GPQA fallbacks (the
  last "(X)", then "The correct answer is: X", then the last stand-alone capital letter);
  ``exact_match`` (strict): only the requested phrase; ``answer_format_correct``. One micro
  average (OLMES's GPQA is one task).
* deviations: OLMES reads the same rows from the HF hub (``Idavidrein/gpqa``), where an empty
  cell is None and cleans to " "; from the CSV it is "" and stays "".
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.gpqa import DATA, LETTERS, with_choices
from tulu_eval.data.sources import Prepared
from tulu_eval.prompts import tulu3_mc


def prompt(doc: dict) -> str:
    options = "".join(f" ({letter}) {choice}\n" for letter, choice in zip(LETTERS, doc["choices"]))
    return tulu3_mc.prompt(f"Question: {doc['Question']}\nChoices:\n{options}", tulu3_mc.ABCD)


TASK = GenerationTask(
    name="gpqa",
    regime="tulu3",
    suite="unseen",
    skill="knowledge",
    description=__doc__,
    data=Prepared(DATA, with_choices),
    prompt=prompt,
    gold=lambda doc: doc["answer"],
    verifier="gpqa",  # Tulu3LetterVerifier, letters A-D (LETTERS), the GPQA fallback chain
    generation=GenSettings(max_tokens=2048, temperature=0.0, stop=()),
    doc_id=lambda doc, idx: doc.get("Record ID") or str(doc["index"]),
    metric_keys=("exact_match_flex", "exact_match", "answer_format_correct"),
    primary_metric="exact_match_flex",
    aliases=("gpqa:0shot_cot::tulu3", "gpqa_main"),
)
