"""DROP: exact match and the bag-of-words F1 of Dua et al. (2019), as lm-eval and OLMES score it.

Ground truth is a list of acceptable gold answers; each answer is a list of spans (a number or a
date is a one-span answer). Accepted forms: ``[["4"], ["four"]]``, ``[("Smith", "Jones")]``, a
plain list of strings (each string a one-span alternative), or one string (never JSON text
of these: one gold encoding, see ``tulu_eval/api/verifier.py``). The prediction is the whole response, stripped, as *one* span, as lm-eval's
``process_results`` and OLMES's DROP task take it: a multi-span answer written "A, B" is not
split (so it can reach F1 1.0 only against a one-span gold). A list of strings passed as the
response to :func:`drop_metrics` is scored as several predicted spans.

Normalization of a span (the official ``drop_eval.py`` rule): split at every space and hyphen;
each piece is lower-cased; a piece that does not parse as a float loses its ASCII punctuation;
a piece that parses as a float after that becomes ``str(float(piece))`` ("1,000" -> "1000.0",
"5." -> "5.0"); the articles a/an/the are removed and whitespace collapsed; empty pieces go.
"Parses as a float" is Python's ``float()``, with its quirks ("nan", "inf", "1e3", "1_000",
surrounding whitespace and non-ASCII digits all parse).

* ``em``: 1 if the predicted and gold normalized spans are equal as sets and in number.
* ``f1``: each span becomes its bag (set) of normalized words; a gold bag that contains numbers
  scores 0 against a predicted bag sharing none of them, else the usual word-overlap F1 (an empty
  bag has precision resp. recall 1). Gold and predicted bags are paired one-to-one to maximize
  the summed F1 (an exact assignment, :func:`best_assignment`); the sum is divided by the larger
  of the two bag counts and rounded to two decimals the way numpy rounds (``rint(100 x) / 100``).
* Over several gold answers the maxima of em and f1 are taken separately; a gold answer whose
  first span is blank is ignored; no usable gold answer scores 0.

This is our own implementation. ``tests/test_drop.py`` checks it instance by instance against
lm-eval 0.4.13's ``lm_eval.tasks.drop.utils.process_results``.
"""

from __future__ import annotations

import re
import string
from typing import Any, Sequence

from ..api.verifier import Verifier, VerifierResult

_ARTICLE = re.compile(r"\b(?:a|an|the)\b", re.UNICODE)
_PIECE_SEP = re.compile(r"[ -]")
_PUNCT = frozenset(string.punctuation)


def _parses_as_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _normalize_piece(piece: str) -> str:
    piece = piece.lower()
    if not _parses_as_float(piece):
        piece = "".join(ch for ch in piece if ch not in _PUNCT)
    if _parses_as_float(piece):
        piece = str(float(piece))
    return " ".join(_ARTICLE.sub(" ", piece).split())


def normalize_span(span: str) -> str:
    """The normalized form of one answer span (see the module docstring)."""
    pieces = (_normalize_piece(p) for p in _PIECE_SEP.split(span))
    return " ".join(p for p in pieces if p.strip()).strip()


def _bag_f1(pred: frozenset[str], gold: frozenset[str]) -> float:
    common = len(pred & gold)
    precision = common / len(pred) if pred else 1.0
    recall = common / len(gold) if gold else 1.0
    if precision == 0.0 and recall == 0.0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _pair_score(pred: frozenset[str], gold: frozenset[str]) -> float:
    """F1 of one predicted bag against one gold bag, 0 when the gold's numbers are all missed."""
    gold_numbers = {w for w in gold if _parses_as_float(w)}
    if gold_numbers and not gold_numbers & {w for w in pred if _parses_as_float(w)}:
        return 0.0
    return _bag_f1(pred, gold)


def best_assignment(scores: Sequence[Sequence[float]]) -> list[tuple[int, int]]:
    """A one-to-one pairing of rows and columns with the largest total score (Hungarian method,
    rectangular matrices padded with zeros); returns the (row, column) pairs of real cells."""
    n_rows = len(scores)
    n_cols = len(scores[0]) if n_rows else 0
    if not n_rows or not n_cols:
        return []
    size = max(n_rows, n_cols)
    # cost of a padded square matrix, minimized; 1-based arrays as in the textbook formulation
    cost = [[0.0] * (size + 1) for _ in range(size + 1)]
    for i in range(n_rows):
        for j in range(n_cols):
            cost[i + 1][j + 1] = -float(scores[i][j])
    inf = float("inf")
    u = [0.0] * (size + 1)
    v = [0.0] * (size + 1)
    match_of_col = [0] * (size + 1)  # column -> row (0: free)
    way = [0] * (size + 1)
    for row in range(1, size + 1):
        match_of_col[0] = row
        col0 = 0
        min_slack = [inf] * (size + 1)
        used = [False] * (size + 1)
        while True:
            used[col0] = True
            r0, delta, col1 = match_of_col[col0], inf, 0
            for col in range(1, size + 1):
                if used[col]:
                    continue
                slack = cost[r0][col] - u[r0] - v[col]
                if slack < min_slack[col]:
                    min_slack[col], way[col] = slack, col0
                if min_slack[col] < delta:
                    delta, col1 = min_slack[col], col
            for col in range(size + 1):
                if used[col]:
                    u[match_of_col[col]] += delta
                    v[col] -= delta
                else:
                    min_slack[col] -= delta
            col0 = col1
            if match_of_col[col0] == 0:
                break
        while col0:
            prev = way[col0]
            match_of_col[col0] = match_of_col[prev]
            col0 = prev
    pairs = [(match_of_col[c] - 1, c - 1) for c in range(1, size + 1)]
    return sorted((r, c) for r, c in pairs if r < n_rows and c < n_cols)


def _spans(answer: Any) -> list[str]:
    if isinstance(answer, str):
        return [answer]
    return [str(s) for s in answer]


def _round2(x: float) -> float:
    """numpy's ``round(x, 2)``: scale, round half to even, unscale."""
    return round(x * 100.0) / 100.0


def em_f1(prediction: Any, gold: Any) -> tuple[float, float]:
    """(em, f1) of a prediction (a string or list of spans) against one gold answer."""
    pred_spans = [normalize_span(s) for s in _spans(prediction)]
    gold_spans = [normalize_span(s) for s in _spans(gold)]
    em = float(len(pred_spans) == len(gold_spans) and set(pred_spans) == set(gold_spans))
    pred_bags = [frozenset(s.split()) for s in pred_spans]
    gold_bags = [frozenset(s.split()) for s in gold_spans]
    scores = [[_pair_score(p, g) for p in pred_bags] for g in gold_bags]
    per_gold = [0.0] * max(len(gold_bags), len(pred_bags))
    for g, p in best_assignment(scores):
        per_gold[g] = scores[g][p]
    total = 0.0
    for value in per_gold:  # left to right, as numpy sums fewer than 8 numbers
        total += value
    return em, _round2(total / len(per_gold)) if per_gold else 0.0


def gold_answers(ground_truth: Any) -> list[list[str]]:
    """Ground truth (a string, or a list of answers each a string or list of spans) -> list of gold answers, each a list of spans."""
    if isinstance(ground_truth, str):  # one answer of one span (never JSON text, see api/verifier.py)
        return [[ground_truth]]
    return [_spans(a) for a in ground_truth]


def drop_metrics(prediction: Any, ground_truth: Any) -> dict[str, Any]:
    """em and f1 maximized over the gold answers, plus the gold answer that gave the f1."""
    best_em, best_f1, best = 0.0, 0.0, None
    for answer in gold_answers(ground_truth):
        if not answer or not answer[0].strip():
            continue
        em, f1 = em_f1(prediction, answer)
        best_em = max(best_em, em)
        if best is None or f1 > best_f1:
            best_f1, best = max(best_f1, f1), answer
    return {"em": best_em, "f1": best_f1, "matched_gold": best}


class DROPVerifier(Verifier):
    """Score = DROP F1 of the stripped response (one span); details carry ``em`` and ``f1``."""

    name = "drop"

    def _verify(self, response: str, ground_truth: Any) -> VerifierResult:
        prediction = response.strip()
        result = drop_metrics(prediction, ground_truth)
        return VerifierResult(result["f1"], {
            "extracted": prediction,
            "em": result["em"],
            "f1": result["f1"],
            "normalized": normalize_span(prediction),
            "matched_gold": result["matched_gold"],
        })
