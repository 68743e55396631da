"""The color maze as a task of the study (:mod:`study.task`): the adapter between the study and the maze's env,
evaluation and readings. Its data (configs, arms, profiles, experiments, metrics, claims, sweep plans) is the study
design of :mod:`color_maze.design`; the env itself is :class:`color_maze.ColorMazeEnv`, the evaluation protocol
:func:`color_maze.evaluate.evaluate` and the maze figures :mod:`color_maze.figures`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from color_maze import tables as maze_tables
from color_maze.design import (
    ARMS, BUDGET, BUDGET_EXPERIMENT, CLAIMS, DEFAULT_PROFILE, EXPERIMENT_PROFILES, EXPERIMENTS, MAIN_SWEEP_ARMS,
    METRICS, PAPER_ABLATIONS, PROFILES, README_FIGURE, README_NOTE, README_TABLES, README_TITLE, REPORT_NOTES,
    SEED_GRID_SEEDS, SWEEPS, TABLE_METRICS, MazeEnvConfig, MazeEvalConfig, eval_grids, mazes_sha256, training_maze_seed,
)
from color_maze.env import ColorMazeEnv
from color_maze.evaluate import evaluate, stack_positions, summarise
from color_maze.readings import seed_grid_effects, seed_grid_table
from sitt.checks import fail
from study.claims import ablation_claims
from study.tables import main_table
from study.task import HeldOut, Task

#: the design's names, also importable from here (the callers that took them from this module before design.py)
__all__ = ["ARMS", "BUDGET_EXPERIMENT", "CLAIMS", "DEFAULT_PROFILE", "EXPERIMENTS", "MAIN_SWEEP_ARMS", "METRICS",
           "PAPER_ABLATIONS", "PROFILES", "SEED_GRID_SEEDS", "MazeEnvConfig", "MazeEvalConfig", "MazeTask", "TASK",
           "eval_grids", "mazes_sha256", "training_maze_seed"]

# --------------------------------------------------------------------------------------------------------- task


class MazeTask(Task):
    """The color maze (``color_maze.md``): teacher sees the cell states, the student cannot tell lava from path."""

    name = "color_maze"
    env_config = MazeEnvConfig
    eval_config = MazeEvalConfig
    metrics = METRICS
    table_metrics = TABLE_METRICS
    arms = ARMS
    profiles = PROFILES
    experiments = EXPERIMENTS
    experiment_profiles = EXPERIMENT_PROFILES
    claims = CLAIMS
    info_keywords = ("n_paths",)
    episode_column = "maze"
    sweeps = SWEEPS
    main_title = "Main experiment: the paper's maze figure in numbers"
    main_note = ("Shares are over the held-out mazes of each run (path + detour + failed = 1); the release metric "
                 "counts any termination within the evaluation steps as success (lava included).")
    main_labels = {"detour": "detour share", "path": "path share", "release_success": "release metric",
                   "lava": "lava share"}
    notebooks = {"budget_search": "10_budget_search", "main": "20_maze_main", BUDGET_EXPERIMENT: "20_maze_main",
                 "ablations": "30_ablations",
                 "release_vs_paper": "40_release_vs_paper", "main_release_schedule": "45_maze_seeds",
                 "seed_grid": "45_maze_seeds"}
    readme_title = README_TITLE
    readme_note = README_NOTE
    readme_figure = README_FIGURE
    readme_tables = README_TABLES
    budget = BUDGET
    report_notes = REPORT_NOTES
    student_label = "the target offset and the four neighbours, lava and path both shown as 'maze'"

    def train_env(self, config):
        e = config.env
        return ColorMazeEnv(e.n_envs, e.grid_size, e.margin_size, seed=training_maze_seed(config), quirks=e.quirks)

    def canonical_config(self, config):
        if config.env.maze_seed is not None and config.env.maze_seed == config.seed:
            return config.replace(env=dataclasses.replace(config.env, maze_seed=None))
        return config

    def held_out(self, config) -> HeldOut:
        grids = eval_grids(config)
        return HeldOut(grids, len(grids), mazes_sha256(grids))

    def eval_env(self, config):
        """The held-out evaluation env: the held-out mazes with the run's quirks."""
        return ColorMazeEnv.from_grids(eval_grids(config), margin_size=config.env.margin_size, quirks=config.env.quirks)

    def evaluate(self, config, act):
        df = evaluate(act, self.eval_env(config), n_steps=config.eval.n_steps)
        positions = stack_positions(df).astype(np.int16)
        return df.drop(columns=["positions"]), positions

    def summary(self, rows: pd.DataFrame) -> dict[str, Any]:
        return summarise(rows)

    def episode_metrics(self, rows: pd.DataFrame) -> pd.DataFrame:
        df = rows.copy()
        df["release_success"] = _as_float(df["release_success"])
        route = df["route"].astype(str)
        df["path_share"] = (route == "path").astype(float)
        df["detour_share"] = (route == "detour").astype(float)
        df["failed_share"] = (route == "failed").astype(float)
        if "outcome" in df:
            outcome = df["outcome"].astype(str)
            df["lava_share"] = (outcome == "lava").astype(float)
            df["timeout_share"] = (outcome == "timeout").astype(float)
        else:
            df["lava_share"] = np.nan
            df["timeout_share"] = np.nan
        df["n_paths"] = _as_float(df["n_paths"]) if "n_paths" in df else np.nan
        length = _as_float(df["ep_length"]) if "ep_length" in df else pd.Series(np.nan, index=df.index)
        df["success_length"] = length.where(_as_float(df["success"]) > 0.5)
        return df

    def provenance(self, config, train_env, held_out: HeldOut) -> dict[str, Any]:
        train_grids = np.asarray(train_env.grids)
        train_set = {g.tobytes() for g in train_grids}
        return dict(
            train_mazes_sha256=mazes_sha256(train_grids),
            eval_mazes_sha256=held_out.sha256,
            eval_mazes_in_training=int(sum(g.tobytes() in train_set for g in held_out.data)),
        )

    def report_tables(self, evals, labels):
        main = main_table(evals["main"]) if evals.get("main") is not None else None
        out = {}
        if evals.get("ablations") is not None:
            out["Ablations (student true success vs full SITT)"] = (
                "ablations", maze_tables.ablation_table(evals["ablations"], "sitt_release", labels=labels))
        if evals.get("release_vs_paper") is not None:
            out["Release vs paper, one difference at a time"] = (
                "release_vs_paper", maze_tables.release_vs_paper_table(evals["release_vs_paper"], "sitt_release",
                                                                       labels=labels))
        if evals.get("main_release_schedule") is not None:
            out["Main experiment under the authors' schedule (profile release: 1000 x 250 steps, 1e8 steps)"] = (
                "main_release_schedule", main_table(evals["main_release_schedule"]))
        if evals.get("seed_grid") is not None:
            grid = seed_grid_table(evals["seed_grid"])
            out["Seed grid: sitt_release student success, network seed (rows) x maze seed (columns)"] = ("seed_grid",
                                                                                                        grid)
            out["Seed grid: which seed explains it"] = ("seed_grid_effects", seed_grid_effects(grid))
        return main, out

    def report_claims(self, evals, labels):
        out = list(self.claims)
        if evals.get("ablations") is not None:  # the paper's three ablations
            out += ablation_claims(sorted(set(evals["ablations"]["arm"])), "sitt_release", labels,
                                   paper_ablations=PAPER_ABLATIONS)
        return tuple(out)

    def validate(self, config) -> None:
        if config.seed == config.eval.maze_seed and config.env.maze_seed is None:
            fail("seed", config.seed, f"any integer >= 0 except eval.maze_seed ({config.eval.maze_seed}): "
                 "the held-out mazes must never be a training set")
        if config.env.maze_seed is not None and config.env.maze_seed == config.eval.maze_seed:
            fail("env.maze_seed", config.env.maze_seed, f"None or any integer >= 0 except eval.maze_seed "
                 f"({config.eval.maze_seed}): the held-out mazes must never be a training set")


def _as_float(col: pd.Series) -> pd.Series:
    if col.dtype == object:
        col = col.map(lambda v: {"True": True, "False": False}.get(v, v) if isinstance(v, str) else v)
    return pd.to_numeric(col, errors="coerce").astype(float)


TASK = MazeTask()
