"""The experiment layer: experiments as data, a run store, sweeps.

* :mod:`~study.config`: :class:`ExperimentConfig` (arm, recipe and switches, env, PPO, budget, seed,
  evaluation, imitation), validated and JSON round-trippable;
* :mod:`~study.presets`: :data:`ARMS`, :data:`PROFILES` (smoke, default, release), :data:`EXPERIMENTS`,
  :func:`preset`, :func:`experiment_configs`;
* :mod:`~study.run`: :func:`run_one` trains, evaluates on the fixed held-out mazes and writes a complete
  run directory atomically (marker last);
* :mod:`~study.store`: atomic writes, the marker, provenance;
* :mod:`~study.sweep`: ``sweep`` (exported here as :func:`run_sweep`) runs many configs in parallel
  processes (CLI: ``python -m study.sweep``);
* :mod:`~study.load`: :func:`load_eval`, :func:`load_progress`, :func:`load_positions`, :func:`eval_grids`,
  :func:`per_seed_summary`.
"""

from study.config import EnvConfig, EvalConfig, ExperimentConfig, ImitationConfig, PPOConfig
from study.load import (
    eval_grids,
    load_config,
    load_configs,
    load_eval,
    load_model,
    load_positions,
    load_progress,
    load_student,
    per_seed_summary,
)
from study.presets import (
    ARMS,
    DEFAULT_PROFILE,
    EXPERIMENTS,
    PROFILES,
    ArmSpec,
    Profile,
    experiment_configs,
    preset,
)
from study.run import StaleRunError, run_one
from study.store import MARKER, atomic_write_bytes, atomic_write_json, atomic_write_text, is_complete, provenance

# The sweep module is imported on first use (``python -m study.sweep`` must not find it loaded already).
# ``study.sweep`` is that module; its function is exported here as ``run_sweep``.
_LAZY = {"run_sweep": "sweep", "SweepReport": "SweepReport"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module("study.sweep"), _LAZY[name])
    raise AttributeError(f"module 'study' has no attribute {name!r}")


__all__ = [
    "ARMS",
    "ArmSpec",
    "DEFAULT_PROFILE",
    "EXPERIMENTS",
    "EnvConfig",
    "EvalConfig",
    "ExperimentConfig",
    "ImitationConfig",
    "MARKER",
    "PPOConfig",
    "PROFILES",
    "Profile",
    "StaleRunError",
    "SweepReport",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "eval_grids",
    "experiment_configs",
    "is_complete",
    "load_config",
    "load_configs",
    "load_eval",
    "load_model",
    "load_positions",
    "load_progress",
    "load_student",
    "per_seed_summary",
    "preset",
    "provenance",
    "run_one",
    "run_sweep",
]
