"""study.policy_modes: stored runs re-evaluated with the arg-max and with sampled actions, through any task's own
evaluation (here MiniGrid's committed runs: every kind with a stored policy, and the kind without one)."""

from __future__ import annotations

import pandas as pd
import pytest

from minigrid_lava.task import TASK
from study import io, policy_modes
from study.paths import REPO
from study.tables import as_float

ROOT = REPO / "results" / "runs"
ARMS = ("without_alignment", "bc", "dagger", "hlrl", "cosil", "sitt_paper")


@pytest.fixture(scope="module")
def modes():
    if not list((ROOT / "minigrid_main" / "hlrl").glob("seed_*/COMPLETE")):
        pytest.skip("no committed minigrid_main runs")
    return policy_modes.policy_modes_table(TASK, ROOT, "minigrid_main", "default", arms=ARMS, seeds=(1,))


@pytest.mark.slow  # re-evaluates committed MiniGrid runs (fixture `modes`)
def test_deterministic_rows_are_the_reported_evaluation_recomputed(modes):
    eval_df, _ = io.eval_table(ROOT, "minigrid_main", "default")
    rows = eval_df[eval_df["seed"] == 1]
    reported = rows.groupby(["arm", "policy"], observed=True).agg(
        success=("success", lambda s: as_float(s).mean()), lava_share=("lava", lambda s: as_float(s).mean()),
        steps=("steps", "mean"))
    det = modes[modes["mode"] == "deterministic"].set_index(["arm", "policy"])
    # a SITT run gives teacher and student, every other kind its student
    assert sorted(det.index) == sorted([(a, "student") for a in ARMS]
                                       + [("without_alignment", "teacher"), ("sitt_paper", "teacher")])
    for key, row in det.iterrows():
        for col in ("success", "lava_share", "steps"):
            assert row[col] == pytest.approx(reported.loc[key, col]), (key, col)
    assert set(modes["n_episodes"]) == {TASK.profiles["default"].eval.n_levels}


@pytest.mark.slow  # re-evaluates committed MiniGrid runs (fixture `modes`)
def test_sampled_rows_are_seeded(modes):
    again = policy_modes.policy_modes_table(TASK, ROOT, "minigrid_main", "default", arms=("bc",), seeds=(1,))
    pd.testing.assert_frame_equal(again.reset_index(drop=True),
                                  modes[modes["arm"] == "bc"].reset_index(drop=True))
    other = policy_modes.policy_modes_table(TASK, ROOT, "minigrid_main", "default", arms=("bc",), seeds=(1,), seed=1)
    sampled = modes[(modes["arm"] == "bc") & (modes["mode"] == "stochastic")].iloc[0]
    other_sampled = other[other["mode"] == "stochastic"].iloc[0]
    assert (sampled["steps"], sampled["success"]) != (other_sampled["steps"], other_sampled["success"])
    det = modes[(modes["arm"] == "bc") & (modes["mode"] == "deterministic")].iloc[0]
    assert other[other["mode"] == "deterministic"].iloc[0]["success"] == det["success"]


def test_a_kind_without_a_stored_policy_is_left_out_or_refused_by_name():
    if not list((ROOT / "minigrid_main" / "dwbc").glob("seed_*/COMPLETE")):
        pytest.skip("no committed dwbc runs")
    with pytest.raises(ValueError, match="kind 'dwbc'.*allowed: sitt, bc, dagger, hlrl, cosil"):
        policy_modes.policy_modes_table(TASK, ROOT, "minigrid_main", "default", arms=("dwbc",), seeds=(0,))
    assert policy_modes.policy_modes_table(TASK, ROOT, "minigrid_main", "nope").empty  # no run of that profile


def test_summary_averages_each_mode_over_seeds():
    modes = pd.DataFrame([
        dict(arm="a", seed=s, policy="student", mode=m, success=v, lava_share=1 - v)
        for s, m, v in [(0, "deterministic", 0.0), (1, "deterministic", 0.5), (0, "stochastic", 1.0),
                        (1, "stochastic", 0.5)]])
    out = policy_modes.policy_modes_summary(modes)
    assert out.to_dict("records") == [dict(arm="a", policy="student", n=2, deterministic=0.25, stochastic=0.75)]
    lava = policy_modes.policy_modes_summary(modes, value="lava_share")
    assert lava.to_dict("records") == [dict(arm="a", policy="student", n=2, deterministic=0.75, stochastic=0.25)]
    empty = policy_modes.policy_modes_summary(modes.iloc[:0])
    assert list(empty.columns) == ["arm", "policy", "n", *policy_modes.MODES]
