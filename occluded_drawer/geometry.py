"""Planar geometry of the occluded drawer: forward and inverse kinematics, and the camera's view.

All functions are vectorised over a leading batch axis and use numpy only.

Kinematics
----------
Joint angles are relative: ``theta_k = q_1 + ... + q_k`` is the absolute angle of link k and
``p_k = p_{k-1} + L_k (cos theta_k, sin theta_k)`` with ``p_0`` the base (the origin). The
gripper (end effector) is ``p_K``. :func:`link_points_from_cos_sin` does the same from the
cosines and sines of the relative angles (the teacher observation holds those), by complex
multiplication, so the student view can rebuild the arm from the observation alone.

Visibility
----------
The handle is visible when

1. it lies in the camera's field of view: the angle between the optical axis and the ray from
   the camera to the handle is at most ``camera_fov / 2``; and
2. no link comes within ``link_radius`` of the sight segment, which runs from the camera to the
   point ``handle_clearance`` short of the handle (the handle's own size: a gripper holding
   the handle does not hide it by itself, an arm between camera and handle does).

Condition 2 is a segment-segment distance (0 when they cross, else the smallest of the four
endpoint-to-segment distances), so links are capsules of radius ``link_radius``.
"""

from __future__ import annotations

import numpy as np

from .config import DrawerConfig

__all__ = [
    "forward_kinematics",
    "link_points",
    "link_points_from_cos_sin",
    "inverse_kinematics_2link",
    "point_segment_distance",
    "segment_segment_distance",
    "sight_segment",
    "in_field_of_view",
    "handle_visible",
]


def link_points(q: np.ndarray, link_lengths) -> np.ndarray:
    """Joint positions ``(..., K + 1, 2)`` (base first, gripper last) for relative angles ``q (..., K)``."""
    q = np.asarray(q, dtype=np.float64)
    theta = np.cumsum(q, axis=-1)
    lengths = np.asarray(link_lengths, dtype=np.float64)
    steps = np.stack([lengths * np.cos(theta), lengths * np.sin(theta)], axis=-1)  # (..., K, 2)
    pts = np.zeros(q.shape[:-1] + (q.shape[-1] + 1, 2))
    np.cumsum(steps, axis=-2, out=pts[..., 1:, :])
    return pts


def forward_kinematics(q: np.ndarray, link_lengths) -> np.ndarray:
    """Gripper position ``(..., 2)`` for relative joint angles ``q (..., K)``."""
    return link_points(q, link_lengths)[..., -1, :]


def link_points_from_cos_sin(cos_q: np.ndarray, sin_q: np.ndarray, link_lengths) -> np.ndarray:
    """As :func:`link_points`, from ``cos q`` and ``sin q`` (each ``(..., K)``) of the relative angles."""
    z = np.cumprod(np.asarray(cos_q, dtype=np.float64) + 1j * np.asarray(sin_q, dtype=np.float64), axis=-1)
    z = z * np.asarray(link_lengths, dtype=np.float64)
    c = np.cumsum(z, axis=-1)
    pts = np.zeros(c.shape[:-1] + (c.shape[-1] + 1, 2))
    pts[..., 1:, 0] = c.real
    pts[..., 1:, 1] = c.imag
    return pts


def inverse_kinematics_2link(target: np.ndarray, l1: float, l2: float, elbow: str) -> np.ndarray:
    """Angles ``(..., 2)`` placing a 2-link arm's tip at ``target (..., 2)`` (clipped into reach).

    ``elbow="up"``: ``q2 <= 0``, the elbow on the counter-clockwise (left) side of the line from
    the base to the target (above it for a target to the right); ``"down"``: ``q2 >= 0``.
    """
    if elbow not in ("up", "down"):
        raise ValueError(f"elbow: got {elbow!r}; allowed: 'up', 'down'")
    target = np.asarray(target, dtype=np.float64)
    x, y = target[..., 0], target[..., 1]
    c2 = np.clip((x * x + y * y - l1 * l1 - l2 * l2) / (2 * l1 * l2), -1.0, 1.0)
    q2 = np.arccos(c2) * (-1.0 if elbow == "up" else 1.0)
    q1 = np.arctan2(y, x) - np.arctan2(l2 * np.sin(q2), l1 + l2 * np.cos(q2))
    q1 = (q1 + np.pi) % (2 * np.pi) - np.pi
    return np.stack([q1, q2], axis=-1)


def point_segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance ``(...)`` from points ``p`` to segments ``a-b`` (all ``(..., 2)``, broadcast)."""
    ab = b - a
    ap = p - a
    den = np.maximum((ab * ab).sum(-1), 1e-300)
    t = np.clip((ap * ab).sum(-1) / den, 0.0, 1.0)
    d = ap - t[..., None] * ab
    return np.sqrt((d * d).sum(-1))


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def segment_segment_distance(p0, p1, q0, q1) -> np.ndarray:
    """Distance ``(...)`` between segments ``p0-p1`` and ``q0-q1`` (all ``(..., 2)``, broadcast)."""
    p0, p1, q0, q1 = (np.asarray(v, dtype=np.float64) for v in (p0, p1, q0, q1))
    d = np.minimum(
        np.minimum(point_segment_distance(p0, q0, q1), point_segment_distance(p1, q0, q1)),
        np.minimum(point_segment_distance(q0, p0, p1), point_segment_distance(q1, p0, p1)),
    )
    r, s = p1 - p0, q1 - q0
    d1, d2 = _cross(s, p0 - q0), _cross(s, p1 - q0)
    d3, d4 = _cross(r, q0 - p0), _cross(r, q1 - p0)
    crossing = (d1 * d2 < 0) & (d3 * d4 < 0)
    return np.where(crossing, 0.0, d)


def sight_segment(handle: np.ndarray, config: DrawerConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of the sight segment to ``handle (..., 2)``: camera to ``handle_clearance`` short of it."""
    handle = np.asarray(handle, dtype=np.float64)
    cam = np.broadcast_to(np.asarray(config.camera_position, dtype=np.float64), handle.shape)
    ray = handle - cam
    dist = np.sqrt((ray * ray).sum(-1, keepdims=True))
    end = handle - ray * (config.handle_clearance / np.maximum(dist, 1e-12))
    return cam, end


def in_field_of_view(handle: np.ndarray, config: DrawerConfig) -> np.ndarray:
    """Bool ``(...)``: the handle is within ``camera_fov / 2`` of the optical axis."""
    handle = np.asarray(handle, dtype=np.float64)
    ray = handle - np.asarray(config.camera_position, dtype=np.float64)
    axis = np.array([np.cos(config.camera_angle), np.sin(config.camera_angle)])
    dist = np.sqrt((ray * ray).sum(-1))
    return (ray @ axis) >= dist * np.cos(config.camera_fov / 2)


def handle_visible(points: np.ndarray, handle: np.ndarray, config: DrawerConfig) -> np.ndarray:
    """Bool ``(...)``: the handle is in view and unoccluded (module doc).

    ``points (..., K + 1, 2)``: the arm's joint positions (base first); ``handle (..., 2)``.
    """
    points = np.asarray(points, dtype=np.float64)
    cam, end = sight_segment(handle, config)
    d = segment_segment_distance(cam[..., None, :], end[..., None, :], points[..., :-1, :], points[..., 1:, :])
    clear = (d >= config.link_radius).all(axis=-1)
    return clear & in_field_of_view(handle, config)
