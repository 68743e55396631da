"""COSIL (Nguyen et al., "Leveraging fully observable policies for learning under partial observability", CoRL 2022),
ported to PPO: the student's RL objective trades return against a divergence to a trained (fully observing) teacher,
with the trade-off adapted by dual gradient descent.

COSIL replaces SAC's entropy bonus by a divergence D(pi_student, pi_teacher) and tunes its weight alpha as SAC tunes
its temperature, toward a target divergence epsilon. The SITT paper's adaptation: D = an L1 distance between the
student's and the teacher's action outputs, epsilon = 0.5. In this port:

* roll-out: each reward becomes ``r - alpha * D(s)`` (D on the visited state, student as it acted; returns and
  advantages recomputed): the "soft" value part of COSIL's objective;
* update: PPO's loss plus ``alpha * mean D`` on the minibatch with gradient into the student: the actor part (COSIL's
  actor loss is E[alpha * D - Q]); PPO's entropy bonus is not used (``ent_coef`` 0, SB3's default);
* dual step after every PPO gradient step, as SAC's temperature step follows every actor step: Adam on
  ``log_alpha`` minimising ``alpha * (epsilon - D_batch)`` (D detached), so alpha grows while D > epsilon.

D (:func:`action_l1`): for ``Box`` actions the L1 distance of the means, sum_i |mu_s,i - mu_t,i|; for ``Discrete``
actions the L1 distance of the action probabilities, sum_a |p_s(a) - p_t(a)| in [0, 2] (logits are defined up to a
constant, so their L1 distance is not a divergence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import CategoricalDistribution, Distribution
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from sitt.algorithm import flatten_env_major
from sitt.baselines.imitation import teacher_policy_of
from sitt.baselines.student_ppo import TEACHER, StudentPPO, check_fields, info_of, is_number
from sitt.distributions import ACTION_DISTANCES, executed_output
from sitt.networks import teacher_latent
from sitt.student import StudentObsFn, StudentPolicy


@dataclass
class COSILConfig:
    """COSIL's hyper-parameters (validated by :meth:`validate`).

    :param target_divergence: epsilon, the divergence the dual step steers toward; 0.5: the SITT paper's "hand-set
        target distance of 0.5" for its COSIL baseline.
    :param alpha_init: alpha at the start; 1.0: SAC's temperature initialisation (log alpha = 0), which COSIL's code
        reuses for its divergence weight (its ``automatic_entropy_tuning`` / ``target_entropy`` options).
    :param alpha_lr: Adam learning rate of log alpha; 3e-4: SAC's (Haarnoja et al. 2018) temperature learning rate.
    :param divergence_in_reward: subtract ``alpha * D`` from each roll-out reward (COSIL's soft value).
    :param divergence_in_loss: add ``alpha * D`` to the PPO loss with gradient into the student (COSIL's actor loss).
    :param action_distance: how D measures Box actions: ``"raw"`` means (default; COSIL and every committed run) or
        ``"clipped"`` to the action bounds (:func:`sitt.distributions.executed_output`): a teacher mean beyond a bound
        then asks the student only to reach the bound, and epsilon is a distance between executed actions.
    """

    target_divergence: float = 0.5
    alpha_init: float = 1.0
    alpha_lr: float = 3e-4
    divergence_in_reward: bool = True
    divergence_in_loss: bool = True
    action_distance: str = "raw"

    def validate(self) -> COSILConfig:
        check_fields(self, {
            "target_divergence": (lambda v: is_number(v) and v >= 0, "a number >= 0"),
            "alpha_init": (lambda v: is_number(v) and v > 0, "a number > 0"),
            "alpha_lr": (lambda v: is_number(v) and v > 0, "a number > 0"),
            "divergence_in_reward": (lambda v: isinstance(v, bool), "True or False"),
            "divergence_in_loss": (lambda v: isinstance(v, bool), "True or False"),
            "action_distance": (lambda v: v in ACTION_DISTANCES, ", ".join(ACTION_DISTANCES)),
        })
        return self


def action_l1(student: StudentPolicy, student_out: th.Tensor, teacher_out: th.Tensor,
              action_distance: str = "raw") -> th.Tensor:
    """D per sample (N,): L1 between action probabilities (Discrete) or between means (Box; ``"clipped"``: both
    clamped to the action bounds first); teacher side detached."""
    teacher_out = teacher_out.detach()
    if isinstance(student.action_dist, CategoricalDistribution):
        return (th.softmax(student_out, -1) - th.softmax(teacher_out, -1)).abs().sum(-1)
    student_out = executed_output(student_out, student.action_space, action_distance)
    teacher_out = executed_output(teacher_out, student.action_space, action_distance)
    return (student_out - teacher_out).abs().sum(-1)


def dual_loss(log_alpha: th.Tensor, divergence: th.Tensor, target: float) -> th.Tensor:
    """COSIL's dual loss ``alpha * (epsilon - D)`` (D detached), minimised over ``log_alpha``:
    d/d log_alpha = alpha * (epsilon - D) < 0 while D > epsilon, so descent raises alpha there."""
    return log_alpha.exp() * (target - divergence.detach())


class COSIL(StudentPPO):
    """COSIL's student training as a PPO subclass (see the module docstring).

    :param teacher: the trained teacher (a SITT/PPO model or its ``ActorCriticPolicy``); frozen.
    :param env: any SB3 ``VecEnv`` of teacher observations.
    :param student_obs_fn: the student view (``None``: ``env.student_obs``).
    :param config: :class:`COSILConfig`.
    :param student_kwargs: :class:`sitt.student.StudentPolicy` arguments; default: a fresh student with its own
        trainable log-std.
    :param ppo_kwargs: SB3 ``PPO`` arguments.
    """

    method_name = "COSIL"

    def __init__(self, teacher: Any, env: VecEnv, student_obs_fn: StudentObsFn | None = None, *,
                 config: COSILConfig | None = None, student_kwargs: dict[str, Any] | None = None, **ppo_kwargs: Any):
        self.config = (config or COSILConfig()).validate()
        self.teacher = teacher_policy_of(teacher)
        kwargs = dict(copy_teacher=False, head="copy", log_std="trainable")
        kwargs.update(student_kwargs or {})
        super().__init__(env, student_obs_fn, student_teacher=self.teacher, student_kwargs=kwargs, **ppo_kwargs)
        self.log_alpha = th.tensor(float(np.log(self.config.alpha_init)), device=self.device, requires_grad=True)
        self.alpha_optimizer = th.optim.Adam([self.log_alpha], lr=self.config.alpha_lr)

    @property
    def alpha(self) -> float:
        return float(self.log_alpha.detach().exp())

    def divergence(self, obs: dict[str, th.Tensor]) -> th.Tensor:
        """D (N,) of the student (with grad) to the frozen teacher on a batch of Dict observations."""
        with th.no_grad():
            teacher_out = self.teacher.action_net(teacher_latent(self.teacher, obs[TEACHER]))
        return action_l1(self.student, self.student.logits(self.policy.student_view(obs)), teacher_out,
                         self.config.action_distance)

    def collect_rollouts(self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer,
                         n_rollout_steps: int) -> bool:
        """SB3's roll-out, then ``reward -= alpha * D`` on every stored step and returns/advantages recomputed."""
        if not super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps):
            return False
        obs = obs_as_tensor(flatten_env_major(rollout_buffer.observations), self.device)
        with th.no_grad():
            d = self.divergence(obs).cpu().numpy()  # (E*T,), env-major
        n_steps, n_envs = rollout_buffer.rewards.shape
        self.record("divergence_rollout", float(d.mean()))
        self.record("alpha", self.alpha)
        if self.config.divergence_in_reward:
            rollout_buffer.rewards -= (self.alpha * d.reshape(n_envs, n_steps).T).astype(np.float32)
            with th.no_grad():
                last_values = self.policy.predict_values(obs_as_tensor(self._last_obs, self.device))
            rollout_buffer.compute_returns_and_advantage(last_values=last_values, dones=self._last_episode_starts)
        return True

    def extra_loss(self, data, distribution: Distribution, rows):
        d = rows.expand(self.divergence(rows.obs)).mean()
        self._batch_divergence = d.detach()
        term = self.log_alpha.detach().exp() * d if self.config.divergence_in_loss else None
        return term, {"cosil_divergence": d.detach()}

    def after_step(self, data, parts) -> None:
        loss = dual_loss(self.log_alpha, self._batch_divergence, self.config.target_divergence)
        self.alpha_optimizer.zero_grad()
        loss.backward()
        self.alpha_optimizer.step()


def cosil(
    teacher: Any, env: VecEnv, student_obs_fn: StudentObsFn | None = None, *, seed: int = 0,
    total_timesteps: int = 100_000, config: COSILConfig | None = None, student_kwargs: dict[str, Any] | None = None,
    **ppo_kwargs: Any,
) -> tuple[StudentPolicy, dict[str, Any]]:
    """Train a COSIL student next to a trained teacher; return ``(student, info)`` like :func:`sitt.baselines.dagger`.

    Arguments as :func:`sitt.baselines.hlrl.hlrl`. ``info``: ``env_steps``, ``teacher_env_steps``,
    ``total_env_steps``, ``iterations``, ``history`` (per iteration: ``alpha`` at the roll-out, ``divergence_rollout``),
    ``final_alpha``, ``config``.
    """
    model = COSIL(teacher, env, student_obs_fn, config=config, student_kwargs=student_kwargs, seed=seed, **ppo_kwargs)
    model.learn(total_timesteps)
    info = info_of(model, teacher)
    info["final_alpha"] = model.alpha
    info["config"] = vars(model.config).copy()
    return model.student, info
