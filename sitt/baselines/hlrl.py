"""HLRL (Radosavovic et al., "Real-world humanoid locomotion with reinforcement learning", Science Robotics 2024):
the student learns from its own roll-outs with PPO plus an annealed KL to a trained teacher.

Loss of the student (on-policy, on the states the student visits):

    L = L_PPO(student) + lambda_t * mean_s KL(pi_student(.|o_student(s)) || pi_teacher(.|o_teacher(s)))

with ``lambda_t`` falling linearly from ``kl_coef`` to 0 at ``anneal_fraction`` of training (imitation first, then RL
alone, so the student can improve past what it can imitate). The student's critic reads the privileged observation
(asymmetric actor-critic, :class:`sitt.baselines.student_ppo.StudentActorCritic`). The student is
:class:`sitt.student.StudentPolicy` with a fresh encoder and head of the teacher's shapes and its own trainable
log-std; the teacher is frozen (only read, no gradient).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch as th
from stable_baselines3.common.distributions import CategoricalDistribution, Distribution
from stable_baselines3.common.vec_env import VecEnv
from torch.nn import functional as F

from sitt.baselines.imitation import teacher_policy_of
from sitt.baselines.student_ppo import TEACHER, StudentPPO, check_fields, info_of, is_number
from sitt.networks import teacher_latent
from sitt.student import StudentObsFn, StudentPolicy


@dataclass
class HLRLConfig:
    """HLRL's hyper-parameters (validated by :meth:`validate`).

    :param kl_coef: lambda_0, the KL weight at the start of training. HLRL's paper gives no number we have; 1.0 weighs
        the KL like PPO's normalised-advantage surrogate (gradients of order one), the same reading as SITT's paper
        recipe's ``update_weight``.
    :param anneal_fraction: share of training (in (0, 1]) by which lambda reaches 0, linearly; HLRL: "annealed to 0,
        typically by half of training" (baselines.md), default 0.5.
    """

    kl_coef: float = 1.0
    anneal_fraction: float = 0.5

    def validate(self) -> HLRLConfig:
        check_fields(self, {
            "kl_coef": (lambda v: is_number(v) and v >= 0, "a number >= 0"),
            "anneal_fraction": (lambda v: is_number(v) and 0 < v <= 1, "a fraction in (0, 1]"),
        })
        return self


def kl_coef_at(progress: float, config: HLRLConfig) -> float:
    """lambda at a share ``progress`` in [0, 1] of training: ``kl_coef * max(0, 1 - progress / anneal_fraction)``."""
    return float(config.kl_coef * max(0.0, 1.0 - progress / config.anneal_fraction))


def kl_student_teacher(
    student: StudentPolicy, student_out: th.Tensor, teacher: Any, teacher_out: th.Tensor
) -> th.Tensor:
    """KL(student || teacher) per sample (N,), gradients into the student only.

    Categorical: sum_a p_s(a) (log p_s(a) - log p_t(a)). Diagonal Gaussians with the student's own std sigma_s and
    the teacher's sigma_t:
    sum_i log(sigma_t,i / sigma_s,i) + (sigma_s,i^2 + (mu_s,i - mu_t,i)^2) / (2 sigma_t,i^2) - 1/2.
    """
    teacher_out = teacher_out.detach()
    if isinstance(student.action_dist, CategoricalDistribution):
        log_ps, log_pt = F.log_softmax(student_out, -1), F.log_softmax(teacher_out, -1)
        return (log_ps.exp() * (log_ps - log_pt)).sum(-1)
    log_ss, log_st = student.log_std, teacher.log_std.detach()
    var_s, var_t = th.exp(2 * log_ss), th.exp(2 * log_st)
    return (log_st - log_ss + (var_s + (student_out - teacher_out) ** 2) / (2 * var_t) - 0.5).sum(-1)


class HLRL(StudentPPO):
    """HLRL's student training as a PPO subclass (see the module docstring).

    :param teacher: the trained teacher (a SITT/PPO model or its ``ActorCriticPolicy``; the plain teacher of the
        study's ``without_alignment`` arm): frozen, read on the teacher view of the visited states.
    :param env: any SB3 ``VecEnv`` of teacher observations.
    :param student_obs_fn: the student view (``None``: ``env.student_obs``).
    :param config: :class:`HLRLConfig`.
    :param student_kwargs: :class:`sitt.student.StudentPolicy` arguments (``net_arch``, ``features_extractor_class``,
        ...); default: a fresh student (``copy_teacher=False``) with its own trainable log-std.
    :param ppo_kwargs: SB3 ``PPO`` arguments (``policy_kwargs`` sets the critic's ``net_arch``).
    """

    method_name = "HLRL"

    def __init__(self, teacher: Any, env: VecEnv, student_obs_fn: StudentObsFn | None = None, *,
                 config: HLRLConfig | None = None, student_kwargs: dict[str, Any] | None = None, **ppo_kwargs: Any):
        self.config = (config or HLRLConfig()).validate()
        self.teacher = teacher_policy_of(teacher)
        kwargs = dict(copy_teacher=False, head="copy", log_std="trainable")
        kwargs.update(student_kwargs or {})
        super().__init__(env, student_obs_fn, student_teacher=self.teacher, student_kwargs=kwargs, **ppo_kwargs)

    def train(self) -> None:
        self.kl_coef = kl_coef_at(self.progress(), self.config)
        self.record("kl_coef", self.kl_coef)
        super().train()

    def extra_loss(self, data, distribution: Distribution, rows):
        with th.no_grad():
            teacher_out = self.teacher.action_net(teacher_latent(self.teacher, rows.obs[TEACHER]))
        student_out = self.student.logits(self.policy.student_view(rows.obs))
        kl = rows.expand(kl_student_teacher(self.student, student_out, self.teacher, teacher_out)).mean()
        return self.kl_coef * kl, {"hlrl_kl": kl.detach()}


def hlrl(
    teacher: Any, env: VecEnv, student_obs_fn: StudentObsFn | None = None, *, seed: int = 0,
    total_timesteps: int = 100_000, config: HLRLConfig | None = None, student_kwargs: dict[str, Any] | None = None,
    **ppo_kwargs: Any,
) -> tuple[StudentPolicy, dict[str, Any]]:
    """Train an HLRL student next to a trained teacher; return ``(student, info)`` like :func:`sitt.baselines.dagger`.

    :param teacher: the trained teacher model (its ``num_timesteps`` is counted as ``info["teacher_env_steps"]``).
    :param env: any SB3 ``VecEnv`` of teacher observations (seeded by SB3 from ``seed``).
    :param student_obs_fn: the student view (``None``: ``env.student_obs``).
    :param seed: SB3's seed (torch, numpy, env): the same seed gives the same student.
    :param total_timesteps: environment steps of the student's training.
    :param config: :class:`HLRLConfig`.
    :param student_kwargs: :class:`sitt.student.StudentPolicy` arguments.
    :param ppo_kwargs: SB3 ``PPO`` arguments.
    :return: ``(student, info)``; ``info``: ``env_steps``, ``teacher_env_steps``, ``total_env_steps``, ``iterations``,
        ``history`` (per iteration: ``kl_coef``), ``config``.
    """
    model = HLRL(teacher, env, student_obs_fn, config=config, student_kwargs=student_kwargs, seed=seed, **ppo_kwargs)
    model.learn(total_timesteps)
    info = info_of(model, teacher)
    info["config"] = vars(model.config).copy()
    return model.student, info
