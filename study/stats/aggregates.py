"""Aggregate metrics over runs (and tasks), following rliable's definitions.

Shapes: ``scores`` is either ``(n_runs,)`` (one task, e.g. the success rate of
each training seed) or ``(n_runs, n_tasks)`` (e.g. seeds x eval mazes). A 1-D
array is treated exactly like an ``(n_runs, 1)`` array.

The definitions match ``rliable.metrics`` so numbers are comparable with
published rliable plots:

* :func:`mean`: mean over runs of each task, then mean over tasks.
* :func:`median`: mean over runs of each task, then **median over tasks**
  (rliable's ``aggregate_median``). With one task this is that task's mean,
  not the median of the runs; use ``np.median`` for the latter.
* :func:`iqm`: 25% trimmed mean of all ``n_runs * n_tasks`` scores pooled
  (``scipy.stats.trim_mean(scores, 0.25, axis=None)``).
* :func:`optimality_gap`: ``gamma - mean(min(scores, gamma))``.

These point-estimate functions reject NaN (``ValueError``): a NaN is usually a
crashed or missing run and should be dropped knowingly. The interval functions
in :mod:`study.stats.bootstrap` and :mod:`study.stats.comparison` drop NaN runs
themselves and report how many remain.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

__all__ = ["mean", "median", "iqm", "optimality_gap", "STATISTICS"]


def as_scores(scores, name: str = "scores", *, allow_nan: bool = False) -> np.ndarray:
    """Validates ``scores`` and returns it as a float array of shape (n_runs, n_tasks).

    Args:
        scores: array-like of shape (n_runs,) or (n_runs, n_tasks).
        name: argument name used in error messages.
        allow_nan: if False, NaN raises ``ValueError``.

    Returns:
        float64 array of shape (n_runs, n_tasks); a 1-D input gets n_tasks = 1.

    Raises:
        ValueError: non-numeric, not 1-D/2-D, empty, infinite, or NaN when not allowed.
    """
    try:
        arr = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array, got {type(scores).__name__}") from err
    if arr.ndim == 1:
        arr = arr[:, None]
    elif arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n_runs,) or (n_runs, n_tasks), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least one run and one task")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains +/-inf")
    if not allow_nan and np.isnan(arr).any():
        raise ValueError(
            f"{name} contains NaN ({int(np.isnan(arr).sum())} values); drop missing runs first, "
            "or use the study.stats interval functions, which drop NaN runs and report n"
        )
    return arr


# Batched forms: ``b`` has shape (n_boot, n_runs, n_tasks) -> (n_boot,).
# Used by the bootstrap; each must equal the scalar function applied per slice.
def _mean_batch(b: np.ndarray) -> np.ndarray:
    return b.mean(axis=1).mean(axis=1)


def _median_batch(b: np.ndarray) -> np.ndarray:
    return np.median(b.mean(axis=1), axis=1)


def _iqm_batch(b: np.ndarray) -> np.ndarray:
    return scipy.stats.trim_mean(b.reshape(b.shape[0], -1), proportiontocut=0.25, axis=1)


def mean(scores) -> float:
    """Mean of per-task mean scores.

    Args:
        scores: array of shape (n_runs,) or (n_runs, n_tasks), no NaN.

    Returns:
        float: ``mean_tasks(mean_runs(scores))``; equal to the plain mean of all
        scores since every task has the same number of runs.
    """
    return float(_mean_batch(as_scores(scores)[None])[0])


def median(scores) -> float:
    """Median over tasks of per-task mean scores (rliable ``aggregate_median``).

    Args:
        scores: array of shape (n_runs,) or (n_runs, n_tasks), no NaN.

    Returns:
        float: ``median_tasks(mean_runs(scores))``. For a 1-D input (one task)
        this is the mean of the runs.
    """
    return float(_median_batch(as_scores(scores)[None])[0])


def iqm(scores) -> float:
    """Interquartile mean: 25% trimmed mean over all runs x tasks pooled.

    ``int(0.25 * N)`` scores are cut from each end of the sorted ``N = n_runs *
    n_tasks`` pooled scores and the rest averaged, as
    ``scipy.stats.trim_mean(scores, 0.25, axis=None)`` (rliable ``aggregate_iqm``).

    Args:
        scores: array of shape (n_runs,) or (n_runs, n_tasks), no NaN.

    Returns:
        float: the IQM.
    """
    return float(scipy.stats.trim_mean(as_scores(scores), proportiontocut=0.25, axis=None))


def optimality_gap(scores, gamma: float = 1.0) -> float:
    """Optimality gap: how far scores fall short of ``gamma`` on average.

    Args:
        scores: array of shape (n_runs,) or (n_runs, n_tasks), no NaN.
        gamma: target score; scores above it are clipped to it (1.0 for success rates).

    Returns:
        float: ``gamma - mean(minimum(scores, gamma))`` (lower is better).
    """
    gamma = float(gamma)
    if not np.isfinite(gamma):
        raise ValueError(f"gamma must be finite, got {gamma}")
    return float(gamma - np.mean(np.minimum(as_scores(scores), gamma)))


# name -> (scalar function, batched function or None)
STATISTICS = {
    "mean": (mean, _mean_batch),
    "median": (median, _median_batch),
    "iqm": (iqm, _iqm_batch),
    "optimality_gap": (optimality_gap, lambda b: 1.0 - np.minimum(b, 1.0).mean(axis=(1, 2))),
}
