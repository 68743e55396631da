"""Training kinds: how a run of the study is trained. One module each, registered by name in
:data:`study.registry.KINDS` (a new kind = its module + one registry line).

A kind is an instance of a :class:`Kind` subclass (the protocol, with its defaults):

* ``name``, ``needs_teacher`` (True: the run uses the trained teacher of the run ``config.teacher_config()``, which
  :func:`study.run.run_one` makes sure is complete first), ``method_config`` (the dataclass of the run's own settings,
  ``ExperimentConfig.method``, or None), ``own_budget`` (it takes ``method.student_timesteps``: its student's own env
  steps beside its teacher run's) and ``late_wave`` (its runs read other runs of the store when they start, so a
  sweep runs them after every other run);
* :meth:`Kind.train`: trains into the temporary run directory ``tmp`` (writes its own files there: ``model.zip``,
  ``progress.csv``, ...) and returns the act functions to evaluate (:class:`TrainResult`);
* :meth:`Kind.make_model`: the untrained SB3 model a run of the kind would train (speed probes);
* :meth:`Kind.stored_policies`: the policies a complete run stored, read back (:mod:`study.policy_modes`).

:func:`study.run.run_one` does the rest for every kind: config, evaluation on the task's held-out set, provenance,
the marker, the atomic publish.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from collections.abc import Callable

import numpy as np

from study import store

#: an act function of a stored policy: teacher observations (N, *obs_shape) and ``deterministic`` -> actions
PolicyAct = Callable[[np.ndarray, bool], np.ndarray]

#: the field of ``ExperimentConfig.method`` a kind with :attr:`Kind.own_budget` takes: its student's env steps (None:
#: ``total_timesteps``, the teacher run's)
STUDENT_TIMESTEPS = "student_timesteps"


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


class Kind:
    """How a run of the study is trained (the module docstring). Subclass it, set the class attributes (or instance
    attributes, for one class serving several methods) and define :meth:`train`.

    :cvar name: the registry name (``"sitt"``), also written into every run's config (``kind``).
    :cvar needs_teacher: the run imitates (or learns from) the trained teacher of the run ``teacher_from``.
    :cvar method_config: the dataclass of the run's own settings (``ExperimentConfig.method``; a ``validate()``
        returning itself and raising ``ValueError`` naming the field), or None: the kind takes none.
    :cvar own_budget: the kind takes :data:`STUDENT_TIMESTEPS` in ``method``: its student's own env steps, beside the
        teacher run's ``total_timesteps`` (equal budgets, :func:`study.presets.preset`).
    :cvar late_wave: its runs read other runs of the store when they start (a fixed teacher that is a stored student):
        a sweep runs them after every other run (:func:`study.sweep.late_waves`).
    :cvar stores_policies: its complete runs give back their policies (:meth:`stored_policies`).
    """

    name: ClassVar[str] = ""
    needs_teacher: ClassVar[bool] = False
    method_config: ClassVar[type | None] = None
    own_budget: ClassVar[bool] = False
    late_wave: ClassVar[bool] = False
    stores_policies: ClassVar[bool] = False

    # ------------------------------------------------------------------ the run's own settings

    def method_fields(self) -> list[str]:
        """The names ``ExperimentConfig.method`` accepts: the fields of :attr:`method_config` (and
        :data:`STUDENT_TIMESTEPS` with :attr:`own_budget`)."""
        own = [STUDENT_TIMESTEPS] if self.own_budget else []
        if self.method_config is None:
            return own
        return [f.name for f in dataclasses.fields(self.method_config)] + own

    def check_method(self, method: dict[str, Any], task: Any = None) -> Any:
        """The run's validated :attr:`method_config` from ``ExperimentConfig.method`` (None for a kind without one);
        ``ValueError`` naming ``method.<field>`` and the allowed values. ``task`` (the run's task, when known) lets a
        kind check names the task defines."""
        if self.method_config is None:
            if method:
                raise ValueError(f"method: got {method!r}; allowed: {{}} (kind {self.name!r} has no method config)")
            return None
        names = [f.name for f in dataclasses.fields(self.method_config)]
        own = self.method_fields()[len(names):]
        unknown = sorted(set(method) - set(names) - set(own))
        if unknown:
            raise ValueError(f"method.{unknown[0]}: unknown field of {self.method_config.__name__}; allowed: "
                             f"{', '.join(names + own)}")
        steps = method.get(STUDENT_TIMESTEPS) if own else None
        if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
            raise ValueError(f"method.{STUDENT_TIMESTEPS}: got {steps!r}; allowed: None (total_timesteps) or an "
                             "integer >= 1 (the student's env steps; total_timesteps is then the teacher run's)")
        try:
            return self.validate_method(self.method_config(**{k: v for k, v in method.items() if k in names}), task)
        except ValueError as exc:
            raise ValueError(f"method.{exc}") from None

    def validate_method(self, settings: Any, task: Any = None) -> Any:
        """``settings.validate()``; a kind whose settings name things of the task overrides it."""
        return settings.validate()

    def student_timesteps(self, config) -> int:
        """The student's own env steps: ``method.student_timesteps`` when set (:attr:`own_budget`), else
        ``total_timesteps``."""
        steps = dict(config.method).get(STUDENT_TIMESTEPS) if self.own_budget else None
        return config.total_timesteps if steps is None else int(steps)

    # ------------------------------------------------------------------ training

    def train(self, config, task, tmp: Path, teacher_dir: Path | None) -> TrainResult:
        """Train the run ``config`` of ``task`` into the temporary run directory ``tmp`` (``teacher_dir``: the
        complete teacher run, for :attr:`needs_teacher`); the act functions to evaluate and what to record."""
        raise NotImplementedError

    def make_model(self, config, env, task, teacher=None) -> Any:
        """The untrained SB3 model a run of ``config`` would train on ``env`` (``teacher``: the teacher model of a
        kind that :attr:`needs_teacher`; None: an untrained one). ``ValueError`` for a kind that trains no SB3
        model."""
        raise ValueError(f"kind: got {self.name!r}; allowed: a kind that trains an SB3 model")

    def stored_policies(self, run_dir: Path, config, student_obs: Callable[[np.ndarray], np.ndarray]
                        ) -> dict[str, PolicyAct]:
        """``{policy: act(obs, deterministic)}`` of a complete run of this kind, read from its stored files
        (``student_obs``: teacher observations -> the run's student view), for a kind that :attr:`stores_policies`;
        ``ValueError`` naming the kind for any other."""
        raise ValueError(f"kind: {self.name!r} stores no policy that reads back")


def teacher_act(model) -> Callable[[np.ndarray], np.ndarray]:
    """The deterministic teacher of an SB3 model."""
    return lambda obs: model.predict(obs, deterministic=True)[0]


def sb3_logger(log_dir: Path, tensorboard_dir: Path | None):
    """SB3's logger writing ``progress.csv`` into ``log_dir`` (and tensorboard logs when asked)."""
    from stable_baselines3.common.logger import Logger, make_output_format  # noqa: PLC0415  (SB3 imports torch)

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


__all__ = ["Kind", "PolicyAct", "STUDENT_TIMESTEPS", "TrainResult", "publish_progress", "sb3_logger", "teacher_act"]
