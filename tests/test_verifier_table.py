"""One table of configured verifier objects serves the eval tasks and the RLVR rewards.

* every task's verifier ``is`` the object a training row with the same key gets;
* reward / 10 == the eval verdict on real SmolLM2 outputs (the fixtures) for every verifier family,
  with the ground truth travelling as a training row carries it (``build-rlvr-data`` -> trainer
  data loader -> TRL column -> reward), MMLU-Pro's letters up to J included.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tulu_eval.api.request import Instance
from tulu_eval.registry import Registry
from tulu_eval.train import data as train_data
from tulu_eval.train.rewards import VerifierReward
from tulu_eval.verifiers import decode_gold, encode_gold, get_verifier, verifier_keys
from tulu_eval.verifiers.table import TABLE

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_task_verifier_is_the_training_rows_object():
    reward = VerifierReward()
    seen = set()
    for name, task in Registry().tasks.items():
        if task.verifier is None:  # log-likelihood and judged tasks score without a verifier
            continue
        assert task.verifier_key in TABLE, name
        assert get_verifier(task.verifier_key) is task.verifier, name
        assert reward.verifier(task.verifier_key) is task.verifier, name
        seen.add(task.verifier_key)
    assert seen == set(TABLE)  # every key of the table is some task's verifier
    assert set(verifier_keys()) >= seen


def test_configured_objects_are_the_tasks_settings():
    import tulu_eval.tasks.gpqa as gpqa_task
    import tulu_eval.tasks.mmlu_pro as mmlu_pro_task

    assert (get_verifier("mmlu_pro").letters, get_verifier("mmlu_pro").chain) == (mmlu_pro_task.LETTERS, "mmlu_pro")
    assert (get_verifier("gpqa").letters, get_verifier("gpqa").chain) == (gpqa_task.LETTERS, "gpqa")
    assert get_verifier("agieval").letters == "ABCDEF" and get_verifier("mmlu").letters == "ABCD"
    # the bug this table fixes: a fresh default object judges an MMLU-Pro answer J wrong
    from tulu_eval.verifiers.mc_answer import Tulu3LetterVerifier
    assert Tulu3LetterVerifier().verify("Therefore, the answer is (J).", "J").score == 0.0
    assert get_verifier("mmlu_pro").verify("Therefore, the answer is (J).", "J").score == 1.0
    with pytest.raises(KeyError, match="unknown verifier 'mc_answer'"):
        get_verifier("mc_answer")


def _fixture(name: str) -> list[dict]:
    path = FIXTURES / name
    if path.suffix == ".json":
        return json.loads(path.read_text())["rows"]
    return [json.loads(line) for line in path.open()]


def _by_id(task, data_dir) -> dict[str, Instance]:
    return {i.id: i for i in task.instances(task.load_docs(data_dir))}


def _pairs(task_name: str, data_dir: Path) -> list[tuple[Instance, str]]:
    """(instance with the eval's gold, real model output) for one task."""
    task = Registry().get(task_name)
    if task_name == "gsm8k":
        inst = _by_id(task, data_dir)
        return [(inst[r["id"]], r["response"]) for r in _fixture("gsm8k_smollm2.jsonl")[:60]]
    if task_name == "minerva_math_500":
        inst = _by_id(task, data_dir)
        return [(inst[r["id"]], r["response"]) for r in _fixture("math_smollm2.jsonl")[:40]]
    if task_name in ("ifeval", "ifeval_ood"):
        inst = _by_id(task, data_dir)
        fx = "ifeval_smollm2.jsonl" if task_name == "ifeval" else "ifbench_smollm2.jsonl"
        by_key = {str(i.doc.get("key", i.id)): i for i in inst.values()}
        return [(by_key[str(r["key"])], r["response"]) for r in _fixture(fx)[:80]]
    if task_name == "bbh":
        inst = _by_id(task, data_dir)
        return [(inst[r["id"]], r["response"]) for r in _fixture("bbh_smollm2.jsonl")]
    if task_name == "codex_humaneval_greedy":
        inst = _by_id(task, data_dir)
        return [(inst[r["id"]], r["output"]) for r in _fixture("humaneval_smollm2_greedy.jsonl")
                if r["task"] == task_name][:6]
    if task_name == "safety":
        return [(Instance(task_name, r["id"], {}, None, r["gold"]), r["output"]) for r in _fixture("safety_smollm2.json")]
    fixture, gold_key = {"mmlu": ("mmlu_cot_smollm2.jsonl", "gold"), "mmlu_pro": ("mmlu_pro_smollm2.jsonl", "gold"),
                         "agieval": ("agieval_smollm2.jsonl", "gold"), "popqa": ("popqa_smollm2.jsonl", "golden_answers"),
                         "deepmind_math": ("dm_math_smollm2.jsonl", "gold")}[task_name]
    pairs = [(Instance(task_name, r["id"], {}, None, r[gold_key]), r["response"]) for r in _fixture(fixture)]
    if task_name == "mmlu_pro":  # the letters past D, J included, on real MMLU-Pro questions
        for letter in "EFGHIJ":
            gold_inst = Instance(task_name, f"synthetic-{letter}", {}, None, letter)
            pairs += [(gold_inst, f"Let me think.\nTherefore, the answer is ({letter})."),
                      (gold_inst, f"The answer is ({letter})."),
                      (gold_inst, "Therefore, the answer is (A).")]
    return pairs


@pytest.mark.parametrize("task_name", ["gsm8k", "minerva_math_500", "ifeval", "ifeval_ood", "mmlu", "mmlu_pro",
                                       "agieval", "bbh", "popqa", "deepmind_math", "safety", "codex_humaneval_greedy"])
def test_reward_over_ten_is_the_eval_verdict(task_name, data_dir):
    task = Registry().get(task_name)
    pairs = _pairs(task_name, data_dir)
    # the ground truth as a training row carries it: the file holds the value, the dataset its JSON text
    rows = [train_data.rlvr_row({"messages": [{"role": "user", "content": "q"}], "ground_truth": inst.gold,
                                 "verifier": task.verifier_key}) for inst, _ in pairs]
    assert all(decode_gold(r["ground_truth"]) == json.loads(json.dumps(inst.gold)) for r, (inst, _) in zip(rows, pairs))
    reward = VerifierReward()
    got = reward(prompts=[r["prompt"] for r in rows],
                 completions=[[{"role": "assistant", "content": out}] for _, out in pairs],
                 ground_truth=[r["ground_truth"] for r in rows], verifier=[r["verifier"] for r in rows],
                 completion_ids=None, trainer_state=None)
    verdicts = [task.score_row(inst, {"output": out, "gold": inst.gold})["verdict"] for inst, out in pairs]
    assert [g / 10 for g in got] == [float(v) for v in verdicts]
    assert reward.last_error_share == 0.0
    assert 0 < sum(verdicts) < len(verdicts) or task_name in ("minerva_math_500", "deepmind_math",
                                                               "codex_humaneval_greedy")


def test_a_reward_returns_none_for_rows_it_does_not_own():
    math_only = VerifierReward(keys=["gsm8k"])
    got = math_only(completions=["So the answer is 4.", "Therefore, the answer is (J)."],
                    ground_truth=[encode_gold("4"), encode_gold("J")], verifier=["gsm8k", "mmlu_pro"])
    assert got == [10.0, None]
    assert VerifierReward(keys=["mmlu_pro"])(completions=["Therefore, the answer is (J)."],
                                             ground_truth=[encode_gold("J")], verifier=["mmlu_pro"]) == [10.0]


def test_ground_truth_has_one_encoding():
    row = {"messages": [{"role": "user", "content": "q"}], "verifier": "ifeval",
           "ground_truth": {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}}
    assert decode_gold(train_data.rlvr_row(row)["ground_truth"]) == row["ground_truth"]
    with pytest.raises(ValueError, match="write the value itself"):  # JSON text of a value: the old second encoding
        train_data.rlvr_row({**row, "ground_truth": json.dumps(row["ground_truth"])})
    with pytest.raises(ValueError, match="write the value itself"):
        train_data.rlvr_row({**row, "verifier": "popqa", "ground_truth": '["Lyon", "Paris"]'})
    math_row = train_data.rlvr_row({**row, "verifier": "math", "ground_truth": "[0, 1]"})  # a MATH answer
    assert decode_gold(math_row["ground_truth"]) == "[0, 1]"
    # the gold "1984" stays a string (before: verifiers json.loads'ed it into the number 1984)
    assert decode_gold(train_data.rlvr_row({**row, "verifier": "popqa", "ground_truth": "1984"})["ground_truth"]) == "1984"
    assert get_verifier("popqa").verify("It was 1984.", "1984").score == 1.0
    bad = VerifierReward()(completions=["x"], ground_truth=["not json"], verifier=["gsm8k"])
    assert bad == [0.0]
