"""Tests of color_maze.render: colours in the right cells, heatmap counts, figures and GIFs without a display."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import imageio.v3 as iio  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from color_maze import render  # noqa: E402
from color_maze.quirks import Quirks  # noqa: E402

G, M, PX = 21, 3, 8
RED, BLUE, GREEN, WHITE, BLACK = (255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 255), (0, 0, 0)
TARGET, START = (10, 1), (10, 19)


def _maze() -> np.ndarray:
    """All-lava block with a straight path in column 10; a green-path cell at (4, 4) (block corner
    area); everything indexed [x, y]."""
    g = np.zeros((G, G), dtype=np.int8)
    g[M : G - M, M : G - M] = 1
    g[10, M : G - M] = 2
    g[4, 4] = 3
    return g


def _px(img: np.ndarray, x: int, y: int, dx: int = 2, dy: int = 2) -> tuple[int, ...]:
    """Pixel inside cell (x, y), off the grid line and away from the centre."""
    return tuple(int(v) for v in img[y * PX + dy, x * PX + dx])


def _centre(img: np.ndarray, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in img[y * PX + PX // 2, x * PX + PX // 2])


# --------------------------------------------------------------------------- render_frame


def test_render_frame_shape_and_paper_palette():
    img = render.render_frame(_maze(), None, cell_px=PX, colors="paper")
    assert img.shape == (G * PX, G * PX, 3) and img.dtype == np.uint8
    assert _px(img, 0, 0) == WHITE  # margin
    assert _px(img, 3, 3) == RED  # lava (paper: BGR-swapped, fail red)
    assert _px(img, 10, 8) == BLUE  # path blue
    assert _px(img, 4, 4) == GREEN  # green path
    assert _px(img, *TARGET) == GREEN  # target cell filled green
    assert _centre(img, *START) == render.START_RGB  # start grey dot
    assert _px(img, *START, dx=1, dy=1) == WHITE  # ... only a dot


def test_render_frame_release_rgb_palette_swaps_red_and_blue():
    img = render.render_frame(_maze(), None, cell_px=PX, colors="release_rgb")
    assert _px(img, 3, 3) == BLUE  # fail blue
    assert _px(img, 10, 8) == RED  # path red
    assert _px(img, 0, 0) == WHITE


def test_palette_follows_quirks_render_bgr():
    np.testing.assert_array_equal(render.palette(Quirks.release()), render.PALETTES["paper"])
    np.testing.assert_array_equal(render.palette(Quirks.fixed()), render.PALETTES["release_rgb"])
    with pytest.raises(ValueError):
        render.palette("rainbow")


def test_render_frame_orientation_x_right_y_down():
    g = np.zeros((G, G), dtype=np.int8)
    g[2, 5] = 1  # x = 2, y = 5
    img = render.render_frame(g, None, cell_px=PX, target=False, start=False, grid_lines=False)
    red = np.all(img == RED, axis=-1)
    rows, cols = np.nonzero(red)
    assert red.sum() == PX * PX
    assert (rows.min(), rows.max()) == (5 * PX, 6 * PX - 1)  # y -> image rows
    assert (cols.min(), cols.max()) == (2 * PX, 3 * PX - 1)  # x -> image columns


def test_render_frame_grid_lines_black():
    img = render.render_frame(np.zeros((G, G), np.int8), None, cell_px=PX, target=False, start=False)
    assert tuple(img[3 * PX, 5 * PX + 3]) == BLACK  # horizontal line at top edge of row 3
    assert tuple(img[5 * PX + 3, 7 * PX]) == BLACK  # vertical line at left edge of column 7
    assert tuple(img[-1, 4]) == BLACK and tuple(img[4, -1]) == BLACK  # closing lines
    assert tuple(img[3 * PX + 3, 5 * PX + 3]) == WHITE
    no_lines = render.render_frame(np.zeros((G, G), np.int8), None, cell_px=PX, target=False, start=False,
                                   grid_lines=False)
    assert np.all(no_lines == 255)


def test_render_frame_agent_marker_only_in_its_cell():
    g = _maze()
    base = render.render_frame(g, None, cell_px=16)
    with_agent = render.render_frame(g, (10, 8), cell_px=16)
    assert tuple(with_agent[8 * 16 + 8, 10 * 16 + 8]) == render.AGENT_RGB  # disc at the cell centre
    changed = np.any(base != with_agent, axis=-1)
    rows, cols = np.nonzero(changed)
    assert changed.any()
    assert rows.min() >= 8 * 16 and rows.max() < 9 * 16
    assert cols.min() >= 10 * 16 and cols.max() < 11 * 16
    # the ring is black, the cell corner keeps the path colour
    ring = with_agent[8 * 16 + 8, 10 * 16 + 8 - 6 : 10 * 16 + 8 - 4]
    assert any(tuple(p) == BLACK for p in ring)
    assert tuple(with_agent[8 * 16 + 2, 10 * 16 + 2]) == BLUE


def test_render_frame_rejects_agent_outside_grid():
    with pytest.raises(ValueError):
        render.render_frame(_maze(), (G, 0), cell_px=PX)


# --------------------------------------------------------------------------- counts / heatmap


def test_visit_counts_equal_number_of_visits():
    pos = np.array([[[1, 2], [1, 2], [3, 4]], [[1, 2], [0, 0], [3, 4]]])  # (2 mazes, 3 steps, 2)
    counts = render.visit_counts(pos, 5)
    assert counts.shape == (5, 5)
    assert counts[1, 2] == 3 and counts[3, 4] == 2 and counts[0, 0] == 1
    assert counts[2, 1] == 0  # indexed [x, y], not [y, x]
    assert counts.sum() == pos.shape[0] * pos.shape[1]
    np.testing.assert_array_equal(render.visit_counts(pos.reshape(-1, 2), 5), counts)  # any leading dims
    with pytest.raises(ValueError):
        render.visit_counts(np.array([[5, 0]]), 5)


def test_heatmap_rgb_shading():
    counts = np.zeros((G, G), dtype=np.int64)
    counts[2, 3] = 1
    counts[4, 5] = 10
    counts[6, 7] = 100
    rgb = render.heatmap_rgb(counts)  # rows = y
    blues = plt.get_cmap("Blues")
    np.testing.assert_allclose(rgb[0, 0], blues(0.0)[:3])  # unvisited: Blues(0), near-white
    np.testing.assert_allclose(rgb[7, 6], blues(1.0)[:3])  # most visited: darkest
    lum = [rgb[y, x].sum() for x, y in [(2, 3), (4, 5), (6, 7)]]
    assert lum[0] > lum[1] > lum[2]  # more visits -> darker
    assert rgb[3, 2].sum() < rgb[0, 0].sum() - 0.3  # one visit is visibly blue
    lin = render.heatmap_rgb(counts, scale="linear")
    assert lin[5, 4].sum() > rgb[5, 4].sum()  # log scale shades the middle count darker


# --------------------------------------------------------------------------- matplotlib


def _greenish(rgb) -> bool:
    r, g, b = rgb
    return g > 220 and r < 60 and b < 60


def _axes_pixel(fig, ax, x, y):
    fig.canvas.draw()
    buf = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    px, py = ax.transData.transform((x, y))
    h = buf.shape[0]
    return tuple(int(v) for v in buf[int(round(h - py)), int(round(px))])


@pytest.mark.parametrize("colors, lava, path", [("paper", RED, BLUE), ("release_rgb", BLUE, RED)])
def test_draw_maze_cell_colours_and_orientation(colors, lava, path):
    fig = plt.figure(figsize=(4, 4), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    render.draw_maze(ax, _maze(), colors=colors)
    assert _axes_pixel(fig, ax, 5.2, 5.2) == lava
    assert _axes_pixel(fig, ax, 10.2, 9.2) == path
    assert _axes_pixel(fig, ax, 10.2, 1.2) == GREEN  # target (top: y = 1)
    assert _axes_pixel(fig, ax, 10.4, 19.4) == WHITE  # start cell outside the grey dot
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # y grows downwards
    plt.close(fig)


def test_draw_maze_trajectory_is_green_through_cell_centres():
    fig = plt.figure(figsize=(4, 4), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    traj = [(10, 19), (9, 19), (8, 19), (8, 18)]
    render.draw_maze(ax, _maze(), traj)
    assert _greenish(_axes_pixel(fig, ax, 8.5, 19.0))  # on the segment (9,19)-(8,19)
    assert _greenish(_axes_pixel(fig, ax, 8.0, 18.5))  # on the segment (8,19)-(8,18)
    assert _axes_pixel(fig, ax, 5.0, 19.0) == WHITE  # not on the line
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [10, 9, 8, 8])
    np.testing.assert_array_equal(line.get_ydata(), [19, 19, 19, 18])
    plt.close(fig)


def test_draw_maze_breaks_line_at_reset_jump():
    fig, ax = plt.subplots()
    render.draw_maze(ax, _maze(), [(10, 2), (10, 1), (10, 19), (10, 18)])
    xs = ax.get_lines()[0].get_xdata()
    assert np.isnan(xs).sum() == 1 and len(xs) == 5
    plt.close(fig)


def test_draw_heatmap_counts_box_and_markers():
    fig = plt.figure(figsize=(4, 4), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    pos = np.array([[[10, 19], [9, 19], [9, 19]]] * 4)
    counts = render.draw_heatmap(ax, pos, G, M)
    np.testing.assert_array_equal(counts, render.visit_counts(pos, G))
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_facecolor()[3] == 0]
    assert len(boxes) == 1
    assert boxes[0].get_xy() == (M - 0.5, M - 0.5) and boxes[0].get_width() == G - 2 * M
    np.testing.assert_allclose(boxes[0].get_edgecolor()[:3], (1, 0, 0))
    dark = _axes_pixel(fig, ax, 9.2, 19.3)
    assert dark == tuple(int(round(255 * v)) for v in plt.get_cmap("Blues")(1.0)[:3])
    assert _axes_pixel(fig, ax, 10.2, 1.2) == GREEN  # target
    assert _axes_pixel(fig, ax, 10.0, 19.0) == render.START_RGB  # start dot
    plt.close(fig)


def _is_png(path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_maze_panel_saves_png_without_display(tmp_path):
    pos = np.tile(np.array([[10, 19], [10, 18]]), (3, 1, 1))
    fig = render.maze_panel(_maze(), [(10, 19), (10, 18)], pos, title="(a) Test")
    assert isinstance(fig.canvas, FigureCanvasAgg)  # an Agg canvas, no display needed
    assert len(fig.axes) == 2
    assert any(t.get_text() == "(a) Test" for t in fig.texts)
    out = render.save_figure(fig, tmp_path / "panel.png", dpi=40)
    assert _is_png(out)
    img = iio.imread(out)
    assert img.shape[0] > 50 and img.shape[1] > 2 * img.shape[0] * 0.8  # two squares side by side


def test_paper_figure_six_panels(tmp_path):
    pos = np.tile(np.array([[10, 19], [9, 19]]), (2, 1, 1))
    names = ["A", "B", "C", "D", "E", "F"]
    fig = render.paper_figure({n: (_maze(), [(10, 19), (9, 19)], pos) for n in names}, ncols=3)
    assert len(fig.axes) == 12
    texts = sorted(t.get_text() for sf in fig.subfigs for t in sf.texts)
    assert texts == [f"({letter}) {n}" for letter, n in zip("abcdef", names)]
    out = render.save_figure(fig, tmp_path / "fig.png", dpi=30)
    img = iio.imread(out)
    assert _is_png(out) and img.shape[1] > img.shape[0]  # 3 columns x 2 rows: wide


# --------------------------------------------------------------------------- GIF


def test_episode_gif_frame_count(tmp_path):
    traj = [(10, 19), (9, 19), (8, 19), (8, 18), (8, 17)]
    path = render.episode_gif(tmp_path / "ep.gif", _maze(), traj, fps=10, cell_px=PX)
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == len(traj)
    assert frames.shape[1:3] == (G * PX, G * PX)
    first, last = frames[0][..., :3], frames[-1][..., :3]
    assert tuple(first[19 * PX + PX // 2, 10 * PX + PX // 2]) == render.AGENT_RGB  # agent at start
    assert tuple(last[17 * PX + PX // 2, 8 * PX + PX // 2]) == render.AGENT_RGB  # agent at the end
    assert len(render.episode_frames(_maze(), traj, cell_px=PX)) == len(traj)
