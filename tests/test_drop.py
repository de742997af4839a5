"""DROP (``drop`` = OLMES ``drop::llama3``): our EM/F1 against lm-eval's, the skip when the data is
missing (it is not in shared/data), the prompt on a tiny hand-made data folder, the hub fallback.

The metric is checked instance by instance against lm-eval 0.4.13's ``lm_eval.tasks.drop.utils``
(``process_results`` for the scores, ``get_answers`` for the gold answers of a row): hand-written
edge cases plus a few hundred generated combinations of numbers, articles, punctuation, hyphens,
odd whitespace and multi-span answers.
"""

from __future__ import annotations

import json
import random
import sys
import types
from pathlib import Path

import pytest

from tulu_eval.engine.plan import RunConfig, make_plan
from tulu_eval.errors import UserError
from tulu_eval.registry import Registry
from tulu_eval.scoring.suites import DEV, compute, partial_note
from tulu_eval.verifiers import get_verifier
from tulu_eval.verifiers.drop import best_assignment, drop_metrics, em_f1, normalize_span

from .conftest import run_cli

lm_drop = pytest.importorskip("lm_eval.tasks.drop.utils")

TASK = Registry().get("drop::llama3")
TOL = 1e-9


def reference(prediction, golds) -> dict:
    """lm-eval's scores; ``prediction`` is the generation (a string) or a list of spans."""
    results = [prediction] if isinstance(prediction, str) else list(prediction)
    doc = {"answers": [tuple(g) if not isinstance(g, str) else (g,) for g in golds]}
    out = lm_drop.process_results(doc, results)
    return {"em": float(out["em"]), "f1": float(out["f1"])}


def assert_agrees(prediction, golds):
    ours = drop_metrics(prediction, golds)
    ref = reference(prediction, golds)
    assert abs(ours["em"] - ref["em"]) <= TOL and abs(ours["f1"] - ref["f1"]) <= TOL, (prediction, golds, ours, ref)
    if isinstance(prediction, str):  # the verifier strips the response first: that must not change anything
        res = get_verifier("drop").verify(prediction, golds)
        assert abs(res.details["em"] - ref["em"]) <= TOL and abs(res.score - ref["f1"]) <= TOL, (prediction, golds)


# --- (a) metric: agreement with lm-eval ----------------------------------------------------
HAND_CASES = [
    # numbers: thousands separators, trailing zeros, decimals, signs, words
    ("1,000", [["1000"]]), ("1000", [["1,000"]]), ("1000.0", [["1000"]]), ("5.", [["5"]]), ("2.50", [["2.5"]]),
    ("5", [["five"]]), ("-5", [["5"]]), ("+5", [["5"]]), ("1e3", [["1000"]]), ("1_000", [["1000"]]),
    ("It was 1,000 yards", [["1000"]]), ("10 yards", [["10"]]), ("10", [["10 yards"]]), ("9", [["10"]]),
    ("nan", [["nan"]]), ("inf", [["infinity"]]), ("3.5 %", [["3.5%"]]), ("$5", [["5"]]), ("٣", [["3"]]),
    # articles, case, punctuation, hyphens
    ("The Eagles", [["Eagles"]]), ("an apple", [["apple"]]), ("a", [["the"]]), ("New-York", [["new york"]]),
    ("U.S.", [["US"]]), ("Smith's", [["Smiths"]]), ("Jones!", [["jones"]]), ("the the the", [["the"]]),
    ("anathema", [["anathema"]]), ("theater", [["the ater"]]),
    # whitespace oddities (float() and str.split() see more than " " as whitespace)
    ("  Jones  ", [["Jones"]]), ("\nJones\n", [["Jones"]]), ("5\nyards", [["5 yards"]]), ("5\xa0yards", [["5"]]),
    ("Jones\tSmith", [["Jones Smith"]]), ("\n5", [["5"]]), ("\n$5", [["5"]]),
    # multi-span golds, several gold answers, blank golds
    ("Smith, Jones", [["Smith", "Jones"]]), ("Smith", [["Smith", "Jones"]]), ("Smith and Jones", [["Smith", "Jones"]]),
    ("Smith", [["Jones"], ["Smith"]]), ("Smith", [[""], ["Smith"]]), ("Smith", [[" "]]), ("", [["Smith"]]),
    ("", [["the"]]), ("", [["a"], ["5"]]), ("5", [["5", "5"]]), ("Smith", [["", "Smith"]]),
    ("Smith", [["Smith", ""]]),
    # dates as DROP writes them ("day month year", parts may be missing)
    ("March 3, 1990", [["3 March 1990"]]), ("1990", [["3 March 1990"]]), ("3 March", [["3 March 1990"]]),
    ("1990", [["1990"]]), ("March", [["March"]]), ("2 March 1990", [["3 March 1990"]]),
    # long, chatty generations
    ("The answer is 7 touchdowns in total.", [["7"]]),
    ("Answer: 7\nQuestion: how many", [["7"]]),
]

MULTI_PRED_CASES = [
    (["Smith", "Jones"], [["Smith", "Jones"]]), (["Jones", "Smith"], [["Smith", "Jones"]]),
    (["Smith"], [["Smith", "Jones"]]), (["Smith", "Jones", "Brown"], [["Smith", "Jones"]]),
    (["5", "6"], [["5"], ["6"]]), (["5 yards", "6"], [["6", "5"]]), (["a", "the"], [["an", ""]]),
]

NUMBERS = ["1,000", "1000", "1000.0", "5", "5.", "five", "3", "2.50", "2.5", "12", "1e3", "7,5", "0", "03"]
WORDS = ["the", "a", "An", "Smith", "smith's", "Jones", "New York", "new-york", "yards", "touchdown", "U.S.",
         "us", "field goal", "field-goals", "March", "1990", "Eagles", "the Eagles", "theater"]
PUNCT = ["", "", "", ".", ",", "!", "?", "'s", "%"]
SEPS = [" ", " ", "-", ", ", " and ", "\n", "  ", "\t"]


def _phrase(rnd: random.Random) -> str:
    parts = []
    for _ in range(rnd.randint(1, 3)):
        tok = rnd.choice(NUMBERS if rnd.random() < 0.4 else WORDS) + rnd.choice(PUNCT)
        parts.append(tok if rnd.random() < 0.8 else tok.upper())
    out = parts[0]
    for p in parts[1:]:
        out += rnd.choice(SEPS) + p
    return out


def generated_cases(n: int, seed: int = 20190301) -> list[tuple]:
    rnd = random.Random(seed)
    cases = []
    for _ in range(n):
        golds = [[_phrase(rnd) for _ in range(rnd.choice([1, 1, 1, 2, 3]))] for _ in range(rnd.choice([1, 1, 2, 3]))]
        if rnd.random() < 0.3:  # a prediction close to a gold answer
            gold = rnd.choice(golds)
            pred = rnd.choice([", ", " ", " and "]).join(gold)
            pred = rnd.choice(["", "The ", "the answer is ", " "]) + pred + rnd.choice(["", ".", "\n", " yards"])
        else:
            pred = _phrase(rnd)
        if rnd.random() < 0.15:
            pred = [_phrase(rnd) for _ in range(rnd.randint(1, 3))]
        cases.append((pred, golds))
    return cases


@pytest.mark.parametrize("prediction, golds", HAND_CASES + MULTI_PRED_CASES)
def test_hand_written_cases_agree_with_lm_eval(prediction, golds):
    assert_agrees(prediction, golds)


def test_generated_cases_agree_with_lm_eval():
    cases = generated_cases(600)
    scores = [drop_metrics(p, g)["f1"] for p, g in cases]
    for prediction, golds in cases:
        assert_agrees(prediction, golds)
    # the generator reaches every regime: zero, partial and full F1, and some exact matches
    assert min(scores) == 0.0 and max(scores) == 1.0 and any(0 < s < 1 for s in scores)
    assert sum(drop_metrics(p, g)["em"] for p, g in cases) >= 20


def test_hand_checked_values():
    assert normalize_span("The 1,000 Yards-long U.S. field") == "1000.0 yards long us field"
    assert em_f1("1,000", ["1000"]) == (1.0, 1.0)
    assert em_f1("Smith", ["Smith", "Jones"]) == (0.0, 0.5)  # 1 of 2 gold spans matched
    assert em_f1("10 yards", ["10"]) == (0.0, 0.67)  # precision 1/2, recall 1
    assert em_f1("9 yards", ["10 yards"]) == (0.0, 0.0)  # the gold's number is missed: 0, not 0.5
    assert drop_metrics("", [["Smith"]]) == {"em": 0.0, "f1": 0.0, "matched_gold": ["Smith"]}
    assert drop_metrics("x", [[""]])["f1"] == 0.0  # only blank golds: nothing to score against


def test_ground_truth_forms_are_equivalent():
    v = get_verifier("drop")
    for gt in ([["4"], ["four"]], [("4",), ("four",)], ["4", "four"]):
        assert v.verify(" four.", gt).details["em"] == 1.0
    assert v.verify("4", "4").score == 1.0
    # one gold encoding: JSON text is a literal answer, never parsed (the RLVR reward decodes its column)
    assert v.verify("four", json.dumps([["4"], ["four"]])).score < 1.0
    assert v.verify("Smith, Jones", [["Smith", "Jones"]]).score < 1.0  # one predicted span, two gold spans


def test_assignment_is_optimal_like_scipy():
    scipy_opt = pytest.importorskip("scipy.optimize")
    rnd = random.Random(7)
    for _ in range(300):
        rows, cols = rnd.randint(1, 6), rnd.randint(1, 6)
        m = [[rnd.choice([0.0, 0.25, 0.5, 2 / 3, 1.0, rnd.random()]) for _ in range(cols)] for _ in range(rows)]
        pairs = best_assignment(m)
        assert len(pairs) == min(rows, cols)
        assert len({r for r, _ in pairs}) == len(pairs) == len({c for _, c in pairs})
        import numpy as np

        r_idx, c_idx = scipy_opt.linear_sum_assignment(-np.array(m))
        assert sum(m[r][c] for r, c in pairs) == pytest.approx(sum(m[r][c] for r, c in zip(r_idx, c_idx)), abs=1e-12)


EL_ROWS = [  # EleutherAI/drop rows: number, multi-span, date, validated answers (with duplicates)
    {"answer": {"number": "3", "date": {"day": "", "month": "", "year": ""}, "spans": []},
     "validated_answers": {"number": ["3", "", ""], "date": [{"day": "", "month": "", "year": ""}] * 3,
                           "spans": [[], ["three"], []]}},
    {"answer": {"number": "", "date": {"day": "", "month": "", "year": ""}, "spans": ["Smith", "Jones"]},
     "validated_answers": {"number": [""], "date": [{"day": "", "month": "", "year": ""}],
                           "spans": [["Jones", "Smith"]]}},
    {"answer": {"number": "", "date": {"day": "3", "month": "March", "year": "1990"}, "spans": []},
     "validated_answers": {"number": ["", ""], "date": [{"day": "", "month": "March", "year": "1990"},
                                                          {"day": "3", "month": "March", "year": "1990"}],
                           "spans": [[], []]}},
    {"answer": {"number": "", "date": {"day": "", "month": "", "year": ""}, "spans": []},
     "validated_answers": {"number": [], "date": [], "spans": []}},
]


def test_gold_answers_of_a_row_match_lm_eval():
    from tulu_eval.data.drop import answers_of

    for row in EL_ROWS:
        assert answers_of(row) == [list(a) for a in lm_drop.get_answers(row)]
    assert answers_of({"answers_spans": {"spans": ["Smith", "Jones"], "types": ["span", "span"]}}) == \
        [["Smith", "Jones"]]


# --- (b) declared in the dev suite; skipped with its reason when the data is missing ----------
def _gsm8k_only(folder: Path) -> Path:
    (folder / "gsm8k").mkdir(parents=True)
    row = {"question": "What is 2 + 2?", "answer": "2 + 2 = 4\n#### 4"}
    (folder / "gsm8k" / "test.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    return folder


def test_declared_in_the_dev_suite():
    reg = Registry()
    assert TASK is reg.get("drop") and TASK in reg.suite("dev")
    assert (TASK.full_name, TASK.primary_metric, tuple(TASK.metric_keys)) == ("drop::llama3", "f1", ("f1", "em"))
    assert [f.relpath for f in TASK.data_files()] == ["drop/validation.jsonl", "drop/train.jsonl"]
    assert TASK.generation.max_tokens == 50 and TASK.generation.stop == ("Passage:", "Question:", "\n\n")
    assert {t for e in DEV.entries if e.label == "DROP" for t in e.tasks} == {"drop"}


def test_missing_data_is_skipped_in_a_suite_run_with_the_reason(tmp_path):
    data = _gsm8k_only(tmp_path / "data")
    plan = make_plan(RunConfig(suite="dev", limit=1, data_dir=str(data)))
    assert "drop" not in plan.instances and "gsm8k" in plan.instances
    reason = plan.skipped["drop"]
    assert "drop/validation.jsonl" in reason and "EleutherAI/drop" in reason and str(data) in reason
    # the dev average names it as missing, with that reason, instead of counting a zero
    summary = {"primary_metric": "exact_match", "primary": {"value": 1.0, "stderr": 0.0, "n": 1},
               "metrics": {"exact_match": {"value": 1.0, "stderr": 0.0, "n": 1}}}
    dev = compute(DEV, {"gsm8k": summary}, plan.skipped, known=set(Registry().tasks))
    assert dev["average"] == 1.0 and dev["n"] == 1 and "drop" in dev["missing"]
    assert dev["reasons"]["drop"] == f"skipped: {reason}" and "drop" in partial_note(dev)
    # asked for by name, the same reason stops the run
    with pytest.raises(UserError, match="drop/validation.jsonl"):
        make_plan(RunConfig(tasks="drop", limit=1, data_dir=str(data)))


def test_train_file_alone_missing_is_named(tmp_path):
    data = tmp_path / "data"
    (data / "drop").mkdir(parents=True)
    (data / "drop" / "validation.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="drop/train.jsonl"):
        make_plan(RunConfig(tasks="drop", limit=1, data_dir=str(data)))


def test_cli_lists_drop_as_missing_and_run_says_why_in_one_line(tmp_path):
    data = _gsm8k_only(tmp_path / "data")
    out = run_cli("tasks", "--suite", "dev", "--data-dir", str(data), timeout=120)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("drop::llama3"))
    assert "dev" in line and "f1" in line and "missing: drop/validation.jsonl, drop/train.jsonl" in line
    proc = run_cli("run", "--tasks", "drop", "--limit", "1", "--data-dir", str(data), timeout=120)
    assert proc.returncode == 2
    lines = [x for x in proc.stderr.strip().splitlines() if x]
    assert len(lines) == 1 and "drop/validation.jsonl" in lines[0] and "EleutherAI/drop" in lines[0]


# --- (c) prompt and scoring on a tiny hand-made data folder ------------------------------------
def _row(i: int, question: str, answer: dict, split: str) -> dict:
    empty_date = {"day": "", "month": "", "year": ""}
    full = {"number": "", "date": empty_date, "spans": [], **answer}
    return {"section_id": f"{split}_sec{i}", "query_id": f"{split}_q{i}",
            "passage": f"Passage number {i} of the {split} split. The Bears scored {i + 2} touchdowns.",
            "question": question, "answer": full,
            "validated_answers": {"number": [full["number"]], "date": [full["date"]], "spans": [full["spans"]]}}


TRAIN_ROWS = [
    _row(0, "How many touchdowns did the Bears score?", {"number": "2"}, "train"),
    _row(1, "Who scored?", {"spans": ["Bears", "Lions"]}, "train"),
    _row(2, "When was the game?", {"date": {"day": "3", "month": "March", "year": "1990"}}, "train"),
    _row(3, "Which team won?", {"spans": ["Bears"]}, "train"),
]
VALIDATION_ROWS = [
    _row(0, "How many touchdowns were scored in total?", {"number": "1,000"}, "validation"),
    {**_row(1, "Which players scored?", {"spans": ["Smith", "Jones"]}, "validation"),
     "validated_answers": {"number": ["", ""], "date": [{"day": "", "month": "", "year": ""}] * 2,
                           "spans": [["Jones", "Smith"], ["Smith"]]}},
]


def write_data(folder: Path) -> Path:
    (folder / "drop").mkdir(parents=True)
    for name, rows in (("train", TRAIN_ROWS), ("validation", VALIDATION_ROWS)):
        (folder / "drop" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


EXPECTED_SHOTS = {
    "train_q0": "Passage: Passage number 0 of the train split. The Bears scored 2 touchdowns.\n"
                "Question: How many touchdowns did the Bears score?\nAnswer: 2",
    "train_q1": "Passage: Passage number 1 of the train split. The Bears scored 3 touchdowns.\n"
                "Question: Who scored?\nAnswer: Bears, Lions",
    "train_q2": "Passage: Passage number 2 of the train split. The Bears scored 4 touchdowns.\n"
                "Question: When was the game?\nAnswer: 3 March 1990",
    "train_q3": "Passage: Passage number 3 of the train split. The Bears scored 5 touchdowns.\n"
                "Question: Which team won?\nAnswer: Bears",
}


def test_prompt_has_three_fixed_exemplars_and_the_question(tmp_path):
    data = write_data(tmp_path / "data")
    plan = make_plan(RunConfig(tasks="drop", data_dir=str(data)))
    instances = plan.instances["drop"]
    assert [i.id for i in instances] == ["validation_q0", "validation_q1"]
    first = instances[0]
    shots = [EXPECTED_SHOTS[r["query_id"]] for r in random.Random(1234).sample(TRAIN_ROWS, 3)]
    question = ("Passage: Passage number 0 of the validation split. The Bears scored 2 touchdowns.\n"
                "Question: How many touchdowns were scored in total?\nAnswer:")
    assert first.request.text == "\n\n".join([*shots, question])
    assert first.request.text.count("Passage: ") == 4 and first.request.text.endswith("\nAnswer:")
    assert first.request.messages == [{"role": "user", "content": first.request.text}]  # one user turn
    assert first.request.settings.stop == ("Passage:", "Question:", "\n\n")
    # the same three exemplars for every question, and on every load
    assert instances[1].request.text.startswith("\n\n".join(shots) + "\n\nPassage: Passage number 1 of the validation")
    again = make_plan(RunConfig(tasks="drop", data_dir=str(data))).instances["drop"]
    assert [i.request.text for i in again] == [i.request.text for i in instances]
    assert first.gold == [["1,000"]] and instances[1].gold == [["Smith", "Jones"], ["Jones", "Smith"], ["Smith"]]


@pytest.mark.parametrize("response, index, f1, em", [
    (" 1000", 0, 1.0, 1.0),
    (" 1,000 touchdowns", 0, 0.67, 0.0),
    (" 999", 0, 0.0, 0.0),
    (" Smith", 1, 1.0, 1.0),  # the third gold answer ("Smith" alone)
    (" Jones", 1, 0.5, 0.0),  # one of two spans of the first gold answer
    (" Smith and Jones", 1, 0.5, 0.0),  # best against "Smith": precision 1/3, recall 1
])
def test_scoring_a_response(tmp_path, response, index, f1, em):
    data = write_data(tmp_path / "data")
    inst = make_plan(RunConfig(tasks="drop", data_dir=str(data))).instances["drop"][index]
    rec = TASK.score(inst, [response])
    assert rec["metrics"] == {"f1": f1, "em": em} and rec["verdict"] == f1
    assert rec["metrics"] == pytest.approx(reference(response, inst.gold))
    summary = TASK.aggregate([rec])
    assert summary["f1"].value == f1 and summary["em"].value == em


def test_rows_that_are_not_drop_rows_are_user_errors(tmp_path):
    data = write_data(tmp_path / "data")
    (data / "drop" / "validation.jsonl").write_text('{"question": "q", "answer": "a"}\n', encoding="utf-8")
    with pytest.raises(UserError, match="validation.jsonl: row 1 is not a DROP row"):
        TASK.load_docs(data)


def test_hub_fallback_reads_eleutherai_drop(monkeypatch):
    """No data folder configured: both splits come from the HF hub (``datasets`` faked here)."""
    calls = []

    def load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        return TRAIN_ROWS if split == "train" else VALIDATION_ROWS

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    docs = TASK.load_docs(None)
    assert sorted(calls) == [("EleutherAI/drop", None, "train"), ("EleutherAI/drop", None, "validation")]
    assert [d["query_id"] for d in docs] == ["validation_q0", "validation_q1"] and len(TASK.fewshot) == 3
