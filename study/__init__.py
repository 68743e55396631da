"""The study: experiments as data, a run store, sweeps, statistics, tables, claims, figures and the report, generic
over tasks (environments) through :class:`study.task.Task`.

* :mod:`~study.task` the task protocol; :mod:`~study.registry` the task and training-kind registries;
* :mod:`~study.config`: :class:`ExperimentConfig` (task, arm, kind, recipe and switches, the task's env and eval
  configs, PPO, budget, seed, imitation), validated and JSON round-trippable;
* :mod:`~study.presets`: :class:`ArmSpec`, :class:`Profile`, :func:`preset`, :func:`experiment_configs` over every
  task's arms, profiles and experiments;
* :mod:`~study.run`: :func:`run_one` trains (the config's kind, :mod:`study.kinds`), evaluates on the task's fixed
  held-out set and writes a complete run directory atomically (marker last);
* :mod:`~study.store`: file names, atomic writes, the marker, provenance; :mod:`~study.load`: the one reader;
* :mod:`~study.sweep`: many configs in parallel processes (CLI: ``python -m study.sweep``);
* :mod:`~study.stats`, :mod:`~study.tables`, :mod:`~study.claims`, :mod:`~study.figures`, :mod:`~study.report`,
  :mod:`~study.readme`: from evaluation rows to the report; :mod:`~study.policy_modes`: stored policies re-evaluated
  with sampled actions; :mod:`~study.plan`: the sweep plans' configs; :mod:`~study.probes`: tuning probes read side
  by side; :mod:`~study.writers`: tables and figures written; :mod:`~study.io` (the notebooks' facade, the one
  module that starts a sweep from a notebook), :mod:`~study.params`, :mod:`~study.paths`: what notebooks use.
"""

from study.config import ExperimentConfig, ImitationConfig, PPOConfig
from study.load import (
    complete_runs,
    load_config,
    load_configs,
    load_eval,
    load_model,
    load_positions,
    load_progress,
    load_student,
)
from study.presets import (COMMON_ARMS, ArmSpec, Profile, experiment_arms, experiment_configs, experiment_profile,
                           experiments, preset, task_of)
from study.registry import get_kind, get_task, register_task
from study.run import StaleRunError, run_one
from study.store import MARKER, atomic_write_bytes, atomic_write_json, atomic_write_text, is_complete, provenance
from study.task import Claim, HeldOut, Metric, TableMetric, Task

# The sweep module is imported on first use (``python -m study.sweep`` must not find it loaded already).
_LAZY = {"run_sweep": "sweep", "SweepReport": "SweepReport"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib  # noqa: PLC0415  (the lazy sweep: python -m study.sweep must not find it loaded)

        return getattr(importlib.import_module("study.sweep"), _LAZY[name])
    raise AttributeError(f"module 'study' has no attribute {name!r}")


__all__ = [
    "COMMON_ARMS", "ArmSpec", "Claim", "ExperimentConfig", "HeldOut", "ImitationConfig", "MARKER", "Metric",
    "PPOConfig",
    "Profile", "StaleRunError", "SweepReport", "TableMetric", "Task", "atomic_write_bytes", "atomic_write_json",
    "atomic_write_text", "complete_runs", "experiment_arms", "experiment_configs", "experiment_profile", "experiments",
    "get_kind",
    "get_task", "is_complete", "load_config", "load_configs", "load_eval", "load_model", "load_positions",
    "load_progress", "load_student", "preset", "provenance", "register_task", "run_one", "run_sweep", "task_of",
]
