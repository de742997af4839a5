"""AlpacaEval 2's length-controlled win rate: a corpus-level metric over the judge's preferences.

Length control (Dubois et al. 2024, "Length-Controlled AlpacaEval", alpaca_eval
``metrics/glm_winrate.py``, GLM ``length_controlled_v1``): fit a logistic GLM without intercept
to the preferences ``p_i`` = P(model beats reference) with the features

    tanh(std_delta_len_i)   delta = len(reference) - len(model) in characters, divided by its
                            sample standard deviation over the instances
    instruction_difficulty_i  (only when the per-instruction difficulties are given)
    1                        the model-identity term ("not_gamed_baseline")

with the preferences as soft labels (each instance counts as a win with weight p and as a loss
with weight 1 - p). The length-controlled win rate is the mean prediction with the length term
set to 0: ``mean_i sigmoid(w_difficulty * d_i + w_model)``.

The fit is alpaca_eval 0.6.6's: L1 penalty (its liblinear ``LogisticRegression``), C chosen like
its ``LogisticRegressionCV`` from 10 values in [1e-4, 1e4] by 5-fold (GroupKFold over instances)
cross-validated soft log loss; instances without a verdict count in the length scale and in the
average over instructions, not in the fit. ``tests/test_alpaca_eval.py`` runs alpaca_eval 0.6.6
itself on real AlpacaEval 2 annotations of six leaderboard models and gets the same C, weights
within 1e-6 and LC within 1e-5 points (at a tight liblinear tolerance; 0.1 points at its default).
Until that test existed the fit used an L2 penalty, which moved LC by up to 1.7 points there.

Deviations from alpaca_eval, by necessity (no HF hub here): (1) the instruction difficulties
(alpaca_eval's ``instruction_difficulty.csv``, fitted on its whole leaderboard) are used only when
the user supplies that file, else the term is dropped and LC = sigmoid(w_model) (alpaca_eval's
``length_controlled_minimal``); (2) no regularization toward the "gamed" verbose/concise
baselines (``df_gamed.csv``, lambda 0.2), which on a few dozen instances (``--limit``) keeps
alpaca_eval's fit from extrapolating to "equal length"; here only the cross-validated L1 penalty
does. The standard error of LC is a bootstrap over instances (features recomputed and GLM refitted
per resample, with the chosen C); alpaca_eval reports the standard error of the per-instance GLM
predictions instead, which is 0 without the difficulty term.
"""

from __future__ import annotations

import functools
import itertools
from typing import Sequence

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _objective(X: np.ndarray, y: np.ndarray, beta: np.ndarray, l1: float) -> float:
    z = X @ beta
    return float(np.sum(np.logaddexp(0, z) - y * z) + l1 * np.sum(np.abs(beta)))


def _l1_quadratic_step(g: np.ndarray, H: np.ndarray, b: np.ndarray, l1: float) -> np.ndarray:
    """argmin_s g.s + s'Hs/2 + l1 |b + s|_1, exactly: with at most three weights, every sign pattern
    of z = b + s (each weight -, 0 or +) is tried; on a pattern the problem is a linear solve, and the
    best sign-consistent solution is the minimum (coordinate descent, liblinear's way, crawls when
    the length feature is nearly constant, as in small bootstrap resamples)."""
    best, best_val = -b, -g @ b + 0.5 * b @ H @ b  # z = 0
    for S, sigma in _sign_patterns(len(b)):
        try:
            zS = np.linalg.solve(H[np.ix_(S, S)], H[S] @ b - g[S] - l1 * sigma)
        except np.linalg.LinAlgError:
            continue
        if np.any(np.sign(zS) != sigma):
            continue
        step = -b.copy()
        step[S] += zS
        val = g @ step + 0.5 * step @ H @ step + l1 * np.abs(zS).sum()
        if val < best_val:
            best, best_val = step, val
    return best


@functools.lru_cache(maxsize=None)
def _sign_patterns(d: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(support as indices, signs on it) for every non-empty support and sign vector of d weights."""
    out = []
    for signs in itertools.product((-1.0, 0.0, 1.0), repeat=d):
        sigma = np.array(signs)
        if sigma.any():
            out.append((np.flatnonzero(sigma), sigma[sigma != 0]))
    return out


def fit_soft_logistic(X: np.ndarray, y: np.ndarray, l1: float = 1e-4, max_iter: int = 100,
                      tol: float = 1e-10, start: np.ndarray | None = None) -> np.ndarray:
    """Logistic regression without intercept on soft labels ``y`` in [0, 1], L1 penalty.

    Minimizes ``-sum(y log p + (1 - y) log(1 - p)) + l1 * |beta|_1``, which is what alpaca_eval's
    ``LogisticRegression(penalty="l1", solver="liblinear", C=1/l1, fit_intercept=False)`` minimizes
    on the rows duplicated with labels 1 and 0 weighted by ``y`` and ``1 - y`` (its trick for
    probabilistic preferences). Solved like liblinear's newGLMNET: the L1 problem on a quadratic model
    of the smooth part (solved exactly, :func:`_l1_quadratic_step`; the GLM has at most three
    weights), then a backtracking line search. ``start``: initial weights (default 0).
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    d = X.shape[1]
    beta = np.zeros(d) if start is None else np.array(start, float)
    current = _objective(X, y, beta, l1)
    for _ in range(max_iter):
        p = _sigmoid(X @ beta)
        grad = X.T @ (p - y)
        hess = (X * (p * (1 - p))[:, None]).T @ X + 1e-12 * np.eye(d)
        # optimality: the L1 subgradient condition, coordinate by coordinate
        viol = np.where(beta != 0, np.abs(grad + l1 * np.sign(beta)), np.maximum(np.abs(grad) - l1, 0))
        if np.max(viol, initial=0.0) <= tol * max(1.0, float(np.abs(grad).max(initial=0.0))):
            break
        step = _l1_quadratic_step(grad, hess, beta, l1)
        decrease = grad @ step + l1 * (np.abs(beta + step).sum() - np.abs(beta).sum())
        t = 1.0
        while t > 1e-12:
            candidate = beta + t * step
            new = _objective(X, y, candidate, l1)
            if new <= current + 0.01 * t * decrease:
                break
            t *= 0.5
        else:
            break
        beta, previous, current = candidate, current, new
        if previous - current <= 1e-15 * max(1.0, abs(current)):
            break
    return beta


def _features(model_lengths: np.ndarray, baseline_lengths: np.ndarray, difficulty: np.ndarray | None) -> np.ndarray:
    delta = baseline_lengths - model_lengths
    sd = float(np.std(delta, ddof=1)) if len(delta) > 1 else 0.0
    length = np.tanh(delta / sd) if sd > 0 else np.zeros(len(delta))
    cols = [length] + ([difficulty] if difficulty is not None else []) + [np.ones(len(delta))]
    return np.column_stack(cols)


def _lc(prefs, mlen, blen, diff, l1, start=None) -> tuple[float, np.ndarray]:
    """LC and weights. Rows whose preference is nan enter the length scale and the average over
    instructions, not the fit (as in alpaca_eval, which filters unannotated rows after featurizing)."""
    X = _features(mlen, blen, diff)
    judged = ~np.isnan(prefs)
    beta = fit_soft_logistic(X[judged], prefs[judged], l1=l1, start=start)
    X0 = X.copy()
    X0[:, 0] = 0.0  # no length difference
    return float(np.mean(_sigmoid(X0 @ beta))), beta


C_GRID = np.logspace(-4, 4, 10)  # sklearn LogisticRegressionCV's default Cs=10


def choose_l1(X: np.ndarray, y: np.ndarray, n_splits: int = 5) -> float:
    """L1 strength 1/C, C from ``C_GRID`` as alpaca_eval's ``LogisticRegressionCV`` picks it: folds
    of ``GroupKFold`` over instances (instance i in fold i mod k), score = mean over folds of the
    fold's mean soft log loss, the first best C wins."""
    n = len(y)
    k = min(n_splits, n)
    if k < 2:
        return float(1.0 / C_GRID[-1])
    fold = np.arange(n) % k
    losses = []
    for C in C_GRID:
        per_fold = []
        for f in range(k):
            train, test = fold != f, fold == f
            beta = fit_soft_logistic(X[train], y[train], l1=1.0 / C)
            p = np.clip(_sigmoid(X[test] @ beta), 1e-15, 1 - 1e-15)
            per_fold.append(-float(np.mean(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p))))
        losses.append(float(np.mean(per_fold)))
    return float(1.0 / C_GRID[int(np.argmin(losses))])


def length_controlled_winrate(preferences: Sequence[float | None], model_lengths: Sequence[float],
                              baseline_lengths: Sequence[float], difficulty: Sequence[float] | None = None,
                              l1: float | None = None, n_bootstrap: int = 200, seed: int = 0) -> dict:
    """Raw and length-controlled win rate (both in [0, 1]) of a model against the baseline.

    ``preferences[i]`` is P(model's output beats the baseline's) on instance ``i`` (1 win, 0 loss,
    0.5 tie), None or nan when the judge gave no verdict: such an instance still counts in the
    length scale and in the average over instructions, as in alpaca_eval, but not in the fit or the
    raw win rate. Lengths are in characters; ``difficulty`` is alpaca_eval's per-instruction
    difficulty, or None to drop that term. Returns ``win_rate``, ``length_controlled_winrate``,
    ``lc_stderr`` (bootstrap; nan without resamples), ``weights``, ``l1`` and ``n`` (judged
    instances). ``l1`` None picks the penalty by cross-validation (:func:`choose_l1`); the bootstrap
    keeps that choice.
    """
    prefs = np.array([np.nan if p is None else p for p in preferences], float)
    mlen, blen = np.asarray(model_lengths, float), np.asarray(baseline_lengths, float)
    diff = None if difficulty is None else np.asarray(difficulty, float)
    judged = ~np.isnan(prefs)
    n = int(judged.sum())
    if n == 0:
        nan = float("nan")
        return {"win_rate": nan, "length_controlled_winrate": nan, "lc_stderr": nan, "weights": {}, "l1": nan, "n": 0}
    if l1 is None:
        l1 = float(choose_l1(_features(mlen, blen, diff)[judged], prefs[judged]))
    lc, beta = _lc(prefs, mlen, blen, diff, l1)
    names = ["np.tanh(std_delta_len)"] + (["instruction_difficulty"] if diff is not None else []) + ["model"]
    stderr = float("nan")
    if n_bootstrap and n > 1:
        rng = np.random.default_rng(seed)
        draws = []
        while len(draws) < n_bootstrap:
            idx = rng.integers(0, len(prefs), len(prefs))
            if np.isnan(prefs[idx]).all():
                continue
            draws.append(_lc(prefs[idx], mlen[idx], blen[idx], None if diff is None else diff[idx], l1, start=beta)[0])
        stderr = float(np.std(draws, ddof=1))
    return {"win_rate": float(np.mean(prefs[judged])), "length_controlled_winrate": lc, "lc_stderr": stderr,
            "weights": {k: float(v) for k, v in zip(names, beta)}, "l1": l1, "n": n}
