"""The occluded drawer as a task of the study (:mod:`study.task`): the adapter between the study and the env
(training env, held-out scenes, evaluation, per-episode metrics, provenance, the report's tables). The task's data
(configs, arms, profiles, experiments, metrics, claims, tuning probes and the design comments that record their
choice) is :mod:`occluded_drawer.design`; :class:`DrawerTask` points its attributes at it.

The env is :class:`occluded_drawer.OccludedDrawerEnv`, the evaluation protocol
:func:`occluded_drawer.evaluate.evaluate`, the premise's fixed teachers :mod:`occluded_drawer.premise`, the pictures
:mod:`occluded_drawer.render` and :mod:`occluded_drawer.figures`, the tables :mod:`occluded_drawer.tables`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from occluded_drawer import design, tables as drawer_tables
from occluded_drawer.env import OccludedDrawerEnv
from occluded_drawer.evaluate import evaluate as evaluate_scenes
from occluded_drawer.generation import generate_scenes, scenes_sha256
from occluded_drawer.premise import FIXED_TEACHERS
from sitt.checks import fail
from study.tables import as_float
from study.task import HeldOut, Task

__all__ = ["DrawerTask", "TASK", "TRAJECTORY_KEYS", "held_out_scenes", "trajectories_of"]


def held_out_scenes(config):
    """The held-out scenes of a run config: ``generate_scenes(eval.n_scenes, env.drawer_config(),
    seed=eval.scene_seed)``. They depend on the evaluation settings and the drawer's constants only (never on the
    training seed or the arm), so every arm and seed of a study is evaluated on the same scenes."""
    return generate_scenes(config.eval.n_scenes, config.env.drawer_config(), seed=config.eval.scene_seed)


#: the evaluation arrays kept per policy in ``positions.npz`` (as ``<policy>_<key>``), for the first
#: ``eval.n_trajectories`` scenes: float32 ``q``, ``gripper``, ``handle`` (n, T + 1, .) with NaN after the episode's
#: end, bool ``visible``, ``holding`` (n, T + 1), int ``steps`` (n,); the layout of
#: :func:`occluded_drawer.evaluate.evaluate`'s trajectories, which :func:`occluded_drawer.render.approach_figure` draws
TRAJECTORY_KEYS = ("q", "gripper", "handle", "visible", "holding", "steps")


def trajectories_of(trajectories: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The stored subset of :func:`occluded_drawer.evaluate.evaluate`'s trajectories: the first ``n`` scenes, floats
    as float32 (:data:`TRAJECTORY_KEYS`)."""
    out = {}
    for key in TRAJECTORY_KEYS:
        a = np.asarray(trajectories[key])[:n]
        out[key] = a.astype(np.float32) if a.dtype.kind == "f" else a.astype(np.int32) if key == "steps" else a
    return out


# ----------------------------------------------------------------------------------------------------------------- task


class DrawerTask(Task):
    """The occluded drawer (``robot_analogues.md`` section 2): the teacher sees the handle, the student only while
    the camera's sight line to it is not blocked by the arm."""

    name = design.NAME
    env_config = design.DrawerEnvConfig
    eval_config = design.DrawerEvalConfig
    metrics = design.METRICS
    table_metrics = design.TABLE_METRICS
    arms = design.ARMS
    profiles = design.PROFILES
    experiments = design.EXPERIMENTS
    claims = design.CLAIMS
    info_keywords = ("grasp_attempts", "missed_grasps")
    episode_column = "scene"
    sweeps = design.SWEEPS
    tuning_experiments = design.TUNING_EXPERIMENTS
    budget = design.BUDGET
    fixed_teachers = FIXED_TEACHERS
    main_title = design.MAIN_TITLE
    main_note = design.MAIN_NOTE
    main_labels = design.MAIN_LABELS
    notebooks = design.NOTEBOOKS
    student_label = design.STUDENT_LABEL

    def train_env(self, config):
        return OccludedDrawerEnv(config.env.n_envs, config.env.drawer_config(), seed=config.seed)

    def held_out(self, config) -> HeldOut:
        scenes = held_out_scenes(config)
        return HeldOut(scenes, len(scenes), scenes_sha256(scenes))

    def evaluate(self, config, act):
        rows, trajectories = evaluate_scenes(act, held_out_scenes(config), config.env.drawer_config())
        arrays = trajectories_of(trajectories, config.eval.n_trajectories) if config.eval.n_trajectories else None
        return rows, arrays

    def episode_metrics(self, rows: pd.DataFrame) -> pd.DataFrame:
        df = rows.copy()
        for name in ("visible_share", "grasp_attempts", "missed_grasps", "ep_return", "steps"):
            df[name] = pd.to_numeric(df[name], errors="coerce").astype(float) if name in df else np.nan
        success = as_float(df["success"]) > 0.5
        df["success_steps"] = df["steps"].where(success)
        # the run's approach class, the same on each of its rows (a run: one experiment, arm, policy and seed)
        keys = [c for c in ("experiment", "arm", "policy", "seed") if c in df]
        share = df.groupby(keys, dropna=False)["visible_share"].transform("mean") if keys else \
            pd.Series(df["visible_share"].mean(), index=df.index)
        df["visible_approach"] = (share >= design.VISIBLE_APPROACH).astype(float).where(share.notna())
        return df

    def provenance(self, config, train_env, held_out: HeldOut) -> dict[str, Any]:
        first = generate_scenes(config.env.n_envs, config.env.drawer_config(), seed=config.seed)
        return dict(
            train_first_scenes_sha256=scenes_sha256(first),  # the scenes of the training env's first reset
            eval_scenes_sha256=held_out.sha256,
            eval_scene_seed=config.eval.scene_seed,
        )

    def validate(self, config) -> None:
        """The held-out scenes are never a training set (the tuning seeds: :func:`study.task.check_tuning_seeds`)."""
        if config.seed == config.eval.scene_seed:
            fail("seed", config.seed, f"any integer >= 0 except eval.scene_seed ({config.eval.scene_seed}): "
                 "the held-out scenes must never be a training set")

    def report_tables(self, evals, labels):
        main_eval, ablation_eval = evals.get(design.MAIN_EXPERIMENT), evals.get(design.ABLATION_EXPERIMENT)
        main = drawer_tables.main_table(main_eval) if main_eval is not None else None
        out = {}
        if ablation_eval is not None:
            out["Occluded drawer: the paper's ablation table (student success vs the full method)"] = (
                design.ABLATION_EXPERIMENT, drawer_tables.ablation_table(ablation_eval))
        return main, out


TASK = DrawerTask()
