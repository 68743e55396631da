"""Which factor of a two-factor grid of scores decides them: a two-way decomposition with permutation p-values.

The grid is ``(n_rows, n_cols)``, one score per cell and no replication (e.g. rows = network seeds, columns = maze
seeds, cell = the student's success on the held-out mazes). The total sum of squares about the grand mean splits into
a row part, a column part and a residual (which holds the interaction, since no cell is repeated)::

    SS_total = SS_rows + SS_cols + SS_residual
    SS_rows  = n_cols * sum_i (row_mean_i - grand)^2,   SS_cols = n_rows * sum_j (col_mean_j - grand)^2

A factor's p-value is the share of seeded random permutations of the grid's cells (all cells shuffled together,
which breaks both factors) whose SS of that factor is at least the observed one (with the observed grid counted, so
p >= 1 / (n_perm + 1)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TwoWay", "sums_of_squares", "two_way"]


def sums_of_squares(grid: np.ndarray) -> tuple[float, float, float, float]:
    """``(ss_rows, ss_cols, ss_residual, ss_total)`` of a ``(n_rows, n_cols)`` grid without NaN (module doc)."""
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 2 or min(grid.shape) < 2:
        raise ValueError(f"grid: got shape {grid.shape}; allowed: (n_rows >= 2, n_cols >= 2)")
    if not np.all(np.isfinite(grid)):
        raise ValueError("grid: got NaN or inf cells; allowed: a complete grid of finite scores")
    grand = grid.mean()
    ss_rows = grid.shape[1] * float(np.sum((grid.mean(axis=1) - grand) ** 2))
    ss_cols = grid.shape[0] * float(np.sum((grid.mean(axis=0) - grand) ** 2))
    ss_total = float(np.sum((grid - grand) ** 2))
    return ss_rows, ss_cols, max(ss_total - ss_rows - ss_cols, 0.0), ss_total


@dataclass(frozen=True)
class TwoWay:
    """The decomposition of one grid: each part's share of ``ss_total`` (NaN when the grid is constant) and the
    permutation p-values of the row and column factors (NaN when the grid is constant: nothing to explain)."""

    ss_rows: float
    ss_cols: float
    ss_residual: float
    ss_total: float
    p_rows: float
    p_cols: float
    n_perm: int

    @property
    def share_rows(self) -> float:
        return self.ss_rows / self.ss_total if self.ss_total > 0 else float("nan")

    @property
    def share_cols(self) -> float:
        return self.ss_cols / self.ss_total if self.ss_total > 0 else float("nan")

    @property
    def share_residual(self) -> float:
        return self.ss_residual / self.ss_total if self.ss_total > 0 else float("nan")


def two_way(grid: np.ndarray, n_perm: int = 10_000, seed: int = 0) -> TwoWay:
    """:func:`sums_of_squares` of ``grid`` ``(n_rows, n_cols)`` and permutation p-values (``n_perm`` seeded shuffles
    of all cells)."""
    if not isinstance(n_perm, int) or isinstance(n_perm, bool) or n_perm < 1:
        raise ValueError(f"n_perm: got {n_perm!r}; allowed: an integer >= 1")
    grid = np.asarray(grid, dtype=float)
    ss_rows, ss_cols, ss_res, ss_total = sums_of_squares(grid)
    if ss_total == 0:
        return TwoWay(ss_rows, ss_cols, ss_res, ss_total, float("nan"), float("nan"), n_perm)
    rng = np.random.default_rng(seed)
    flat = grid.ravel()
    perms = np.stack([rng.permutation(flat) for _ in range(n_perm)]).reshape(n_perm, *grid.shape)  # (n_perm, R, C)
    grand = flat.mean()
    rows = grid.shape[1] * np.sum((perms.mean(axis=2) - grand) ** 2, axis=1)  # (n_perm,)
    cols = grid.shape[0] * np.sum((perms.mean(axis=1) - grand) ** 2, axis=1)
    tol = 1e-12 * max(ss_total, 1.0)  # a permutation that ties the observed SS counts as "at least"
    p_rows = (1 + int(np.sum(rows >= ss_rows - tol))) / (n_perm + 1)
    p_cols = (1 + int(np.sum(cols >= ss_cols - tol))) / (n_perm + 1)
    return TwoWay(ss_rows, ss_cols, ss_res, ss_total, p_rows, p_cols, n_perm)
