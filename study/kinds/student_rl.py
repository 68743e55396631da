"""The ``hlrl``, ``cosil`` and ``dwbc`` training kinds: the student is trained by reinforcement learning on its own
view (:mod:`sitt.baselines.hlrl`, :mod:`sitt.baselines.cosil`, :mod:`sitt.baselines.dwbc`).

* ``hlrl`` and ``cosil`` use the trained teacher of the run ``teacher_from`` (the plain teacher of the
  ``without_alignment`` run of the same seed: only the student-side method differs) and train the student for
  ``total_timesteps`` env steps; the budget is then the teacher's steps plus the student's (both recorded in
  provenance: ``teacher_env_steps``, ``env_steps``, ``total_env_steps``).
* ``dwbc`` trains its own privileged policy and adaptation encoder together for ``total_timesteps`` env steps in all
  (as a SITT run does: one budget for teacher and student).

The method's own hyper-parameters come from the config's ``method`` mapping (fields of :class:`HLRLConfig`,
:class:`COSILConfig` or :class:`DWBCConfig`, validated with the prefix ``method.``; empty: the originals' defaults).

Files: ``progress.csv`` (SB3's log, with the method's ``hlrl/``, ``cosil/``, ``dwbc/`` entries), ``student.pt``
(:class:`sitt.student.StudentPolicy`), ``model.zip`` (hlrl, cosil: a copy of the teacher run's; dwbc: the whole
DWBC model, privileged policy and adaptation encoder), ``method.json`` (the method's config and per-iteration
history).
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


def _method(name: str):
    """(model class, config class) of a method."""
    if name == "hlrl":
        from sitt.baselines.hlrl import HLRL, HLRLConfig

        return HLRL, HLRLConfig
    if name == "cosil":
        from sitt.baselines.cosil import COSIL, COSILConfig

        return COSIL, COSILConfig
    from sitt.baselines.dwbc import DWBC, DWBCConfig

    return DWBC, DWBCConfig


class StudentRLKind:
    """One of ``hlrl``, ``cosil`` (``needs_teacher``) and ``dwbc``."""

    def __init__(self, name: str, needs_teacher: bool):
        self.name = name
        self.needs_teacher = needs_teacher

    def method_fields(self) -> list[str]:
        """The names ``ExperimentConfig.method`` accepts (the fields of the method's config dataclass)."""
        return [f.name for f in dataclasses.fields(_method(self.name)[1])]

    def method_config(self, method: dict[str, Any]):
        """The method's validated config from ``ExperimentConfig.method``; ``ValueError`` naming ``method.<field>``."""
        _, config_class = _method(self.name)
        names = {f.name for f in dataclasses.fields(config_class)}
        unknown = sorted(set(method) - names)
        if unknown:
            raise ValueError(f"method.{unknown[0]}: unknown field of {config_class.__name__}; allowed: "
                             f"{', '.join(sorted(names))}")
        try:
            return config_class(**method).validate()
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
        model.learn(config.total_timesteps)
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
        policies = {
            "teacher": teacher_act(teacher) if teacher is not None else privileged_act(model),
            "student": lambda obs: student.predict(student_obs_fn(obs), deterministic=True)[0],
        }
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
DWBC = StudentRLKind("dwbc", needs_teacher=False)
