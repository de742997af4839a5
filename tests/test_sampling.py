"""``--samples k`` (tulu_eval/engine/sampling.py): which tasks sample and how, and avg@k / pass@k with
standard errors over problems, on real SmolLM2 GSM8K responses (tests/fixtures/gsm8k_smollm2.jsonl).

Each problem gets k = 4 samples: its own response, responses written for other problems, and, for
every third problem, a correct final line ("So the answer is <gold>."), so that problems have 0,
1 or more correct samples. The expected numbers are computed here from the verifier's verdicts
on each sample and the closed form of the estimator, independently of the code under test.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

from tulu_eval.engine.plan import RunConfig, make_plan
from tulu_eval.engine.reasoning import ReasoningConfig
from tulu_eval.engine.run import score_rows
from tulu_eval.engine.sampling import apply
from tulu_eval.registry import Registry
from tulu_eval.results.folder import task_summary

FIXTURE = Path(__file__).parent / "fixtures" / "gsm8k_smollm2.jsonl"
K = 4


def test_which_tasks_sample_and_at_what_temperature():
    reg = Registry()
    gsm = apply(reg.get("gsm8k"), K).generation
    assert (gsm.n, gsm.temperature, gsm.top_p) == (K, 0.6, 0.95)
    assert gsm.max_tokens == reg.get("gsm8k").generation.max_tokens and gsm.stop == reg.get("gsm8k").generation.stop
    he = apply(reg.get("codex_humaneval"), K).generation
    assert (he.n, he.temperature, he.top_p) == (K, 0.8, 0.95)  # a sampled task keeps its own settings
    for name in ("mmlu_mc", "truthfulqa", "alpaca_eval"):  # log-likelihood and judge tasks are left alone
        assert apply(reg.get(name), K) is reg.get(name)


def test_plan_asks_for_k_samples(data_dir):
    plan = make_plan(RunConfig(tasks="gsm8k,mmlu_mc", limit=2, samples=K, data_dir=str(data_dir)))
    assert {i.request.settings.n for i in plan.instances["gsm8k"]} == {K}
    assert all(i.request.continuations for i in plan.instances["mmlu_mc"])


def _sampled_rows() -> list[dict]:
    rows = [json.loads(x) for x in FIXTURE.read_text(encoding="utf-8").splitlines() if x.strip()]
    out = []
    for i in range(50):
        samples = [rows[i]["response"], rows[i + 50]["response"], rows[i + 100]["response"]]
        samples.append(f"So the answer is {rows[i]['gold']}." if i % 3 == 0 else rows[i + 150]["response"])
        if i % 9 == 0:
            samples[1] = f"Adding up, the answer is {rows[i]['gold']}."
        out.append({"id": rows[i]["id"], "output": samples[0], "outputs": samples, "gold": rows[i]["gold"],
                    "prompt": ""})
    return out


def _closed_form_pass(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def test_avg_and_pass_at_k_with_stderr_over_problems():
    task = Registry().get("gsm8k")
    rows = _sampled_rows()
    scored = score_rows(task, rows, samples=True)
    verdicts = [[task.verifier.verify(s, r["gold"]).score for s in r["outputs"]] for r in rows]
    correct = [sum(v >= 1.0 for v in vs) for vs in verdicts]
    assert set(correct) >= {0, 1, 2}  # problems with none, one and several correct samples
    for rec, vs, c in zip(scored, verdicts, correct):
        assert rec["metrics"][f"avg_at_{K}"] == pytest.approx(sum(vs) / K)
        assert rec["metrics"][f"pass_at_{K}"] == pytest.approx(_closed_form_pass(K, c, K))
        assert rec["metrics"]["pass_at_1"] == pytest.approx(c / K)
        assert rec["metrics"]["exact_match"] == pytest.approx(sum(vs) / K)  # the primary is the sample mean
        assert rec["samples_correct"] == c
    summary = task_summary(task, scored, {})
    per_problem = [sum(vs) / K for vs in verdicts]
    avg = summary["metrics"][f"avg_at_{K}"]
    assert avg["value"] == pytest.approx(statistics.mean(per_problem)) and avg["n"] == 50
    assert avg["stderr"] == pytest.approx(statistics.stdev(per_problem) / math.sqrt(50))
    passk = summary["metrics"][f"pass_at_{K}"]
    assert passk["value"] == pytest.approx(sum(c > 0 for c in correct) / 50)
    assert passk["value"] > avg["value"] > 0


def test_without_the_flag_nothing_is_added_and_reasoning_composes():
    task = Registry().get("gsm8k")
    rows = _sampled_rows()
    assert not any(k.startswith("avg_at") for k in score_rows(task, rows[:3])[0]["metrics"])
    # each sample behind a closed trace scores as the bare samples; an unclosed one fails
    cfg = ReasoningConfig()
    wrapped = [{**r, "outputs": [f"<think>{r['outputs'][-1]}</think>{s}" for s in r["outputs"][:-1]]
                + [f"<think>{r['outputs'][-1]}"]} for r in rows]
    bare = score_rows(task, [{**r, "outputs": r["outputs"][:-1] + [""]} for r in rows], samples=True)
    with_trace = score_rows(task, wrapped, cfg, samples=True)
    for b, t in zip(bare, with_trace):
        assert t["metrics"][f"avg_at_{K}"] == b["metrics"][f"avg_at_{K}"]
        assert t["metrics"][f"pass_at_{K}"] == b["metrics"][f"pass_at_{K}"]
        assert t["metrics"]["termination_rate"] == 0.75
