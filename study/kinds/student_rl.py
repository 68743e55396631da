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
``method.student_timesteps`` (:data:`study.kinds.STUDENT_TIMESTEPS`): the student's env steps when they differ from
the teacher run's; ``total_timesteps`` is then the teacher run's alone (what
:meth:`study.config.ExperimentConfig.teacher_config` hands on). :func:`study.presets.preset` sets it for arms whose
``budget_share`` splits one budget between teacher and student (``hlrl_eq``, ``cosil_eq``); unset (every run before it
existed), the student trains for ``total_timesteps``.

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

import numpy as np
import torch as th

from sitt.algorithm import SITT
from sitt.baselines.cosil import COSIL, COSILConfig
from sitt.baselines.dwbc import DWBC as DWBCModel
from sitt.baselines.dwbc import DWBCConfig
from sitt.baselines.hlrl import HLRL as HLRLModel
from sitt.baselines.hlrl import HLRLConfig
from sitt.baselines.student_ppo import STUDENT, TEACHER
from sitt.baselines.student_rl import StudentRL, StudentRLConfig
from study import load, store
from study.kinds import Kind, TrainResult, publish_progress, sb3_logger, teacher_act
from study.kinds.sitt import make_sitt
from study.task import student_view_fn

METHOD_FILE = "method.json"


class StudentRLKind(Kind):
    """One method whose student learns by RL on its own view: ``model_class`` (its SB3 model: ``(teacher, env,
    student_obs_fn, **kw)`` with ``needs_teacher``, else ``(env, student_obs_fn, **kw)``) and ``method_config`` (its
    config dataclass). ``evaluates_privileged``: the run's own privileged policy is evaluated as its ``teacher``
    (DWBC's, trained; not the no-teacher control's shape donor). ``stores_student``: its ``student.pt`` reads back on
    the teacher run's policy (hlrl, cosil); the others store their own model class."""

    def __init__(self, name: str, model_class: type, method_config: type, needs_teacher: bool,
                 evaluates_privileged: bool = False):
        self.name = name
        self.model_class = model_class
        self.method_config = method_config
        self.needs_teacher = needs_teacher
        self.own_budget = needs_teacher  # a student trained on top of a teacher run has a budget of its own
        self.stores_policies = needs_teacher  # its student.pt reads back on the teacher run's policy
        self.evaluates_privileged = evaluates_privileged

    def make_model(self, config, env, task, teacher=None):
        kwargs = dict(config=self.check_method(config.method), seed=config.seed, device=config.device, verbose=0,
                      **config.ppo.sb3_kwargs(config.env.n_envs))
        if task.policy_kwargs:
            kwargs["policy_kwargs"] = dict(task.policy_kwargs)
        student_obs_fn = student_view_fn(task, env, config)
        if not self.needs_teacher:
            return self.model_class(env, student_obs_fn, **kwargs)
        if teacher is None:  # an untrained teacher of the teacher run's config
            teacher_config = config.teacher_config()
            teacher = make_sitt(teacher_config, task.train_env(teacher_config), task)
        return self.model_class(teacher, env, student_obs_fn, **kwargs)

    def stored_policies(self, run_dir, config, student_obs):
        """The ``student`` of an hlrl or cosil run (``student.pt`` on the teacher run's policy); dwbc and student_rl
        store their own model class, which is not read back."""
        if not self.stores_policies:
            return super().stored_policies(run_dir, config, student_obs)
        student = load.load_student(run_dir)
        return {"student": lambda obs, det: student.predict(student_obs(obs), deterministic=det)[0]}

    def train(self, config, task, tmp: Path, teacher_dir: Path | None) -> TrainResult:
        env = task.train_env(config)
        student_obs_fn = student_view_fn(task, env, config)
        teacher = SITT.load(teacher_dir / store.MODEL_FILE, device=config.device) if self.needs_teacher else None
        model = self.make_model(config, env, task, teacher)
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
    def act(obs: np.ndarray) -> np.ndarray:
        view = model.env.view(obs) if hasattr(model.env, "view") else {TEACHER: obs}
        tensors = {k: th.as_tensor(v, device=model.device) for k, v in view.items() if k in (TEACHER, STUDENT)}
        with th.no_grad():
            dist = model.policy.actor_distribution(tensors, acting="privileged")
            actions = dist.get_actions(deterministic=True)
        return actions.cpu().numpy().reshape((-1, *model.action_space.shape))

    return act


HLRL = StudentRLKind("hlrl", HLRLModel, HLRLConfig, needs_teacher=True)
COSIL = StudentRLKind("cosil", COSIL, COSILConfig, needs_teacher=True)
DWBC = StudentRLKind("dwbc", DWBCModel, DWBCConfig, needs_teacher=False, evaluates_privileged=True)
STUDENT_RL = StudentRLKind("student_rl", StudentRL, StudentRLConfig, needs_teacher=False)
