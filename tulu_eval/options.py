"""Command-line pieces shared by ``tulu-eval`` and its sub-commands (train-*, pipeline):
the data-folder help text and the ``--model-args k=v,k=v`` parser."""

from __future__ import annotations

from .errors import UserError

DATA_HELP = "Benchmark data folder (layout of shared/data/SOURCES.md). Default: $TULU_EVAL_DATA."


def parse_model_args(text: str | None) -> dict:
    """``k=v,k=v`` with ints, floats and booleans converted."""
    out = {}
    for part in filter(None, (text or "").split(",")):
        if "=" not in part:
            raise UserError(f"--model-args: expected key=value, got {part!r}")
        key, value = (s.strip() for s in part.split("=", 1))
        low = value.lower()
        if low in ("true", "false"):
            out[key] = low == "true"
            continue
        for cast in (int, float):
            try:
                out[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            out[key] = value
    return out
