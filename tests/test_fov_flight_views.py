"""The two views of fov_flight: the depth scan against a sphere-tracing ray-marcher, the scan from the teacher
observation against the scan from the whole world, the student's own state, the field of view, and errors."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from fov_flight import FlightConfig, FovFlightEnv, Worlds, generate_worlds, scan_world, student_obs
from fov_flight.reference import reference_scan
from fov_flight.scripted import ScriptedPilot
from fov_flight.views import pillars_in_view, ray_offsets

CFG = FlightConfig()


def one_world(pillars, start=(1.0, 0.0), yaw=0.0, config=CFG) -> Worlds:
    P = config.n_pillars
    c, r = np.zeros((1, P, 2)), np.zeros((1, P))
    for k, (x, y, rad) in enumerate(pillars):
        c[0, k], r[0, k] = (x, y), rad
    return Worlds(c, r, np.array([start], float), np.array([yaw], float))


def obs_at(pillars, pos, yaw, vel=(0.0, 0.0), config=CFG) -> np.ndarray:
    env = FovFlightEnv.from_worlds(one_world(pillars, config=config), config)
    return env.set_state(pos=[pos], vel=[vel], yaw=[yaw])


def visited_states(n_worlds=8, seed=21, every=7):
    """States (teacher obs, pos, yaw, world index) along the aligned scripted pilot's flights."""
    worlds = generate_worlds(n_worlds, CFG, seed=seed)
    env = FovFlightEnv.from_worlds(worlds, CFG)
    pilot = ScriptedPilot(CFG, yaw="along_velocity")
    obs = env.reset()
    rows = []
    for t in range(120):
        if t % every == 0:
            rows.append((obs.copy(), env.pos.copy(), env.yaw.copy()))
        obs = env.step(pilot(obs))[0]
    obs = np.concatenate([r[0] for r in rows])
    pos = np.concatenate([r[1] for r in rows])
    yaw = np.concatenate([r[2] for r in rows])
    w = np.tile(np.arange(n_worlds), len(rows))
    return worlds, obs, pos, yaw, w


# ----------------------------------------------------------------------------- exact cases
def test_single_ray_hits_a_pillar_head_on_and_the_walls():
    cfg = dataclasses.replace(CFG, n_rays=1)
    pillar = [(8.0, 0.0, 0.5)]
    s = student_obs(obs_at(pillar, (5.0, 0.0), 0.0, config=cfg), cfg)[0]
    assert s[6] == pytest.approx(2.5 / 7, abs=1e-6)
    s = student_obs(obs_at(pillar, (5.0, 0.0), math.pi / 2, config=cfg), cfg)[0]  # +y: side wall at 4.5
    assert s[6] == pytest.approx(4.5 / 7, abs=1e-6)
    s = student_obs(obs_at(pillar, (3.0, 1.0), math.pi, config=cfg), cfg)[0]  # -x: back wall at x = 0
    assert s[6] == pytest.approx(3.0 / 7, abs=1e-6)
    s = student_obs(obs_at(pillar, (20.0, 0.0), 0.0, config=cfg), cfg)[0]  # open goal end: nothing within R
    assert s[6] == 1.0


def test_ray_angles_and_student_own_state():
    np.testing.assert_allclose(np.degrees(ray_offsets(4, 90.0)), [-33.75, -11.25, 11.25, 33.75])
    np.testing.assert_allclose(np.degrees(ray_offsets(4, 360.0)), [-135, -45, 45, 135])
    o = obs_at([(8.0, 0.0, 0.5)], (5.0, -1.5), math.pi / 2, vel=(1.5, 3.0 * math.sqrt(0.75)))
    s = student_obs(o, CFG)[0]
    assert s.shape == (CFG.student_dim(),) and s.dtype == np.float32
    # heading +y: forward speed = vy, leftward speed = -vx
    np.testing.assert_allclose(s[:6], [math.sqrt(0.75), -0.5, 0.0, 1.0, 5 / 25, -1.5 / 4.5], atol=1e-6)


def test_nothing_outside_the_field_of_view_enters_the_scan():
    behind = obs_at([(3.0, 0.0, 0.5)], (5.0, 0.0), 0.0)  # pillar 2 m behind
    empty = obs_at([], (5.0, 0.0), 0.0)
    np.testing.assert_array_equal(student_obs(behind, CFG), student_obs(empty, CFG))
    all_round_b = student_obs(behind, CFG, fov_deg=360, n_rays=64)
    all_round_e = student_obs(empty, CFG, fov_deg=360, n_rays=64)
    assert all_round_b.shape == (1, 70)
    assert (all_round_b[0, 6:] < all_round_e[0, 6:] - 0.1).sum() >= 3  # the 360-degree scan sees it
    # the teacher sees it either way
    assert not np.array_equal(behind, empty)


def test_scan_matches_a_sphere_tracing_ray_marcher():
    worlds, obs, pos, yaw, w = visited_states()
    S = student_obs(obs, CFG)
    S360 = student_obs(obs, CFG, fov_deg=360, n_rays=24)
    hits = 0
    for k in range(0, len(obs), 3):
        i = w[k]
        ref = reference_scan(pos[k, 0], pos[k, 1], yaw[k], worlds.centres[i], worlds.radii[i], CFG)
        np.testing.assert_allclose(S[k, 6:] * 7, ref, atol=1e-4)
        ref = reference_scan(pos[k, 0], pos[k, 1], yaw[k], worlds.centres[i], worlds.radii[i], CFG, 360, 24)
        np.testing.assert_allclose(S360[k, 6:] * 7, ref, atol=1e-4)
        hits += (ref < 7).sum()
    assert hits > 100


def test_scan_from_the_teacher_obs_equals_the_scan_from_the_whole_world():
    worlds, obs, pos, yaw, w = visited_states(n_worlds=16, seed=5, every=3)
    for fov, m in ((90.0, 16), (360.0, 64)):
        from_obs = student_obs(obs, CFG, fov_deg=fov, n_rays=m)[:, 6:] * 7
        from_world = scan_world(pos, yaw, worlds.centres[w], worlds.radii[w], CFG, fov_deg=fov, n_rays=m)
        # equal up to the float32 rounding of the observation, which only near-tangent rays amplify
        np.testing.assert_allclose(from_obs, from_world, atol=1e-3)
        assert (np.abs(from_obs - from_world) > 2e-5).mean() < 1e-3
        assert (from_world < 7).mean() > 0.3


def test_k_nearest_below_n_pillars_keeps_every_pillar_in_range():
    cfg = dataclasses.replace(CFG, k_nearest=10)
    assert cfg.obs_dim == 36
    worlds = generate_worlds(12, cfg, seed=8)
    rng = np.random.default_rng(0)
    n = 400
    w = rng.integers(12, size=n)
    pos = np.stack([rng.uniform(0.3, 25.0, n), rng.uniform(-4.2, 4.2, n)], axis=1)
    yaw = rng.uniform(-math.pi, math.pi, n)
    surface = np.hypot(worlds.centres[w, :, 0] - pos[:, :1], worlds.centres[w, :, 1] - pos[:, 1:]) - worlds.radii[w]
    assert ((surface <= cfg.ray_range).sum(axis=1) <= 10).all()
    env = FovFlightEnv.from_worlds(worlds.subset(w), cfg)
    obs = env.set_state(pos=pos, yaw=yaw)
    from_obs = student_obs(obs, cfg, fov_deg=360, n_rays=64)[:, 6:] * 7
    from_world = scan_world(pos, yaw, worlds.centres[w], worlds.radii[w], cfg, fov_deg=360, n_rays=64)
    np.testing.assert_allclose(from_obs, from_world, atol=1e-3)
    assert (np.abs(from_obs - from_world) > 2e-5).mean() < 1e-3


def test_pillars_in_view_counts_range_and_angle():
    pillars = np.array([[[5.0, 0.0], [5.0, 3.5], [0.5, 0.0], [10.0, 0.0]]])  # ahead, 49 deg left, behind, 8 m
    radii = np.array([[0.4, 0.4, 0.4, 0.4]])
    pos, yaw = np.array([[2.0, 0.0]]), np.array([0.0])
    assert pillars_in_view(pos, yaw, pillars, radii, CFG).tolist() == [1]
    assert pillars_in_view(pos, yaw, pillars, radii, CFG, fov_deg=100).tolist() == [2]
    assert pillars_in_view(pos, yaw, pillars, radii, CFG, fov_deg=360).tolist() == [3]
    assert pillars_in_view(pos, np.array([math.pi]), pillars, radii, CFG).tolist() == [1]
    assert pillars_in_view(pos, yaw, pillars, np.zeros((1, 4)), CFG).tolist() == [0]


def test_view_errors():
    with pytest.raises(ValueError, match=r"^obs: got shape \(3, 40\); allowed: \(n, 42\)"):
        student_obs(np.zeros((3, 40), np.float32), CFG)
    o = obs_at([], (5.0, 0.0), 0.0)
    with pytest.raises(ValueError, match=r"^fov_deg: got 0.0; allowed"):
        student_obs(o, CFG, fov_deg=0)
    with pytest.raises(ValueError, match=r"^n_rays: got 0; allowed"):
        student_obs(o, CFG, n_rays=0)
