"""The flight task's tables: the main table (:func:`study.tables.main_table` with the task's metrics), the students
against the paper's Table 1, the view controls, and the scripted pilots on the held-out worlds.

Every table but :func:`scripted_table` reads evaluation rows of the runs (:func:`study.load.load_eval`); numbers are per
training seed first (share of the held-out worlds), then mean and a seeded 95% bootstrap CI over seeds.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from study.tables import CONFIDENCE, N_BOOT, comparison_table, per_seed
from study.tables import main_table as generic_main_table

__all__ = ["PAPER_TABLE1", "VIEW_CONTROLS", "main_table", "paper_table", "view_controls_table", "scripted_table"]

#: the paper's Table 1 (quadrotor), student success mean and std over seeds, as read by a third party
#: (``shared/spec/robot_analogues.md`` section 1; not checked against the PDF, number of seeds not stated), keyed by
#: the study's arm that stands for each row (SITT: the paper's recipe)
PAPER_TABLE1: Mapping[str, tuple[float, float]] = {
    "bc": (0.05, 0.04),
    "dagger": (0.08, 0.03),
    "hlrl": (0.31, 0.11),
    "dwbc": (0.35, 0.07),
    "cosil": (0.30, 0.07),
    "without_alignment": (0.38, 0.11),
    "sitt_paper": (0.46, 0.04),
}

#: the BC students that bound the effect of the view: the standard 90-degree scan, a 360-degree scan, the teacher's
#: own observation (all imitate the same without_alignment teacher)
VIEW_CONTROLS = ("bc", "bc_scan360", "bc_teacher_obs")


def _task():
    from fov_flight.task import TASK  # noqa: PLC0415

    return TASK


def main_table(eval_df: pd.DataFrame, *, n_boot: int = N_BOOT, confidence: float = CONFIDENCE,
               seed: int = 0) -> pd.DataFrame:
    """The main table (``results/tables/fov_flight_main.csv``): per arm and policy, success, velocity angle and
    pillars in view as mean with 95% CI over seeds, collision share and path length (means), the IQM of success
    (columns of :func:`study.tables.main_table`)."""
    return generic_main_table(eval_df, n_boot=n_boot, confidence=confidence, seed=seed, task=_task())


def paper_table(main: pd.DataFrame) -> pd.DataFrame:
    """Our students against the paper's Table 1: one row per arm of :data:`PAPER_TABLE1` with student runs in
    ``main`` (a :func:`main_table`): ``arm, n_seeds, success_mean, success_ci_low, success_ci_high, paper_mean,
    paper_std`` and ``paper_in_ci`` (the paper's mean inside our CI)."""
    cols = ["arm", "n_seeds", "success_mean", "success_ci_low", "success_ci_high", "paper_mean", "paper_std",
            "paper_in_ci"]
    students = main[main["policy"] == "student"].set_index("arm")
    rows = []
    for arm, (mean, std) in PAPER_TABLE1.items():
        if arm not in students.index:
            continue
        r = students.loc[arm]
        lo, hi = float(r["success_ci_low"]), float(r["success_ci_high"])
        inside = bool(lo <= mean <= hi) if np.isfinite(lo) and np.isfinite(hi) else np.nan
        rows.append(dict(arm=arm, n_seeds=int(r["n_seeds"]), success_mean=float(r["success_mean"]), success_ci_low=lo,
                         success_ci_high=hi, paper_mean=mean, paper_std=std, paper_in_ci=inside))
    return pd.DataFrame(rows, columns=cols)


def view_controls_table(eval_df: pd.DataFrame, *, n_boot: int = N_BOOT, confidence: float = CONFIDENCE,
                        seed: int = 0, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The BC students of :data:`VIEW_CONTROLS` against the standard BC student (``bc``) on student success
    (columns of :func:`study.tables.comparison_table`); empty when ``bc`` has no student runs."""
    rows = eval_df[eval_df["arm"].isin(VIEW_CONTROLS)]
    if rows.empty or "bc" not in set(rows.loc[rows["policy"] == "student", "arm"]):
        return pd.DataFrame(columns=["arm", "label", "n_seeds", "mean", "ci_low", "ci_high", "iqm", "diff",
                                     "diff_ci_low", "diff_ci_high", "poi", "poi_ci_low", "poi_ci_high"])
    return comparison_table(rows, "bc", policy="student", metric="success", labels=labels, n_boot=n_boot,
                            confidence=confidence, seed=seed, task=_task())


def scripted_table(config, pilots: Mapping[str, object] | None = None) -> pd.DataFrame:
    """The scripted pilots (:mod:`fov_flight.scripted`) on the held-out worlds of a run config: one row per pilot
    with ``pilot, view, n_worlds, success, collision, velocity_angle_deg, pillars_in_view, path_length`` (means over
    the worlds). Default pilots: the privileged pilot with its yaw held (``fixed``) and turned along the velocity
    (``along_velocity``), and the scan-only pilot on the student view (``scan``): both privileged behaviours exist,
    and how far the view alone carries a pilot with no learning."""
    from fov_flight.evaluate import evaluate  # noqa: PLC0415
    from fov_flight.scripted import ScanPilot, ScriptedPilot  # noqa: PLC0415
    from fov_flight.task import held_out_worlds  # noqa: PLC0415
    from fov_flight.views import student_obs  # noqa: PLC0415

    flight = config.env.flight
    worlds, _ = held_out_worlds(config)
    if pilots is None:
        scan = ScanPilot(flight)
        pilots = {
            "privileged, yaw held (fixed)": ("teacher", ScriptedPilot(flight, yaw="fixed")),
            "privileged, yaw along the velocity": ("teacher", ScriptedPilot(flight, yaw="along_velocity")),
            "scan only, yaw along the velocity": ("student", lambda obs: scan(student_obs(obs, flight))),
        }
    out = []
    for name, (view, act) in pilots.items():
        rows, _ = evaluate(act, worlds, flight, min_speed=config.eval.min_speed)
        out.append(dict(pilot=name, view=view, n_worlds=len(rows),
                        success=float(rows["success"].mean()), collision=float(rows["collision"].mean()),
                        velocity_angle_deg=float(rows["velocity_angle_deg"].mean()),
                        pillars_in_view=float(rows["pillars_in_view"].mean()),
                        path_length=float(rows["path_length"].mean())))
    return pd.DataFrame(out)


def per_seed_table(eval_df: pd.DataFrame) -> pd.DataFrame:
    """:func:`study.tables.per_seed` with the task's metrics (one row per arm, policy and seed)."""
    return per_seed(eval_df, _task())
