"""What the teacher and the student observe: the teacher's privileged vector and the student's depth scan.

Teacher observation (float32, ``6 + 3 K`` entries, ``K = config.k_nearest``)::

    0  x / length                      position along the corridor, 0 at the back wall, 1 at the goal line
    1  y / (width / 2)                 lateral position, -1 and +1 at the side walls
    2  vx / max_speed                  world-frame velocity
    3  vy / max_speed
    4  cos(yaw)                        heading (the camera's direction)
    5  sin(yaw)
    6 + 3k, 7 + 3k   (cx - x) / R, (cy - y) / R   world-frame offset of the k-th nearest pillar
    8 + 3k           radius (m)                   0 (and offsets 0) for an absent pillar

Pillars are ordered by surface distance ``|c - p| - r``, nearest first (R = ``ray_range``).
The walls need nothing more: they are at fixed places given ``x`` and ``y``.

Student observation (float32, ``6 + M`` entries), a pure function of the teacher's
(:func:`student_obs`)::

    0  forward speed / max_speed       velocity in the body frame (x along the heading)
    1  leftward speed / max_speed
    2  cos(yaw), 3 sin(yaw)            heading
    4  x / length, 5 y / (width / 2)   position in the corridor
    6 + j   d_j / R                    depth of ray j, 1 when nothing is hit within R

Ray j leaves the body centre at angle ``yaw + fov * ((j + 0.5) / M - 0.5)`` (M rays at
the centres of M equal sectors of the field of view; ray 0 is the rightmost) and stops
at the first pillar surface or wall (side walls and the back wall; the goal end is
open), or at R. Nothing outside the field of view enters the scan; the own state is
proprioception. With ``fov_deg=360`` the same function gives the all-round control
view (use ``n_rays = M * 360 / fov`` to keep the angular spacing).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .config import FlightConfig

__all__ = [
    "OWN_STATE_DIM",
    "teacher_obs",
    "student_obs",
    "ray_offsets",
    "cast_rays",
    "scan_world",
    "pillars_in_view",
    "decode_own_state",
]

OWN_STATE_DIM = 6


def teacher_obs(px, py, vx, vy, yaw, cx, cy, radius, config: FlightConfig, out: np.ndarray | None = None) -> np.ndarray:
    """Teacher observations (n, 6 + 3K) float32 (module doc) for states (n,) and pillars (n, P).

    ``cx, cy, radius``: pillar centres and radii per env; radius 0 marks an absent pillar
    (its centre is then ignored and its entries are 0).
    """
    n, P = cx.shape
    K = config.k_nearest
    R = config.ray_range
    dx = cx - px[:, None]  # (n, P)
    dy = cy - py[:, None]
    surface = np.hypot(dx, dy)
    surface -= radius
    surface[radius <= 0] = np.inf
    order = np.argsort(surface, axis=1)
    if K < P:
        order = order[:, :K]
    order += (np.arange(n) * P)[:, None]
    r_k = radius.take(order)  # (n, K)
    present = r_k > 0
    obs = np.empty((n, OWN_STATE_DIM + 3 * K), dtype=np.float32) if out is None else out
    obs[:, 0] = px * (1.0 / config.length)
    obs[:, 1] = py * (2.0 / config.width)
    obs[:, 2] = vx * (1.0 / config.max_speed)
    obs[:, 3] = vy * (1.0 / config.max_speed)
    obs[:, 4] = np.cos(yaw)
    obs[:, 5] = np.sin(yaw)
    obs[:, 6::3] = np.where(present, dx.take(order) * (1.0 / R), 0.0)
    obs[:, 7::3] = np.where(present, dy.take(order) * (1.0 / R), 0.0)
    obs[:, 8::3] = r_k
    return obs


def _check_obs(obs: Any, config: FlightConfig) -> np.ndarray:
    obs = np.asarray(obs)
    if obs.ndim != 2 or obs.shape[1] != config.obs_dim:
        raise ValueError(f"obs: got shape {obs.shape}; allowed: (n, {config.obs_dim}) for k_nearest={config.k_nearest}")
    return obs


def decode_own_state(obs: Any, config: FlightConfig) -> dict[str, np.ndarray]:
    """Own state (float64, metres and m/s) read back from teacher observations (n, obs_dim)."""
    obs = _check_obs(obs, config).astype(np.float64)
    return {
        "x": obs[:, 0] * config.length,
        "y": obs[:, 1] * (config.width / 2),
        "vx": obs[:, 2] * config.max_speed,
        "vy": obs[:, 3] * config.max_speed,
        "cos": obs[:, 4],
        "sin": obs[:, 5],
    }


def ray_offsets(n_rays: int, fov_deg: float) -> np.ndarray:
    """(M,) ray angles relative to the heading, radians: ``fov * ((j + 0.5) / M - 0.5)``."""
    fov = math.radians(fov_deg)
    return fov * ((np.arange(n_rays) + 0.5) / n_rays - 0.5)


def cast_rays(px, py, cos_yaw, sin_yaw, dx, dy, radius, config: FlightConfig, fov_deg: float | None = None,
              n_rays: int | None = None) -> np.ndarray:
    """Depth (n, M) in metres, clipped to R, of the M rays from ``(px, py)`` (n,) around heading ``(cos, sin)`` (n,).

    Pillars: offsets ``dx, dy`` from the origin and radii (n, K) (radius 0 = absent). Hits: the
    first intersection with a pillar circle ahead of the origin (0 if the origin is inside a
    pillar), with the side walls ``y = +-W/2`` and with the back wall ``x = 0``.
    """
    fov_deg = config.fov_deg if fov_deg is None else float(fov_deg)
    n_rays = config.n_rays if n_rays is None else int(n_rays)
    if not (0 < fov_deg <= 360):
        raise ValueError(f"fov_deg: got {fov_deg!r}; allowed: a number in (0, 360]")
    if n_rays < 1:
        raise ValueError(f"n_rays: got {n_rays!r}; allowed: an int >= 1")
    R = config.ray_range
    off = ray_offsets(n_rays, fov_deg)
    co, so = np.cos(off), np.sin(off)
    ux = cos_yaw[:, None] * co - sin_yaw[:, None] * so  # (n, M)
    uy = sin_yaw[:, None] * co + cos_yaw[:, None] * so
    # pillars: |o + t u - c|^2 = r^2  ->  t = b - sqrt(b^2 - cc), b = (c - o).u, cc = |c - o|^2 - r^2
    b = ux[:, :, None] * dx[:, None, :] + uy[:, :, None] * dy[:, None, :]  # (n, M, K)
    cc = dx * dx + dy * dy - radius * radius  # (n, K)
    cc = np.where(radius > 0, cc, np.inf)[:, None, :]
    disc = b * b - cc
    with np.errstate(invalid="ignore"):
        t = np.where((disc >= 0) & (b > 0), b - np.sqrt(np.maximum(disc, 0.0)), np.inf)
    t = np.where(cc <= 0, 0.0, t)
    depth = t.min(axis=2, initial=np.inf) if t.shape[2] else np.full(ux.shape, np.inf)
    # walls
    half = config.width / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        top = np.where(uy > 0, (half - py[:, None]) / uy, np.inf)
        bottom = np.where(uy < 0, (-half - py[:, None]) / uy, np.inf)
        back = np.where(ux < 0, -px[:, None] / ux, np.inf)
    depth = np.minimum(depth, np.minimum(np.minimum(top, bottom), back))
    return np.clip(depth, 0.0, R)


def student_obs(obs: Any, config: FlightConfig | None = None, fov_deg: float | None = None,
                n_rays: int | None = None) -> np.ndarray:
    """The student's view (n, 6 + M) float32 of teacher observations (n, 6 + 3K) (module doc).

    :param config: the task (default ``FlightConfig()``); must be the one the observations come from.
    :param fov_deg: field of view of the scan; default ``config.fov_deg`` (use 360 for the all-round control).
    :param n_rays: rays M; default ``config.n_rays``.
    """
    config = config or FlightConfig()
    obs = _check_obs(obs, config)
    o = obs.astype(np.float64)
    R = config.ray_range
    px = o[:, 0] * config.length
    py = o[:, 1] * (config.width / 2)
    c, s = o[:, 4], o[:, 5]
    depth = cast_rays(px, py, c, s, o[:, 6::3] * R, o[:, 7::3] * R, o[:, 8::3], config, fov_deg, n_rays)
    out = np.empty((obs.shape[0], OWN_STATE_DIM + depth.shape[1]), dtype=np.float32)
    vx, vy = o[:, 2], o[:, 3]  # already / max_speed
    out[:, 0] = c * vx + s * vy
    out[:, 1] = -s * vx + c * vy
    out[:, 2] = c
    out[:, 3] = s
    out[:, 4] = o[:, 0]
    out[:, 5] = o[:, 1]
    out[:, 6:] = depth * (1.0 / R)
    return out


def scan_world(pos, yaw, centres, radii, config: FlightConfig, fov_deg: float | None = None,
               n_rays: int | None = None) -> np.ndarray:
    """Depth (n, M) in metres from the whole world: positions (n, 2), headings (n,), ALL pillars (n, P, 2), (n, P).

    The same ray geometry as :func:`student_obs`, without going through the teacher
    observation (no K-nearest selection, no float32): the reference the tests compare against.
    """
    pos = np.asarray(pos, dtype=np.float64)
    yaw = np.asarray(yaw, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    radii = np.asarray(radii, dtype=np.float64)
    dx = centres[..., 0] - pos[:, 0:1]
    dy = centres[..., 1] - pos[:, 1:2]
    return cast_rays(pos[:, 0], pos[:, 1], np.cos(yaw), np.sin(yaw), dx, dy, radii, config, fov_deg, n_rays)


def pillars_in_view(pos, yaw, centres, radii, config: FlightConfig, fov_deg: float | None = None) -> np.ndarray:
    """(n,) number of present pillars whose centre is within R of the body and within ``fov/2`` of the heading.

    Occlusion is ignored (a pillar behind another still counts), as a count of
    "obstacles in the camera view" would on the paper's images before occlusion.
    """
    fov_deg = config.fov_deg if fov_deg is None else float(fov_deg)
    pos = np.asarray(pos, dtype=np.float64)
    dx = np.asarray(centres)[..., 0] - pos[:, 0:1]
    dy = np.asarray(centres)[..., 1] - pos[:, 1:2]
    yaw = np.asarray(yaw, dtype=np.float64)[:, None]
    bearing = np.arctan2(dy, dx) - yaw
    bearing = (bearing + np.pi) % (2 * np.pi) - np.pi
    inside = (np.hypot(dx, dy) <= config.ray_range) & (np.abs(bearing) <= math.radians(fov_deg) / 2)
    return (inside & (np.asarray(radii) > 0)).sum(axis=1)
