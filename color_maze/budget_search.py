"""The color maze's budget search: the probes that chose the maze's default schedule, read side by side.

Its experiments are ``budget_search*`` and the tagged copies (``<experiment>-<tag>``, ``python -m study.sweep
--tag``) of the maze's experiments; another task's tagged runs (its tuning probes, :mod:`study.probes`) are not the
maze's budget search. Notebook ``10_budget_search`` tabulates them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from study.load import list_experiments
from study.presets import experiments
from study.probes import load_probes
from study.task import base_experiment


def budget_experiments(root: str | Path) -> list[str]:
    """Experiments under ``root`` that belong to the maze's budget search: ``budget_search*`` and tagged copies of
    the maze's experiments."""
    maze = {name for name, (task, _) in experiments().items() if task == "color_maze"}
    return [e for e in list_experiments(root)
            if e.startswith("budget") or ("-" in e and base_experiment(e) in maze)]


def load_budget_search(root: str | Path, profile: str | None = None
                       ) -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """:func:`study.probes.load_probes` of the maze's budget search (:func:`budget_experiments`)."""
    return load_probes(root, budget_experiments(root), profile, what="budget-search ('budget_search*' or tagged)")


__all__ = ["budget_experiments", "load_budget_search"]
