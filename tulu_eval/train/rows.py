"""Training rows as read from files, and the signal for a row with nothing to train on
(shared by the SFT/DPO converters in ``data.py`` and the RLVR builders in ``rlvr_data.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from ..data.files import read_rows
from ..errors import UserError


class SkipRow(Exception):
    """A well-formed row with nothing to train on (e.g. an empty response)."""


def read_file(path: Path) -> list[dict]:
    """Rows of a JSON lines file or of a JSON list (Code Alpaca ships one)."""
    if path.suffix == ".json":
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UserError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise UserError(f"{path}: expected a JSON list of objects")
        return rows
    return read_rows(path)
