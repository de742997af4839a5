"""Where a task's documents come from, declared as data: one file, one file checked or reshaped,
one file grouped into subsets, or several subset files; every multi-subset source interleaves its subsets
round-robin (``interleave.py``).

A source has ``files()`` (what the run hashes into results.json and checks for before any model
loads, in that order) and ``read(data_dir)`` (the task's documents, before ``--limit``). A plain
:class:`~tulu_eval.data.files.DataFile` is a source too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..errors import UserError
from .files import DataFile
from .interleave import interleave


def checked_rows(source: DataFile, data_dir: Path | None, check: Callable[[dict], bool], expected: str) -> list[dict]:
    """The rows of ``source``; a row failing ``check`` is one error naming the file, the row and ``expected``."""
    rows = source.read(data_dir)
    for i, row in enumerate(rows):
        if not check(row):
            raise UserError(f"{data_dir / source.relpath}: row {i + 1}: {expected}")
    return rows


class Source:
    """What every source has: the files it reads and the first one's path (where a message names one)."""

    def files(self) -> list[DataFile]:
        return self.file.files()

    @property
    def relpath(self) -> str:
        return self.files()[0].relpath


@dataclass(frozen=True)
class Checked(Source):
    """One file whose every row must pass ``check`` (else one error naming the row and ``expected``)."""

    file: DataFile
    check: Callable[[dict], bool]
    expected: str

    def read(self, data_dir: Path | None) -> list[dict]:
        return checked_rows(self.file, data_dir, self.check, self.expected)


@dataclass(frozen=True)
class Prepared(Source):
    """One file whose rows ``prepare(rows, data_dir)`` checks or reshapes into the documents."""

    file: DataFile
    prepare: Callable[[list[dict], Path | None], list[dict]]

    def read(self, data_dir: Path | None) -> list[dict]:
        return self.prepare(self.file.read(data_dir), data_dir)


@dataclass(frozen=True)
class GroupedBy(Source):
    """One file whose rows fall into subsets by the field ``key``, interleaved in ``order``
    (default: sorted by name; with an order, a subset not in it is left out)."""

    file: DataFile | Checked | Prepared
    key: str
    order: Sequence[str] | None = None

    def read(self, data_dir: Path | None) -> list[dict]:
        groups: dict[str, list[dict]] = {}
        for row in self.file.read(data_dir):
            groups.setdefault(row[self.key], []).append(row)
        names = sorted(groups) if self.order is None else [n for n in self.order if n in groups]
        return interleave(*(groups[n] for n in names))


@dataclass(frozen=True)
class Subsets(Source):
    """Several subsets, each read by ``read_subset(name, data_dir)`` (which may read more than one
    of ``files``, e.g. a subset's few-shot file), interleaved in the order of ``names``."""

    names: Sequence[str]
    files_read: Sequence[DataFile]
    read_subset: Callable[[str, Path | None], list[dict]]

    def files(self) -> list[DataFile]:
        return list(self.files_read)

    def read(self, data_dir: Path | None) -> list[dict]:
        return interleave(*(self.read_subset(name, data_dir) for name in self.names))
