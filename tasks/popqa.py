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

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from tulu_eval.api.request import GenSettings, Request
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.files import DataFile
from tulu_eval.errors import UserError

# PopQA's relation templates (prop_id), in the order of its run_model.py
RELATIONS = (22, 218, 91, 257, 182, 164, 526, 97, 533, 639, 472, 106, 560, 484, 292, 422)
N_SHOTS = 15


def prompt(doc: dict) -> str:
    return f"Q: {doc['question']} A:"


def relation(doc: dict) -> int:
    return int(doc["metadata"]["prop_id"])


@dataclass
class PopQATask(GenerationTask):
    """Picks one exemplar per relation from the data and gives each question the others'.

    A subclass because the exemplars come from the scored file itself (and leave it), differ per
    question, and the run record names one question's; the task's fixed ``fewshot`` field cannot."""

    def load_docs(self, data_dir: Path | None) -> list[dict]:
        rows = self.data.read(data_dir)
        exemplars: dict[int, dict] = {}
        for i, row in enumerate(rows):
            try:
                rel = relation(row)
                row["metadata"]["obj"], row["question"], row["golden_answers"]  # noqa: B018 (presence check)
            except (KeyError, TypeError, ValueError):
                raise UserError(f"{self.data.relpath}: row {i + 1} lacks question, golden_answers or "
                                "metadata.prop_id/obj") from None
            exemplars.setdefault(rel, row)
        shots = {rel: (prompt(row), str(row["metadata"]["obj"])) for rel, row in exemplars.items()}
        used = {id(row) for row in exemplars.values()}
        docs = []
        for row in rows:
            if id(row) in used:
                continue
            others = [shots[r] for r in (*RELATIONS, *sorted(set(shots) - set(RELATIONS)))
                      if r in shots and r != relation(row)]
            docs.append({**row, "fewshot": others[:N_SHOTS]})
        # for the run record (results.json "fewshot"): the shots of one question; each question's
        # own are in its doc
        self.fewshot = docs[0]["fewshot"] if docs else ()
        return self.select(docs) if self.select else docs

    def build_request(self, doc: dict) -> Request:
        return GenerationTask.build_request(replace(self, fewshot=doc["fewshot"]), doc)


TASK = PopQATask(
    name="popqa",
    regime="tulu",
    suite="dev",
    skill="knowledge",
    description=__doc__,
    data=DataFile("popqa_subsample/test.jsonl",
                  how_to_get="copy data_subsample/popqa/test.jsonl of github.com/GaurisankarJ/reason_over_search "
                             "(a 1,000-row FlashRAG-format subsample of PopQA)"),
    prompt=prompt,
    gold=lambda doc: list(doc["golden_answers"]),
    doc_id=lambda doc, idx: str(doc.get("id", idx)),
    group=lambda doc: str(doc["metadata"].get("prop", relation(doc))),
    verifier="popqa",
    generation=GenSettings(max_tokens=15, temperature=0.0, stop=("\n\n",)),
    metric_keys=("exact_match", "exact_match_first_line"),
    primary_metric="exact_match",
)
