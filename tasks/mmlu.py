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

from tulu_eval.api.multiple_choice import MultipleChoiceTask
from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.mmlu import LETTERS, SUBJECTS, read_test, subject_file, with_shots
from tulu_eval.data.sources import Subsets
from tulu_eval.prompts.mmlu import cot_prompt, mc_prompt, mc_request, mc_shots

TEST_FILES = [subject_file(s, "test") for s in SUBJECTS]
_common = dict(suite="dev", skill="knowledge", description=__doc__,
               doc_id=lambda doc, idx: f"{doc['subject']}/{doc['index']}", group=lambda doc: doc["subject"],
               macro_over_groups=True)

TASKS = [
    GenerationTask(
        name="mmlu",
        data=Subsets(SUBJECTS, TEST_FILES, read_test),
        regime="summarize",
        prompt=cot_prompt,
        gold=lambda doc: doc["answer"],
        verifier="mmlu",  # MCAnswerVerifier, letters A-D
        generation=GenSettings(max_tokens=512, temperature=0.0, stop=("Question:",)),
        metric_keys=("exact_match", "exact_match_strict", "answer_format_correct"),
        primary_metric="exact_match",
        aliases=("mmlu:cot::summarize", "mmlu_cot"),
        **_common,
    ),
    MultipleChoiceTask(
        name="mmlu_mc",
        data=Subsets(SUBJECTS, TEST_FILES + [subject_file(s, "dev") for s in SUBJECTS], with_shots),
        regime="tulu",
        prompt=mc_prompt,
        request_fn=mc_request,  # the description opens the first exemplar turn; each subject its own 5 shots
        fewshot_of=mc_shots,  # what results.json records as "fewshot" (5), not the 0 of a task-level list
        choices=lambda doc: [f" {letter}" for letter in LETTERS],
        gold=lambda doc: LETTERS.index(doc["answer"]),
        primary_metric="acc",
        in_average=False,
        aliases=("mmlu:mc::tulu",),
        **_common,
    ),
]
