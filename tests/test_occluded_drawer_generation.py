"""occluded_drawer.generation: scene invariants, seeded determinism, the provenance fingerprint."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from occluded_drawer import DrawerConfig, Scenes, generate_scenes, scenes_sha256
from occluded_drawer.geometry import forward_kinematics, handle_visible, inverse_kinematics_2link, link_points

CFG = DrawerConfig()


def test_scene_invariants():
    sc = generate_scenes(3000, CFG, seed=0)
    assert len(sc) == 3000 and sc.handle.shape == (3000, 2) and sc.q0.shape == (3000, 2)
    assert sc.handle.dtype == np.float64 and not sc.handle.flags.writeable and not sc.q0.flags.writeable
    (xlo, xhi), (ylo, yhi) = CFG.handle_x_range, CFG.handle_y_range
    assert np.all((sc.handle[:, 0] >= xlo) & (sc.handle[:, 0] <= xhi))
    assert np.all((sc.handle[:, 1] >= ylo) & (sc.handle[:, 1] <= yhi))
    for j, (lo, hi) in enumerate(CFG.init_joint_ranges):
        assert np.all((sc.q0[:, j] >= lo) & (sc.q0[:, j] <= hi))
    # the draw covers its ranges (not a degenerate corner)
    assert np.ptp(sc.handle[:, 1]) > 0.9 * (yhi - ylo) and np.ptp(sc.q0[:, 1]) > 0.9 * np.ptp(CFG.init_joint_ranges[1])
    pts = link_points(sc.q0, CFG.link_lengths)
    assert np.all(np.linalg.norm(pts[:, -1] - sc.handle, axis=1) > 2 * CFG.grasp_radius)
    assert handle_visible(pts, sc.handle, CFG).all()  # the handle is in view at the start
    # reachable on both elbow branches, closed and opened as far as the drawer goes
    u = np.asarray(CFG.rail_direction)
    for s in (0.0, CFG.success_opening, CFG.max_opening):
        target = sc.handle + s * u
        assert np.all(np.linalg.norm(target, axis=1) <= CFG.reach - CFG.grasp_radius)
        for elbow in ("up", "down"):
            q = inverse_kinematics_2link(target, *CFG.link_lengths, elbow)
            np.testing.assert_allclose(forward_kinematics(q, CFG.link_lengths), target, atol=1e-9)
            for j, (lo, hi) in enumerate(CFG.joint_limits):
                assert np.all((q[:, j] >= lo) & (q[:, j] <= hi))


def test_seeded_determinism_and_fingerprint():
    a, b, c = generate_scenes(64, CFG, seed=7), generate_scenes(64, CFG, seed=7), generate_scenes(64, CFG, seed=8)
    np.testing.assert_array_equal(a.handle, b.handle)
    np.testing.assert_array_equal(a.q0, b.q0)
    assert scenes_sha256(a) == scenes_sha256(b) != scenes_sha256(c)
    assert len(scenes_sha256(a)) == 64 and int(scenes_sha256(a), 16) >= 0
    nudged = Scenes(a.handle + np.eye(64, 2)[0] * 1e-12, a.q0)
    assert scenes_sha256(nudged) != scenes_sha256(a)
    assert scenes_sha256(a.subset([0, 1])) != scenes_sha256(a.subset([1, 0]))
    state = np.random.get_state()[1].copy()
    generate_scenes(5, CFG, seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # the global RNG is untouched


def test_three_link_scenes():
    cfg = DrawerConfig(
        link_lengths=(1.0, 0.6, 0.3),
        joint_limits=((-math.pi, math.pi), (-2.8, 2.8), (-2.8, 2.8)),
        init_joint_ranges=((-0.2, 0.2), (-1.1, -0.5), (-0.3, 0.3)),
    )
    sc = generate_scenes(200, cfg, seed=0)
    assert sc.q0.shape == (200, 3)
    assert handle_visible(link_points(sc.q0, cfg.link_lengths), sc.handle, cfg).all()


def test_generation_errors():
    with pytest.raises(ValueError, match="n: got 0; allowed"):
        generate_scenes(0, CFG)
    with pytest.raises(ValueError, match="seed: got -3"):
        generate_scenes(3, CFG, seed=-3)
    with pytest.raises(ValueError, match=r"^env\.time_limit: "):
        generate_scenes(3, dataclasses.replace(CFG, time_limit=0))
    # a posture range from which the handle is never in view
    hidden = dataclasses.replace(CFG, init_joint_ranges=((1.5, 1.6), (-0.05, 0.05)))
    with pytest.raises(ValueError, match="visible at the start"):
        generate_scenes(3, hidden, seed=0)
    with pytest.raises(ValueError, match=r"scenes.q0: got shape"):
        Scenes(np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        Scenes(np.full((1, 2), np.nan), np.zeros((1, 2)))
