"""DROP rows in either layout (EleutherAI/drop with ``answer`` and ``validated_answers``, or
OLMES's subsample with merged ``answers``): each row's gold answers as lists of spans."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .files import DataFile


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
