"""occluded_drawer.render: figures without a display, sight-line colours, overlaid postures."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from occluded_drawer import DrawerConfig, evaluate, generate_scenes, hiding_controller, visible_controller
from occluded_drawer import render
from occluded_drawer.render import BLOCKED_COLOR, VISIBLE_COLOR

CFG = DrawerConfig()
H = np.array([1.5, 0.2])


def _sight_colors(ax):
    return [to_rgba(line.get_color()) for line in ax.lines if line.get_color() in (VISIBLE_COLOR, BLOCKED_COLOR)]


def test_sight_line_is_red_when_blocked_and_green_when_visible():
    fig = render.scene_figure(CFG, H, q=[math.pi / 2, 0.0])
    assert isinstance(fig, Figure)
    assert _sight_colors(fig.axes[0]) == [to_rgba(BLOCKED_COLOR)]
    fig = render.scene_figure(CFG, H, q=[-math.pi / 2, 0.0], title="down")
    assert _sight_colors(fig.axes[0]) == [to_rgba(VISIBLE_COLOR)] and fig.axes[0].get_title() == "down"
    fig.canvas.draw()  # renders on Agg


def test_approach_figure_overlays_postures_and_matches_the_rows():
    sc = generate_scenes(4, CFG, seed=5)
    (r1, t1), (_, t2) = evaluate(hiding_controller(CFG), sc, CFG), evaluate(visible_controller(CFG), sc, CFG)
    fig = render.approach_figure([t1, t2], 2, CFG, every=4, until_grasp=True)
    assert len(fig.axes) == 2
    first = int(r1["first_grasp"][2])
    drawn = len(range(0, first + 1, 4)) + (first % 4 != 0)
    colors = _sight_colors(fig.axes[0])
    assert len(colors) == drawn and to_rgba(BLOCKED_COLOR) in colors
    assert set(_sight_colors(fig.axes[1])) == {to_rgba(VISIBLE_COLOR)}
    assert f"{r1['visible_share'][2]:.0%}" in fig.axes[0].get_title()
    fig = render.approach_figure(t1, [0, 1, 3], CFG)
    assert len(fig.axes) == 3
    fig.canvas.draw()


def test_draw_approach_fades_older_postures_to_at_most_full_opacity():
    """Three drawn postures: 0.2 + 0.8 * 3 / 3 is 1.0000000000000002 in floats, which matplotlib refuses."""
    fig = Figure()
    ax = fig.add_subplot()
    q = np.tile([[-math.pi / 2, 0.0]], (7, 1))
    vis = render.draw_approach(ax, q, CFG, np.tile(H, (7, 1)), every=3)  # postures 0, 3, 6
    assert vis == [True, True, True]
    alphas = sorted({line.get_alpha() for line in ax.lines if line.get_alpha() is not None})
    assert alphas[-1] == 1.0 and all(0.0 < a <= 1.0 for a in alphas)
    fig.canvas.draw()
