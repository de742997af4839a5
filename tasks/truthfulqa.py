"""TruthfulQA multiple choice (Lin et al., 2022), Tülu 3 dev-suite regime, as OLMES ``truthfulqa::tulu``.

* data: ``truthfulqa/data/v0/mc_task.json``, the original 817-question release that HF
  ``truthful_qa``/``multiple_choice`` (what OLMES and lm-eval read) was built from. The top-level
  ``truthfulqa/data/mc_task.json`` is a later, different revision (other questions, other
  choices) and is not used.
* prompt: 6-shot, the fixed QA primer of the TruthfulQA paper (as lm-eval's ``truthfulqa_mc1``
  and OLMES's exemplars), ``short_prefix`` form: "Q: {question}\\nA: {answer}" blocks joined by
  blank lines, then "Q: {question}\\nA:". Chat format with the few-shot inside the one user
  turn (OLMES's default ``fewshot_as_multiturn=False``), no assistant prefix; each answer is
  scored as the continuation " {choice}" after the chat template's generation prompt.
* metric: ``mc2`` (primary): the normalized probability mass of the true answers among the MC2
  choices; ``mc1``: the highest-likelihood MC1 choice is the single true one. Both as OLMES's
  ``MC1MC2Accuracy`` and lm-eval's ``truthfulqa_mc1``/``truthfulqa_mc2``. Every distinct answer
  string (MC1's choices are a subset of MC2's) is scored once.
* deviations: MC2 is computed in a numerically stable form (log-sum-exp shifted), which equals
  lm-eval's and OLMES's ``exp``/sum wherever those do not underflow; when every choice
  underflows theirs is undefined (nan, resp. 0) and ours still a ratio. OLMES's
  ``truthfulqa.py`` is not in the search index; its regime here follows the config
  (``num_shots: 6``, ``short_prefix: True``, ``use_chat_format``) and public reproductions.
"""

from tulu_eval.api.multiple_choice import MultipleChoiceTask
from tulu_eval.data.files import DataFile, HubSource
from tulu_eval.data.truthfulqa import choice_table, from_hub, gold
from tulu_eval.prompts.truthfulqa import PRIMER_TEXT
from tulu_eval.scoring.truthfulqa import mc1_mc2


def prompt(doc: dict) -> str:
    return f"{PRIMER_TEXT}Q: {doc['question']}\nA:"


TASK = MultipleChoiceTask(
    name="truthfulqa",
    regime="tulu",
    suite="dev",
    skill="knowledge",
    description=__doc__,
    data=DataFile("truthfulqa/data/v0/mc_task.json",
                  hub=HubSource("truthfulqa/truthful_qa", "multiple_choice", "validation", convert=from_hub),
                  how_to_get="copy data/mc_task.json of github.com/sylinrl/TruthfulQA as first released (2021), "
                             "the file HF truthful_qa was built from; see shared/data/SOURCES.md"),
    prompt=prompt,
    choices=lambda doc: [f" {c}" for c in choice_table(doc)[0]],
    choice_metrics=mc1_mc2,
    answer_among=lambda gold: gold["mc1"],  # the reported answer: MC1's most likely
    gold=gold,
    primary_metric="mc2",
)
