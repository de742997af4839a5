"""DeepMind Mathematics (``deepmind_math`` = OLMES ``deepmind_math:0shot_cot::tulu3``): local generation,
answer equivalence, and strict/flex scoring of real model outputs.

Fixture ``dm_math_smollm2.jsonl``: the bundled SmolLM2-135M-Instruct's responses to the first
``deepmind_math`` instances (modules interleaved), ``tulu-eval run --tasks deepmind_math --backend vllm``.

No reference runs here (OLMES is not on PyPI; the DeepMind generator is, and generation is checked
against itself): these are regression and property tests, not conformance.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from tulu_eval.data import deepmind_math as gen
from tulu_eval.engine.plan import RunConfig, make_plan
from tulu_eval.registry import Registry
from tulu_eval.verifiers import get_verifier
from tulu_eval.verifiers.math.deepmind import equivalent, extract_flex, extract_strict

FIXTURE = Path(__file__).parent / "fixtures" / "dm_math_smollm2.jsonl"
VERIFIER = get_verifier("deepmind_math")
# sha256 of the default file (56 modules x 100, seed 1234) with mathematics-dataset 1.0.1
DEFAULT_SHA256 = "b6971290a722f6effba3a0412c46fd33543c265313d597adfce12567d438cff2"
# modules whose statements come from an unordered set of entities (the nondeterminism we pin)
COMPOSED = ("algebra__linear_1d_composed", "polynomials__add", "comparison__sort_composed")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One user cache for the module: the default file is generated once (about 15 s)."""
    root = tmp_path_factory.mktemp("tulu_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TULU_EVAL_CACHE", str(root))
        yield root


# --- generation ----------------------------------------------------------------------------------
def test_same_seed_gives_the_same_bytes_in_fresh_interpreters(tmp_path):
    a = gen.generate(tmp_path / "a.jsonl", seed=7, per_module=15, modules=COMPOSED)
    b = gen.generate(tmp_path / "b.jsonl", seed=7, per_module=15, modules=COMPOSED)
    c = gen.generate(tmp_path / "c.jsonl", seed=8, per_module=15, modules=COMPOSED)
    assert sha256(a) == sha256(b)
    assert sha256(a) != sha256(c)
    rows = [json.loads(line) for line in a.open(encoding="utf-8")]
    assert [r["module"] for r in rows] == [m for m in COMPOSED for _ in range(15)]
    assert all(r["question"] and r["answer"] for r in rows)


def test_a_module_does_not_depend_on_the_modules_before_it(tmp_path):
    alone = gen.generate(tmp_path / "alone.jsonl", seed=7, per_module=15, modules=COMPOSED[1:2])
    together = [json.loads(line) for line in (gen.generate(tmp_path / "t.jsonl", seed=7, per_module=15,
                                                           modules=COMPOSED)).open(encoding="utf-8")]
    assert [json.loads(line) for line in alone.open(encoding="utf-8")] == \
        [r for r in together if r["module"] == COMPOSED[1]]


def test_default_file_is_pinned(cache):
    path = gen.locate(None)
    assert path == cache / "data" / gen.RELPATH
    assert sha256(path) == DEFAULT_SHA256
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    assert len(rows) == 5600 and len({r["module"] for r in rows}) == 56 == len(gen.MODULES)


def test_generated_file_goes_to_the_user_cache_never_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TULU_EVAL_CACHE", str(tmp_path / "cache"))
    ro, rw = tmp_path / "ro", tmp_path / "rw"
    ro.mkdir(), rw.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)  # 555
    monkeypatch.setattr(gen, "generate", lambda out, **kw: (Path(out).parent.mkdir(parents=True, exist_ok=True),
                                                             Path(out).write_text("{}\n"), Path(out))[-1])
    assert gen.locate(ro) == tmp_path / "cache" / "data" / gen.RELPATH
    assert not (ro / "deepmind_math").exists()
    (tmp_path / "cache" / "data" / gen.RELPATH).unlink()
    assert gen.locate(rw) == tmp_path / "cache" / "data" / gen.RELPATH  # a writable data folder too
    assert list(rw.iterdir()) == []
    (ro / "x").parent.chmod(0o755)
    (ro / gen.RELPATH).parent.mkdir(parents=True)
    (ro / gen.RELPATH).write_text("{}\n")
    assert gen.locate(ro, create=False) == ro / gen.RELPATH  # a file the user put there is used as is


def test_shared_data_folder_is_never_written(data_dir, cache):
    if os.stat(data_dir).st_mode & 0o222:
        pytest.skip("this data folder is writable")
    def listing():  # the folder may hold a copy of the file (used as is), but tulu-eval adds nothing
        folder = data_dir / "deepmind_math"
        return sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir()) if folder.is_dir() else None

    before = listing()
    plan = make_plan(RunConfig(tasks="deepmind_math", limit=3, data_dir=str(data_dir)))
    assert [i.id for i in plan.instances["deepmind_math"]] == [f"{m}/0" for m in gen.MODULES[:3]]
    assert listing() == before
    assert list(plan.data_files["deepmind_math"].values()) == [DEFAULT_SHA256]


# --- the task ------------------------------------------------------------------------------------
def test_task_declaration(cache):
    task = Registry().get("deepmind_math:0shot_cot::tulu3")
    assert (task.suite, task.primary_metric, task.macro_over_groups) == ("unseen", "exact_match_flex", True)
    assert task.generation.max_tokens == 2048 and task.generation.stop == ()
    docs = task.load_docs(None)
    assert len(docs) == 5600 and [d["module"] for d in docs[:56]] == list(gen.MODULES)
    inst = task.instances(docs[:1])[0]
    text = inst.request.messages[-1]["content"]
    assert text.startswith("Solve the following math problem efficiently:\n" + docs[0]["question"] + "\n\nShow your")
    assert text.endswith("- Use * for multiplication, e.g.: 2*x") and "biggest  e.g.: 2, 10" in text
    assert inst.gold == docs[0]["answer"] and inst.group == gen.MODULES[0]


# --- equivalence and extraction ------------------------------------------------------------------
@pytest.mark.parametrize("pred, gold, same", [
    ("-1/4", "-0.25", True), ("0.25", "-0.25", False), ("2*x + 2", "2*(x + 1)", True),
    ("-9h^2 - 154h", "-9*h**2 - 154*h", True), ("-9*h**2 - 154*h", "-9*h**2 + 154*h", False),
    ("\\frac{-1}{3}", "-1/3", True), ("x = 36", "36", True), ("36", "63", False),
    ("yes", "True", True), ("no", "True", False), ("False", "False", True),
    ("(b)", "b", True), ("c", "b", False), ("z", "z", True),
    ("-41B35", "-41b35", True), ("9:37 pm", "9:37 PM", True),
    ("-1338, -30, -5", "-1338, -30, -5", True), ("-30, -1338, -5", "-1338, -30, -5", False),
    ("2, 89 and 138469", "2, 89, 138469", True), ("2, 89", "2, 89, 138469", False),
    ("w**513", "w**513", True), ("w**(513)", "w**513", True), ("-13072 + 264*sqrt(3)", "-13072 + 264*sqrt(3)", True),
    ("9**9**9**9", "3", False), ("__import__('os').getcwd()", "3", False), ("x.real", "x", False), ("", "0", False),
])
def test_equivalence(pred, gold, same):
    assert equivalent(pred, gold) is same


def test_strict_and_flex_extraction():
    phrase = "So 2+2=4.\nTherefore, the final answer is 4. I hope it is correct."
    assert extract_strict(phrase) == extract_flex(phrase) == "4"
    assert extract_strict("The final answer is $\\boxed{12}$.") is None
    assert extract_flex("The final answer is $\\boxed{12}$.") == "12"
    assert extract_flex("We get 3, then 5 and finally 8 apples") == "8"
    assert extract_flex("no numbers here") == ""


# --- real outputs ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fixture_rows():
    if not FIXTURE.exists():  # written by the real-model run described in the module docstring
        pytest.skip(f"fixture {FIXTURE.name} not generated yet")
    return [json.loads(line) for line in FIXTURE.open(encoding="utf-8")]


def test_fixture_is_real_model_output_for_real_questions(fixture_rows, cache):
    docs = {f"{d['module']}/{d['index']}": d for d in Registry().get("deepmind_math").load_docs(None)}
    assert len(fixture_rows) >= 20
    for row in fixture_rows:
        assert docs[row["id"]]["answer"] == row["gold"]
        assert row["response"].strip()


def test_real_outputs_strict_is_within_flex(fixture_rows):
    results = [VERIFIER.verify(r["response"], r["gold"]).details for r in fixture_rows]
    for res in results:
        assert res["exact_match"] <= res["exact_match_flex"]
        if res["strict_extracted"] is not None:
            assert res["exact_match"] == res["exact_match_flex"]  # the phrase decides both
    # real outputs say "The final answer is 6. I hope it is correct." without the "Therefore, " that the
    # strict regex (OLMES's answer_format_regex) needs: strict finds nothing there, flex reads "6"
    by_id = {row["id"]: res for row, res in zip(fixture_rows, results)}
    near_miss = [row["id"] for row in fixture_rows if "final answer is 6. I hope it is correct." in row["response"]
                 and "Therefore, the final answer" not in row["response"]]
    assert near_miss
    for id_ in near_miss:
        assert (by_id[id_]["strict_extracted"], by_id[id_]["extracted"]) == (None, "6")
    for row, res in zip(fixture_rows, results):
        strict = extract_strict(row["response"])
        assert res["exact_match"] == float(strict is not None and equivalent(strict, row["gold"]))
