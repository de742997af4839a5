"""GPQA's CSV as documents: each row with its answers cleaned and shuffled as OLMES does, and its
gold letter (``tasks/gpqa.py`` documents the rule)."""

from __future__ import annotations

import random
import re
from pathlib import Path

from ..errors import UserError
from .files import DataFile

LETTERS = "ABCD"
SHUFFLE_SEED = 111
COLUMNS = ("Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")
DATA = DataFile("gpqa/gpqa_main.csv",
                how_to_get="GPQA is not redistributed: download dataset.zip from github.com/idavidrein/gpqa "
                           "(password in its README) and put its gpqa_main.csv into <data dir>/gpqa/")


def clean(text: str | None) -> str:
    """OLMES ``GPQA._preprocess`` of an answer."""
    if text is None:
        return " "
    text = text.strip().replace(" [title]", ". ")
    text = re.sub(r"\[.*?\]", "", text)
    return text.replace("  ", " ")


def with_choices(rows: list[dict], data_dir: Path | None) -> list[dict]:
    """Each row plus its shuffled ``choices`` and gold ``answer`` letter."""
    if rows and (absent := [c for c in COLUMNS if c not in rows[0]]):
        raise UserError(f"{data_dir / DATA.relpath}: not the official GPQA CSV (no column {', '.join(absent)})")
    docs = []
    for index, row in enumerate(rows):
        choices = [clean(row[f"Incorrect Answer {k}"]) for k in (1, 2, 3)] + [clean(row["Correct Answer"])]
        random.Random(SHUFFLE_SEED + index).shuffle(choices)
        answer = LETTERS[choices.index(clean(row["Correct Answer"]))]
        docs.append({**row, "index": index, "choices": choices, "answer": answer})
    return docs
