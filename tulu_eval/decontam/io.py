"""Training files for decontamination: formats, first row, chunked reading, clean copies.

Formats (by suffix): ``.jsonl`` (read in byte chunks of whole lines; a row is a line, blank
lines count as empty rows), ``.json`` (a list of objects, decoded object by object; a ``.json``
file that does not start with ``[`` is read as JSON lines), ``.parquet`` (record batches) and
``.csv`` (a header row, then one row per record). Memory is bounded by the chunk size, never by
the file size. Clean copies are written to a temporary file and renamed when complete.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import UserError
from .fields import Chunk, FieldSpec, row_segments

FORMATS = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
CHUNK_BYTES = 2 << 20   # jsonl chunk size
CHUNK_ROWS = 8192       # rows per chunk for json, csv and parquet


def file_format(path: Path) -> str:
    """The reader for ``path`` ("jsonl", "json", "parquet", "csv"); a missing file is an error."""
    if not path.exists():
        raise UserError(f"{path}: no such training file")
    if not path.is_file():
        raise UserError(f"{path}: not a file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"{path}: unsupported training file type {path.suffix!r} (expected .jsonl, .json, "
                        ".parquet or .csv)")
    if fmt == "json":
        with path.open("rb") as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:1] != b"[":
            fmt = "jsonl"
    if fmt == "parquet":
        _need_pyarrow(path)
    return fmt


def _need_pyarrow(path: Path):
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError:
        raise UserError(f"{path}: reading parquet needs pyarrow (pip install pyarrow)") from None
    return pq


def first_row(path: Path, fmt: str) -> dict:
    """The first row (for choosing the field)."""
    if fmt == "parquet":
        pf = _open_parquet(path)
        for batch in pf.iter_batches(batch_size=1):
            if batch.num_rows:
                return batch.to_pylist()[0]
    elif fmt == "jsonl":
        with path.open("rb") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        return json.loads(line)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        raise UserError(f"{path}:{lineno}: malformed JSONL row") from None
    else:
        for row, _ in (_json_objects(path) if fmt == "json" else _csv_rows(path)):
            return row
    raise UserError(f"{path}: the file has no rows")


def _open_parquet(path: Path):
    pq = _need_pyarrow(path)
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # arrow raises several types for a damaged file
        raise UserError(f"{path}: unreadable parquet file ({str(exc).splitlines()[0]})") from None


def jsonl_chunks(fh: BinaryIO, chunk_bytes: int | None = None) -> Iterator[Chunk]:
    """Chunks of whole lines from a binary stream (a last line without newline gets one)."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    row, rest = 0, b""
    while True:
        block = fh.read(chunk_bytes)
        if not block:
            if rest:
                yield Chunk("jsonl", rest + b"\n", row, 1, len(rest))
            return
        data = rest + block if rest else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        data, rest = data[:cut], data[cut:]
        nrows = data.count(b"\n")
        yield Chunk("jsonl", data, row, nrows, len(data))
        row += nrows


def iter_chunks(path: Path, fmt: str, spec: FieldSpec) -> Iterator[Chunk]:
    """The file as chunks (JSON and CSV rows are turned into text here, in the main process)."""
    if fmt == "jsonl":
        with path.open("rb") as fh:
            yield from jsonl_chunks(fh)
    elif fmt == "parquet":
        pf = _open_parquet(path)
        names = set(pf.schema_arrow.names)
        wanted = ["instruction", "input", "instances"] if spec.kind == "alpaca" else [spec.path[0]]
        columns = [c for c in wanted if c in names]
        per_row = path.stat().st_size / max(pf.metadata.num_rows, 1)
        row = 0
        for batch in pf.iter_batches(batch_size=CHUNK_ROWS, columns=columns):
            yield Chunk("arrow", batch, row, batch.num_rows, int(batch.num_rows * per_row))
            row += batch.num_rows
    else:
        rows = _json_objects(path) if fmt == "json" else _csv_rows(path)
        segments, seg_row, first, count, done = [], [], 0, 0, 0
        for row, pos in rows:
            for seg in row_segments(row, spec):
                segments.append(seg)
                seg_row.append(first + count)
            count += 1
            if count >= CHUNK_ROWS:
                yield Chunk("texts", (segments, seg_row), first, count, pos - done)
                segments, seg_row, first, count, done = [], [], first + count, 0, pos
        if count:
            yield Chunk("texts", (segments, seg_row), first, count, path.stat().st_size - done)


def _json_objects(path: Path, block: int = 1 << 20) -> Iterator[tuple[object, int]]:
    """(object, characters read so far) for each element of a top-level JSON list, streamed."""
    decoder = json.JSONDecoder()
    with path.open(encoding="utf-8-sig") as fh:
        buf, pos, consumed, lines = fh.read(block), 0, 0, 1
        pos = len(buf) - len(buf.lstrip())
        if buf[pos: pos + 1] != "[":
            raise UserError(f"{path}: expected a JSON list of objects")
        pos += 1
        eof = False
        while True:
            while True:  # skip whitespace and one comma
                while pos < len(buf) and buf[pos] in " \t\r\n,":
                    pos += 1
                if pos < len(buf) or eof:
                    break
                lines += buf.count("\n")
                consumed += len(buf)
                buf, pos = fh.read(block), 0
                eof = not buf
            if pos >= len(buf):
                raise UserError(f"{path}:{lines}: malformed JSON (the list is not closed)")
            if buf[pos] == "]":
                return
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                more = "" if eof else fh.read(max(block, len(buf)))
                if not more:
                    line = lines + buf.count("\n", 0, exc.pos)
                    raise UserError(f"{path}:{line}: malformed JSON ({exc.msg})") from None
                lines += buf.count("\n", 0, pos)
                consumed += pos
                buf, pos = buf[pos:] + more, 0
                continue
            yield obj, consumed + end
            pos = end


def _csv_rows(path: Path) -> Iterator[tuple[dict, int]]:
    """(row as a dict, bytes read so far) for each data row; blank lines are empty rows."""
    raw = path.open("rb")
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        try:
            header = next(reader, None)
            if header is None:
                return
            for cells in reader:
                if len(cells) > len(header):
                    raise UserError(f"{path}:{reader.line_num}: malformed CSV row ({len(cells)} fields, the "
                                    f"header has {len(header)})")
                yield dict(zip(header, cells)), raw.tell()
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UserError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None


def write_clean(path: Path, fmt: str, drop: set[int], out: Path) -> int:
    """Copy ``path`` to ``out`` without the rows in ``drop``; return the rows kept."""
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    kept = 0
    try:
        if fmt == "jsonl":
            with path.open("rb") as src, tmp.open("wb") as dst:
                for i, line in enumerate(src):
                    if i not in drop:
                        dst.write(line if line.endswith(b"\n") else line + b"\n")
                        kept += 1
        elif fmt == "json":
            with tmp.open("w", encoding="utf-8") as dst:
                dst.write("[")
                for i, (obj, _) in enumerate(_json_objects(path)):
                    if i not in drop:
                        dst.write(("," if kept else "") + "\n  " + json.dumps(obj, ensure_ascii=False))
                        kept += 1
                dst.write("\n]\n")
        elif fmt == "csv":
            with path.open(encoding="utf-8-sig", newline="") as src, tmp.open("w", encoding="utf-8",
                                                                                newline="") as dst:
                reader, writer = csv.reader(src), csv.writer(dst)
                writer.writerow(next(reader))
                for i, cells in enumerate(reader):
                    if i not in drop:
                        writer.writerow(cells)
                        kept += 1
        else:
            import pyarrow as pa  # noqa: PLC0415
            import pyarrow.parquet as pq  # noqa: PLC0415

            pf, row = _open_parquet(path), 0
            with pq.ParquetWriter(tmp, pf.schema_arrow) as writer:
                for batch in pf.iter_batches(batch_size=CHUNK_ROWS):
                    mask = [row + i not in drop for i in range(batch.num_rows)]
                    row += batch.num_rows
                    kept += sum(mask)
                    writer.write_batch(batch.filter(pa.array(mask)))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return kept
