"""Evaluation of a controller on fixed worlds: one episode per world, per-episode rows and trajectories.

Protocol: ``FovFlightEnv.from_worlds(worlds, config)``, one ``reset()``, then steps with
``act_fn(obs)`` until every world's FIRST episode has ended (success, collision, or the time
limit; at most ``config.time_limit`` steps). Deterministic if ``act_fn`` is (pass the
deterministic policy). For a student, wrap its view:
``lambda obs: student_act(student_obs(obs, config))``.

Per-step perception metrics are taken at the states reached by the steps of the episode
(the terminal state included, the start state not):

* velocity angle: the angle in degrees, in [0, 180], between the heading (camera axis) and
  the velocity, over the steps whose speed exceeds ``min_speed`` (default 0.5 m/s, a sixth
  of the default top speed; at rest the angle is meaningless); NaN if there is none;
* pillars in view: the number of pillars whose centre is within the ray range R and within
  ``fov/2`` of the heading (:func:`fov_flight.views.pillars_in_view`; occlusion ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .config import FlightConfig
from .env import FovFlightEnv
from .generation import Worlds, validate_worlds, worlds_sha256
from .views import pillars_in_view

__all__ = ["evaluate", "COLUMNS", "MIN_SPEED"]

MIN_SPEED = 0.5  # m/s: steps slower than this do not count in the velocity angle

COLUMNS = ["world", "success", "collision", "timeout", "steps", "velocity_angle_deg", "pillars_in_view",
           "path_length", "ep_return"]


def evaluate(act_fn: Callable[[np.ndarray], Any], worlds: Worlds, config: FlightConfig | None = None,
             min_speed: float = MIN_SPEED) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Fly ``act_fn`` once on every world; return ``(rows, trajectories)``.

    :param act_fn: teacher observations (n, obs_dim) -> actions (n, 3) (clipped to [-1, 1] by the env).
    :param worlds: the held-out worlds (n of them, one episode each).
    :param config: the task; default ``FlightConfig()``.
    :param min_speed: speed threshold of the velocity angle (module doc).

    ``rows`` (one per world, ``COLUMNS``): ``world`` index; ``success``, ``collision``,
    ``timeout`` (bools, exactly one true); ``steps`` of the episode; ``velocity_angle_deg``
    and ``pillars_in_view`` (means over the episode's steps, module doc); ``path_length``
    (metres flown); ``ep_return`` (sum of rewards). ``rows.attrs``: ``worlds_sha256``,
    ``min_speed``, ``fov_deg``.

    ``trajectories``: ``pos`` (n, T + 1, 2), ``yaw`` (n, T + 1), ``vel`` (n, T + 1, 2) with row 0 the
    start and row t the state after step t, NaN after the episode's end; ``steps`` (n,);
    T = ``config.time_limit``.
    """
    config = (config or FlightConfig()).validate()
    worlds = validate_worlds(worlds, config)
    if not (isinstance(min_speed, (int, float)) and min_speed >= 0):
        raise ValueError(f"min_speed: got {min_speed!r}; allowed: a number >= 0 (m/s)")
    env = FovFlightEnv.from_worlds(worlds, config)
    n, T = env.num_envs, config.time_limit
    pos = np.full((n, T + 1, 2), np.nan)
    yaw = np.full((n, T + 1), np.nan)
    vel = np.full((n, T + 1, 2), np.nan)
    obs = env.reset()
    pos[:, 0], yaw[:, 0], vel[:, 0] = env.pos, env.yaw, env.vel
    alive = np.ones(n, dtype=bool)
    steps = np.zeros(n, dtype=np.int64)
    success = np.zeros(n, dtype=bool)
    collision = np.zeros(n, dtype=bool)
    ep_return = np.zeros(n)
    angle_sum = np.zeros(n)
    angle_count = np.zeros(n, dtype=np.int64)
    view_sum = np.zeros(n)
    for t in range(1, T + 1):
        actions = np.asarray(act_fn(obs), dtype=np.float64)
        if actions.shape != (n, 3):
            raise ValueError(f"act_fn: returned shape {actions.shape}; allowed: ({n}, 3)")
        obs, reward, dones, infos = env.step(actions)
        p, v, h = env.final_pos, env.final_vel, env.final_yaw.copy()
        live = np.flatnonzero(alive)
        pos[live, t], vel[live, t], yaw[live, t] = p[live], v[live], h[live]
        steps[live] += 1
        ep_return[live] += reward[live]
        speed = np.hypot(v[:, 0], v[:, 1])
        cosang = (np.cos(h) * v[:, 0] + np.sin(h) * v[:, 1]) / np.maximum(speed, 1e-12)
        angle = np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0)))
        counted = alive & (speed > min_speed)
        angle_sum[counted] += angle[counted]
        angle_count += counted
        view_sum[alive] += pillars_in_view(p, h, worlds.centres, worlds.radii, config)[alive]
        for i in np.flatnonzero(alive & dones):
            success[i] = infos[i]["is_success"]
            collision[i] = infos[i]["collision"]
        alive &= ~dones
        if not alive.any():
            break
    seg = np.diff(pos, axis=1)
    path_length = np.nansum(np.hypot(seg[..., 0], seg[..., 1]), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        velocity_angle = np.where(angle_count > 0, angle_sum / np.maximum(angle_count, 1), np.nan)
    rows = pd.DataFrame({
        "world": np.arange(n),
        "success": success,
        "collision": collision,
        "timeout": ~success & ~collision,
        "steps": steps,
        "velocity_angle_deg": velocity_angle,
        "pillars_in_view": view_sum / np.maximum(steps, 1),
        "path_length": path_length,
        "ep_return": ep_return,
    })
    rows.attrs.update(worlds_sha256=worlds_sha256(worlds), min_speed=float(min_speed), fov_deg=float(config.fov_deg))
    return rows, {"pos": pos, "yaw": yaw, "vel": vel, "steps": steps}
