"""The RLVR reward is the eval verifier: reward / 10 equals the eval verdict, instance by instance.

Outputs are real SmolLM2-135M-Instruct generations: the eval fixtures (GSM8K, MATH-500 and IFEval
test prompts) and the rollouts of a real ``train-rlvr`` run on GSM8K train
(``tests/fixtures/train_rlvr_rollouts.jsonl``, written by the trainer's reward function itself).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tulu_eval.registry import Registry
from tulu_eval.train import data as train_data
from tulu_eval.train import rlvr_data
from tulu_eval.train.rewards import VerifierReward
from tulu_eval.verifiers import get_verifier
from tulu_eval.verifiers.ifeval.checks import CHECKS
from tulu_eval.verifiers.ifeval.verifier import follows

FIXTURES = Path(__file__).parent / "fixtures"


def _eval_pairs(task_name: str, fixture: str, id_key: str, data_dir: Path):
    task = Registry().get(task_name)
    instances = {i.id: i for i in task.instances(task.load_docs(data_dir))}
    rows = [json.loads(line) for line in (FIXTURES / fixture).open()]
    return task, [(instances[str(r[id_key])], r["response"]) for r in rows]


@pytest.mark.parametrize("task_name,fixture,id_key", [
    ("gsm8k", "gsm8k_smollm2.jsonl", "id"),
    ("minerva_math_500", "math_smollm2.jsonl", "id"),
    ("ifeval", "ifeval_smollm2.jsonl", "key"),
])
def test_reward_over_ten_is_the_eval_verdict(task_name, fixture, id_key, data_dir):
    task, pairs = _eval_pairs(task_name, fixture, id_key, data_dir)
    assert get_verifier(task.verifier_key) is task.verifier  # one object, looked up by key
    reward = VerifierReward()
    # as TRL calls it: conversational completions, dataset columns as keyword lists, one batch
    got = reward(prompts=[[{"role": "user", "content": "x"}]] * len(pairs),
                 completions=[[{"role": "assistant", "content": out}] for _, out in pairs],
                 ground_truth=[train_data.ground_truth_text(inst.gold) for inst, _ in pairs],
                 verifier=[task.verifier_key] * len(pairs),
                 completion_ids=None, trainer_state=None)
    verdicts = [task.score(inst, [out])["verdict"] for inst, out in pairs]
    assert [g / 10 for g in got] == verdicts
    assert 0 < sum(verdicts) < len(verdicts) or task_name == "minerva_math_500"  # both outcomes occur


def test_training_rollouts_rewards_are_eval_verdicts():
    rows = [json.loads(line) for line in (FIXTURES / "train_rlvr_rollouts.jsonl").open()]
    assert len(rows) >= 32
    task = Registry().get("gsm8k")
    from tulu_eval.api.request import Instance
    for row in rows:
        inst = Instance(task="gsm8k", id="train", doc={}, request=None, gold=row["ground_truth"])
        assert row["reward"] / 10 == task.score(inst, [row["completion"]])["verdict"], row["completion"][-200:]
    rewards = {row["reward"] for row in rows}
    assert rewards == {0.0, 10.0}  # the fixture holds both right and wrong answers


def test_non_stop_penalty_and_plain_text_completions():
    reward = VerifierReward(scale=10.0, non_stop_penalty=-1.0, eos_token_ids=[2])
    got = reward(completions=["So the answer is 4.", "So the answer is 4.", "So the answer is 5."],
                 ground_truth=['"4"'] * 3, verifier=["gsm8k"] * 3,
                 completion_ids=[[10, 11, 2], [10, 11, 12], [10, 2]])
    assert got == [10.0, -1.0, 0.0]
    assert VerifierReward(scale=1.0)(completions=["42"], ground_truth=['"42"'], verifier=["gsm8k"]) == [1.0]


# --- the RLVR data builder ---------------------------------------------------------------------------
def test_builder_rows_have_the_eval_ground_truth(data_dir):
    rows, counts = rlvr_data.build(data_dir, gsm8k=300, math=300, ifeval=600, seed=1)
    assert counts == {"gsm8k": 300, "math": 300, "ifeval": 600}
    again, _ = rlvr_data.build(data_dir, gsm8k=300, math=300, ifeval=600, seed=1)
    assert again == rows  # same seed, same rows
    gsm8k_task = Registry().get("gsm8k")
    train = {json.loads(line)["question"].strip(): json.loads(line) for line in (data_dir / "gsm8k/train.jsonl").open()}
    for row in rows:
        converted = train_data.rlvr_row(row)  # every row passes the trainer's own checks
        assert converted["verifier"] in ("gsm8k", "math", "ifeval")
        if row["verifier"] == "gsm8k":
            question = row["messages"][0]["content"].rsplit("\n", 1)[0]
            assert row["ground_truth"] == gsm8k_task.gold(train[question])  # the eval task's gold rule


def test_ifeval_constraints_are_checkable_and_not_on_test_prompts(data_dir):
    rows, _ = rlvr_data.build(data_dir, ifeval=2000, seed=0)
    test_prompts = {" ".join(json.loads(line)["prompt"].split()).lower()
                    for line in (data_dir / "ifeval/input_data.jsonl").open()}
    seen = set()
    for row in rows:
        truth = row["ground_truth"]  # the value itself, as the eval's gold
        base = row["messages"][0]["content"].rsplit("\n\n", 1)[0]
        assert " ".join(base.split()).lower() not in test_prompts
        for iid, kwargs in zip(truth["instruction_id_list"], truth["kwargs"], strict=True):
            CHECKS[iid].prepare({k: v for k, v in kwargs.items() if v})  # no BadKwargs: a verdict exists
            seen.add(iid)
        # the words a constraint requires are never the words another forbids
        required = {w for kw in truth["kwargs"] for w in kw.get("keywords", []) + [kw.get("keyword")] if w}
        forbidden = {w for kw in truth["kwargs"] for w in kw.get("forbidden_words", [])}
        assert not required & forbidden
    assert len(seen) >= 20  # most instruction types are drawn


@pytest.mark.parametrize("iid,kwargs,good,bad", [
    ("punctuation:no_comma", {}, "No commas here.", "One, two."),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Done. Any other questions?", "Done."),
    ("keywords:existence", {"keywords": ["data"]}, "The data says so.", "Nothing."),
    ("detectable_format:title", {}, "<<A title>>\nText.", "Text."),
    ("length_constraints:number_words", {"num_words": 3, "relation": "less than"}, "Two words", "Four words right here"),
])
def test_constraint_sentences_match_their_checks(iid, kwargs, good, bad):
    """The verifier judges a built constraint the way its sentence asks."""
    assert follows(iid, kwargs, [good]) == (True, None)
    assert follows(iid, kwargs, [bad]) == (False, None)
    rng = random.Random(0)
    makers = [f for f in list(rlvr_data.COMBINABLE) + list(rlvr_data.ALONE) if f(rng, "p")[0] == iid]
    assert makers, iid


def test_recipe_format_ifeval_rows_are_deterministic_checkable_and_not_test_prompts(data_dir):
    """``data.format: ifeval`` (training/rlvr_ifeval.yaml): Code Alpaca rows + constraints drawn per row."""
    from tulu_eval.train.recipe import DataSpec

    spec = DataSpec(path="codealpaca/code_alpaca_2k.json", format="ifeval", limit=None, seed=0)
    rows, summary = train_data.load(spec, "rlvr", str(data_dir))
    again, _ = train_data.load(spec, "rlvr", str(data_dir))
    assert rows == again and summary["examples"] == len(rows) >= 2000
    other, _ = train_data.load(DataSpec(path=spec.path, format="ifeval", limit=None, seed=1), "rlvr", str(data_dir))
    assert [r["ground_truth"] for r in rows] != [r["ground_truth"] for r in other]  # the seed draws
    test_prompts = {" ".join(json.loads(line)["prompt"].split()).lower()
                    for line in (data_dir / "ifeval/input_data.jsonl").open()}
    seen = set()
    for row in rows:
        assert row["verifier"] == "ifeval"
        truth = json.loads(row["ground_truth"])
        base = row["prompt"][-1]["content"].rsplit("\n\n", 1)[0]
        assert " ".join(base.split()).lower() not in test_prompts
        for iid, kwargs in zip(truth["instruction_id_list"], truth["kwargs"], strict=True):
            CHECKS[iid].prepare({k: v for k, v in kwargs.items() if v})
            seen.add(iid)
    assert seen == set(CHECKS) and len(seen) == 25  # every IFEval instruction type is drawn
