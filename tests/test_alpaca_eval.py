"""AlpacaEval 2: the length-controlled win rate against alpaca_eval's formula, the annotator's
prompt order and parser, and real outputs + real judge verdicts of the bundled model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tulu_eval.alpaca_eval import (C_GRID, JUDGE_TEMPLATE, _features, _sigmoid, choose_l2, fit_soft_logistic,
                                   judge_prompt, length_controlled_winrate, model_label, parse_label)
from tulu_eval.data import read_rows
from tulu_eval.registry import Registry

from .conftest import run_cli

FIXTURE = Path(__file__).parent / "fixtures" / "alpaca_smollm2.json"


def _alpaca_eval_features(model_len, base_len, difficulty):
    """alpaca_eval's design matrix: np.tanh(std_delta_len) + instruction_difficulty + not_gamed_baseline."""
    delta = base_len - model_len  # len(output_1) - len(output_2), output_1 = the baseline
    return np.column_stack([np.tanh(delta / np.std(delta, ddof=1)), difficulty, np.ones(len(delta))])


def _synthetic(n, w_len, w_diff, w_model, seed, model_mean=1500.0):
    rng = np.random.default_rng(seed)
    base = rng.normal(1500, 400, n).clip(50)
    model = rng.normal(model_mean, 400, n).clip(50)
    diff = rng.normal(0, 1, n)
    X = _alpaca_eval_features(model, base, diff)
    prefs = (rng.random(n) < _sigmoid(X @ np.array([w_len, w_diff, w_model]))).astype(float)
    return prefs, model, base, diff


def test_fit_equals_sklearn_on_alpaca_evals_duplicated_soft_labels():
    """alpaca_eval fits probabilistic preferences by duplicating each row as a win (weight p) and a
    loss (weight 1 - p); our Newton fit must land on the same coefficients and the same LC."""
    sklearn = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    prefs, model, base, diff = _synthetic(400, -1.5, 0.9, -0.4, seed=1)
    prefs = np.where(rng.random(400) < 0.2, 0.5, prefs)  # some ties
    X = _alpaca_eval_features(model, base, diff)
    l2 = 1e-3
    ours = fit_soft_logistic(X, prefs, l2=l2)
    ref = sklearn.LogisticRegression(C=1 / l2, fit_intercept=False, tol=1e-12, max_iter=100_000)
    ref.fit(np.vstack([X, X]), np.r_[np.ones(400), np.zeros(400)], sample_weight=np.r_[prefs, 1 - prefs])
    assert np.allclose(ours, ref.coef_[0], atol=1e-5)
    X0 = X.copy()
    X0[:, 0] = 0
    lc = length_controlled_winrate(prefs, model, base, diff, l2=l2, n_bootstrap=0)
    assert lc["length_controlled_winrate"] == pytest.approx(ref.predict_proba(X0)[:, 1].mean(), abs=1e-6)
    assert lc["win_rate"] == pytest.approx(prefs.mean())


def test_cross_validated_ridge_matches_sklearn_fold_fits():
    """C is chosen as alpaca_eval's LogisticRegressionCV does (10 Cs in [1e-4, 1e4], 5 folds, first
    best held-out log loss); here every fold fit is redone by sklearn on duplicated soft labels."""
    sklearn = pytest.importorskip("sklearn.linear_model")
    prefs, model, base, diff = _synthetic(60, -1.5, 0.9, -0.4, seed=5)
    X = _features(model, base, diff)
    fold = np.arange(60) % 5
    losses = []
    for C in C_GRID:
        total = 0.0
        for f in range(5):
            tr, te = fold != f, fold == f
            m = sklearn.LogisticRegression(C=C, fit_intercept=False, tol=1e-12, max_iter=100_000)
            m.fit(np.vstack([X[tr], X[tr]]), np.r_[np.ones(tr.sum()), np.zeros(tr.sum())],
                  sample_weight=np.r_[prefs[tr], 1 - prefs[tr]])
            p = m.predict_proba(X[te])[:, 1]
            total -= np.sum(prefs[te] * np.log(p) + (1 - prefs[te]) * np.log(1 - p))
        losses.append(total)
    assert choose_l2(X, prefs) == pytest.approx(1 / C_GRID[int(np.argmin(losses))])
    assert length_controlled_winrate(prefs, model, base, diff, n_bootstrap=0)["l2"] == choose_l2(X, prefs)


def test_lc_recovers_the_generating_glm():
    w_len, w_diff, w_model = -1.5, 0.9, -0.5
    prefs, model, base, diff = _synthetic(40_000, w_len, w_diff, w_model, seed=2)
    lc = length_controlled_winrate(prefs, model, base, diff, n_bootstrap=0)
    expected = _sigmoid(w_diff * diff + w_model).mean()  # the GLM's prediction with no length difference
    assert lc["length_controlled_winrate"] == pytest.approx(expected, abs=0.01)
    assert list(lc["weights"].values()) == pytest.approx([w_len, w_diff, w_model], abs=0.08)


def test_lc_removes_a_pure_length_advantage():
    """A model that wins only by writing longer answers: raw win rate well above 1/2, LC at 1/2."""
    rng = np.random.default_rng(3)
    n = 20_000
    base = rng.normal(1000, 300, n).clip(50)
    model = base * rng.uniform(0.8, 2.5, n)  # mostly longer
    delta = base - model
    prefs = (rng.random(n) < _sigmoid(-1.6 * np.tanh(delta / delta.std(ddof=1)))).astype(float)
    lc = length_controlled_winrate(prefs, model, base, n_bootstrap=0)
    assert lc["win_rate"] > 0.7
    assert lc["length_controlled_winrate"] == pytest.approx(0.5, abs=0.02)


def test_equal_lengths_make_lc_the_raw_win_rate_and_bootstrap_gives_a_stderr():
    prefs = np.array([1, 0, 1, 1, 0.5, 0, 1, 1, 0, 1], float)
    lens = np.full(10, 300.0)
    lc = length_controlled_winrate(prefs, lens, lens, l2=1e-6, n_bootstrap=300, seed=0)
    assert lc["length_controlled_winrate"] == pytest.approx(prefs.mean(), abs=1e-4)  # logistic MLE of a constant
    binomial_se = np.sqrt(prefs.var(ddof=1) / 10)
    assert 0.5 * binomial_se < lc["lc_stderr"] < 1.5 * binomial_se
    none = length_controlled_winrate([], [], [])
    assert none["n"] == 0 and np.isnan(none["length_controlled_winrate"])
    all_lost = length_controlled_winrate(np.zeros(50), lens[:1].repeat(50) * 2, lens[:1].repeat(50), n_bootstrap=0)
    assert 0 <= all_lost["length_controlled_winrate"] < 1e-3  # separable data stays finite


@pytest.mark.parametrize("text,label", [
    ("M", "M"), ("m", "m"), (" m\n", "m"), ("**M**", "M"), ('"m"', "m"), ("Model M", "M"),
    ("The best model is m.", "m"), ("I'm sure it is M", "M"), ("Model", None), ("", None), ("I'm not sure", None),
])
def test_parse_label(text, label):
    assert parse_label(text) == label


def test_output_order_is_fixed_per_instruction_and_balanced(data_dir):
    docs = read_rows(data_dir / "alpaca_eval" / "alpaca_eval_gpt4_turbo.json")
    labels = [model_label(d["instruction"]) for d in docs]
    assert labels == [model_label(d["instruction"]) for d in docs]
    assert 0.4 < labels.count("m") / len(labels) < 0.6
    for doc in docs[:20]:
        label, text = judge_prompt(doc["instruction"], "MODEL-OUTPUT", doc["output"])
        assert label == model_label(doc["instruction"])
        first_is_model = text.index("MODEL-OUTPUT") < text.index(doc["output"])
        assert first_is_model == (label == "m")
        assert text.startswith(JUDGE_TEMPLATE.split("{{")[0])


def test_task_declaration(data_dir):
    task = Registry().get("alpaca_eval_v2::tulu")
    docs = task.load_docs(data_dir)
    assert len(docs) == 805 and task.judge.required
    assert task.generation.max_tokens == 8192 and task.generation.temperature == 0
    req = task.build_request(docs[0])
    assert req.messages == [{"role": "user", "content": docs[0]["instruction"]}]


def test_difficulty_file_enters_the_glm(tmp_path, data_dir):
    folder = tmp_path / "alpaca_eval"
    folder.mkdir()
    (folder / "alpaca_eval_gpt4_turbo.json").symlink_to(data_dir / "alpaca_eval" / "alpaca_eval_gpt4_turbo.json")
    (folder / "instruction_difficulty.csv").write_text("index,instruction_difficulty\n0,1.5\n1,-0.25\n")
    docs = Registry().get("alpaca_eval").load_docs(tmp_path)
    assert [d["instruction_difficulty"] for d in docs[:3]] == [1.5, -0.25, None]


def _fixture():
    return json.loads(FIXTURE.read_text())


def test_real_judge_verdicts_reproduce(data_dir):
    """Outputs of the bundled model and verdicts of the bundled model as judge (a weak but real
    judge): parsing the saved raw verdicts and refitting the GLM reproduce the recorded metrics."""
    fx = _fixture()
    task = Registry().get("alpaca_eval")
    docs = task.load_docs(data_dir)
    records = []
    for row in fx["rows"]:
        row = {**row, "gold": task.gold(docs[int(row["id"])])}
        assert parse_label(row["judge"]["raw"]) == row["judge"]["named"]
        assert row["judge"]["model_label"] == model_label(row["gold"]["instruction"])
        rec = task.score_row(None, row)
        assert rec["metrics"]["win_rate"] == row["judge"]["preference"]
        records.append({**row, **rec})
    metrics = task.aggregate(records)
    for name, value in fx["metrics"].items():
        assert metrics[name].value == pytest.approx(value["value"], nan_ok=True), name
        assert metrics[name].n == value["n"]


def test_cli_needs_a_judge_and_scores_with_one(tmp_path, bundled_model, data_dir):
    base = ["--tasks", "alpaca_eval", "--limit", "2", "--max-tokens", "12", "--backend", "hf",
            "--cache", str(tmp_path / "c.sqlite"), "--no-report"]
    missing = run_cli("run", *base, "-o", str(tmp_path / "no"))
    assert missing.returncode == 2 and "alpaca_eval needs a judge model" in missing.stderr
    res = run_cli("run", *base, "--judge-model", str(bundled_model), "--judge-backend", "hf", "-o", str(tmp_path / "run"))
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads((tmp_path / "run" / "results.json").read_text())
    summary = out["tasks"]["alpaca_eval"]
    assert summary["primary_metric"] == "length_controlled_winrate"
    rows = [json.loads(x) for x in (tmp_path / "run" / "predictions" / "alpaca_eval.jsonl").open()]
    for row in rows:
        j = row["judge"]
        assert j["model_label"] == model_label(row["gold"]["instruction"])
        assert j["preference"] == (None if j["named"] is None else float(j["named"] == j["model_label"]))
    lc = summary["primary"]["value"]
    if lc == lc:  # the weak judge named a model at least once
        assert out["suites"]["dev"]["tasks"] == ["alpaca_eval"] and "drop" in out["suites"]["dev"]["missing"]
    else:  # never a silent zero: its only entry has no value, so there is no dev average
        assert "dev" not in out["suites"] and summary["metrics"]["judge_parsed"]["value"] == 0


def test_dev_suite_without_judge_skips_alpaca_eval_with_its_reason(data_dir):
    from tulu_eval.runner import RunConfig, make_plan

    plan = make_plan(RunConfig(suite="dev", limit=1))
    assert "alpaca_eval" not in plan.instances and "safety" in plan.instances
    assert "needs a judge model" in plan.skipped["alpaca_eval"] and "--judge-model" in plan.skipped["alpaca_eval"]
