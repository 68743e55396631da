"""Comparing two methods: probability of improvement, differences, success proportions.

Shapes: ``x`` and ``y`` are scores of two methods, each ``(n_runs,)`` or
``(n_runs, n_tasks)``; the run counts ``n_x`` and ``n_y`` may differ. Bootstrap
intervals resample the runs of ``x`` and ``y`` independently (per task), as
rliable's ``StratifiedIndependentBootstrap``, unless ``paired=True`` where the
same run indices are drawn for both (runs matched by seed). Runs containing NaN
are dropped and counted in the result's ``n`` / ``n_dropped``.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.stats

from study.stats.aggregates import as_scores
from study.stats.bootstrap import (
    DegenerateIntervalWarning,
    Interval,
    Statistic,
    apply_statistic,
    check_confidence,
    check_method,
    check_n_boot,
    chunks,
    drop_nan_runs,
    interval_from_distribution,
    resample_indices,
    resolve_statistic,
)

__all__ = ["probability_of_improvement", "probability_of_improvement_ci", "difference_ci", "proportion_ci"]


def _poi_batch(bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    """P(X > Y) + 0.5 P(X = Y) per resample, averaged over tasks.

    bx: (B, n_x, n_tasks), by: (B, n_y, n_tasks) -> (B,).
    """
    xs, ys = bx[:, :, None, :], by[:, None, :, :]  # (B, n_x, 1, T), (B, 1, n_y, T)
    per_task = (xs > ys).mean(axis=(1, 2)) + 0.5 * (xs == ys).mean(axis=(1, 2))  # (B, T)
    return per_task.mean(axis=1)


def _pair(x, y, allow_nan: bool, same_tasks: bool = True) -> tuple[np.ndarray, np.ndarray]:
    ax = as_scores(x, "x", allow_nan=allow_nan)
    ay = as_scores(y, "y", allow_nan=allow_nan)
    if np.ndim(x) != np.ndim(y):
        raise ValueError(f"x and y must both be 1-D or both 2-D, got shapes {np.shape(x)} and {np.shape(y)}")
    if same_tasks and ax.shape[1] != ay.shape[1]:
        raise ValueError(f"x and y must have the same number of tasks, got {ax.shape[1]} and {ay.shape[1]}")
    return ax, ay


def probability_of_improvement(x, y) -> float:
    """Probability that a run of X beats a run of Y: P(X > Y) + 0.5 P(X = Y).

    This is the Mann-Whitney U statistic divided by ``n_x * n_y``, computed per
    task over all run pairs and averaged over tasks (rliable
    ``metrics.probability_of_improvement``). 1 means every X run beats every Y
    run, 0.5 means no tendency either way.

    Args:
        x: scores of method X, shape (n_x,) or (n_x, n_tasks), no NaN.
        y: scores of method Y, shape (n_y,) or (n_y, n_tasks), same n_tasks, no NaN.

    Returns:
        float in [0, 1].
    """
    ax, ay = _pair(x, y, allow_nan=False)
    return float(_poi_batch(ax[None], ay[None])[0])


def _two_sample_ci(x, y, fn, scalar_fn, n_boot, confidence, seed, method, paired, same_tasks) -> Interval:
    """Bootstrap interval of ``fn(bx, by)`` (batched, -> (B,)); ``scalar_fn(x, y)`` is the point estimate."""
    n_boot = check_n_boot(n_boot)
    confidence = check_confidence(confidence)
    method = check_method(method)
    ax, ay = _pair(x, y, allow_nan=True, same_tasks=same_tasks or paired)
    if paired:
        if ax.shape != ay.shape:
            raise ValueError(f"paired=True needs x and y of the same shape, got {ax.shape} and {ay.shape}")
        both, n_dropped = drop_nan_runs(np.concatenate([ax, ay], axis=1), "x and y (paired)")
        ax, ay = both[:, : ax.shape[1]], both[:, ax.shape[1] :]
        n = ax.shape[0]
    else:
        ax, dx = drop_nan_runs(ax, "x")
        ay, dy = drop_nan_runs(ay, "y")
        n, n_dropped = (ax.shape[0], ay.shape[0]), (dx, dy)
    point = float(scalar_fn(ax, ay))
    meta = dict(n=n, n_dropped=n_dropped, confidence=confidence, method=method)
    if max(ax.shape[0], ay.shape[0]) < 2:
        note = "n=1: single runs cannot be resampled; the interval collapses to the point estimate"
        warnings.warn(note, DegenerateIntervalWarning, stacklevel=3)
        return Interval(point, point, point, note=note, **meta)
    note = ""
    if min(ax.shape[0], ay.shape[0]) < 2:
        note = "one side has a single run: the interval reflects only the other side's run-to-run variability"
    rng = np.random.default_rng(seed)
    tx, ty = np.arange(ax.shape[1]), np.arange(ay.shape[1])
    boot = []
    for size in chunks(n_boot, max(ax.shape[0], 1) * max(ay.shape[0], 1) * max(ax.shape[1], ay.shape[1])):
        ix = resample_indices(rng, size, *ax.shape)
        iy = ix if paired else resample_indices(rng, size, *ay.shape)
        boot.append(fn(ax[ix, tx], ay[iy, ty]))
    lo, hi = interval_from_distribution(point, np.concatenate(boot), confidence, method)
    return Interval(point, lo, hi, note=note, **meta)


def probability_of_improvement_ci(
    x,
    y,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    method: str = "percentile",
) -> Interval:
    """Probability of improvement of X over Y with a stratified bootstrap CI.

    Runs of ``x`` and ``y`` are resampled independently, per task.

    Args:
        x: scores of method X, shape (n_x,) or (n_x, n_tasks); NaN runs dropped.
        y: scores of method Y, shape (n_y,) or (n_y, n_tasks); NaN runs dropped.
        n_boot, confidence, seed, method: as in :func:`study.stats.bootstrap_ci`.

    Returns:
        :class:`~study.stats.Interval` ``(point, lo, hi)`` with ``.n == (n_x, n_y)``
        and ``.n_dropped == (dropped_x, dropped_y)``.
    """
    point = lambda ax, ay: _poi_batch(ax[None], ay[None])[0]  # noqa: E731
    return _two_sample_ci(x, y, _poi_batch, point, n_boot, confidence, seed, method, paired=False, same_tasks=True)


def difference_ci(
    x,
    y,
    statistic: Statistic = "mean",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    method: str = "percentile",
    paired: bool = False,
) -> Interval:
    """Bootstrap CI of ``statistic(x) - statistic(y)`` (default: difference of means).

    Args:
        x: scores of method X, shape (n_x,) or (n_x, n_tasks_x); NaN runs dropped.
        y: scores of method Y, shape (n_y,) or (n_y, n_tasks_y); NaN runs dropped.
            Task counts may differ unless ``paired``.
        statistic: as in :func:`study.stats.bootstrap_ci` (name or callable).
        n_boot, confidence, seed, method: as in :func:`study.stats.bootstrap_ci`.
        paired: if True, run ``i`` of x and of y belong together (same seed /
            environment instance): x and y must have the same shape, a run is
            dropped from both if either has NaN, and both are resampled with the
            same indices, which removes the shared variability from the interval.

    Returns:
        :class:`~study.stats.Interval` ``(point, lo, hi)``; ``.n`` is an int when paired,
        else ``(n_x, n_y)``.
    """
    scalar, batch, _ = resolve_statistic(statistic)
    one_d = np.ndim(x) == 1

    def stat_batch(b):  # (B, n, T) -> (B,)
        return apply_statistic(b, scalar, batch, one_d)

    def diff_batch(bx, by):
        return stat_batch(bx) - stat_batch(by)

    def point(ax, ay):
        return diff_batch(ax[None], ay[None])[0]

    return _two_sample_ci(x, y, diff_batch, point, n_boot, confidence, seed, method, paired=bool(paired),
                          same_tasks=False)


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        raise ValueError(f"{name} must be an integer count, got {value!r}")
    return int(value)


def proportion_ci(k: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a success proportion k / n.

    Suited to small n (e.g. successes out of 15 eval mazes) and to k = 0 or k = n,
    where the normal (Wald) interval breaks down. No continuity correction.

    Args:
        k: number of successes, integer with 0 <= k <= n.
        n: number of trials, integer >= 1.
        confidence: interval coverage, strictly between 0 and 1.

    Returns:
        :class:`~study.stats.Interval` ``(k / n, lo, hi)`` with ``.n == n`` and
        ``.method == "wilson"``; 0 <= lo <= k/n <= hi <= 1.
    """
    k = _check_count(k, "k")
    n = _check_count(n, "n")
    confidence = check_confidence(confidence)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must satisfy 0 <= k <= n={n}, got {k}")
    z = float(scipy.stats.norm.ppf(0.5 + confidence / 2.0))
    p = k / n
    z2n = z * z / n
    center = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    lo = 0.0 if k == 0 else max(0.0, center - half)
    hi = 1.0 if k == n else min(1.0, center + half)
    return Interval(p, lo, hi, n=n, confidence=confidence, method="wilson")
