"""OccludedDrawerEnv: exact kinematics, clipping, visibility against a brute-force reference, the student
view from the teacher observation, grasp/pull/slip mechanics on hand-set states, auto-reset, seeding,
from_scenes replays, the SB3 protocol and validation errors."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from occluded_drawer import (
    DrawerConfig,
    OccludedDrawerEnv,
    Scenes,
    generate_scenes,
    obs_layout,
    student_obs,
    visibility_from_obs,
)
from occluded_drawer.geometry import (
    forward_kinematics,
    handle_visible,
    inverse_kinematics_2link,
    link_points,
    link_points_from_cos_sin,
    segment_segment_distance,
    sight_segment,
)

CFG = DrawerConfig()
LAY = obs_layout(2)
CFG3 = DrawerConfig(
    link_lengths=(1.0, 0.6, 0.3),
    joint_limits=((-math.pi, math.pi), (-2.8, 2.8), (-2.8, 2.8)),
    init_joint_ranges=((-0.2, 0.2), (-1.1, -0.5), (-0.3, 0.3)),
)


def one_env(config=CFG, **state) -> tuple[OccludedDrawerEnv, np.ndarray]:
    env = OccludedDrawerEnv(1, config=config, seed=0)
    env.reset()
    obs = env.set_state(**state)
    return env, obs


def act(env, joints=(0.0, 0.0), grip=-1.0):
    a = np.array([[*joints, grip]], dtype=np.float32)
    obs, rew, done, infos = env.step(a)
    return obs[0], float(rew[0]), bool(done[0]), infos[0]


# ----------------------------------------------------------------------------- kinematics
@pytest.mark.parametrize(
    "q, expected",
    [
        ((0.0, 0.0), (2.0, 0.0)),
        ((math.pi / 2, 0.0), (0.0, 2.0)),
        ((0.0, math.pi / 2), (1.0, 1.0)),
        ((math.pi / 2, -math.pi / 2), (1.0, 1.0)),
        ((math.pi / 2, math.pi / 2), (-1.0, 1.0)),
        ((-math.pi / 2, math.pi), (0.0, 0.0)),
    ],
)
def test_forward_kinematics_on_hand_set_angles(q, expected):
    np.testing.assert_allclose(forward_kinematics(np.array(q), (1.0, 1.0)), expected, atol=1e-12)
    cfg = dataclasses.replace(CFG, joint_limits=((-math.pi, math.pi), (-math.pi, math.pi)))
    _, obs = one_env(cfg, q=[q])
    np.testing.assert_allclose(obs[0, LAY.gripper], expected, atol=1e-6)
    np.testing.assert_allclose(obs[0, LAY.cos_q], np.cos(q), atol=1e-7)
    np.testing.assert_allclose(obs[0, LAY.sin_q], np.sin(q), atol=1e-7)


def test_forward_kinematics_three_links_and_link_points():
    pts = link_points(np.array([math.pi / 2, -math.pi / 2, -math.pi / 2]), (1.0, 0.6, 0.3))
    np.testing.assert_allclose(pts, [[0, 0], [0, 1.0], [0.6, 1.0], [0.6, 0.7]], atol=1e-12)
    env, obs = one_env(CFG3, q=[[math.pi / 2, -math.pi / 2, -math.pi / 2]])
    lay3 = obs_layout(3)
    assert obs.shape == (1, lay3.dim) == (1, 16)
    np.testing.assert_allclose(obs[0, lay3.gripper], [0.6, 0.7], atol=1e-6)


def test_link_points_from_cos_sin_equal_link_points():
    q = np.random.default_rng(2).uniform(-math.pi, math.pi, size=(50, 3))
    np.testing.assert_allclose(link_points_from_cos_sin(np.cos(q), np.sin(q), (1.0, 0.6, 0.3)),
                               link_points(q, (1.0, 0.6, 0.3)), atol=1e-12)


@pytest.mark.parametrize("cfg", [CFG, CFG3], ids=["2 links", "3 links"])
def test_fast_visibility_from_obs_equals_the_geometry_rule(cfg):
    """visibility_from_obs (component arrays) against geometry.handle_visible on the same float64 numbers."""
    rng = np.random.default_rng(5)
    n, lay = 5000, obs_layout(cfg.n_links)
    q = rng.uniform(-math.pi, math.pi, size=(n, cfg.n_links))
    handle = np.stack([rng.uniform(0.3, 1.9, n), rng.uniform(-1.0, 1.0, n)], -1)
    obs = np.zeros((n, lay.dim))
    obs[:, lay.cos_q], obs[:, lay.sin_q], obs[:, lay.handle] = np.cos(q), np.sin(q), handle
    expected = handle_visible(link_points(q, cfg.link_lengths), handle, cfg)
    assert 0.1 < expected.mean() < 0.9
    np.testing.assert_array_equal(visibility_from_obs(obs, cfg), expected)


@pytest.mark.parametrize("elbow", ["up", "down"])
def test_inverse_kinematics_reaches_targets_on_its_branch(elbow):
    rng = np.random.default_rng(0)
    r = rng.uniform(0.2, 1.95, 500)
    a = rng.uniform(-math.pi, math.pi, 500)
    target = np.stack([r * np.cos(a), r * np.sin(a)], -1)
    q = inverse_kinematics_2link(target, 1.0, 1.0, elbow)
    np.testing.assert_allclose(forward_kinematics(q, (1.0, 1.0)), target, atol=1e-9)
    assert np.all(q[:, 1] <= 0) if elbow == "up" else np.all(q[:, 1] >= 0)


def test_joint_velocity_and_limit_clipping():
    env, _ = one_env(q=[[0.1, 2.75]])
    obs, *_ = act(env, joints=(5.0, 1.0))  # joint 1 clipped to +1; joint 2 stops at the limit 2.8
    np.testing.assert_allclose(env.q[0], [0.1 + CFG.step_angle, 2.8], atol=1e-12)
    np.testing.assert_allclose(obs[LAY.qdot], [1.0, 0.5], atol=1e-6)
    obs, *_ = act(env, joints=(-0.5, 1.0))
    np.testing.assert_allclose(env.q[0], [0.1 + 0.5 * CFG.step_angle, 2.8], atol=1e-12)
    np.testing.assert_allclose(obs[LAY.qdot], [-0.5, 0.0], atol=1e-6)
    obs, *_ = act(env, joints=(0.0, -3.0))
    np.testing.assert_allclose(env.q[0, 1], 2.8 - CFG.step_angle, atol=1e-12)


# ----------------------------------------------------------------------------- visibility
def _brute_force_visible(pts, handle, cfg, samples=4001):
    """Sample the sight segment; blocked if a sample is within link_radius of a link; fov by angles."""
    cam = np.asarray(cfg.camera_position)
    ray = handle - cam
    dist = np.linalg.norm(ray)
    end = handle - ray / dist * cfg.handle_clearance
    s = np.linspace(0.0, 1.0, samples)[:, None]
    line = cam + s * (end - cam)  # (S, 2)
    best = np.inf
    for a, b in zip(pts[:-1], pts[1:]):
        ab = b - a
        t = np.clip(((line - a) @ ab) / (ab @ ab), 0.0, 1.0)
        best = min(best, np.min(np.linalg.norm(line - (a + t[:, None] * ab), axis=1)))
    off = abs(math.remainder(math.atan2(ray[1], ray[0]) - cfg.camera_angle, 2 * math.pi))
    return (best >= cfg.link_radius) and (off <= cfg.camera_fov / 2), best, off


@pytest.mark.parametrize("cfg", [CFG, CFG3], ids=["2 links", "3 links"])
def test_visibility_matches_brute_force_reference(cfg):
    rng = np.random.default_rng(1)
    n = 400
    lo = np.array([lim[0] for lim in cfg.joint_limits])
    hi = np.array([lim[1] for lim in cfg.joint_limits])
    q = rng.uniform(lo, hi, size=(n, cfg.n_links))
    handle = np.stack([rng.uniform(0.3, 1.9, n), rng.uniform(-1.0, 1.0, n)], -1)  # some outside the fov
    pts = link_points(q, cfg.link_lengths)
    got = handle_visible(pts, handle, cfg)
    step = 2.5 / 4000  # sampling resolution along the sight segment
    checked = blocked = outside = 0
    for i in range(n):
        ref, best, off = _brute_force_visible(pts[i], handle[i], cfg)
        if abs(best - cfg.link_radius) < step or abs(off - cfg.camera_fov / 2) < 1e-9:
            continue  # too close to the boundary for the sampled reference
        checked += 1
        blocked += best < cfg.link_radius
        outside += off > cfg.camera_fov / 2
        assert got[i] == ref, (i, q[i], handle[i], best, off)
    assert checked > 380 and blocked > 60 and outside > 30 and checked - blocked - outside > 60


def test_visibility_hand_set_cases():
    h = np.array([1.5, 0.2])
    up = link_points(np.array([math.pi / 2, 0.0]), (1.0, 1.0))  # arm straight up through the sight line
    down = link_points(np.array([-math.pi / 2, 0.0]), (1.0, 1.0))  # arm straight down, clear of it
    assert not handle_visible(up, h, CFG) and handle_visible(down, h, CFG)
    behind = np.array([-1.5, 0.3])  # behind the camera: out of the field of view, arm clear
    assert not handle_visible(down, behind, CFG)
    # the gripper ON the handle does not hide it by itself (handle_clearance), the forearm across it does
    q_grasp_down = inverse_kinematics_2link(h, 1.0, 1.0, "down")
    q_grasp_up = inverse_kinematics_2link(h, 1.0, 1.0, "up")
    assert handle_visible(link_points(q_grasp_down, (1.0, 1.0)), h, CFG)
    assert not handle_visible(link_points(q_grasp_up, (1.0, 1.0)), h, CFG)
    # thickness: a link passing 0.03 from the sight segment blocks (radius 0.04), at 0.05 it does not
    cam, end = sight_segment(h, CFG)
    mid = (cam + end) / 2
    normal = np.array([-(end - cam)[1], (end - cam)[0]]) / np.linalg.norm(end - cam)
    for gap, expected in ((0.03, False), (0.05, True)):
        p = mid + gap * normal
        seg = np.stack([p, p + 0.5 * normal])
        assert np.isclose(segment_segment_distance(cam, end, seg[0], seg[1]), gap)
        assert bool(segment_segment_distance(cam, end, seg[0], seg[1]) >= CFG.link_radius) == expected


def test_segment_segment_distance_cases():
    z = np.zeros(2)
    assert segment_segment_distance(z, [2, 0], [1, -1], [1, 1]) == 0.0  # crossing
    assert np.isclose(segment_segment_distance(z, [2, 0], [3, -1], [3, 1]), 1.0)  # beyond the end
    assert np.isclose(segment_segment_distance(z, [2, 0], [0.5, 0.3], [1.5, 0.3]), 0.3)  # parallel
    assert np.isclose(segment_segment_distance(z, [2, 0], [1, 0.5], [1, 2]), 0.5)  # T, not touching


def test_view_from_teacher_obs_equals_view_from_state():
    env = OccludedDrawerEnv(2000, seed=3)
    env.reset()
    rng = np.random.default_rng(4)
    q = rng.uniform([-math.pi, -2.8], [math.pi, 2.8], size=(2000, 2))
    obs = env.set_state(q=q, opening=rng.uniform(0, CFG.max_opening, 2000))
    from_state = env.visible()
    from_obs = visibility_from_obs(obs, CFG)
    # float32 observations may flip a state that lies within ~1e-6 of the boundary: none here
    pts = link_points(env.q, CFG.link_lengths)
    cam, end = sight_segment(env.handle, CFG)
    distance = segment_segment_distance(cam[:, None], end[:, None], pts[:, :-1], pts[:, 1:])
    margin = np.abs(distance - CFG.link_radius).min(1)
    clear = margin > 1e-4
    assert clear.mean() > 0.99 and 0.2 < from_state.mean() < 0.9
    np.testing.assert_array_equal(from_obs[clear], from_state[clear])
    np.testing.assert_array_equal(student_obs(obs, CFG)[:, -1] == 1.0, from_obs)
    np.testing.assert_array_equal(env.student_obs(obs), student_obs(obs, CFG))


def test_student_obs_masks_handle_and_opening_only():
    env = OccludedDrawerEnv(4, seed=0)
    env.reset()
    q = [[math.pi / 2, 0.0], [-math.pi / 2, 0.0], [math.pi / 2, 0.0], [-math.pi / 2, 0.0]]
    obs = env.set_state(q=q, opening=[0.1, 0.1, 0.0, 0.3], closed=[1, 0, 0, 1], holding=[0, 0, 0, 1])
    before = obs.copy()
    s = student_obs(obs, CFG)
    np.testing.assert_array_equal(obs, before)  # pure: the input is untouched
    assert s.shape == (4, LAY.student_dim) == (4, 14) and s.dtype == np.float32
    np.testing.assert_array_equal(s[:, -1], [0, 1, 0, 1])
    proprio = np.r_[0 : LAY.handle.start]
    np.testing.assert_array_equal(s[:, proprio], obs[:, proprio])
    np.testing.assert_array_equal(s[[0, 2]][:, [LAY.handle.start, LAY.handle.start + 1, LAY.opening]], 0.0)
    np.testing.assert_array_equal(s[[1, 3], : LAY.dim], obs[[1, 3]])
    # batched shapes (..., D)
    np.testing.assert_array_equal(student_obs(obs.reshape(2, 2, -1), CFG).reshape(4, -1), s)
    with pytest.raises(ValueError, match="obs: got shape"):
        student_obs(obs[:, :-1], CFG)


# ----------------------------------------------------------------------------- mechanics
def _at_handle_state(q=(-0.3, 1.2)):
    """A state with the gripper exactly on the closed handle."""
    g = forward_kinematics(np.array(q), CFG.link_lengths)
    return dict(q=[q], handle_closed=[g])


def test_grasp_when_closing_at_the_handle():
    env, obs = one_env(**_at_handle_state())
    assert obs[0, LAY.closed] == 0 and obs[0, LAY.holding] == 0
    obs, r, done, info = act(env, grip=1.0)
    assert obs[LAY.closed] == 1 and obs[LAY.holding] == 1 and not done and info == {}
    assert env.grasp_attempts[0] == 1 and env.missed_grasps[0] == 0
    assert math.isclose(r, -CFG.time_penalty, abs_tol=1e-6)
    obs, r, *_ = act(env, grip=1.0)  # staying closed is no new attempt
    assert env.grasp_attempts[0] == 1 and obs[LAY.holding] == 1
    obs, r, *_ = act(env, grip=-1.0)  # opening releases
    assert obs[LAY.holding] == 0 and obs[LAY.closed] == 0 and env.grasp_attempts[0] == 1


def test_miss_and_closed_gripper_does_not_grasp():
    state = _at_handle_state()
    state["handle_closed"] = [np.asarray(state["handle_closed"][0]) + [0.0, CFG.grasp_radius + 0.01]]
    env, _ = one_env(**state)
    obs, r, *_ = act(env, grip=1.0)
    assert obs[LAY.holding] == 0 and env.grasp_attempts[0] == 1 and env.missed_grasps[0] == 1
    assert math.isclose(r, -CFG.time_penalty - CFG.miss_penalty, abs_tol=1e-6)
    env, _ = one_env(closed=[True], **_at_handle_state())  # arrives closed: must open and close
    obs, r, *_ = act(env, grip=1.0)
    assert obs[LAY.holding] == 0 and env.grasp_attempts[0] == 0


def test_pull_opens_along_the_rail_with_exact_reward():
    q0 = np.array([-0.3, 1.2])
    env, obs = one_env(**_at_handle_state(tuple(q0)))
    h0 = forward_kinematics(q0, CFG.link_lengths)
    act(env, grip=1.0)
    joints = np.array([-0.35, 0.9])
    q1 = q0 + joints * CFG.step_angle
    obs, r, done, _ = act(env, joints=joints, grip=1.0)
    g1 = np.array([math.cos(q1[0]) + math.cos(q1.sum()), math.sin(q1[0]) + math.sin(q1.sum())])
    u = np.array([-1.0, 0.0])
    opening = float(np.clip((g1 - h0) @ u, 0, CFG.max_opening))
    handle = h0 + opening * u
    dist = float(np.linalg.norm(g1 - handle))
    assert opening > 0.01 and dist <= CFG.grasp_radius  # this pull moves the drawer and keeps the grasp
    assert math.isclose(obs[LAY.opening], opening, abs_tol=1e-6) and obs[LAY.holding] == 1
    np.testing.assert_allclose(obs[LAY.handle], handle, atol=1e-6)
    expected = CFG.reach_coef * (0.0 - dist) + CFG.open_coef * opening - CFG.time_penalty
    assert math.isclose(r, expected, abs_tol=1e-5) and not done


@pytest.mark.parametrize(
    "joints, start, offset", [((1.0, 0.0), 0.1, 0.0), ((0.4, -1.0), 0.0, 0.05)],
    ids=["off the rail", "pushed past closed"]
)
def test_slip_when_the_gripper_leaves_the_handle(joints, start, offset):
    """Holding at opening ``start`` with the gripper ``offset`` in front of the handle (towards +x)."""
    q0 = np.array([-0.3, 1.2])
    g0 = forward_kinematics(q0, CFG.link_lengths)
    u = np.array([-1.0, 0.0])
    h0 = g0 - start * u + offset * u
    env, _ = one_env(q=[q0], handle_closed=[h0], opening=[start], closed=[True], holding=[True])
    obs, r, done, _ = act(env, joints=joints, grip=1.0)
    g1 = forward_kinematics(q0 + np.array(joints) * CFG.step_angle, CFG.link_lengths)
    opening = float(np.clip((g1 - h0) @ u, 0.0, CFG.max_opening))
    dist = float(np.linalg.norm(g1 - (h0 + opening * u)))
    assert dist > CFG.grasp_radius  # precondition: this move leaves the handle
    assert obs[LAY.holding] == 0 and obs[LAY.closed] == 1 and not done
    assert math.isclose(obs[LAY.opening], opening, abs_tol=1e-6)
    expected = CFG.reach_coef * (offset - dist) + CFG.open_coef * (opening - start) - CFG.time_penalty
    assert math.isclose(r, expected, abs_tol=1e-5)


def test_release_keeps_the_opening():
    q = (-0.3, 1.2)
    env, _ = one_env(**_at_handle_state(q))
    act(env, grip=1.0)
    obs, *_ = act(env, joints=(-0.35, 0.9), grip=1.0)
    opened = float(obs[LAY.opening])
    obs, *_ = act(env, joints=(-1.0, 1.0), grip=-1.0)  # release and move away
    assert obs[LAY.holding] == 0 and math.isclose(obs[LAY.opening], opened, abs_tol=1e-7)


def test_success_terminates_and_resets_with_terminal_observation():
    q = (-0.3, 1.2)
    g = forward_kinematics(np.array(q), CFG.link_lengths)
    s = CFG.success_opening - 0.001
    env, _ = one_env(q=[q], handle_closed=[g - s * np.array([-1.0, 0.0])], opening=[s], closed=[True], holding=[True])
    obs, r, done, info = act(env, joints=(-0.2, 0.5), grip=1.0)  # a small pull past success
    assert done and info["is_success"] is True and info["TimeLimit.truncated"] is False
    term = info["terminal_observation"]
    assert term[LAY.opening] >= CFG.success_opening and term[LAY.holding] == 1
    assert r > CFG.success_bonus - 1.0 and math.isclose(info["episode"]["r"], r, rel_tol=1e-5)
    assert info["episode"]["l"] == 1 and info["grasp_attempts"] == 0
    # reset in place: a fresh scene, gripper open, drawer closed
    assert obs[LAY.opening] == 0 and obs[LAY.closed] == 0 and obs[LAY.holding] == 0
    assert env.episode_length[0] == 0 and env.episode_return[0] == 0


def test_truncation_at_the_time_limit():
    cfg = dataclasses.replace(CFG, time_limit=3)
    env = OccludedDrawerEnv(5, config=cfg, seed=0)
    env.reset()
    zero = np.zeros((5, 3), dtype=np.float32)
    for t in range(2):
        obs, rew, done, infos = env.step(zero)
        assert not done.any() and all(i == {} for i in infos)
        np.testing.assert_allclose(rew, -cfg.time_penalty, atol=1e-7)
    before = obs.copy()
    obs, rew, done, infos = env.step(zero)
    assert done.all()
    for i in range(5):
        assert infos[i]["TimeLimit.truncated"] is True and infos[i]["is_success"] is False
        assert infos[i]["episode"]["l"] == 3
        np.testing.assert_allclose(infos[i]["terminal_observation"], before[i])  # nothing moved
    assert not np.allclose(obs[:, LAY.handle], before[:, LAY.handle])  # new scenes


# ----------------------------------------------------------------------------- seeding, replay, protocol
def test_seeded_determinism_and_first_scenes_equal_generate_scenes():
    rng = np.random.default_rng(9)
    cfg = dataclasses.replace(CFG, time_limit=7)
    actions = rng.uniform(-1, 1, size=(30, 20, 3)).astype(np.float32)
    runs = []
    for seed in (5, 5, 6):
        env = OccludedDrawerEnv(20, config=cfg, seed=seed)
        seq = [env.reset()]
        seq += [env.step(a)[0] for a in actions]
        runs.append(np.stack(seq))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    env = OccludedDrawerEnv(20, config=cfg, seed=5)
    sc = generate_scenes(20, cfg, seed=5)
    np.testing.assert_allclose(env.handle_closed, sc.handle)
    np.testing.assert_allclose(env.q, sc.q0)
    env.seed(5)
    env.reset()
    np.testing.assert_allclose(env.handle_closed, sc.handle)


def test_from_scenes_replays_the_same_scene_after_each_episode():
    cfg = dataclasses.replace(CFG, time_limit=4)
    sc = generate_scenes(6, cfg, seed=11)
    env = OccludedDrawerEnv.from_scenes(sc, cfg)
    first = env.reset()
    np.testing.assert_allclose(first[:, LAY.cos_q], np.cos(sc.q0), atol=1e-7)
    np.testing.assert_allclose(first[:, LAY.handle], sc.handle, atol=1e-6)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(6, 3)).astype(np.float32)
    for _ in range(4):
        obs, _, done, _ = env.step(actions)
    assert done.all()
    np.testing.assert_array_equal(obs, first)
    np.testing.assert_array_equal(env.reset(), first)


def test_sb3_protocol_spaces_and_a_short_ppo_run():
    from stable_baselines3 import PPO

    env = OccludedDrawerEnv(8, seed=0)
    obs = env.reset()
    assert obs.shape == (8, LAY.dim) and obs.dtype == np.float32
    assert env.observation_space.shape == (13,) and env.action_space.shape == (3,)
    assert env.student_observation_space.shape == (14,)
    assert all(env.observation_space.contains(o) for o in obs)
    obs, rew, done, infos = env.step(np.zeros((8, 3), dtype=np.float32))
    assert rew.shape == (8,) and rew.dtype == np.float32 and done.dtype == bool and len(infos) == 8
    assert env.get_attr("n_links") == [2] * 8 and env.env_is_wrapped(object) == [False] * 8
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(256)
    assert model.num_timesteps >= 256


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "field, value",
    [
        ("link_lengths", (1.0,)),
        ("link_lengths", (1.0, -1.0)),
        ("link_lengths", (1.0, 1.0, 1.0, 1.0)),
        ("joint_limits", ((-1.0, 1.0),)),
        ("joint_limits", ((1.0, -1.0), (-1.0, 1.0))),
        ("init_joint_ranges", ((-0.2, 0.2), (-3.0, -0.5))),
        ("max_joint_velocity", 0.0),
        ("dt", -0.1),
        ("link_radius", float("nan")),
        ("rail_angle", "left"),
        ("handle_x_range", (1.5, 1.4)),
        ("handle_x_range", (2.5, 2.6)),
        ("handle_y_range", (0.0,)),
        ("max_opening", 0.0),
        ("success_opening", 0.5),
        ("grasp_radius", 0.0),
        ("camera_position", (1.5,)),
        ("camera_position", (1.5, 0.25)),
        ("camera_angle", 10.0),
        ("camera_fov", 0.1),
        ("camera_fov", 4.0),
        ("handle_clearance", -0.1),
        ("time_limit", 0),
        ("time_limit", 2.5),
        ("reach_coef", -1.0),
        ("open_coef", -1.0),
        ("success_bonus", -1.0),
        ("time_penalty", -1.0),
        ("miss_penalty", -1.0),
    ],
)
def test_every_validation_error_names_its_field(field, value):
    cfg = dataclasses.replace(CFG, **{field: value})
    with pytest.raises(ValueError, match=r"^env\.(\w+): got .*; allowed: ") as err:
        cfg.validate()
    named = str(err.value).split(":")[0].removeprefix("env.")
    geometry_fields = {"handle_x_range", "handle_y_range", "camera_position", "camera_fov", "camera_angle"}
    assert named == field or (field in geometry_fields and named in geometry_fields)
    with pytest.raises(ValueError, match=rf"^task\.env\.{named}: "):
        cfg.validate(prefix="task.env.")
    with pytest.raises(ValueError, match=rf"env\.{named}: "):
        OccludedDrawerEnv(2, config=cfg)


def test_default_config_is_valid_and_round_trips():
    assert CFG.validate() is CFG and CFG3.validate() is CFG3
    assert DrawerConfig.from_dict(CFG.to_dict()) == CFG
    with pytest.raises(ValueError, match="unknown DrawerConfig field"):
        DrawerConfig.from_dict({"nope": 1})


def test_env_argument_errors():
    with pytest.raises(ValueError, match="n_envs: got 0"):
        OccludedDrawerEnv(0)
    with pytest.raises(ValueError, match="seed: got -1"):
        OccludedDrawerEnv(2, seed=-1)
    env = OccludedDrawerEnv(2, seed=0)
    with pytest.raises(ValueError, match=r"actions: got shape \(2, 2\)"):
        env.step(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="scenes.q0: got 2 joints; allowed: 3"):
        OccludedDrawerEnv.from_scenes(generate_scenes(3, CFG, seed=0), CFG3)
    with pytest.raises(ValueError, match="scenes: got dict"):
        OccludedDrawerEnv.from_scenes({"handle": 1}, CFG)
    with pytest.raises(ValueError, match=r"scenes.handle: got shape"):
        Scenes(np.zeros((3, 3)), np.zeros((3, 2)))
