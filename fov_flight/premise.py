"""The flight task's premise (``shared/spec/fair_comparison.md`` section 4), shown apart from SITT: can a student
imitate, from its 90-degree scan, a FIXED teacher that keeps the pillars in view better than one that does not?

The fixed teachers (:data:`FIXED_TEACHERS`, the task's :attr:`study.task.Task.fixed_teachers`), each
``factory(config, seed, root) -> act`` on teacher observations, deterministic:

* ``scripted_along_velocity``: :class:`fov_flight.scripted.ScriptedPilot` with ``yaw="along_velocity"``: the camera
  looks where the body flies (view-keeping);
* ``scripted_fixed``: the same pilot with ``yaw="fixed"``: the start heading (drawn in [-180, 180] degrees) is held,
  so the camera often looks sideways or backwards. It flies the SAME trajectories (translation does not depend on
  the heading), so the two teachers' success is equal and only what the student sees differs;
* ``hlrl_student``: the trained HLRL student of the run ``fov_flight_main/hlrl/seed_<seed>`` (its ``student.pt``,
  acting on the standard student view) of the SAME run store and profile: a teacher that is imitable by
  construction. That run must be complete first (the factory raises ``ValueError`` naming the command otherwise); a
  Dask worker has no store, so these arms need the local backend.

The arms (``PREMISE_ARMS``, kind ``fixed_teacher``: the study's BC/DAgger student with the profile's imitation
settings), the experiment ``PREMISE_EXPERIMENT`` on seeds 0-9 (reported: nothing is tuned here) and the claims
(``PREMISE_CLAIMS``, fixed before the runs) are the task's design (:mod:`fov_flight.design`, handed on here); this
module holds the teachers and the table (:func:`premise_table`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np
import pandas as pd

from fov_flight.design import (
    HLRL_RUN, NAME, PREMISE_ARMS, PREMISE_ARMS_ORDER, PREMISE_CLAIMS, PREMISE_EXPERIMENT, PREMISE_METRICS,
)
from fov_flight.scripted import ScriptedPilot
from fov_flight.views import student_obs
from study import load, store
from study.config import ExperimentConfig
from study.kinds.fixed_teacher import fixed_teacher_table

__all__ = ["FIXED_TEACHERS", "PREMISE_ARMS", "PREMISE_ARMS_ORDER", "PREMISE_CLAIMS", "PREMISE_EXPERIMENT",
           "PREMISE_METRICS", "HLRL_RUN", "premise_table"]


def _named(act: Callable[[np.ndarray], np.ndarray], source: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """``act`` as a plain function carrying ``source`` (what the teacher is, recorded in the run's provenance)."""
    def fn(obs: np.ndarray) -> np.ndarray:
        return act(obs)

    fn.source = source
    return fn


def scripted_pilot(yaw: str) -> Callable[..., Callable[[np.ndarray], np.ndarray]]:
    """The factory of :class:`fov_flight.scripted.ScriptedPilot` (its defaults) with the yaw rule ``yaw``."""
    def factory(config, seed: int, root=None) -> Callable[[np.ndarray], np.ndarray]:
        return _named(ScriptedPilot(config.env.flight, yaw=yaw), {"scripted": "fov_flight.scripted.ScriptedPilot",
                                                                   "yaw": yaw})

    factory.__name__ = f"scripted_pilot_{yaw}"
    return factory


def hlrl_student(config, seed: int, root) -> Callable[[np.ndarray], np.ndarray]:
    """The HLRL student of the run :data:`HLRL_RUN` at ``seed`` under ``root`` as a teacher: its deterministic action
    on the standard student view of the teacher observation. ``ValueError`` unless that run is complete and was
    trained on this run's profile and env."""
    experiment, arm = HLRL_RUN
    run_id = f"{experiment}/{arm}/seed_{seed}"
    run_dir = Path(root) / experiment / arm / f"seed_{seed}"
    command = (f"python -m study.sweep --experiment {experiment} --arms {arm} --seeds {seed} --profile "
               f"{config.profile} --root {root}")
    if not store.is_complete(run_dir):
        raise ValueError(f"method.teacher: 'hlrl_student' is the student of the run {run_id}, which is not complete "
                         f"under {root}; allowed: a store holding it (run it first: {command})")
    stored = ExperimentConfig.from_dict(store.read_json(run_dir / store.CONFIG_FILE))
    if stored.profile != config.profile or stored.env != config.env or stored.student_view is not None:
        raise ValueError(f"method.teacher: 'hlrl_student': the run {run_id} under {root} was trained with profile "
                         f"{stored.profile!r} and another env or view than this run (profile {config.profile!r}); "
                         f"allowed: the run of this profile and env ({command})")
    student = load.load_student(run_dir)
    flight = config.env.flight
    digest = hashlib.sha256((run_dir / store.STUDENT_FILE).read_bytes()).hexdigest()

    def act(obs: np.ndarray) -> np.ndarray:
        return student.predict(student_obs(obs, flight), deterministic=True)[0]

    return _named(act, {"run_id": run_id, "run_dir": str(run_dir), "student_sha256": digest,
                        "finished_at": store.read_marker(run_dir).get("finished_at")})


#: the task's fixed teachers (name -> factory(config, seed, root) -> act)
FIXED_TEACHERS: dict[str, Callable[..., Callable[[np.ndarray], np.ndarray]]] = {
    "scripted_along_velocity": scripted_pilot("along_velocity"),
    "scripted_fixed": scripted_pilot("fixed"),
    "hlrl_student": hlrl_student,
}


def premise_table(eval_df: pd.DataFrame, *, n_boot: int | None = None, confidence: float | None = None,
                  seed: int = 0) -> pd.DataFrame:
    """Per premise arm (in :data:`PREMISE_ARMS_ORDER`, arms with rows only): ``arm, teacher, algorithm, n_seeds`` and
    for the teacher and the student: success, velocity angle (degrees) and pillars in view, each mean over seeds
    with its seeded 95% bootstrap CI (``<policy>_<metric>_mean`` / ``_ci_low`` / ``_ci_high``;
    :func:`study.kinds.fixed_teacher.fixed_teacher_table`). A pure function of the eval rows."""
    return fixed_teacher_table(eval_df, PREMISE_ARMS, PREMISE_METRICS, task=NAME, n_boot=n_boot,
                               confidence=confidence, seed=seed)
