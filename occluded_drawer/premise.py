"""The drawer's premise (``shared/spec/fair_comparison.md`` section 4), shown apart from SITT: can a student imitate,
from its own view (the handle only while the arm does not hide it), a FIXED teacher that keeps the handle in view
better than one that hides it?

The fixed teachers (:data:`FIXED_TEACHERS`, the task's :attr:`study.task.Task.fixed_teachers`), each
``factory(config, seed, root) -> act`` on teacher observations, deterministic (:mod:`occluded_drawer.scripted`, with
the run's drawer constants):

* ``scripted_visible``: :func:`occluded_drawer.scripted.visible_controller` (elbow down: the longer approach that keeps
  the handle in view);
* ``scripted_hiding``: :func:`occluded_drawer.scripted.hiding_controller` (elbow up: the shorter approach whose upper
  arm crosses the camera's sight line, hiding the handle for most of the approach).

Both open the drawer on every held-out scene of the default geometry (``TUNING_PROBES`` in
:mod:`occluded_drawer.design`), so only what the student sees differs. The arms (``PREMISE_ARMS``, kind
``fixed_teacher``: the study's BC/DAgger student with the profile's imitation settings), the experiment
``PREMISE_EXPERIMENT`` on seeds 0-9 (reported: nothing is tuned here) and the claims (``PREMISE_CLAIMS``, fixed
before the runs) are the task's design (:mod:`occluded_drawer.design`, handed on here); this module holds the
teachers and the table (:func:`premise_table`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from occluded_drawer import scripted
from occluded_drawer.design import (
    NAME, PREMISE_ARMS, PREMISE_ARMS_ORDER, PREMISE_CLAIMS, PREMISE_EXPERIMENT, PREMISE_METRICS,
)
from study.kinds.fixed_teacher import fixed_teacher_table

__all__ = ["FIXED_TEACHERS", "PREMISE_ARMS", "PREMISE_ARMS_ORDER", "PREMISE_CLAIMS", "PREMISE_EXPERIMENT",
           "PREMISE_METRICS", "premise_table"]

def scripted_controller(which: str) -> Callable[..., Callable[[np.ndarray], np.ndarray]]:
    """The factory of ``occluded_drawer.scripted.<which>_controller`` (its defaults) on the run's drawer constants."""
    def factory(config, seed: int, root=None) -> Callable[[np.ndarray], np.ndarray]:
        controller = getattr(scripted, f"{which}_controller")(config.env.drawer_config())

        def act(obs: np.ndarray) -> np.ndarray:
            return controller(obs)

        act.source = {"scripted": f"occluded_drawer.scripted.{which}_controller"}
        return act

    factory.__name__ = f"scripted_{which}"
    return factory


#: the task's fixed teachers (name -> factory(config, seed, root) -> act)
FIXED_TEACHERS: dict[str, Callable[..., Callable[[np.ndarray], np.ndarray]]] = {
    "scripted_visible": scripted_controller("visible"),
    "scripted_hiding": scripted_controller("hiding"),
}


def premise_table(eval_df: pd.DataFrame, *, n_boot: int | None = None, confidence: float | None = None,
                  seed: int = 0) -> pd.DataFrame:
    """Per premise arm (in :data:`PREMISE_ARMS_ORDER`, arms with rows only): ``arm, teacher, algorithm, n_seeds`` and
    for the teacher and the student: success and the handle's visible share before the first grasp, each mean over
    seeds with its seeded 95% bootstrap CI (``<policy>_<metric>_mean`` / ``_ci_low`` / ``_ci_high``;
    :func:`study.kinds.fixed_teacher.fixed_teacher_table`). A pure function of the eval rows."""
    return fixed_teacher_table(eval_df, PREMISE_ARMS, PREMISE_METRICS, task=NAME, n_boot=n_boot,
                               confidence=confidence, seed=seed)
