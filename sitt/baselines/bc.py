"""Behaviour cloning (BC): the student imitates a trained teacher on the teacher's own state distribution.

The paper's BC baseline: a standard (privileged-only) teacher is trained first (:func:`sitt.baselines.plain_teacher`),
then rolled out alone; every visited state is stored with both views (teacher observation, student observation) and
the student is fitted to the teacher's action distribution there (:func:`sitt.baselines.imitation.fit_student`). The
student never acts during data collection, so states its own mistakes would lead to are absent (the covariate shift
DAgger addresses).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

import numpy as np
import torch as th
from stable_baselines3.common.vec_env import VecEnv

from sitt.distributions import check_action_distance
from sitt.baselines.imitation import (
    StudentObsFn,
    evaluate_fit,
    fit_student,
    resolve_student_obs_fn,
    rollout,
    seed_streams,
    student_view,
    teacher_outputs,
    teacher_policy_of,
)
from sitt.baselines.student import StudentPolicy


def behaviour_cloning(
    teacher_model: Any,
    env: VecEnv,
    student_obs_fn: StudentObsFn | None = None,
    n_steps_per_env: int = 512,
    epochs: int = 20,
    batch_size: int | None = 256,
    lr: float = 1e-3,
    seed: int = 0,
    deterministic_teacher: bool = False,
    *,
    student: StudentPolicy | None = None,
    net_arch: Sequence[int] | None = None,
    action_distance: str = "raw",
) -> tuple[StudentPolicy, dict[str, Any]]:
    """Roll out the trained teacher, then fit a student to its action distributions on the visited states.

    :param teacher_model: the trained teacher: a SITT/PPO model (its ``.policy`` is used) or an ``ActorCriticPolicy``.
        Only read: acting and labelling use its policy without gradients.
    :param env: any SB3 ``VecEnv`` giving teacher observations (``Box``); seeded with ``env.seed(seed)`` and reset here,
        then stepped with its own auto-reset.
    :param student_obs_fn: teacher observations (N, *obs_shape) -> student observations (N, *student_shape), numpy;
        ``None`` = ``env.student_obs``. ``lambda o: o`` gives a fully observing student.
    :param n_steps_per_env: roll-out length per env; the dataset has ``n_steps_per_env * env.num_envs`` states.
    :param epochs: passes of Adam over the dataset.
    :param batch_size: minibatch size (``None``: full batch).
    :param lr: Adam's learning rate.
    :param seed: seeds the env, the teacher's action samples, a fresh student's initialisation and the minibatch order.
    :param deterministic_teacher: ``False`` (default): the teacher acts by sampling from its distribution, as it did
        when PPO trained it, so the data cover the states its stochastic policy visits; ``True``: its argmax / mean
        action (the states of its deterministic evaluation). The labels are its full distribution either way.
    :param student: a student to train further; ``None`` = a new :class:`StudentPolicy` from the teacher.
    :param net_arch: hidden sizes of a new student's encoder (``None``: a copy of the teacher's policy MLP).
    :param action_distance: how the loss and the agreement measure actions: ``"raw"`` (default, every committed run)
        or ``"clipped"`` (Box means clamped to the action bounds; :func:`sitt.distributions.executed_output`).
    :return: ``(student, info)``; ``info`` has ``dataset_size``, ``losses`` (per epoch), ``final_loss`` (mean KL on the
        dataset after fitting), ``agreement`` (on the dataset after fitting; argmax agreement for Discrete, mean
        exp(-KL) for Box), ``initial_agreement`` (before fitting), ``mean_reward`` (the teacher's mean step reward in
        the roll-out) and ``deterministic_teacher``.
    """
    check_action_distance(action_distance)
    policy = teacher_policy_of(teacher_model)
    student_obs_fn = resolve_student_obs_fn(env, student_obs_fn)
    env_seed, torch_seed, init_seed, fit_seed = seed_streams(seed, 4)
    env.seed(env_seed)
    data = rollout(
        env, policy, n_steps_per_env, beta=1.0, deterministic_teacher=deterministic_teacher,
        rng=np.random.default_rng(env_seed), generator=th.Generator().manual_seed(torch_seed),
    )
    teacher_obs = data.teacher_obs  # (N, *obs_shape)
    student_obs = student_view(student_obs_fn, teacher_obs)  # (N, *student_shape)
    if student is None:
        student = StudentPolicy(policy, student_obs_shape=student_obs.shape[1:], net_arch=net_arch, seed=init_seed)
    labels = teacher_outputs(policy, teacher_obs)  # (N, K)
    before = evaluate_fit(student, policy, student_obs, teacher_obs, labels, action_distance=action_distance)
    losses = fit_student(student, policy, student_obs, teacher_obs, epochs, batch_size, lr, fit_seed,
                         teacher_out=labels, action_distance=action_distance)
    after = evaluate_fit(student, policy, student_obs, teacher_obs, labels, action_distance=action_distance)
    info = {
        "dataset_size": len(teacher_obs),
        "losses": losses,
        "final_loss": after["loss"],
        "agreement": after["agreement"],
        "initial_agreement": before["agreement"],
        "mean_reward": float(data.rewards.mean()),
        "deterministic_teacher": deterministic_teacher,
    }
    return student, info
