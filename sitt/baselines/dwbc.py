"""DWBC's Regularized Online Adaptation (Fu et al., "Deep Whole-Body Control", CoRL 2022), ported to SB3's PPO.

One policy, two encoders into one latent space and one shared decoder:

* z_mu = the privileged encoder on the teacher view (the policy MLP of an SB3 actor-critic on the teacher view);
* z_phi = the adaptation encoder on the student view (:class:`sitt.student.StudentPolicy`'s encoder, the one student
  of every method; fresh, with the privileged encoder's hidden sizes by default);
* the decoder = the policy's ``action_net`` and ``log_std``, shared by both (the student's head is ``"shared"``).

Iteration ``i`` (0-based) of training is either

* a **PPO step** (most iterations): the privileged latent acts; loss = PPO's loss +
  ``lambda_t * mean_batch || z_mu - sg(z_phi) ||_2`` (the L2 norm, not squared): the privileged latent is pulled
  toward what the student can reproduce; PPO's optimiser trains everything but the adaptation encoder;
* an **adaptation step** (every ``adaptation_interval``-th iteration, ``(i + 1) % k == 0``): the student's latent
  acts in the roll-out, only the adaptation encoder trains, on ``mean_batch || sg(z_mu) - z_phi ||_2`` with its own
  Adam optimiser (``n_epochs`` passes of ``batch_size`` minibatches over the roll-out, as a PPO step would make);
  no PPO update that iteration.

``lambda_t`` (:func:`reg_coef_at`): 0 until ``reg_start_fraction`` of training, then linear to ``reg_coef`` at
``reg_end_fraction``, constant after. DWBC's code: 0 until update 3000, 0.1 at update 10000; as fractions of a
10000-update run: 0.3 and 1.0. The deployed student is the decoder on z_phi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.vec_env import VecEnv

from sitt.baselines.student_ppo import STUDENT, StudentPPO, check_fields, info_of, is_int, is_number
from sitt.student import StudentObsFn, StudentPolicy

PRIVILEGED = "privileged"


@dataclass
class DWBCConfig:
    """DWBC/ROA hyper-parameters (validated by :meth:`validate`).

    :param reg_coef: lambda's final value, 0.1 (DWBC's code).
    :param reg_start_fraction: share of training where lambda starts rising; 0.3 = DWBC's update 3000 of 10000.
    :param reg_end_fraction: share of training where lambda reaches ``reg_coef``; 1.0 = update 10000 of 10000.
    :param adaptation_interval: k: every k-th iteration is an adaptation step (DWBC's code: 20).
    :param adaptation_lr: Adam learning rate of the adaptation encoder; ``None`` = PPO's initial learning rate (DWBC
        trains it with the policy's learning rate).
    """

    reg_coef: float = 0.1
    reg_start_fraction: float = 0.3
    reg_end_fraction: float = 1.0
    adaptation_interval: int = 20
    adaptation_lr: float | None = None

    def validate(self) -> DWBCConfig:
        check_fields(self, {
            "reg_coef": (lambda v: is_number(v) and v >= 0, "a number >= 0"),
            "reg_start_fraction": (lambda v: is_number(v) and 0 <= v <= 1, "a fraction in [0, 1]"),
            "reg_end_fraction": (lambda v: is_number(v) and self.reg_start_fraction < v <= 1,
                                 f"a fraction in (reg_start_fraction={self.reg_start_fraction}, 1]"),
            "adaptation_interval": (lambda v: is_int(v) and v >= 2, "an integer >= 2 (1 would leave no PPO step)"),
            "adaptation_lr": (lambda v: v is None or (is_number(v) and v > 0), "None or a number > 0"),
        })
        return self


def reg_coef_at(progress: float, config: DWBCConfig) -> float:
    """lambda at a share ``progress`` in [0, 1] of training: 0 before ``reg_start_fraction``, linear to ``reg_coef``
    at ``reg_end_fraction``, ``reg_coef`` after."""
    ramp = (progress - config.reg_start_fraction) / (config.reg_end_fraction - config.reg_start_fraction)
    return float(config.reg_coef * min(1.0, max(0.0, ramp)))


def latent_l2(a: th.Tensor, b: th.Tensor) -> th.Tensor:
    """Batch mean of the L2 norm of the latent difference, (N, D) x (N, D) -> scalar (not squared)."""
    return (a - b).norm(dim=-1).mean()


def is_adaptation_iteration(iteration: int, config: DWBCConfig) -> bool:
    """Whether 0-based iteration ``iteration`` is an adaptation step: every ``adaptation_interval``-th."""
    return (iteration + 1) % config.adaptation_interval == 0


class DWBC(StudentPPO):
    """DWBC/ROA as a PPO subclass (see the module docstring). Trains its own privileged policy: no teacher.

    :param env: any SB3 ``VecEnv`` of teacher (privileged) observations.
    :param student_obs_fn: the student view (``None``: ``env.student_obs``).
    :param config: :class:`DWBCConfig`.
    :param student_kwargs: :class:`sitt.student.StudentPolicy` arguments for the adaptation encoder (``net_arch``,
        ``features_extractor_class``, ...); its head and log-std are the policy's (shared decoder).
    :param ppo_kwargs: SB3 ``PPO`` arguments (``policy_kwargs["net_arch"]``: privileged encoder and critic MLPs).
    """

    method_name = "DWBC"

    def __init__(self, env: VecEnv, student_obs_fn: StudentObsFn | None = None, *, config: DWBCConfig | None = None,
                 student_kwargs: dict[str, Any] | None = None, **ppo_kwargs: Any):
        self.config = (config or DWBCConfig()).validate()
        kwargs = dict(copy_teacher=False, head="shared", log_std="shared")
        kwargs.update(student_kwargs or {})
        super().__init__(env, student_obs_fn, student_teacher=None, student_kwargs=kwargs, acting=PRIVILEGED,
                         **ppo_kwargs)
        lr = self.config.adaptation_lr if self.config.adaptation_lr is not None else self.lr_schedule(1.0)
        self.adaptation_optimizer = th.optim.Adam(self.student.encoder.parameters(), lr=lr)

    @property
    def adapting(self) -> bool:
        return is_adaptation_iteration(self.iteration, self.config)

    def latents(self, obs: dict[str, th.Tensor]) -> tuple[th.Tensor, th.Tensor]:
        """z_mu (privileged encoder) and z_phi (adaptation encoder), (N, D) each, with grad."""
        return self.policy.privileged_latent(obs), self.student.features(self.policy.student_view(obs))

    def collect_rollouts(self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer,
                         n_rollout_steps: int) -> bool:
        """SB3's roll-out with the privileged latent acting, or the student's on an adaptation iteration."""
        self.policy.acting = STUDENT if self.adapting else PRIVILEGED
        try:
            return super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        finally:
            self.policy.acting = PRIVILEGED

    def train(self) -> None:
        self.record("adaptation", float(self.adapting))
        if self.adapting:
            self.adaptation_step()
            self.iteration += 1
            return
        self.reg_coef = reg_coef_at(self.progress(), self.config)
        self.record("reg_coef", self.reg_coef)
        super().train()

    def extra_loss(self, data, distribution: Distribution, rows):
        if self.reg_coef == 0:
            return None, {}
        z_mu, z_phi = self.latents(rows.obs)
        reg = latent_l2(rows.expand(z_mu), rows.expand(z_phi).detach())
        return self.reg_coef * reg, {"dwbc_latent_gap": reg.detach()}

    def adaptation_step(self) -> None:
        """Only the adaptation encoder: Adam on ``mean || sg(z_mu) - z_phi ||_2`` over the student-driven roll-out."""
        losses = []
        for _ in range(self.n_epochs):
            for data in self.rollout_buffer.get(self.batch_size):
                with th.no_grad():
                    z_mu = self.policy.privileged_latent(data.observations)
                z_phi = self.student.features(self.policy.student_view(data.observations))
                loss = latent_l2(z_mu, z_phi)
                self.adaptation_optimizer.zero_grad()
                loss.backward()
                self.adaptation_optimizer.step()
                losses.append(loss.item())
        self.record("adaptation_loss", float(np.mean(losses)))


def dwbc(
    env: VecEnv, student_obs_fn: StudentObsFn | None = None, *, seed: int = 0, total_timesteps: int = 100_000,
    config: DWBCConfig | None = None, student_kwargs: dict[str, Any] | None = None, **ppo_kwargs: Any,
) -> tuple[StudentPolicy, dict[str, Any]]:
    """Train DWBC/ROA from scratch; return ``(student, info)`` like :func:`sitt.baselines.dagger`.

    :param env: any SB3 ``VecEnv`` of teacher observations (seeded by SB3 from ``seed``).
    :param student_obs_fn: the student view (``None``: ``env.student_obs``).
    :param seed: SB3's seed: the same seed gives the same student.
    :param total_timesteps: environment steps in all (PPO and adaptation iterations; no separate teacher).
    :param config: :class:`DWBCConfig`.
    :param student_kwargs: :class:`sitt.student.StudentPolicy` arguments of the adaptation encoder.
    :param ppo_kwargs: SB3 ``PPO`` arguments.
    :return: ``(student, info)``; ``info``: ``env_steps`` (= ``total_env_steps``), ``teacher_env_steps`` (0),
        ``iterations``, ``history`` (per iteration: ``adaptation`` 0/1; per PPO step ``reg_coef``; per adaptation step
        ``adaptation_loss``), ``config``.
    """
    model = DWBC(env, student_obs_fn, config=config, student_kwargs=student_kwargs, seed=seed, **ppo_kwargs)
    model.learn(total_timesteps)
    info = info_of(model)
    info["config"] = vars(model.config).copy()
    return model.student, info
