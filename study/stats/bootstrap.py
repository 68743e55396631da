"""Seeded stratified bootstrap confidence intervals.

Shapes: ``scores`` is ``(n_runs,)`` or ``(n_runs, n_tasks)``. The bootstrap
resamples **runs with replacement, separately for every task** (rliable's
``StratifiedBootstrap`` with ``task_bootstrap=False``): each resample has the
same shape as ``scores`` and its column ``j`` holds only scores of task ``j``.
Tasks themselves are never resampled.

Intervals are percentile intervals by default (``method="basic"`` is also
available). Results are deterministic for a given ``seed`` (an int; ``None``
draws fresh entropy).

Missing values: runs containing NaN are dropped (for 2-D input, a run is a row,
dropped if any of its tasks is NaN) and the result reports ``n`` (runs used)
and ``n_dropped``. With a single run left there is nothing to resample: the
interval collapses to the point estimate, a :class:`DegenerateIntervalWarning`
is issued and ``note`` says so.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from study.stats.aggregates import STATISTICS, as_scores

__all__ = ["Interval", "DegenerateIntervalWarning", "bootstrap_ci", "bootstrap_ci_table"]

METHODS = ("percentile", "basic")
# Upper bound on floats materialised per resampling chunk (keeps memory ~8 MB).
_CHUNK_ELEMS = 1 << 20

Statistic = str | Callable[[np.ndarray], float]


class DegenerateIntervalWarning(UserWarning):
    """An interval collapsed to its point estimate because there was only one run."""


class Interval(tuple):
    """``(point, lo, hi)`` tuple with metadata attributes.

    Unpacks and compares like a plain 3-tuple of floats. Extra attributes:

    * ``n``: runs used (int), or ``(n_x, n_y)`` for two-sample statistics
      (for :func:`~study.stats.comparison.proportion_ci`: trials).
    * ``n_dropped``: runs dropped because they contained NaN (int, or a pair).
    * ``confidence``, ``method``: how the interval was built.
    * ``note``: empty, or a human-readable caveat (e.g. collapsed interval).
    """

    def __new__(cls, point, lo, hi, *, n, n_dropped=0, confidence=0.95, method="percentile", note=""):
        self = super().__new__(cls, (float(point), float(lo), float(hi)))
        self.n = n
        self.n_dropped = n_dropped
        self.confidence = float(confidence)
        self.method = method
        self.note = note
        return self

    def __getnewargs_ex__(self):  # keeps pickle/copy working for the keyword-only metadata
        kw = dict(n=self.n, n_dropped=self.n_dropped, confidence=self.confidence, method=self.method, note=self.note)
        return tuple(self), kw

    point = property(lambda self: self[0], doc="point estimate")
    lo = property(lambda self: self[1], doc="lower bound")
    hi = property(lambda self: self[2], doc="upper bound")

    def __repr__(self) -> str:
        extra = f", note={self.note!r}" if self.note else ""
        return (
            f"Interval(point={self[0]:.6g}, lo={self[1]:.6g}, hi={self[2]:.6g}, n={self.n}, "
            f"n_dropped={self.n_dropped}, confidence={self.confidence:g}, method={self.method!r}{extra})"
        )


# --------------------------------------------------------------------------- validation helpers
def check_n_boot(n_boot) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, numbers.Integral) or n_boot < 1:
        raise ValueError(f"n_boot must be an integer >= 1, got {n_boot!r}")
    return int(n_boot)


def check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a number strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def resolve_statistic(statistic: Statistic):
    """Returns ``(scalar_fn, batch_fn_or_None, name)`` for a statistic name or callable.

    A callable gets each resample in the caller's shape ((n_runs,) or
    (n_runs, n_tasks)) and must return a scalar.
    """
    if isinstance(statistic, str):
        if statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {sorted(STATISTICS)} or a callable, got {statistic!r}")
        scalar, batch = STATISTICS[statistic]
        return scalar, batch, statistic
    if callable(statistic):
        for name, (scalar, batch) in STATISTICS.items():
            if statistic is scalar:  # our own function passed directly: use its fast batched form
                return scalar, batch, name
        return statistic, None, getattr(statistic, "__name__", "statistic")
    raise ValueError(f"statistic must be a name in {sorted(STATISTICS)} or a callable, got {statistic!r}")


def drop_nan_runs(arr: np.ndarray, name: str = "scores") -> tuple[np.ndarray, int]:
    """Drops runs (rows of an (n_runs, n_tasks) array) containing NaN; returns (kept, n_dropped)."""
    bad = np.isnan(arr).any(axis=1)
    kept = arr[~bad]
    if kept.shape[0] == 0:
        raise ValueError(f"{name} has no run without NaN ({arr.shape[0]} runs, all contain NaN)")
    return kept, int(bad.sum())


def resample_indices(rng: np.random.Generator, n_boot: int, n_runs: int, n_tasks: int) -> np.ndarray:
    """Stratified run indices of shape (n_boot, n_runs, n_tasks): for every task, n_runs draws from its runs."""
    return rng.integers(0, n_runs, size=(n_boot, n_runs, n_tasks))


def chunks(n_boot: int, elems_per_rep: int):
    """Yields chunk sizes summing to n_boot with about _CHUNK_ELEMS floats each."""
    step = max(1, _CHUNK_ELEMS // max(1, elems_per_rep))
    for start in range(0, n_boot, step):
        yield min(step, n_boot - start)


def apply_statistic(samples: np.ndarray, scalar, batch, one_d: bool) -> np.ndarray:
    """Statistic of each resample. samples: (B, n_runs, n_tasks) -> (B,)."""
    if batch is not None:
        return np.asarray(batch(samples), dtype=np.float64)
    out = np.empty(samples.shape[0])
    for i, s in enumerate(samples):
        value = scalar(s[:, 0] if one_d else s)
        if np.ndim(value) != 0:
            raise ValueError(f"statistic must return a scalar, got shape {np.shape(value)}")
        out[i] = value
    return out


def bootstrap_samples(arr: np.ndarray, rng: np.random.Generator, n_boot: int, scalar, batch, one_d: bool) -> np.ndarray:
    """Bootstrap distribution of the statistic. arr: (n_runs, n_tasks) -> (n_boot,)."""
    n_runs, n_tasks = arr.shape
    task_idx = np.arange(n_tasks)
    out = []
    for size in chunks(n_boot, n_runs * n_tasks):
        idx = resample_indices(rng, size, n_runs, n_tasks)
        out.append(apply_statistic(arr[idx, task_idx], scalar, batch, one_d))
    return np.concatenate(out)


def interval_from_distribution(point: float, boot: np.ndarray, confidence: float, method: str) -> tuple[float, float]:
    """(lo, hi) from a bootstrap distribution ``boot`` of shape (n_boot,)."""
    alpha = 1.0 - confidence
    q_lo, q_hi = np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0])
    if method == "percentile":
        return float(q_lo), float(q_hi)
    return float(2.0 * point - q_hi), float(2.0 * point - q_lo)  # basic


# --------------------------------------------------------------------------- public API
def _bootstrap_ci(scores, statistic, n_boot, confidence, seed, method, warn) -> Interval:
    n_boot = check_n_boot(n_boot)
    confidence = check_confidence(confidence)
    method = check_method(method)
    scalar, batch, _ = resolve_statistic(statistic)
    one_d = np.ndim(scores) == 1
    arr, n_dropped = drop_nan_runs(as_scores(scores, allow_nan=True))
    n = arr.shape[0]
    point = float(apply_statistic(arr[None], scalar, batch, one_d)[0])
    meta = dict(n=n, n_dropped=n_dropped, confidence=confidence, method=method)
    if n < 2:
        note = "n=1: a single run cannot be resampled; the interval collapses to the point estimate"
        if warn:
            warnings.warn(note, DegenerateIntervalWarning, stacklevel=3)
        return Interval(point, point, point, note=note, **meta)
    rng = np.random.default_rng(seed)
    boot = bootstrap_samples(arr, rng, n_boot, scalar, batch, one_d)
    lo, hi = interval_from_distribution(point, boot, confidence, method)
    return Interval(point, lo, hi, **meta)


def bootstrap_ci(
    scores,
    statistic: Statistic = "mean",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    method: str = "percentile",
) -> Interval:
    """Stratified bootstrap confidence interval of an aggregate statistic.

    Args:
        scores: array of shape (n_runs,) or (n_runs, n_tasks). Runs with NaN are dropped.
        statistic: ``"mean"``, ``"median"``, ``"iqm"``, ``"optimality_gap"`` (gamma=1), one of
            those functions from :mod:`study.stats.aggregates`, or any callable mapping an
            array shaped like ``scores`` to a scalar.
        n_boot: number of bootstrap resamples (>= 1).
        confidence: interval coverage, strictly between 0 and 1.
        seed: seed of ``numpy.random.default_rng``; same seed and inputs give the same interval.
        method: ``"percentile"`` (default, as rliable) or ``"basic"``.

    Returns:
        :class:`Interval` ``(point, lo, hi)``; ``.n`` runs used, ``.n_dropped`` NaN runs
        dropped, ``.note`` a caveat (set when n == 1).

    Raises:
        ValueError: empty/all-NaN/ill-shaped scores, or a bad ``statistic``, ``n_boot``,
            ``confidence`` or ``method``.
    """
    return _bootstrap_ci(scores, statistic, n_boot, confidence, seed, method, warn=True)


TABLE_STATS = ("mean", "iqm")


def bootstrap_ci_table(
    df: pd.DataFrame,
    value_col: str,
    group_cols: str | Sequence[str] | None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
    method: str = "percentile",
) -> pd.DataFrame:
    """Per-group mean and IQM with bootstrap CIs from a long table (one row per run).

    Args:
        df: DataFrame with one row per run (e.g. seed) holding ``value_col``.
        value_col: numeric column to summarise; NaN values are dropped and counted.
        group_cols: column name(s) to group by (e.g. ``["method", "maze"]``); ``None``
            or ``[]`` summarises the whole frame as one row. NaN group keys form their own group.
        n_boot, confidence, seed, method: as in :func:`bootstrap_ci`. Every group uses
            the same ``seed``, so a group's row does not depend on the other groups.

    Returns:
        DataFrame with one row per group (sorted by the group keys) and columns
        ``*group_cols, n, n_nan, mean, ci_low, ci_high, iqm, iqm_ci_low, iqm_ci_high, note``.
        ``n`` counts non-NaN values; a group with n == 0 gets NaN statistics; a group
        with n == 1 gets a collapsed interval. ``note`` explains either case (else "").
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    if group_cols is None:
        group_cols = []
    elif isinstance(group_cols, str):
        group_cols = [group_cols]
    else:
        group_cols = list(group_cols)
    missing = [c for c in [value_col, *group_cols] if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} not in df (value_col={value_col!r}, group_cols={group_cols!r})")
    if value_col in group_cols:
        raise ValueError(f"value_col {value_col!r} is also in group_cols")
    if not pd.api.types.is_numeric_dtype(df[value_col]) or pd.api.types.is_bool_dtype(df[value_col]):
        raise ValueError(f"value_col {value_col!r} must be numeric, got dtype {df[value_col].dtype}")
    # validate options once, even when df is empty
    check_n_boot(n_boot)
    check_confidence(confidence)
    check_method(method)

    columns = [*group_cols, "n", "n_nan", "mean", "ci_low", "ci_high", "iqm", "iqm_ci_low", "iqm_ci_high", "note"]
    if group_cols:
        groups = df.groupby(group_cols, dropna=False, sort=True)
    else:
        groups = [((), df)] if len(df) else []
    rows = []
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        values = sub[value_col].to_numpy(dtype=np.float64, na_value=np.nan)
        n_nan = int(np.isnan(values).sum())
        row = dict(zip(group_cols, key))
        row.update(n=len(values) - n_nan, n_nan=n_nan)
        if row["n"] == 0:
            row.update(dict.fromkeys(columns[len(group_cols) + 2 : -1], np.nan), note="no non-NaN values")
        else:
            m = _bootstrap_ci(values, "mean", n_boot, confidence, seed, method, warn=False)
            q = _bootstrap_ci(values, "iqm", n_boot, confidence, seed, method, warn=False)
            row.update(mean=m[0], ci_low=m[1], ci_high=m[2], iqm=q[0], iqm_ci_low=q[1], iqm_ci_high=q[2], note=m.note)
        rows.append(row)
    out = pd.DataFrame(rows, columns=columns)
    return out.astype({"n": "int64", "n_nan": "int64"})
