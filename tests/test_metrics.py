import math

from tulu_eval.scoring.metrics import aggregate_records, macro_mean, mean_stderr, paired_bootstrap


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


def test_stratified_bootstrap_is_the_mean_over_strata():
    from tulu_eval.scoring.metrics import paired_bootstrap_test, stratified_bootstrap_test

    a, b = [1, 0, 1, 1, 0, 1], [0, 0, 1, 0, 0, 1]
    one = stratified_bootstrap_test([(a, b, None)], iters=500, seed=3)
    assert one == paired_bootstrap_test(a, b, iters=500, seed=3)
    # a suite average over two tasks: the observed difference is the mean of the tasks' differences
    c, d, w = [1, 1, 0], [1, 0, 0], [1, 2, 1]
    two = stratified_bootstrap_test([(a, b, None), (c, d, w)], iters=500, seed=0)
    task2 = (sum(x * y for x, y in zip(c, w)) - sum(x * y for x, y in zip(d, w))) / sum(w)
    assert abs(two.diff - ((sum(a) - sum(b)) / len(a) + task2) / 2) < 1e-12
    assert two.n == 9 and two.ci_low <= two.diff <= two.ci_high
    # identical systems: no difference in any replicate
    same = stratified_bootstrap_test([(a, a, None), (c, c, w)], iters=200)
    assert same.diff == 0 and same.p_value == 1.0
