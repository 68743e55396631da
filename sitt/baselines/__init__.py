"""Baselines the paper compares SITT with.

* :func:`plain_teacher`: a standard privileged PPO teacher (SITT with all three phases off), to be imitated;
* :func:`without_alignment`: teacher trained as plain PPO, student and proxy still aligned to it each iteration;
* :func:`behaviour_cloning`: BC of a trained teacher on its own state distribution;
* :func:`dagger`: DAgger (Ross et al. 2011): teacher/student mixture roll-outs, teacher labels, aggregated dataset;
* :class:`StudentPolicy`: the BC/DAgger student (teacher-initialised encoder and head, both trainable);
* :func:`fit_student`, :func:`rollout`: the shared supervised step and mixture roll-out.
"""

from sitt.baselines.bc import behaviour_cloning
from sitt.baselines.dagger import beta_schedule, dagger
from sitt.baselines.imitation import Rollout, evaluate_fit, fit_student, rollout, teacher_outputs, teacher_policy_of
from sitt.baselines.student import StudentPolicy
from sitt.baselines.teachers import plain_teacher, without_alignment

__all__ = [
    "Rollout",
    "StudentPolicy",
    "behaviour_cloning",
    "beta_schedule",
    "dagger",
    "evaluate_fit",
    "fit_student",
    "plain_teacher",
    "rollout",
    "teacher_outputs",
    "teacher_policy_of",
    "without_alignment",
]
