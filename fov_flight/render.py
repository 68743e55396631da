"""Pictures of the flight task (matplotlib, Agg): worlds, trajectories with view cones, and the two views.

Figures are built on an Agg canvas outside pyplot (nothing needs a display, the global
backend is left alone); the ``draw_*`` functions draw on any Axes. Data coordinates are
metres, x along the corridor (drawn left to right), y across it, equal aspect.
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle, Wedge

from .config import FlightConfig
from .generation import Worlds
from .views import cast_rays, ray_offsets

__all__ = ["draw_world", "draw_trajectory", "draw_views", "world_figure", "views_figure", "save_figure"]

PILLAR_COLOR = "0.35"
WALL_COLOR = "0.15"
CONE_COLOR = "tab:orange"
RAY_COLOR = "tab:red"


def _agg_figure(figsize) -> Figure:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def draw_world(ax, worlds: Worlds, i: int, config: FlightConfig, *, start: bool = True, pillars: bool = True) -> None:
    """Corridor walls, goal line, the pillars of world ``i`` (grey discs) and its start (a black dot)."""
    L, half = config.length, config.width / 2
    ax.add_patch(Rectangle((0, -half), L, config.width, fill=False, edgecolor=WALL_COLOR, linewidth=1.5))
    ax.plot([L, L], [-half, half], color="tab:green", linewidth=2.0, label="goal line")
    if pillars:
        for (cx, cy), r in zip(worlds.centres[i], worlds.radii[i]):
            if r > 0:
                ax.add_patch(Circle((cx, cy), r, facecolor=PILLAR_COLOR, edgecolor="none"))
    if start:
        ax.plot(*worlds.start[i], "o", color="black", markersize=4)
    ax.set_xlim(-0.5, L + 0.5)
    ax.set_ylim(-half - 0.5, half + 0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_trajectory(ax, pos, yaw, config: FlightConfig, *, every: int = 10, color: str = "tab:blue",
                    label: str | None = None, cone_alpha: float = 0.12, cone_range: float | None = None) -> None:
    """A flight: its path ``pos`` (T, 2) (NaN rows ignored) and a view cone (field of view, range R) every ``every``
    steps.

    ``yaw`` (T,) headings; ``cone_range`` defaults to a third of R so the cones stay readable.
    """
    pos, yaw = np.asarray(pos, dtype=float), np.asarray(yaw, dtype=float)
    ok = np.isfinite(pos).all(axis=1) & np.isfinite(yaw)
    pos, yaw = pos[ok], yaw[ok]
    ax.plot(pos[:, 0], pos[:, 1], color=color, linewidth=1.5, label=label)
    rng = config.ray_range / 3 if cone_range is None else cone_range
    half = config.fov_deg / 2
    for t in range(0, len(pos), max(1, int(every))):
        h = math.degrees(yaw[t])
        ax.add_patch(Wedge(tuple(pos[t]), rng, h - half, h + half, facecolor=color, alpha=cone_alpha,
                           edgecolor=color, linewidth=0.5))
        ax.plot(*pos[t], ".", color=color, markersize=3)


def draw_views(ax_teacher, ax_student, worlds: Worlds, i: int, pos, yaw: float, config: FlightConfig) -> None:
    """What the teacher and the student see at one state (position ``pos`` (2,), heading ``yaw``) in world ``i``.

    Teacher (left): every pillar, the K listed in its observation joined to the body.
    Student (right): only the field-of-view cone and its rays, each drawn to its hit point
    (a red dot when it hits a pillar or a wall within range); the pillars are outlined faintly for
    reference, but the student has only the ray depths (and its own state).
    """
    pos = np.asarray(pos, dtype=float)
    draw_world(ax_teacher, worlds, i, config, start=False)
    c, r = worlds.centres[i], worlds.radii[i]
    surface = np.hypot(*(c - pos).T) - r
    surface[r <= 0] = np.inf
    for k in np.argsort(surface)[: config.k_nearest]:
        if r[k] > 0:
            ax_teacher.plot([pos[0], c[k, 0]], [pos[1], c[k, 1]], color="tab:blue", linewidth=0.7, alpha=0.7)
    ax_teacher.plot(*pos, "o", color="tab:blue", markersize=5)
    ax_teacher.set_title(f"teacher: all pillars ({config.k_nearest} nearest listed)")

    draw_world(ax_student, worlds, i, config, start=False, pillars=False)
    for (cx, cy), rad in zip(c, r):
        if rad > 0:
            ax_student.add_patch(Circle((cx, cy), rad, fill=False, edgecolor="0.8", linewidth=0.5, linestyle=":"))
    h = math.degrees(yaw)
    ax_student.add_patch(Wedge(tuple(pos), config.ray_range, h - config.fov_deg / 2, h + config.fov_deg / 2,
                               facecolor=CONE_COLOR, alpha=0.12, edgecolor=CONE_COLOR))
    depth = cast_rays(pos[:1], pos[1:], np.array([math.cos(yaw)]), np.array([math.sin(yaw)]),
                      c[None, :, 0] - pos[0], c[None, :, 1] - pos[1], r[None], config)[0]
    for off, d in zip(ray_offsets(config.n_rays, config.fov_deg), depth):
        end = pos + d * np.array([math.cos(yaw + off), math.sin(yaw + off)])
        ax_student.plot([pos[0], end[0]], [pos[1], end[1]], color=RAY_COLOR, linewidth=0.7)
        if d < config.ray_range:
            ax_student.plot(*end, ".", color=RAY_COLOR, markersize=4)
    ax_student.plot(*pos, "o", color="tab:blue", markersize=5)
    ax_student.set_title(f"student: {config.n_rays} rays over {config.fov_deg:g} deg, range {config.ray_range:g} m")


def world_figure(worlds: Worlds, i: int, config: FlightConfig, trajectories: dict | None = None, *,
                 every: int = 10, figsize=(10, 4.2)) -> Figure:
    """World ``i`` with optional flights: ``trajectories`` maps a label to ``(pos (T, 2), yaw (T,))``."""
    fig = _agg_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    draw_world(ax, worlds, i, config)
    colors = ["tab:blue", "tab:red", "tab:purple", "tab:brown"]
    for k, (label, (pos, yaw)) in enumerate((trajectories or {}).items()):
        draw_trajectory(ax, pos, yaw, config, every=every, color=colors[k % len(colors)], label=label)
    if trajectories:
        ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    return fig


def views_figure(worlds: Worlds, i: int, pos, yaw: float, config: FlightConfig, figsize=(12, 4.6)) -> Figure:
    """The teacher's and the student's views side by side (:func:`draw_views`)."""
    fig = _agg_figure(figsize)
    ax_t, ax_s = fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2)
    draw_views(ax_t, ax_s, worlds, i, pos, yaw, config)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path, *, dpi: int = 150) -> str:
    """Write ``fig`` to ``path`` (folders created); returns the path."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
