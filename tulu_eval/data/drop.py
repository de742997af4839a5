"""DROP's data: its two layouts (the full split, or OLMES's subsample when only that is present),
picked per data folder and named in results.json (:class:`DropSplits`), and its rows in either form
(EleutherAI/drop with ``answer`` and ``validated_answers``, or OLMES's subsample with merged
``answers``): each row's gold answers as lists of spans. ``tasks/drop.py`` documents the layouts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .files import DataFile, HubSource
from .sources import Source

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
    if "answers" in row:  # already merged (the OLMES subsample): a list of answers, each a list of spans
        answers = row["answers"]
        if not isinstance(answers, list) or not all(isinstance(a, (list, tuple)) for a in answers):
            raise TypeError("answers")
        return [[str(s) for s in a] for a in answers]
    if "answers_spans" in row:
        return [list(row["answers_spans"]["spans"])]
    raise KeyError("answer")


def read_rows(source: DataFile, data_dir: Path | None) -> list[dict]:
    """The rows of a DROP file with ``answers`` (span lists); one error naming a row of another shape."""
    docs = []
    for i, row in enumerate(source.read(data_dir)):
        try:
            str(row["passage"]), str(row["question"])  # presence check
            docs.append({**row, "answers": answers_of(row)})
        except (KeyError, TypeError, IndexError, AttributeError):
            where = data_dir / source.relpath if data_dir else f"{source.hub.path} ({source.hub.split})"
            raise UserError(f"{where}: row {i + 1} is not a DROP row (needs passage, question and "
                            "answer/validated_answers as in EleutherAI/drop, answers as a list of span lists, "
                            "or answers_spans)") from None
    return docs


@dataclass(frozen=True)
class DropSplits(Source):
    """The scored split and the few-shot pool, in the first layout present; every document carries
    the same 3 exemplar rows in ``doc["fewshot"]``: the first three of OLMES's fixed list (subsample),
    or ``Random(1234).sample(train rows, 3)`` (full split)."""

    def files(self) -> list[DataFile]:
        return [VALIDATION, TRAIN]

    def files_in(self, data_dir: Path | None) -> list[DataFile]:
        """The full split when both its files are there (or no folder: the hub), else the subsample;
        with neither complete, the full split's files (what a missing-data message names first)."""
        if data_dir is None or all(f.locate(data_dir) for f in self.files()):
            return self.files()
        if all(f.locate(data_dir) for f in (SUBSAMPLE, SUBSAMPLE_FEWSHOT)):
            return [SUBSAMPLE, SUBSAMPLE_FEWSHOT]
        return self.files()

    def note(self, data_files: dict[str, str]) -> dict:
        if SUBSAMPLE.relpath in data_files:
            return {"layout": "olmes_subsample", "subsample": True, "scored_of_split": f"1000 of {FULL_SPLIT_SIZE}",
                    "note": "1,000-question subsample of DROP validation (OLMES Random(1234)); exemplars: first 3 "
                            "of fewshot_olmes5.jsonl"}
        return {"layout": "full_split", "subsample": False,
                "note": "EleutherAI/drop validation split; exemplars: Random(1234).sample(train, 3)"}

    def read(self, data_dir: Path | None) -> list[dict]:
        scored, shots_file = self.files_in(data_dir)
        pool = read_rows(shots_file, data_dir)
        if len(pool) < N_SHOTS:
            raise UserError(f"{shots_file.relpath}: {len(pool)} rows, need at least {N_SHOTS} few-shot exemplars")
        if shots_file is SUBSAMPLE_FEWSHOT:
            shots = pool[:N_SHOTS]  # a fixed, ordered list: its first three (see tasks/drop.py)
        else:
            shots = random.Random(FEWSHOT_SEED).sample(pool, N_SHOTS)
        return [{**doc, "fewshot": shots} for doc in read_rows(scored, data_dir)]
