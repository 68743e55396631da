"""Readings of the maze runs that the figure invites (issue 15): which side the detours take, and what a seed decides.

* :func:`detour_side` / :func:`detour_side_table`: a detour (a success with no path cell) goes round the maze block
  in the white margin, by the left margin (columns ``x < M``), the right one (``x >= G - M``) or both. The paper's
  heatmaps (panels d, f) show detours on both sides; this counts them per arm and policy from the stored positions.
* :func:`seed_grid_table` / :func:`seed_grid_effects`: ``sitt_release`` over network seed (the run's ``seed``) x maze
  seed (``env.maze_seed``), the student's success per cell, and which factor explains the grid
  (:func:`study.stats.twoway.two_way`), with the verdict rule of :data:`SEED_GRID_RULE`, fixed before the runs.
* :func:`policy_modes_table`: the stored models of an experiment re-evaluated with deterministic and with sampled
  actions, on the held-out mazes and on mazes of the run's own training set; it tells a deterministic policy that
  stalls (it fails where its samples succeed, on training mazes too) from one over-fitted to its training mazes
  (it succeeds on those and fails on held-out ones).
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from color_maze.design import ARMS, eval_grids
from color_maze.env import ColorMazeEnv
from color_maze.evaluate import evaluate, trajectory_until_done
from study import load, store
from study.policy_modes import MODES, stored_policies
from study.policy_modes import policy_modes_summary as modes_summary
from study.registry import get_task
from study.stats.twoway import two_way
from study.tables import per_seed
from study.task import student_view_fn

__all__ = ["SIDES", "SEED_GRID_RULE", "MODES", "MAZE_SETS", "detour_side", "detour_side_table", "seed_grid_table",
           "seed_grid_effects", "policy_modes_table", "policy_modes_summary"]

#: the sides a detour can take (``none``: it never entered a side margin beside the maze block)
SIDES = ("left", "right", "both", "none")

#: how the seed grid's verdict is read (fixed before its runs): permutation p-values of the two factors at 0.05
SEED_GRID_RULE = ("maze seed p < 0.05 and network seed p >= 0.05: failure follows the mazes; the reverse: it follows "
                  "the initialisation; both < 0.05: both; neither: neither (the grid cannot tell)")


def detour_side(trajectory: np.ndarray, grid_size: int, margin_size: int) -> str:
    """Which side margin a trajectory ``(T, 2)`` of (x, y) cells entered beside the maze block (rows
    ``M <= y < G - M``): ``"left"`` (some ``x < M``), ``"right"`` (some ``x >= G - M``), ``"both"`` or ``"none"``."""
    traj = np.asarray(trajectory).reshape(-1, 2)
    beside = (traj[:, 1] >= margin_size) & (traj[:, 1] < grid_size - margin_size)
    left = bool(np.any(beside & (traj[:, 0] < margin_size)))
    right = bool(np.any(beside & (traj[:, 0] >= grid_size - margin_size)))
    return "both" if left and right else "left" if left else "right" if right else "none"


def _run_sides(run_dir: Path, rows: pd.DataFrame, policy: str, grid_size: int, margin_size: int) -> list[str]:
    positions = load.load_positions(run_dir, policy)  # (n_mazes, n_steps + 1, 2)
    out = []
    for _, row in rows.iterrows():
        traj = trajectory_until_done(positions[int(row["maze"])], int(row["ep_length"]))
        out.append(detour_side(traj, grid_size, margin_size))
    return out


def detour_side_table(root: str | Path, experiment: str, profile: str | None = None,
                      policies: Sequence[str] = ("teacher", "student")) -> pd.DataFrame:
    """Per (arm, policy): the held-out first episodes solved by the detour over every run of ``experiment`` (seeds
    and mazes pooled), how many went left / right / both, their shares, and the number of runs with at least one
    left-side and right-side detour. Only runs of ``profile`` when given. Columns: ``arm, policy, runs, detours, left,
    right, both, none, left_share, right_share, both_share, runs_with_left, runs_with_right``."""
    records = []
    for run_dir, config in load.complete_runs(root, experiment, profile):
        rows = pd.read_csv(run_dir / store.EVAL_FILE)
        present = set(rows["policy"])
        for policy in policies:
            if policy not in present:
                continue
            sub = rows[(rows["policy"] == policy) & (rows["route"] == "detour")]
            sides = _run_sides(run_dir, sub, policy, config.env.grid_size, config.env.margin_size) if len(sub) else []
            records.append(dict(arm=config.arm, policy=policy, seed=config.seed,
                                **{side: sides.count(side) for side in SIDES}))
    cols = ["arm", "policy", "runs", "detours", *SIDES, "left_share", "right_share", "both_share", "runs_with_left",
            "runs_with_right"]
    if not records:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(records)
    out = df.groupby(["arm", "policy"], sort=True).agg(
        runs=("seed", "size"), **{side: (side, "sum") for side in SIDES},
        runs_with_left=("left", lambda s: int(np.sum(np.asarray(s) > 0))),
        runs_with_right=("right", lambda s: int(np.sum(np.asarray(s) > 0)))).reset_index()
    out["detours"] = out[list(SIDES)].sum(axis=1)
    for side in ("left", "right", "both"):
        out[f"{side}_share"] = np.where(out["detours"] > 0, out[side] / out["detours"].where(out["detours"] > 0, 1),
                                        np.nan)
    out = out[out["detours"] > 0].reset_index(drop=True)
    return out[cols]


def seed_grid_table(eval_df: pd.DataFrame, policy: str = "student", metric: str = "success") -> pd.DataFrame:
    """The seed grid: one row per network seed (the run's ``seed``), one column ``maze_seed_<k>`` per maze seed (the
    arm's ``env.maze_seed``, :data:`color_maze.design.ARMS`), each cell the run's ``metric`` (share of held-out mazes)
    of ``policy``; missing cells NaN. Columns: ``network_seed, maze_seed_<k>...`` in maze-seed order."""
    ps = per_seed(eval_df)
    ps = ps[ps["policy"] == policy]
    rows = [dict(network_seed=int(r["seed"]), maze_seed=int(ARMS[str(r["arm"])].env["maze_seed"]),
                 value=float(r[metric])) for _, r in ps.iterrows()]
    if not rows:
        return pd.DataFrame(columns=["network_seed"])
    grid = pd.DataFrame(rows).pivot_table(index="network_seed", columns="maze_seed", values="value", aggfunc="first")
    grid = grid.reindex(sorted(grid.columns), axis=1)
    grid.columns = [f"maze_seed_{int(c)}" for c in grid.columns]
    return grid.reset_index()


def seed_grid_effects(grid: pd.DataFrame, n_perm: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """Which factor explains the seed grid (:func:`seed_grid_table`): one row per factor (network seed, maze seed,
    residual) with its share of the total sum of squares and the permutation p-value
    (:func:`study.stats.twoway.two_way`), and a last row with the verdict of :data:`SEED_GRID_RULE`."""
    values = grid.drop(columns="network_seed").to_numpy(dtype=float)
    complete = bool(np.all(np.isfinite(values))) and min(values.shape) >= 2
    if not complete:
        verdict = "inconclusive: the grid is incomplete"
        tw = None
    else:
        tw = two_way(values, n_perm=n_perm, seed=seed)
        net, maze = tw.p_rows < 0.05, tw.p_cols < 0.05
        verdict = ("constant grid: nothing to explain" if tw.ss_total == 0 else
                   "both" if net and maze else "failure follows the mazes" if maze else
                   "failure follows the initialisation" if net else "neither (the grid cannot tell)")
    rows = [
        dict(factor="network seed", ss_share=tw.share_rows if tw else np.nan, p_value=tw.p_rows if tw else np.nan),
        dict(factor="maze seed", ss_share=tw.share_cols if tw else np.nan, p_value=tw.p_cols if tw else np.nan),
        dict(factor="residual (interaction)", ss_share=tw.share_residual if tw else np.nan, p_value=np.nan),
    ]
    out = pd.DataFrame(rows)
    out["verdict"] = ["", "", ""]
    out.loc[len(out)] = dict(factor="verdict", ss_share=np.nan, p_value=np.nan, verdict=verdict)
    return out


#: the progress-log columns :func:`last_iteration_table` reports, in order
LOG_COLUMNS = ("rollout/success_rate", "rollout/ep_len_mean", "rollout/n_paths_mean", "sitt/kl_path", "sitt/kl_normal",
               "sitt/reward_term_mean")


def last_iteration_table(progress: pd.DataFrame, eval_df: pd.DataFrame, arms: Sequence[str] | None = None,
                         window: int = 10) -> pd.DataFrame:
    """Per run (arm, seed): the mean of each :data:`LOG_COLUMNS` over the last ``window`` logged iterations of
    training (``sitt/kl_path`` over the iterations that logged it: NaN when no roll-out visited a path cell), beside
    the run's held-out teacher and student success. Rows ``arm, seed, teacher_success, student_success, <columns>``
    (``/`` in the column names as ``_``), ordered by arm and seed."""
    ps = per_seed(eval_df).pivot_table(index=["arm", "seed"], columns="policy", values="success", observed=True)
    rows = []
    for (arm, seed), run in progress.groupby(["arm", "seed"], sort=True, observed=True):
        if arms is not None and arm not in arms:
            continue
        run = run.sort_values("time/total_timesteps").tail(window)
        row = dict(arm=str(arm), seed=int(seed),
                   teacher_success=float(ps.loc[(arm, seed), "teacher"]) if (arm, seed) in ps.index else np.nan,
                   student_success=float(ps.loc[(arm, seed), "student"])
                   if (arm, seed) in ps.index and "student" in ps.columns else np.nan)
        for col in LOG_COLUMNS:
            row[col.replace("/", "_")] = float(run[col].mean()) if col in run and run[col].notna().any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


#: the mazes :func:`policy_modes_table` evaluates on: the study's held-out mazes, or the first ``eval.n_mazes`` of the
#: run's own training mazes (those of the run's task's ``train_env(config)``, the env the run trained on)
MAZE_SETS = ("held_out", "training")


def policy_modes_table(root: str | Path, experiment: str, profile: str | None = None,
                       arms: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
                       n_steps: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Every complete run of ``experiment`` (of ``profile``, ``arms`` and ``seeds`` when given) re-evaluated from its
    stored model, with each of :data:`MODES` on each of :data:`MAZE_SETS`, by :func:`color_maze.evaluate.evaluate` (the
    release's protocol, ``n_steps`` = the run's ``eval.n_steps`` unless given). Sampled actions use torch's generator
    seeded with ``seed`` before each evaluation, so the table is the same on every call. The deterministic rows on
    the held-out mazes are the run's reported evaluation, recomputed.

    Columns: ``arm, seed, policy, mazes, mode, n_mazes, success, path_share, detour_share, running_share`` (shares of
    the first episodes; ``running``: still going at the horizon), ordered by arm, seed, policy, mazes, mode."""
    records = []
    for run_dir, config in load.complete_runs(root, experiment, profile, arms, seeds):
        e = config.env
        task = get_task(config.task)  # the maze's adapter (color_maze.task), looked up as the study does
        train_env = task.train_env(config)  # the run's training mazes, as it trained
        acts = stored_policies(run_dir, config, student_view_fn(task, train_env, config))
        grids = {"held_out": eval_grids(config), "training": np.asarray(train_env.grids)[: config.eval.n_mazes]}
        for policy, act in acts.items():
            for mazes in MAZE_SETS:
                for mode in MODES:
                    env = ColorMazeEnv.from_grids(grids[mazes], margin_size=e.margin_size, quirks=e.quirks)
                    torch.manual_seed(seed)
                    det = mode == "deterministic"
                    df = evaluate(lambda obs: act(obs, det), env, n_steps=n_steps or config.eval.n_steps)
                    records.append(dict(arm=config.arm, seed=config.seed, policy=policy, mazes=mazes, mode=mode,
                                        n_mazes=len(df), success=float(df["success"].mean()),
                                        path_share=float((df["route"] == "path").mean()),
                                        detour_share=float((df["route"] == "detour").mean()),
                                        running_share=float((df["outcome"] == "running").mean())))
    cols = ["arm", "seed", "policy", "mazes", "mode", "n_mazes", "success", "path_share", "detour_share",
            "running_share"]
    if not records:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(records)[cols].sort_values(["arm", "seed", "policy", "mazes", "mode"]).reset_index(drop=True)


def policy_modes_summary(modes: pd.DataFrame) -> pd.DataFrame:
    """:func:`policy_modes_table` averaged over seeds: one row per ``arm, policy, mazes``, the mean success of each
    mode (``deterministic``, ``stochastic``) and the number of seeds (``n``)."""
    return modes_summary(modes, keys=("arm", "policy", "mazes"))
