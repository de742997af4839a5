"""PopQA's rows with their exemplars: one row of each relation template leaves the scored rows and
serves as an exemplar for the questions of the other relations (``tasks/popqa.py`` says why)."""

from __future__ import annotations

from ..errors import UserError
from .files import DataFile

# PopQA's relation templates (prop_id), in the order of its run_model.py
RELATIONS = (22, 218, 91, 257, 182, 164, 526, 97, 533, 639, 472, 106, 560, 484, 292, 422)
N_SHOTS = 15
DATA = DataFile("popqa_subsample/test.jsonl",
                how_to_get="copy data_subsample/popqa/test.jsonl of github.com/GaurisankarJ/reason_over_search "
                           "(a 1,000-row FlashRAG-format subsample of PopQA)")


def relation(doc: dict) -> int:
    return int(doc["metadata"]["prop_id"])


def with_exemplars(rows: list[dict]) -> list[dict]:
    """The rows less the first of each relation, each with ``fewshot``: the first rows of the other
    relations, in PopQA's template order (relations it does not name after them, sorted), at most 15."""
    exemplars: dict[int, dict] = {}
    for i, row in enumerate(rows):
        try:
            rel = relation(row)
            row["metadata"]["obj"], row["question"], row["golden_answers"]  # noqa: B018 (presence check)
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{DATA.relpath}: row {i + 1} lacks question, golden_answers or "
                            "metadata.prop_id/obj") from None
        exemplars.setdefault(rel, row)
    order = [r for r in (*RELATIONS, *sorted(set(exemplars) - set(RELATIONS))) if r in exemplars]
    used = {id(row) for row in exemplars.values()}
    return [{**row, "fewshot": [exemplars[r] for r in order if r != relation(row)][:N_SHOTS]}
            for row in rows if id(row) not in used]
