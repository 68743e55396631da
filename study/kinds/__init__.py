"""Training kinds: how a run of the study is trained. One module each, looked up in :data:`study.registry.KINDS`.

A kind is an object with

* ``name`` and ``needs_teacher`` (True: the run uses the trained teacher of the run ``config.teacher_config()``, which
  :func:`study.run.run_one` makes sure is complete first);
* ``train(config, task, tmp, teacher_dir) -> TrainResult``: trains into the temporary run directory ``tmp`` (writes
  its own files there: ``model.zip``, ``progress.csv``, ...) and returns the act functions to evaluate.

:func:`study.run.run_one` does the rest for every kind: config, evaluation on the task's held-out set, provenance,
the marker, the atomic publish.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from study import store


@dataclass
class TrainResult:
    """What a kind hands back: ``policies`` ({"teacher": act, "student": act}, each teacher observations -> actions),
    the training wall time ``train_s``, the env steps it took (``env_steps``), the training env (for the task's
    provenance) and extra provenance fields (``record``)."""

    policies: dict[str, Callable[[np.ndarray], np.ndarray]]
    train_s: float
    env_steps: int
    train_env: Any
    record: dict[str, Any] = field(default_factory=dict)


def teacher_act(model) -> Callable[[np.ndarray], np.ndarray]:
    """The deterministic teacher of an SB3 model."""
    return lambda obs: model.predict(obs, deterministic=True)[0]


def sb3_logger(log_dir: Path, tensorboard_dir: Path | None):
    """SB3's logger writing ``progress.csv`` into ``log_dir`` (and tensorboard logs when asked)."""
    from stable_baselines3.common.logger import Logger, make_output_format

    formats = [make_output_format("csv", str(log_dir))]
    if tensorboard_dir is not None:
        formats.append(make_output_format("tensorboard", str(tensorboard_dir)))
    return Logger(folder=str(log_dir), output_formats=formats)


def publish_progress(log_dir: Path, tmp: Path) -> None:
    """Move SB3's ``progress.csv`` from ``log_dir`` into the run (an empty file when nothing was logged)."""
    progress = log_dir / "progress.csv"
    if not progress.exists():  # no iteration was logged (cannot happen with a validated budget); keep the schema
        progress.write_text("")
    store.publish_file(progress, tmp / store.PROGRESS_FILE)
    shutil.rmtree(log_dir, ignore_errors=True)


__all__ = ["TrainResult", "publish_progress", "sb3_logger", "teacher_act"]
