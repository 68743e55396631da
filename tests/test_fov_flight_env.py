"""FovFlightEnv: exact kinematics on hand-set states, collisions with pillars and walls, reward, truncation,
auto-reset and terminal observations, from_worlds replays, seeding, equality with the per-env reference,
the SB3 protocol, and every validation error of the config, the env and the worlds."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from fov_flight import FlightConfig, FovFlightEnv, Worlds, generate_worlds
from fov_flight.generation import validate_worlds
from fov_flight.reference import ReferenceFlight

CFG = FlightConfig()


def world(pillars=(), start=(1.0, 0.0), yaw=0.0, config=CFG) -> Worlds:
    """One hand-built world: the listed pillars (x, y, r), the other slots absent (radius 0)."""
    P = config.n_pillars
    centres = np.zeros((1, P, 2))
    radii = np.zeros((1, P))
    for k, (x, y, r) in enumerate(pillars):
        centres[0, k] = (x, y)
        radii[0, k] = r
    return Worlds(centres, radii, np.array([start], dtype=float), np.array([yaw], dtype=float))


def env1(pillars=(), start=(1.0, 0.0), yaw=0.0, config=CFG) -> FovFlightEnv:
    env = FovFlightEnv.from_worlds(world(pillars, start, yaw, config), config)
    env.reset()
    return env


def step1(env: FovFlightEnv, action):
    obs, rew, done, infos = env.step(np.array([action], dtype=np.float64))
    assert obs.shape == (1, env.config.obs_dim) and obs.dtype == np.float32
    assert rew.shape == (1,) and done.shape == (1,) and len(infos) == 1
    return obs[0], float(rew[0]), bool(done[0]), infos[0]


# ----------------------------------------------------------------------------- kinematics
def test_reset_observation_layout():
    env = env1([(8.0, 1.0, 0.5), (4.0, -2.0, 0.4)], start=(1.0, 0.9), yaw=0.5)
    obs = env.reset()[0]
    assert env.observation_space.shape == (42,) and env.action_space.shape == (3,)
    np.testing.assert_allclose(obs[:6], [1 / 25, 0.9 / 4.5, 0, 0, math.cos(0.5), math.sin(0.5)], rtol=1e-6)
    # nearest surface first: (4, -2) r 0.4 (surface 3.97) before (8, 1) r 0.5 (6.5)
    np.testing.assert_allclose(obs[6:12], [3 / 7, -2.9 / 7, 0.4, 7 / 7, 0.1 / 7, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(obs[12:], 0.0)  # absent pillars


def test_kinematics_exact_on_hand_set_states():
    env = env1()
    obs, rew, done, _ = step1(env, [1.0, 0.5, 1.0])  # a = (4, 2) m/s^2, yaw rate 3 rad/s, dt 0.1
    np.testing.assert_allclose(env.pos[0], [1.04, 0.02], atol=1e-15)
    np.testing.assert_allclose(env.vel[0], [0.4, 0.2], atol=1e-15)
    assert env.yaw[0] == pytest.approx(0.3, abs=1e-15)
    assert rew == pytest.approx(0.04, abs=1e-12) and not done
    np.testing.assert_allclose(obs[:6], [1.04 / 25, 0.02 / 4.5, 0.4 / 3, 0.2 / 3, math.cos(0.3), math.sin(0.3)],
                               rtol=1e-6)
    step1(env, [1.0, 0.0, 0.0])  # translation ignores the heading
    np.testing.assert_allclose(env.pos[0], [1.12, 0.04], atol=1e-15)
    np.testing.assert_allclose(env.vel[0], [0.8, 0.2], atol=1e-15)
    assert env.yaw[0] == pytest.approx(0.3, abs=1e-15)
    # actions are clipped to [-1, 1]
    step1(env, [-7.0, 0.0, -9.0])
    np.testing.assert_allclose(env.vel[0], [0.4, 0.2], atol=1e-15)
    assert env.yaw[0] == pytest.approx(0.0, abs=1e-15)


def test_speed_is_clipped_and_yaw_wraps():
    env = env1(start=(5.0, 0.0), yaw=3.0)
    env.set_state(vel=[[3.0, 0.0]])
    step1(env, [1.0, 1.0, 1.0])
    v = np.array([3.4, 0.4]) * (3.0 / math.hypot(3.4, 0.4))
    np.testing.assert_allclose(env.vel[0], v, atol=1e-15)
    np.testing.assert_allclose(env.pos[0], np.array([5.0, 0.0]) + 0.1 * v, atol=1e-15)
    assert math.hypot(*env.vel[0]) == pytest.approx(3.0, abs=1e-12)
    assert env.yaw[0] == pytest.approx(3.3 - 2 * math.pi, abs=1e-12)


# ----------------------------------------------------------------------------- collisions, reward
def test_pillar_collision_at_the_end_of_the_move():
    env = env1([(3.0, 0.0, 0.5)], start=(2.2, 0.0))  # collision radius 0.5 + 0.25
    env.set_state(vel=[[0.4, 0.0]])
    _, rew, done, _ = step1(env, [0, 0, 0])  # x = 2.24: distance 0.76
    assert not done and rew == pytest.approx(0.04)
    obs, rew, done, info = step1(env, [0, 0, 0])  # x = 2.28: distance 0.72
    assert done and info["collision"] and not info["is_success"] and not info["TimeLimit.truncated"]
    assert rew == pytest.approx(0.04 - 10.0)
    assert info["episode"]["l"] == 2 and info["episode"]["r"] == pytest.approx(0.08 - 10.0)
    np.testing.assert_allclose(info["terminal_observation"][0], 2.28 / 25, rtol=1e-6)
    np.testing.assert_allclose(env.final_pos[0], [2.28, 0.0], atol=1e-12)
    # auto-reset: back at the start, at rest
    np.testing.assert_allclose(obs[:4], [2.2 / 25, 0, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(env.pos[0], [2.2, 0.0])


def test_pillar_collision_along_the_segment_between_steps():
    cfg = dataclasses.replace(CFG, dt=0.5)
    env = env1([(3.0, 0.0, 0.3)], start=(2.3, 0.0), config=cfg)
    env.set_state(vel=[[3.0, 0.0]])
    _, _, done, info = step1(env, [0, 0, 0])  # 2.3 -> 3.8: both ends outside 0.55, the segment through
    assert done and info["collision"]
    env = env1([(3.0, 0.6, 0.3)], start=(2.3, 0.0), config=cfg)  # passes 0.6 > 0.55 away
    env.set_state(vel=[[3.0, 0.0]])
    _, _, done, _ = step1(env, [0, 0, 0])
    assert not done


@pytest.mark.parametrize("pos, vel, steps_ok", [
    ((5.0, 4.2), (0.0, 0.4), 1),    # side wall y = +4.5 (body 0.25): y 4.24 ok, 4.28 hit
    ((5.0, -4.2), (0.0, -0.4), 1),  # side wall y = -4.5
    ((0.3, 0.0), (-0.4, 0.0), 1),   # back wall x = 0: x 0.26 ok, 0.22 hit
])
def test_wall_collisions(pos, vel, steps_ok):
    env = env1(start=pos)
    env.set_state(vel=[vel])
    for _ in range(steps_ok):
        assert not step1(env, [0, 0, 0])[2]
    _, rew, done, info = step1(env, [0, 0, 0])
    assert done and info["collision"] and rew == pytest.approx(-0.04 * (vel[0] < 0) - 10.0)


def test_success_on_crossing_the_goal_line_and_collision_wins_on_the_same_step():
    env = env1(start=(24.9, 0.0))
    env.set_state(vel=[[3.0, 0.0]])
    _, rew, done, info = step1(env, [0, 0, 0])
    assert done and info["is_success"] and not info["collision"]
    assert rew == pytest.approx(0.3 + 10.0)
    cfg = dataclasses.replace(CFG, dt=0.5)
    env = env1([(24.8, 0.0, 0.3)], start=(24.0, 0.0), config=cfg)
    env.set_state(vel=[[3.0, 0.0]])
    _, rew, done, info = step1(env, [0, 0, 0])  # crosses x = 25 through the pillar
    assert done and info["collision"] and not info["is_success"]
    assert rew == pytest.approx(1.5 - 10.0)


def test_truncation_at_the_time_limit_and_replay():
    cfg = dataclasses.replace(CFG, time_limit=3)
    env = env1(start=(5.0, 1.0), yaw=0.7, config=cfg)
    first = env.reset()
    for t in range(3):
        obs, rew, done, info = step1(env, [0.5, 0.0, 0.2])
        assert done == (t == 2)
    assert info["TimeLimit.truncated"] and not info["is_success"] and not info["collision"]
    assert info["episode"]["l"] == 3
    np.testing.assert_array_equal(obs, first[0])  # from_worlds replays the same start
    assert env.episode_length[0] == 0 and env.episode_return[0] == 0.0


def test_from_worlds_replays_the_same_episode():
    worlds = generate_worlds(6, CFG, seed=3)
    env = FovFlightEnv.from_worlds(worlds, CFG)
    np.testing.assert_array_equal(env.world_index, np.arange(6))
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, size=(30, 6, 3))
    runs = []
    for _ in range(2):
        obs = [env.reset()]
        for a in actions:
            obs.append(env.step(a)[0])
        runs.append(np.stack(obs))
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_allclose(env.reset()[:, 0] * 25, worlds.start[:, 0], rtol=1e-6)


# ----------------------------------------------------------------------------- training env
def test_training_env_auto_reset_draws_pool_worlds_and_fresh_starts():
    env = FovFlightEnv(n_envs=64, config=CFG, seed=1, pool_size=50)
    assert len(env.worlds) == 50
    env.reset()
    rng = np.random.default_rng(0)
    seen_done = 0
    for _ in range(60):
        before = env.world_index.copy()
        obs, rew, done, infos = env.step(rng.uniform(-1, 1, size=(64, 3)))
        for i in np.flatnonzero(done):
            seen_done += 1
            term = infos[i]["terminal_observation"]
            np.testing.assert_allclose(term[:2], [env.final_pos[i, 0] / 25, env.final_pos[i, 1] / 4.5], atol=1e-6)
            assert infos[i]["TimeLimit.truncated"] == (not (infos[i]["collision"] or infos[i]["is_success"]))
            # the new episode starts at rest at start_x, in the pool world it now flies
            np.testing.assert_allclose(obs[i, [0, 2, 3]], [1 / 25, 0, 0], atol=1e-7)
            w = env.world_index[i]
            assert abs(env.pos[i, 1]) <= CFG.start_y_range
            dx = env.worlds.centres[w, :, 0] - env.pos[i, 0]
            np.testing.assert_allclose(np.sort(obs[i, 6::3] * 7), np.sort(dx), atol=1e-5)  # K = P: all listed
        assert np.all(env.world_index[~done] == before[~done])
        assert all(not infos[i] for i in np.flatnonzero(~done))
    assert seen_done > 20


def test_training_env_is_seeded():
    rng = np.random.default_rng(5)
    actions = rng.uniform(-1, 1, size=(40, 16, 3))

    def run(seed, reseed=None):
        env = FovFlightEnv(n_envs=16, config=CFG, seed=seed, pool_size=20)
        if reseed is not None:
            env.seed(reseed)
        out = [env.reset()]
        out += [env.step(a)[0] for a in actions]
        return np.stack(out), env

    a, env_a = run(0)
    b, _ = run(0)
    c, env_c = run(1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(env_a.worlds.centres, env_c.worlds.centres)
    # seed(s) restarts the episode stream; the pool is kept
    d, env_d = run(0, reseed=7)
    e, _ = run(0, reseed=7)
    np.testing.assert_array_equal(d, e)
    assert not np.array_equal(a, d)
    np.testing.assert_array_equal(env_a.worlds.centres, env_d.worlds.centres)
    assert env_d.seed(3) == list(range(3, 19)) and env_d.seed(None) == [None] * 16


def test_vectorised_step_matches_the_per_env_reference():
    worlds = generate_worlds(12, CFG, seed=11)
    env = FovFlightEnv.from_worlds(worlds, CFG)
    env.reset()
    refs = [ReferenceFlight(worlds.centres[i], worlds.radii[i], worlds.start[i], worlds.start_yaw[i], CFG)
            for i in range(12)]
    rng = np.random.default_rng(2)
    alive = np.ones(12, dtype=bool)
    n_coll = 0
    for _ in range(CFG.time_limit):
        a = rng.uniform(-1.2, 1.2, size=(12, 3))
        a[:, 0] += 0.5  # drift forward
        _, rew, done, infos = env.step(a)
        for i in np.flatnonzero(alive):
            r, coll, succ, trunc = refs[i].step(a[i])
            assert rew[i] == pytest.approx(r, abs=1e-12)
            assert done[i] == (coll or succ or trunc)
            np.testing.assert_allclose(env.final_pos[i], [refs[i].x, refs[i].y], atol=1e-12)
            np.testing.assert_allclose(env.final_vel[i], [refs[i].vx, refs[i].vy], atol=1e-12)
            assert env.final_yaw[i] == pytest.approx(refs[i].yaw, abs=1e-12)
            if done[i]:
                assert infos[i]["collision"] == coll and infos[i]["is_success"] == succ
                n_coll += coll
        alive &= ~done
        if not alive.any():
            break
    assert n_coll >= 3  # the comparison covered collisions


def test_ppo_runs_on_the_env():
    torch.manual_seed(0)
    env = FovFlightEnv(n_envs=8, config=CFG, seed=0, pool_size=8)
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=256)
    action, _ = model.predict(env.reset(), deterministic=True)
    assert action.shape == (8, 3)
    assert env.student_obs(env.reset()).shape == (8, CFG.student_dim())


# ----------------------------------------------------------------------------- validation
BAD_FIELDS = [
    ("length", 0.0), ("width", -1.0), ("n_pillars", 0), ("n_pillars", 2.5), ("pillar_radius_min", 0.0),
    ("pillar_radius_max", 0.1), ("pillar_radius_max", 5.0), ("pillar_x_min", 0.5), ("pillar_x_min", 30.0),
    ("pillar_end_gap", -1.0), ("pillar_end_gap", 22.0), ("min_passage_width", 0.4), ("min_passage_width", 9.0),
    ("grid_resolution", 0.0), ("grid_resolution", 0.6), ("start_x", 0.1), ("start_x", 26.0),
    ("start_y_range", -0.5), ("start_y_range", 4.4), ("start_yaw_range_deg", 190.0), ("body_radius", 0.0),
    ("dt", 0.0), ("max_accel", -1.0), ("max_speed", 0.0), ("max_yaw_rate", float("nan")), ("time_limit", 0),
    ("time_limit", 10.5), ("k_nearest", 0), ("k_nearest", 13), ("n_rays", 0), ("fov_deg", 0.0),
    ("fov_deg", 400.0), ("ray_range", 0.0), ("progress_coef", -1.0), ("collision_penalty", -1.0),
    ("success_bonus", float("inf")), ("length", True),
]


@pytest.mark.parametrize("field, value", BAD_FIELDS)
def test_every_config_error_names_its_field(field, value):
    cfg = dataclasses.replace(CFG, **{field: value})
    with pytest.raises(ValueError, match=rf"^env\.{field}: got .*; allowed: "):
        cfg.validate()
    with pytest.raises(ValueError, match=rf"^task\.env\.{field}: got "):
        cfg.validate(prefix="task.env.")
    with pytest.raises(ValueError, match=rf"^env\.{field}: "):
        FovFlightEnv(n_envs=1, config=cfg)


def test_every_config_field_is_checked_by_some_case():
    fields = {f.name for f in dataclasses.fields(FlightConfig)}
    assert fields == {f for f, _ in BAD_FIELDS}
    assert CFG.validate() is CFG


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_envs=0), r"^n_envs: got 0; allowed"),
    (dict(n_envs=2.0), r"^n_envs: got 2.0; allowed"),
    (dict(n_envs=2, seed=-1), r"^seed: got -1; allowed"),
    (dict(n_envs=2, seed="a"), r"^seed: got 'a'; allowed"),
    (dict(n_envs=2, pool_size=0), r"^pool_size: got 0; allowed"),
])
def test_env_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FovFlightEnv(**kwargs)


def test_action_errors():
    env = env1()
    with pytest.raises(ValueError, match=r"^actions: got shape \(3,\); allowed: \(1, 3\)"):
        env.step(np.zeros(3))
    with pytest.raises(ValueError, match=r"^actions: got non-finite"):
        env.step(np.array([[np.nan, 0, 0]]))


def test_world_errors():
    good = world([(5.0, 0.0, 0.5)])
    validate_worlds(good, CFG)
    cases = [
        (dataclasses.replace(good, radii=np.zeros((1, 5))), r"^worlds\.radii: got shape \(1, 5\)"),
        (dataclasses.replace(good, centres=np.zeros((1, 12, 3))), r"^worlds\.centres: got shape"),
        (dataclasses.replace(good, start=np.zeros((2, 2))), r"^worlds\.start: got shape"),
        (dataclasses.replace(good, start_yaw=np.zeros((1, 1))), r"^worlds\.start_yaw: got shape"),
        (dataclasses.replace(good, start_yaw=np.array([np.nan])), r"^worlds\.start_yaw: got non-finite"),
        (dataclasses.replace(good, radii=-good.radii), r"^worlds\.radii: got a minimum"),
        (world([(30.0, 0.0, 0.5)]), r"^worlds\.centres: got a pillar centre outside"),
        (world(start=(1.0, 4.4)), r"^worlds\.start: got a start outside"),
    ]
    for bad, match in cases:
        with pytest.raises(ValueError, match=match):
            FovFlightEnv.from_worlds(bad, CFG)
    with pytest.raises(ValueError, match=r"^worlds: got dict"):
        FovFlightEnv.from_worlds({}, CFG)
