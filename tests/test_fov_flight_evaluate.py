"""fov_flight.evaluate and fov_flight.scripted: both privileged pilots reach the goal on most held-out worlds,
with the same trajectories and very different velocity angles; the per-episode rows on hand-built worlds;
and the pictures (built without a display)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.patches import Circle, Wedge

from fov_flight import FlightConfig, Worlds, generate_worlds, worlds_sha256
from fov_flight import render
from fov_flight.evaluate import COLUMNS, evaluate
from fov_flight.scripted import ScriptedPilot

CFG = FlightConfig()
HELD_OUT = generate_worlds(50, CFG, seed=2024)


def one_world(pillars=(), start=(1.0, 0.0), yaw=0.0) -> Worlds:
    c, r = np.zeros((1, 12, 2)), np.zeros((1, 12))
    for k, (x, y, rad) in enumerate(pillars):
        c[0, k], r[0, k] = (x, y), rad
    return Worlds(c, r, np.array([start], float), np.array([yaw], float))


def test_both_scripted_pilots_reach_the_goal_and_differ_only_in_the_camera():
    fixed, ft = evaluate(ScriptedPilot(CFG, yaw="fixed"), HELD_OUT, CFG)
    aligned, at = evaluate(ScriptedPilot(CFG, yaw="along_velocity"), HELD_OUT, CFG)
    # measured on these 50 worlds: 0.96 for both (200 other worlds: 0.965)
    assert fixed.success.mean() >= 0.9 and aligned.success.mean() >= 0.9
    # translation does not depend on the heading: identical flights
    np.testing.assert_array_equal(ft["pos"], at["pos"])
    np.testing.assert_array_equal(fixed.success, aligned.success)
    # ... but the camera: sideways on average (start headings drawn all round) vs along the velocity
    assert fixed.velocity_angle_deg.mean() > 60 and aligned.velocity_angle_deg.mean() < 10
    assert aligned.pillars_in_view.mean() > fixed.pillars_in_view.mean()
    assert list(fixed.columns) == COLUMNS and len(fixed) == 50
    assert fixed.attrs["worlds_sha256"] == worlds_sha256(HELD_OUT)
    assert (fixed.success ^ fixed.collision ^ fixed.timeout).all()


def test_rows_on_hand_built_worlds():
    cfg = CFG
    # forward at full throttle, yaw held: x(t) = 1 + 0.02 t (t + 1) until v = 3 m/s, then +0.3 per step
    def forward(obs):
        a = np.zeros((obs.shape[0], 3))
        a[:, 0] = 1.0
        return a

    rows, traj = evaluate(forward, one_world(yaw=math.pi / 2), cfg)  # camera at +y, flying +x
    r = rows.iloc[0]
    assert r.success and not r.collision and not r.timeout
    assert r.steps == 84  # 7 steps to 2.8 m/s (x = 2.12), then 77 steps of 0.3 m to x = 25.22
    assert traj["pos"][0, 84, 0] == pytest.approx(2.12 + 77 * 0.3)
    assert r.velocity_angle_deg == pytest.approx(90.0)
    assert r.path_length == pytest.approx(traj["pos"][0, 84, 0] - 1.0)
    assert r.ep_return == pytest.approx(traj["pos"][0, 84, 0] - 1.0 + 10.0)
    assert r.pillars_in_view == 0.0
    assert np.isnan(traj["pos"][0, 85:]).all() and traj["steps"][0] == 84
    # a pillar straight ahead: collision, and it is in view while the camera looks at it
    rows, _ = evaluate(forward, one_world([(6.0, 0.0, 0.5)]), cfg)
    r = rows.iloc[0]
    assert r.collision and not r.success and r.velocity_angle_deg == pytest.approx(0.0)
    assert r.pillars_in_view == 1.0 and r.ep_return == pytest.approx(r.path_length - 10.0)
    # hovering: a timeout, no step fast enough for the velocity angle
    rows, _ = evaluate(lambda o: np.zeros((o.shape[0], 3)), one_world(), cfg)
    assert rows.timeout[0] and rows.steps[0] == cfg.time_limit and np.isnan(rows.velocity_angle_deg[0])


def test_evaluate_errors():
    with pytest.raises(ValueError, match=r"^act_fn: returned shape \(1, 2\); allowed: \(1, 3\)"):
        evaluate(lambda o: np.zeros((1, 2)), one_world(), CFG)
    with pytest.raises(ValueError, match=r"^min_speed: got -1"):
        evaluate(lambda o: np.zeros((1, 3)), one_world(), CFG, min_speed=-1)
    with pytest.raises(ValueError, match=r"^yaw: got 'spin'; allowed: fixed, along_velocity"):
        ScriptedPilot(CFG, yaw="spin")


def test_pictures_without_a_display(tmp_path):
    rows, traj = evaluate(ScriptedPilot(CFG), HELD_OUT.subset([0]), CFG)
    n = int(traj["steps"][0])
    fig = render.world_figure(HELD_OUT, 0, CFG, {"aligned": (traj["pos"][0], traj["yaw"][0])}, every=10)
    ax = fig.axes[0]
    circles = [p for p in ax.patches if isinstance(p, Circle) and not isinstance(p, Wedge)]
    cones = [p for p in ax.patches if isinstance(p, Wedge)]
    assert len(circles) == 12 and len(cones) == len(range(0, n + 1, 10))
    fig = render.views_figure(HELD_OUT, 0, traj["pos"][0, 20], traj["yaw"][0, 20], CFG)
    assert len(fig.axes) == 2
    student_ax = fig.axes[1]
    rays = [ln for ln in student_ax.lines if len(ln.get_xdata()) == 2 and ln.get_color() == render.RAY_COLOR]
    assert len(rays) == CFG.n_rays
    out = render.save_figure(fig, tmp_path / "views" / "v.png")
    assert (tmp_path / "views" / "v.png").stat().st_size > 10_000 and out.endswith("v.png")


def test_a_memoryless_scan_pilot_needs_the_camera_along_the_velocity_unless_it_sees_all_round():
    """The field of view is what limits a student-view controller: on the 90-degree scan the camera held
    at its start heading fails far more often than the camera turned along the velocity; on a
    360-degree scan (same ray spacing) it does not matter. Measured on these 50 worlds (along / held):
    0.80 / 0.26 at 90 degrees, 0.82 / 0.92 at 360 (200 other worlds: 0.775 / 0.29, 0.925 / 0.945)."""
    from fov_flight import student_obs
    from fov_flight.scripted import ScanPilot

    rates = {}
    for fov, m in ((90.0, 16), (360.0, 64)):
        for yaw in ("along_velocity", "fixed"):
            pilot = ScanPilot(CFG, fov_deg=fov, n_rays=m, yaw=yaw)
            rows, _ = evaluate(lambda o: pilot(student_obs(o, CFG, fov_deg=fov, n_rays=m)), HELD_OUT, CFG)
            rates[fov, yaw] = rows.success.mean()
    assert rates[90.0, "along_velocity"] >= 0.65 and rates[90.0, "fixed"] <= 0.45
    assert rates[360.0, "along_velocity"] >= 0.7 and rates[360.0, "fixed"] >= 0.8
    with pytest.raises(ValueError, match=r"^student: got shape \(2, 9\); allowed: \(n, 22\)"):
        ScanPilot(CFG)(np.zeros((2, 9)))
