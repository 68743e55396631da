"""Issue 15: the maze seed, the authors'-schedule study, the seed grid and its statistics, the detour sides."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from color_maze import readings
from color_maze.generation import make_mazes
from color_maze.design import ARMS, EXPERIMENTS, SEED_GRID_SEEDS
from color_maze.task import TASK
from study import io, load, report
from study.paths import REPO
from study.presets import experiment_configs, experiment_profile, preset
from study.stats.twoway import sums_of_squares, two_way
from study.plan import plan_configs

# ------------------------------------------------------------------------------------------------ two-way statistics


def _brute_ss(grid):
    g = np.asarray(grid, float)
    grand = sum(g.ravel()) / g.size
    rows = sum(g.shape[1] * (sum(g[i]) / g.shape[1] - grand) ** 2 for i in range(g.shape[0]))
    cols = sum(g.shape[0] * (sum(g[:, j]) / g.shape[0] - grand) ** 2 for j in range(g.shape[1]))
    total = sum((v - grand) ** 2 for v in g.ravel())
    inter = sum((g[i, j] - sum(g[i]) / g.shape[1] - sum(g[:, j]) / g.shape[0] + grand) ** 2
                for i in range(g.shape[0]) for j in range(g.shape[1]))
    return rows, cols, inter, total


def test_sums_of_squares_match_the_textbook_loops():
    rng = np.random.default_rng(3)
    for shape in ((2, 2), (5, 5), (3, 7)):
        grid = rng.random(shape)
        ours = sums_of_squares(grid)
        ref = _brute_ss(grid)
        assert np.allclose(ours, ref)
        assert np.isclose(ours[0] + ours[1] + ours[2], ours[3])


def test_a_column_effect_is_found_and_a_row_effect_is_not():
    grid = np.tile([0.0, 0.0, 1.0, 1.0, 0.0], (5, 1))  # failure follows the columns only
    tw = two_way(grid, n_perm=2000, seed=1)
    assert tw.share_cols == pytest.approx(1.0) and tw.share_rows == pytest.approx(0.0)
    assert tw.p_cols < 0.01 and tw.p_rows > 0.5
    transposed = two_way(grid.T, n_perm=2000, seed=1)
    assert transposed.p_rows < 0.01 and transposed.p_cols > 0.5
    again = two_way(grid, n_perm=2000, seed=1)
    assert (again.p_rows, again.p_cols) == (tw.p_rows, tw.p_cols)  # seeded


def test_two_way_p_value_against_full_enumeration_on_a_tiny_grid():
    grid = np.array([[1.0, 0.0], [1.0, 0.5]])
    observed = sums_of_squares(grid)[1]
    perms = {p for p in itertools.permutations(grid.ravel())}  # every distinct arrangement, equally likely
    exact = np.mean([sums_of_squares(np.reshape(p, (2, 2)))[1] >= observed - 1e-12 for p in perms])
    tw = two_way(grid, n_perm=20000, seed=0)
    assert tw.p_cols == pytest.approx(exact, abs=0.02)


def test_two_way_rejects_bad_grids_and_marks_a_constant_one():
    with pytest.raises(ValueError, match="^grid:"):
        two_way(np.ones(4))
    with pytest.raises(ValueError, match="^grid:"):
        two_way(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="^n_perm:"):
        two_way(np.eye(2), n_perm=0)
    tw = two_way(np.ones((3, 3)))
    assert np.isnan(tw.p_rows) and np.isnan(tw.share_cols)


# -------------------------------------------------------------------------------------------------------- seed grid


def _grid_eval(values):
    """Eval rows of the seed grid: ``values[(network_seed, maze_seed)]`` = student success on 4 mazes."""
    out = []
    for (net, maze), v in values.items():
        for policy in ("teacher", "student"):
            for m in range(4):
                ok = policy == "teacher" or m < round(4 * v)
                out.append(dict(experiment="seed_grid", arm=f"maze_seed_{maze}", seed=net, profile="smoke",
                                recipe="release", kind="sitt", policy=policy, maze=m, success=ok, release_success=ok,
                                ep_return=1.0, ep_length=30.0 if ok else np.nan, n_paths=0, through_path=False,
                                route="detour" if ok else "failed", outcome="success" if ok else "timeout"))
    return pd.DataFrame(out)


def test_the_seed_grid_table_and_its_verdict_follow_the_maze_seed():
    seeds = SEED_GRID_SEEDS
    values = {(n, m): 0.0 if m in (0, 2, 9) else 1.0 for n in seeds for m in seeds}
    grid = readings.seed_grid_table(_grid_eval(values))
    assert list(grid.columns) == ["network_seed", *[f"maze_seed_{k}" for k in seeds]]
    assert list(grid["network_seed"]) == list(seeds)
    assert grid.loc[grid["network_seed"] == 1, "maze_seed_2"].item() == 0.0
    assert grid.loc[grid["network_seed"] == 2, "maze_seed_3"].item() == 1.0
    effects = readings.seed_grid_effects(grid, n_perm=2000).set_index("factor")
    assert effects.loc["verdict", "verdict"] == "failure follows the mazes"
    assert effects.loc["maze seed", "ss_share"] == pytest.approx(1.0)
    flipped = {(m, n): v for (n, m), v in values.items()}
    effects = readings.seed_grid_effects(readings.seed_grid_table(_grid_eval(flipped)), n_perm=2000).set_index("factor")
    assert effects.loc["verdict", "verdict"] == "failure follows the initialisation"
    partial = readings.seed_grid_table(_grid_eval({k: v for k, v in values.items() if k != (0, 0)}))
    assert readings.seed_grid_effects(partial).set_index("factor").loc["verdict", "verdict"].startswith("inconclusive")


def test_the_maze_seed_decides_the_training_mazes_and_defaults_to_the_run_seed():
    config = preset("seed_grid", "maze_seed_3", 0, "smoke")
    assert config.env.maze_seed == 3 and config.seed == 0
    env = TASK.train_env(config)
    n = config.env.n_envs
    assert np.array_equal(env.grids, make_mazes(n, 21, 3, seed=3))
    assert not np.array_equal(env.grids, make_mazes(n, 21, 3, seed=0))
    plain = preset("main", "sitt_release", 0, "smoke")
    assert plain.env.maze_seed is None and np.array_equal(TASK.train_env(plain).grids, make_mazes(n, 21, 3, seed=0))


def test_a_maze_seed_equal_to_the_run_seed_is_the_main_run():
    diagonal = preset("seed_grid", "maze_seed_2", 2, "default")
    assert diagonal.env.maze_seed is None  # canonical: one training, one config
    assert diagonal.training_key() == preset("main", "sitt_release", 2, "default").training_key()
    assert preset("seed_grid", "maze_seed_2", 0, "default").training_key() != preset(
        "main", "sitt_release", 0, "default").training_key()


def test_bad_maze_seeds_are_named():
    config = preset("main", "sitt_release", 0, "smoke")
    with pytest.raises(ValueError, match="^env.maze_seed"):
        config.override({"env.maze_seed": -1}).validate()
    with pytest.raises(ValueError, match="^env.maze_seed"):
        config.override({"env.maze_seed": "3"}).validate()
    with pytest.raises(ValueError, match=r"^env.maze_seed.*eval.maze_seed"):
        config.override({"env.maze_seed": config.eval.maze_seed}).validate()
    # the network seed may equal the held-out seed once the mazes are drawn from another seed
    assert config.override({"env.maze_seed": 5, "seed": config.eval.maze_seed}).validate().seed == config.eval.maze_seed


# ------------------------------------------------------------------------------------- the authors' schedule study


def test_the_release_schedule_study_runs_the_release_profile_in_place_of_default():
    assert experiment_profile("main_release_schedule", "default") == "release"
    assert experiment_profile("main_release_schedule", "smoke") == "smoke"
    assert experiment_profile("main", "default") == "default"
    assert {c.profile for c in experiment_configs("main_release_schedule", "default", [0])} == {"release"}
    assert io.study_profile("main_release_schedule", "default") == "release"
    assert io.study_profile("main-budget6e6", "default") == "default" and io.study_profile("main", None) is None
    planned = [c for c in plan_configs(["color_maze"], "default") if c.experiment == "main_release_schedule"]
    by_arm = {a: sorted(c.seed for c in planned if c.arm == a) for a in EXPERIMENTS["main_release_schedule"]}
    assert by_arm == {"without_alignment": [0, 1, 2, 3, 4], "bc": [0, 1, 2, 3, 4], "dagger": [0, 1, 2, 3, 4],
                      "sitt_release": [0, 1, 2, 3, 4], "sitt_paper": [0, 1, 2]}
    assert all(c.ppo.n_steps == 250 and c.total_timesteps == 100_000_000 for c in planned)
    grid = [c for c in plan_configs(["color_maze"], "default") if c.experiment == "seed_grid"]
    assert sorted({(c.seed, ARMS[c.arm].env["maze_seed"]) for c in grid}) == sorted(
        itertools.product(SEED_GRID_SEEDS, SEED_GRID_SEEDS))
    lines = report.commands("default")
    assert "--experiment main_release_schedule --arms sitt_paper --seeds 0-2" in lines[
        "runs: main_release_schedule (sitt_paper)"]
    assert "--experiment seed_grid --seeds 0,1,2,3,9" in lines["runs: seed_grid"]


# --------------------------------------------------------------------------------------------------- detour sides


def test_detour_side_of_hand_made_trajectories():
    G, M = 21, 3
    up_left = [(10, 19), (2, 19), (2, 10), (2, 1), (10, 1)]
    up_right = [(10, 19), (18, 19), (18, 5), (18, 1), (10, 1)]
    assert readings.detour_side(np.array(up_left), G, M) == "left"
    assert readings.detour_side(np.array(up_right), G, M) == "right"
    assert readings.detour_side(np.array(up_left + up_right), G, M) == "both"
    # in the bottom and top margins only (x < M there is not beside the block): no side
    assert readings.detour_side(np.array([(10, 19), (1, 19), (1, 18), (10, 1), (1, 2)]), G, M) == "none"
    assert readings.detour_side(np.array([(3, 10), (17, 10)]), G, M) == "none"  # first/last maze columns


def test_detour_side_table_counts_every_detour_of_the_committed_main_runs():
    root = REPO / "results" / "runs"
    sides = readings.detour_side_table(root, "main", "default")
    eval_df, _ = load.eval_rows(root, "main", "default")
    if eval_df is None:
        pytest.skip("no committed main runs")
    detours = eval_df[eval_df["route"] == "detour"].groupby(["arm", "policy"]).size()
    got = sides.set_index(["arm", "policy"])
    assert dict(got["detours"]) == {k: v for k, v in detours.items()}
    assert (got[list(readings.SIDES)].sum(axis=1) == got["detours"]).all()
    assert np.allclose(got[["left_share", "right_share", "both_share"]].sum(axis=1) + got["none"] / got["detours"], 1)


def test_last_iteration_table_averages_the_last_window_and_skips_missing_kl_path():
    steps = np.arange(1, 21) * 1000
    progress = pd.DataFrame({
        "arm": "sitt_release", "seed": 0, "time/total_timesteps": steps[::-1],  # unsorted on purpose
        "rollout/success_rate": np.linspace(0, 1, 20)[::-1], "rollout/ep_len_mean": 40.0,
        "rollout/n_paths_mean": 0.0, "sitt/kl_path": [2.0] * 3 + [np.nan] * 17, "sitt/kl_normal": 0.5,
        "sitt/reward_term_mean": 0.25,
    })
    ev = _grid_eval({(0, 0): 0.5}).assign(arm="sitt_release", experiment="main")
    out = readings.last_iteration_table(progress, ev, ["sitt_release"], window=4).iloc[0]
    assert out["rollout_success_rate"] == pytest.approx(np.mean(np.linspace(0, 1, 20)[-4:]))
    # the last four iterations by step are the first four rows; kl_path was logged in three of them (2.0)
    assert out["sitt_kl_path"] == 2.0 and out["student_success"] == 0.5 and out["teacher_success"] == 1.0
    assert readings.last_iteration_table(progress, ev, ["other"]).empty


def test_the_report_renders_every_kind_of_task_table():
    grid = readings.seed_grid_table(_grid_eval({(n, m): float(m == 1) for n in (0, 1) for m in (0, 1)}))
    effects = readings.seed_grid_effects(grid, n_perm=200)
    text = report.table_markdown(effects)
    assert text.startswith("| factor | ss_share | p_value | verdict |") and "| verdict |" in text.splitlines()[-1] + "|"
    from study.tables import main_table

    main_text = report.table_markdown(main_table(_grid_eval({(0, 0): 0.5, (1, 0): 1.0})))
    assert main_text == report.main_table_markdown(main_table(_grid_eval({(0, 0): 0.5, (1, 0): 1.0})))


def test_policy_modes_recompute_the_reported_evaluation_and_are_seeded():
    root = REPO / "results" / "runs"
    eval_df, _ = load.eval_rows(root, "main", "default")
    if eval_df is None:
        pytest.skip("no committed main runs")
    modes = readings.policy_modes_table(root, "main", "default", arms=("sitt_release", "bc"), seeds=(0, 1))
    assert set(modes["arm"]) == {"sitt_release", "bc"} and set(modes["seed"]) == {0, 1}
    assert set(modes[modes["arm"] == "bc"]["policy"]) == {"student"}
    assert len(modes) == 2 * (2 + 1) * len(readings.MAZE_SETS) * len(readings.MODES)
    reported = eval_df.groupby(["arm", "seed", "policy"], observed=True)["success"].mean()
    det = modes[(modes["mazes"] == "held_out") & (modes["mode"] == "deterministic")]
    for _, row in det.iterrows():
        assert row["success"] == pytest.approx(reported[(row["arm"], row["seed"], row["policy"])])
    assert np.allclose(modes["path_share"] + modes["detour_share"], modes["success"])
    again = readings.policy_modes_table(root, "main", "default", arms=("sitt_release", "bc"), seeds=(0, 1))
    pd.testing.assert_frame_equal(modes, again)


def test_policy_modes_refuse_a_kind_without_a_stored_student_policy():
    root = REPO / "results" / "runs"
    if not list((root / "main" / "dwbc").glob("seed_*/COMPLETE")):
        pytest.skip("no committed dwbc runs")
    with pytest.raises(ValueError, match="kind 'dwbc'.*allowed: sitt, bc, dagger, hlrl, cosil"):
        readings.policy_modes_table(root, "main", arms=("dwbc",), seeds=(0,))


def test_policy_modes_summary_averages_each_mode_over_seeds():
    modes = pd.DataFrame([
        dict(arm="a", seed=s, policy="teacher", mazes="held_out", mode=m, success=v)
        for s, m, v in [(0, "deterministic", 0.0), (1, "deterministic", 0.5), (0, "stochastic", 1.0),
                        (1, "stochastic", 0.5)]])
    out = readings.policy_modes_summary(modes)
    assert out.to_dict("records") == [dict(arm="a", policy="teacher", mazes="held_out", n=2, deterministic=0.25,
                                           stochastic=0.75)]
    assert list(readings.policy_modes_summary(modes.iloc[:0]).columns) == ["arm", "policy", "mazes", "n",
                                                                        *readings.MODES]
