"""study.policy_modes: stored runs re-evaluated with the arg-max and with sampled actions, through any task's own
evaluation (here MiniGrid's committed runs: every kind with a stored policy, and the kind without one)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from minigrid_lava.task import TASK
from study import io, policy_modes, store
from study.load import load_config
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



def _copy_runs(tmp_path, arms, seed=1):
    """The committed minigrid_main runs of ``arms`` at ``seed`` under a fresh store, without any cached readings."""
    root = tmp_path / "runs"
    for arm in arms:
        src = ROOT / "minigrid_main" / arm / f"seed_{seed}"
        if not (src / "COMPLETE").is_file():
            pytest.skip(f"no committed minigrid_main/{arm} run")
        shutil.copytree(src, root / "minigrid_main" / arm / f"seed_{seed}",
                        ignore=shutil.ignore_patterns(store.MODES_FILE))
    return root


@pytest.mark.slow  # re-evaluates two committed MiniGrid runs
def test_cached_readings_equal_fresh_ones_and_are_read_back_until_their_key_changes(tmp_path, monkeypatch):
    root = _copy_runs(tmp_path, ("bc", "sitt_paper"))
    fresh = policy_modes.policy_modes_table(TASK, root, "minigrid_main", "default")
    assert not list(root.rglob(store.MODES_FILE))  # without cache nothing is written beside a run
    first = policy_modes.policy_modes_table(TASK, root, "minigrid_main", "default", cache=True)
    pd.testing.assert_frame_equal(first, fresh)
    bc_file, sitt_file = (root / "minigrid_main" / arm / "seed_1" / store.MODES_FILE for arm in ("bc", "sitt_paper"))
    written = {p: p.read_bytes() for p in (bc_file, sitt_file)}

    calls = []
    evaluate = type(TASK).evaluate

    def counting(self, config, act):
        calls.append(config.arm)
        return evaluate(self, config, act)

    monkeypatch.setattr(type(TASK), "evaluate", counting)
    again = policy_modes.policy_modes_table(TASK, root, "minigrid_main", "default", cache=True)
    pd.testing.assert_frame_equal(again, fresh)
    assert calls == []  # every row came from the cache, and no file was touched
    assert {p: p.read_bytes() for p in written} == written
    assert "cache_key" not in again.columns

    # another sampling seed is another key: recomputed (bc: 1 policy x 2 modes) and the file replaced
    policy_modes.policy_modes_table(TASK, root, "minigrid_main", "default", arms=("bc",), seed=1, cache=True)
    assert calls == ["bc", "bc"]
    assert bc_file.read_bytes() != written[bc_file]

    # a run whose config differs from the one the cache was written under (e.g. a copy) is evaluated again
    config_file = sitt_file.parent / store.CONFIG_FILE
    assert pd.read_csv(sitt_file)["cache_key"].iloc[0] == policy_modes.cache_key(load_config(sitt_file.parent), 0)
    data = json.loads(config_file.read_text())
    data["eval"]["n_levels"] -= 1
    config_file.write_text(json.dumps(data))
    calls.clear()
    changed = policy_modes.policy_modes_table(TASK, root, "minigrid_main", "default", arms=("sitt_paper",),
                                              cache=True)
    assert calls == ["sitt_paper"] * 4  # teacher and student, both modes
    assert set(changed["n_episodes"]) == {data["eval"]["n_levels"]}
