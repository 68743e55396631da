"""Figures of the MiniGrid task: what teacher and student see, and the held-out episodes of every arm drawn on the
level (MiniGrid's own tile renderer, ``Grid.render``: numpy, no display).

Every function returns a ``matplotlib.figure.Figure`` on an Agg canvas (:func:`study.figures.new_figure`).
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from minigrid_lava.design import held_out_seeds
from minigrid_lava.env import env_geometry
from minigrid_lava.evaluate import level_layouts
from minigrid_lava.oracle import layout_of
from minigrid_lava.views import agent_state, student_view, unflatten_full, view_offsets
from study import load
from study.figures import POLICY_COLORS, new_figure
from study.presets import experiment_arms, preset

__all__ = ["episode_panels", "episodes_figure", "level_view_figure", "render_grid", "render_view", "view_figure",
           "view_mask"]


def render_grid(image: np.ndarray, tile_size: int = 16, highlight: np.ndarray | None = None) -> np.ndarray:
    """A full-grid encoding ``(W, H, 3)`` (agent included) as MiniGrid draws it: an RGB array ``(H * t, W * t, 3)``,
    the agent as MiniGrid's red triangle, ``highlight`` (W, H) bool cells lightened (MiniGrid's view highlight)."""
    from minigrid.core.grid import Grid  # noqa: PLC0415  (minigrid: the optional `minigrid` extra)

    image = np.asarray(image)
    x, y, d = agent_state(image[None])
    grid, _ = Grid.decode(layout_of(image))
    return grid.render(tile_size, (int(x[0]), int(y[0])), int(d[0]), highlight_mask=highlight)


def render_view(view: np.ndarray, tile_size: int = 16) -> np.ndarray:
    """A student view ``(V, V, 3)`` as MiniGrid draws its partial view (``get_pov_render``): the agent at the bottom
    centre facing up, the cells it sees lightened, unseen cells black."""
    from minigrid.core.grid import Grid  # noqa: PLC0415  (minigrid: the optional `minigrid` extra)

    view = np.asarray(view)
    size = view.shape[0]
    grid, vis_mask = Grid.decode(view)
    return grid.render(tile_size, (size // 2, size - 1), 3, highlight_mask=vis_mask)


def view_mask(image: np.ndarray, view_size: int = 7) -> np.ndarray:
    """The cells of the grid ``(W, H)`` inside the agent's ``view_size`` square (before occlusion)."""
    image = np.asarray(image)
    width, height = image.shape[:2]
    x, y, d = agent_state(image[None])
    dx, dy = view_offsets(d, view_size)
    wx, wy = (x[0] + dx[0]).ravel(), (y[0] + dy[0]).ravel()
    keep = (wx >= 0) & (wx < width) & (wy >= 0) & (wy < height)
    mask = np.zeros((width, height), dtype=bool)
    mask[wx[keep], wy[keep]] = True
    return mask


def view_figure(obs: np.ndarray, width: int, height: int, view_size: int = 7, tile_size: int = 16) -> Figure:
    """One state seen twice: the teacher's full grid (the student's view square lightened) and the student's view
    (:func:`minigrid_lava.views.student_view`: MiniGrid's partial view, seen cells lightened, unseen cells black)."""
    image = unflatten_full(np.asarray(obs).reshape(1, -1), width, height)[0]
    view = student_view(image[None], view_size)[0]
    fig = new_figure((7.0, 3.6))
    axes = fig.subplots(1, 2)
    axes[0].imshow(render_grid(image, tile_size, view_mask(image, view_size)))
    axes[0].set_title(f"teacher: the full {width} x {height} grid", fontsize=9)
    axes[1].imshow(render_view(view, tile_size))
    axes[1].set_title(f"student: MiniGrid's {view_size} x {view_size} view", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def _outcome(row: pd.Series) -> str:
    if bool(row["success"]):
        return f"goal in {int(row['steps'])}"
    return "lava" if bool(row["lava"]) else f"timeout ({int(row['steps'])})"


def episode_panels(root: str | Path, experiment: str, level: int = 0, seed: int | None = None,
                   arms: Sequence[str] | None = None) -> tuple[list[dict], dict]:
    """The data of :func:`episodes_figure`: per (arm, policy) with a run at ``seed`` (default: the smallest seed
    with runs of the most arms), the trajectory on held-out level ``level`` and its outcome; and an info dict
    (``seed``, ``level``, ``level_seed``, ``missing`` arms)."""
    runs: dict[str, dict[int, Path]] = {}
    for run in load.complete_run_dirs(root, experiment):
        runs.setdefault(run.parent.name, {})[int(run.name.split("_")[-1])] = run
    wanted = list(arms) if arms is not None else list(runs)
    seeds = sorted({s for a in wanted for s in runs.get(a, {})})
    if seed is None and seeds:
        seed = max(seeds, key=lambda s: (sum(s in runs.get(a, {}) for a in wanted), -s))
    panels, info = [], dict(seed=seed, level=level, level_seed=None, missing=[], layout=None, width=None, height=None)
    for arm in wanted:
        run = runs.get(arm, {}).get(seed)
        if run is None:
            info["missing"].append(arm)
            continue
        if info["layout"] is None:
            config = load.load_config(run)
            level_seed = int(held_out_seeds(config)[level])
            g = env_geometry(config.env.env_id)
            info.update(level_seed=level_seed, width=g["width"], height=g["height"],
                        layout=level_layouts(config.env.env_id, [level_seed])[0])
        rows = pd.read_csv(run / "eval.csv")
        for policy in ("teacher", "student"):
            traj = load.load_positions(run, policy, missing_ok=True)
            sel = rows[(rows["policy"] == policy) & (rows["episode"] == level)]
            if traj is None or sel.empty:
                continue
            path = traj[level]
            path = path[path[:, 0] >= 0]
            panels.append(dict(arm=arm, policy=policy, trajectory=path, outcome=_outcome(sel.iloc[0])))
    return panels, info


def episodes_figure(root: str | Path, experiment: str = "minigrid_main", level: int = 0, seed: int | None = None,
                    arms: Sequence[str] | None = None, tile_size: int = 16) -> Figure:
    """Held-out level ``level`` of run seed ``seed`` (:func:`episode_panels`), one panel per arm with runs: the level
    as MiniGrid draws it at its start, the teacher's path (blue) and the student's (orange) through cell centres,
    and each outcome in the title. ``fig.minigrid_info`` holds the panel info."""
    panels, info = episode_panels(root, experiment, level, seed, arms)
    arms_with = list(dict.fromkeys(p["arm"] for p in panels))
    n = max(1, len(arms_with))
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig = new_figure((3.0 * cols, 3.3 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    if not panels:
        axes[0].text(0.5, 0.5, "no runs", ha="center", va="center", transform=axes[0].transAxes)
        for ax in axes:
            ax.set_axis_off()
        fig.minigrid_info = info
        return fig
    image = unflatten_full(info["layout"][None], info["width"], info["height"])[0]
    background = render_grid(image, tile_size)
    for ax, arm in zip(axes, arms_with):
        ax.imshow(background)
        titles = []
        for k, p in enumerate(q for q in panels if q["arm"] == arm):
            offset = (-0.12 if p["policy"] == "teacher" else 0.12) * tile_size
            xy = (p["trajectory"][:, :2].astype(float) + 0.5) * tile_size + offset
            ax.plot(xy[:, 0], xy[:, 1], color=POLICY_COLORS[p["policy"]], lw=2, alpha=0.9, label=p["policy"])
            titles.append(f"{p['policy']}: {p['outcome']}")
        ax.set_title(f"{arm}\n" + "; ".join(titles), fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(arms_with):]:
        ax.set_axis_off()
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"held-out level {level} (level seed {info['level_seed']}), training seed {info['seed']}", fontsize=9)
    fig.tight_layout()
    fig.minigrid_info = info
    return fig


def level_view_figure(experiment: str = "minigrid_main", profile: str = "default", level: int = 0,
                      tile_size: int = 16) -> Figure:
    """:func:`view_figure` of the first state of held-out level ``level`` of ``experiment`` under ``profile`` (its
    task's env and evaluation configs; needs no runs)."""
    config = preset(experiment, experiment_arms(experiment)[0], 0, profile)
    seeds = held_out_seeds(config)
    if not isinstance(level, int) or not 0 <= level < len(seeds):
        raise ValueError(f"level: got {level!r}; allowed: a held-out level index in 0-{len(seeds) - 1}")
    g = env_geometry(config.env.env_id, config.env.view_size)
    obs = level_layouts(config.env.env_id, [int(seeds[level])])[0]
    fig = view_figure(obs, g["width"], g["height"], config.env.view_size, tile_size)
    fig.suptitle(f"{config.env.env_id}, held-out level {level} (level seed {int(seeds[level])})", fontsize=9)
    fig.tight_layout()
    return fig
