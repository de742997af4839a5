"""Verifier errors are counted, never silent zeros: results.json, the terminal table, the report, training.

A verifier "made to raise" is the real GSM8K verifier whose extraction fails on some responses; the
run is a real one (bundled model, transformers backend, short generations).
"""

from __future__ import annotations

import json
import sys

import pytest

from tulu_eval.engine.plan import RunConfig
from tulu_eval.engine.run import rescore, run
from tulu_eval.results.folder import ERROR_SHARE_LIMIT, format_table
from tulu_eval.api.verifier import Verifier, VerifierResult
from tulu_eval.verifiers.gsm8k import GSM8KVerifier


def test_raising_verifier_is_an_error_result_not_a_wrong_answer():
    class Boom(Verifier):
        def _verify(self, response, ground_truth):
            raise RuntimeError("sandbox did not start")

    res = Boom().verify("42", "42")
    assert res.is_error and res.score == 0.0 and res.error == "RuntimeError: sandbox did not start"
    ok = GSM8KVerifier().verify("The answer is 42.", "42")
    assert not ok.is_error and ok.score == 1.0
    wrong = GSM8KVerifier().verify("The answer is 41.", "42")
    assert not wrong.is_error and wrong.score == 0.0  # a wrong answer is a judgment, not an error
    failed = VerifierResult.failed("worker died", extracted="x")
    assert failed.is_error and failed.details == {"extracted": "x"}


def test_missing_antlr4_is_an_error_for_math(monkeypatch):
    """sympy's LaTeX parser without antlr4 used to make every equivalence check "not equal"."""
    from tulu_eval.verifiers.math.verifier import MathVerifier

    import sympy.parsing.latex._parse_latex_antlr  # noqa: F401  (the real one, restored after the test)

    for name in [m for m in sys.modules if m.startswith(("sympy.parsing.latex", "antlr4"))]:
        monkeypatch.delitem(sys.modules, name)  # re-imported below without antlr4, put back at teardown
    monkeypatch.setitem(sys.modules, "antlr4", None)  # import antlr4 -> ImportError
    # a response whose candidate differs from the gold as a string, so that sympy must parse it
    res = MathVerifier().verify("The final answer is $\\frac{2}{4}$.", "\\frac{1}{2}")
    assert res.is_error and "ImportError" in res.error, res


def test_missing_langdetect_is_an_error_for_ifeval(monkeypatch):
    from tulu_eval.verifiers.ifeval import checks as ifeval_checks
    from tulu_eval.verifiers.ifeval.verifier import IFEvalVerifier

    ifeval_checks._language_factory.cache_clear()
    monkeypatch.setitem(sys.modules, "langdetect.detector_factory", None)
    gold = {"instruction_id_list": ["language:response_language"], "kwargs": [{"language": "en"}]}
    res = IFEvalVerifier().verify("This is an English sentence about the weather today.", gold)
    ifeval_checks._language_factory.cache_clear()
    assert res.is_error and "langdetect" in res.error, res


def test_errors_reach_results_table_report_and_rescore(tmp_path, bundled_model, data_dir, monkeypatch):
    original = GSM8KVerifier._verify
    calls = {"n": 0}

    def sometimes_raises(self, response, ground_truth):
        calls["n"] += 1
        if calls["n"] % 2:
            raise ValueError("extraction blew up")
        return original(self, response, ground_truth)

    monkeypatch.setattr(GSM8KVerifier, "_verify", sometimes_raises)
    out = tmp_path / "run"
    result = run(RunConfig(tasks="gsm8k", limit=4, backend="hf", max_tokens=8, output_dir=str(out),
                           cache=str(tmp_path / "c.sqlite"), progress=False))
    saved = json.loads((out / "results.json").read_text())
    task = saved["tasks"]["gsm8k"]
    assert (task["errors"], task["verdicts"]) == (2, 4)
    assert task["error_share"] == 0.5 > ERROR_SHARE_LIMIT and task["errors_exceed_limit"] is True
    assert task["first_error"] == "ValueError: extraction blew up"
    rows = [json.loads(line) for line in (out / "predictions" / "gsm8k.jsonl").open()]
    assert [r["errors"] for r in rows] == [1, 0, 1, 0]
    table = format_table(result)
    assert "gsm8k::tulu" in table and "2 verifier errors / 4 verdicts (50.0%)" in table
    assert "verifier errors exceed 1% of verdicts in: gsm8k::tulu" in table
    report = (out / "report.html").read_text()
    assert "2 of 4 verdicts" in report and "verifier error" in report

    # re-scored with a verifier that works, the same run folder has no errors left
    monkeypatch.setattr(GSM8KVerifier, "_verify", original)
    again = rescore(out)
    assert again["tasks"]["gsm8k"]["errors"] == 0 and not again["tasks"]["gsm8k"]["errors_exceed_limit"]
    assert "verifier errors" not in format_table(again)


def test_training_logs_the_share_of_error_rewards(tmp_path):
    pytest.importorskip("trl")
    from tulu_eval.train.rlvr import LoggedReward

    logged = {}
    reward = LoggedReward(rollouts=tmp_path / "rollouts.jsonl")
    good = json.dumps({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})
    got = reward(prompts=["p"] * 4, completions=["No commas.", "A, B.", "No commas.", "x"],
                 ground_truth=[good, good, good, json.dumps(["not", "a", "dict"])], verifier=["ifeval"] * 4,
                 log_metric=lambda k, v: logged.__setitem__(k, v))
    assert got == [10.0, 0.0, 10.0, 0.0]
    assert logged["rewards/error_share"] == 0.25
    rollouts = [json.loads(line) for line in (tmp_path / "rollouts.jsonl").open()]
    assert [r["error"] is not None for r in rollouts] == [False, False, False, True]
