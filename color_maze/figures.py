"""The maze's figures: the paper's six-panel maze figure from our runs (one seed, the typical one, or pooled), route
shares, value maps. Built on :mod:`color_maze.render` and the study's readers; generic plots are in
:mod:`study.figures`."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from color_maze.design import eval_grids
from color_maze.evaluate import trajectory_until_done
from color_maze.generation import make_mazes
from color_maze.render import draw_maze, paper_figure
from study import load, store
from study.figures import new_figure

__all__ = ["PAPER_PANELS", "ROUTE_COLORS", "eval_grids_for", "paper_maze_panels", "paper_maze_figure", "typical_seed",
           "route_share_plot", "value_map_figure"]

#: the six panels of the paper's maze figure: caption, arm (or alternatives), policy
PAPER_PANELS = (
    ("Teacher without Alignment", ("without_alignment", "plain_teacher"), "teacher"),
    ("Behavior Cloning", ("bc",), "student"),
    ("DAgger", ("dagger",), "student"),
    ("Teacher with Alignment", ("{sitt}",), "teacher"),
    ("Student without Alignment", ("without_alignment",), "student"),
    ("Student with Alignment", ("{sitt}",), "student"),
)
ROUTE_COLORS = {"path": "#1f4e9c", "detour": "#59a14f", "failed": "#c8c8c8"}


# --------------------------------------------------------------------------------------------- paper maze figure


def eval_grids_for(run_dir: str | Path) -> np.ndarray | None:
    """The held-out maze grids ``(n_mazes, G, G)`` a run was evaluated on (:func:`color_maze.design.eval_grids` of its
    config); None without a config."""
    if not (Path(run_dir) / store.CONFIG_FILE).is_file():
        return None
    return np.asarray(eval_grids(load.load_config(run_dir)))


def _first_episode_length(run_dir: Path, policy: str, maze: int) -> float | None:
    path = run_dir / "eval.csv"
    if not path.is_file():
        return None
    df = pd.read_csv(path)
    sel = df[(df["policy"] == policy) & (df["maze"] == maze)]
    return None if sel.empty else float(sel["ep_length"].iloc[0])


def _panel_runs(root: Path, experiment: str, sitt_arm: str) -> tuple[list, dict[str, dict[int, Path]]]:
    """The panel specs with ``{sitt}`` filled in, and arm -> seed -> run directory of ``experiment``'s runs."""
    specs = [(cap, tuple(a.format(sitt=sitt_arm) for a in arms), pol) for cap, arms, pol in PAPER_PANELS]
    by_arm: dict[str, dict[int, Path]] = {}
    for run in load.complete_run_dirs(root, experiment):
        by_arm.setdefault(run.parent.name, {})[int(run.name.split("_")[-1])] = run
    return specs, by_arm


def _panel_arm(arms: Sequence[str], by_arm: Mapping[str, Mapping[int, Path]], seed: int) -> str | None:
    """The first of a panel's ``arms`` with a run at ``seed`` (the panel's fallbacks, e.g. the plain teacher)."""
    return next((a for a in arms if seed in by_arm.get(a, {})), None)


def _coverage(specs: Sequence, by_arm: Mapping[str, Mapping[int, Path]], seed: int) -> int:
    """How many of the panels have a run at ``seed``."""
    return sum(_panel_arm(arms, by_arm, seed) is not None for _, arms, _ in specs)


def _typical_seed(specs: Sequence, by_arm: Mapping[str, Mapping[int, Path]]) -> int | None:
    """:func:`typical_seed` on runs already listed by :func:`_panel_runs`."""
    seeds = sorted({s for arm in by_arm.values() for s in arm})
    if not seeds:
        return None
    coverage = {s: _coverage(specs, by_arm, s) for s in seeds}
    best = [s for s in seeds if coverage[s] == max(coverage.values())]
    success: list[dict[int, float]] = []  # per panel: seed -> true success of the panel's policy
    for _, arms, policy in specs:
        per_seed = {}
        for s in seeds:
            if (arm := _panel_arm(arms, by_arm, s)) is not None:
                ev = pd.read_csv(by_arm[arm][s] / "eval.csv")
                per_seed[s] = float(ev.loc[ev["policy"] == policy, "success"].mean())
        success.append(per_seed)
    medians = [float(np.median(list(p.values()))) if p else 0.0 for p in success]
    distance = {s: sum(abs(p[s] - m) for p, m in zip(success, medians) if s in p) for s in best}
    return min(best, key=lambda s: (distance[s], s))


def typical_seed(root: str | Path, experiment: str = "main", sitt_arm: str = "sitt_release") -> int | None:
    """The training seed whose runs best stand for all seeds in the six panels: among the seeds with runs of the
    most panels, the one minimising the sum over panels of |true success of the panel's policy at that seed (share of
    the held-out mazes) - its median over seeds|; ties go to the smallest seed. ``None`` when there are no runs.
    So the headline figure shows what most seeds did, by a rule fixed before looking at the figure."""
    return _typical_seed(*_panel_runs(Path(root), experiment, sitt_arm))


def paper_maze_panels(
    root: str | Path,
    experiment: str = "main",
    *,
    seed: int | str | None = None,
    maze: int = 0,
    sitt_arm: str = "sitt_release",
    pool_seeds: bool = False,
) -> tuple[OrderedDict[str, tuple], dict]:
    """The data of the six panels: caption -> ``(grid, trajectory, positions)`` for
    :func:`color_maze.render.paper_figure`, and an info dict (``seed``, ``maze``, ``arms`` used, ``missing``).

    Left half of a panel: the policy's first episode on held-out maze ``maze`` of run ``seed`` (default: the
    smallest seed with runs of the most panel arms; ``"typical"``: :func:`typical_seed`). Right half: the visited
    cells over all held-out mazes and all evaluation steps of that run (of all seeds with ``pool_seeds``). A panel
    without runs shows the maze with no trajectory and an empty heatmap, and its caption says "no runs".
    """
    root = Path(root)
    specs, by_arm = _panel_runs(root, experiment, sitt_arm)
    if seed == "typical":
        seed = _typical_seed(specs, by_arm)
    elif isinstance(seed, str):
        raise ValueError(f"seed: expected an int, None or 'typical', got {seed!r}")
    if seed is None:
        seeds = sorted({s for arm in by_arm.values() for s in arm})
        seed = max(seeds, key=lambda s: (_coverage(specs, by_arm, s), -s)) if seeds else 0
    grids = None
    panels: OrderedDict[str, tuple] = OrderedDict()
    info = dict(seed=seed, maze=maze, arms={}, missing=[], experiment=experiment, root=str(root))
    for caption, arms, policy in specs:
        arm = _panel_arm(arms, by_arm, seed)
        run = by_arm[arm][seed] if arm else None
        pos = load.load_positions(run, policy, missing_ok=True) if run is not None else None
        if pos is None:
            info["missing"].append(caption)
            panels[caption] = (None, None, np.zeros((0, 2), dtype=np.int64))
            continue
        if grids is None:
            grids = eval_grids_for(run)
        info["arms"][caption] = arm
        traj = trajectory_until_done(pos[maze], _first_episode_length(run, policy, maze))
        if pool_seeds:
            pos = np.concatenate([p for s, r in sorted(by_arm[arm].items())
                                  if (p := load.load_positions(r, policy, missing_ok=True)) is not None], axis=0)
        panels[caption] = (None, traj, pos)
    if grids is None:
        grids = make_mazes(maze + 1, 21, 3, seed=20250101)  # placeholder maze when there are no runs at all
    grid = np.asarray(grids[maze])
    out: OrderedDict[str, tuple] = OrderedDict()
    for caption, (_, traj, pos) in panels.items():
        name = caption if caption not in info["missing"] else f"{caption} (no runs)"
        out[name] = (grid, traj, pos)
    return out, info


def paper_maze_figure(root: str | Path, experiment: str = "main", **kw) -> Figure:
    """The paper's maze figure regenerated from our runs (six panels in the paper's order and colours, see
    :func:`paper_maze_panels` for ``seed``, ``maze``, ``sitt_arm``, ``pool_seeds``). ``fig.sitt_info`` holds the
    panel info."""
    panels, info = paper_maze_panels(root, experiment, **kw)
    fig = paper_figure(panels, ncols=3, colors="paper")
    fig.sitt_info = info
    return fig




def route_share_plot(route_table: pd.DataFrame, *, title: str | None = None, labels: Mapping[str, str] | None = None,
                     group_col: str = "arm") -> Figure:
    """Stacked horizontal bars per row of :func:`study.tables.route_share_table`: share of held-out mazes
    solved through the path, by the detour, or not solved (means over seeds), with the 95% CI of the path and detour
    shares as whiskers at the end of their segments."""
    n = len(route_table)
    fig = new_figure((7.5, max(1.8, 0.55 * n + 1.2)))
    ax = fig.add_subplot(1, 1, 1)
    if n == 0:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    names = [(labels or {}).get(str(v), str(v)) for v in route_table[group_col]]
    y = np.arange(n)[::-1]
    left = np.zeros(n)
    for route in ("path", "detour", "failed"):
        vals = route_table[f"{route}_mean"].to_numpy(dtype=float)
        ax.barh(y, vals, left=left, color=ROUTE_COLORS[route], edgecolor="white", label=route, height=0.7)
        if route != "failed":
            lo = route_table[f"{route}_ci_low"].to_numpy(dtype=float)
            hi = route_table[f"{route}_ci_high"].to_numpy(dtype=float)
            end = left + vals
            ax.errorbar(end, y, xerr=[vals - lo, hi - vals], fmt="none", ecolor="black", capsize=3, lw=1)
        left = left + vals
    ax.set_yticks(y)
    ax.set_yticklabels([f"{nm} (n={k})" for nm, k in zip(names, route_table.get("n_seeds", [""] * n))], fontsize=8)
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("share of held-out mazes (mean over seeds; whiskers: 95% CI)")
    ax.legend(ncol=3, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    if title:
        ax.set_title(title, pad=22)
    fig.tight_layout()
    return fig




# --------------------------------------------------------------------------------------------- value maps


def value_map_figure(
    grid: np.ndarray,
    maps: Mapping[str, np.ndarray],
    *,
    margin_size: int = 3,
    cmap: str = "magma_r",
    vmax: float | None = None,
    colorbar_label: str = "",
    title: str | None = None,
) -> Figure:
    """The maze (paper colours) and, beside it, one heat map per entry of ``maps`` (title -> values (G, G) indexed
    [x, y], NaN = not shown), on a shared colour scale (``vmax`` default: the largest finite value). The maze block is
    outlined, the target drawn green."""
    grid = np.asarray(grid)
    size = grid.shape[0]
    n = 1 + len(maps)
    fig = new_figure((3.3 * n + 0.8, 3.6))
    axes = fig.subplots(1, n, squeeze=False)[0]
    draw_maze(axes[0], grid, margin_size=margin_size)
    axes[0].set_title("maze (paper colours)", fontsize=9)
    finite = [np.nanmax(np.where(np.isfinite(m), m, np.nan)) for m in maps.values() if np.isfinite(m).any()]
    top = vmax if vmax is not None else (max(finite) if finite else 1.0)
    image = None
    for ax, (name, values) in zip(axes[1:], maps.items()):
        values = np.asarray(values, dtype=float)
        image = ax.imshow(values.T, origin="upper", extent=(-0.5, size - 0.5, size - 0.5, -0.5), cmap=cmap,
                          vmin=0.0, vmax=top, interpolation="nearest")
        inner = size - 2 * margin_size
        ax.add_patch(Rectangle((margin_size - 0.5, margin_size - 0.5), inner, inner, fill=False, ec="#1f77b4", lw=1.5))
        path = np.argwhere(grid == 2)
        ax.scatter(path[:, 0], path[:, 1], s=4, c="#1f77b4", marker="s", linewidths=0, label="path cells")
        tx, ty = size // 2, margin_size // 2
        ax.add_patch(Rectangle((tx - 0.5, ty - 0.5), 1, 1, fc="#00c000", ec="none"))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name, fontsize=9)
    if image is not None:
        cbar = fig.colorbar(image, ax=list(axes[1:]), fraction=0.046 / max(1, len(maps)) * 2, pad=0.02)
        cbar.set_label(colorbar_label, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def detour_side_plot(sides: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Stacked bars of :func:`color_maze.readings.detour_side_table`: per (arm, policy), the detours that went by the
    left margin, the right one, or both (counts over every seed and held-out maze), with the runs of each side."""
    fig = new_figure((max(5.0, 0.55 * len(sides) + 2.5), 3.6))
    ax = fig.subplots()
    if sides.empty:
        ax.text(0.5, 0.5, "no detours", ha="center", va="center", transform=ax.transAxes)
        return fig
    labels = [f"{a}\n{p}" for a, p in zip(sides["arm"], sides["policy"])]
    x = np.arange(len(sides))
    bottom = np.zeros(len(sides))
    for side, color in (("left", "#59a14f"), ("right", "#4e79a7"), ("both", "#f28e2b")):
        values = sides[side].to_numpy(dtype=float)
        ax.bar(x, values, bottom=bottom, color=color, label=side)
        bottom += values
    for xi, (nl, nr) in enumerate(zip(sides["runs_with_left"], sides["runs_with_right"])):
        ax.text(xi, bottom[xi], f"{nl}L/{nr}R", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("detours (seeds x mazes)")
    ax.legend(fontsize=8, title="side", title_fontsize=8)
    ax.set_title(title or "which side the detours take (runs with a left / right detour on top)", fontsize=9)
    return fig


def seed_grid_heatmap(grid: pd.DataFrame, *, title: str | None = None, label: str = "student success") -> Figure:
    """Heatmap of :func:`color_maze.readings.seed_grid_table`: network seed (rows) x maze seed (columns), each cell
    written in; missing cells blank."""
    values = grid.drop(columns="network_seed").to_numpy(dtype=float)
    fig = new_figure((1.0 * values.shape[1] + 2.5, 0.8 * values.shape[0] + 1.4))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(values), vmin=0, vmax=1, cmap="viridis")
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black")
    ax.set_xticks(range(values.shape[1]), [c.removeprefix("maze_seed_") for c in grid.columns[1:]])
    ax.set_yticks(range(values.shape[0]), [str(s) for s in grid["network_seed"]])
    ax.set_xlabel("maze seed (training mazes)")
    ax.set_ylabel("network seed (init, sampling)")
    fig.colorbar(image, ax=ax, label=label)
    ax.set_title(title or "sitt_release: what a seed decides", fontsize=9)
    return fig
