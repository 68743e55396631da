"""Evaluation of a policy on the color maze, as the release does it, with the true metrics beside it.

The release evaluates on 15 held-out mazes: reset, deterministic actions for exactly
100 steps, envs that finish auto-reset and keep walking, every step's position kept
for the heatmaps, and "success" = the env terminated at least once (spec quirk 3,
stepping on lava counts). :func:`evaluate` runs the same protocol and reports, per
maze, both that metric (``release_success``) and the true one (``success``: the
FIRST episode reached the target within the horizon), computed from positions and
``dones`` only, so it does not depend on the env's quirk switches (e.g. the env's
``info["episode"]["l"]`` is one short in release mode; we count steps ourselves).

Positions
---------
``positions`` of a row is an ``(n_steps + 1, 2)`` int array of (x, y): row 0 is the
start (after ``reset()``), row t the cell the agent stood on after step t. When an
episode ends at step t, row t is the cell where it ended (target, lava cell, or the
timeout cell), NOT the start the env has already put the agent back on; row t + 1
is then one step from the start. (The env's ``agent_pos`` after an auto-reset is the
start, so the terminal cell is recomputed from the previous cell and the action:
0 right (+x), 1 down (+y), 2 left (-x), 3 up (-y), clipped to the grid.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ACTION_DELTAS",
    "PATH_STATES",
    "ROUTES",
    "OUTCOMES",
    "evaluate",
    "trajectory_until_done",
    "stack_positions",
    "summarise",
]

#: (dx, dy) of actions 0 right, 1 down, 2 left, 3 up.
ACTION_DELTAS = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.int64)
#: cell states that count as path for ``n_paths`` (the env's definition: path cells, state 2)
PATH_STATES = (2,)
_FAIL = 1
ROUTES = ("path", "detour", "failed")
OUTCOMES = ("success", "lava", "timeout", "running")

COLUMNS = [
    "maze",
    "success",
    "release_success",
    "ep_return",
    "ep_length",
    "n_paths",
    "through_path",
    "route",
    "outcome",
    "n_done",
    "n_success",
    "positions",
]


def _object_column(values: list) -> pd.Series:
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return pd.Series(arr, dtype=object)


def evaluate(act_fn: Callable[[np.ndarray], Any], env, n_steps: int = 100) -> pd.DataFrame:
    """Run ``act_fn`` on every maze of ``env`` for exactly ``n_steps`` steps, as the release does.

    act_fn: ``obs (n, 9) -> actions (n,)`` (ints in 0..3), e.g. the deterministic teacher
    policy; for a student pass a function that masks the observation first
    (``lambda o: student_act(env.student_obs(o))``).
    env: a ``ColorMazeEnv`` (typically ``ColorMazeEnv.from_grids(held_out_grids)``); it is
    reset here. Envs that finish auto-reset and keep walking until ``n_steps``.

    Returns one row per maze (see ``COLUMNS``):

    ``maze``             index of the maze in ``env``.
    ``success``          the first episode reached the target within ``n_steps`` (true success).
    ``release_success``  the release's metric: any termination within ``n_steps`` (lava included).
    ``ep_return``        sum of rewards of the first episode (up to ``n_steps`` if it did not end).
    ``ep_length``        steps the first episode took (float; NaN if it did not end).
    ``n_paths``          path-cell visits of the first episode (start cell and terminal cell
                         included, as the env's visit counter does; up to ``n_steps`` if running).
    ``through_path``     ``n_paths > 0``.
    ``route``            "path" (success with n_paths > 0), "detour" (success with n_paths == 0)
                         or "failed".
    ``outcome``          first episode: "success", "lava", "timeout" (ended by the env's time
                         limit) or "running" (still going at ``n_steps``).
    ``n_done``           episodes that ended within ``n_steps``.
    ``n_success``        of those, how many reached the target.
    ``positions``        ``(n_steps + 1, 2)`` int64 array of (x, y), start included (module doc).

    ``df.attrs`` holds ``n_steps``, ``grid_size``, ``margin_size``, ``target``, ``start`` and,
    when the env has quirks, ``any_termination_success`` (read by :func:`summarise`).
    """
    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    n = int(env.num_envs)
    grids = np.asarray(env.grids)
    size = int(grids.shape[1])
    target = np.asarray(env.target, dtype=np.int64).reshape(2)

    obs = env.reset()
    positions = np.empty((n_steps + 1, n, 2), dtype=np.int64)
    positions[0] = np.asarray(env.agent_pos, dtype=np.int64)
    rewards = np.zeros((n_steps, n), dtype=np.float64)
    dones = np.zeros((n_steps, n), dtype=bool)
    prev = positions[0].copy()  # where the env has the agent before each step (start after a reset)
    for t in range(n_steps):
        actions = np.asarray(act_fn(obs)).reshape(-1)
        if actions.shape != (n,):
            raise ValueError(f"act_fn must return {n} actions, got shape {np.asarray(actions).shape}")
        actions = actions.astype(np.int64)
        if actions.min() < 0 or actions.max() > 3:
            raise ValueError("act_fn must return actions in 0..3")
        moved = np.clip(prev + ACTION_DELTAS[actions], 0, size - 1)
        obs, rew, done, _infos = env.step(actions)
        done = np.asarray(done, dtype=bool).reshape(n)
        now = np.asarray(env.agent_pos, dtype=np.int64)
        live = ~done
        if not np.array_equal(now[live], moved[live]):
            bad = int(np.flatnonzero(live & np.any(now != moved, axis=1))[0])
            raise RuntimeError(
                f"env {bad}: agent at {now[bad].tolist()} after action {int(actions[bad])} from "
                f"{prev[bad].tolist()}, expected {moved[bad].tolist()} (action semantics mismatch)"
            )
        positions[t + 1] = np.where(done[:, None], moved, now)
        rewards[t] = np.asarray(rew, dtype=np.float64).reshape(n)
        dones[t] = done
        prev = now.copy()

    env_idx = np.arange(n)
    ended = dones.any(axis=0)
    first_done = np.where(ended, dones.argmax(axis=0), n_steps - 1)  # step index (0-based) of the end
    end_row = np.where(ended, first_done + 1, n_steps)  # positions row where the first episode ends
    end_pos = positions[end_row, env_idx]  # (n, 2)
    on_target = np.all(end_pos == target, axis=1)
    end_state = grids[env_idx, end_pos[:, 0], end_pos[:, 1]]
    success = ended & on_target
    lava = ended & ~on_target & (end_state == _FAIL)
    timeout = ended & ~on_target & ~lava

    # per-step "this position is the terminal cell of an episode that reached the target"
    pos_after = positions[1:]  # (n_steps, n, 2)
    reached = dones & np.all(pos_after == target, axis=2)
    n_done = dones.sum(axis=0)
    n_success = reached.sum(axis=0)

    steps = np.arange(n_steps)[:, None]
    in_first = steps <= first_done[None, :]  # steps of the first episode (all steps if it did not end)
    ep_return = np.where(in_first, rewards, 0.0).sum(axis=0)
    state_along = grids[env_idx[None, :], positions[..., 0], positions[..., 1]]  # (n_steps + 1, n)
    rows = np.arange(n_steps + 1)[:, None]
    on_path = np.isin(state_along, PATH_STATES) & (rows <= end_row[None, :])
    n_paths = on_path.sum(axis=0)

    ep_length = np.where(ended, first_done + 1, np.nan).astype(np.float64)
    route = np.where(success & (n_paths > 0), "path", np.where(success, "detour", "failed"))
    outcome = np.where(success, "success", np.where(lava, "lava", np.where(timeout, "timeout", "running")))

    df = pd.DataFrame(
        {
            "maze": env_idx,
            "success": success,
            "release_success": ended,
            "ep_return": ep_return,
            "ep_length": ep_length,
            "n_paths": n_paths.astype(np.int64),
            "through_path": n_paths > 0,
            "route": route.astype(object),
            "outcome": outcome.astype(object),
            "n_done": n_done.astype(np.int64),
            "n_success": n_success.astype(np.int64),
        }
    )
    df["positions"] = _object_column([positions[:, i].copy() for i in range(n)])
    df.attrs.update(
        n_steps=n_steps,
        grid_size=size,
        margin_size=int(getattr(env, "margin_size", -1)),
        target=tuple(int(v) for v in target),
        start=tuple(int(v) for v in np.asarray(getattr(env, "start", positions[0, 0])).reshape(2)),
    )
    quirks = getattr(env, "quirks", None)
    if quirks is not None and hasattr(quirks, "any_termination_success"):
        df.attrs["any_termination_success"] = bool(quirks.any_termination_success)
    return df


def trajectory_until_done(positions_row, ep_length=None) -> np.ndarray:
    """Cut a row's positions at the end of its first episode (for the trajectory plot).

    ``positions_row``: a row of :func:`evaluate`'s frame (``df.iloc[i]`` or a dict with
    ``positions`` and ``ep_length``), or a positions array ``(T + 1, 2)`` together with
    ``ep_length``. Returns ``positions[: ep_length + 1]`` (start to terminal cell, inclusive),
    or all positions if the episode did not end (``ep_length`` NaN/None). For a bare array
    without ``ep_length`` the cut is at the first non-neighbouring step (an auto-reset jump);
    that heuristic misses a reset that lands next to the terminal cell, so pass the row.
    """
    if isinstance(positions_row, (pd.Series, Mapping)):
        pos = np.asarray(positions_row["positions"])
        if ep_length is None:
            ep_length = positions_row["ep_length"]
        if ep_length is None or (isinstance(ep_length, float) and math.isnan(ep_length)):
            return pos.copy()
    else:
        pos = np.asarray(positions_row)
    pos = pos.reshape(-1, 2)
    if ep_length is not None:
        if isinstance(ep_length, float) and math.isnan(ep_length):
            return pos.copy()
        return pos[: int(ep_length) + 1].copy()
    if len(pos) < 2:
        return pos.copy()
    jumps = np.flatnonzero(np.abs(np.diff(pos, axis=0)).sum(axis=1) > 1)
    return pos[: jumps[0] + 1].copy() if len(jumps) else pos.copy()


def stack_positions(df: pd.DataFrame) -> np.ndarray:
    """All rows' positions as one int array ``(n_mazes, n_steps + 1, 2)`` (for heatmaps)."""
    return np.stack([np.asarray(p) for p in df["positions"]])


def _mean(x) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()) if x.size else float("nan")


def summarise(df: pd.DataFrame) -> dict:
    """Aggregate :func:`evaluate`'s frame.

    Keys: ``n_mazes``; ``success_rate`` (true success); ``release_success_rate`` (any
    termination, the release's number); ``reported_success_rate`` (what the env's
    ``any_termination_success`` quirk would report: the release metric when on, true success
    when off; equals ``success_rate`` when the frame has no quirk info); ``lava_rate``,
    ``timeout_rate``, ``running_rate`` (first-episode outcomes); ``path_share`` and
    ``detour_share`` (among successes; NaN with no success); ``through_path_rate``;
    ``mean_length`` (mean ep_length of successful first episodes; NaN with none);
    ``mean_length_ended`` (over all first episodes that ended); ``mean_return``.
    """
    succ = df["success"].to_numpy(dtype=bool)
    routes = df["route"].to_numpy(dtype=object)
    outcome = df["outcome"].to_numpy(dtype=object)
    lengths = df["ep_length"].to_numpy(dtype=np.float64)
    n_succ = int(succ.sum())
    success_rate = _mean(succ)
    release_rate = _mean(df["release_success"].to_numpy(dtype=bool))
    quirk = df.attrs.get("any_termination_success")
    return {
        "n_mazes": int(len(df)),
        "success_rate": success_rate,
        "release_success_rate": release_rate,
        "reported_success_rate": release_rate if quirk else success_rate,
        "lava_rate": _mean(outcome == "lava"),
        "timeout_rate": _mean(outcome == "timeout"),
        "running_rate": _mean(outcome == "running"),
        "path_share": float(np.sum(routes == "path") / n_succ) if n_succ else float("nan"),
        "detour_share": float(np.sum(routes == "detour") / n_succ) if n_succ else float("nan"),
        "through_path_rate": _mean(df["through_path"].to_numpy(dtype=bool)),
        "mean_length": _mean(lengths[succ]),
        "mean_length_ended": _mean(lengths[~np.isnan(lengths)]),
        "mean_return": _mean(df["ep_return"].to_numpy(dtype=np.float64)),
    }
