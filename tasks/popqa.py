"""PopQA (Mallen et al., 2023), Tülu 3 dev-suite regime, as OLMES ``popqa::tulu``.

* data: ``popqa_subsample/test.jsonl``, a random **1,000-row subsample** of PopQA's 14,267
  test questions (the full ``popQA.tsv`` is not in our data; see SOURCES.md), so scores are
  approximate. Gold = ``golden_answers`` (PopQA's ``possible_answers``: the object(s) with
  their Wikidata aliases).
* prompt: "Q: {question} A:", 15-shot, few-shot as multi-turn chat (OLMES ``popqa::tulu`` sets
  ``fewshot_as_multiturn``): each exemplar is a user turn "Q: ... A:" and an assistant turn
  with its object (``metadata.obj``). Without a chat template: the exemplars "Q: ... A: obj"
  and the question, blank lines between, as the PopQA paper's prompt.
* exemplars: PopQA's rule (``run_model.py``): one question of each of the 15 *other* relation
  templates (PopQA has 16: occupation, place of birth, genre, ...). OLMES draws them from the
  PopQA data itself; we do too, deterministically: the exemplar of a relation is its first
  row in file order. Those 16 rows are left out of the scored rows (984 remain). The paper
  draws the exemplars at random per question and shuffles them; ours are fixed and in the
  paper's template order, so a prompt depends on the question's relation only.
* generation: greedy, at most 15 new tokens, stop at a blank line (OLMES's ``popqa`` defaults)
* metric: ``exact_match`` (primary): some accepted answer occurs in the generation verbatim,
  lower-cased or capitalized (PopQA's and OLMES's rule); see ``tulu_eval/verifiers/popqa.py``.
  ``exact_match_first_line`` (the paper cut generations at the first newline) beside it.
* deviations: the subsample (and so 984, not 14,267, questions); the exemplar draw above.
  OLMES's ``popqa.py`` is not in the reference index: the template, 15 shots, 15 tokens, stop
  and metric are from PopQA's own code and from AllenAI's port of OLMES's task (olmo-eval),
  the multi-turn format from OLMES's ``popqa::tulu`` config.
"""

from tulu_eval.api.request import GenSettings
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.popqa import DATA, relation, with_exemplars


def prompt(doc: dict) -> str:
    return f"Q: {doc['question']} A:"


TASK = GenerationTask(
    name="popqa",
    regime="tulu",
    suite="dev",
    skill="knowledge",
    description=__doc__,
    data=DATA,
    select=with_exemplars,  # each question with the first rows of the 15 other relations, which leave
    prompt=prompt,
    fewshot_of=lambda doc: [(prompt(shot), str(shot["metadata"]["obj"])) for shot in doc["fewshot"]],
    gold=lambda doc: list(doc["golden_answers"]),
    doc_id=lambda doc, idx: str(doc.get("id", idx)),
    group=lambda doc: str(doc["metadata"].get("prop", relation(doc))),
    verifier="popqa",
    generation=GenSettings(max_tokens=15, temperature=0.0, stop=("\n\n",)),
    metric_keys=("exact_match", "exact_match_first_line"),
    primary_metric="exact_match",
)
