"""Reasoning mode (tulu_eval/engine/reasoning.py) on real-shaped outputs.

Real SmolLM2 responses from the fixtures (GSM8K 200, IFEval the first 200 of 541, PopQA 60) are wrapped the way
reasoning models write them: a closed ``<think>`` trace, a trace opened by the chat template
(the prompt ends with ``<think>``), nested and repeated trace blocks, no trace, and a trace that
never closes. The trace text is another real response of the same model. Verdicts and metrics
with the trace must equal the bare response's; an unclosed trace must fail every metric.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tulu_eval.engine.plan import RunConfig, make_plan
from tulu_eval.engine.reasoning import ReasoningConfig, config_from_flags, split_output
from tulu_eval.engine.run import score_rows
from tulu_eval.errors import UserError
from tulu_eval.registry import Registry
from tulu_eval.results.folder import task_summary

FIXTURES = Path(__file__).parent / "fixtures"
CFG = ReasoningConfig()


def _fixture(name: str) -> list[dict]:
    return [json.loads(x) for x in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def real_rows(data_dir) -> dict[str, list[dict]]:
    """{task: [{id, output, gold, prompt}]} with the fixtures' real responses and the tasks' real gold."""
    plan = make_plan(RunConfig(tasks="gsm8k,ifeval,popqa", limit=600, data_dir=str(data_dir)))
    responses = {
        "gsm8k": {str(r["id"]): r["response"] for r in _fixture("gsm8k_smollm2.jsonl")},
        "ifeval": {str(r["key"]): r["response"] for r in _fixture("ifeval_smollm2.jsonl")},
        "popqa": {str(r["id"]): r["response"] for r in _fixture("popqa_smollm2.jsonl")},
    }
    out = {}
    for task, by_id in responses.items():
        insts = [i for i in plan.instances[task] if i.id in by_id]
        assert len(insts) == len(by_id)
        insts = insts[:200]  # IFEval's 541 x 6 shapes would take minutes
        out[task] = [{"id": i.id, "output": by_id[i.id], "gold": i.gold, "prompt": "<|im_start|>assistant\n"}
                     for i in insts]
    return out


def _traces(rows: list[dict]) -> list[str]:
    """Real model text used as the trace: each row gets another row's response."""
    texts = [r["output"].replace("</think>", "") for r in rows]
    return texts[1:] + texts[:1]


SHAPES = {
    "closed": lambda trace, answer: f"<think>\n{trace}\n</think>\n\n{answer}",
    "nested": lambda trace, answer: f"<think>{trace[:40]} <think>{trace[40:]}</think> so</think>{answer}",
    "repeated": lambda trace, answer: f"<think>{trace}</think>\n<think>Let me check again.</think>\n{answer}",
}


def _bare(m: dict) -> dict:
    return {k: v for k, v in m.items() if k != "termination_rate"}


@pytest.mark.parametrize("task_name", ["gsm8k", "ifeval", "popqa"])
def test_trace_is_stripped_and_verdicts_equal_the_bare_answers(real_rows, task_name):
    task = Registry().get(task_name)
    rows = real_rows[task_name]
    bare = score_rows(task, rows)
    assert len({json.dumps(r["metrics"], sort_keys=True) for r in bare}) > 1  # a mix of verdicts
    traces = _traces(rows)
    for shape, wrap in SHAPES.items():
        wrapped = [{**r, "output": wrap(t, r["output"].lstrip())} for r, t in zip(rows, traces)]
        scored = score_rows(task, wrapped, CFG)
        for b, s, r in zip(bare, scored, wrapped):
            assert _bare(s["metrics"]) == b["metrics"] and s["verdict"] == b["verdict"], (shape, r["id"])
            assert s["metrics"]["termination_rate"] == 1.0 and s["trace_terminated"] is True
            assert s["output"] == r["output"]  # the raw output stays in predictions
    # the chat template opened the trace: the output starts inside it
    opened = [{**r, "prompt": r["prompt"] + "<think>\n", "output": f"{t}\n</think>\n{r['output']}"}
              for r, t in zip(rows, traces)]
    for b, s in zip(bare, score_rows(task, opened, CFG)):
        assert _bare(s["metrics"]) == b["metrics"] and s["verdict"] == b["verdict"]
    # no trace at all: scored as without the flag, counted as terminated
    for b, s in zip(bare, score_rows(task, rows, CFG)):
        assert _bare(s["metrics"]) == b["metrics"] and s["metrics"]["termination_rate"] == 1.0


@pytest.mark.parametrize("task_name", ["gsm8k", "ifeval", "popqa"])
def test_unclosed_trace_fails_every_metric(real_rows, task_name):
    task = Registry().get(task_name)
    rows = real_rows[task_name]
    bare = score_rows(task, rows)
    unclosed = [{**r, "output": f"<think>\n{t}\n{r['output']}"} for r, t in zip(rows, _traces(rows))]
    opened_by_template = [{**r, "prompt": r["prompt"] + "<think>", "output": r["output"]} for r in rows]
    closed_then_reopened = [{**r, "output": f"<think>a</think>{r['output']}<think>more"} for r in rows]
    for variant in (unclosed, opened_by_template, closed_then_reopened):
        scored = score_rows(task, variant, CFG)
        for s in scored:
            assert s["trace_terminated"] is False and s["metrics"]["termination_rate"] == 0.0
            assert all(v == 0.0 or v == [0.0] * len(v) for v in _bare(s["metrics"]).values()), s["metrics"]
            assert s["answer"] == ""
        summary = task_summary(task, scored, {})
        assert summary["metrics"]["termination_rate"]["value"] == 0.0
        assert summary["primary"]["value"] == 0.0
    # the rescue is real: the same responses scored bare pass somewhere
    assert any(b["verdict"] for b in bare)


def test_termination_rate_is_a_mean_with_stderr(real_rows):
    task = Registry().get("gsm8k")
    rows = real_rows["gsm8k"][:10]
    mixed = [{**r, "output": (f"<think>x</think>{r['output']}" if i % 2 else f"<think>{r['output']}")}
             for i, r in enumerate(rows)]
    summary = task_summary(task, score_rows(task, mixed, CFG), {})
    tr = summary["metrics"]["termination_rate"]
    assert tr["value"] == 0.5 and tr["n"] == 10 and tr["stderr"] == pytest.approx((0.25 * 10 / 9 / 10) ** 0.5)


def test_split_rules():
    assert split_output("<think>a</think> 42", CFG) == split_output("<think>a</think>42", CFG)
    assert split_output("<think>a</think> 42", CFG).answer == "42"
    s = split_output("<think>a<think>b</think>c</think>\nanswer", CFG)
    assert (s.answer, s.terminated, s.had_trace) == ("answer", True, True)
    s = split_output("just an answer", CFG)
    assert (s.answer, s.terminated, s.had_trace) == ("just an answer", True, False)
    s = split_output("thinking forever", CFG, prompt="<|im_start|>assistant\n<think>\n")
    assert (s.answer, s.terminated) == ("", False)
    s = split_output("done</think>7", CFG, prompt="<|im_start|>assistant\n<think>\n")
    assert (s.answer, s.terminated) == ("7", True)
    other = ReasoningConfig.from_pattern("[REASON]...[/REASON]")
    assert split_output("[REASON]x[/REASON]5", other).answer == "5"
    assert split_output("<think>x</think>5", other).answer == "<think>x</think>5"


def test_pattern_and_flag_errors_are_user_errors():
    assert ReasoningConfig.from_pattern("<think>…</think>", 64) == ReasoningConfig("<think>", "</think>", 64)
    for bad in ("<think></think>", "…</think>", "<think>…"):
        with pytest.raises(UserError, match="--reasoning-pattern"):
            ReasoningConfig.from_pattern(bad)
    with pytest.raises(UserError, match="need --reasoning"):
        config_from_flags(None, "<a>…</a>")
    assert config_from_flags(False, None) is False and config_from_flags(None, None) is None


def test_a_trace_opened_by_the_template_before_an_assistant_prefix():
    prompt = "<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\nAnswer:"
    assert split_output(" 12 eggs", CFG, prompt).terminated is False
    assert split_output(" 12 eggs</think> 18", CFG, prompt).answer == "18"
    # a system prompt that names the tags opens nothing
    system = "<|im_start|>system\nThink inside <think> </think>.<|im_end|>\n<|im_start|>assistant\n"
    assert split_output("18", CFG, system) == split_output("18", CFG)


def test_a_judge_reads_the_answer_and_its_verdict_comes_back(real_rows):
    from tulu_eval.engine.reasoning import copy_judgements, judge_view

    rows = {"popqa": [{**r, "output": f"<think>{t}</think>\n{r['output']}"}
                      for r, t in zip(real_rows["popqa"][:5], _traces(real_rows["popqa"][:5]))]}
    rows["popqa"][4]["output"] = "<think>never closed"
    view = judge_view(rows, CFG)
    assert [v["output"] for v in view["popqa"][:4]] == [r["output"] for r in real_rows["popqa"][:4]]
    assert view["popqa"][4]["output"] == ""
    for v in view["popqa"]:
        v["judge"] = {"seen": v["output"]}
    copy_judgements(view, rows)
    assert [r["judge"]["seen"] for r in rows["popqa"]] == [v["output"] for v in view["popqa"]]
    assert rows["popqa"][0]["output"].startswith("<think>")  # the raw output is untouched
