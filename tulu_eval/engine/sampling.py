"""``--samples k``: k sampled generations per problem, scored as avg@k and pass@k.

* generation (:func:`apply`): every generative task asks for ``n = k`` samples. A task that
  already samples keeps its temperature and top_p (HumanEval: 0.8 / 0.95); a greedy task samples
  at temperature 0.6, top_p 0.95 (the setting OLMo 3's and DeepSeek-R1's avg@k numbers use).
  Both are in results.json (``tasks.<name>.generation``). Log-likelihood tasks and judge tasks
  (AlpacaEval, safety: the judge reads one output) are left as they are.
* scoring (:func:`add_metrics`): each sample is verified on its own (a code task's record
  already counts its passing programs). Per problem, ``avg_at_k`` is the mean of the k samples'
  primary scores and ``pass_at_k`` the unbiased estimator of Chen et al. (``tulu_eval/scoring/passk.py``)
  with n = k and c = the samples whose primary score is 1 (so for a partial-credit metric such
  as DROP's F1, pass@k counts exact hits); ``pass_at_1`` is added when the task has none. The
  task-level numbers are means over problems with their standard errors over problems, like
  every other metric. The task's primary metric is already the mean over samples (= avg@k).
* with ``--reasoning`` the samples are the answers after the trace (an unclosed trace counts as
  a failed sample).
"""

from __future__ import annotations

from dataclasses import replace

from ..scoring.passk import pass_at_k

SAMPLE_TEMPERATURE = 0.6
SAMPLE_TOP_P = 0.95


def applies_to(task) -> bool:
    from ..api.multiple_choice import MultipleChoiceTask  # noqa: PLC0415

    return not isinstance(task, MultipleChoiceTask) and task.judge is None


def apply(task, k: int):
    """The task asking for ``k`` samples per problem (unchanged where sampling does not apply)."""
    if not applies_to(task):
        return task
    s = task.generation
    if s.temperature > 0:
        settings = replace(s, n=k)
    else:
        settings = replace(s, n=k, temperature=SAMPLE_TEMPERATURE, top_p=SAMPLE_TOP_P)
    return task.with_overrides(generation=settings)


def _scalar(value) -> float:
    if isinstance(value, (list, tuple)):
        return sum(float(v) for v in value) / len(value) if value else 0.0
    return float(value)


def add_metrics(task, instance, answers: list[str], rec: dict) -> dict:
    """``avg_at_k``, ``pass_at_k`` (and ``pass_at_1``) of one problem's k answers, added to its record."""
    n = len(answers)
    if n < 2 or not applies_to(task):
        return rec
    details = rec.get("details") or {}
    if isinstance(details.get("correct"), int) and details.get("n") == n:  # code tasks: already counted
        correct = details["correct"]
        avg = correct / n
    else:
        scores = [_scalar(task.score(instance, [a])["metrics"][task.primary_metric]) for a in answers]
        correct = sum(s >= 1.0 for s in scores)
        avg = sum(scores) / n
    metrics = rec["metrics"]
    metrics[f"avg_at_{n}"] = avg
    metrics[f"pass_at_{n}"] = pass_at_k(n, correct, n)
    metrics.setdefault("pass_at_1", pass_at_k(n, correct, 1))
    rec["samples_correct"] = correct
    return rec
