"""Which part of a training row is compared with the eval prompts, and turning rows into text.

``auto`` looks at the first row and takes, in this order, ``messages`` (role/content: user
turns), ``conversations`` (ShareGPT from/value: human turns), ``prompt``, ``instruction``
(+ ``input`` + ``instances[].input``: Alpaca and self-instruct seed tasks), ``question``,
``problem``, ``query``, ``input``, ``text``, ``content``, then ``chosen`` (an HH-RLHF dialogue
string: its ``Human:`` turns, which make up the prompt that chosen and rejected share; or a list
of messages: user turns). ``--field a.b`` names a field (dots go into objects and map over
lists); a list of messages there gives its user turns. ``all_turns`` keeps every turn.

Chunks of JSON lines and parquet batches are turned into text with pyarrow when the column types
are the common ones (strings, lists of role/content structs) and row by row in Python otherwise.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from .ngrams import normalize

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pa_json
except ImportError:  # pragma: no cover - pyarrow is a dependency; kept optional for jsonl/json/csv
    pa = None

AUTO_ORDER = ("messages", "conversations", "prompt", "instruction", "question", "problem", "query", "input",
              "text", "content", "chosen")
_USER_ROLES = ("user", "human")
_HH_TURN = re.compile(r"(?:^|\n\n)(Human|Assistant):[ \t]?")


@dataclass
class Chunk:
    """A piece of a training file: ``jsonl`` (bytes of whole lines), ``arrow`` (a record batch) or
    ``texts`` ((segments, segment rows) already extracted); rows are numbered from ``first_row``."""

    kind: str
    payload: Any
    first_row: int
    nrows: int
    nbytes: int


@dataclass(frozen=True)
class FieldSpec:
    """Which part of a row is compared with the eval prompts."""

    kind: str               # "field" (a value at `path`), "alpaca", "dialogue" (HH-style string)
    path: tuple[str, ...]
    all_turns: bool = False
    auto: bool = True
    shape: str = "text"     # what the first row held: text, messages, sharegpt, list

    def describe(self) -> str:
        name = ".".join(self.path)
        turns = "all turns" if self.all_turns else ("human turns" if self.shape in ("sharegpt", "dialogue")
                                                   else "user turns")
        if self.kind == "alpaca":
            text = "instruction + input (+ instances[].input)"
        elif self.kind == "dialogue":
            text = f"{name} ({'whole dialogue' if self.all_turns else 'Human: turns'})"
        elif self.shape in ("messages", "sharegpt"):
            text = f"{name} ({turns})"
        else:
            text = name
        return f"{text}, {'auto-detected' if self.auto else 'given'}"


def _turns(value: list, all_turns: bool) -> list[str] | None:
    """User turns of a messages list (role/content or from/value); None if it is not one."""
    if not value or not all(isinstance(m, dict) for m in value):
        return None
    if all("content" in m for m in value):
        role, text = "role", "content"
    elif all("value" in m for m in value):
        role, text = "from", "value"
    else:
        return None
    return [_plain(m.get(text)) for m in value if all_turns or str(m.get(role, "")).lower() in _USER_ROLES]


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # multimodal content parts
        return "\n".join(_plain(v.get("text") if isinstance(v, dict) else v) for v in value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)


def _values(obj: Any, path: tuple[str, ...]) -> list:
    """Values at a dotted path; lists along the way are mapped over."""
    if not path:
        return [obj]
    if isinstance(obj, list):
        return [v for item in obj for v in _values(item, path)]
    if isinstance(obj, dict) and path[0] in obj:
        return _values(obj[path[0]], path[1:])
    return []


def human_turns(dialogue: str) -> list[str]:
    """The ``Human:`` turns of an HH-RLHF style ``\\n\\nHuman: ... \\n\\nAssistant: ...`` string."""
    parts = _HH_TURN.split(dialogue)
    return [parts[i + 1].strip() for i in range(1, len(parts) - 1, 2) if parts[i] == "Human"]


def row_segments(row: dict, spec: FieldSpec) -> list[str]:
    """The text segments of one row (joined with a separator, they form the training document)."""
    if not isinstance(row, dict):
        return []
    if spec.kind == "alpaca":
        parts = [row.get("instruction"), row.get("input"), *_values(row.get("instances"), ("input",))]
        return [_plain(p) for p in parts if p]
    out: list[str] = []
    for value in _values(row, spec.path):
        if spec.kind == "dialogue" and isinstance(value, str):
            out.extend([value] if spec.all_turns else human_turns(value))
        elif isinstance(value, list):
            turns = _turns(value, spec.all_turns)
            out.extend(turns if turns is not None else [_plain(v) for v in value])
        else:
            out.append(_plain(value))
    return out


def _shape(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "sharegpt" if "value" in value[0] and "content" not in value[0] else "messages"
    return "list" if isinstance(value, list) else "text"


def detect_field(row: Any, path: Path, field: str | None, all_turns: bool) -> FieldSpec:
    """Choose the field from the first row (``field`` None or "auto": auto-detect)."""
    if not isinstance(row, dict):
        raise UserError(f"{path}: rows must be JSON objects, the first one is a {type(row).__name__}")
    if field and field != "auto":
        parts = tuple(field.split("."))
        if parts[0] not in row:
            raise UserError(f"{path}: unknown field {field!r} (the first row has: {', '.join(map(str, row))})")
        first = (_values(row, parts) or [None])[0]
        kind = "dialogue" if isinstance(first, str) and _HH_TURN.search(first) and "Human:" in first else "field"
        return FieldSpec(kind, parts, all_turns, auto=False, shape=_shape(first))
    for name in AUTO_ORDER:
        value = row.get(name)
        if value is None:
            continue
        if name == "instruction":
            return FieldSpec("alpaca", (name,), all_turns)
        if name == "chosen" and isinstance(value, str):
            return FieldSpec("dialogue", (name,), all_turns, shape="dialogue")
        if isinstance(value, (str, list)):
            return FieldSpec("field", (name,), all_turns, shape=_shape(value))
    raise UserError(f"{path}: cannot tell which field holds the prompt (the first row has: "
                    f"{', '.join(map(str, row))}); pass --field NAME")


# ---------------------------------------------------------------------------------------------
# text segments -> normalized bytes (what decontam_ngrams.score_chunk takes)

def texts_to_norm(segments: list[str], seg_row: list[int] | np.ndarray):
    """Join segments with a space; return (normalized bytes, segment start offsets, segment rows)."""
    enc = [s.encode("utf-8") if s.isascii() else s.lower().encode("utf-8") for s in segments]
    lengths = np.fromiter((len(e) + 1 for e in enc), dtype=np.int64, count=len(enc))
    starts = np.zeros(len(enc), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return normalize(b" ".join(enc)), starts, np.asarray(seg_row, dtype=np.int64)


def _arrow_buffer(arr) -> tuple[bytes, np.ndarray]:
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    return (data.to_pybytes()[offsets[0]:offsets[-1]] if data is not None else b""), offsets - offsets[0]


def _arrow_norm(arr, seg_row: np.ndarray):
    """Same as texts_to_norm for an arrow string array, without making Python strings."""
    arr = arr.cast(pa.large_string()).fill_null("")
    if len(arr) == 0:
        return normalize(b""), np.zeros(0, np.int64), seg_row
    raw, offsets = _arrow_buffer(arr)
    if not raw.isascii():
        arr = pc.utf8_lower(arr)
        raw, offsets = _arrow_buffer(arr)
    norm = np.insert(normalize(raw), offsets[1:-1], 32)  # a space between segments
    return norm, offsets[:-1] + np.arange(len(arr)), seg_row


_STR = pa.string() if pa is not None else None


def _arrow_schema(spec: FieldSpec):
    """Explicit JSON schema for the shapes read by arrow (other columns are skipped unparsed)."""
    if spec.kind == "alpaca":
        return pa.schema([("instruction", _STR), ("input", _STR),
                          ("instances", pa.list_(pa.struct([("input", _STR)])))])
    if len(spec.path) != 1 or spec.shape == "list":
        return None
    if spec.shape in ("messages", "sharegpt"):
        role, text = ("role", "content") if spec.shape == "messages" else ("from", "value")
        return pa.schema([(spec.path[0], pa.list_(pa.struct([(role, _STR), (text, _STR)])))])
    return pa.schema([(spec.path[0], _STR)])


def _is_str(typ) -> bool:
    return pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_null(typ)


def _turn_pieces(col, all_turns: bool, rows: np.ndarray, text_key: str | None = None):
    """(strings, rows) of the user turns of a list<struct> column; None for other types."""
    typ = col.type
    if not (pa.types.is_list(typ) or pa.types.is_large_list(typ)) or not pa.types.is_struct(typ.value_type):
        return None
    names = {typ.value_type.field(i).name: typ.value_type.field(i).type for i in range(typ.value_type.num_fields)}
    role, text = ("role", "content") if "content" in names else ("from", "value")
    text = text_key or text
    if text not in names or not _is_str(names[text]) or (role not in names and not all_turns):
        return None
    flat = pc.list_flatten(col)
    parents = pc.list_parent_indices(col).to_numpy()
    content = flat.field(text)
    if not all_turns:
        roles = pc.utf8_lower(flat.field(role).cast(_STR))
        keep = pc.fill_null(pc.is_in(roles, pa.array(_USER_ROLES)), False).to_numpy(zero_copy_only=False)
        content, parents = content.filter(pa.array(keep)), parents[keep]
    return content, rows[parents]


def _column(table, name: str):
    col = table.column(name)  # a ChunkedArray for a Table, an Array for a RecordBatch
    return col.combine_chunks() if hasattr(col, "combine_chunks") else col


def _arrow_segments(table, spec: FieldSpec, first_row: int):
    """(string array, rows) for the common shapes; None when the column types need Python."""
    rows = np.arange(first_row, first_row + table.num_rows, dtype=np.int64)
    names = table.column_names
    pieces = []
    if spec.kind == "alpaca":
        for name in ("instruction", "input"):
            if name in names:
                if not _is_str(table.schema.field(name).type):
                    return None
                pieces.append((_column(table, name), rows))
        if "instances" in names:
            got = _turn_pieces(_column(table, "instances"), True, rows, "input")
            if got is None:
                return None
            pieces.append(got)
    elif len(spec.path) == 1 and spec.path[0] in names:
        col = _column(table, spec.path[0])
        if spec.kind == "dialogue" and _is_str(col.type):
            texts = col.to_pylist()
            segs = [(t, r) for t, r in zip(texts, rows.tolist()) for t in
                    ((t,) if spec.all_turns else human_turns(t or ""))]
            return pa.array([t for t, _ in segs], _STR), np.array([r for _, r in segs], dtype=np.int64)
        got = (col, rows) if _is_str(col.type) else _turn_pieces(col, spec.all_turns, rows)
        if got is None:
            return None
        pieces.append(got)
    elif len(spec.path) != 1:
        return None
    if not pieces:
        return pa.array([], _STR), rows[:0]
    seg_rows = np.concatenate([r for _, r in pieces])
    order = np.argsort(seg_rows, kind="stable")  # each row's segments together, in field order
    arrays = [a.cast(pa.large_string()) for a, _ in pieces]
    return pa.concat_arrays(arrays).take(pa.array(order)), seg_rows[order]


def chunk_to_norm(chunk: Chunk, spec: FieldSpec, path: Path):
    """Parse one chunk (in a worker) into normalized bytes, segment starts and segment rows."""
    if chunk.kind == "texts":
        return texts_to_norm(*chunk.payload)
    if chunk.kind == "arrow":
        got = _arrow_segments(chunk.payload, spec, chunk.first_row)
        if got is not None:
            return _arrow_norm(*got)
        return _rows_to_norm(chunk.payload.to_pylist(), spec, chunk.first_row)
    data: bytes = chunk.payload
    if pa is not None and b"\n\n" not in data and not data.startswith(b"\n"):
        schema = _arrow_schema(spec)
        try:
            table = pa_json.read_json(io.BytesIO(data), read_options=pa_json.ReadOptions(
                use_threads=False, block_size=max(len(data) + 1, 1 << 20)), parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore" if schema else "infer"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
        if table is not None and table.num_rows == chunk.nrows:
            got = _arrow_segments(table, spec, chunk.first_row)
            if got is not None:
                return _arrow_norm(*got)
    return _rows_to_norm(_parse_jsonl(data, path, chunk.first_row), spec, chunk.first_row)


def _parse_jsonl(data: bytes, path: Path, first_row: int) -> list:
    rows = []
    for i, line in enumerate(data.split(b"\n")[:-1]):
        if not line.strip():
            rows.append(None)
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
            raise UserError(f"{path}:{first_row + i + 1}: malformed JSONL row ({msg})") from None
        if not isinstance(row, dict):
            raise UserError(f"{path}:{first_row + i + 1}: expected a JSON object, got {type(row).__name__}")
        rows.append(row)
    return rows


def _rows_to_norm(rows: list, spec: FieldSpec, first_row: int):
    segments, seg_row = [], []
    for i, row in enumerate(rows):
        for s in row_segments(row, spec) if row is not None else ():
            segments.append(s)
            seg_row.append(first_row + i)
    return texts_to_norm(segments, seg_row)
