"""Data files: where they live, how they are read, how they are fingerprinted.

The harness never ships benchmark data. It reads a folder given by ``--data-dir`` or the
``TULU_EVAL_DATA`` environment variable whose layout is the one of ``shared/data/SOURCES.md``
(``gsm8k/test.jsonl``, ``ifeval/input_data.jsonl``, ...). When no folder is configured at all,
a task that names a Hugging Face hub dataset falls back to the hub (only if ``datasets`` is
installed); a configured folder that lacks the file is an error, never a silent download.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import UserError

ENV_VAR = "TULU_EVAL_DATA"


def resolve_data_dir(cli_value: str | os.PathLike | None) -> Path | None:
    """The data folder: ``--data-dir`` first, then ``$TULU_EVAL_DATA``; None if neither is set."""
    value = cli_value or os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        flag = "--data-dir" if cli_value else ENV_VAR
        raise UserError(f"data folder {path} (from {flag}) does not exist")
    return path.resolve()


@dataclass(frozen=True)
class HubSource:
    """Where users with Hugging Face hub access can get the same rows."""

    path: str
    name: str | None = None
    split: str = "test"
    # maps a hub row to the schema of the local file, when they differ
    convert: Callable[[dict], dict] | None = None


@dataclass(frozen=True)
class DataFile:
    """One file of a task, relative to the data folder."""

    relpath: str
    hub: HubSource | None = None
    how_to_get: str = "see shared/data/SOURCES.md for its origin"
    kwargs: dict = field(default_factory=dict)  # reader options (e.g. csv header names)

    def files(self) -> list["DataFile"]:
        """As a task's source (``tulu_eval/data/sources.py``): this one file."""
        return [self]

    def locate(self, data_dir: Path | None) -> Path | None:
        if data_dir is None:
            return None
        path = data_dir / self.relpath
        return path if path.exists() else None

    def missing_message(self, data_dir: Path | None) -> str:
        if data_dir is None:
            return (f"missing data file {self.relpath}: pass --data-dir or set {ENV_VAR} to a folder holding it "
                    f"({self.how_to_get})")
        hub = f", or unset {ENV_VAR} and drop --data-dir to load {self.hub.path} from the HF hub" if self.hub else ""
        return f"missing data file {self.relpath} in {data_dir}: {self.how_to_get}{hub}"

    def read(self, data_dir: Path | None) -> list[dict]:
        path = self.locate(data_dir)
        if path is not None:
            return read_rows(path, **self.kwargs)
        if data_dir is None and self.hub is not None:
            return _read_hub(self)
        raise UserError(self.missing_message(data_dir))


def _read_hub(source: DataFile) -> list[dict]:
    try:
        import datasets  # noqa: PLC0415
    except ImportError:
        raise UserError(source.missing_message(None) + "; the HF hub fallback needs the `datasets` package") from None
    hub = source.hub
    try:
        ds = datasets.load_dataset(hub.path, hub.name, split=hub.split)
    except Exception as exc:  # network, auth, missing dataset: all user-facing
        raise UserError(f"could not load {hub.path} from the HF hub ({type(exc).__name__}); "
                        + source.missing_message(None)) from None
    rows = [dict(r) for r in ds]
    return [hub.convert(r) for r in rows] if hub.convert else rows


def read_rows(path: Path, **kwargs: Any) -> list[dict]:
    """Read a jsonl, json (list of objects) or csv file; malformed rows name file and line."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
        return data
    if suffix == ".csv":
        return _read_csv(path, **kwargs)
    if suffix == ".txt":
        return [{"text": path.read_text(encoding="utf-8")}]
    raise UserError(f"{path}: unsupported data format {suffix!r} (expected .jsonl, .json or .csv)")


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{lineno}: malformed JSONL row ({exc.msg})") from None
            if not isinstance(row, dict):
                raise UserError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
    return rows


def _read_csv(path: Path, fieldnames: list[str] | None = None) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, fieldnames=fieldnames)
        rows = []
        for row in reader:
            if None in row:  # more cells than columns
                raise UserError(f"{path}:{reader.line_num}: malformed CSV row (too many fields)")
            rows.append(row)
    return rows


_HASH_CACHE: dict[tuple[str, float, int], str] = {}


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoized on (path, mtime, size)."""
    st = path.stat()
    key = (str(path), st.st_mtime, st.st_size)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]
