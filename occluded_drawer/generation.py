"""Seeded scene generation for the occluded drawer.

A scene is the closed handle's position on the drawer front and the arm's initial joint
angles. Both are uniform (``handle_x_range`` x ``handle_y_range``, ``init_joint_ranges``),
then rejection-sampled so that every scene satisfies:

* the gripper does not start within ``2 * grasp_radius`` of the handle;
* the handle is visible from the initial posture (so that every approach starts with the
  handle in view and the visible share measures what the approach does, not the draw).

Reachability and the field of view of every handle position (closed and opened) are
properties of the config (:meth:`DrawerConfig.validate`), not of the draw. Only a
``numpy.random.Generator`` built from ``seed`` is used (never the global RNG).
"""

from __future__ import annotations

import hashlib
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from sitt.checks import validate_seed

from .config import DrawerConfig
from .geometry import handle_visible, link_points

__all__ = ["Scenes", "generate_scenes", "draw_scenes", "scenes_sha256", "validate_seed"]

_MAX_ROUNDS = 1000


@dataclass(frozen=True)
class Scenes:
    """``n`` scenes: ``handle (n, 2)`` closed handle positions and ``q0 (n, K)`` initial joint angles (float64)."""

    handle: np.ndarray
    q0: np.ndarray

    def __post_init__(self) -> None:
        handle = np.array(self.handle, dtype=np.float64)
        q0 = np.array(self.q0, dtype=np.float64)
        if handle.ndim != 2 or handle.shape[1] != 2 or handle.shape[0] < 1:
            raise ValueError(f"scenes.handle: got shape {handle.shape}; allowed: (n >= 1, 2)")
        if q0.ndim != 2 or q0.shape[0] != handle.shape[0]:
            raise ValueError(f"scenes.q0: got shape {q0.shape}; allowed: ({handle.shape[0]}, n_links)")
        if not (np.isfinite(handle).all() and np.isfinite(q0).all()):
            raise ValueError("scenes: got non-finite values; allowed: finite numbers")
        handle.flags.writeable = False
        q0.flags.writeable = False
        object.__setattr__(self, "handle", handle)
        object.__setattr__(self, "q0", q0)

    def __len__(self) -> int:
        return int(self.handle.shape[0])

    def subset(self, idx: Any) -> Scenes:
        idx = np.atleast_1d(np.asarray(idx))
        return Scenes(self.handle[idx], self.q0[idx])


def draw_scenes(n: int, config: DrawerConfig, rng: np.random.Generator) -> Scenes:
    """Draw ``n`` valid scenes from ``rng`` (module doc); the env's resets use this."""
    k = config.n_links
    handles = np.empty((0, 2))
    qs = np.empty((0, k))
    lo = np.array([r[0] for r in config.init_joint_ranges])
    hi = np.array([r[1] for r in config.init_joint_ranges])
    for _ in range(_MAX_ROUNDS):
        m = max(2 * (n - len(handles)), 16)
        h = np.stack([rng.uniform(*config.handle_x_range, m), rng.uniform(*config.handle_y_range, m)], axis=-1)
        q = rng.uniform(lo, hi, size=(m, k))
        pts = link_points(q, config.link_lengths)
        far = np.linalg.norm(pts[:, -1] - h, axis=-1) > 2 * config.grasp_radius
        ok = far & handle_visible(pts, h, config)
        handles = np.concatenate([handles, h[ok]])
        qs = np.concatenate([qs, q[ok]])
        if len(handles) >= n:
            return Scenes(handles[:n], qs[:n])
    raise ValueError(
        "config: got a geometry where almost no initial posture sees the handle; allowed: "
        "init_joint_ranges / camera settings under which the handle is visible at the start"
    )


def generate_scenes(n: int, config: DrawerConfig | None = None, seed: Any = 0) -> Scenes:
    """``n`` scenes drawn with ``np.random.default_rng(seed)`` (the same seed gives the same scenes)."""
    if not (isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1):
        raise ValueError(f"n: got {n!r}; allowed: an int >= 1")
    config = (config or DrawerConfig()).validate()
    return draw_scenes(int(n), config, np.random.default_rng(validate_seed(seed)))


def scenes_sha256(scenes: Scenes) -> str:
    """Hex SHA-256 of the scenes' float64 bytes (handle, then q0, C order) and shapes: a provenance fingerprint."""
    h = hashlib.sha256()
    for arr in (scenes.handle, scenes.q0):
        a = np.ascontiguousarray(arr, dtype="<f8")
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
