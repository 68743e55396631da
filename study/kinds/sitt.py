"""The ``sitt`` training kind: a :class:`sitt.SITT` model (SITT, its ablations, the plain and without-alignment
teachers) trained on the task's training env; writes ``progress.csv`` and ``model.zip``."""

from __future__ import annotations

import time
from pathlib import Path

from study import load, store
from study.kinds import Kind, TrainResult, publish_progress, sb3_logger, teacher_act
from study.task import student_view_fn


def make_sitt(config, env, task):
    """The untrained SITT model of a ``kind="sitt"`` config on ``env`` (the task's policy and info keywords)."""
    from sitt.algorithm import SITT  # noqa: PLC0415  (torch-heavy: imported when a model is built)

    kwargs = dict(policy_kwargs=dict(task.policy_kwargs)) if task.policy_kwargs else {}
    return SITT(
        task.policy,
        env,
        recipe=config.recipe,
        **config.switches,
        **config.ppo.sb3_kwargs(config.env.n_envs),
        **kwargs,
        info_keywords=task.info_keywords,
        student_obs_fn=student_view_fn(task, env, config),
        seed=config.seed,
        device=config.device,
        verbose=0,
    )


class SITTKind(Kind):
    name = "sitt"
    stores_policies = True

    def make_model(self, config, env, task, teacher=None):
        return make_sitt(config, env, task)

    def train(self, config, task, tmp: Path, teacher_dir: Path | None) -> TrainResult:
        env = task.train_env(config)
        model = self.make_model(config, env, task)
        log_dir = tmp / "_log"
        logger = sb3_logger(log_dir, tmp / "tensorboard" if config.tensorboard else None)
        model.set_logger(logger)
        t0 = time.perf_counter()
        model.learn(total_timesteps=config.total_timesteps, progress_bar=False)
        train_s = time.perf_counter() - t0
        logger.close()
        publish_progress(log_dir, tmp)
        store.atomic_write_with(tmp / store.MODEL_FILE, lambda p: model.save(p), suffix=".zip")
        policies = {"teacher": teacher_act(model)}
        if model.nets is not None:
            student_obs_fn = student_view_fn(task, env, config)
            policies["student"] = lambda obs: model.predict_student(student_obs_fn(obs), deterministic=True)[0]
        return TrainResult(policies, train_s, int(model.num_timesteps), env)

    def stored_policies(self, run_dir, config, student_obs):
        """The run's ``teacher`` and, when it trains one, its ``student`` (``model.zip``)."""
        model = load.load_model(run_dir)
        acts = {"teacher": lambda obs, det: model.predict(obs, deterministic=det)[0]}
        if model.student is not None:
            acts["student"] = lambda obs, det: model.predict_student(student_obs(obs), deterministic=det)[0]
        return acts


KIND = SITTKind()
