"""AlpacaEval 2: the pairwise annotator and the length-controlled win rate.

Annotator: a judge model reads one instruction and two outputs (the evaluated model's and the
GPT-4-turbo reference), labelled ``m`` and ``M``, and names the better one. The prompt has the
structure of alpaca_eval's ``alpaca_eval_clf_gpt4_turbo`` template (system turn, JSON-ish
instruction and outputs blocks, "answer with the identifier only"), in our own words. Which
output is shown first is fixed per instance by a hash of the instruction (about half the
instances each way, so position bias cancels on average; alpaca_eval also randomizes the
order), and recorded in the verdict. The verdict is parsed from text; a weighted preference
from the judge's logprobs (alpaca_eval's ``weighted_`` annotator) is not implemented.

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

Deviations from alpaca_eval, by necessity (no HF hub here): (1) the instruction difficulties
(alpaca_eval's ``instruction_difficulty.csv``, fitted on its whole leaderboard) are used only when
the user supplies that file, else the term is dropped and LC = sigmoid(w_model); (2) no
regularization toward the "gamed" verbose/concise baselines (``df_gamed.csv``, lambda 0.2);
(3) an L2 penalty instead of L1 (so that Newton's method applies), with C chosen like
alpaca_eval's ``LogisticRegressionCV`` from 10 values in [1e-4, 1e4] by 5-fold cross-validated
log loss. On 805 instances the choice barely matters; on a few dozen (``--limit``) it keeps the
fit from extrapolating wildly to "equal length" when the data hold no such instance, which
alpaca_eval's regularization toward the gamed baselines also prevents. The standard error of LC is a bootstrap over
instances (features recomputed and GLM refitted per resample).
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

from .judge import Judge
from .task import GenSettings, Request

JUDGE_SYSTEM = ("You are a careful, efficient judge. You compare the answers that large language models give to "
                "the same instruction and pick the better one, for a leaderboard that should reflect which answers "
                "people prefer.")

JUDGE_TEMPLATE = '''I am ranking large language models. Below is an instruction that two models were given, and the output of each model. Pick the model whose output a careful human reader would prefer.

## Instruction

{{
    "instruction": """{instruction}""",
}}

## Model outputs

The outputs are listed in no particular order; each carries the identifier of the model that wrote it.

{{
    {{
        "model_identifier": "m",
        "output": """{output_m}"""
    }},
    {{
        "model_identifier": "M",
        "output": """{output_M}"""
    }}
}}

## Task

Judge both outputs on quality and relevance to the instruction, and choose the model that produced the better one. Reply with that model's identifier and nothing else: exactly one of m or M, without quotes, spaces, punctuation or new lines.

## Best model identifier
'''

# the first standalone m or M (not inside a word such as "I'm" or "Model")
_LABEL = re.compile(r"(?<![A-Za-z0-9_'\u2019])([mM])(?![A-Za-z0-9_'\u2019])")


def model_label(instruction: str) -> str:
    """Identifier under which the evaluated model's output is shown: "m" (first) or "M" (second)."""
    return "m" if hashlib.sha256(instruction.encode("utf-8")).digest()[0] % 2 == 0 else "M"


def judge_prompt(instruction: str, output: str, reference: str) -> tuple[str, str]:
    """(label of the model's output, user message) for one comparison."""
    label = model_label(instruction)
    first, second = (output, reference) if label == "m" else (reference, output)
    return label, JUDGE_TEMPLATE.format(instruction=instruction, output_m=first, output_M=second)


def parse_label(text: str) -> str | None:
    """The identifier the judge named ("m" or "M"), or None when it named neither."""
    match = _LABEL.search(text or "")
    return match.group(1) if match else None


class AlpacaEvalJudge(Judge):
    """Pairwise annotator; ``row["gold"]`` holds the instruction and the reference output."""

    required = True

    def __init__(self, max_tokens: int = 16):
        self.settings = GenSettings(max_tokens=max_tokens, temperature=0.0)

    def requests(self, row: dict) -> list[Request]:
        gold = row["gold"]
        _, user = judge_prompt(gold["instruction"], row["output"], gold["reference"])
        messages = [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]
        return [Request(messages=messages, text=f"{JUDGE_SYSTEM}\n\n{user}", settings=self.settings)]

    def attach(self, row: dict, outputs: list[str]) -> dict:
        label = model_label(row["gold"]["instruction"])
        named = parse_label(outputs[0])
        preference = None if named is None else float(named == label)
        return {"raw": outputs[0], "model_label": label, "named": named, "preference": preference}


# --- length-controlled win rate ----------------------------------------------------------

def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_soft_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-4, max_iter: int = 200,
                      tol: float = 1e-12) -> np.ndarray:
    """Logistic regression without intercept on soft labels ``y`` in [0, 1] (Newton + backtracking).

    Minimizes ``-sum(y log p + (1 - y) log(1 - p)) + l2/2 * |beta|^2``, which equals sklearn's
    ``LogisticRegression(C=1/l2, fit_intercept=False)`` on the rows duplicated with labels 1 and
    0 weighted by ``y`` and ``1 - y`` (alpaca_eval's trick for probabilistic preferences).
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    beta = np.zeros(X.shape[1])

    def loss(b):
        z = X @ b
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * l2 * b @ b)

    current = loss(beta)
    for _ in range(max_iter):
        p = _sigmoid(X @ beta)
        grad = X.T @ (p - y) + l2 * beta
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-10:
            candidate = beta - t * step
            new = loss(candidate)
            if new <= current + 1e-4 * t * (grad @ -step):
                break
            t *= 0.5
        beta, done = candidate, abs(current - new) <= tol * max(1.0, abs(current))
        current = new
        if done or np.max(np.abs(t * step)) < 1e-12:
            break
    return beta


def _features(model_lengths: np.ndarray, baseline_lengths: np.ndarray, difficulty: np.ndarray | None) -> np.ndarray:
    delta = baseline_lengths - model_lengths
    sd = float(np.std(delta, ddof=1)) if len(delta) > 1 else 0.0
    length = np.tanh(delta / sd) if sd > 0 else np.zeros(len(delta))
    cols = [length] + ([difficulty] if difficulty is not None else []) + [np.ones(len(delta))]
    return np.column_stack(cols)


def _lc(prefs, mlen, blen, diff, l2) -> tuple[float, np.ndarray]:
    X = _features(mlen, blen, diff)
    beta = fit_soft_logistic(X, prefs, l2=l2)
    X0 = X.copy()
    X0[:, 0] = 0.0  # no length difference
    return float(np.mean(_sigmoid(X0 @ beta))), beta


C_GRID = np.logspace(-4, 4, 10)  # sklearn LogisticRegressionCV's default Cs=10


def choose_l2(X: np.ndarray, y: np.ndarray, n_splits: int = 5) -> float:
    """Ridge strength 1/C, C from ``C_GRID`` by ``n_splits``-fold cross-validated soft log loss
    (folds: instance i in fold i mod k; the first best C wins, as in LogisticRegressionCV)."""
    n = len(y)
    k = min(n_splits, n)
    if k < 2:
        return float(1.0 / C_GRID[-1])
    fold = np.arange(n) % k
    losses = []
    for C in C_GRID:
        total = 0.0
        for f in range(k):
            train, test = fold != f, fold == f
            beta = fit_soft_logistic(X[train], y[train], l2=1.0 / C)
            z = X[test] @ beta
            total += float(np.sum(np.logaddexp(0, z) - y[test] * z))
        losses.append(total)
    return float(1.0 / C_GRID[int(np.argmin(losses))])


def length_controlled_winrate(preferences: Sequence[float], model_lengths: Sequence[float],
                              baseline_lengths: Sequence[float], difficulty: Sequence[float] | None = None,
                              l2: float | None = None, n_bootstrap: int = 200, seed: int = 0) -> dict:
    """Raw and length-controlled win rate (both in [0, 1]) of a model against the baseline.

    ``preferences[i]`` is P(model's output beats the baseline's) on instance ``i`` (1 win, 0 loss,
    0.5 tie); lengths are in characters; ``difficulty`` is alpaca_eval's per-instruction
    difficulty, or None to drop that term. Returns ``win_rate``, ``length_controlled_winrate``,
    ``lc_stderr`` (bootstrap; nan without resamples), ``weights``, ``l2`` and ``n``. ``l2`` None
    picks the ridge by cross-validation (:func:`choose_l2`); the bootstrap keeps that choice.
    """
    prefs = np.asarray(preferences, float)
    mlen, blen = np.asarray(model_lengths, float), np.asarray(baseline_lengths, float)
    diff = None if difficulty is None else np.asarray(difficulty, float)
    n = len(prefs)
    if n == 0:
        nan = float("nan")
        return {"win_rate": nan, "length_controlled_winrate": nan, "lc_stderr": nan, "weights": {}, "l2": nan, "n": 0}
    if l2 is None:
        l2 = float(choose_l2(_features(mlen, blen, diff), prefs))
    lc, beta = _lc(prefs, mlen, blen, diff, l2)
    names = ["np.tanh(std_delta_len)"] + (["instruction_difficulty"] if diff is not None else []) + ["model"]
    stderr = float("nan")
    if n_bootstrap and n > 1:
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(n_bootstrap):
            idx = rng.integers(0, n, n)
            draws.append(_lc(prefs[idx], mlen[idx], blen[idx], None if diff is None else diff[idx], l2)[0])
        stderr = float(np.std(draws, ddof=1))
    return {"win_rate": float(prefs.mean()), "length_controlled_winrate": lc, "lc_stderr": stderr,
            "weights": {k: float(v) for k, v in zip(names, beta)}, "l2": l2, "n": n}
