"""Statistics for SITT results: rliable-style aggregates and seeded bootstrap intervals.

Shapes follow rliable: scores are ``(n_runs,)`` or ``(n_runs, n_tasks)`` arrays
(runs = training seeds, tasks = e.g. eval mazes). Point estimates reject NaN;
interval functions drop NaN runs and report ``n``. Intervals are returned as
:class:`Interval`, a ``(point, lo, hi)`` tuple with ``n``/``n_dropped``/``note``
attributes. Nothing here requires rliable; :mod:`study.stats.rliable_compat`
bridges to it for cross-checks.

Modules:
    aggregates: mean, median, iqm, optimality_gap.
    bootstrap: bootstrap_ci, bootstrap_ci_table.
    comparison: probability_of_improvement(_ci), difference_ci, proportion_ci.
    rliable_compat: rliable_available, rliable_interval_estimates.
"""

from study.stats.aggregates import iqm, mean, median, optimality_gap
from study.stats.bootstrap import DegenerateIntervalWarning, Interval, bootstrap_ci, bootstrap_ci_table
from study.stats.comparison import (
    difference_ci,
    probability_of_improvement,
    probability_of_improvement_ci,
    proportion_ci,
)
from study.stats.rliable_compat import rliable_available, rliable_import_error, rliable_interval_estimates

__all__ = [
    "mean",
    "median",
    "iqm",
    "optimality_gap",
    "Interval",
    "DegenerateIntervalWarning",
    "bootstrap_ci",
    "bootstrap_ci_table",
    "probability_of_improvement",
    "probability_of_improvement_ci",
    "difference_ci",
    "proportion_ci",
    "rliable_available",
    "rliable_import_error",
    "rliable_interval_estimates",
]
