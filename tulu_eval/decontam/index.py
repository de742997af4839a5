"""The eval side of decontamination (the n-gram index of every instance's prompt) and the
scores of one training file against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..errors import UserError
from .fields import texts_to_norm
from .ngrams import Lookup, token_hashes


@dataclass
class EvalIndex:
    """The eval side: one entry per instance (task, id, normalized prompt) and the n-gram lookup."""

    n: int
    lookup: Lookup
    tasks: list[str]
    task_of: np.ndarray   # instance -> task number
    ids: list[str]
    texts: list[str]      # the words that were indexed (template trimmed), space-joined
    trimmed: dict = field(default_factory=dict)  # task or task/group -> (prefix words, suffix words) dropped
    skipped: dict = field(default_factory=dict)  # task -> why it is not indexed

    @classmethod
    def from_instances(cls, instances: dict[str, Sequence[tuple[str, str]]] | Iterable[tuple[str, Sequence]],
                       n: int = 8, trim_template: bool = True, skipped: dict | None = None) -> "EvalIndex":
        """Index ``{task: [(instance id, prompt text[, group]), ...]}`` (or an iterable of such pairs).

        Words shared by the start (or end) of every prompt of a task are its template and are not
        indexed; so are n or more words shared by every prompt of a group when the items carry
        one (a BBH subtask's few-shot prefix; a shorter shared phrase, like PopQA's "who is the
        mother of", is kept: it is part of the question)."""
        if n < 1:
            raise UserError(f"-n must be at least 1, not {n}")
        tasks, task_of, ids, texts, trimmed, toks, insts = [], [], [], [], {}, [], []
        for task, items in (instances.items() if isinstance(instances, dict) else instances):
            # all prompts of a task in one buffer: word hashes, offsets, and the instance of each word
            norm, seg_starts, _ = texts_to_norm([item[1] for item in items], np.zeros(len(items), np.int64))
            h, st, en = token_hashes(norm)
            first = np.searchsorted(st, seg_starts)
            count = np.diff(first, append=len(h))
            lo, hi = first.copy(), first + count
            raw = norm.tobytes()

            def trim(sel: np.ndarray, min_words: int, key: str) -> None:
                pre, suf = _common_edges(h, lo[sel], hi[sel] - lo[sel])
                pre, suf = (pre if pre >= min_words else 0), (suf if suf >= min_words else 0)
                if pre or suf:
                    w = raw[st[lo[sel[0]]]: en[hi[sel[0]] - 1]].decode("utf-8", "replace").split()
                    trimmed[key] = (" ".join(w[:pre]), " ".join(w[len(w) - suf:]))
                    sel = sel[hi[sel] - lo[sel] > pre + suf]  # keep all words where the template is all there is
                    lo[sel] += pre
                    hi[sel] -= suf

            groups: dict = {}
            for i, item in enumerate(items):
                groups.setdefault(item[2] if len(item) > 2 else None, []).append(i)
            if trim_template and items:
                trim(np.arange(len(items)), 1, task)
                for group, members in groups.items() if len(groups) > 1 else ():
                    trim(np.array(members), n, f"{task}/{group}")
            size = hi - lo
            toks.append(h[np.repeat(lo - np.cumsum(size) + size, size) + np.arange(int(size.sum()))])
            insts.append(np.repeat(np.arange(len(ids), len(ids) + len(items)), size))
            for item, a, b in zip(items, lo.tolist(), hi.tolist()):
                ids.append(str(item[0]))
                texts.append(" ".join(raw[st[a]: en[b - 1]].decode("utf-8", "replace").split()) if b > a else "")
            task_of.extend([len(tasks)] * len(items))
            tasks.append(task)
        tok = np.concatenate(toks) if toks else np.empty(0, np.uint64)
        lookup = Lookup.build(tok, np.concatenate(insts) if insts else np.empty(0, np.int64), len(ids), n)
        return cls(n, lookup, tasks, np.array(task_of, dtype=np.int32), ids, texts, trimmed, dict(skipped or {}))

    @classmethod
    def from_registry(cls, suite: str | None = None, tasks: str | None = None, data_dir=None,
                      include_path: Iterable[str] = (), n: int = 8, trim_template: bool = True) -> "EvalIndex":
        """Index the prompts of the tasks chosen as in ``tulu-eval run``; tasks without data are skipped."""
        from ..data.files import resolve_data_dir  # noqa: PLC0415
        from ..registry import Registry  # noqa: PLC0415

        ddir = resolve_data_dir(data_dir)
        skipped: dict = {}

        def per_task():  # one task's docs in memory at a time
            for task in Registry(include_path).select(suite, tasks):
                try:
                    docs = task.load_docs(ddir)
                except UserError as exc:
                    skipped[task.name] = str(exc)
                    continue
                group = task.group or (lambda doc: None)
                yield task.name, [(task.doc_id(doc, i), task.prompt(doc), group(doc)) for i, doc in enumerate(docs)]

        index = cls.from_instances(per_task(), n=n, trim_template=trim_template)
        index.skipped = skipped
        if not index.tasks:
            raise UserError("no eval task has its data: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        return index

    def task_sizes(self) -> np.ndarray:
        return np.bincount(self.task_of, minlength=len(self.tasks))


def _common_edges(h: np.ndarray, first: np.ndarray, count: np.ndarray) -> tuple[int, int]:
    """Word counts of the prefix and suffix shared by every prompt of a task (needs 2+ distinct)."""
    if len(first) < 2:
        return 0, 0
    shortest = int(count.min())
    pre = 0
    while pre < shortest and (h[first + pre] == h[first[0] + pre]).all():
        pre += 1
    if pre == shortest and (count == shortest).all():
        return 0, 0  # every prompt is the same
    last = first + count - 1
    suf = 0
    while suf < shortest - pre and (h[last - suf] == h[last[0] - suf]).all():
        suf += 1
    return pre, suf


@dataclass
class FileResult:
    """Scores of every eval instance against one training file."""

    path: str
    label: str
    fmt: str
    field: str
    rows: int
    bytes: int
    seconds: float
    best_score: np.ndarray        # per instance, max over rows
    best_row: np.ndarray          # the row giving it (-1: no overlap at all)
    hit_inst: np.ndarray          # every (instance, row, score) with score >= threshold
    hit_row: np.ndarray
    hit_score: np.ndarray
    best_keys: dict               # instance -> matched key numbers of its best row
    clean_file: str | None = None

    def contaminated_rows(self) -> set[int]:
        return set(self.hit_row.tolist())
