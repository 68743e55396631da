"""Optional bridge to rliable (``rliable.library.get_interval_estimates``).

Nothing else in :mod:`study.stats` depends on rliable; this module exists to
cross-check our numbers against the reference implementation. Importing
``rliable.library`` pulls in ``arch``, which can fail with errors other than
``ImportError`` (e.g. arch 7.2 under pandas 3 raises ``TypeError`` at import),
so availability is probed once and the reason kept in
:func:`rliable_import_error`.

rliable's ``StratifiedBootstrap`` draws its indices from numpy's *global*
random state (``np.random.choice``), not from ``random_state``. For a seeded,
side-effect-free call, :func:`rliable_interval_estimates` seeds the global state
and restores it afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

import numpy as np

from study.stats.aggregates import as_scores
from study.stats.bootstrap import Interval, check_confidence, check_n_boot

__all__ = ["rliable_available", "rliable_import_error", "rliable_interval_estimates"]

_RLIABLE_FUNCS = {
    "mean": "aggregate_mean",
    "median": "aggregate_median",
    "iqm": "aggregate_iqm",
    "optimality_gap": "aggregate_optimality_gap",
}


@functools.lru_cache(maxsize=1)
def _probe():
    try:
        from rliable import library, metrics  # noqa: PLC0415  (optional: it may fail at import; probed once)
    except Exception as err:  # noqa: BLE001 - any import-time failure means "not available"
        return None, None, f"{type(err).__name__}: {err}"
    return library, metrics, None


def rliable_available() -> bool:
    """True if ``rliable.library`` (and its ``arch`` dependency) imports cleanly."""
    return _probe()[0] is not None


def rliable_import_error() -> str | None:
    """Why ``rliable.library`` could not be imported, or None if it can."""
    return _probe()[2]


def rliable_interval_estimates(
    score_dict: Mapping[str, np.ndarray],
    statistic: str | Callable[[np.ndarray], float] = "iqm",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    method: str = "percentile",
    task_bootstrap: bool = False,
) -> dict[str, Interval]:
    """Point estimates and CIs computed by rliable's ``get_interval_estimates``.

    Args:
        score_dict: method name -> scores of shape (n_runs,) or (n_runs, n_tasks), no NaN.
            1-D arrays are passed to rliable as (n_runs, 1).
        statistic: ``"mean"``, ``"median"``, ``"iqm"``, ``"optimality_gap"`` (rliable's own
            ``metrics.aggregate_*``), or a callable (n_runs, n_tasks) -> scalar.
        n_boot: rliable ``reps``.
        confidence: rliable ``confidence_interval_size``.
        seed: seeds numpy's global RNG for the call (restored afterwards).
        method: any arch bootstrap method rliable accepts (``"percentile"``, ``"basic"``, ...).
        task_bootstrap: also resample tasks (rliable option).

    Returns:
        dict method name -> :class:`~study.stats.Interval` ``(point, lo, hi)``.

    Raises:
        ImportError: rliable is not importable (see :func:`rliable_import_error`).
    """
    library, metrics, error = _probe()
    if library is None:
        raise ImportError(f"rliable.library is not importable: {error}")
    n_boot = check_n_boot(n_boot)
    confidence = check_confidence(confidence)
    if isinstance(statistic, str):
        if statistic not in _RLIABLE_FUNCS:
            raise ValueError(f"statistic must be one of {sorted(_RLIABLE_FUNCS)} or a callable, got {statistic!r}")
        fn = getattr(metrics, _RLIABLE_FUNCS[statistic])
    elif callable(statistic):
        fn = statistic
    else:
        raise ValueError(f"statistic must be a name or a callable, got {statistic!r}")
    if not score_dict:
        raise ValueError("score_dict is empty")
    arrays = {key: as_scores(val, f"score_dict[{key!r}]") for key, val in score_dict.items()}

    state = np.random.get_state()
    try:
        np.random.seed(seed)
        points, intervals = library.get_interval_estimates(
            arrays,
            lambda s: np.array([fn(s)]),
            method=method,
            task_bootstrap=task_bootstrap,
            reps=n_boot,
            confidence_interval_size=confidence,
        )
    finally:
        np.random.set_state(state)
    out = {}
    for key, arr in arrays.items():
        lo, hi = np.asarray(intervals[key], dtype=np.float64).reshape(2)
        out[key] = Interval(np.asarray(points[key]).reshape(-1)[0], lo, hi, n=arr.shape[0],
                            confidence=confidence, method=f"rliable-{method}")
    return out
