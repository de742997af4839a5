import math

from tulu_eval.metrics import aggregate_records, macro_mean, mean_stderr, paired_bootstrap


def test_mean_stderr_matches_hand_computation():
    m = mean_stderr([1, 0, 1, 1])
    assert m.value == 0.75 and m.n == 4
    assert math.isclose(m.stderr, math.sqrt((0.25 ** 2 * 3 + 0.75 ** 2) / 3 / 4))


def test_micro_lists_and_macro_groups():
    recs = [{"metrics": {"a": [1, 0, 1], "p": 1}, "group": "x"}, {"metrics": {"a": [0], "p": 0}, "group": "y"},
            {"metrics": {"a": [1], "p": 0}, "group": "y"}]
    micro = aggregate_records(recs)
    assert micro["a"].value == 3 / 5 and micro["a"].n == 5
    macro = aggregate_records(recs, macro_over_groups=True)
    assert macro["p"].value == (1 + 0) / 2
    assert macro_mean({"x": [1, 1], "y": [0, 1]}).value == 0.75


def test_paired_bootstrap_detects_a_clear_winner():
    a, b = [1] * 40 + [0] * 10, [0] * 30 + [1] * 20
    assert paired_bootstrap(a, b) < 0.05
    assert paired_bootstrap(b, a) > 0.95
