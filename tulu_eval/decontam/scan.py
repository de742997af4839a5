"""Decontamination: find eval instances whose prompt text is in the training data.

Method (open-instruct's n-gram mode, without a search engine): each eval instance's prompt
(``task.prompt(doc)``: the user message, no few-shot exemplars) is split into words (see
:mod:`tulu_eval.decontam.ngrams`), and the words every prompt of a task shares at its start and end
(the task's template, e.g. "Question:" ... "Answer:") are dropped. Its distinct word n-grams
(default n=8) are hashed into an in-memory index. Training rows are streamed in chunks (across
worker processes) and hashed the same way; an instance's score is the largest fraction of its
n-grams found in any single training row, and it is contaminated when that score is >= the
threshold (default 0.5). Memory grows with the eval index, not with the training data.

Library use (e.g. a trainer refusing contaminated data)::

    from tulu_eval.decontam.scan import decontaminate
    report = decontaminate(["sft.jsonl"], suite="dev,unseen")
    if report.contaminated_rows("sft.jsonl"):
        raise SystemExit(report.table())
"""

from __future__ import annotations

import collections
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Sequence

import numpy as np

from ..errors import UserError
from .fields import Chunk, FieldSpec, chunk_to_norm, detect_field
from .index import EvalIndex, FileResult
from .io import file_format, first_row, iter_chunks, jsonl_chunks, write_clean
from .ngrams import Lookup, score_chunk
from .report import DecontamReport, clean_name, unique_labels

REPORT_NAME = "decontamination.json"


# ---------------------------------------------------------------------------------------------
# scanning

_WORKER: dict = {}


def _init_worker(lookup: Lookup) -> None:
    _WORKER["lookup"] = lookup


def _init_pool_worker(lookup: Lookup) -> None:
    from ..procs import set_pdeathsig  # noqa: PLC0415

    set_pdeathsig()  # a worker never outlives the scanner's process (issue 18)
    _init_worker(lookup)


def _work(chunk: Chunk, spec: FieldSpec, path: str, threshold: float):
    norm, starts, rows = chunk_to_norm(chunk, spec, Path(path))
    return score_chunk(_WORKER["lookup"], norm, starts, rows, threshold), chunk.nrows, chunk.nbytes


def default_workers() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Scanner:
    """Scores training data against an :class:`EvalIndex`; ``workers`` > 1 uses a process pool."""

    def __init__(self, index: EvalIndex, threshold: float = 0.5, workers: int | None = None,
                 progress: bool = False):
        if not 0 < threshold <= 1:
            raise UserError(f"--threshold must be in (0, 1], not {threshold}")
        self.index, self.threshold, self.progress = index, threshold, progress
        self.workers = default_workers() if workers is None else max(int(workers), 1)
        self._pool = None

    def __enter__(self):
        if self.workers > 1:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ctx.Pool(self.workers, initializer=_init_pool_worker, initargs=(self.index.lookup,))
        else:
            _init_worker(self.index.lookup)
        return self

    def __exit__(self, exc_type, *_):
        if self._pool is not None:
            (self._pool.terminate if exc_type else self._pool.close)()
            self._pool.join()
            self._pool = None

    def scan_file(self, path: str | Path, field: str | None = "auto", all_turns: bool = False,
                  label: str | None = None) -> FileResult:
        path = Path(path)
        fmt = file_format(path)
        spec = detect_field(first_row(path, fmt), path, field, all_turns)
        return self.scan_chunks(iter_chunks(path, fmt, spec), spec, str(path), label or path.name, fmt,
                                path.stat().st_size)

    def scan_stream(self, stream: BinaryIO, spec: FieldSpec, label: str = "stream", total: int | None = None,
                    chunk_bytes: int | None = None) -> FileResult:
        """Scan JSON lines from a binary stream (e.g. data generated on the fly)."""
        return self.scan_chunks(jsonl_chunks(stream, chunk_bytes), spec, label, label, "jsonl", total)

    def scan_texts(self, texts: Iterable[str], label: str = "texts", chunk_rows: int = 4096) -> FileResult:
        """Scan in-memory training texts (one string per row)."""
        def chunks() -> Iterator[Chunk]:
            batch, first = [], 0
            for text in texts:
                batch.append(text or "")
                if len(batch) == chunk_rows:
                    yield Chunk("texts", (batch, range(first, first + len(batch))), first, len(batch),
                                sum(map(len, batch)))
                    batch, first = [], first + len(batch)
            if batch:
                yield Chunk("texts", (batch, range(first, first + len(batch))), first, len(batch), sum(map(len, batch)))
        return self.scan_chunks(chunks(), FieldSpec("field", ("text",)), label, label, "texts", None)

    def scan_chunks(self, chunks: Iterator[Chunk], spec: FieldSpec, path: str, label: str, fmt: str,
                    total: int | None) -> FileResult:
        from tqdm import tqdm  # noqa: PLC0415

        ninst = len(self.index.ids)
        best_score, best_row = np.zeros(ninst), np.full(ninst, -1, dtype=np.int64)
        best_keys: dict = {}
        hits: list = []
        rows = nbytes = 0
        start = time.perf_counter()
        bar = tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not self.progress,
                   file=sys.stderr, dynamic_ncols=True)

        def merge(result) -> None:
            nonlocal rows, nbytes
            cs, nrows, nb = result
            better = cs.best_score > best_score[cs.best_inst]
            inst = cs.best_inst[better]
            best_score[inst], best_row[inst] = cs.best_score[better], cs.best_row[better]
            for i in inst.tolist():
                if i in cs.best_keys:
                    best_keys[i] = cs.best_keys[i]
            if len(cs.hit_inst):
                hits.append((cs.hit_inst, cs.hit_row, cs.hit_score))
            rows, nbytes = rows + nrows, nbytes + nb
            bar.update(nb)
            elapsed = max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{rows:,} rows, {rows / elapsed:,.0f} rows/s", refresh=False)

        try:
            if self._pool is None:
                for chunk in chunks:
                    merge(_work(chunk, spec, path, self.threshold))
            else:
                pending: collections.deque = collections.deque()
                for chunk in chunks:  # in order, at most 2 chunks per worker in flight
                    pending.append(self._pool.apply_async(_work, (chunk, spec, path, self.threshold)))
                    while len(pending) >= 2 * self.workers:
                        merge(pending.popleft().get())
                while pending:
                    merge(pending.popleft().get())
        finally:
            bar.close()
        cat = [np.concatenate(p) for p in zip(*hits)] if hits else [np.empty(0, np.int64)] * 3
        return FileResult(path, label, fmt, spec.describe(), rows, nbytes, time.perf_counter() - start, best_score,
                          best_row, cat[0].astype(np.int64), cat[1].astype(np.int64), cat[2].astype(float), best_keys)


def decontaminate(train_files: Sequence[str | Path], suite: str | None = None, tasks: str | None = None,
                  index: EvalIndex | None = None, n: int = 8, threshold: float = 0.5, field: str | None = "auto",
                  all_turns: bool = False, data_dir=None, include_path: Iterable[str] = (),
                  workers: int | None = None, progress: bool = False, output_dir: str | Path | None = None,
                  clean: bool = False, log=None) -> DecontamReport:
    """Score ``train_files`` against the eval prompts; optionally write the report and clean copies.

    Every file is checked (exists, readable first row, field) before any is scanned, and clean
    copies are written only after every scan succeeded, so an error leaves no partial output.
    """
    paths = [Path(p) for p in train_files]
    if not paths:
        raise UserError("no training file given")
    plans = []
    for path in paths:
        fmt = file_format(path)
        plans.append((path, fmt, detect_field(first_row(path, fmt), path, field, all_turns)))
    if index is None:
        index = EvalIndex.from_registry(suite, tasks, data_dir, include_path, n)
    labels = unique_labels(paths)
    results = []
    with Scanner(index, threshold, workers, progress) as scanner:
        for (path, fmt, spec), label in zip(plans, labels):
            if log:
                log(f"{label}: {fmt}, field {spec.describe()}")
            results.append(scanner.scan_chunks(iter_chunks(path, fmt, spec), spec, str(path), label, fmt,
                                               path.stat().st_size))
    report = DecontamReport(index, threshold, results)
    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        if clean:
            for f, (path, fmt, _) in zip(results, plans):
                target = out / clean_name(f.label)
                write_clean(path, fmt, f.contaminated_rows(), target)
                f.clean_file = str(target)
        report.write_json(out / REPORT_NAME)
    return report
