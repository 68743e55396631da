"""Evaluation on fixed scenes: one episode per scene, one row per scene, and the trajectories.

:func:`evaluate` builds ``OccludedDrawerEnv.from_scenes(scenes, config)``, resets it and steps
every env for ``config.time_limit`` steps with ``act_fn(teacher obs)``; only each env's FIRST
episode is used (envs that finish auto-reset and keep stepping, ignored). Everything is read
from the observations (the terminal observation at the last step), so the numbers are what
the policy saw; the visibility is the student's flag (:func:`occluded_drawer.env.visibility_from_obs`).

Rows (``pandas.DataFrame``, one per scene, in scene order)
----------------------------------------------------------
``scene``            index of the scene.
``success``          the drawer was open by ``success_opening`` within the time limit.
``visible_share``    share of the decisions taken before the first grasp (observations
                     ``0 .. first_grasp - 1``; all decisions of the episode if it never
                     grasped) at which the handle was visible.
``grasp_attempts``   times the gripper closed (open -> closed) in the episode.
``missed_grasps``    of those, the closings away from the handle.
``ep_return``        the teacher's (undiscounted) return of the episode.
``steps``            steps the episode took.
``first_grasp``      step after which the gripper first held the handle (NaN if never).

Trajectories (dict of numpy arrays, padded after each episode's end)
-------------------------------------------------------------------
``q (n, T + 1, K)``, ``gripper (n, T + 1, 2)``, ``handle (n, T + 1, 2)`` float64 (NaN
padding), ``visible``, ``holding``, ``closed`` ``(n, T + 1)`` bool (False padding), ``steps
(n,)``: row 0 is the start, row ``t`` the state after step ``t``, valid for ``t <= steps``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np
import pandas as pd

from .config import DrawerConfig
from .env import OccludedDrawerEnv, obs_layout, visibility_from_obs
from .generation import Scenes

__all__ = ["evaluate", "summarise", "COLUMNS"]

COLUMNS = ["scene", "success", "visible_share", "grasp_attempts", "missed_grasps", "ep_return", "steps", "first_grasp"]


def evaluate(
    act_fn: Callable[[np.ndarray], Any], scenes: Scenes, config: DrawerConfig | None = None
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Run ``act_fn`` (teacher obs ``(n, D)`` -> actions ``(n, K + 1)``) once on every scene (module doc).

    For a student, pass ``lambda obs: student_act(student_obs(obs, config))``.
    """
    config = (config or DrawerConfig()).validate()
    env = OccludedDrawerEnv.from_scenes(scenes, config)
    lay = obs_layout(config.n_links)
    n, T = env.num_envs, config.time_limit
    obs_seq = np.zeros((T + 1, n, lay.dim), dtype=np.float32)
    rewards = np.zeros((T, n))
    alive = np.ones(n, dtype=bool)
    steps = np.full(n, T, dtype=np.int64)
    success = np.zeros(n, dtype=bool)
    attempts = np.zeros(n, dtype=np.int64)
    misses = np.zeros(n, dtype=np.int64)
    obs = env.reset()
    obs_seq[0] = obs
    for t in range(T):
        actions = np.asarray(act_fn(obs), dtype=np.float64)
        if actions.shape != (n, config.action_dim):
            raise ValueError(f"act_fn: got actions of shape {actions.shape}; allowed: ({n}, {config.action_dim})")
        obs, rew, done, infos = env.step(actions)
        rewards[t] = np.where(alive, rew, 0.0)
        row = obs.copy()
        for i in np.flatnonzero(done & alive):
            info = infos[i]
            row[i] = info["terminal_observation"]
            steps[i] = t + 1
            success[i] = bool(info["is_success"])
            attempts[i] = int(info["grasp_attempts"])
            misses[i] = int(info["missed_grasps"])
        obs_seq[t + 1] = np.where(alive[:, None], row, 0.0)
        alive &= ~done
        if not alive.any():
            obs_seq = obs_seq[: t + 2]
            break
    rows_t = obs_seq.shape[0]
    valid = np.arange(rows_t)[:, None] <= steps[None, :]  # (T' + 1, n)
    visible = visibility_from_obs(obs_seq, config) & valid
    holding = (obs_seq[..., lay.holding] > 0.5) & valid
    closed = (obs_seq[..., lay.closed] > 0.5) & valid

    grasped = holding.any(axis=0)
    first = np.where(grasped, holding.argmax(axis=0), -1)  # observation index of the first hold
    decisions = np.where(grasped, first, steps)  # observations 0 .. decisions - 1
    before = np.arange(rows_t)[:, None] < decisions[None, :]
    visible_share = (visible & before).sum(axis=0) / np.maximum(decisions, 1)

    rows = pd.DataFrame(
        {
            "scene": np.arange(n),
            "success": success,
            "visible_share": visible_share.astype(np.float64),
            "grasp_attempts": attempts,
            "missed_grasps": misses,
            "ep_return": rewards.sum(axis=0),
            "steps": steps,
            "first_grasp": np.where(grasped, first, np.nan).astype(np.float64),
        }
    )
    rows.attrs.update(time_limit=T, n_links=config.n_links)

    def pad(x: np.ndarray) -> np.ndarray:  # (T' + 1, n, ...) -> (n, T + 1, ...), NaN after the end
        full = np.full((n, T + 1) + x.shape[2:], np.nan)
        mask = valid.T.reshape(valid.T.shape + (1,) * (x.ndim - 2))
        full[:, :rows_t] = np.where(mask, np.swapaxes(x, 0, 1), np.nan)
        return full

    def pad_bool(x: np.ndarray) -> np.ndarray:
        full = np.zeros((n, T + 1), dtype=bool)
        full[:, :rows_t] = x.T
        return full

    q = np.arctan2(obs_seq[..., lay.sin_q].astype(np.float64), obs_seq[..., lay.cos_q].astype(np.float64))
    trajectories = {
        "q": pad(q),
        "gripper": pad(obs_seq[..., lay.gripper].astype(np.float64)),
        "handle": pad(obs_seq[..., lay.handle].astype(np.float64)),
        "visible": pad_bool(visible),
        "holding": pad_bool(holding),
        "closed": pad_bool(closed),
        "steps": steps.copy(),
    }
    return rows, trajectories


def summarise(rows: pd.DataFrame) -> dict[str, float]:
    """Means over scenes: ``success_rate``, ``visible_share``, ``grasp_attempts``, ``missed_grasps``,
    ``ep_return``, ``steps`` (all episodes) and ``steps_success`` (successful ones; NaN if none)."""
    succ = rows["success"].to_numpy(dtype=bool)
    steps = rows["steps"].to_numpy(dtype=np.float64)
    return {
        "n_scenes": int(len(rows)),
        "success_rate": float(succ.mean()),
        "visible_share": float(rows["visible_share"].mean()),
        "grasp_attempts": float(rows["grasp_attempts"].mean()),
        "missed_grasps": float(rows["missed_grasps"].mean()),
        "ep_return": float(rows["ep_return"].mean()),
        "steps": float(steps.mean()),
        "steps_success": float(steps[succ].mean()) if succ.any() else float("nan"),
    }
