"""Maze generation: invariants, minimum size, determinism, distribution vs the release's algorithm."""

from __future__ import annotations

import numpy as np
import pytest

from color_maze import ColorMazeEnv, make_mazes
from color_maze.generation import MIN_GRID_SIZE, MIN_MAZE_SIZE, path_column_range


def check_maze_invariants(grid: np.ndarray, margin: int) -> None:
    """One simple 4-connected path from the block's top row to its bottom row, inside the
    allowed columns; every other block cell fail; margins normal."""
    G = grid.shape[0]
    S = G - 2 * margin
    lo, hi = path_column_range(S)
    block = grid[margin : G - margin, margin : G - margin]
    margin_mask = np.ones_like(grid, dtype=bool)
    margin_mask[margin : G - margin, margin : G - margin] = False
    assert np.all(grid[margin_mask] == 0), "margins must be normal (0)"
    assert set(np.unique(block)) <= {1, 2}, "the block holds only fail and path"
    path = block == 2
    xs, ys = np.nonzero(path)
    assert xs.min() >= lo and xs.max() < hi, f"path columns {xs.min()}..{xs.max()} outside [{lo}, {hi})"
    assert path[:, 0].sum() == 1, "exactly one path cell on the top row"
    assert path[:, S - 1].sum() == 1, "exactly one path cell on the bottom row"
    # simple path: the two row ends have one path neighbour, every other path cell two
    padded = np.zeros((S + 2, S + 2), dtype=int)
    padded[1:-1, 1:-1] = path
    degree = padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
    deg = degree[path]
    ends = {(int(x), int(y)) for x, y in zip(xs[deg == 1], ys[deg == 1])}
    if S > 1:
        top = (int(np.flatnonzero(path[:, 0])[0]), 0)
        bottom = (int(np.flatnonzero(path[:, S - 1])[0]), S - 1)
        assert ends == {top, bottom}, f"path ends {ends} are not the top and bottom cells"
        assert np.all((deg == 1) | (deg == 2)), "path cells with a branch or isolated"
    # 4-connected: flood fill from the top cell reaches every path cell
    start = (int(np.flatnonzero(path[:, 0])[0]), 0)
    seen = {start}
    stack = [start]
    while stack:
        x, y = stack.pop()
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < S and 0 <= ny < S and path[nx, ny] and (nx, ny) not in seen:
                seen.add((nx, ny))
                stack.append((nx, ny))
    assert len(seen) == int(path.sum()), "path is not 4-connected"


def test_default_mazes_satisfy_invariants_over_many_seeds():
    grids = make_mazes(400, seed=123)
    assert grids.shape == (400, 21, 21) and grids.dtype == np.int8
    for grid in grids:
        check_maze_invariants(grid, 3)
    # every start column of [lo, hi) occurs, and nothing else
    lo, hi = path_column_range(15)
    starts = {int(np.flatnonzero(g[3:18, 3] == 2)[0]) for g in grids}
    assert starts == set(range(lo, hi))


@pytest.mark.parametrize("grid_size,margin", [(4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (9, 2), (13, 4), (30, 5)])
def test_small_and_odd_sizes_generate_valid_mazes(grid_size, margin):
    grids = make_mazes(300, grid_size=grid_size, margin_size=margin, seed=grid_size * 100 + margin)
    for grid in grids:
        check_maze_invariants(grid, margin)


def test_minimum_maze_size_is_two():
    assert MIN_MAZE_SIZE == 2 and MIN_GRID_SIZE == 4
    grids = make_mazes(1000, grid_size=4, margin_size=1, seed=0)  # S = 2: lo = 0, hi = 1
    assert np.all(grids[:, 1, 1:3] == 2) and np.all(grids[:, 2, 1:3] == 1)
    with pytest.raises(ValueError, match="grid_size"):
        make_mazes(1, grid_size=3, margin_size=1)
    with pytest.raises(ValueError, match="margin_size"):
        make_mazes(1, grid_size=5, margin_size=2)  # S = 1 has no path columns


def test_same_seed_same_mazes_different_seeds_differ():
    a = make_mazes(50, seed=7)
    assert np.array_equal(a, make_mazes(50, seed=7))
    assert not np.array_equal(a, make_mazes(50, seed=8))
    assert np.array_equal(ColorMazeEnv(50, seed=7).grids, a)
    assert not np.array_equal(make_mazes(50, seed=None), make_mazes(50, seed=None))
    # a Generator is accepted and consumed
    rng = np.random.default_rng(7)
    assert np.array_equal(make_mazes(50, seed=rng), a)


def test_generation_and_env_leave_global_numpy_rng_untouched():
    np.random.seed(99)
    state = np.random.get_state()
    make_mazes(20, seed=None)
    make_mazes(20, seed=3)
    env = ColorMazeEnv(20, seed=None)
    env.reset()
    env.step(np.zeros(20, dtype=np.int64))
    env.seed(None)
    env.seed(5)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def _release_style_mazes(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The release's vectorised algorithm (rint interpolation over the batch), transcribed
    for a distribution check; random draws from ``rng`` instead of the global RNG."""
    lo, hi = size // 4, 3 * size // 4
    maze = np.ones((n, size, size))
    gx = rng.integers(lo, hi, size=n)
    gy = np.zeros(n, dtype=int)
    finished = np.zeros(n, dtype=bool)
    envs = np.arange(n)[:, None]
    while not finished.all():
        mov_y = np.minimum(rng.integers(3, 5, size=n), size - gy - 1)
        mov_x = rng.integers(1, 4, size=n) * rng.choice([-1, 1], size=n)
        mov_y[finished] = 0
        m = mov_y.max()
        ys = np.rint(np.arange(m + 1)[None, :] / m * mov_y[:, None] + gy[:, None]).astype(int)
        maze[envs, np.repeat(gx[:, None], m + 1, 1), ys] = 2
        gy += mov_y
        finished = gy >= size - 1
        if finished.all():
            break
        mov_x[finished] = 0
        cap = np.maximum(gx - lo, hi - gx) - 1
        mov_x = np.minimum(np.abs(mov_x), cap) * np.sign(mov_x)
        flip = (gx + mov_x >= hi) | (gx + mov_x < lo)
        mov_x[flip] = -mov_x[flip]
        m = np.abs(mov_x).max()
        if m > 0:
            xs = np.rint((np.arange(m)[None, :] + 1) / m * mov_x[:, None] + gx[:, None]).astype(int)
            maze[envs, xs, np.repeat(gy[:, None], m, 1)] = 2
        gx += mov_x
    return maze


def _total_variation(a: np.ndarray, b: np.ndarray) -> float:
    values = np.union1d(a, b)
    pa = np.array([(a == v).mean() for v in values])
    pb = np.array([(b == v).mean() for v in values])
    return 0.5 * float(np.abs(pa - pb).sum())


def test_distribution_matches_release_algorithm():
    n = 3000
    ours = make_mazes(n, seed=2024)[:, 3:18, 3:18] == 2
    theirs = _release_style_mazes(n, 15, np.random.default_rng(4048)) == 2
    # sampling noise at n = 3000 is about 0.04 for the column statistics; changing the
    # leg lengths (e.g. vertical 3..5 or horizontal 1..2) gives 0.16+ on the path length
    # and 0.06+ on the cells per column / 0.11+ on the per-cell frequency
    for name, stat, bound in [
        ("path length", lambda p: p.sum(axis=(1, 2)), 0.06),
        ("start column", lambda p: np.argmax(p[:, :, 0], axis=1), 0.07),
        ("end column", lambda p: np.argmax(p[:, :, -1], axis=1), 0.07),
        ("cells per column", lambda p: p.sum(axis=2).reshape(-1), 0.03),
    ]:
        tv = _total_variation(stat(ours), stat(theirs))
        assert tv < bound, f"{name}: total variation {tv:.3f} between our mazes and the release's"
    # per-cell path frequency
    assert np.abs(ours.mean(0) - theirs.mean(0)).max() < 0.07
