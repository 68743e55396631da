"""Slow, obviously-correct references for the tests: a per-env Python flight and a sphere-tracing ray-marcher.

:class:`ReferenceFlight` steps ONE world with plain Python floats, following the module
doc of :mod:`fov_flight.env` line by line (the segment-to-pillar distance written out in
scalar form, pillar by pillar). :func:`ray_march`
marches a single ray through the whole world by sphere tracing (each step advances by
the distance to the nearest surface), independent of the closed-form ray-circle
intersection of :func:`fov_flight.views.cast_rays`.
"""

from __future__ import annotations

import math

import numpy as np

from .config import FlightConfig

__all__ = ["ReferenceFlight", "ray_march", "reference_scan"]


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


class ReferenceFlight:
    """One flight in one world (centres (P, 2), radii (P,)), from ``start`` (2,) and ``start_yaw``."""

    def __init__(self, centres, radii, start, start_yaw, config: FlightConfig) -> None:
        self.config = config.validate()
        self.pillars = [(float(c[0]), float(c[1]), float(r)) for c, r in zip(np.asarray(centres), np.asarray(radii))
                        if r > 0]
        self.start = (float(start[0]), float(start[1]), float(start_yaw))
        self.reset()

    def reset(self) -> None:
        self.x, self.y, self.yaw = self.start
        self.vx = self.vy = 0.0
        self.t = 0

    def step(self, action) -> tuple[float, bool, bool, bool]:
        """Apply one action (3,); return ``(reward, collision, success, truncated)`` (no auto-reset)."""
        c = self.config
        ax, ay, w = (min(1.0, max(-1.0, float(a))) for a in action)
        vx = self.vx + ax * (c.max_accel * c.dt)
        vy = self.vy + ay * (c.max_accel * c.dt)
        speed = math.hypot(vx, vy)
        if speed > c.max_speed:
            vx, vy = vx * (c.max_speed / speed), vy * (c.max_speed / speed)
        mx, my = vx * c.dt, vy * c.dt
        x0, y0 = self.x, self.y
        x1, y1 = x0 + mx, y0 + my
        collision = abs(y1) > c.width / 2 - c.body_radius or x1 < c.body_radius
        for cx, cy, r in self.pillars:
            mm = mx * mx + my * my
            s = 0.0 if mm == 0 else ((cx - x0) * mx + (cy - y0) * my) / mm
            s = min(1.0, max(0.0, s))
            if math.hypot(cx - (x0 + s * mx), cy - (y0 + s * my)) < r + c.body_radius:
                collision = True
        success = x1 >= c.length and not collision
        reward = c.progress_coef * mx - c.collision_penalty * collision + c.success_bonus * success
        self.x, self.y, self.vx, self.vy = x1, y1, vx, vy
        self.yaw = _wrap(self.yaw + w * (c.max_yaw_rate * c.dt))
        self.t += 1
        truncated = self.t >= c.time_limit and not (collision or success)
        return reward, collision, success, truncated


def _sdf(x: float, y: float, pillars, config: FlightConfig) -> float:
    d = min(config.width / 2 - y, y + config.width / 2, x)  # side walls and the back wall
    for cx, cy, r in pillars:
        d = min(d, math.hypot(x - cx, y - cy) - r)
    return d


def ray_march(x: float, y: float, angle: float, centres, radii, config: FlightConfig, eps: float = 1e-9,
              max_iter: int = 200_000) -> float:
    """Distance (clipped to ``ray_range``) along the ray from (x, y) at ``angle`` to the first surface, by sphere
    tracing."""
    pillars = [(float(c[0]), float(c[1]), float(r)) for c, r in zip(np.asarray(centres), np.asarray(radii)) if r > 0]
    ux, uy = math.cos(angle), math.sin(angle)
    t = 0.0
    R = config.ray_range
    for _ in range(max_iter):
        d = _sdf(x + t * ux, y + t * uy, pillars, config)
        if d <= eps:
            return max(0.0, min(t, R))
        t += d
        if t >= R:
            return R
    raise RuntimeError("ray_march did not converge")  # pragma: no cover


def reference_scan(x: float, y: float, yaw: float, centres, radii, config: FlightConfig, fov_deg: float | None = None,
                   n_rays: int | None = None) -> np.ndarray:
    """(M,) depths of the student's rays at one state, each by :func:`ray_march` (ray j at
    ``yaw + fov * ((j + 0.5) / M - 0.5)``, written out here rather than taken from :mod:`fov_flight.views`)."""
    fov = math.radians(config.fov_deg if fov_deg is None else fov_deg)
    m = config.n_rays if n_rays is None else n_rays
    return np.array([ray_march(x, y, yaw + fov * ((j + 0.5) / m - 0.5), centres, radii, config) for j in range(m)])
