"""Maze generation for the color maze, plus argument validation shared by the env.

Grids are indexed ``[env, x, y]`` (x to the right, y downwards). States:
0 normal (white), 1 fail, 2 path, 3 green path (reserved), 4 border (only
outside the grid, in observations).

The maze block (side ``S = grid_size - 2 * margin_size``) is all fail except
one path carved from its top row to its bottom row, as in the authors'
release (see ``shared/spec/color_maze.md``, "Maze generation"). The release
vectorises over envs with the global numpy RNG; we draw each maze with a
Python loop from a ``numpy.random.Generator`` seeded by ``seed`` (the global
RNG is never touched), which gives the same distribution, not the same bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sitt.checks import is_int, validate_seed

__all__ = [
    "NORMAL",
    "FAIL",
    "PATH",
    "GREEN_PATH",
    "BORDER",
    "MIN_GRID_SIZE",
    "MIN_MARGIN_SIZE",
    "MIN_MAZE_SIZE",
    "make_mazes",
    "path_column_range",
    "target_position",
    "start_position",
    "validate_n_envs",
    "validate_sizes",
    "validate_seed",
    "validate_grids",
]

NORMAL, FAIL, PATH, GREEN_PATH, BORDER = 0, 1, 2, 3, 4

# Smallest maze block for which generation works: the path columns [S//4, 3*S//4)
# must be non-empty, i.e. 3*S//4 > S//4, which holds for every S >= 2 (S = 1 gives
# the empty range [0, 0)). The tests run the generator on many seeds at S = 2..6.
MIN_MAZE_SIZE = 2
# The margin must hold the start and target cells (at M // 2 from the edge), so that
# they lie outside the maze block; margin 0 would put them inside the block.
MIN_MARGIN_SIZE = 1
MIN_GRID_SIZE = MIN_MAZE_SIZE + 2 * MIN_MARGIN_SIZE

_VERTICAL_LENGTHS = (3, 4)  # release: randint(3, 5)
_HORIZONTAL_MAGNITUDES = (1, 2, 3)  # release: randint(1, 4)


def validate_n_envs(n: Any, name: str = "n_envs") -> int:
    if not is_int(n) or n < 1:
        raise ValueError(f"{name} must be an int >= 1, got {n!r}")
    return int(n)


def validate_sizes(grid_size: Any, margin_size: Any) -> tuple[int, int]:
    """Check ``grid_size`` and ``margin_size``; return them as ints.

    Allowed: ``grid_size >= MIN_GRID_SIZE`` (4) and
    ``MIN_MARGIN_SIZE <= margin_size <= (grid_size - MIN_MAZE_SIZE) // 2`` so that the
    maze block has side ``S = grid_size - 2 * margin_size >= MIN_MAZE_SIZE`` (2).
    """
    if not is_int(grid_size) or grid_size < MIN_GRID_SIZE:
        raise ValueError(
            f"grid_size must be an int >= {MIN_GRID_SIZE} (a maze block of side >= {MIN_MAZE_SIZE} "
            f"inside a margin of >= {MIN_MARGIN_SIZE}), got {grid_size!r}"
        )
    max_margin = (int(grid_size) - MIN_MAZE_SIZE) // 2
    if not is_int(margin_size) or not (MIN_MARGIN_SIZE <= margin_size <= max_margin):
        raise ValueError(
            f"margin_size must be an int in [{MIN_MARGIN_SIZE}, {max_margin}] for grid_size={grid_size} "
            f"(the maze block grid_size - 2*margin_size must be >= {MIN_MAZE_SIZE}), got {margin_size!r}"
        )
    return int(grid_size), int(margin_size)


def path_column_range(maze_size: int) -> tuple[int, int]:
    """``(lo, hi)``: the path stays in block columns ``[lo, hi)``."""
    return maze_size // 4, 3 * maze_size // 4


def target_position(grid_size: int, margin_size: int) -> tuple[int, int]:
    """Target cell ``(x, y) = (G // 2, M // 2)`` (top margin, centre column)."""
    return grid_size // 2, margin_size // 2


def start_position(grid_size: int, margin_size: int) -> tuple[int, int]:
    """Start cell ``(x, y) = (G // 2, G - 1 - M // 2)`` (bottom margin, centre column)."""
    return grid_size // 2, grid_size - 1 - margin_size // 2


def _carve_path(block: np.ndarray, rng: np.random.Generator) -> None:
    """Carve one path (state 2) into ``block`` (S x S, indexed [x, y]) in place."""
    size = block.shape[0]
    lo, hi = path_column_range(size)
    # At most ceil((S - 1) / 3) legs of each kind; draw them all up front (4 RNG calls).
    n_legs = max(1, (size + 1) // 3 + 1)
    v_len = rng.integers(_VERTICAL_LENGTHS[0], _VERTICAL_LENGTHS[-1] + 1, size=n_legs)
    h_mag = rng.integers(_HORIZONTAL_MAGNITUDES[0], _HORIZONTAL_MAGNITUDES[-1] + 1, size=n_legs)
    h_sign = rng.integers(0, 2, size=n_legs) * 2 - 1
    gx = int(rng.integers(lo, hi))
    gy = 0
    for leg in range(n_legs):
        # Vertical leg: (gx, gy) .. (gx, gy + length), length capped at S - 1 - gy.
        length = min(int(v_len[leg]), size - 1 - gy)
        block[gx, gy : gy + length + 1] = PATH
        gy += length
        if gy >= size - 1:
            return
        # Horizontal leg on row gy: magnitude capped, direction flipped if it would leave [lo, hi).
        move = min(int(h_mag[leg]), max(gx - lo, hi - gx) - 1) * int(h_sign[leg])
        if not (lo <= gx + move < hi):
            move = -move
        if move > 0:
            block[gx + 1 : gx + move + 1, gy] = PATH
        elif move < 0:
            block[gx + move : gx, gy] = PATH
        gx += move
    raise AssertionError("maze generation did not reach the last row")  # pragma: no cover


def make_mazes(n: int, grid_size: int = 21, margin_size: int = 3, seed: Any = None) -> np.ndarray:
    """Draw ``n`` mazes; return the full grids, shape ``(n, grid_size, grid_size)``, dtype int8.

    Margins are 0 (normal); the block ``[M:G-M, M:G-M]`` is 1 (fail) except one path (2)
    from its top row (y = M) to its bottom row (y = G - M - 1) in block columns
    ``[S//4, 3*S//4)``. ``seed``: None, an int >= 0, a SeedSequence or a Generator; only a
    generator built from it is used (never the global numpy RNG).
    """
    n = validate_n_envs(n, "n")
    grid_size, margin_size = validate_sizes(grid_size, margin_size)
    rng = np.random.default_rng(validate_seed(seed))
    grids = np.zeros((n, grid_size, grid_size), dtype=np.int8)
    block = grids[:, margin_size : grid_size - margin_size, margin_size : grid_size - margin_size]
    block[...] = FAIL
    for i in range(n):
        _carve_path(block[i], rng)
    return grids


def validate_grids(grids: Any, margin_size: Any = 3) -> tuple[np.ndarray, int, int]:
    """Check user grids for ``ColorMazeEnv.from_grids``; return ``(int8 copy, G, M)``.

    ``grids`` must be an array of shape ``(n, G, G)`` (n >= 1) of integers (or whole
    floats / bools) with states in 0..3. The layout inside is free (hand-built test
    mazes may put fail or path cells anywhere, margins included); ``margin_size`` only
    fixes the start and target cells and must satisfy the same rule as for generated mazes.
    """
    try:
        arr = np.asarray(grids)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"grids must be an array of shape (n, G, G), got {type(grids).__name__}") from exc
    if arr.ndim != 3 or arr.shape[0] < 1 or arr.shape[1] != arr.shape[2]:
        raise ValueError(f"grids must have shape (n_envs >= 1, G, G) (square grids), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError("grids must hold whole-number cell states in 0..3, found non-integer values")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"grids must hold integer cell states in 0..3, got dtype {arr.dtype}")
    if arr.size and (arr.min() < NORMAL or arr.max() > GREEN_PATH):
        raise ValueError(
            f"grids must hold cell states in 0..3 (0 normal, 1 fail, 2 path, 3 green path), "
            f"found values in [{arr.min()}, {arr.max()}]"
        )
    grid_size, margin_size = validate_sizes(int(arr.shape[1]), margin_size)
    return arr.astype(np.int8, copy=True), grid_size, margin_size
