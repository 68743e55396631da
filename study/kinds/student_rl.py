"""The ``hlrl``, ``cosil``, ``dwbc`` and ``student_rl`` training kinds: the student is trained by reinforcement
learning on its own view (:mod:`sitt.baselines.hlrl`, :mod:`sitt.baselines.cosil`, :mod:`sitt.baselines.dwbc`,
:mod:`sitt.baselines.student_rl`).

* ``hlrl`` and ``cosil`` use the trained teacher of the run ``teacher_from`` (the plain teacher of the
  ``without_alignment`` run of the same seed: only the student-side method differs) and train the student for
  ``total_timesteps`` env steps; the budget is then the teacher's steps plus the student's (both recorded in
  provenance: ``teacher_env_steps``, ``env_steps``, ``total_env_steps``).
* ``dwbc`` trains its own privileged policy and adaptation encoder together for ``total_timesteps`` env steps in all
  (as a SITT run does: one budget for teacher and student).
* ``student_rl`` (the no-teacher control, :mod:`sitt.baselines.student_rl`): PPO on the student's view alone with
  HLRL's asymmetric critic, ``total_timesteps`` env steps, no teacher; only its student is evaluated (its privileged
  actor is an untrained shape donor).

Equal budgets (``fair_comparison.md`` section 1): ``hlrl`` and ``cosil`` also take the kind's own field
``method.student_timesteps`` (:data:`STUDENT_TIMESTEPS`): the student's env steps when they differ from the teacher
run's; ``total_timesteps`` is then the teacher run's alone (what :meth:`study.config.ExperimentConfig.teacher_config`
hands on). :func:`study.presets.preset` sets it for arms whose ``budget_share`` splits one budget between teacher and
student (``hlrl_eq``, ``cosil_eq``); unset (every run before it existed), the student trains for ``total_timesteps``.

The method's own hyper-parameters come from the config's ``method`` mapping (fields of :class:`HLRLConfig`,
:class:`COSILConfig` or :class:`DWBCConfig`, validated with the prefix ``method.``; empty: the originals' defaults).

Files: ``progress.csv`` (SB3's log, with the method's ``hlrl/``, ``cosil/``, ``dwbc/`` entries), ``student.pt``
(:class:`sitt.student.StudentPolicy`), ``model.zip`` (hlrl, cosil: a copy of the teacher run's; dwbc: the whole
DWBC model, privileged policy and adaptation encoder; student_rl: the whole model, critic and student),
``method.json`` (the method's config and per-iteration history).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch as th

from study import store
from study.task import student_view_fn
from study.kinds import TrainResult, publish_progress, sb3_logger, teacher_act

METHOD_FILE = "method.json"
#: the kind's own field of ``ExperimentConfig.method`` for kinds with a teacher run: the student's env steps (None:
#: ``total_timesteps``, the teacher run's)
STUDENT_TIMESTEPS = "student_timesteps"


def _method(name: str):
    """(model class, config class) of a method."""
    if name == "hlrl":
        from sitt.baselines.hlrl import HLRL, HLRLConfig

        return HLRL, HLRLConfig
    if name == "cosil":
        from sitt.baselines.cosil import COSIL, COSILConfig

        return COSIL, COSILConfig
    if name == "student_rl":
        from sitt.baselines.student_rl import StudentRL, StudentRLConfig

        return StudentRL, StudentRLConfig
    from sitt.baselines.dwbc import DWBC, DWBCConfig

    return DWBC, DWBCConfig


class StudentRLKind:
    """One of ``hlrl``, ``cosil`` (``needs_teacher``), ``dwbc`` and ``student_rl``. ``evaluates_privileged``: the run's
    own privileged policy is evaluated as its ``teacher`` (DWBC's, trained; not the control's shape donor)."""

    def __init__(self, name: str, needs_teacher: bool, evaluates_privileged: bool = False):
        self.name = name
        self.needs_teacher = needs_teacher
        self.evaluates_privileged = evaluates_privileged

    def _own_fields(self) -> list[str]:
        return [STUDENT_TIMESTEPS] if self.needs_teacher else []

    def method_fields(self) -> list[str]:
        """The names ``ExperimentConfig.method`` accepts: the fields of the method's config dataclass and, for kinds
        with a teacher run, :data:`STUDENT_TIMESTEPS`."""
        return [f.name for f in dataclasses.fields(_method(self.name)[1])] + self._own_fields()

    def student_timesteps(self, config) -> int:
        """The student's own env steps: ``method.student_timesteps`` when set, else ``total_timesteps``."""
        steps = dict(config.method).get(STUDENT_TIMESTEPS) if self.needs_teacher else None
        return config.total_timesteps if steps is None else int(steps)

    def method_config(self, method: dict[str, Any]):
        """The method's validated config from ``ExperimentConfig.method`` (less :data:`STUDENT_TIMESTEPS`, checked
        here); ``ValueError`` naming ``method.<field>``."""
        _, config_class = _method(self.name)
        names = {f.name for f in dataclasses.fields(config_class)}
        own = self._own_fields()
        unknown = sorted(set(method) - names - set(own))
        if unknown:
            raise ValueError(f"method.{unknown[0]}: unknown field of {config_class.__name__}; allowed: "
                             f"{', '.join(sorted(names) + own)}")
        steps = method.get(STUDENT_TIMESTEPS) if own else None
        if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
            raise ValueError(f"method.{STUDENT_TIMESTEPS}: got {steps!r}; allowed: None (total_timesteps) or an "
                             "integer >= 1 (the student's env steps; total_timesteps is then the teacher run's)")
        try:
            return config_class(**{k: v for k, v in method.items() if k in names}).validate()
        except ValueError as exc:
            raise ValueError(f"method.{exc}") from None

    def train(self, config, task, tmp: Path, teacher_dir: Path | None) -> TrainResult:
        from sitt.algorithm import SITT

        model_class, _ = _method(self.name)
        env = task.train_env(config)
        student_obs_fn = student_view_fn(task, env, config)
        kwargs = dict(config=self.method_config(config.method), seed=config.seed, device=config.device, verbose=0,
                      **config.ppo.sb3_kwargs(config.env.n_envs))
        if task.policy_kwargs:
            kwargs["policy_kwargs"] = dict(task.policy_kwargs)
        teacher = None
        if self.needs_teacher:
            teacher = SITT.load(teacher_dir / store.MODEL_FILE, device=config.device)
            model = model_class(teacher, env, student_obs_fn, **kwargs)
        else:
            model = model_class(env, student_obs_fn, **kwargs)
        log_dir = tmp / "_log"
        logger = sb3_logger(log_dir, tmp / "tensorboard" if config.tensorboard else None)
        model.set_logger(logger)
        t0 = time.perf_counter()
        model.learn(self.student_timesteps(config))
        train_s = time.perf_counter() - t0
        logger.close()
        publish_progress(log_dir, tmp)
        student = model.student
        store.atomic_write_with(tmp / store.STUDENT_FILE, lambda p: student.save(p), suffix=".pt")
        if teacher is not None:
            store.atomic_write_with(
                tmp / store.MODEL_FILE, lambda p: shutil.copyfile(teacher_dir / store.MODEL_FILE, p), suffix=".zip")
        else:
            store.atomic_write_with(tmp / store.MODEL_FILE, lambda p: model.save(p), suffix=".zip")
        teacher_steps = int(getattr(teacher, "num_timesteps", 0) or 0)
        store.atomic_write_json(tmp / METHOD_FILE, dict(
            method=self.name, config=dataclasses.asdict(model.config), iterations=int(model.iteration),
            history={k: list(v) for k, v in model.history.items()}))
        policies = {}
        if teacher is not None:
            policies["teacher"] = teacher_act(teacher)
        elif self.evaluates_privileged:
            policies["teacher"] = privileged_act(model)
        policies["student"] = lambda obs: student.predict(student_obs_fn(obs), deterministic=True)[0]
        record = dict(teacher_env_steps=teacher_steps, total_env_steps=int(model.num_timesteps) + teacher_steps)
        if teacher is not None:
            record["teacher_run"] = {"run_dir": str(teacher_dir), "run_id": config.teacher_config().run_id}
        return TrainResult(policies, train_s, int(model.num_timesteps), env, record)


def privileged_act(model):
    """DWBC's privileged policy (its privileged encoder and the shared decoder), deterministic, on teacher
    observations."""
    from sitt.baselines.student_ppo import STUDENT, TEACHER

    def act(obs: np.ndarray) -> np.ndarray:
        view = model.env.view(obs) if hasattr(model.env, "view") else {TEACHER: obs}
        tensors = {k: th.as_tensor(v, device=model.device) for k, v in view.items() if k in (TEACHER, STUDENT)}
        with th.no_grad():
            dist = model.policy.actor_distribution(tensors, acting="privileged")
            actions = dist.get_actions(deterministic=True)
        return actions.cpu().numpy().reshape((-1, *model.action_space.shape))

    return act


HLRL = StudentRLKind("hlrl", needs_teacher=True)
COSIL = StudentRLKind("cosil", needs_teacher=True)
DWBC = StudentRLKind("dwbc", needs_teacher=False, evaluates_privileged=True)
STUDENT_RL = StudentRLKind("student_rl", needs_teacher=False)
