"""The no-teacher control: PPO on the student's view alone, with the asymmetric critic HLRL uses.

What the teacher contributes at all (``fair_comparison.md`` section 1): the student HLRL trains, trained by the same
machinery with no teacher and no teacher term. Everything else is HLRL's (:mod:`sitt.baselines.hlrl`):

* the student acts and is trained by SB3's PPO (clipped surrogate, value loss, the PPO config's entropy bonus) on its
  own roll-outs, :class:`sitt.baselines.student_ppo.StudentPPO` with no extra loss term;
* the critic reads the privileged observation (asymmetric actor-critic: allowed for the control, as HLRL uses it);
* the student is :class:`sitt.student.StudentPolicy` built as HLRL builds it (``copy_teacher=False``, a fresh ``"copy"``
  head re-initialised as SB3 initialises an ``action_net``, its own trainable log-std starting at 0), next to the
  policy's own privileged actor instead of a trained teacher: that actor has the teacher's architecture (the same
  ``policy_kwargs``) and only gives the student its shapes; it never acts and is never trained.

PPO's optimiser therefore holds the critic and the student, exactly HLRL's set
(:meth:`sitt.baselines.student_ppo.StudentActorCritic.ppo_parameters` with a teacher given): :func:`rl_parameters`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch as th
from stable_baselines3.common.vec_env import VecEnv

from sitt.baselines.student_ppo import STUDENT, StudentPPO, info_of
from sitt.student import StudentObsFn, StudentPolicy


@dataclass
class StudentRLConfig:
    """The control's own settings: none (PPO's hyper-parameters are SB3's arguments, as for every port)."""

    def validate(self) -> StudentRLConfig:
        return self


def rl_parameters(policy: Any) -> list[th.nn.Parameter]:
    """What PPO trains when the student acts alone: every parameter of the policy except its privileged actor (policy
    MLP, ``action_net``, ``log_std``), i.e. the critic and the student."""
    actor = {id(p) for p in [*policy.mlp_extractor.policy_net.parameters(), *policy.action_net.parameters()]}
    if isinstance(getattr(policy, "log_std", None), th.nn.Parameter):
        actor.add(id(policy.log_std))
    return [p for p in policy.parameters() if id(p) not in actor]


class StudentRL(StudentPPO):
    """PPO on the student's view alone (see the module docstring).

    :param env: any SB3 ``VecEnv`` of teacher (privileged) observations: the critic's view.
    :param student_obs_fn: the student view (``None``: ``env.student_obs``).
    :param config: :class:`StudentRLConfig`.
    :param student_kwargs: :class:`sitt.student.StudentPolicy` arguments; default HLRL's (a fresh student with its own
        trainable log-std).
    :param ppo_kwargs: SB3 ``PPO`` arguments (``policy_kwargs`` sets the critic's and the shape donor's ``net_arch``).
    """

    method_name = "StudentRL"

    def __init__(self, env: VecEnv, student_obs_fn: StudentObsFn | None = None, *,
                 config: StudentRLConfig | None = None, student_kwargs: dict[str, Any] | None = None,
                 **ppo_kwargs: Any):
        self.config = (config or StudentRLConfig()).validate()
        kwargs = dict(copy_teacher=False, head="copy", log_std="trainable")
        kwargs.update(student_kwargs or {})
        super().__init__(env, student_obs_fn, student_teacher=None, student_kwargs=kwargs, acting=STUDENT,
                         **ppo_kwargs)
        # StudentActorCritic without a teacher keeps the student out of PPO's optimiser (DWBC's adaptation encoder has
        # its own); here the student is what PPO trains and the privileged actor is only a shape donor
        policy = self.policy
        policy.optimizer = policy.optimizer_class(rl_parameters(policy), lr=self.lr_schedule(1),
                                                  **policy.optimizer_kwargs)


def student_rl(
    env: VecEnv, student_obs_fn: StudentObsFn | None = None, *, seed: int = 0, total_timesteps: int = 100_000,
    config: StudentRLConfig | None = None, student_kwargs: dict[str, Any] | None = None, **ppo_kwargs: Any,
) -> tuple[StudentPolicy, dict[str, Any]]:
    """Train the no-teacher control; return ``(student, info)`` like :func:`sitt.baselines.hlrl.hlrl`.

    ``info``: ``env_steps`` (= ``total_env_steps``: the control's budget is its own steps), ``teacher_env_steps`` (0),
    ``iterations``, ``history`` (empty: no schedule), ``config``.
    """
    model = StudentRL(env, student_obs_fn, config=config, student_kwargs=student_kwargs, seed=seed, **ppo_kwargs)
    model.learn(total_timesteps)
    info = info_of(model)
    info["config"] = vars(model.config).copy()
    return model.student, info


__all__ = ["StudentRL", "StudentRLConfig", "rl_parameters", "student_rl"]
