"""MiniGrid's lava envs as a task of the study (:mod:`study.task`): the adapter between the study and MiniGrid's env,
evaluation and levels. Its data (configs, arms, profiles, experiments, metrics, claims, the tuning search) is the
study design of :mod:`minigrid_lava.design`.

The env is MiniGrid's own (the ``minigrid`` package, pinned in ``pyproject.toml``); the teacher sees the full grid
(``FullyObsWrapper``), the student MiniGrid's egocentric view with occlusion (:mod:`minigrid_lava.views`). The study's
profile (:data:`minigrid_lava.design.STUDY_ENV`, chosen on the tuning seeds: the comment above
:data:`minigrid_lava.design.DEFAULT_PROFILE`) is ``MiniGrid-LavaGapS7-v0`` with a 3 x 3 view and MiniGrid's 3
navigation actions. The env wrappers are :mod:`minigrid_lava.env`, the evaluation :mod:`minigrid_lava.evaluate`, the
figures :mod:`minigrid_lava.figures`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from minigrid_lava.design import (
    ACTION_COUNTS, ARMS, BUDGET, BUDGET_EXPERIMENT, CLAIMS, DEFAULT_ENV_ID, DEFAULT_PROFILE, EXPERIMENTS, GRID,
    GRID_EXPERIMENT, LAVA_ENVS, MAIN_ARMS, METRICS, MINIGRID_PPO, PROFILES, SELECTION, STUDY_ENV, SWEEPS,
    TABLE_METRICS, TUNING, TUNING_EXPERIMENTS, VIEW_SIZES, MiniGridEnvConfig, MiniGridEvalConfig, held_out_seeds,
    levels_sha256,
)
from minigrid_lava.env import make_vec_env
from minigrid_lava.evaluate import evaluate, level_layouts, summarise
from minigrid_lava.oracle import layout_of
from minigrid_lava.views import unflatten_full
from study.tables import as_float
from study.task import HeldOut, Task

#: the design's names, also importable from here (the callers that took them from this module before design.py)
__all__ = ["ACTION_COUNTS", "ARMS", "BUDGET_EXPERIMENT", "CLAIMS", "DEFAULT_ENV_ID", "DEFAULT_PROFILE", "EXPERIMENTS",
           "GRID", "GRID_EXPERIMENT", "LAVA_ENVS", "MAIN_ARMS", "METRICS", "MINIGRID_PPO", "PROFILES", "SELECTION",
           "STUDY_ENV", "TUNING", "VIEW_SIZES", "MiniGridEnvConfig", "MiniGridEvalConfig", "MiniGridTask", "TASK",
           "held_out_seeds", "levels_sha256"]

# --------------------------------------------------------------------------------------------------------- task


class MiniGridTask(Task):
    """MiniGrid's lava envs: the teacher sees the whole grid, the student MiniGrid's own egocentric view (3 x 3 in
    the study's profiles)."""

    name = "minigrid_lava"
    env_config = MiniGridEnvConfig
    eval_config = MiniGridEvalConfig
    metrics = METRICS
    table_metrics = TABLE_METRICS
    arms = ARMS
    profiles = PROFILES
    experiments = EXPERIMENTS
    claims = ()  # CLAIMS are reported once runs exist (report_claims), so that no run leaves the claims table alone
    info_keywords = ("success", "lava")
    episode_column = "episode"
    sweeps = SWEEPS
    tuning_experiments = TUNING_EXPERIMENTS
    budget = BUDGET
    main_title = "MiniGrid (LavaGapS7): teacher on the full grid, student on MiniGrid's 3 x 3 view"
    main_note = ("Shares are over the held-out levels of each run (success + lava + timeout = 1); steps and return "
                 "are means over all held-out episodes (return: MiniGrid's 1 - 0.9 steps / max_steps on success).")
    main_labels = {"lava": "lava share", "steps": "steps", "return": "return", "timeout": "timeout share"}
    notebooks = {"minigrid_main": "70_minigrid", TUNING: "70_minigrid", BUDGET_EXPERIMENT: "70_minigrid"}
    student_label = "MiniGrid's egocentric view (3 x 3 in the study's profiles; walls occlude), flattened"

    def train_env(self, config):
        e = config.env
        return make_vec_env(e.env_id, e.n_envs, config.seed, e.vec_env, view_size=e.view_size,
                            actions=None if e.actions == 7 else e.actions)

    def held_out(self, config) -> HeldOut:
        seeds = held_out_seeds(config)
        layouts = level_layouts(config.env.env_id, seeds)
        return HeldOut(dict(seeds=seeds, layouts=layouts), len(seeds), levels_sha256(seeds, layouts))

    def evaluate(self, config, act):
        rows, trajectories = evaluate(act, config.env.env_id, held_out_seeds(config), config.env.view_size,
                                      config.eval.max_steps)
        return rows, trajectories

    def summary(self, rows: pd.DataFrame) -> dict[str, Any]:
        return summarise(rows)

    def episode_metrics(self, rows: pd.DataFrame) -> pd.DataFrame:
        df = rows.copy()
        df["lava_share"] = as_float(df["lava"])
        df["timeout_share"] = as_float(df["timeout"])
        df["steps"] = pd.to_numeric(df["steps"], errors="coerce").astype(float)
        df["return"] = pd.to_numeric(df["return"], errors="coerce").astype(float)
        df["success_steps"] = df["steps"].where(as_float(df["success"]) > 0.5)
        return df

    def provenance(self, config, train_env, held_out: HeldOut) -> dict[str, Any]:
        """The held-out levels' fingerprint and how many distinct layouts they hold, and the training envs' level
        streams (seeds, and the levels each env started)."""
        layouts = held_out.data["layouts"]
        images = unflatten_full(layouts, train_env.width, train_env.height)
        distinct = {layout_of(im).tobytes() for im in images}
        streams = train_env.get_attr("stream_seed")
        started = train_env.get_attr("levels")
        return dict(
            env_id=config.env.env_id,
            eval_levels_sha256=held_out.sha256,
            eval_distinct_layouts=len(distinct),
            train_stream_seeds=[int(s) for s in streams],
            train_levels_started=int(sum(started)),
        )

    def report_claims(self, evals, labels):
        return CLAIMS if evals.get("minigrid_main") is not None else ()


TASK = MiniGridTask()
