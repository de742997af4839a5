"""DROP (Dua et al., 2019), Tülu 3 dev-suite regime, as OLMES ``drop::llama3``.

* data: supplied by the user; **not in our data folder** (shared/data/SOURCES.md, "Not found /
  skipped": no GitHub copy was found). Put the HF dataset ``EleutherAI/drop`` (what OLMES and
  lm-eval read) as JSON lines under ``<data dir>/drop/``: ``validation.jsonl`` (about 9,500
  questions, all scored) and ``train.jsonl`` (the few-shot pool). Without them a ``--suite dev``
  run skips DROP and says why (the dev average is then partial, "missing: drop");
  ``--tasks drop`` stops with the same one-line message. With no data folder configured at all,
  both splits load from the HF hub (``EleutherAI/drop``) when ``datasets`` is installed.
* row format: EleutherAI/drop's ``{section_id, query_id, passage, question, answer: {number,
  date: {day, month, year}, spans}, validated_answers: {number: [..], date: [..], spans: [..]}}``.
  The gold answers are lm-eval's/OLMES's ``get_answers``: the main answer then each validated
  answer, each read as its number, else its spans, else "day month year"; duplicates dropped,
  order kept. Rows in ucinlp/drop's form (``answers_spans: {spans, types}``, no validated
  answers) are accepted too: their one gold answer is the list of spans.
* prompt: "Passage: {passage}\\nQuestion: {question}\\nAnswer:", after 3 exemplars in the same form,
  each followed by " " and its first gold answer (spans joined by ", "), blank lines between, no
  description. Chat format (when the model has a chat template): the whole text as one user
  turn (OLMES's default ``fewshot_as_multiturn=False``; ``drop::llama3`` sets no chat options);
  without a template, the same text as a plain prompt.
* exemplars: 3, fixed for every question: ``random.Random(1234).sample(train rows, 3)`` over the
  rows of ``train.jsonl`` in file order (OLMES samples from the train split with its default
  ``fewshot_seed`` 1234, re-seeded per question, so every question gets the same three).
* generation: greedy, at most 50 new tokens, stop at "Passage:", "Question:" or a blank line.
* metric: ``f1`` (primary) and ``em``, DROP's bag-of-words F1 and exact match, maximized over
  the gold answers; the whole (stripped) response is the prediction. See
  ``tulu_eval/verifiers/drop.py``; it agrees instance by instance with lm-eval's
  ``drop/utils.py:process_results``.
* deviations / what is not verified: OLMES's ``drop.py`` is not in the reference index. Its
  config (``task_name: drop``, ``split: validation``, ``num_shots: 3``, ``primary_metric: f1``)
  is from OLMES's task configs; the prompt form, the answer target, the 50-token budget and the
  stop sequences are from public ports of OLMES's DROP task (``drop::olmes`` overrides the budget
  to 100, the ports' default is 50), and the exemplar draw from our reading of OLMES's
  ``fewshot_seed`` sampler, so the three exemplars equal OLMES's only if ``train.jsonl`` holds
  HF's train split in HF's row order. lm-eval's own ``drop`` task differs: prompt
  "{passage} {question}" with no "Answer:", 0-shot by default, stop at ".", its default 256-token cap.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from tulu_eval.data import DataFile, HubSource
from tulu_eval.errors import UserError
from tulu_eval.task import GenerationTask, GenSettings, Request

N_SHOTS = 3
FEWSHOT_SEED = 1234
HOW_TO_GET = ("DROP is not in shared/data (SOURCES.md): save the validation and train splits of the HF dataset "
              "EleutherAI/drop as JSON lines in <data dir>/drop/ (datasets.load_dataset('EleutherAI/drop', "
              "split=S).to_json('<data dir>/drop/S.jsonl') for S = validation, train)")
VALIDATION = DataFile("drop/validation.jsonl", hub=HubSource("EleutherAI/drop", None, "validation"),
                      how_to_get=HOW_TO_GET)
TRAIN = DataFile("drop/train.jsonl", hub=HubSource("EleutherAI/drop", None, "train"), how_to_get=HOW_TO_GET)


def _one_answer(answer: dict) -> tuple[str, ...]:
    """An EleutherAI/drop answer dict as a tuple of spans: its number, else its spans, else its date."""
    if answer.get("number") not in (None, ""):
        return (str(answer["number"]),)
    if answer.get("spans"):
        return tuple(answer["spans"])
    date = answer.get("date") or {}
    return (" ".join([date.get("day") or "", date.get("month") or "", date.get("year") or ""]).strip(),)


def answers_of(row: dict) -> list[list[str]]:
    """The gold answers of a row (EleutherAI/drop or ucinlp/drop form), each a list of spans."""
    if "answer" in row:
        validated = row.get("validated_answers") or {}
        numbers = validated.get("number") or []
        candidates = [row["answer"]] + [
            {"number": numbers[i], "date": validated["date"][i], "spans": validated["spans"][i]}
            for i in range(len(numbers))
        ]
        seen: set[tuple[str, ...]] = set()
        answers = []
        for candidate in candidates:
            spans = _one_answer(candidate)
            if spans not in seen:
                seen.add(spans)
                answers.append(list(spans))
        return answers
    if "answers_spans" in row:
        return [list(row["answers_spans"]["spans"])]
    raise KeyError("answer")


def prompt(doc: dict) -> str:
    return f"Passage: {doc['passage']}\nQuestion: {doc['question']}\nAnswer:"


def target(doc: dict) -> str:
    """An exemplar's answer: its first gold answer, spans joined by ", " (" " comes from the join)."""
    return ", ".join(doc["answers"][0]) if doc["answers"] else ""


@dataclass
class DROPTask(GenerationTask):
    """Reads the scored split and the few-shot pool; the exemplars and the question share one turn."""

    def data_files(self) -> list[DataFile]:
        return [self.data, TRAIN]

    def _docs(self, source: DataFile, data_dir: Path | None) -> list[dict]:
        docs = []
        for i, row in enumerate(source.read(data_dir)):
            try:
                str(row["passage"]), str(row["question"])  # presence check
                docs.append({**row, "answers": answers_of(row)})
            except (KeyError, TypeError, IndexError, AttributeError):
                where = data_dir / source.relpath if data_dir else f"{source.hub.path} ({source.hub.split})"
                raise UserError(f"{where}: row {i + 1} is not a DROP row (needs passage, question and "
                                "answer/validated_answers as in EleutherAI/drop, or answers_spans)") from None
        return docs

    def load_docs(self, data_dir: Path | None) -> list[dict]:
        pool = self._docs(TRAIN, data_dir)
        if len(pool) < N_SHOTS:
            raise UserError(f"{TRAIN.relpath}: {len(pool)} rows, need at least {N_SHOTS} few-shot exemplars")
        shots = random.Random(FEWSHOT_SEED).sample(pool, N_SHOTS)
        self.fewshot = [(prompt(s), target(s)) for s in shots]
        docs = self._docs(self.data, data_dir)
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
