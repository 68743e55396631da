"""Sweep planning: the configs of the tasks' sweep plans (:attr:`study.task.Task.sweeps`), what ``make reproduce``
and ``python -m study.sweep --plan`` train.
"""

from __future__ import annotations

from collections.abc import Iterable

from study.config import ExperimentConfig
from study.params import parse_seeds
from study.presets import experiment_arms, experiment_configs
from study.registry import get_task


def plan_configs(task_names: Iterable[str], profile: str, seeds: str | None = None) -> list[ExperimentConfig]:
    """The configs of the sweep plans of ``task_names`` under ``profile``, seed-major within each plan.

    :param task_names: registered task names, in the order their plans run.
    :param profile: the profile (``smoke``, ``default``, ...; an experiment with its own profile keeps it).
    :param seeds: a seed spec replacing each plan's own seeds (the smoke profile's few seeds); None: the plans'.
    """
    out = []
    for name in task_names:
        for plan in get_task(name).sweeps:
            chosen = parse_seeds(seeds if seeds is not None else plan.seeds)
            configs = [c for e in plan.experiments for c in experiment_configs(
                e, profile, chosen, [a for a in plan.arms if a in experiment_arms(e)] if plan.arms else None)]
            configs.sort(key=lambda c: c.seed)
            out += configs
    return out


__all__ = ["plan_configs"]
