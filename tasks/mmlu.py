"""MMLU (Hendrycks et al., 2021), 57 subjects, in the two Tülu 3 regimes of OLMES.

``mmlu`` = OLMES ``mmlu:cot::summarize``, the MMLU of the Tülu 3 dev average (the report lists
it as 0-shot CoT, exact match). ``mmlu_mc`` = OLMES ``mmlu:mc::tulu`` (5-shot, log-likelihood of
the answer letter): the entry of OLMES's own ``tulu_3_dev`` suite; open-instruct's Tülu 3 dev
script runs both. It is reported beside ``mmlu`` but not averaged (``in_average=False``).

* data: the Hendrycks CSVs ``mmlu/test/<subject>_test.csv`` (14,042 questions; OLMES reads the
  same rows from HF ``cais/mmlu``), plus ``mmlu/dev/<subject>_dev.csv`` for ``mmlu_mc``'s
  exemplars. Instances are interleaved across subjects (question 0 of every subject, then
  question 1, ...), so ``--limit N`` samples all subjects evenly; the order changes no full score.
* ``mmlu`` prompt (one user turn, chat format, 0-shot): "The following are multiple choice
  questions about {subject}. Summarize your reasoning concisely, then conclude with 'Therefore,
  the answer is: X' where X is one of A, B, C, or D.\\n\\nQuestion: {q}\\n A. {a}\\n B. {b}\\n C. {c}\\n
  D. {d}\\n" (OLMES ``make_mcq_prompt`` with label format " A." and no answer prefix).
  Generation: greedy, at most 512 new tokens, stop at "Question:".
* ``mmlu`` metric: ``exact_match`` (primary): OLMES's extraction for this regime (no format regex,
  so its backup patterns decide: "therefore the answer is X", "answer is X", "X is correct",
  "(X)", else a stand-alone capital letter), see ``tulu_eval/verifiers/mc_answer.py``. Also
  ``exact_match_strict`` (only the requested "Therefore, the answer is: X", last occurrence) and
  OLMES's ``answer_format_correct``. Macro average over the 57 subjects, as OLMES's suite.
* ``mmlu_mc`` prompt: the first 5 dev questions of the subject, in file order, as multi-turn
  chat (``fewshot_as_multiturn``): user "Question: {q}\\n A. {a}\\n ...\\n D. {d}\\nAnswer:",
  assistant " {letter}"; the first user turn opens with "The following are multiple choice
  questions (with answers) about {subject}.\\n\\n". The continuations " A", " B", " C", " D" are
  scored after the chat template's generation prompt. Metric ``acc`` (OLMES ``acc_raw``, primary)
  and ``acc_norm``; macro over subjects. Without a chat template the same turns are one plain
  text joined by blank lines (OLMES's non-chat ``mmlu:mc::olmes`` form).
* deviations / unverified: OLMES's ``base_task.py`` (how chat few-shot turns are built) is not in
  the search index. We assume that with no ``assistant_prefix`` (neither ``mmlu:mc::tulu`` nor
  ``GenericMMLU_MC`` sets one) the user turn keeps its trailing "Answer:" and the assistant turn
  is ``doc_to_target`` verbatim (" A", leading space kept), and that the CoT user turn keeps its
  trailing newline. OLMES's CoT regime also reports ``num_tokens``; our runs report tokens per
  task. API chat backends cannot score log-likelihoods, so ``mmlu_mc`` needs hf or vllm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tulu_eval.api.multiple_choice import MultipleChoiceTask
from tulu_eval.api.request import GenSettings, Request
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.data.sources import Subsets, checked_rows

SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge", "college_biology",
    "college_chemistry", "college_computer_science", "college_mathematics", "college_medicine", "college_physics",
    "computer_security", "conceptual_physics", "econometrics", "electrical_engineering", "elementary_mathematics",
    "formal_logic", "global_facts", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_european_history", "high_school_geography", "high_school_government_and_politics",
    "high_school_macroeconomics", "high_school_mathematics", "high_school_microeconomics", "high_school_physics",
    "high_school_psychology", "high_school_statistics", "high_school_us_history", "high_school_world_history",
    "human_aging", "human_sexuality", "international_law", "jurisprudence", "logical_fallacies", "machine_learning",
    "management", "marketing", "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios", "nutrition",
    "philosophy", "prehistory", "professional_accounting", "professional_law", "professional_medicine",
    "professional_psychology", "public_relations", "security_studies", "sociology", "us_foreign_policy", "virology",
    "world_religions",
)
LETTERS = "ABCD"
FIELDS = ["question", "A", "B", "C", "D", "answer"]
HOW_TO_GET = "copy data/mmlu/ of github.com/stanford-cs336/assignment5-alignment (the Hendrycks data.tar layout)"
COT_DESCRIPTION = ("The following are multiple choice questions about {subject}. Summarize your reasoning concisely, "
                   "then conclude with 'Therefore, the answer is: X' where X is one of A, B, C, or D.\n\n")
MC_DESCRIPTION = "The following are multiple choice questions (with answers) about {subject}.\n\n"


def subject_file(subject: str, split: str) -> DataFile:
    return DataFile(f"mmlu/{split}/{subject}_{split}.csv", kwargs={"fieldnames": FIELDS}, how_to_get=HOW_TO_GET)


def read_subject(subject: str, split: str, data_dir: Path | None) -> list[dict]:
    rows = checked_rows(subject_file(subject, split), data_dir, expected="expected 4 choices and an answer in A-D",
                        check=lambda r: r["answer"] in LETTERS and all(r[k] is not None for k in FIELDS))
    for i, row in enumerate(rows):
        row.update(subject=subject, index=i)
    return rows


def with_shots(subject: str, data_dir: Path | None) -> list[dict]:
    """The subject's test questions, each with the first 5 dev questions as its exemplars."""
    shots = read_subject(subject, "dev", data_dir)[:5]
    return [{**row, "fewshot": shots} for row in read_subject(subject, "test", data_dir)]


def question_block(doc: dict) -> str:
    """OLMES ``make_mcq_prompt`` body: "Question: q" and the choices labelled " A." ... " D."."""
    choices = "\n".join(f" {letter}. {doc[letter]}" for letter in LETTERS)
    return f"Question: {doc['question']}\n{choices}\n"


def subject_words(doc: dict) -> str:
    return doc["subject"].replace("_", " ")


@dataclass
class MMLUMCTask(MultipleChoiceTask):
    """A subclass because of its chat layout, which no field states: the subject's description
    opens the first few-shot user turn (or the question, with no shots), and each question's
    exemplars are its own subject's (``doc["fewshot"]``)."""

    def build_request(self, doc: dict) -> Request:
        description = MC_DESCRIPTION.format(subject=subject_words(doc))
        shots = [(question_block(s) + "Answer:", f" {s['answer']}") for s in doc.get("fewshot", ())]
        messages: list[dict[str, str]] = []
        for i, (user, assistant) in enumerate(shots):
            messages += [{"role": "user", "content": (description if i == 0 else "") + user},
                         {"role": "assistant", "content": assistant}]
        query = question_block(doc) + "Answer:"
        messages.append({"role": "user", "content": ("" if shots else description) + query})
        text = description + "".join(f"{u}{a}\n\n" for u, a in shots) + query
        return Request(messages=messages, text=text, settings=self.generation,
                       continuations=tuple(f" {letter}" for letter in LETTERS))


TEST_FILES = [subject_file(s, "test") for s in SUBJECTS]
_common = dict(suite="dev", skill="knowledge", description=__doc__,
               doc_id=lambda doc, idx: f"{doc['subject']}/{doc['index']}", group=lambda doc: doc["subject"],
               macro_over_groups=True)

TASKS = [
    GenerationTask(
        name="mmlu",
        data=Subsets(SUBJECTS, TEST_FILES, lambda s, data_dir: read_subject(s, "test", data_dir)),
        regime="summarize",
        prompt=lambda doc: COT_DESCRIPTION.format(subject=subject_words(doc)) + question_block(doc),
        gold=lambda doc: doc["answer"],
        verifier="mmlu",  # MCAnswerVerifier, letters A-D
        generation=GenSettings(max_tokens=512, temperature=0.0, stop=("Question:",)),
        metric_keys=("exact_match", "exact_match_strict", "answer_format_correct"),
        primary_metric="exact_match",
        aliases=("mmlu:cot::summarize", "mmlu_cot"),
        **_common,
    ),
    MMLUMCTask(
        name="mmlu_mc",
        data=Subsets(SUBJECTS, TEST_FILES + [subject_file(s, "dev") for s in SUBJECTS], with_shots),
        regime="tulu",
        prompt=lambda doc: question_block(doc) + "Answer:",
        choices=lambda doc: [f" {letter}" for letter in LETTERS],
        gold=lambda doc: LETTERS.index(doc["answer"]),
        primary_metric="acc",
        in_average=False,
        aliases=("mmlu:mc::tulu",),
        **_common,
    ),
]
