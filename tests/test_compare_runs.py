"""``tulu-eval compare-runs``: comparison.json from two real run folders (the committed reference runs
of the bundled model, with and without its chat template), recomputed here from the predictions."""

from __future__ import annotations

import json

from tulu_eval.scoring.metrics import paired_bootstrap_test

from .conftest import run_cli
from .test_report import CHAT, PLAIN


def _rows(run, task):
    return {r["id"]: r for r in map(json.loads, (run / "predictions" / f"{task}.jsonl").open())}


def test_comparison_json_shape_and_p_value(tmp_path):
    out = tmp_path / "comparison.json"
    proc = run_cli("compare-runs", str(PLAIN), str(CHAT), "-o", str(out), "--bootstrap-iters", "2000")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    base, trained = (json.loads((r / "results.json").read_text())["tasks"] for r in (PLAIN, CHAT))
    assert set(data["base"]) == set(data["trained"]) == set(base) & set(trained)
    for side, res in (("base", base), ("trained", trained)):
        for task, metrics in data[side].items():
            assert set(metrics) == set(res[task]["metrics"])
            for name, m in metrics.items():
                assert m == {k: res[task]["metrics"][name][k] for k in ("value", "stderr", "n")}
    # the p-value is the paired bootstrap of IFEval prompt-level loose over the shared instances
    a, b = _rows(CHAT, "ifeval"), _rows(PLAIN, "ifeval")
    ids = [i for i in a if i in b]
    expect = paired_bootstrap_test([a[i]["metrics"]["prompt_level_loose"] for i in ids],
                                   [b[i]["metrics"]["prompt_level_loose"] for i in ids], iters=2000, seed=0)
    assert data["primary"]["task"] == "ifeval" and data["primary"]["metric"] == "prompt_level_loose"
    assert data["p_value"] == expect.p_value and data["primary"]["n"] == len(ids)
    assert data["primary"]["diff"] == trained["ifeval"]["primary"]["value"] - base["ifeval"]["primary"]["value"]
    assert set(data["tests"]) == set(data["base"]) and "primary: ifeval prompt_level_loose" in proc.stdout


def test_other_metric_is_weighted_by_judgements(tmp_path):
    """A list metric (IFEval's per-instruction verdicts) is compared micro: weights = verdicts per prompt."""
    out = tmp_path / "c.json"
    proc = run_cli("compare-runs", str(PLAIN), str(CHAT), "-o", str(out), "--task", "ifeval::tulu",
                   "--metric", "inst_level_loose", "--bootstrap-iters", "500")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    a, b = _rows(CHAT, "ifeval"), _rows(PLAIN, "ifeval")
    ids = [i for i in a if i in b]
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    expect = paired_bootstrap_test([mean(a[i]["metrics"]["inst_level_loose"]) for i in ids],
                                   [mean(b[i]["metrics"]["inst_level_loose"]) for i in ids],
                                   weights=[len(a[i]["metrics"]["inst_level_loose"]) for i in ids], iters=500, seed=0)
    assert data["p_value"] == expect.p_value
    assert abs(data["primary"]["diff"] - (data["trained"]["ifeval"]["inst_level_loose"]["value"]
                                          - data["base"]["ifeval"]["inst_level_loose"]["value"])) < 1e-12


def test_user_errors_are_one_line(tmp_path):
    for args, msg in (((str(PLAIN), str(tmp_path)), "is not a run folder"),
                      ((str(PLAIN), str(CHAT), "--task", "agieval"), "--task agieval: not in both runs"),
                      ((str(PLAIN), str(CHAT), "--task", "gsm8k", "--metric", "bleu"), "has no metric 'bleu'"),
                      ((str(PLAIN), str(CHAT), "--metric", "acc"), "--metric needs --task")):
        proc = run_cli("compare-runs", *args, "-o", str(tmp_path / "x.json"))
        assert proc.returncode == 2 and msg in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _subset_run(src, dst, keep):
    """A copy of run folder ``src`` holding only the tasks in ``keep`` (as a run of those tasks would)."""
    import shutil  # noqa: PLC0415

    shutil.copytree(src, dst)
    res = json.loads((dst / "results.json").read_text())
    res["tasks"] = {t: v for t, v in res["tasks"].items() if t in keep}
    (dst / "results.json").write_text(json.dumps(res))
    for f in (dst / "predictions").glob("*.jsonl"):
        if f.stem not in keep:
            f.unlink()
    return dst


def test_also_joins_tasks_from_another_pair_of_folders(tmp_path):
    """IFEval from one pair of folders, GSM8K from another (another --limit): the same numbers and p-values
    as comparing them from one pair; a task in two pairs is a one-line error."""
    whole = tmp_path / "whole.json"
    assert run_cli("compare-runs", str(PLAIN), str(CHAT), "-o", str(whole), "--bootstrap-iters", "500").returncode == 0
    pairs = [(_subset_run(PLAIN, tmp_path / f"p_{k}", {k}), _subset_run(CHAT, tmp_path / f"c_{k}", {k}))
             for k in ("ifeval", "gsm8k")]
    out = tmp_path / "joined.json"
    proc = run_cli("compare-runs", *map(str, pairs[0]), "--also", *map(str, pairs[1]), "-o", str(out),
                   "--bootstrap-iters", "500")
    assert proc.returncode == 0, proc.stderr
    joined, ref = json.loads(out.read_text()), json.loads(whole.read_text())
    assert set(joined["base"]) == set(joined["trained"]) == set(joined["tests"]) == {"ifeval", "gsm8k"}
    for side in ("base", "trained", "tests"):
        for task in ("ifeval", "gsm8k"):
            assert joined[side][task] == ref[side][task]
    assert joined["p_value"] == ref["p_value"] and joined["primary"] == ref["primary"]
    assert joined["also"] == [{"base": str(pairs[1][0]), "trained": str(pairs[1][1]), "tasks": ["gsm8k"],
                               "limit": ref["limit"]}]
    proc = run_cli("compare-runs", *map(str, pairs[0]), "--also", *map(str, pairs[0]), "-o", str(out))
    assert proc.returncode == 2 and "task ifeval is in two pairs" in proc.stderr, proc.stderr
