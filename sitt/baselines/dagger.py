"""DAgger (Ross, Gordon and Bagnell, 2011): the student learns on the states it visits itself, labelled by the teacher.

Iteration ``i`` (0-based):

1. roll out a mixture: per step and env, the teacher acts with probability ``beta_i = beta0 * beta_decay**i``,
   otherwise the current student acts on its student observation (:func:`sitt.baselines.imitation.rollout`);
2. record the visited states' *teacher* observations (and the student views of them);
3. label them with the teacher's action distribution (its ``model.policy``, deterministic head outputs, no gradient);
4. aggregate: the new states join those of all earlier iterations (the dataset only grows);
5. retrain the student on the whole aggregate (warm-started from its current weights, a fresh Adam each iteration).

With ``beta0 = 1`` the first iteration is BC; ``beta0 = 0`` lets the student act from the start.
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


def beta_schedule(iterations: int, beta0: float = 1.0, beta_decay: float = 0.5) -> list[float]:
    """``[beta0 * beta_decay**i for i in range(iterations)]``: the teacher's share of actions per iteration."""
    return [float(beta0) * float(beta_decay) ** i for i in range(int(iterations))]


def dagger(
    teacher_model: Any,
    env: VecEnv,
    student_obs_fn: StudentObsFn | None = None,
    iterations: int = 5,
    n_steps_per_env: int = 256,
    beta0: float = 1.0,
    beta_decay: float = 0.5,
    epochs: int = 10,
    batch_size: int | None = 256,
    lr: float = 1e-3,
    seed: int = 0,
    deterministic_teacher: bool = False,
    deterministic_student: bool = True,
    *,
    student: StudentPolicy | None = None,
    net_arch: Sequence[int] | None = None,
    action_distance: str = "raw",
) -> tuple[StudentPolicy, dict[str, Any]]:
    """Train a student with DAgger against a fixed, trained teacher.

    :param teacher_model: the trained teacher: a SITT/PPO model (its ``.policy`` is used) or an ``ActorCriticPolicy``;
        only read.
    :param env: any SB3 ``VecEnv`` giving teacher observations (``Box``); seeded once with ``env.seed(seed)``, reset at
        the start of every iteration, stepped with its own auto-reset.
    :param student_obs_fn: teacher observations (N, *obs_shape) -> student observations, numpy; ``None`` =
        ``env.student_obs``.
    :param iterations: DAgger iterations (roll-out + aggregate + retrain), >= 1.
    :param n_steps_per_env: roll-out length per env and iteration; each iteration adds ``n_steps_per_env * num_envs``
        states.
    :param beta0: the teacher's action probability in iteration 0, in [0, 1].
    :param beta_decay: factor in [0, 1] applied per iteration: ``beta_i = beta0 * beta_decay**i``.
    :param epochs: Adam passes over the aggregate per iteration.
    :param batch_size: minibatch size (``None``: full batch).
    :param lr: Adam's learning rate.
    :param seed: seeds the env, the mixture draws, sampled actions, a fresh student's initialisation and the minibatch
        orders: the same seed (and env) gives the same student and dataset.
    :param deterministic_teacher: the teacher's argmax / mean action when it acts (default: a sample).
    :param deterministic_student: the student's argmax / mean action when it acts (default; ``False``: a sample).
    :param student: a student to start from; ``None`` = a new :class:`StudentPolicy` from the teacher.
    :param net_arch: hidden sizes of a new student's encoder (``None``: a copy of the teacher's policy MLP).
    :param action_distance: how the loss and the agreement measure actions: ``"raw"`` (default, every committed run)
        or ``"clipped"`` (Box means clamped to the action bounds; :func:`sitt.distributions.executed_output`).
    :return: ``(student, info)``. Per iteration (lists of length ``iterations``): ``betas``, ``dataset_sizes``
        (aggregate size after the iteration's roll-out), ``student_share`` (share of the iteration's actions chosen by
        the student), ``new_state_agreement`` (agreement on the iteration's new states *before* retraining: how the
        student does on the states the mixture visited), ``losses`` (per-epoch losses), ``final_loss`` and ``agreement``
        (on the aggregate after retraining), ``mean_reward`` (mean env reward per step of the mixture). The aggregate
        itself: ``teacher_obs`` (N, *obs_shape), ``iteration`` (N,) the iteration each state was visited in,
        ``student_acted`` (N,) whether the student chose the action taken in it.
    """
    if int(iterations) < 1:
        raise ValueError(f"iterations: got {iterations}; allowed: an integer >= 1")
    if not 0.0 <= beta0 <= 1.0:
        raise ValueError(f"beta0: got {beta0}; allowed: a probability in [0, 1]")
    if not 0.0 <= beta_decay <= 1.0:
        raise ValueError(f"beta_decay: got {beta_decay}; allowed: a factor in [0, 1]")
    check_action_distance(action_distance)
    policy = teacher_policy_of(teacher_model)
    student_obs_fn = resolve_student_obs_fn(env, student_obs_fn)
    env_seed, mix_seed, torch_seed, init_seed, fit_seed = seed_streams(seed, 5)
    rng = np.random.default_rng(mix_seed)
    generator = th.Generator().manual_seed(torch_seed)
    env.seed(env_seed)
    if student is None:
        probe = student_view(student_obs_fn, np.zeros((1, *env.observation_space.shape), env.observation_space.dtype))
        student = StudentPolicy(policy, student_obs_shape=probe.shape[1:], net_arch=net_arch, seed=init_seed)

    teacher_obs: list[np.ndarray] = []
    student_obs: list[np.ndarray] = []
    labels: list[th.Tensor] = []
    visited_in: list[np.ndarray] = []
    student_acted: list[np.ndarray] = []
    info: dict[str, Any] = {k: [] for k in (
        "betas", "dataset_sizes", "student_share", "new_state_agreement", "losses", "final_loss", "agreement",
        "mean_reward",
    )}
    for i, beta in enumerate(beta_schedule(iterations, beta0, beta_decay)):
        data = rollout(
            env, policy, n_steps_per_env, beta=beta, student=student, student_obs_fn=student_obs_fn,
            deterministic_teacher=deterministic_teacher, deterministic_student=deterministic_student,
            rng=rng, generator=generator,
        )
        new_student_obs = student_view(student_obs_fn, data.teacher_obs)
        new_labels = teacher_outputs(policy, data.teacher_obs)  # the teacher labels the visited states
        info["new_state_agreement"].append(
            evaluate_fit(student, policy, new_student_obs, data.teacher_obs, new_labels,
                         action_distance=action_distance)["agreement"]
        )
        teacher_obs.append(data.teacher_obs)
        student_obs.append(new_student_obs)
        labels.append(new_labels)
        visited_in.append(np.full(len(data.teacher_obs), i))
        student_acted.append(data.student_acted)
        all_teacher, all_student, all_labels = np.concatenate(teacher_obs), np.concatenate(student_obs), th.cat(labels)
        losses = fit_student(
            student, policy, all_student, all_teacher, epochs, batch_size, lr, fit_seed + i, teacher_out=all_labels,
            action_distance=action_distance,
        )
        after = evaluate_fit(student, policy, all_student, all_teacher, all_labels, action_distance=action_distance)
        info["betas"].append(beta)
        info["dataset_sizes"].append(len(all_teacher))
        info["student_share"].append(float(data.student_acted.mean()))
        info["losses"].append(losses)
        info["final_loss"].append(after["loss"])
        info["agreement"].append(after["agreement"])
        info["mean_reward"].append(float(data.rewards.mean()))
    info["teacher_obs"] = np.concatenate(teacher_obs)
    info["iteration"] = np.concatenate(visited_in)
    info["student_acted"] = np.concatenate(student_acted)
    return student, info
