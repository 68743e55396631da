"""Pictures of the color maze: paper-style figures (matplotlib, Agg) and GIF frames (numpy).

Conventions
-----------
* A grid is indexed ``grid[x, y]`` (x grows to the right, y grows downwards),
  exactly like ``ColorMazeEnv.grids[i]``. Row ``y = 0`` is drawn at the top.
* Cell ``(x, y)`` is drawn as the unit square centred on ``(x, y)`` in data
  coordinates, so trajectories pass through cell centres.
* Cell states: 0 normal (white), 1 fail/lava, 2 path, 3 green path, 4 border.

Palettes (``colors=``)
----------------------
``"paper"``        what the paper's figure shows: the release's RGB colours
                   written by a BGR image library, so fail is red and the path
                   blue (release quirk 5).
``"release_rgb"``  the colours the release intended: fail blue, path red.

Figures
-------
``maze_panel`` and ``paper_figure`` build ``matplotlib.figure.Figure`` objects on an Agg
canvas directly, outside pyplot: nothing needs a display and the global backend is left
alone (in a notebook a returned Figure still renders inline). ``draw_maze`` and
``draw_heatmap`` draw on any Axes you give them. ``render_frame`` is pure numpy.

Heatmap shading
---------------
``draw_heatmap`` shades visited cells with matplotlib's ``Blues`` colour map on
a log scale by default: a cell visited ``c`` times (``c >= 1``) gets the value
``lo + (1 - lo) * log(c) / log(c_max)`` with ``lo = 0.25``, so a single visit
is still visible and the most visited cell is the darkest blue; unvisited
cells get ``Blues(0)`` (247, 251, 255), the near-white the paper's heatmaps use.
``scale="linear"`` uses ``lo + (1 - lo) * (c - 1) / (c_max - 1)`` instead.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

__all__ = [
    "NORMAL",
    "FAIL",
    "PATH",
    "GREEN",
    "BORDER",
    "PALETTES",
    "AGENT_RGB",
    "START_RGB",
    "TARGET_RGB",
    "TRAJECTORY_RGB",
    "palette",
    "default_target",
    "default_start",
    "infer_margin",
    "grid_to_rgb",
    "visit_counts",
    "heatmap_rgb",
    "draw_maze",
    "draw_heatmap",
    "maze_panel",
    "paper_figure",
    "render_frame",
    "episode_frames",
    "episode_gif",
    "save_figure",
]

NORMAL, FAIL, PATH, GREEN, BORDER = 0, 1, 2, 3, 4

_WHITE = (255, 255, 255)
_RED = (255, 0, 0)
_BLUE = (0, 0, 255)
_GREEN = (0, 255, 0)
_BLACK = (0, 0, 0)

#: state -> RGB (uint8) for each palette. Row k is the colour of state k.
PALETTES: dict[str, np.ndarray] = {
    # the release writes RGB tuples through a BGR library: red and blue swap
    "paper": np.array([_WHITE, _RED, _BLUE, _GREEN, _BLACK], dtype=np.uint8),
    # the release's intended colours: fail blue, path red
    "release_rgb": np.array([_WHITE, _BLUE, _RED, _GREEN, _BLACK], dtype=np.uint8),
}

TARGET_RGB = _GREEN  # target cell: filled green square (as in the paper)
TRAJECTORY_RGB = _GREEN  # trajectory line: green (as in the paper)
START_RGB = (170, 170, 170)  # start: grey dot
AGENT_RGB = (255, 200, 0)  # agent in GIF frames: amber disc with a black ring
_GRID_LINE_RGB = _BLACK
_BOX_RGB = _RED  # the maze block's outline on heatmaps
_HEAT_CMAP = "Blues"
_HEAT_LO = 0.25
_CAPTION_FONT = "STIXGeneral"  # Times-like, bundled with matplotlib (the paper sets captions in Times)


# ----------------------------------------------------------------------------- helpers


def palette(colors: str | np.ndarray = "paper") -> np.ndarray:
    """The (5, 3) uint8 state -> RGB table for a palette name, a table itself, or the env's
    quirks (anything with a ``render_bgr`` flag, e.g. ``env.quirks``: True -> "paper",
    False -> "release_rgb")."""
    if hasattr(colors, "render_bgr"):
        colors = "paper" if colors.render_bgr else "release_rgb"
    if isinstance(colors, str):
        try:
            return PALETTES[colors]
        except KeyError:
            raise ValueError(f"unknown palette {colors!r}; use one of {sorted(PALETTES)}") from None
    table = np.asarray(colors, dtype=np.uint8)
    if table.ndim != 2 or table.shape[1] != 3 or table.shape[0] < 4:
        raise ValueError("a custom palette must be an (n_states, 3) array of RGB values")
    return table


def default_target(grid_size: int, margin_size: int) -> tuple[int, int]:
    """The env's target cell (x, y) = (G // 2, M // 2)."""
    return (grid_size // 2, margin_size // 2)


def default_start(grid_size: int, margin_size: int) -> tuple[int, int]:
    """The env's start cell (x, y) = (G // 2, G - 1 - M // 2)."""
    return (grid_size // 2, grid_size - 1 - margin_size // 2)


def infer_margin(grid: np.ndarray, default: int = 3) -> int:
    """Width of the all-normal margin of ``grid`` (the distance of the first non-normal cell
    from the edge); ``default`` when the grid is all normal."""
    g = np.asarray(grid)
    nonzero = np.argwhere(g != NORMAL)
    if len(nonzero) == 0:
        return default
    size = g.shape[0]
    return int(min(nonzero.min(), size - 1 - nonzero.max()))


def _check_grid(grid: np.ndarray) -> np.ndarray:
    g = np.asarray(grid)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ValueError(f"grid must be a square (G, G) array indexed [x, y], got shape {g.shape}")
    return g.astype(np.intp, copy=False)


def _resolve_cells(grid_size: int, margin_size: int, target, start):
    target = default_target(grid_size, margin_size) if target is None else target
    start = default_start(grid_size, margin_size) if start is None else start
    return target, start


def grid_to_rgb(grid: np.ndarray, colors: str | np.ndarray = "paper") -> np.ndarray:
    """Colour a grid cell by cell: returns an image (G_y, G_x, 3) uint8, i.e. indexed [y, x]
    (rows are y, ready for ``imshow``)."""
    g = _check_grid(grid)
    table = palette(colors)
    if g.min() < 0 or g.max() >= len(table):
        raise ValueError(f"cell states must lie in [0, {len(table)}), got {g.min()}..{g.max()}")
    return table[g.T]


def visit_counts(positions, grid_size: int) -> np.ndarray:
    """How often each cell occurs in ``positions``.

    ``positions``: array-like (..., 2) of (x, y) cells, any number of leading dims (e.g.
    (n_mazes, n_steps + 1, 2) from ``evaluate``). Returns an int64 array (G, G) indexed
    [x, y]; its sum is the number of positions. Positions outside the grid raise.
    """
    pos = np.asarray(positions)
    if pos.shape[-1] != 2:
        raise ValueError(f"positions must have a last axis of size 2 (x, y), got shape {pos.shape}")
    pos = pos.reshape(-1, 2).astype(np.int64, copy=False)
    if len(pos) and (pos.min() < 0 or pos.max() >= grid_size):
        raise ValueError(f"positions outside the {grid_size}x{grid_size} grid")
    flat = pos[:, 0] * grid_size + pos[:, 1]
    return np.bincount(flat, minlength=grid_size * grid_size).reshape(grid_size, grid_size)


def heatmap_rgb(counts: np.ndarray, *, scale: str = "log", cmap: str = _HEAT_CMAP) -> np.ndarray:
    """Map visit counts (G, G) [x, y] to an RGB float image (G_y, G_x, 3) in [0, 1] (rows = y).

    Unvisited cells get ``cmap(0)``; visited ones ``cmap(lo + (1 - lo) * f(c))`` with f the
    log (default) or linear rescaling of 1..max to 0..1 (see the module docstring)."""
    c = np.asarray(counts, dtype=np.float64).T
    values = np.zeros_like(c)
    visited = c > 0
    cmax = c.max() if visited.any() else 0.0
    if cmax > 1:
        if scale == "log":
            frac = np.log(np.where(visited, c, 1.0)) / math.log(cmax)
        elif scale == "linear":
            frac = (np.where(visited, c, 1.0) - 1.0) / (cmax - 1.0)
        else:
            raise ValueError(f"scale must be 'log' or 'linear', got {scale!r}")
        values[visited] = _HEAT_LO + (1.0 - _HEAT_LO) * frac[visited]
    else:
        values[visited] = 1.0
    return np.asarray(matplotlib.colormaps[cmap](values))[..., :3]


def _rgb01(rgb) -> tuple[float, float, float]:
    if isinstance(rgb, str):
        return to_rgb(rgb)
    return tuple(float(v) / 255.0 for v in rgb)  # type: ignore[return-value]


def _setup_cell_axes(ax, grid_size: int, grid_lines: bool, line_width: float | None = None) -> None:
    ax.set_xlim(-0.5, grid_size - 0.5)
    ax.set_ylim(grid_size - 0.5, -0.5)  # y grows downwards: row 0 on top
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if grid_lines:
        edges = np.arange(grid_size + 1) - 0.5
        lw = 0.5 if line_width is None else line_width
        kw = dict(colors=_rgb01(_GRID_LINE_RGB), linewidths=lw, zorder=2, clip_on=False)
        ax.vlines(edges, -0.5, grid_size - 0.5, **kw)
        ax.hlines(edges, -0.5, grid_size - 0.5, **kw)


def _draw_target_start(ax, target, start) -> None:
    if target is not None:
        tx, ty = target
        ax.add_patch(
            Rectangle((tx - 0.5, ty - 0.5), 1.0, 1.0, facecolor=_rgb01(TARGET_RGB), edgecolor="none", zorder=1.5)
        )
    if start is not None:
        sx, sy = start
        ax.add_patch(
            Circle((sx, sy), 0.28, facecolor=_rgb01(START_RGB), edgecolor=(0.85, 0.85, 0.85), linewidth=0.5, zorder=4)
        )


def _split_at_jumps(traj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x, y float arrays with NaN inserted wherever consecutive positions are not neighbours
    (an auto-reset), so no line is drawn across the maze."""
    xs, ys = traj[:, 0].astype(float), traj[:, 1].astype(float)
    if len(traj) < 2:
        return xs, ys
    jumps = np.flatnonzero(np.abs(np.diff(traj, axis=0)).sum(axis=1) > 1) + 1
    return np.insert(xs, jumps, np.nan), np.insert(ys, jumps, np.nan)


# ----------------------------------------------------------------------------- matplotlib


def draw_maze(
    ax,
    grid,
    trajectory=None,
    *,
    colors: str | np.ndarray = "paper",
    target=None,
    start=None,
    grid_lines: bool = True,
    margin_size: int | None = None,
    line_width: float | None = None,
    trajectory_width: float = 2.2,
):
    """Draw one maze on ``ax`` as in the paper figure's left-hand panels.

    grid: (G, G) cell states indexed [x, y]. trajectory: optional sequence of (x, y) cells,
    drawn as a green line through cell centres (broken wherever consecutive cells are not
    neighbours, i.e. at an auto-reset). target / start default to the env's cells, with the
    margin inferred from the grid when ``margin_size`` is None; pass ``False`` to omit one.
    Returns ``ax``.
    """
    g = _check_grid(grid)
    size = g.shape[0]
    margin = infer_margin(g) if margin_size is None else margin_size
    target, start = _resolve_cells(size, margin, target, start)
    ax.imshow(
        grid_to_rgb(g, colors),
        extent=(-0.5, size - 0.5, size - 0.5, -0.5),
        origin="upper",
        interpolation="nearest",
        zorder=0,
    )
    _setup_cell_axes(ax, size, grid_lines, line_width)
    _draw_target_start(ax, target if target is not False else None, None)
    if trajectory is not None:
        traj = np.asarray(trajectory).reshape(-1, 2)
        if len(traj):
            xs, ys = _split_at_jumps(traj)
            ax.plot(
                xs, ys, color=_rgb01(TRAJECTORY_RGB), linewidth=trajectory_width,
                solid_capstyle="round", solid_joinstyle="round", zorder=3,
            )
    _draw_target_start(ax, None, start if start is not False else None)
    return ax


def draw_heatmap(
    ax,
    positions,
    grid_size: int,
    margin_size: int,
    *,
    target=None,
    start=None,
    scale: str = "log",
    grid_lines: bool = True,
    cmap: str = _HEAT_CMAP,
    line_width: float | None = None,
    box_width: float = 2.2,
) -> np.ndarray:
    """Draw the visited-state heatmap of ``positions`` (array (..., 2) of x, y; any leading
    dims, e.g. all mazes x all steps) as in the paper figure's right-hand panels: blue shades
    (``Blues``, log scale by default, see the module docstring) on a near-white background
    with grid lines, the maze block outlined in red, start grey dot, target green square.
    Returns the visit counts (G, G) indexed [x, y]."""
    counts = visit_counts(positions, grid_size)
    target, start = _resolve_cells(grid_size, margin_size, target, start)
    ax.imshow(
        heatmap_rgb(counts, scale=scale, cmap=cmap),
        extent=(-0.5, grid_size - 0.5, grid_size - 0.5, -0.5),
        origin="upper",
        interpolation="nearest",
        zorder=0,
    )
    _setup_cell_axes(ax, grid_size, grid_lines, line_width)
    inner = grid_size - 2 * margin_size
    if inner > 0:
        ax.add_patch(
            Rectangle(
                (margin_size - 0.5, margin_size - 0.5), inner, inner,
                facecolor="none", edgecolor=_rgb01(_BOX_RGB), linewidth=box_width, zorder=3,
            )
        )
    _draw_target_start(ax, target if target is not False else None, start if start is not False else None)
    return counts


def _agg_figure(figsize) -> Figure:
    """A Figure on an Agg canvas, outside pyplot: no display and no global backend change
    (notebooks keep their inline backend; a returned Figure still shows there)."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _panel_axes_pair(fig_or_subfig):
    """Two square axes side by side with a small gap, like one paper panel."""
    return fig_or_subfig.subplots(1, 2, gridspec_kw=dict(wspace=0.06, left=0.01, right=0.99, top=0.985, bottom=0.11))


def _fill_panel(axes, grid, trajectory, positions, title, colors, margin_size, scale):
    g = _check_grid(grid)
    margin = infer_margin(g) if margin_size is None else margin_size
    draw_maze(axes[0], g, trajectory, colors=colors, margin_size=margin)
    draw_heatmap(axes[1], positions, g.shape[0], margin, scale=scale)


def maze_panel(
    grid,
    trajectory,
    positions,
    title: str | None = None,
    *,
    colors: str | np.ndarray = "paper",
    margin_size: int | None = None,
    scale: str = "log",
    panel_inches: float = 2.6,
) -> Figure:
    """One lettered panel of the paper figure: the trajectory on one maze (left) and the
    visited-state heatmap over all mazes (right), with ``title`` as a caption underneath.

    grid: (G, G) [x, y] maze for the left side; trajectory: (T, 2) cells or None;
    positions: (..., 2) cells of all mazes for the heatmap. Returns a Figure (Agg)."""
    fig = _agg_figure((2 * panel_inches + 0.1, panel_inches * 1.12))
    axes = _panel_axes_pair(fig)
    _fill_panel(axes, grid, trajectory, positions, title, colors, margin_size, scale)
    if title:
        fig.text(0.5, 0.02, title, ha="center", va="bottom", fontsize=14, fontname=_CAPTION_FONT)
    return fig


def paper_figure(
    panels: Mapping[str, Sequence],
    ncols: int = 3,
    *,
    colors: str | np.ndarray = "paper",
    margin_size: int | None = None,
    scale: str = "log",
    letters: bool = True,
    panel_inches: float = 2.6,
) -> Figure:
    """The paper's multi-panel layout: ``panels`` maps a caption (e.g. "Teacher without
    Alignment") to ``(grid, trajectory, positions)``; panels fill rows of ``ncols`` in
    insertion order and get captions "(a) <caption>", "(b) ..." (``letters=False`` keeps
    captions as given). Returns a Figure (Agg)."""
    items = list(panels.items())
    if not items:
        raise ValueError("paper_figure needs at least one panel")
    ncols = max(1, min(ncols, len(items)))
    nrows = math.ceil(len(items) / ncols)
    width = ncols * (2 * panel_inches + 0.35)
    height = nrows * panel_inches * 1.12
    fig = _agg_figure((width, height))
    subfigs = np.atleast_1d(fig.subfigures(nrows, ncols, wspace=0.0, hspace=0.0)).reshape(nrows, ncols)
    for k, sf in enumerate(subfigs.flat):
        if k >= len(items):
            sf.set_visible(False)
            continue
        name, spec = items[k]
        if len(spec) != 3:
            raise ValueError(f"panel {name!r}: expected (grid, trajectory, positions)")
        grid, trajectory, positions = spec
        axes = sf.subplots(1, 2, gridspec_kw=dict(wspace=0.06, left=0.03, right=0.97, top=0.985, bottom=0.11))
        _fill_panel(axes, grid, trajectory, positions, name, colors, margin_size, scale)
        caption = f"({chr(ord('a') + k)}) {name}" if letters else name
        sf.text(0.5, 0.02, caption, ha="center", va="bottom", fontsize=14, fontname=_CAPTION_FONT)
    return fig


def save_figure(fig: Figure, path, *, dpi: int = 150, close: bool = True) -> str:
    """Save ``fig`` (PNG/PDF/SVG by extension) without a display; closes it by default."""
    path = os.fspath(path)
    fig.savefig(path, dpi=dpi, facecolor="white")
    if close and "matplotlib.pyplot" in sys.modules:  # only figures made with pyplot need closing
        sys.modules["matplotlib.pyplot"].close(fig)
    return path


# ----------------------------------------------------------------------------- numpy raster


def render_frame(
    grid,
    agent_pos=None,
    *,
    cell_px: int = 16,
    colors: str | np.ndarray = "paper",
    target=None,
    start=None,
    trail=None,
    grid_lines: bool = True,
    margin_size: int | None = None,
) -> np.ndarray:
    """Rasterise one maze state with numpy only (fast, for GIF frames).

    Returns an (G * cell_px, G * cell_px, 3) uint8 image; cell (x, y) covers rows
    ``y*cell_px .. (y+1)*cell_px - 1`` and columns ``x*cell_px .. (x+1)*cell_px - 1``.
    Drawing order: cell colours; target cell green; optional ``trail`` (cells, a small green
    square at each centre); start grey dot; grid lines (1 px, black, on the top/left edge of
    every cell and the image's bottom/right edge); agent (amber disc of radius ~0.35 cell with
    a black ring) at ``agent_pos`` (x, y) if given. target/start default to the env's cells
    (margin inferred from the grid); ``False`` omits them.
    """
    if cell_px < 4:
        raise ValueError("cell_px must be at least 4")
    g = _check_grid(grid)
    size = g.shape[0]
    margin = infer_margin(g) if margin_size is None else margin_size
    target, start = _resolve_cells(size, margin, target, start)
    cells = grid_to_rgb(g, colors).copy()
    if target is not False and target is not None:
        cells[target[1], target[0]] = TARGET_RGB
    img = np.repeat(np.repeat(cells, cell_px, axis=0), cell_px, axis=1)

    yy, xx = np.mgrid[0:cell_px, 0:cell_px]
    c = (cell_px - 1) / 2.0
    r2 = (yy - c) ** 2 + (xx - c) ** 2

    def cell_view(x, y):
        x, y = int(x), int(y)
        if not (0 <= x < size and 0 <= y < size):
            raise ValueError(f"cell ({x}, {y}) outside the {size}x{size} grid")
        return img[y * cell_px:(y + 1) * cell_px, x * cell_px:(x + 1) * cell_px]

    if trail is not None:
        t = np.asarray(trail).reshape(-1, 2)
        half = max(1, cell_px // 8)
        lo, hi = int(round(c)) - half, int(round(c)) + half + 1
        for x, y in np.unique(t, axis=0) if len(t) else []:
            cell_view(x, y)[lo:hi, lo:hi] = TRAJECTORY_RGB
    if start is not False and start is not None:
        cell_view(*start)[r2 <= (0.28 * cell_px) ** 2] = START_RGB
    if grid_lines:
        img[::cell_px, :] = _GRID_LINE_RGB
        img[:, ::cell_px] = _GRID_LINE_RGB
        img[-1, :] = _GRID_LINE_RGB
        img[:, -1] = _GRID_LINE_RGB
    if agent_pos is not None:
        view = cell_view(*np.asarray(agent_pos).reshape(2))
        radius = 0.38 * cell_px
        view[r2 <= radius**2] = _BLACK
        view[r2 <= (radius - max(1.0, cell_px / 16)) ** 2] = AGENT_RGB
    return img


def episode_frames(grid, trajectory, *, trail: bool = True, **frame_kw) -> list[np.ndarray]:
    """One ``render_frame`` per position of ``trajectory`` ((T, 2) cells), the agent at that
    position; with ``trail`` the cells visited so far are marked."""
    traj = np.asarray(trajectory).reshape(-1, 2)
    return [
        render_frame(grid, traj[t], trail=traj[: t + 1] if trail else None, **frame_kw) for t in range(len(traj))
    ]


def episode_gif(
    path,
    grid,
    trajectory,
    fps: float = 8,
    *,
    cell_px: int = 16,
    colors: str | np.ndarray = "paper",
    trail: bool = True,
    loop: int = 0,
    target=None,
    start=None,
    margin_size: int | None = None,
) -> str:
    """Write an animated GIF of the agent walking ``trajectory`` ((T, 2) cells) on ``grid``:
    one frame per position, ``fps`` frames per second, looping forever (``loop=0``).

    Note: the GIF writer (Pillow) merges consecutive identical frames into one longer frame
    (timing is preserved), so a trajectory that stands still gives fewer stored frames;
    with ``trail=True`` frames only repeat when the agent stays in a cell it has visited."""
    import imageio.v3 as iio  # noqa: PLC0415  (imageio: the study extra's, needed for GIFs only)

    frames = episode_frames(
        grid, trajectory, trail=trail, cell_px=cell_px, colors=colors, target=target, start=start,
        margin_size=margin_size,
    )
    if not frames:
        raise ValueError("trajectory is empty: nothing to animate")
    path = os.fspath(path)
    iio.imwrite(path, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=loop)
    return path
