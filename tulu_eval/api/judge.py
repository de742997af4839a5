"""The model-judge interface: a second model that reads the evaluated model's outputs.

A task with a ``judge`` (see ``tulu_eval/judges/``) builds judge requests from its prediction
rows; ``tulu_eval/engine/judge.py`` sends them to the judge model and ``attach`` stores the
parsed verdict in the row (``row["judge"]``) before the task scores it.
"""

from __future__ import annotations

from .request import Request


class Judge:
    required: bool = False

    def requests(self, row: dict) -> list[Request]:
        """Judge prompts for one prediction row (several when the row holds several samples)."""
        raise NotImplementedError

    def attach(self, row: dict, outputs: list[str]) -> dict:
        """Parse the judge's outputs (one per request) into a JSON-able verdict for ``row["judge"]``."""
        raise NotImplementedError
