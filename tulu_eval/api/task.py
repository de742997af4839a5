"""What a task is: data -> instances -> requests, and responses -> sample records.

A task declaration (one short file under ``tasks/``) builds a :class:`GenerationTask` from
plain functions and settings. The runner never special-cases a task: it asks each task for
its instances, sends every instance's :class:`Request` to one backend together with the
other tasks' requests, and hands the outputs back to :meth:`Task.score` and
:meth:`Task.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from ..data.files import DataFile
from ..data.sources import Checked, GroupedBy, Prepared, Subsets
from ..scoring.metrics import MetricValue, aggregate_records
from ..verifiers.table import get_verifier, key_of
from .labels import SKILLS, SUITES
from .request import GenSettings, Instance, Request
from .verifier import Verifier, VerifierResult

@dataclass
class GenerationTask:
    """A generative task scored by a verifier.

    Required: ``name``, ``suite``, ``skill``, ``data`` (a file or a source of
    ``tulu_eval/data/sources.py``: subsets, interleaving and few-shot files are declared there),
    ``prompt`` (doc -> user message),
    ``gold`` (doc -> ground truth handed to the verifier: a plain JSON value), ``verifier`` (a key of
    ``tulu_eval/verifiers/table.py``), ``primary_metric``.
    """

    name: str
    suite: str
    skill: str
    data: DataFile | Checked | Prepared | GroupedBy | Subsets
    prompt: Callable[[dict], str]
    gold: Callable[[dict], Any]
    primary_metric: str
    # a key of the verifier table (tulu_eval/verifiers/table.py), resolved to that very object, which RLVR
    # rows naming the same key also get; generative tasks need one, multiple-choice tasks (mc.py) do not
    verifier: Verifier | str | None = None
    verifier_key: str | None = None  # set from ``verifier``
    regime: str = "tulu"
    description: str = ""
    generation: GenSettings = field(default_factory=GenSettings)
    # fixed few-shot exemplars as (user, assistant) pairs, rendered as multi-turn chat
    fewshot: Sequence[tuple[str, str]] = ()
    # exemplars that come with each document (doc -> pairs, e.g. from rows the source put in
    # doc["fewshot"]), used instead of ``fewshot``; after ``load_docs`` ``fewshot`` holds the first
    # document's, which the run record counts
    fewshot_of: Callable[[dict], Sequence[tuple[str, str]]] | None = None
    # OLMES ``fewshot_as_multiturn``: False puts the exemplars and the question in one user turn
    # (the plain text without the system prompt)
    fewshot_as_multiturn: bool = True
    system: str | None = None
    # how few-shot turns and the question are joined for models without a chat template
    plain_separator: str = "\n\n"
    # chat only (OLMES ``assistant_prefix``): cut from the end of each user turn, put at the start
    # of each few-shot answer and after the generation prompt (e.g. "Answer:")
    assistant_prefix: str = ""
    doc_id: Callable[[dict, int], str] = lambda doc, idx: str(idx)
    group: Callable[[dict], str | None] | None = None
    # filter/transform raw rows (e.g. a subset) before instances are made
    select: Callable[[list[dict]], list[dict]] | None = None
    # metrics averaged over groups (macro) instead of over instances (micro)
    macro_over_groups: bool = False
    # names of the verifier details copied into each sample record's metrics
    metric_keys: Sequence[str] = ()
    # aliases accepted by --tasks besides name and name::regime
    aliases: Sequence[str] = ()
    # counted in its suite's average (False for a variant such as MATH-500 beside full MATH)
    in_average: bool = True
    # a model judge (tulu_eval/judges/, run by tulu_eval/engine/judge.py) that reads the outputs before
    # scoring, e.g. AlpacaEval
    judge: Any = None
    # a chat layout no field states: (task, doc) -> the request, instead of the fields above
    request_fn: Callable[["GenerationTask", dict], Request] | None = None
    # sample level, instead of the verifier: (task, instance, saved row) -> record (a judged task
    # reads the judge's verdict in row["judge"])
    score_fn: Callable[["GenerationTask", Instance, dict], dict] | None = None
    # corpus level (lighteval's corpus_level_fn): (records, the per-instance means) -> the task's
    # metrics, e.g. AlpacaEval's length-controlled win rate fitted over all instances
    corpus_fn: Callable[[list[dict], dict[str, MetricValue]], dict[str, MetricValue]] | None = None

    def __post_init__(self):
        if isinstance(self.verifier, str):
            self.verifier_key, self.verifier = self.verifier, get_verifier(self.verifier)
        elif self.verifier is not None and self.verifier_key is None:
            self.verifier_key = key_of(self.verifier)  # an object from the table (or registered), else None
        if self.verifier is None and self.score_fn is None and type(self) is GenerationTask:
            raise ValueError(f"task {self.name}: a generative task needs a verifier")
        if self.suite not in SUITES:
            raise ValueError(f"task {self.name}: suite must be one of {SUITES}, not {self.suite!r}")
        if self.skill not in SKILLS:
            raise ValueError(f"task {self.name}: skill must be one of {SKILLS}, not {self.skill!r}")

    @property
    def full_name(self) -> str:
        return f"{self.name}::{self.regime}"

    # --- data -> instances -------------------------------------------------------------
    def data_files(self) -> list[DataFile]:
        return list(self.data.files())

    def data_files_in(self, data_dir: Path | None) -> list[DataFile]:
        """The files this task reads from ``data_dir`` (a source with alternative layouts, such as
        DROP's, picks one with its ``files_in``)."""
        pick = getattr(self.data, "files_in", None)
        return pick(data_dir) if pick is not None else self.data_files()

    def data_note(self, data_files: dict[str, str]) -> dict | None:
        """What results.json says about the data actually read (e.g. a subsample), from its file hashes
        (the source's ``note``, when it has one)."""
        note = getattr(self.data, "note", None)
        return note(data_files) if note is not None else None

    def load_docs(self, data_dir: Path | None) -> list[dict]:
        rows = self.data.read(data_dir)
        docs = self.select(rows) if self.select else rows
        if self.fewshot_of is not None:  # for the run record (results.json "fewshot"): one document's
            self.fewshot = list(self.fewshot_of(docs[0])) if docs else ()
        return docs

    def build_request(self, doc: dict) -> Request:
        if self.request_fn is not None:
            return self.request_fn(self, doc)
        shots = self.fewshot_of(doc) if self.fewshot_of is not None else self.fewshot
        messages: list[dict[str, str]] = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        pre = self.assistant_prefix
        question = self.prompt(doc)
        parts = [f"{u}{a}" if u.endswith((" ", "\n")) else f"{u} {a}" for u, a in shots]
        if self.fewshot_as_multiturn:
            for user, assistant in shots:
                messages += [{"role": "user", "content": self._chat_user(user)},
                             {"role": "assistant", "content": f"{pre} {assistant}" if pre else assistant}]
            messages.append({"role": "user", "content": self._chat_user(question)})
        else:
            messages.append({"role": "user", "content": self._chat_user(self.plain_separator.join([*parts, question]))})
        text = self.plain_separator.join([*([self.system] if self.system else []), *parts, question])
        return Request(messages=messages, text=text, settings=self.generation, assistant_prefix=pre)

    def _chat_user(self, text: str) -> str:
        pre = self.assistant_prefix
        if pre and text.rstrip().endswith(pre):
            return text.rstrip()[: -len(pre)].rstrip()
        return text

    def instances(self, docs: list[dict]) -> list[Instance]:
        return [
            Instance(task=self.name, id=self.doc_id(doc, i), doc=doc, request=self.build_request(doc),
                     gold=self.gold(doc), group=self.group(doc) if self.group else None)
            for i, doc in enumerate(docs)
        ]

    # --- responses -> scores -------------------------------------------------------------
    def score_row(self, instance: Instance, row: dict) -> dict:
        """Sample-level record from a saved prediction row (what ``run`` and ``score`` call)."""
        if self.score_fn is not None:
            return self.score_fn(self, instance, row)
        return self.score(instance, row.get("outputs") or [row["output"]])

    def score(self, instance: Instance, outputs: list[str]) -> dict:
        """Sample-level record for one instance (``outputs`` holds ``n`` samples)."""
        results = [self.verifier.verify(o, instance.gold) for o in outputs]
        first = results[0]
        metrics: dict[str, Any] = {}
        for key in self.metric_keys:
            vals = [r.details.get(key) for r in results]
            metrics[key] = vals[0] if len(vals) == 1 else sum(float(v) for v in vals) / len(vals)
        metrics.setdefault(self.primary_metric, sum(r.score for r in results) / len(results))
        return {
            "extracted": first.details.get("extracted"),
            "verdict": first.score,
            "metrics": metrics,
            "details": {k: v for k, v in first.details.items() if k not in ("extracted",)},
            **error_fields(results),
        }

    def aggregate(self, records: list[dict]) -> dict[str, MetricValue]:
        out = aggregate_records(records, macro_over_groups=self.macro_over_groups)
        return self.corpus_fn(records, out) if self.corpus_fn is not None else out

    def with_overrides(self, **changes) -> "GenerationTask":
        return replace(self, **changes)


Task = GenerationTask


def error_fields(results: Sequence[VerifierResult]) -> dict:
    """``errors`` (how many of an instance's verdicts are errors, not judgments) and the first
    ``error`` reason, for a sample record; ``results.task_summary`` adds them up per task."""
    reasons = [r.error for r in results if getattr(r, "error", None) is not None]
    return {"errors": len(reasons), **({"error": reasons[0]} if reasons else {})}
