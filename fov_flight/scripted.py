"""Two scripted privileged pilots: the same translation, two yaw rules.

They act on the teacher observation only (as a teacher would) and show that both
behaviours of section 4 of ``shared/spec/robot_analogues.md`` solve the task:

* ``yaw="fixed"``: yaw rate 0, the camera keeps its start heading (drawn in
  [-180, 180] degrees by default): often sideways or backwards, which a student with a
  90-degree view cannot follow;
* ``yaw="along_velocity"``: the heading is turned towards the velocity (towards the
  desired velocity while the speed is low), so the camera looks where the body flies.

Translation does not depend on the heading, so both pilots fly the SAME trajectories and
have the same success; only what the camera sees differs.

Translation rule (a look-ahead steering rule over candidate directions): for
``n_directions`` directions in ``[-max_angle, max_angle]`` around ``+x`` the free distance
along the direction is cast against every listed pillar inflated by
``body_radius + margin`` and the side walls moved in by the same amount; the chosen
direction maximises ``min(free, horizon) - angle_cost * |angle|`` (ties: the straighter);
the desired speed is ``max_speed * clip((free - margin) / horizon, min_speed_frac, 1)`` and
the action is the acceleration towards that velocity, ``(v_des - v) / (max_accel * dt)``,
clipped to [-1, 1].
"""

from __future__ import annotations

import math

import numpy as np

from .config import FlightConfig
from .views import _check_obs, ray_offsets

__all__ = ["ScriptedPilot", "YAW_MODES"]

YAW_MODES = ("fixed", "along_velocity")


class ScriptedPilot:
    """A privileged pilot: ``pilot(obs (n, obs_dim)) -> actions (n, 3)`` in [-1, 1], deterministic.

    :param config: the task the observations come from.
    :param yaw: ``"fixed"`` (yaw rate 0) or ``"along_velocity"`` (module doc).
    :param n_directions: candidate directions of the steering rule (default 41).
    :param max_angle_deg: candidates span ``[-max_angle, max_angle]`` around ``+x`` (default 80).
    :param horizon: look-ahead distance in metres (default 4).
    :param margin: extra clearance in metres added to pillars and walls (default 0.2).
    :param angle_cost: score lost per radian away from ``+x`` (default 1.0).
    :param min_speed_frac: lowest desired speed as a fraction of ``max_speed`` (default 0.25).
    :param yaw_gain: fraction of the heading error closed per step by ``along_velocity`` (default 0.5).
    """

    def __init__(self, config: FlightConfig, yaw: str = "along_velocity", n_directions: int = 41,
                 max_angle_deg: float = 80.0, horizon: float = 4.0, margin: float = 0.2, angle_cost: float = 1.0,
                 min_speed_frac: float = 0.25, yaw_gain: float = 0.5) -> None:
        self.config = config.validate()
        if yaw not in YAW_MODES:
            raise ValueError(f"yaw: got {yaw!r}; allowed: {', '.join(YAW_MODES)}")
        self.yaw = yaw
        self.angles = np.radians(np.linspace(-max_angle_deg, max_angle_deg, int(n_directions)))  # (D,)
        self.horizon = float(horizon)
        self.margin = float(margin)
        self.angle_cost = float(angle_cost)
        self.min_speed_frac = float(min_speed_frac)
        self.yaw_gain = float(yaw_gain)

    def _free_distance(self, x, y, dx, dy, r) -> np.ndarray:
        """(n, D) free distance along each candidate direction from (x, y) (n,), pillars (n, K)."""
        cfg = self.config
        ux, uy = np.cos(self.angles), np.sin(self.angles)  # (D,)
        rad = np.where(r > 0, r + cfg.body_radius + self.margin, 0.0)
        b = dx[:, None, :] * ux[None, :, None] + dy[:, None, :] * uy[None, :, None]  # (n, D, K)
        cc = (dx * dx + dy * dy - rad * rad)
        cc = np.where(r > 0, cc, np.inf)[:, None, :]
        disc = b * b - cc
        t = np.where((disc >= 0) & (b > 0), b - np.sqrt(np.maximum(disc, 0.0)), np.inf)
        t = np.where(cc <= 0, 0.0, t).min(axis=2)
        wall = cfg.width / 2 - cfg.body_radius - self.margin
        with np.errstate(divide="ignore", invalid="ignore"):
            top = np.where(uy > 0, (wall - y[:, None]) / uy, np.inf)
            bottom = np.where(uy < 0, (-wall - y[:, None]) / uy, np.inf)
        return np.maximum(np.minimum(t, np.minimum(top, bottom)), 0.0)

    def __call__(self, obs) -> np.ndarray:
        cfg = self.config
        o = _check_obs(obs, cfg).astype(np.float64)
        R = cfg.ray_range
        x, y = o[:, 0] * cfg.length, o[:, 1] * (cfg.width / 2)
        vx, vy = o[:, 2] * cfg.max_speed, o[:, 3] * cfg.max_speed
        dx, dy, r = o[:, 6::3] * R, o[:, 7::3] * R, o[:, 8::3]
        free = self._free_distance(x, y, dx, dy, r)  # (n, D)
        score = np.minimum(free, self.horizon) - self.angle_cost * np.abs(self.angles)
        best = np.argmax(score, axis=1)
        theta = self.angles[best]
        free_best = free[np.arange(len(best)), best]
        speed = cfg.max_speed * np.clip((free_best - self.margin) / self.horizon, self.min_speed_frac, 1.0)
        vdx, vdy = speed * np.cos(theta), speed * np.sin(theta)
        actions = np.empty((o.shape[0], 3))
        actions[:, 0] = (vdx - vx) / (cfg.max_accel * cfg.dt)
        actions[:, 1] = (vdy - vy) / (cfg.max_accel * cfg.dt)
        if self.yaw == "fixed":
            actions[:, 2] = 0.0
        else:
            yaw = np.arctan2(o[:, 5], o[:, 4])
            slow = np.hypot(vx, vy) < 0.5
            target = np.where(slow, theta, np.arctan2(vy, vx))
            err = (target - yaw + math.pi) % (2 * math.pi) - math.pi
            actions[:, 2] = self.yaw_gain * err / (cfg.max_yaw_rate * cfg.dt)
        return np.clip(actions, -1.0, 1.0)


class ScanPilot:
    """A scripted pilot on the STUDENT view only: ``pilot(student_obs (n, 6 + M)) -> actions (n, 3)``.

    It has no memory: every ray that hits within range becomes a point obstacle (inflated by
    ``body_radius + margin + point_pad``), the walls are placed from the own position, and the
    translation rule of :class:`ScriptedPilot` steers among them; with ``yaw="along_velocity"``
    the heading follows the velocity (the desired velocity while slow), with ``"fixed"`` it is
    held. It measures how far the view itself carries a student with no learning: the same
    pilot with a wider field of view, or with the camera held, does better or worse.

    :param config: the task.
    :param fov_deg, n_rays: the scan the observations were made with (default: the config's).
    :param yaw: ``"along_velocity"`` (default) or ``"fixed"``.
    :param point_pad: extra radius of each hit point, metres (default 0.15: the gap between
        neighbouring rays at a few metres).
    Other parameters as for :class:`ScriptedPilot`.
    """

    def __init__(self, config: FlightConfig, fov_deg: float | None = None, n_rays: int | None = None,
                 yaw: str = "along_velocity", point_pad: float = 0.15, **kwargs) -> None:
        self.inner = ScriptedPilot(config, yaw=yaw, **kwargs)
        self.config = self.inner.config
        self.fov_deg = config.fov_deg if fov_deg is None else float(fov_deg)
        self.n_rays = config.n_rays if n_rays is None else int(n_rays)
        self.offsets = ray_offsets(self.n_rays, self.fov_deg)
        self.point_pad = float(point_pad)

    def __call__(self, student) -> np.ndarray:
        cfg = self.config
        s = np.asarray(student, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != 6 + self.n_rays:
            raise ValueError(f"student: got shape {s.shape}; allowed: (n, {6 + self.n_rays})")
        R = cfg.ray_range
        c, sn = s[:, 2], s[:, 3]
        vx = (c * s[:, 0] - sn * s[:, 1])  # world frame, / max_speed
        vy = (sn * s[:, 0] + c * s[:, 1])
        depth = s[:, 6:] * R  # (n, M)
        ang = np.arctan2(sn, c)[:, None] + self.offsets[None, :]
        hit = depth < R - 1e-6
        # hit points as pseudo-pillars in the teacher-observation layout, radius 0 where no hit
        pad = self.point_pad
        obs = np.zeros((s.shape[0], 6 + 3 * self.n_rays))
        obs[:, 0], obs[:, 1] = s[:, 4], s[:, 5]
        obs[:, 2], obs[:, 3] = vx, vy
        obs[:, 4], obs[:, 5] = c, sn
        obs[:, 6::3] = np.where(hit, depth * np.cos(ang) / R, 0.0)
        obs[:, 7::3] = np.where(hit, depth * np.sin(ang) / R, 0.0)
        obs[:, 8::3] = np.where(hit, pad, 0.0)
        inner = self.inner
        o = obs
        x, y = o[:, 0] * cfg.length, o[:, 1] * (cfg.width / 2)
        free = inner._free_distance(x, y, o[:, 6::3] * R, o[:, 7::3] * R, o[:, 8::3])
        score = np.minimum(free, inner.horizon) - inner.angle_cost * np.abs(inner.angles)
        best = np.argmax(score, axis=1)
        theta = inner.angles[best]
        free_best = free[np.arange(len(best)), best]
        speed = cfg.max_speed * np.clip((free_best - inner.margin) / inner.horizon, inner.min_speed_frac, 1.0)
        vmx, vmy = vx * cfg.max_speed, vy * cfg.max_speed
        actions = np.empty((s.shape[0], 3))
        actions[:, 0] = (speed * np.cos(theta) - vmx) / (cfg.max_accel * cfg.dt)
        actions[:, 1] = (speed * np.sin(theta) - vmy) / (cfg.max_accel * cfg.dt)
        if inner.yaw == "fixed":
            actions[:, 2] = 0.0
        else:
            yaw = np.arctan2(sn, c)
            slow = np.hypot(vmx, vmy) < 0.5
            target = np.where(slow, theta, np.arctan2(vmy, vmx))
            err = (target - yaw + math.pi) % (2 * math.pi) - math.pi
            actions[:, 2] = inner.yaw_gain * err / (cfg.max_yaw_rate * cfg.dt)
        return np.clip(actions, -1.0, 1.0)
