"""The MiniGrid task (minigrid_lava): the student view against MiniGrid's own partial observation, the oracle against
a brute-force search, the level streams and the held-out set, the evaluation of scripted policies, config validation,
a smoke sweep through study.sweep into the table, the figures, and the notebook's parameters."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import minigrid  # noqa: F401  (registers MiniGrid's envs)
from minigrid.core import constants as mg_constants
from minigrid.wrappers import FullyObsWrapper

from minigrid_lava import views
from minigrid_lava.env import (HELD_OUT_STREAM, LevelStream, env_geometry, held_out_level_seeds, make_env,
                               make_vec_env, train_stream_seed)
from minigrid_lava.evaluate import evaluate, level_layouts
from minigrid_lava.oracle import FORWARD, LEFT, RIGHT, UNREACHABLE, Oracle, distances, layout_of, next_state
from minigrid_lava.design import (BUDGET_EXPERIMENT, LAVA_ENVS, MAIN_ARMS, PROFILES, STUDY_ENV, TUNING,
                                  MiniGridEnvConfig, MiniGridEvalConfig, held_out_seeds, levels_sha256)
from minigrid_lava.task import TASK
from study.config import ExperimentConfig
from study.presets import COMMON_ARMS, experiment_configs, preset, task_of
from study.presets import MAIN_ARMS as STUDY_MAIN_ARMS
from study.task import SweepPlan

REPO = Path(__file__).resolve().parents[1]
S9N1 = "MiniGrid-LavaCrossingS9N1-v0"


# ------------------------------------------------------------------------------------------- the student view


def test_object_and_direction_tables_are_minigrid_s():
    assert {name: getattr(views, name.upper()) for name in ("unseen", "empty", "wall", "goal", "lava", "agent")} == {
        name: mg_constants.OBJECT_TO_IDX[name] for name in ("unseen", "empty", "wall", "goal", "lava", "agent")}
    assert views.DOOR == mg_constants.OBJECT_TO_IDX["door"] and views.GREY == mg_constants.COLOR_TO_IDX["grey"]
    assert np.array_equal(views.DIR_TO_VEC, np.array(mg_constants.DIR_TO_VEC))


def _random_states(env_id: str, n_levels: int, per_level: int, seed: int, view_size: int | None = None):
    """Full-grid encodings and MiniGrid's own partial views of random states: each level's agent put on random
    free cells, every direction for each cell."""
    kwargs = {} if view_size is None else {"agent_view_size": view_size}
    env = FullyObsWrapper(gym.make(env_id, **kwargs))
    rng = np.random.default_rng(seed)
    fulls, parts = [], []
    for _ in range(n_levels):
        env.reset(seed=int(rng.integers(2**31 - 1)))
        u = env.unwrapped
        free = [(i, j) for i in range(u.width) for j in range(u.height)
                if u.grid.get(i, j) is None or u.grid.get(i, j).can_overlap()]
        for k in rng.choice(len(free), size=min(per_level, len(free)), replace=False):
            for d in range(4):
                u.agent_pos, u.agent_dir = free[k], d
                obs = u.gen_obs()
                fulls.append(env.observation(obs)["image"])
                parts.append(obs["image"])
    env.close()
    return np.array(fulls), np.array(parts)


@pytest.mark.parametrize("env_id, view_size", [
    (S9N1, None), (S9N1, 3), (S9N1, 5), ("MiniGrid-LavaCrossingS11N5-v0", None), ("MiniGrid-LavaGapS7-v0", None),
    ("MiniGrid-DoorKey-8x8-v0", None),  # closed doors occlude too
])
def test_student_view_equals_minigrid_gen_obs(env_id, view_size):
    fulls, parts = _random_states(env_id, n_levels=12, per_level=8, seed=7, view_size=view_size)
    assert len(fulls) >= 300
    directions = views.agent_state(fulls)[2]
    assert set(directions.tolist()) == {0, 1, 2, 3}
    got = views.student_view(fulls, view_size or 7)
    assert got.dtype == np.uint8 and got.shape == parts.shape
    assert np.array_equal(got, parts)
    # the views are not trivial: some cells unseen (occlusion), some outside the grid (walls), lava or goal seen
    assert (got[..., 0] == views.UNSEEN).any() and (got[..., 0] == views.WALL).any()


def test_student_view_in_every_direction_of_one_state_by_hand():
    """The start state of a level, turned through the four directions: the view is MiniGrid's in each, and the cell
    straight ahead is the world cell in front of the agent."""
    env = FullyObsWrapper(gym.make(S9N1))
    env.reset(seed=3)
    u = env.unwrapped
    for d in range(4):
        u.agent_dir = d
        full = env.observation(u.gen_obs())["image"]
        view = views.student_view(full[None])[0]
        assert np.array_equal(view, u.gen_obs()["image"])
        fx, fy = u.front_pos
        ahead = u.grid.get(fx, fy)
        assert view[3, 5, 0] == (mg_constants.OBJECT_TO_IDX[ahead.type] if ahead else views.EMPTY)
        assert tuple(view[3, 6]) == (views.EMPTY, 0, 0)  # the agent's own cell


def test_vec_env_student_obs_is_minigrid_s_view_of_every_env():
    env = make_vec_env(S9N1, 6, seed=11)
    obs = env.reset()
    for _ in range(5):
        assert obs.shape == (6, 9 * 9 * 3) and obs.dtype == np.uint8
        got = env.student_obs(obs)
        # MiniGrid's own gen_obs (the class's: the training envs skip computing it, see env.skip_partial_view)
        want = np.stack([type(e.unwrapped).gen_obs(e.unwrapped)["image"].reshape(-1) for e in env.venv.envs])
        assert got.shape == (6, 7 * 7 * 3) and np.array_equal(got, want)
        obs, *_ = env.step(np.full(6, FORWARD))
    env.close()


def test_three_actions_step_as_minigrid_s_first_three():
    """env.actions=3: the training env's space is Discrete(3) and each kept action moves the agent exactly as the
    same action of MiniGrid's own env (same level, same random action sequence: same observations and rewards)."""
    config = preset("minigrid_tuning", "plain_teacher", 100, "smoke").override({"env.actions": 3}).validate()
    env = TASK.train_env(config)
    assert env.action_space == gym.spaces.Discrete(3)
    env.close()
    cut = make_env(S9N1, stream_seed=9, monitor=False, actions=3)
    own = make_env(S9N1, stream_seed=9, monitor=False)
    assert cut.action_space.n == 3 and own.action_space.n == 7
    assert np.array_equal(cut.reset()[0], own.reset()[0])
    rng = np.random.default_rng(1)
    moved = 0
    for _ in range(400):
        action = int(rng.integers(3))
        ra, rb = cut.step(action), own.step(action)
        assert np.array_equal(ra[0], rb[0]) and ra[1:4] == rb[1:4]
        moved += action == FORWARD
        if ra[2] or ra[3]:
            assert np.array_equal(cut.reset()[0], own.reset()[0])
    assert moved > 50
    with pytest.raises(ValueError, match=r"^actions: got 8; allowed: an integer in 1-7"):
        make_env(S9N1, actions=8)


def test_skipping_minigrid_s_partial_view_changes_no_observation_reward_or_ending():
    fast = make_env(S9N1, stream_seed=5, fast=True)
    full = make_env(S9N1, stream_seed=5, fast=False)
    rng = np.random.default_rng(0)
    a, _ = fast.reset()
    b, _ = full.reset()
    assert fast.unwrapped.gen_obs()["image"] is None and full.unwrapped.gen_obs()["image"].shape == (7, 7, 3)
    episodes = 0
    for _ in range(1500):
        action = int(rng.integers(7))  # all seven MiniGrid actions
        ra, rb = fast.step(action), full.step(action)
        assert np.array_equal(ra[0], rb[0]) and ra[1:4] == rb[1:4]
        if ra[2] or ra[3]:
            episodes += 1
            a, _ = fast.reset()
            b, _ = full.reset()
            assert np.array_equal(a, b)
    assert episodes >= 5


def test_grids_without_an_agent_give_an_unseen_view_and_two_agents_an_error():
    zeros = np.zeros((2, 9 * 9 * 3), np.uint8)  # what SITT probes student_obs_fn with
    assert np.array_equal(views.student_obs(zeros, 9, 9), np.zeros((2, 147), np.uint8))
    image = np.ones((1, 9, 9, 3), np.uint8)
    image[0, 2, 2] = (views.AGENT, 0, 1)
    image[0, 4, 4] = (views.AGENT, 0, 1)
    with pytest.raises(ValueError, match=r"^images: grid 0 has 2 agent cells"):
        views.student_view(image)
    with pytest.raises(ValueError, match=r"^view_size:"):
        views.student_view(image[:, :, :, :], view_size=4)
    with pytest.raises(ValueError, match=r"^obs: got shape \(2, 10\)"):
        views.student_obs(np.zeros((2, 10), np.uint8), 9, 9)


# ------------------------------------------------------------------------------------------------- the oracle


def _brute_force_distances(layout: np.ndarray) -> np.ndarray:
    """Steps to the goal by relaxing every state with MiniGrid's transition until nothing changes."""
    width, height = layout.shape[:2]
    obj = layout[..., 0]
    dist = np.full((width, height, 4), UNREACHABLE, dtype=np.int64)
    states = [(x, y, d) for x in range(width) for y in range(height) for d in range(4)
              if obj[x, y] not in (views.WALL, views.LAVA, views.GOAL)]
    changed = True
    while changed:
        changed = False
        for x, y, d in states:
            best = dist[x, y, d]
            for a in (LEFT, RIGHT, FORWARD):
                nx, ny, nd, outcome = next_state(layout, x, y, d, a)
                if outcome == "goal":
                    cand = 1
                elif outcome == "lava" or dist[nx, ny, nd] == UNREACHABLE:
                    continue
                else:
                    cand = dist[nx, ny, nd] + 1
                if cand < best:
                    best = cand
            if best < dist[x, y, d]:
                dist[x, y, d] = best
                changed = True
    return dist


@pytest.mark.parametrize("env_id", [S9N1, "MiniGrid-LavaCrossingS9N3-v0", "MiniGrid-LavaGapS7-v0"])
def test_oracle_distances_equal_a_brute_force_search(env_id):
    for seed in range(3):
        layout = layout_of(level_layouts(env_id, [seed])[0].reshape(env_geometry(env_id)["width"], -1, 3))
        assert np.array_equal(distances(layout), _brute_force_distances(layout))


def test_oracle_episodes_are_shortest_and_safe():
    seeds = held_out_level_seeds(5, 30)
    oracle = Oracle(9, 9)
    rows, traj = evaluate(oracle, S9N1, seeds)
    starts = oracle.steps_to_goal(level_layouts(S9N1, seeds))
    assert rows["success"].all() and not rows["lava"].any() and not rows["timeout"].any()
    assert np.array_equal(rows["steps"].to_numpy(), starts)
    assert np.allclose(rows["return"], 1 - 0.9 * starts / 324)
    # every level of one river needs at least the 12 steps of the open room (6 east, 6 south, one turn)
    assert starts.min() >= 13


# ---------------------------------------------------------------------------------------------------- levels


def test_training_levels_come_from_the_run_seed_alone():
    def first(seed, sb3_seed=None):
        env = make_vec_env(S9N1, 4, seed=seed)
        if sb3_seed is not None:
            env.seed(sb3_seed)  # what SB3 does in set_random_seed: ignored by the level streams
        obs = env.reset()
        env.close()
        return obs

    a, b = first(3), first(3, sb3_seed=99)
    assert np.array_equal(a, b)
    assert not np.array_equal(first(3), first(4))
    # SB3 would seed env i of run k with k + i; the streams of (run 0, env 1) and (run 1, env 0) differ
    assert train_stream_seed(0, 1) != train_stream_seed(1, 0)
    assert len({train_stream_seed(k, i) for k in range(20) for i in range(16)}) == 320


def test_level_stream_draws_a_new_level_each_episode():
    env = LevelStream(make_env(S9N1, monitor=False), stream_seed=123)
    rng = np.random.default_rng(123)
    expected = [int(rng.integers(0, 2**31 - 1)) for _ in range(3)]
    reference = make_env(S9N1, monitor=False)
    for want in expected:
        obs, _ = env.reset(seed=0)  # a passed seed is ignored
        assert np.array_equal(obs, reference.reset(seed=want)[0])
    assert env.levels == 3


def test_held_out_set_is_the_same_for_every_arm_and_seed_and_fingerprinted():
    configs = [preset("minigrid_main", arm, seed, "default") for arm in MAIN_ARMS for seed in (0, 1, 4, 9)]
    sets = [TASK.held_out(c) for c in configs[::7]]  # a spread of arms and seeds
    assert len({h.sha256 for h in sets}) == 1 and {h.n for h in sets} == {100}
    held = sets[0]
    seeds = held_out_level_seeds(20250707, 100)
    assert np.array_equal(held.data["seeds"], seeds) and len(set(seeds.tolist())) == 100
    assert np.array_equal(held_out_seeds(configs[-1]), seeds)
    assert held.sha256 == levels_sha256(seeds, level_layouts(STUDY_ENV["env_id"], seeds))
    # the fingerprint is of seeds and layouts: another level seed, or another env, changes it
    other = dataclasses.replace(configs[0], eval=MiniGridEvalConfig(level_seed=1))
    assert TASK.held_out(other).sha256 != held.sha256
    assert levels_sha256(seeds, level_layouts(S9N1, seeds)) != held.sha256
    # the held-out stream is its own: not the first levels of any training env of seeds 0-4
    train_seeds = {int(np.random.default_rng(train_stream_seed(k, i)).integers(0, 2**31 - 1))
                   for k in range(5) for i in range(16)}
    assert not train_seeds & set(seeds.tolist())
    assert HELD_OUT_STREAM != 0


# ---------------------------------------------------------------------------------------------- evaluation


def _forward_outcome(layout: np.ndarray, max_steps: int) -> tuple[str, int]:
    """Always ``forward`` from MiniGrid's start (1, 1) facing east: into lava at its first lava cell on row 1, else
    against the east wall until the step limit."""
    for x in range(2, layout.shape[0]):
        if layout[x, 1, 0] == views.LAVA:
            return "lava", x - 1
        if layout[x, 1, 0] == views.WALL:
            return "timeout", max_steps
    raise AssertionError


def test_evaluate_rows_of_scripted_policies():
    seeds = held_out_level_seeds(9, 24)
    layouts = level_layouts(S9N1, seeds).reshape(24, 9, 9, 3)
    rows, traj = evaluate(lambda obs: np.full(len(obs), FORWARD), S9N1, seeds)
    assert list(rows.columns) == ["episode", "level_seed", "success", "lava", "timeout", "steps", "return"]
    assert rows["episode"].tolist() == list(range(24)) and rows["level_seed"].tolist() == seeds.tolist()
    expected = [_forward_outcome(layout_of(im), 324) for im in layouts]
    assert rows["lava"].tolist() == [o == "lava" for o, _ in expected]
    assert rows["timeout"].tolist() == [o == "timeout" for o, _ in expected]
    assert rows["steps"].tolist() == [s for _, s in expected]
    assert not rows["success"].any() and (rows["return"] == 0).all()
    assert {"lava", "timeout"} == {o for o, _ in expected}  # both outcomes occur among these levels
    assert traj.shape == (24, 325, 3) and traj.dtype == np.int16
    for i, (outcome, steps) in enumerate(expected):
        assert tuple(traj[i, 0]) == (1, 1, 0)
        assert (traj[i, steps + 1:] == -1).all() and (traj[i, :steps + 1] >= 0).all()
        if outcome == "lava":
            assert tuple(traj[i, steps]) == (steps + 1, 1, 0)  # it stands on the lava cell
    cut, _ = evaluate(lambda obs: np.full(len(obs), LEFT), S9N1, seeds[:3], max_steps=5)
    assert cut["timeout"].all() and cut["steps"].tolist() == [5, 5, 5]


def test_episode_metrics_and_summary():
    rows = pd.DataFrame({"episode": [0, 1, 2, 3], "level_seed": [1, 2, 3, 4], "success": [True, False, False, True],
                         "lava": [False, True, False, False], "timeout": [False, False, True, False],
                         "steps": [10, 4, 324, 20], "return": [0.9, 0.0, 0.0, 0.8]})
    df = TASK.episode_metrics(rows)
    assert df["lava_share"].tolist() == [0, 1, 0, 0] and df["timeout_share"].tolist() == [0, 0, 1, 0]
    assert df["success_steps"].iloc[[0, 3]].tolist() == [10, 20] and df["success_steps"].iloc[[1, 2]].isna().all()
    s = TASK.summary(rows)
    assert s == dict(n_episodes=4, success_rate=0.5, lava_rate=0.25, timeout_rate=0.25, mean_steps=89.5,
                     mean_return=pytest.approx(0.425), success_steps=15.0)


# -------------------------------------------------------------------------------------------------- configs


@pytest.mark.parametrize("field, value, needle", [
    ("env.env_id", "MiniGrid-Empty-5x5-v0", "env.env_id: got 'MiniGrid-Empty-5x5-v0'; allowed: MiniGrid-LavaGapS5-v0"),
    ("env.n_envs", 0, "env.n_envs: got 0; allowed: an integer >= 1"),
    ("env.vec_env", "ray", "env.vec_env: got 'ray'; allowed: dummy, subproc"),
    ("env.view_size", 4, "env.view_size: got 4; allowed: an odd integer in 3-15"),
    ("env.view_size", True, "env.view_size: got True"),
    ("env.actions", 4, "env.actions: got 4; allowed: 3 or 7"),
    ("env.actions", True, "env.actions: got True; allowed: 3 or 7"),
    ("eval.n_levels", 0, "eval.n_levels: got 0; allowed: an integer >= 1"),
    ("eval.level_seed", -1, "eval.level_seed: got -1; allowed: an integer >= 0"),
    ("eval.max_steps", 0, "eval.max_steps: got 0; allowed: an integer >= 1"),
])
def test_config_validation_names_the_field(field, value, needle):
    config = preset("minigrid_main", "sitt_release", 0, "smoke").override({field: value})
    with pytest.raises(ValueError) as info:
        config.validate()
    assert str(info.value).startswith(needle)


def test_configs_round_trip_and_unknown_fields_are_named():
    config = preset("minigrid_main", "dagger", 2, "default")
    assert isinstance(config.env, MiniGridEnvConfig) and isinstance(config.eval, MiniGridEvalConfig)
    again = ExperimentConfig.from_json(config.to_json()).validate()
    assert again == config and again.training_key() == config.training_key()
    data = config.to_dict()
    data["env"]["nope"] = 1
    with pytest.raises(ValueError,
                       match=r"^env\.nope: unknown field; allowed: actions, env_id, n_envs, vec_env, view_size"):
        ExperimentConfig.from_dict(data)
    assert config.teacher_config() == preset("minigrid_main", "without_alignment", 2, "default")


def test_task_registration_arms_profiles_and_plan():
    assert task_of("minigrid_main") == "minigrid_lava"
    # the study's main arms in the study's order (the paper's tables: sitt_paper before sitt_release)
    assert MAIN_ARMS == STUDY_MAIN_ARMS == ("without_alignment", "bc", "dagger", "sitt_paper", "sitt_release", "hlrl",
                                            "dwbc", "cosil")
    assert TASK.experiments["minigrid_main"] == (*MAIN_ARMS, "sitt_tuned")
    # the grid's selection (design.py): lambda1 0.005, lambda2 0, the paper's recipe, raw (Discrete actions)
    tuned = preset("minigrid_main", "sitt_tuned", 0, "default").sitt_config()
    assert (tuned.recipe, tuned.reward_sign, tuned.reward_coef, tuned.update_weight, tuned.action_distance) == (
        "paper", -1, 0.005, 0.0, "raw")
    assert TASK.experiments["minigrid_grid"][-2:] == ("sitt_l1_0.005_l2_0_raw_align_lr_1e-3",
                                                      "without_alignment_align_lr_1e-3")
    assert all(TASK.arms[a] == COMMON_ARMS[a] for a in MAIN_ARMS)
    assert set(PROFILES) == {"smoke", "default"}
    # the tuned design's plan: every arm, seeds 0-4; the tuning experiment on the tuning seeds only
    assert TASK.sweeps == (SweepPlan(("minigrid_main",), None, "0-4"), SweepPlan((BUDGET_EXPERIMENT,), None, "0-4"))
    assert TASK.tuning_experiments == (TUNING, "minigrid_grid")
    assert TASK.experiments[TUNING] == ("plain_teacher", "without_alignment", "bc", "dagger", "sitt_release",
                                        "sitt_paper")
    for profile in PROFILES:
        configs = experiment_configs("minigrid_main", profile, [0, 1])
        assert [(c.arm, c.seed) for c in configs] == [(a, s) for s in (0, 1) for a in (*MAIN_ARMS, "sitt_tuned")]
        for c in configs:
            assert c.env.env_id in LAVA_ENVS and c.total_timesteps >= c.rollout_size
            # the tuned env in every profile: LavaGapS7, MiniGrid's 3 navigation actions, a 3 x 3 student view
            assert (c.env.env_id, c.env.actions, c.env.view_size) == ("MiniGrid-LavaGapS7-v0", 3, 3)
    assert "PROVISIONAL" not in PROFILES["default"].description and PROFILES["default"].total_timesteps == 800_000
    assert TASK.report_claims({"minigrid_main": None}, {}) == ()
    assert {c.id for c in TASK.report_claims({"minigrid_main": pd.DataFrame()}, {})} == {
        "mg:g", "mg:g'", "mg:teacher",
        # SITT at the grid's selection, fixed before its reported runs
        "mg:tuned:g:without_alignment", "mg:tuned:g:bc", "mg:tuned:g:dagger", "mg:tuned:g:hlrl", "mg:tuned:g:dwbc",
        "mg:tuned:g:cosil", "mg:tuned:paper",
        # equal budgets (minigrid_budget), fixed before its runs
        "mg:g:hlrl_eq", "mg:g:cosil_eq", "mg:teacher_helps", "mg:2x:hlrl", "mg:2x:cosil", "mg:2x:teacher_helps"}
    assert TASK.experiments[BUDGET_EXPERIMENT] == (
        "sitt_tuned", "without_alignment", "hlrl", "cosil", "without_alignment_half", "hlrl_eq", "cosil_eq",
        "student_rl", "sitt_2x", "student_rl_2x")
    assert set(TASK.experiments) == {"minigrid_main", TUNING, "minigrid_grid", BUDGET_EXPERIMENT}


# ------------------------------------------------------------------------------------ smoke sweep to the table


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    from study.sweep import sweep

    root = tmp_path_factory.mktemp("minigrid") / "runs"
    configs = experiment_configs("minigrid_main", "smoke", [0, 1])
    result = sweep(configs, root, jobs=1, progress=False)
    assert result.ok, result.summary()
    return root


@pytest.mark.slow
def test_smoke_sweep_end_to_end_into_the_table(smoke_store):
    from study import tables
    from study.load import load_eval, load_provenance

    rows = load_eval(smoke_store, "minigrid_main")
    assert set(rows["task"]) == {"minigrid_lava"} and set(rows["arm"]) == {*MAIN_ARMS, "sitt_tuned"}
    assert len(rows) == 9 * 2 * 2 * 4  # arms x seeds x policies x held-out levels
    shas = {load_provenance(smoke_store / "minigrid_main" / a / f"seed_{s}")["eval_set_sha256"]
            for a in MAIN_ARMS for s in (0, 1)}
    assert shas == {TASK.held_out(preset("minigrid_main", "bc", 0, "smoke")).sha256}
    prov = load_provenance(smoke_store / "minigrid_main" / "sitt_release" / "seed_1")
    assert prov["env_id"] == STUDY_ENV["env_id"]
    assert prov["train_stream_seeds"] == [train_stream_seed(1, i) for i in range(4)]
    assert prov["train_levels_started"] >= 4 and 1 <= prov["eval_distinct_layouts"] <= 4
    main = tables.main_table(rows)
    assert list(main["n_seeds"]) == [2] * len(main) and len(main) == 18
    for col in ("success_mean", "success_ci_low", "lava_mean", "lava_ci_high", "steps_mean", "return_mean",
                "timeout_mean"):
        assert col in main
    per = tables.per_seed(rows)
    hand = rows[(rows.arm == "dagger") & (rows.policy == "student") & (rows.seed == 1)]
    got = per[(per.arm == "dagger") & (per.policy == "student") & (per.seed == 1)].iloc[0]
    assert got["steps"] == hand["steps"].mean() and got["lava_share"] == hand["lava"].astype(float).mean()
    assert np.isclose(main.loc[(main.arm == "dagger") & (main.policy == "student"), "steps_mean"].iloc[0],
                      per[(per.arm == "dagger") & (per.policy == "student")]["steps"].mean())
    positions = np.load(smoke_store / "minigrid_main" / "bc" / "seed_0" / "positions.npz")
    assert positions["student"].shape == (4, 17, 3) and positions["teacher"].shape == (4, 17, 3)


@pytest.mark.slow
def test_figures_and_report_from_the_smoke_store(smoke_store, tmp_path):
    from minigrid_lava import figures as mg_figures
    from study import report

    fig = mg_figures.episodes_figure(smoke_store, "minigrid_main", level=1)
    assert fig.minigrid_info["seed"] == 0 and fig.minigrid_info["missing"] == []
    assert fig.minigrid_info["level_seed"] == int(held_out_level_seeds(20250707, 4)[1])
    fig.savefig(tmp_path / "episodes.png")
    assert len([a for a in fig.axes if a.images]) == 9  # every main arm, sitt_tuned included
    empty = mg_figures.episodes_figure(tmp_path / "none", "minigrid_main")
    assert empty.minigrid_info["seed"] is None
    view = mg_figures.level_view_figure("minigrid_main", "smoke", 2)
    assert len(view.axes) == 2
    with pytest.raises(ValueError, match=r"^level: got 4; allowed: a held-out level index in 0-3"):
        mg_figures.level_view_figure("minigrid_main", "smoke", 4)
    built = report.build_report("smoke", smoke_store, tmp_path / "out", jobs=1)
    assert (tmp_path / "out" / "tables" / "minigrid_main.csv").is_file()
    assert {"mg:g", "mg:g'", "mg:teacher"} <= set(built["claims"]["id"])


def test_no_runs_write_no_table(tmp_path):
    from study import report

    report.build_report("default", tmp_path / "runs", tmp_path / "out", jobs=1)
    assert not (tmp_path / "out" / "tables" / "minigrid_main.csv").exists()


# ---------------------------------------------------------------------------------------------- the notebook


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebook", REPO / "notebooks" / "run_notebook.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_notebook"] = module
    spec.loader.exec_module(module)
    return module


def test_notebook_parameters_are_validated(capsys):
    from study.params import check_notebook_parameters, notebook_defaults

    notebook = TASK.notebooks["minigrid_main"]  # the task names its notebook (70_minigrid)
    defaults = notebook_defaults(REPO / "notebooks" / f"{notebook}.py")
    assert defaults == dict(profile="default", root="results/runs", out="results", seeds="0-4", run=False, jobs=2,
                            level=0)
    check_notebook_parameters(notebook, defaults, {"profile": "smoke", "seeds": "0-1", "level": 3})
    rn = _runner()
    for given, needle in [
        ([("nope", "1")],
         f"{notebook}: unknown parameter 'nope'; allowed: profile, root, out, seeds, run, jobs, level"),
        ([("seeds", "x")], "seeds: got 'x'; allowed: a seed spec"),
        ([("level", "'a'")], "parameter level: got 'a'"),
        ([("run", "2")], "parameter run: got 2"),
    ]:
        argv = [notebook, "--no-html"] + [x for k, v in given for x in ("-p", k, v)]
        assert rn.main(argv) == 2
        assert needle in capsys.readouterr().err
