"""What BC and DAgger share: rolling out a teacher/student mixture in a VecEnv, and fitting the student to the teacher.

* :func:`rollout` steps any SB3 ``VecEnv`` (numpy observations in, actions out, the env's own auto-reset) for a fixed
  number of steps per env. At every step and env, the teacher acts with probability ``beta``, otherwise the student
  acts on its own view of the observation (DAgger's mixture; ``beta = 1`` is BC's teacher-only roll-out). The
  *teacher* observation each action was taken from is recorded, with who acted.
* :func:`teacher_outputs` labels teacher observations with the teacher's head outputs (logits / means) from
  ``model.policy``: deterministic, no gradient, the teacher in eval mode and restored afterwards.
* :func:`fit_student` is the supervised step: Adam on ``mean KL(teacher(.|teacher_obs) || student(.|student_obs))``,
  which for ``Discrete`` actions is the cross-entropy to the teacher's action distribution minus the teacher's
  (constant) entropy, and for ``Box`` actions the Gaussian KL with the teacher's standard deviation
  (:func:`sitt.distributions.kl_divergence`). Only the student's parameters are optimised; the teacher is read only.
* :class:`ActionTeacher`: a FIXED teacher given only by its actions (a scripted controller, or another trained
  student), usable wherever these functions take a teacher policy: its "head outputs" are its actions
  (``Box`` only), labelled with a fixed standard deviation, so :func:`fit_student` fits the student's means to the
  teacher's actions (a scaled mean squared error; the class docstring says why).

Observation spaces: ``Box`` (flat or not; the student flattens its view). ``Dict`` observations are not supported.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import DiagGaussianDistribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sitt.baselines.student import StudentObsFn, StudentPolicy, actions_from_head
from sitt.distributions import agreement, check_action_distance, kl_divergence
from sitt.networks import teacher_latent


class ActionTeacher:
    """A fixed, deterministic teacher given by its actions, in place of an SB3 policy for BC and DAgger.

    ``act(teacher_obs (N, *obs_shape)) -> actions (N, action_dim)`` (numpy; e.g. a scripted controller on the
    privileged observation, or a trained student acting on its view of it). It offers what :func:`rollout`,
    :func:`teacher_outputs`, :func:`fit_student` and :func:`evaluate_fit` read from a teacher policy: its head outputs
    are its actions, and its action distribution is a diagonal Gaussian around them with the FIXED log-std ``log_std``
    (pass the student's own, e.g. ``student.log_std``). It owns no network: it cannot size a new student, so pass
    ``student=`` to :func:`sitt.baselines.behaviour_cloning` / :func:`sitt.baselines.dagger`.

    Why this loss. A deterministic teacher has no distribution to match, only an action a*; the natural BC loss is the
    squared error ``||a* - mu_s||^2`` of the student's mean. The Gaussian KL of two Gaussians that share a fixed
    diagonal std sigma is ``0.5 * sum_i ((a*_i - mu_s,i) / sigma_i)^2`` (:func:`sitt.distributions.kl_divergence`):
    with one sigma for every dimension (SB3's scalar ``log_std_init``) that IS the mean squared error times
    ``action_dim / (2 sigma^2)``, a constant factor that Adam's step all but ignores. Taking the student's own
    (frozen) std keeps the loss, the agreement ``exp(-KL)`` and the ``"clipped"`` action distance on the same scale as
    the study's BC/DAgger students of a trained teacher (whose std the student's frozen log-std copies), with no
    change to the fitting code. ``Discrete`` actions are not supported (a one-hot label has no finite logits).

    :param act: the teacher: numpy teacher observations (N, ...) -> numpy actions (N, action_dim); deterministic.
    :param action_space: the env's ``Box`` action space (the actions are clipped to it when the teacher acts).
    :param log_std: the fixed log-std (action_dim,) of the labels' Gaussian (a tensor or array; copied, never trained;
        the labels are put on its device).
    """

    def __init__(self, act, action_space: spaces.Space, log_std: Any):
        if not isinstance(action_space, spaces.Box) or len(action_space.shape) != 1:
            raise ValueError(f"action_space: got {action_space}; allowed: a flat Box (an ActionTeacher labels "
                             "continuous actions)")
        if not callable(act):
            raise ValueError(f"act: got {type(act).__name__}; allowed: a function teacher_obs (N, ...) -> actions")
        self.act = act
        self.action_space = action_space
        self.action_dist = DiagGaussianDistribution(int(action_space.shape[0]))
        self.log_std = th.as_tensor(log_std).detach().to(dtype=th.float32).clone()
        if self.log_std.shape != (int(action_space.shape[0]),):
            raise ValueError(f"log_std: got shape {tuple(self.log_std.shape)}; allowed: ({action_space.shape[0]},)")
        self.device = self.log_std.device  # the labels live where the log-std does (the student's device)

    def __getattr__(self, name: str) -> Any:  # only for attributes it lacks: a network's (a student sized from it)
        raise AttributeError(f"ActionTeacher has no {name!r}: it owns no network; build the student from an SB3 policy "
                             "of the env and pass it as `student=`")

    def outputs(self, teacher_obs: np.ndarray) -> th.Tensor:
        """The teacher's actions for teacher observations (N, *obs_shape) -> (N, action_dim) float32 on its device."""
        actions = np.asarray(self.act(np.asarray(teacher_obs)), dtype=np.float32)
        n, dim = len(teacher_obs), int(self.action_space.shape[0])
        if actions.shape != (n, dim):
            raise ValueError(f"act: returned shape {actions.shape} for {n} observations; allowed: ({n}, {dim})")
        return th.as_tensor(actions, device=self.device)


def teacher_policy_of(teacher: Any) -> ActorCriticPolicy | ActionTeacher:
    """The ``ActorCriticPolicy`` of a trained teacher: ``teacher.policy`` for a SITT/PPO model, or the policy itself;
    an :class:`ActionTeacher` is returned as it is."""
    if isinstance(teacher, ActionTeacher):
        return teacher
    policy = getattr(teacher, "policy", teacher)
    if not isinstance(policy, ActorCriticPolicy):
        raise ValueError(
            f"teacher_model: got {type(teacher).__name__}; allowed: a SITT/PPO model, an SB3 ActorCriticPolicy or an "
            "ActionTeacher"
        )
    return policy


def resolve_student_obs_fn(env: VecEnv, student_obs_fn: StudentObsFn | None) -> StudentObsFn:
    """``student_obs_fn``, or the env's ``student_obs`` method when ``None`` (as SITT does); a ``ValueError`` if
    neither. Pass ``lambda obs: obs`` for a fully observing student."""
    fn = student_obs_fn or getattr(env, "student_obs", None)
    if fn is None:
        raise ValueError(
            "student_obs_fn: the env has no student view (no `student_obs` method) and none was passed; allowed: a "
            "function mapping teacher observations (N, *obs_shape) to student observations (`lambda o: o` for none)"
        )
    return fn


@contextlib.contextmanager
def _eval_mode(module: th.nn.Module) -> Iterator[None]:
    was_training = module.training
    module.train(False)
    try:
        yield
    finally:
        module.train(was_training)


def teacher_outputs(
    teacher_policy: ActorCriticPolicy | ActionTeacher, teacher_obs: np.ndarray, chunk: int = 65536
) -> th.Tensor:
    """The teacher's head outputs for teacher observations (N, *obs_shape) -> (N, K) on the teacher's device.

    Logits (Discrete) or means (Box) from ``action_net(policy MLP(features(obs)))``: SB3's own preprocessing (e.g. image
    scaling) applies. No gradient; the teacher's train/eval flag is restored afterwards. For an :class:`ActionTeacher`:
    its actions.
    """
    if isinstance(teacher_policy, ActionTeacher):
        return teacher_policy.outputs(teacher_obs)
    outs = []
    with th.no_grad(), _eval_mode(teacher_policy):
        for start in range(0, len(teacher_obs), chunk):
            obs = obs_as_tensor(np.asarray(teacher_obs[start : start + chunk]), teacher_policy.device)
            outs.append(teacher_policy.action_net(teacher_latent(teacher_policy, obs)))
    return th.cat(outs) if outs else th.zeros(0)


@dataclass
class Rollout:
    """What :func:`rollout` recorded, in time-major order (sample ``t * n_envs + e``).

    :param teacher_obs: (T*E, *obs_shape) the teacher observation each action was taken from.
    :param actions: (T*E,) Discrete or (T*E, action_dim) Box: the action sent to the env.
    :param student_acted: (T*E,) bool, True where the student chose the action.
    :param rewards: (T*E,) the env's rewards.
    :param dones: (T*E,) the env's done flags (the env auto-reset after them).
    """

    teacher_obs: np.ndarray
    actions: np.ndarray
    student_acted: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray


def rollout(
    env: VecEnv,
    teacher_policy: ActorCriticPolicy,
    n_steps_per_env: int,
    *,
    beta: float = 1.0,
    student: StudentPolicy | None = None,
    student_obs_fn: StudentObsFn | None = None,
    deterministic_teacher: bool = False,
    deterministic_student: bool = True,
    rng: np.random.Generator | None = None,
    generator: th.Generator | None = None,
) -> Rollout:
    """Step ``env`` ``n_steps_per_env`` times with a teacher/student mixture and record the teacher observations.

    :param env: any SB3 ``VecEnv`` with a ``Box`` observation space; its auto-reset continues episodes past ``done``.
    :param teacher_policy: the trained teacher's ``ActorCriticPolicy`` (or an :class:`ActionTeacher`); only read.
    :param n_steps_per_env: steps taken in each of the ``env.num_envs`` envs (dataset size = that times num_envs).
    :param beta: probability, drawn independently per step and env, that the teacher chooses the action; otherwise the
        student does. 1 = teacher only (BC), 0 = student only.
    :param student: the current student (needed when ``beta < 1``).
    :param student_obs_fn: teacher observations (N, *obs_shape) -> student observations (needed when ``beta < 1``).
    :param deterministic_teacher: the teacher's argmax / mean action; ``False``: a sample from its distribution.
    :param deterministic_student: the student's argmax / mean action; ``False``: a sample (teacher's std for Box).
    :param rng: numpy generator of the per-step teacher/student draws (a fresh unseeded one when ``None``).
    :param generator: CPU torch generator of sampled actions (``None``: the global torch RNG).

    The env is reset first (``env.reset()``; seed it beforehand with ``env.seed(s)`` for a reproducible roll-out).
    """
    if isinstance(env.observation_space, spaces.Dict):
        raise ValueError("env: Dict observation spaces are not supported; allowed: Box observations")
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta: got {beta}; allowed: a probability in [0, 1]")
    if beta < 1.0 and (student is None or student_obs_fn is None):
        raise ValueError("student: beta < 1 lets the student act; allowed: pass `student` and `student_obs_fn`")
    if int(n_steps_per_env) < 1:
        raise ValueError(f"n_steps_per_env: got {n_steps_per_env}; allowed: an integer >= 1")
    rng = rng if rng is not None else np.random.default_rng()
    n_envs = env.num_envs
    obs = env.reset()
    observations, actions_log, acted, rewards_log, dones_log = [], [], [], [], []
    for _ in range(int(n_steps_per_env)):
        obs = np.asarray(obs)
        teacher_out = teacher_outputs(teacher_policy, obs)  # (E, K)
        actions = actions_from_head(teacher_policy, env.action_space, teacher_out, deterministic_teacher, generator)
        student_acts = rng.random(n_envs) >= beta  # (E,), drawn every step: the stream does not depend on beta
        if student_acts.any():
            student_actions, _ = student.predict(
                np.asarray(student_obs_fn(obs)), deterministic=deterministic_student, generator=generator
            )
            mask = student_acts.reshape(n_envs, *([1] * (actions.ndim - 1)))
            actions = np.where(mask, student_actions, actions).astype(actions.dtype)
        observations.append(np.array(obs, copy=True))
        actions_log.append(actions)
        acted.append(student_acts)
        obs, rewards, dones, _infos = env.step(actions)
        rewards_log.append(np.asarray(rewards, dtype=np.float32).reshape(n_envs))
        dones_log.append(np.asarray(dones, dtype=bool).reshape(n_envs))
    flat = lambda xs: (lambda a: a.reshape(-1, *a.shape[2:]))(np.stack(xs))  # (T, E, ...) -> (T*E, ...)
    return Rollout(
        teacher_obs=flat(observations),
        actions=flat(actions_log),
        student_acted=flat(acted),
        rewards=flat(rewards_log),
        dones=flat(dones_log),
    )


def student_view(student_obs_fn: StudentObsFn, teacher_obs: np.ndarray) -> np.ndarray:
    """``student_obs_fn`` applied to a batch (N, *obs_shape) -> (N, *student_shape), checked to keep the batch axis."""
    view = np.asarray(student_obs_fn(teacher_obs))
    if len(view) != len(teacher_obs):
        raise ValueError(f"student_obs_fn: returned {len(view)} observations for {len(teacher_obs)}")
    return view


def fit_student(
    student: StudentPolicy,
    teacher_policy: ActorCriticPolicy,
    student_obs: np.ndarray,
    teacher_obs: np.ndarray,
    epochs: int = 10,
    batch_size: int | None = 256,
    lr: float = 1e-3,
    seed: int = 0,
    teacher_out: th.Tensor | None = None,
    action_distance: str = "raw",
) -> list[float]:
    """Fit ``student`` to the teacher's action distributions with Adam; return the mean loss of each epoch.

    Loss per sample: ``KL(teacher(.|teacher_obs) || student(.|student_obs))`` (:func:`sitt.distributions.kl_divergence`;
    Discrete: cross-entropy to the teacher's probabilities minus their entropy; Box: 0.5 * sum ((mu_t - mu_s) / sigma)^2
    with the teacher's sigma), averaged over a minibatch.

    :param student: the student to train (encoder and head); trained in place, warm-started from its current weights.
    :param teacher_policy: the teacher's ``ActorCriticPolicy`` or an :class:`ActionTeacher` (labels; never modified, no
        gradient reaches it).
    :param student_obs: (N, *student_shape) the student's observations of the dataset's states.
    :param teacher_obs: (N, *obs_shape) the teacher's observations of the same states (row i = same state).
    :param epochs: passes over the dataset.
    :param batch_size: minibatch size; ``None`` = the whole dataset at once.
    :param lr: Adam's learning rate (a fresh optimiser per call).
    :param seed: seed of the minibatch order (a private torch generator; the global RNG is untouched).
    :param teacher_out: the teacher's head outputs for ``teacher_obs``, (N, K), if already computed.
    :param action_distance: ``"raw"`` (default) or ``"clipped"``: Box means clamped to the action bounds before the
        KL (:func:`sitt.distributions.executed_output`), so the student is not asked to follow a teacher mean beyond
        a bound it cannot act on.
    :return: ``epochs`` floats, each the sample-weighted mean of that epoch's minibatch losses (before each step).
    """
    n = len(teacher_obs)
    if len(student_obs) != n:
        raise ValueError(f"student_obs: {len(student_obs)} rows for {n} teacher observations; allowed: one per state")
    if n == 0:
        raise ValueError("teacher_obs: empty dataset")
    if int(epochs) < 1:
        raise ValueError(f"epochs: got {epochs}; allowed: an integer >= 1")
    if batch_size is not None and int(batch_size) < 1:
        raise ValueError(f"batch_size: got {batch_size}; allowed: None or an integer >= 1")
    check_action_distance(action_distance)
    targets = (teacher_outputs(teacher_policy, teacher_obs) if teacher_out is None else teacher_out.detach())
    targets = targets.to(student.device)  # (N, K)
    inputs = student.obs_tensor(student_obs)  # (N, student_obs_dim)
    batch = n if batch_size is None else min(int(batch_size), n)
    generator = th.Generator().manual_seed(int(seed))
    optimizer = th.optim.Adam(student.parameters(), lr=lr)
    losses: list[float] = []
    student.train(True)
    for _ in range(int(epochs)):
        order = th.randperm(n, generator=generator).to(student.device)
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss = kl_divergence(teacher_policy, targets[idx], student.logits(inputs[idx]),
                                 action_distance=action_distance).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / n)
    student.train(False)
    return losses


def evaluate_fit(
    student: StudentPolicy,
    teacher_policy: ActorCriticPolicy,
    student_obs: np.ndarray,
    teacher_obs: np.ndarray,
    teacher_out: th.Tensor | None = None,
    action_distance: str = "raw",
) -> dict[str, float]:
    """``{"loss": mean KL(teacher || student), "agreement": ...}`` over a dataset, without training.

    Agreement (:func:`sitt.distributions.agreement`): share of equal argmax actions (Discrete) or mean exp(-KL) (Box);
    both measured with ``action_distance`` (:func:`fit_student`).
    """
    targets = teacher_outputs(teacher_policy, teacher_obs) if teacher_out is None else teacher_out
    with th.no_grad():
        targets = targets.to(student.device)
        out = student.logits(student_obs)
        loss = kl_divergence(teacher_policy, targets, out, action_distance=action_distance).mean().item()
        agree = agreement(teacher_policy, out, targets, action_distance=action_distance)
        agree = th.as_tensor(agree).float().mean().item()
    return {"loss": loss, "agreement": agree}


def seed_streams(seed: int, n: int) -> list[int]:
    """``n`` independent 31-bit seeds derived from ``seed`` (numpy ``SeedSequence``): one per random stream."""
    return [int(s) for s in np.random.SeedSequence(int(seed)).generate_state(n) & 0x7FFFFFFF]
