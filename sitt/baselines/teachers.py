"""The teachers the baselines start from, as thin constructors around :class:`sitt.SITT` (not trained: call ``.learn``).

* :func:`plain_teacher`: a standard privileged teacher, i.e. SB3's PPO (all three SITT phases off: no reward term,
  no update term, no alignment; no student networks at all). BC and DAgger imitate it after training.
* :func:`without_alignment`: the paper's "without alignment" arm: the teacher is trained as plain PPO (reward term
  off, update term off) while the student and proxy are still aligned to it every iteration, with the same joint
  networks as SITT. Its student acts through ``model.predict_student``.
"""

from __future__ import annotations

from typing import Any

from sitt.algorithm import SITT, StudentObsFn

_PHASES = ("reward_term", "update_term", "align")


def _refuse_phase_switches(name: str, kwargs: dict[str, Any]) -> None:
    given = [k for k in _PHASES if k in kwargs]
    if given:
        raise ValueError(
            f"{given[0]}: {name} sets the SITT phases itself; allowed: any other SITT switch or PPO argument"
        )


def plain_teacher(
    env: Any, student_obs_fn: StudentObsFn | None = None, policy: Any = "MlpPolicy", **ppo_kwargs: Any
) -> SITT:
    """A plain PPO teacher: ``SITT(..., reward_term=False, update_term="off", align=False)``; ``model.nets`` is None.

    :param env: the teacher's env: any SB3 ``VecEnv`` (or gymnasium env) giving privileged observations.
    :param student_obs_fn: the student view (kept on the model for later use, e.g. by BC/DAgger; not needed to train).
    :param policy: SB3 policy (``"MlpPolicy"`` or an ``ActorCriticPolicy`` class).
    :param ppo_kwargs: PPO arguments (``n_steps``, ``batch_size``, ``seed``, ``device``, ...); the three phase switches
        ``reward_term``, ``update_term`` and ``align`` are refused (they are what defines this teacher).
    """
    _refuse_phase_switches("plain_teacher", ppo_kwargs)
    return SITT(
        policy, env, student_obs_fn=student_obs_fn, reward_term=False, update_term="off", align=False, **ppo_kwargs
    )


def without_alignment(
    env: Any, student_obs_fn: StudentObsFn | None = None, policy: Any = "MlpPolicy", **ppo_kwargs: Any
) -> SITT:
    """The "without alignment" arm: ``SITT(..., reward_term=False, update_term="off", align=True)``.

    The teacher's update is exactly PPO's (no student-informed reward or loss term), and after each update the student
    (and proxy) are aligned to it as in SITT (same recipe defaults: 20 full-batch Adam steps at 1e-4 unless overridden).

    :param env: the teacher's env: any SB3 ``VecEnv`` (or gymnasium env) giving privileged observations.
    :param student_obs_fn: teacher observations (N, *obs_shape) -> student observations; ``None`` = ``env.student_obs``.
    :param policy: SB3 policy (``"MlpPolicy"`` or an ``ActorCriticPolicy`` class).
    :param ppo_kwargs: PPO arguments and the other SITT switches (``recipe``, ``align_epochs``, ``align_lr``,
        ``shared_head``, ``student_net_arch``, ...); ``reward_term``, ``update_term`` and ``align`` are refused.
    """
    _refuse_phase_switches("without_alignment", ppo_kwargs)
    return SITT(
        policy, env, student_obs_fn=student_obs_fn, reward_term=False, update_term="off", align=True, **ppo_kwargs
    )
