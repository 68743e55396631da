"""Baselines the paper compares SITT with.

* :func:`plain_teacher`: a standard privileged PPO teacher (SITT with all three phases off), to be imitated;
* :func:`without_alignment`: teacher trained as plain PPO, student and proxy still aligned to it each iteration;
* :func:`behaviour_cloning`: BC of a trained teacher on its own state distribution;
* :func:`dagger`: DAgger (Ross et al. 2011): teacher/student mixture roll-outs, teacher labels, aggregated dataset;
* :func:`hlrl`, :func:`dwbc`, :func:`cosil`: PPO ports of HLRL (PPO + annealed KL to the teacher), DWBC's regularized
  online adaptation and COSIL (PPO on r - alpha * D, alpha by dual descent); see :mod:`sitt.baselines.student_ppo`;
* :func:`student_rl`: the no-teacher control, PPO on the student's view alone with HLRL's asymmetric critic;
* :class:`StudentPolicy`: the one student of every method (:mod:`sitt.student`);
* :func:`fit_student`, :func:`rollout`: the shared supervised step and mixture roll-out.
"""

from sitt.baselines.bc import behaviour_cloning
from sitt.baselines.cosil import COSIL, COSILConfig, cosil
from sitt.baselines.dwbc import DWBC, DWBCConfig, dwbc
from sitt.baselines.hlrl import HLRL, HLRLConfig, hlrl
from sitt.baselines.dagger import beta_schedule, dagger
from sitt.baselines.imitation import Rollout, evaluate_fit, fit_student, rollout, teacher_outputs, teacher_policy_of
from sitt.baselines.student import StudentPolicy
from sitt.baselines.student_rl import StudentRL, StudentRLConfig, student_rl
from sitt.baselines.teachers import plain_teacher, without_alignment

__all__ = [
    "COSIL",
    "COSILConfig",
    "DWBC",
    "DWBCConfig",
    "HLRL",
    "HLRLConfig",
    "Rollout",
    "StudentPolicy",
    "StudentRL",
    "StudentRLConfig",
    "behaviour_cloning",
    "beta_schedule",
    "cosil",
    "dagger",
    "dwbc",
    "evaluate_fit",
    "fit_student",
    "hlrl",
    "plain_teacher",
    "rollout",
    "student_rl",
    "teacher_outputs",
    "teacher_policy_of",
    "without_alignment",
]
