"""Pictures of the occluded drawer (matplotlib, Agg; nothing needs a display).

``draw_scene`` draws the cabinet and drawer (its front at the closed handle, pulled out along
the rail by the opening), the rail, the handle (red dot), the camera and its field-of-view
cone. ``draw_arm`` draws the arm at one posture and the camera's sight line to the handle:
green when the handle is visible, red (dashed) when it is blocked or out of view.
``draw_approach`` overlays the arm every ``every`` steps of a trajectory (older postures
lighter) and the gripper's path, with sight lines coloured per posture.
``scene_figure`` and ``approach_figure`` return ``matplotlib.figure.Figure`` objects on an Agg
canvas (outside pyplot; the global backend is left alone).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Polygon, Rectangle, Wedge

from .config import DrawerConfig
from .geometry import handle_visible, link_points, sight_segment

__all__ = [
    "VISIBLE_COLOR",
    "BLOCKED_COLOR",
    "HANDLE_COLOR",
    "ARM_COLOR",
    "draw_scene",
    "draw_arm",
    "draw_approach",
    "scene_figure",
    "approach_figure",
]

VISIBLE_COLOR = "#2ca02c"
BLOCKED_COLOR = "#d62728"
HANDLE_COLOR = "#e31a1c"
ARM_COLOR = "#1f4e79"
_DRAWER_DEPTH = 0.5
_DRAWER_HEIGHT = 0.3


def _new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def draw_scene(ax, config: DrawerConfig, handle_closed: Sequence[float], opening: float = 0.0) -> None:
    """Cabinet, drawer, rail, handle, camera and field of view on ``ax`` (data units = world units)."""
    hx, hy = (float(v) for v in handle_closed)
    ux, uy = config.rail_direction
    ang = float(np.degrees(config.rail_angle + np.pi))  # the drawer body lies behind the front
    # cabinet (grey) and drawer (brown, moved out by `opening`), as boxes rotated with the rail
    boxes = ((0.0, _DRAWER_DEPTH + config.max_opening, "#d9d9d9", 0), (opening, _DRAWER_DEPTH, "#c7a27c", 1))
    for offset, depth, color, z in boxes:
        ox, oy = hx + offset * ux, hy + offset * uy
        corner = (ox - (_DRAWER_HEIGHT / 2) * uy, oy + (_DRAWER_HEIGHT / 2) * ux)  # half a height to the side
        ax.add_patch(Rectangle(corner, depth, _DRAWER_HEIGHT, angle=ang, rotation_point=corner,
                               facecolor=color, edgecolor="k", lw=0.8, zorder=z))
    ax.plot([hx, hx + config.max_opening * ux], [hy, hy + config.max_opening * uy], color="0.3", lw=1, ls=":", zorder=2)
    so = config.success_opening
    ax.plot([hx + so * ux], [hy + so * uy], marker="|", color="0.3", ms=10, zorder=2)
    px, py = hx + opening * ux, hy + opening * uy
    ax.add_patch(Circle((px, py), 0.035, facecolor=HANDLE_COLOR, edgecolor="k", lw=0.6, zorder=6))
    cx, cy = config.camera_position
    half = np.degrees(config.camera_fov / 2)
    axis = np.degrees(config.camera_angle)
    ax.add_patch(Wedge((cx, cy), 2.2, axis - half, axis + half, facecolor="#fff2a8", edgecolor="#b59f00",
                       alpha=0.35, lw=0.8, zorder=0))
    cam = Polygon([[cx - 0.06, cy - 0.05], [cx - 0.06, cy + 0.05], [cx + 0.06, cy]], closed=True,
                  facecolor="k", zorder=7)
    ax.add_patch(cam)
    ax.plot([0.0], [0.0], marker="s", color="k", ms=8, zorder=5)


def draw_arm(ax, q: Sequence[float], config: DrawerConfig, handle: Sequence[float] | None = None,
             alpha: float = 1.0, sight: bool = True, color: str = ARM_COLOR) -> bool | None:
    """The arm at joint angles ``q (K,)``; with ``handle``, the sight line to it. Returns the visibility (or None)."""
    pts = link_points(np.asarray(q, dtype=np.float64), config.link_lengths)
    ax.plot(pts[:, 0], pts[:, 1], color=color, lw=4, alpha=alpha, solid_capstyle="round", zorder=4)
    ax.plot(pts[:-1, 0], pts[:-1, 1], "o", color="white", mec=color, ms=4, alpha=alpha, zorder=5)
    ax.plot(pts[-1, 0], pts[-1, 1], "D", color=color, ms=5, alpha=alpha, zorder=5)
    if handle is None or not sight:
        return None
    h = np.asarray(handle, dtype=np.float64)
    vis = bool(handle_visible(pts, h, config))
    cam, _ = sight_segment(h, config)
    ax.plot([cam[0], h[0]], [cam[1], h[1]], color=VISIBLE_COLOR if vis else BLOCKED_COLOR,
            lw=1.2, ls="-" if vis else "--", alpha=max(alpha, 0.4), zorder=3)
    return vis


def draw_approach(ax, q_seq: np.ndarray, config: DrawerConfig, handle_seq: np.ndarray, every: int = 3,
                  gripper_seq: np.ndarray | None = None) -> list[bool]:
    """Overlay the postures ``q_seq[::every]`` (and the last one), lighter when older; NaN rows are skipped.

    ``q_seq (T, K)``, ``handle_seq (T, 2)``; ``gripper_seq (T, 2)`` draws the gripper's path.
    Returns the visibility of each drawn posture.
    """
    q_seq = np.asarray(q_seq, dtype=np.float64)
    handle_seq = np.asarray(handle_seq, dtype=np.float64)
    valid = np.flatnonzero(~np.isnan(q_seq).any(axis=1))
    if valid.size == 0:
        return []
    idx = list(valid[:: max(1, int(every))])
    if idx[-1] != valid[-1]:
        idx.append(int(valid[-1]))
    if gripper_seq is not None:
        g = np.asarray(gripper_seq, dtype=np.float64)[valid]
        ax.plot(g[:, 0], g[:, 1], color="0.4", lw=1, zorder=3)
    out = []
    for j, t in enumerate(idx):
        alpha = min(1.0, 0.2 + 0.8 * ((j + 1) / len(idx)))  # 0.8 * 3 / 3 is 0.8000000000000002: matplotlib refuses
        out.append(bool(draw_arm(ax, q_seq[t], config, handle_seq[t], alpha=alpha)))
    return out


def _frame(ax, config: DrawerConfig) -> None:
    r = config.reach
    ax.set_xlim(-0.6, max(r, 2.2) + 0.1)
    ax.set_ylim(-1.2, 1.2)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def scene_figure(config: DrawerConfig, handle_closed: Sequence[float], q: Sequence[float] | None = None,
                 opening: float = 0.0, title: str | None = None, figsize=(5.0, 4.0)) -> Figure:
    """One scene, optionally with the arm at ``q`` and the sight line to the handle."""
    fig = _new_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    draw_scene(ax, config, handle_closed, opening)
    if q is not None:
        u = np.asarray(config.rail_direction)
        draw_arm(ax, q, config, np.asarray(handle_closed, dtype=np.float64) + opening * u)
    _frame(ax, config)
    if title:
        ax.set_title(title)
    return fig


def approach_figure(trajectories: dict[str, Any], scene: int | Sequence[int], config: DrawerConfig,
                    every: int = 3, titles: Sequence[str] | None = None, until_grasp: bool = False,
                    figsize_per_panel=(4.5, 4.0)) -> Figure:
    """Panels of approaches from :func:`occluded_drawer.evaluate.evaluate`'s trajectories.

    ``trajectories`` may be one dict (panels = the given scenes) or a list of dicts (one panel
    each, same ``scene``: e.g. two policies on the same scene). ``until_grasp`` stops at the
    first grasp. Panel titles default to the visible share before the first grasp (as in the
    evaluation rows).
    """
    trajs = trajectories if isinstance(trajectories, (list, tuple)) else None
    scenes = [scene] if np.isscalar(scene) else list(scene)
    panels = [(t, scenes[0]) for t in trajs] if trajs is not None else [(trajectories, s) for s in scenes]
    fig = _new_figure((figsize_per_panel[0] * len(panels), figsize_per_panel[1]))
    u = np.asarray(config.rail_direction)
    for p, (tr, s) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), p + 1)
        steps = int(tr["steps"][s])
        q = tr["q"][s, : steps + 1]
        handle = tr["handle"][s, : steps + 1]
        gripper = tr["gripper"][s, : steps + 1]
        if until_grasp and tr["holding"][s].any():
            stop = int(np.argmax(tr["holding"][s])) + 1
            q, handle, gripper = q[:stop], handle[:stop], gripper[:stop]
        opening = float(np.dot(handle[-1] - handle[0], u))
        draw_scene(ax, config, handle[0], opening)
        draw_approach(ax, q, config, handle, every=every, gripper_seq=gripper)
        _frame(ax, config)
        holding = tr["holding"][s, : steps + 1]
        before = int(np.argmax(holding)) if holding.any() else steps  # decisions before the first grasp
        share = tr["visible"][s, : max(before, 1)].mean()
        label = titles[p] if titles is not None else f"scene {s}: handle visible {share:.0%} before the grasp"
        ax.set_title(label, fontsize=9)
    fig.tight_layout()
    return fig
