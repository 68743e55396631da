"""Tests for study.stats: aggregates, seeded stratified bootstrap, comparisons, rliable bridge."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from study import stats
from study.stats import (
    DegenerateIntervalWarning,
    bootstrap_ci,
    bootstrap_ci_table,
    difference_ci,
    iqm,
    mean,
    median,
    optimality_gap,
    probability_of_improvement,
    probability_of_improvement_ci,
    proportion_ci,
)


# --------------------------------------------------------------------------- aggregates
def test_iqm_hand_computed_1d():
    # 8 scores: cut int(0.25 * 8) = 2 from each end -> mean(2, 3, 4, 5)
    assert iqm([0, 1, 2, 3, 4, 5, 6, 100]) == 3.5
    # 10 scores: cut int(2.5) = 2 from each end -> mean(3..8); order does not matter
    assert iqm([9, 1, 1000, 3, 2, 8, 4, 7, 6, 5]) == 5.5


def test_iqm_pools_runs_and_tasks():
    scores = np.array([[0, 10], [1, 20], [2, 30], [3, 1000]], dtype=float)  # (n_runs=4, n_tasks=2)
    # pooled sorted: 0 1 | 2 3 10 20 | 30 1000 -> 8.75 (per-task IQMs would average to 13.25)
    assert iqm(scores) == 8.75


def test_mean_of_task_means():
    assert mean([[1, 2], [3, 6]]) == 3.0
    assert mean([0.25, 0.75, 1.0, 0.0]) == 0.5


def test_median_is_median_of_task_means():
    # task means 2, 3, 15 -> median 3 (rliable aggregate_median)
    assert median([[1, 2, 10], [3, 4, 20]]) == 3.0
    # one task: the median over tasks of one task mean is that mean
    assert median([1.0, 2.0, 6.0]) == 3.0


def test_optimality_gap():
    scores = [[0.5, 1.2], [0.9, 1.0]]
    assert optimality_gap(scores) == pytest.approx(0.15)  # 1 - mean(0.5, 1, 0.9, 1)
    assert optimality_gap(scores, gamma=0.8) == pytest.approx(0.075)  # 0.8 - mean(0.5, 0.8, 0.8, 0.8)


@pytest.mark.parametrize("bad", [[], np.zeros((0, 3)), np.zeros((2, 2, 2)), [1.0, np.nan], [1.0, np.inf], ["a", "b"]])
@pytest.mark.parametrize("fn", [mean, median, iqm, optimality_gap])
def test_aggregates_reject_bad_scores(fn, bad):
    with pytest.raises(ValueError, match="scores"):
        fn(bad)


# --------------------------------------------------------------------------- bootstrap_ci
def test_bootstrap_ci_contains_true_mean():
    x = np.random.default_rng(123).normal(3.0, 1.0, size=200)
    point, lo, hi = bootstrap_ci(x, "mean", n_boot=2000, seed=0)
    assert point == pytest.approx(x.mean())
    assert lo < 3.0 < hi
    # width close to the normal-theory 2 * 1.96 / sqrt(200) = 0.277
    assert 0.22 < hi - lo < 0.33


def test_bootstrap_ci_coverage():
    rng = np.random.default_rng(7)
    hits = 0
    for rep in range(300):
        x = rng.normal(0.0, 1.0, size=30)
        _, lo, hi = bootstrap_ci(x, n_boot=400, seed=rep)
        hits += lo < 0.0 < hi
    # percentile bootstrap of a mean at n=30 covers ~93-94%; binomial sd ~1.4%
    assert 0.88 <= hits / 300 <= 0.98


def test_bootstrap_ci_deterministic_under_seed():
    x = np.random.default_rng(1).exponential(size=(12, 3))
    a = bootstrap_ci(x, "iqm", n_boot=500, seed=42)
    b = bootstrap_ci(x, "iqm", n_boot=500, seed=42)
    c = bootstrap_ci(x, "iqm", n_boot=500, seed=43)
    assert a == b
    assert a[0] == c[0]  # same point estimate
    assert (a[1], a[2]) != (c[1], c[2])


def test_bootstrap_ci_percentile_interval_is_quantiles_of_resamples():
    x = np.array([0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.65])
    n_boot, seed = 300, 5
    # independent re-implementation: n draws per resample from default_rng(seed)
    idx = np.random.default_rng(seed).integers(0, len(x), size=(n_boot, len(x), 1))
    boot = x[idx[:, :, 0]].mean(axis=1)
    q_lo, q_hi = np.quantile(boot, [0.05, 0.95])
    point, lo, hi = bootstrap_ci(x, "mean", n_boot=n_boot, confidence=0.9, seed=seed)
    assert (lo, hi) == pytest.approx((q_lo, q_hi), abs=1e-12)
    _, b_lo, b_hi = bootstrap_ci(x, "mean", n_boot=n_boot, confidence=0.9, seed=seed, method="basic")
    assert (b_lo, b_hi) == pytest.approx((2 * point - q_hi, 2 * point - q_lo), abs=1e-12)


@pytest.mark.parametrize("statistic", ["mean", "median", "iqm", "optimality_gap"])
def test_bootstrap_ci_constant_sample_collapses(statistic):
    point, lo, hi = bootstrap_ci(np.full(8, 0.75), statistic, n_boot=200)
    assert point == lo == hi == (0.75 if statistic != "optimality_gap" else 0.25)


def test_bootstrap_ci_is_stratified_per_task():
    # Each task is constant within itself: resampling runs per task can never change
    # the mean, while a bootstrap that mixed tasks would.
    scores = np.tile([0.5, 1.0], (6, 1))  # (6 runs, 2 tasks)
    assert bootstrap_ci(scores, "mean", n_boot=300) == (0.75, 0.75, 0.75)
    # every resample keeps its shape and column j only holds task j's scores
    scores = np.arange(15, dtype=float).reshape(5, 3)
    seen = []

    def record(sample):
        seen.append(sample.copy())
        return float(sample.sum())

    bootstrap_ci(scores, record, n_boot=50)
    assert len(seen) == 51  # point estimate + 50 resamples
    for sample in seen:
        assert sample.shape == (5, 3)
        for j in range(3):
            assert set(sample[:, j]) <= set(scores[:, j])


@pytest.mark.parametrize("name, fn", [
    ("mean", lambda s: np.mean(s)),
    ("median", lambda s: np.median(s.mean(axis=0))),
    ("iqm", lambda s: scipy.stats.trim_mean(s, 0.25, axis=None)),
    ("optimality_gap", lambda s: 1 - np.minimum(s, 1).mean()),
])
def test_bootstrap_ci_named_statistics_match_plain_callables(name, fn):
    # the vectorised statistics must give the same interval as the per-resample callable
    scores = np.random.default_rng(2).uniform(0, 1.3, size=(9, 4))
    fast = bootstrap_ci(scores, name, n_boot=300, seed=11)
    slow = bootstrap_ci(scores, fn, n_boot=300, seed=11)
    assert fast == pytest.approx(slow, abs=1e-12)


def test_bootstrap_ci_custom_statistic_shape_checked():
    x = np.arange(6.0)
    point, lo, hi = bootstrap_ci(x, np.max, n_boot=200)
    assert point == 5.0 and lo <= hi <= 5.0
    with pytest.raises(ValueError, match="scalar"):
        bootstrap_ci(x, lambda s: s[:2], n_boot=5)


def test_bootstrap_ci_single_run_collapses_and_says_so():
    with pytest.warns(DegenerateIntervalWarning, match="n=1"):
        ci = bootstrap_ci([0.42], "mean")
    assert ci == (0.42, 0.42, 0.42)
    assert ci.n == 1 and "collapses" in ci.note
    with pytest.warns(DegenerateIntervalWarning):
        ci = bootstrap_ci([[0.2, 0.4]], "iqm")  # one run, two tasks
    assert ci == pytest.approx((0.3, 0.3, 0.3))


def test_bootstrap_ci_drops_nan_and_reports_n():
    ci = bootstrap_ci([1.0, 2.0, np.nan, 4.0, np.nan], n_boot=300, seed=3)
    assert ci.n == 3 and ci.n_dropped == 2
    assert ci == bootstrap_ci([1.0, 2.0, 4.0], n_boot=300, seed=3)
    assert ci.point == pytest.approx(7 / 3)
    # 2-D: a run (row) with any NaN task is dropped as a whole
    ci2 = bootstrap_ci([[1.0, 2.0], [np.nan, 5.0], [3.0, 4.0]], n_boot=300, seed=3)
    assert (ci2.n, ci2.n_dropped, ci2.point) == (2, 1, 2.5)
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci([np.nan, np.nan])


def test_bootstrap_ci_nested_by_confidence():
    x = np.random.default_rng(4).normal(size=40)
    _, lo50, hi50 = bootstrap_ci(x, confidence=0.5, n_boot=1000)
    _, lo99, hi99 = bootstrap_ci(x, confidence=0.99, n_boot=1000)
    assert lo99 < lo50 < hi50 < hi99


@pytest.mark.parametrize("kwargs, arg", [
    (dict(scores=[]), "scores"),
    (dict(n_boot=0), "n_boot"),
    (dict(n_boot=2.5), "n_boot"),
    (dict(confidence=0.0), "confidence"),
    (dict(confidence=1.0), "confidence"),
    (dict(confidence=95), "confidence"),
    (dict(method="bca"), "method"),
    (dict(statistic="mode"), "statistic"),
])
def test_bootstrap_ci_validates_arguments(kwargs, arg):
    call = dict(scores=[1.0, 2.0, 3.0])
    call.update(kwargs)
    with pytest.raises(ValueError, match=arg):
        bootstrap_ci(**call)


def test_interval_pickles_with_metadata():
    ci = bootstrap_ci([1.0, 2.0, np.nan, 3.0], n_boot=50)
    back = pickle.loads(pickle.dumps(ci))
    assert back == ci and back.n == 3 and back.n_dropped == 1 and back.lo == ci[1]


# --------------------------------------------------------------------------- bootstrap_ci_table
def _runs_frame():
    return pd.DataFrame({
        "method": ["sitt"] * 5 + ["base"] * 4 + ["one"] + ["none"] * 2,
        "success": [0.6, 0.8, 0.9, 0.7, 1.0, 0.2, np.nan, 0.4, 0.3, 0.5, np.nan, np.nan],
    })


def test_bootstrap_ci_table_values():
    df = _runs_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # groups with n <= 1 are reported in `note`, not warned
        table = bootstrap_ci_table(df, "success", "method", n_boot=400, seed=9)
    assert list(table.columns) == [
        "method", "n", "n_nan", "mean", "ci_low", "ci_high", "iqm", "iqm_ci_low", "iqm_ci_high", "note"]
    assert list(table["method"]) == ["base", "none", "one", "sitt"]  # sorted by group key
    rows = table.set_index("method")
    sitt_vals = [0.6, 0.8, 0.9, 0.7, 1.0]
    assert tuple(rows.loc["sitt", ["mean", "ci_low", "ci_high"]]) == bootstrap_ci(sitt_vals, n_boot=400, seed=9)
    assert tuple(rows.loc["sitt", ["iqm", "iqm_ci_low", "iqm_ci_high"]]) == bootstrap_ci(
        sitt_vals, "iqm", n_boot=400, seed=9)
    assert (rows.loc["base", "n"], rows.loc["base", "n_nan"]) == (3, 1)
    assert rows.loc["base", "mean"] == pytest.approx(0.3)
    assert rows.loc["one", "n"] == 1
    assert rows.loc["one", "ci_low"] == rows.loc["one", "ci_high"] == 0.5 and "n=1" in rows.loc["one", "note"]
    assert rows.loc["none", "n"] == 0 and np.isnan(rows.loc["none", "mean"]) and rows.loc["none", "note"]
    assert rows.loc["sitt", "note"] == ""


def test_bootstrap_ci_table_deterministic_and_group_independent():
    df = _runs_frame()
    a = bootstrap_ci_table(df, "success", ["method"], n_boot=300, seed=1)
    pd.testing.assert_frame_equal(a, bootstrap_ci_table(df, "success", ["method"], n_boot=300, seed=1))
    assert not a.equals(bootstrap_ci_table(df, "success", ["method"], n_boot=300, seed=2))
    alone = bootstrap_ci_table(df[df.method == "sitt"], "success", "method", n_boot=300, seed=1)
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  a[a.method == "sitt"].reset_index(drop=True))


def test_bootstrap_ci_table_multiple_and_no_groups():
    df = pd.DataFrame({"m": ["a", "a", "a", "b"], "maze": [1, 1, 2, 1], "v": [1.0, 3.0, 5.0, 7.0]})
    table = bootstrap_ci_table(df, "v", ["m", "maze"], n_boot=100)
    assert table[["m", "maze", "n", "mean"]].values.tolist() == [["a", 1, 2, 2.0], ["a", 2, 1, 5.0], ["b", 1, 1, 7.0]]
    whole = bootstrap_ci_table(df, "v", None, n_boot=100)
    assert len(whole) == 1 and whole.loc[0, "n"] == 4 and whole.loc[0, "mean"] == 4.0
    with pytest.raises(ValueError, match="nope"):
        bootstrap_ci_table(df, "v", ["nope"])
    with pytest.raises(ValueError, match="numeric"):
        bootstrap_ci_table(df, "m", ["maze"])
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci_table(df, "v", "m", n_boot=0)


# --------------------------------------------------------------------------- comparison
def test_probability_of_improvement_extremes():
    assert probability_of_improvement([5, 6, 7], [1, 2, 3, 4]) == 1.0
    assert probability_of_improvement([1, 2, 3, 4], [5, 6, 7]) == 0.0
    assert probability_of_improvement([0.3, 0.9, 0.5], [0.3, 0.9, 0.5]) == 0.5
    assert probability_of_improvement([1, 1], [1, 1, 1]) == 0.5


def test_probability_of_improvement_hand_computed_with_ties():
    # x=1: <,<,= -> 0.5 ; x=2: =,=,> -> 2 ; x=3: >,>,> -> 3 ; total 5.5 of 9 pairs
    assert probability_of_improvement([1, 2, 3], [2, 2, 1]) == pytest.approx(5.5 / 9)
    assert probability_of_improvement([2, 2, 1], [1, 2, 3]) == pytest.approx(3.5 / 9)
    # 2-D: per-task values 5.5/9 and 1, averaged over the two tasks
    x = [[1, 10], [2, 11], [3, 12]]
    y = [[2, 0], [2, 0], [1, 0]]
    assert probability_of_improvement(x, y) == pytest.approx((5.5 / 9 + 1.0) / 2)


def test_probability_of_improvement_rejects_bad_input():
    with pytest.raises(ValueError, match="tasks"):
        probability_of_improvement(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="x contains NaN"):
        probability_of_improvement([1.0, np.nan], [1.0])
    with pytest.raises(ValueError, match="y is empty"):
        probability_of_improvement([1.0], [])


def test_probability_of_improvement_ci():
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.5, 1.0, size=60), rng.normal(0.0, 1.0, size=50)
    ci = probability_of_improvement_ci(x, y, n_boot=1000, seed=0)
    true_p = scipy.stats.norm.cdf(0.5 / np.sqrt(2))  # P(X > Y) = 0.638
    assert ci.point == probability_of_improvement(x, y)
    assert ci.lo < true_p < ci.hi and ci.lo < ci.point < ci.hi
    assert ci.n == (60, 50)
    assert ci == probability_of_improvement_ci(x, y, n_boot=1000, seed=0)
    assert ci != probability_of_improvement_ci(x, y, n_boot=1000, seed=1)
    # complete domination survives every resample
    assert probability_of_improvement_ci([5, 6, 7], [1, 2, 3], n_boot=200) == (1.0, 1.0, 1.0)
    # NaN runs dropped per side and counted
    ci = probability_of_improvement_ci([5, np.nan, 7], [1, 2, 3, np.nan], n_boot=100)
    assert (ci.n, ci.n_dropped, ci.point) == ((2, 3), (1, 1), 1.0)


def test_difference_ci():
    rng = np.random.default_rng(8)
    x, y = rng.normal(1.0, 1.0, size=100), rng.normal(0.0, 1.0, size=80)
    ci = difference_ci(x, y, n_boot=1000)
    assert ci.point == pytest.approx(x.mean() - y.mean())
    assert 0.0 < ci.lo < 1.0 < ci.hi
    assert ci.n == (100, 80)
    assert ci == difference_ci(x, y, n_boot=1000)


def test_difference_ci_paired_removes_shared_noise():
    rng = np.random.default_rng(9)
    base = rng.normal(0.0, 5.0, size=20)  # per-seed difficulty shared by both methods
    x, y = base + 0.2 + rng.normal(0, 0.05, size=20), base
    unpaired = difference_ci(x, y, n_boot=1000)
    paired = difference_ci(x, y, n_boot=1000, paired=True)
    assert unpaired.lo < 0.0 < unpaired.hi
    assert 0.0 < paired.lo < 0.2 < paired.hi
    assert paired.n == 20
    with pytest.raises(ValueError, match="paired"):
        difference_ci(x, y[:10], paired=True)


def test_proportion_ci_wilson_textbook_values():
    p, lo, hi = proportion_ci(8, 10)
    assert p == 0.8
    assert (lo, hi) == pytest.approx((0.490, 0.943), abs=5e-4)
    # Newcombe (1998), Stat. Med. 17:857, Table I, method 3 (Wilson score, no continuity correction)
    for k, n, expected in [(81, 263, (0.2553, 0.3662)), (15, 148, (0.0624, 0.1605)),
                           (0, 20, (0.0, 0.1611)), (1, 29, (0.0061, 0.1718))]:
        assert proportion_ci(k, n)[1:] == pytest.approx(expected, abs=5e-5)


def test_proportion_ci_bounds_and_confidence():
    assert proportion_ci(0, 15)[:2] == (0.0, 0.0)
    assert proportion_ci(15, 15)[0::2] == (1.0, 1.0)
    _, lo90, hi90 = proportion_ci(12, 15, confidence=0.9)
    _, lo95, hi95 = proportion_ci(12, 15)
    assert lo95 < lo90 < 0.8 < hi90 < hi95
    assert proportion_ci(12, 15).n == 15


@pytest.mark.parametrize("k, n, confidence, arg", [
    (11, 10, 0.95, "k"), (-1, 10, 0.95, "k"), (1.5, 10, 0.95, "k"), (0, 0, 0.95, "n"), (1, 10, 1.0, "confidence"),
])
def test_proportion_ci_validates(k, n, confidence, arg):
    with pytest.raises(ValueError, match=arg):
        proportion_ci(k, n, confidence)


# --------------------------------------------------------------------------- rliable cross-checks
def test_point_estimates_match_rliable_metrics():
    metrics = pytest.importorskip("rliable.metrics")
    rng = np.random.default_rng(10)
    for shape in [(10, 5), (7, 1), (13, 4), (3, 15)]:
        scores = rng.beta(2, 3, size=shape) * 1.2
        assert iqm(scores) == metrics.aggregate_iqm(scores)
        assert mean(scores) == metrics.aggregate_mean(scores)
        assert median(scores) == metrics.aggregate_median(scores)
        assert optimality_gap(scores) == metrics.aggregate_optimality_gap(scores)
        other = np.round(rng.beta(2, 3, size=(5, shape[1])), 1)  # rounding creates ties
        assert probability_of_improvement(np.round(scores, 1), other) == pytest.approx(
            metrics.probability_of_improvement(np.round(scores, 1), other), abs=1e-12)


@pytest.mark.skipif(not stats.rliable_available(),
                    reason=f"rliable.library not importable: {stats.rliable_import_error()}")
def test_iqm_ci_matches_rliable():
    scores = np.random.default_rng(11).beta(2, 5, size=(10, 5))
    theirs = stats.rliable_interval_estimates({"a": scores}, "iqm", n_boot=5000, seed=0)["a"]
    ours = bootstrap_ci(scores, "iqm", n_boot=5000, seed=0)
    assert ours[0] == theirs[0]  # exact point estimate
    # same stratified scheme, different random draws: endpoints agree up to Monte Carlo error
    width = ours[2] - ours[1]
    assert ours[1:] == pytest.approx(theirs[1:], abs=0.1 * width)
    state = np.random.get_state()[1].copy()
    assert stats.rliable_interval_estimates({"a": scores}, "iqm", n_boot=200, seed=3) == \
        stats.rliable_interval_estimates({"a": scores}, "iqm", n_boot=200, seed=3)
    assert (np.random.get_state()[1] == state).all()  # global RNG left untouched


def test_rliable_bridge_reports_availability():
    assert isinstance(stats.rliable_available(), bool)
    if stats.rliable_available():
        assert stats.rliable_import_error() is None
    else:
        assert stats.rliable_import_error()
        with pytest.raises(ImportError, match="rliable"):
            stats.rliable_interval_estimates({"a": np.ones((3, 2))})
