"""The decontamination report: per (training file, eval task) counts, matching pairs, the table."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .index import EvalIndex, FileResult
from .ngrams import overlap_text

MAX_LISTED_ROWS = 20  # per contaminated instance, besides the best row


@dataclass
class DecontamReport:
    index: "EvalIndex"
    threshold: float
    files: list["FileResult"]

    def file(self, path_or_label: str | Path) -> FileResult:
        for f in self.files:
            if str(path_or_label) in (f.path, f.label) or Path(f.path) == Path(path_or_label):
                return f
        raise KeyError(path_or_label)

    def contaminated_rows(self, path_or_label: str | Path) -> set[int]:
        """Row numbers (0-based; for JSON lines, line number - 1) that contain an eval instance."""
        return self.file(path_or_label).contaminated_rows()

    def summary(self, f: FileResult) -> list[dict]:
        sizes = self.index.task_sizes()
        out = []
        for t, task in enumerate(self.index.tasks):
            mine = self.index.task_of == t
            contaminated = int((f.best_score[mine] >= self.threshold).sum())
            matched = np.unique(f.hit_row[self.index.task_of[f.hit_inst] == t]) if len(f.hit_inst) else []
            out.append({"task": task, "instances": int(sizes[t]), "contaminated": contaminated,
                        "percent": round(100 * contaminated / max(int(sizes[t]), 1), 2),
                        "train_rows_matched": len(matched),
                        "max_score": round(float(f.best_score[mine].max()) if sizes[t] else 0.0, 4)})
        return out

    def pairs(self, f: FileResult, task: int) -> list[dict]:
        """Contaminated instances of one task: best row, overlap text, other matching rows."""
        idx = self.index
        found = np.flatnonzero((idx.task_of == task) & (f.best_score >= self.threshold))
        out = []
        for i in found.tolist():
            others = f.hit_row[(f.hit_inst == i) & (f.hit_row != f.best_row[i])]
            keys = idx.lookup.keys[f.best_keys.get(i, np.empty(0, np.int64))]
            out.append({"instance_id": idx.ids[i], "score": round(float(f.best_score[i]), 4),
                        "train_row": int(f.best_row[i]), "overlap": overlap_text(idx.texts[i], idx.n, keys),
                        "other_train_rows": np.sort(others)[:MAX_LISTED_ROWS].tolist(),
                        "other_train_rows_total": int(len(others))})
        return out

    def table(self) -> str:
        head = f"{'training file':<28} {'eval task':<24} {'instances':>9} {'contaminated':>12} {'%':>7} {'train rows matched':>18}"
        lines = [head, "-" * len(head)]
        for f in self.files:
            for s in self.summary(f):
                lines.append(f"{f.label[:28]:<28} {s['task'][:24]:<24} {s['instances']:>9} {s['contaminated']:>12} "
                             f"{s['percent']:>7.2f} {s['train_rows_matched']:>18}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        idx = self.index
        return {
            "method": {"n": idx.n, "threshold": self.threshold, "score": "max over training rows of the fraction "
                       "of the instance's distinct word n-grams found in that row",
                       "words": "lowercased, split on every non-alphanumeric ASCII character and Unicode "
                                "punctuation", "short_instances": "fewer than n words: one n-gram of all words",
                       "train_row": "0-based row number in the file (JSON lines: line number - 1)",
                       "template_trimmed": {k: {"prefix": p, "suffix": s} for k, (p, s) in idx.trimmed.items()}},
            "tasks": {t: int(c) for t, c in zip(idx.tasks, idx.task_sizes())},
            "skipped_tasks": idx.skipped,
            "index": {"instances": len(idx.ids), "ngrams": int(len(idx.lookup.keys))},
            "files": [{"path": f.path, "label": f.label, "format": f.fmt, "field": f.field, "rows": f.rows,
                       "bytes": f.bytes, "seconds": round(f.seconds, 3), "clean_file": f.clean_file,
                       "tasks": [{**s, "pairs": self.pairs(f, t)} for t, s in enumerate(self.summary(f))]}
                      for f in self.files],
        }

    def write_json(self, path: Path) -> Path:
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path


def unique_labels(paths: Sequence[Path]) -> list[str]:
    """Shortest path suffixes that tell the files apart (``gsm8k/train.jsonl`` vs ``math/train.jsonl``)."""
    parts = [Path(p).resolve().parts for p in paths]
    depth = [1] * len(paths)
    while True:
        labels = ["/".join(p[-d:]) for p, d in zip(parts, depth)]
        dup = {lab for lab in labels if labels.count(lab) > 1}
        if not dup:
            return labels
        depth = [d + 1 if lab in dup and d < len(p) else d for lab, d, p in zip(labels, depth, parts)]
        if all(lab not in dup or d >= len(p) for lab, d, p in zip(labels, depth, parts)):
            return labels


def clean_name(label: str) -> str:
    """``gsm8k/train.jsonl`` -> ``gsm8k-train.clean.jsonl``."""
    p = Path(label)
    return f"{str(p.with_suffix('')).replace('/', '-')}.clean{p.suffix}"


