"""Seeded generation of pillar worlds with a guaranteed passage, and their fingerprint.

A world is P circular pillars in the corridor plus a start state (position, heading).
:func:`generate_worlds` draws every world from its own ``numpy.random.Generator(seed)``
(never the global RNG):

* pillar centre ``x ~ U[pillar_x_min, length - pillar_end_gap]``, radius
  ``r ~ U[pillar_radius_min, pillar_radius_max]``, centre ``y ~ U[-W/2 + r, W/2 - r]``
  (the pillar lies inside the corridor);
* start ``(start_x, y0)`` with ``y0 ~ U[-start_y_range, start_y_range]``, heading
  ``~ U[-start_yaw_range_deg, start_yaw_range_deg]`` (radians, around ``+x``);
* the world is kept only if it passes :func:`check_worlds`; rejected worlds are drawn
  again (whole world, same generator) until they pass.

Passage guarantee (``min_passage_width`` w, ``grid_resolution`` h). On a grid of cells of
side h covering ``[0, length + h] x [-W/2, W/2]``, a cell is *free* when its centre has
clearance at least ``w/2 + h/2`` to every pillar surface and to the walls (side walls and
the back wall ``x = 0``). A world passes when the free cell holding the start is
4-connected to a free cell whose centre lies at ``x >= length``. Every point of the
segment between two 4-adjacent centres is within h/2 of one of them, so the polyline
through those centres keeps clearance >= w/2 everywhere: a disc of diameter w (wider than
the body, ``w > 2 * body_radius``) flies from the start cell to beyond the goal line.

K guarantee (only when ``k_nearest < n_pillars``). A world also needs, at every grid cell
centre, at most K pillars whose surface lies within ``ray_range + h * sqrt(2) / 2``; then
at every point of the corridor at most K pillars lie within the ray range, so the K
nearest pillars listed in the teacher observation include every pillar a ray can hit
(this rejection makes pillars more evenly spread; with the default K = P it never fires).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from .config import FlightConfig

__all__ = ["Worlds", "generate_worlds", "check_worlds", "worlds_sha256", "draw_starts", "validate_worlds"]

MAX_ROUNDS = 10_000  # rejection rounds before generate_worlds gives up


@dataclass(frozen=True)
class Worlds:
    """``n`` worlds as numpy float64 arrays.

    :param centres: (n, P, 2) pillar centres (x, y).
    :param radii: (n, P) pillar radii; radius 0 marks an absent pillar (hand-built worlds only).
    :param start: (n, 2) start positions (x, y).
    :param start_yaw: (n,) start headings in radians, in [-pi, pi].
    """

    centres: np.ndarray
    radii: np.ndarray
    start: np.ndarray
    start_yaw: np.ndarray

    def __len__(self) -> int:
        return int(self.radii.shape[0])

    @property
    def n_pillars(self) -> int:
        return int(self.radii.shape[1])

    def subset(self, index: Any) -> Worlds:
        """The worlds ``index`` (an int, slice or index array), copied."""
        idx = np.atleast_1d(np.arange(len(self))[index])
        return Worlds(self.centres[idx].copy(), self.radii[idx].copy(), self.start[idx].copy(),
                      self.start_yaw[idx].copy())


def draw_starts(rng: np.random.Generator, n: int, config: FlightConfig) -> tuple[np.ndarray, np.ndarray]:
    """``n`` start states: positions (n, 2) at ``x = start_x`` and headings (n,) (module doc)."""
    start = np.empty((n, 2))
    start[:, 0] = config.start_x
    start[:, 1] = rng.uniform(-config.start_y_range, config.start_y_range, size=n)
    yaw_range = math.radians(config.start_yaw_range_deg)
    yaw = rng.uniform(-yaw_range, yaw_range, size=n)
    return start, yaw


def _draw(rng: np.random.Generator, n: int, config: FlightConfig) -> Worlds:
    P = config.n_pillars
    x = rng.uniform(config.pillar_x_min, config.length - config.pillar_end_gap, size=(n, P))
    r = rng.uniform(config.pillar_radius_min, config.pillar_radius_max, size=(n, P))
    half = config.width / 2
    y = rng.uniform(-half + r, half - r)
    start, yaw = draw_starts(rng, n, config)
    return Worlds(np.stack([x, y], axis=-1), r, start, yaw)


def _grid(config: FlightConfig) -> tuple[np.ndarray, np.ndarray]:
    h = config.grid_resolution
    nx = int(math.ceil((config.length + max(h, config.max_speed * config.dt)) / h)) + 1
    ny = int(math.ceil(config.width / h))
    xs = (np.arange(nx) + 0.5) * h
    ys = -config.width / 2 + (np.arange(ny) + 0.5) * h
    return xs, ys


def check_worlds(worlds: Worlds, config: FlightConfig) -> np.ndarray:
    """(n,) bool: each world satisfies the passage guarantee (and the K guarantee when K < P)."""
    config.validate()
    h = config.grid_resolution
    xs, ys = _grid(config)
    X, Y = xs[None, :, None], ys[None, None, :]
    n = len(worlds)
    # clearance to the walls: side walls and the back wall x = 0
    wall = np.minimum(config.width / 2 - np.abs(Y), X)  # (1, nx, ny)
    clearance = np.broadcast_to(wall, (n, xs.size, ys.size)).copy()
    crowd = np.zeros(clearance.shape, dtype=np.int16)
    reach = config.ray_range + h * math.sqrt(2) / 2
    for p in range(worlds.n_pillars):
        cx = worlds.centres[:, p, 0][:, None, None]
        cy = worlds.centres[:, p, 1][:, None, None]
        r = worlds.radii[:, p][:, None, None]
        present = r > 0
        surface = np.where(present, np.hypot(X - cx, Y - cy) - r, np.inf)
        np.minimum(clearance, surface, out=clearance)
        crowd += surface <= reach
    free = clearance >= config.min_passage_width / 2 + h / 2
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    labels, _ = ndimage.label(free, structure=structure)
    ix = np.clip(np.floor(worlds.start[:, 0] / h).astype(np.int64), 0, xs.size - 1)
    iy = np.clip(np.floor((worlds.start[:, 1] + config.width / 2) / h).astype(np.int64), 0, ys.size - 1)
    start_label = labels[np.arange(n), ix, iy]
    goal_cols = xs >= config.length
    reached = (labels[:, goal_cols, :] == start_label[:, None, None]).any(axis=(1, 2))
    ok = (start_label > 0) & reached
    if config.k_nearest < worlds.n_pillars:
        ok &= crowd.max(axis=(1, 2)) <= config.k_nearest
    return ok


def generate_worlds(n: int, config: FlightConfig | None = None, seed: Any = 0) -> Worlds:
    """Draw ``n`` worlds (module doc) from ``numpy.random.default_rng(seed)``.

    :param n: number of worlds, >= 1.
    :param config: the task; default ``FlightConfig()``.
    :param seed: an int >= 0, a SeedSequence or a Generator (the global RNG is never used).
        The same seed and config give bit-identical worlds.
    """
    config = (config or FlightConfig()).validate()
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: got {n!r}; allowed: an int >= 1")
    if seed is None or isinstance(seed, bool) or (isinstance(seed, (int, np.integer)) and seed < 0):
        raise ValueError(f"seed: got {seed!r}; allowed: an int >= 0, a numpy SeedSequence or Generator")
    rng = np.random.default_rng(seed)
    worlds = _draw(rng, int(n), config)
    pending = np.flatnonzero(~check_worlds(worlds, config))
    for _ in range(MAX_ROUNDS):
        if pending.size == 0:
            return worlds
        fresh = _draw(rng, pending.size, config)
        for name in ("centres", "radii", "start", "start_yaw"):
            getattr(worlds, name)[pending] = getattr(fresh, name)
        sub = worlds.subset(pending)
        pending = pending[~check_worlds(sub, config)]
    raise RuntimeError(
        f"generate_worlds: {pending.size} worlds still failed the passage/K checks after {MAX_ROUNDS} rounds; "
        f"the config is too crowded (fewer pillars, a smaller min_passage_width or a larger k_nearest)"
    )


def validate_worlds(worlds: Any, config: FlightConfig) -> Worlds:
    """Check hand-given worlds for ``FovFlightEnv.from_worlds``; return a float64 copy.

    Shapes (n >= 1): centres (n, P, 2), radii (n, P) >= 0 (0 = absent pillar), start (n, 2),
    start_yaw (n,), with ``P == config.n_pillars``; all finite; present pillars and starts
    inside the corridor. The passage is NOT required (hand-built test worlds may block it).
    """
    if not isinstance(worlds, Worlds):
        raise ValueError(f"worlds: got {type(worlds).__name__}; allowed: a fov_flight.generation.Worlds")
    c = np.array(worlds.centres, dtype=np.float64)
    r = np.array(worlds.radii, dtype=np.float64)
    s = np.array(worlds.start, dtype=np.float64)
    yaw = np.array(worlds.start_yaw, dtype=np.float64)
    P = config.n_pillars
    if r.ndim != 2 or r.shape[0] < 1 or r.shape[1] != P:
        raise ValueError(f"worlds.radii: got shape {r.shape}; allowed: (n >= 1, n_pillars = {P})")
    n = r.shape[0]
    for name, arr, shape in (("centres", c, (n, P, 2)), ("start", s, (n, 2)), ("start_yaw", yaw, (n,))):
        if arr.shape != shape:
            raise ValueError(f"worlds.{name}: got shape {arr.shape}; allowed: {shape}")
    for name, arr in (("centres", c), ("radii", r), ("start", s), ("start_yaw", yaw)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"worlds.{name}: got non-finite values; allowed: finite numbers")
    if np.any(r < 0):
        raise ValueError(f"worlds.radii: got a minimum of {r.min()}; allowed: radii >= 0 (0 = absent pillar)")
    half = config.width / 2
    present = r > 0
    inside = (c[..., 0] >= 0) & (c[..., 0] <= config.length) & (np.abs(c[..., 1]) <= half)
    if np.any(present & ~inside):
        raise ValueError(f"worlds.centres: got a pillar centre outside the corridor; allowed: "
                         f"0 <= x <= {config.length}, |y| <= {half}")
    b = config.body_radius
    if np.any((s[:, 0] <= b) | (s[:, 0] >= config.length) | (np.abs(s[:, 1]) >= half - b)):
        raise ValueError(f"worlds.start: got a start outside the corridor; allowed: {b} < x < {config.length}, "
                         f"|y| < {half - b}")
    return Worlds(c, r, s, yaw)


def worlds_sha256(worlds: Worlds) -> str:
    """Hex SHA-256 of the worlds' arrays (name, dtype, shape and float64 bytes of each, in a fixed order)."""
    digest = hashlib.sha256()
    for name in ("centres", "radii", "start", "start_yaw"):
        arr = np.ascontiguousarray(np.asarray(getattr(worlds, name), dtype=np.float64))
        digest.update(f"{name}:{arr.dtype.str}:{arr.shape};".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()
