"""Reasoning mode (``--reasoning``): evaluate models that think in a trace before they answer.

Models such as OLMo 3 Think, Qwen3 and the DeepSeek-R1 distills write ``<think> ... </think>``
and then the answer. OLMES, lighteval and open-instruct strip that trace before answer
extraction and count a trace that never closes as a failed answer; OLMo 3's suites report the
termination rate. This module does the same, for every generative task, without touching a
task or a verifier:

* **pattern** (``--reasoning-pattern``, default ``<think>…</think>``): an opening and a closing
  tag, written ``OPEN…CLOSE`` (or ``OPEN...CLOSE``).
* **generation, two budgets** (:func:`generate`): the trace is generated first with its own
  budget (``--reasoning-max-tokens``, default 2048) and none of the task's stop sequences (a
  DROP trace must not end at its first blank line). When that text holds the closing tag, it is
  cut just after the tag and the answer is generated as a continuation of it with the task's own
  settings (its max new tokens and stop sequences), so the answer keeps the budget the task
  gives it however long the trace was. For a sampled task (``n`` > 1) each sample's trace is
  continued on its own (n = 1). When no trace was opened at all (no opening tag in the text,
  none at the end of the prompt), the text is the answer, cut at the task's stop sequences.
  The raw text saved in ``predictions/<task>.jsonl`` (``output``) is trace + closing tag +
  answer, exactly as generated.
* **splitting** (:func:`split_output`, also what ``tulu-eval score --reasoning`` re-applies to
  saved outputs): a trace is open when the output contains the opening tag or the prompt left
  one open (its last opening tag after its last closing tag: chat templates of Qwen3 or the R1
  distills put ``<think>`` into the generation prompt; a task's assistant prefix such as
  OLMES's "Answer:" then comes after it, inside the trace, and is kept as the task has it).
  - closing tag present: the answer is the text after the **last** closing tag, leading
    whitespace removed (nested or repeated ``<think>`` blocks are all trace) -- unless an
    opening tag follows that last closing tag: a later trace that never closed.
  - trace open and never closed (budget spent or the model stopped inside it): **unterminated**;
    the answer is empty and the sample fails.
  - no trace at all: the whole output is the answer, and it counts as terminated.
* **scoring** (:func:`score_row`): the verifier (so also the RLVR reward) sees the answer only.
  An unterminated sample is scored on the empty answer and, for a one-sample task, every
  metric of the record is set to 0 (a verifier that passes an empty text, e.g. an IFEval "no
  commas" instruction, must not count it); for ``n`` samples each unterminated sample is scored
  on the empty answer (a failed program, a wrong number). Each record gets ``answer``,
  ``trace_terminated`` and the metric ``termination_rate`` (1/0, or the share of the ``n``
  samples), aggregated per task with its standard error like every other metric, so it shows
  in results.json, the table and the report.

A judge model (AlpacaEval, the safety classifier) reads the answer part too (:func:`judge_view`;
an unterminated sample shows it an empty answer). Log-likelihood tasks (MMLU-MC, TruthfulQA)
generate nothing and are scored as without the flag.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..api.outputs import GenOutput
from ..backends.base import apply_stop
from ..errors import UserError

DEFAULT_PATTERN = "<think>…</think>"
DEFAULT_TRACE_TOKENS = 2048


@dataclass(frozen=True)
class ReasoningConfig:
    open_tag: str = "<think>"
    close_tag: str = "</think>"
    trace_max_tokens: int = DEFAULT_TRACE_TOKENS

    @classmethod
    def from_pattern(cls, pattern: str | None = None, trace_max_tokens: int | None = None) -> "ReasoningConfig":
        pattern = pattern or DEFAULT_PATTERN
        for sep in ("…", "..."):
            if sep in pattern:
                open_tag, close_tag = pattern.split(sep, 1)
                break
        else:
            raise UserError(f"--reasoning-pattern: expected OPEN…CLOSE (e.g. {DEFAULT_PATTERN}), got {pattern!r}")
        if not open_tag.strip() or not close_tag.strip():
            raise UserError(f"--reasoning-pattern: both tags must be non-empty, got {pattern!r}")
        if trace_max_tokens is not None and trace_max_tokens < 1:
            raise UserError("--reasoning-max-tokens: must be at least 1")
        return cls(open_tag.strip(), close_tag.strip(), trace_max_tokens or DEFAULT_TRACE_TOKENS)

    @classmethod
    def from_dict(cls, d: dict) -> "ReasoningConfig":
        return cls(d["open_tag"], d["close_tag"], int(d["trace_max_tokens"]))

    def as_dict(self) -> dict:
        return {"open_tag": self.open_tag, "close_tag": self.close_tag, "trace_max_tokens": self.trace_max_tokens}


@dataclass(frozen=True)
class Split:
    answer: str
    trace: str
    terminated: bool
    had_trace: bool


def _opened_in_prompt(prompt: str, cfg: ReasoningConfig) -> bool:
    """The prompt leaves a trace open: its last opening tag comes after its last closing tag (a chat
    template's ``<think>``, possibly followed by a task's assistant prefix such as "Answer:")."""
    return bool(prompt) and prompt.rfind(cfg.open_tag) > prompt.rfind(cfg.close_tag)


def split_output(output: str, cfg: ReasoningConfig, prompt: str = "") -> Split:
    """Trace and answer of one raw output (rules in the module docstring)."""
    opened = _opened_in_prompt(prompt, cfg) or cfg.open_tag in output
    close_at = output.rfind(cfg.close_tag)
    if close_at >= 0:
        after = output[close_at + len(cfg.close_tag):]
        if cfg.open_tag in after:  # a later trace that never closed
            return Split("", output, False, True)
        return Split(after.lstrip(), output[:close_at], True, True)
    if opened:
        return Split("", output, False, True)
    return Split(output, "", True, False)


# --- generation ------------------------------------------------------------------------------
def _trace_request(request, cfg: ReasoningConfig):
    return replace(request, settings=replace(request.settings, max_tokens=cfg.trace_max_tokens, stop=()))


def _continuation(request, prefix: str):
    """The same request, its assistant turn (chat) or plain prompt extended by ``prefix``; one sample."""
    return replace(request, assistant_prefix=request.assistant_prefix + prefix, text=request.text + prefix,
                   settings=replace(request.settings, n=1))


def generate(backend, instances: list, model_fp: str, cache, cfg: ReasoningConfig, chunk_size=None,
             progress: bool = True) -> tuple[list[str], list[GenOutput], dict]:
    """Trace pass, then answer pass (see the module docstring); the same return as ``generate_all``."""
    from .generate import generate_all  # noqa: PLC0415  (runner imports this module lazily)

    is_gen = [inst.request.continuations is None for inst in instances]
    phase1 = [replace(inst, request=_trace_request(inst.request, cfg)) if g else inst
              for inst, g in zip(instances, is_gen)]
    prompts, outs, stats1 = generate_all(backend, phase1, model_fp, cache, chunk_size, progress)
    conts, where = [], []
    for i, (inst, g) in enumerate(zip(instances, is_gen)):
        if not g:
            continue
        for k, text in enumerate(outs[i].texts):
            cut = text.find(cfg.close_tag)
            if cut >= 0:
                prefix = text[:cut + len(cfg.close_tag)]
                conts.append(replace(inst, request=_continuation(inst.request, prefix)))
                where.append((i, k, prefix))
    stats2: dict[str, Any] = {}
    answers: list[GenOutput] = []
    if conts:
        _, answers, stats2 = generate_all(backend, conts, model_fp, cache, chunk_size, progress)
    final = []
    for i, (inst, g) in enumerate(zip(instances, is_gen)):
        out = outs[i]
        if g:
            texts = [t if (_opened_in_prompt(prompts[i], cfg) or cfg.open_tag in t)
                     else apply_stop(t, inst.request.settings.stop) for t in out.texts]
            out = GenOutput(texts=texts, num_tokens=list(out.num_tokens), finish_reasons=list(out.finish_reasons))
        final.append(out)
    for (i, k, prefix), ans in zip(where, answers):
        final[i].texts[k] = prefix + ans.texts[0]
        if k < len(final[i].num_tokens):
            final[i].num_tokens[k] += sum(ans.num_tokens)
        if k < len(final[i].finish_reasons) and ans.finish_reasons:
            final[i].finish_reasons[k] = ans.finish_reasons[0]
    stats = {key: stats1.get(key, 0) + stats2.get(key, 0) for key in ("cached", "generated", "scored", "generate_s")}
    stats = {**stats1, **stats, "trace_pass": stats1, "answer_pass": stats2 or None}
    return prompts, final, stats


# --- scoring ---------------------------------------------------------------------------------
def _zero(value):
    if isinstance(value, (list, tuple)):
        return [0.0 for _ in value]
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return 0.0
    return value


def answers(row: dict, cfg: ReasoningConfig) -> list[str]:
    """The answer part of each sample of a saved prediction row ("" where the trace never closed)."""
    splits = [split_output(o, cfg, row.get("prompt") or "") for o in (row.get("outputs") or [row["output"]])]
    return [s.answer if s.terminated else "" for s in splits]


def score_row(task, instance, row: dict, cfg: ReasoningConfig) -> dict:
    """The task's record for the answer part of a saved prediction row, plus termination fields."""
    if row.get("continuations") is not None:  # log-likelihood rows: nothing was generated
        return task.score_row(instance, row)
    outputs = row.get("outputs") or [row["output"]]
    splits = [split_output(o, cfg, row.get("prompt") or "") for o in outputs]
    answers = [s.answer if s.terminated else "" for s in splits]
    view = {**row, "output": answers[0]}
    if "outputs" in row:
        view["outputs"] = answers
    rec = task.score_row(instance, view)
    terminated = [s.terminated for s in splits]
    if len(splits) == 1 and not terminated[0]:
        rec["metrics"] = {k: _zero(v) for k, v in rec["metrics"].items()}
        rec["verdict"] = _zero(rec.get("verdict"))
    rec["metrics"]["termination_rate"] = sum(terminated) / len(terminated)
    rec["answer"] = answers[0]
    rec["trace_terminated"] = terminated[0] if len(terminated) == 1 else terminated
    return rec


def judge_view(rows_by_task: dict[str, list[dict]], cfg: ReasoningConfig) -> dict[str, list[dict]]:
    """Copies of the prediction rows whose ``output`` is the answer part, for a judge model to read
    (AlpacaEval, the safety classifier); :func:`copy_judgements` brings the verdicts back."""
    return {name: [{**row, "output": answers(row, cfg)[0]} if row.get("continuations") is None else row
                   for row in rows] for name, rows in rows_by_task.items()}


def copy_judgements(view: dict[str, list[dict]], rows_by_task: dict[str, list[dict]]) -> None:
    for name, rows in rows_by_task.items():
        for row, seen in zip(rows, view[name]):
            if "judge" in seen:
                row["judge"] = seen["judge"]


# --- command line ------------------------------------------------------------------------------
def cli_options(score: bool = False):
    """The ``--reasoning`` flags of ``run`` (and of ``score``, where the default is what the run recorded)."""
    import click  # noqa: PLC0415

    flag = (click.option("--reasoning/--no-reasoning", default=None,
                         help="Strip the reasoning trace before scoring (default: as the run was made).")
            if score else
            click.option("--reasoning", is_flag=True, default=None,
                         help="Reasoning model: generate the trace with its own budget, score only the answer "
                         "after it, count an unclosed trace as failed, report termination_rate."))
    pattern = click.option("--reasoning-pattern", help=f"Trace tags as OPEN…CLOSE (default {DEFAULT_PATTERN}).")
    budget = click.option("--reasoning-max-tokens", type=int,
                          help=f"Max new tokens of the trace (default {DEFAULT_TRACE_TOKENS}); the answer keeps "
                          "the task's own budget.")

    def wrap(f):
        for opt in (budget, pattern, flag) if not score else (pattern, flag):
            f = opt(f)
        return f

    return wrap


def config_from_flags(reasoning: bool | None, pattern: str | None, max_tokens: int | None = None):
    """ReasoningConfig for ``--reasoning``; False for ``--no-reasoning``; None when not given."""
    if reasoning is None:
        if pattern or max_tokens:
            raise UserError("--reasoning-pattern/--reasoning-max-tokens need --reasoning")
        return None
    if not reasoning:
        if pattern or max_tokens:
            raise UserError("--reasoning-pattern/--reasoning-max-tokens need --reasoning")
        return False
    return ReasoningConfig.from_pattern(pattern, max_tokens)
