"""Evaluation on held-out levels: one first episode per level seed, every policy on the same levels.

:func:`evaluate` resets one MiniGrid env per level (``env.reset(seed=level_seed)``: MiniGrid's own level
generation), steps them together with the policy's actions on the batch of running episodes (teacher observations
in, actions out, as a trained SB3 policy's ``predict``), until every episode has ended: on the goal (success), in
lava (death) or at MiniGrid's step limit ``max_steps`` (timeout; ``4 * size**2`` in the lava envs).

Rows, one per level: ``episode`` (its index in the held-out set), ``level_seed``, ``success`` (the goal reached),
``lava`` (died in lava), ``timeout`` (neither before the step limit), ``steps`` (episode length), ``return`` (the
env's reward: ``1 - 0.9 * steps / max_steps`` on success, else 0, with MiniGrid's ``max_steps``). The trajectories
(:func:`evaluate`'s second value) are ``(n_levels, max_steps + 1, 3)`` int16 ``(x, y, direction)`` from the first
state on, ``-1`` after the episode ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from minigrid_lava.env import env_geometry, make_env

ActFn = Callable[[np.ndarray], np.ndarray]
COLUMNS = ("episode", "level_seed", "success", "lava", "timeout", "steps", "return")


def reset_levels(env_id: str, level_seeds: Sequence[int], view_size: int | None = None):
    """One env per level seed, reset on it: ``(envs, first observations (n, W * H * 3))``."""
    envs, first = [], []
    for seed in level_seeds:
        env = make_env(env_id, stream_seed=None, monitor=False, view_size=view_size)
        obs, _ = env.reset(seed=int(seed))
        envs.append(env)
        first.append(obs)
    return envs, np.stack(first) if first else np.zeros((0, 0), np.uint8)


def level_layouts(env_id: str, level_seeds: Sequence[int]) -> np.ndarray:
    """The first observations (flat full grids, agent included) of the levels: ``(n, W * H * 3)`` uint8. They
    determine the levels (MiniGrid's lava envs draw nothing after the reset)."""
    envs, first = reset_levels(env_id, level_seeds)
    for env in envs:
        env.close()
    return first


def _agent(env) -> tuple[int, int, int]:
    u = env.unwrapped
    return int(u.agent_pos[0]), int(u.agent_pos[1]), int(u.agent_dir)


def evaluate(act: ActFn, env_id: str, level_seeds: Sequence[int], view_size: int | None = None,
             max_steps: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Run ``act`` on the first episode of every level (module docstring): ``(rows, trajectories)``. ``view_size``:
    MiniGrid's ``agent_view_size`` (it changes nothing the teacher's observation holds; None: the env's own);
    ``max_steps``: end the episodes there, counted as timeouts, when it is below MiniGrid's own limit (None: MiniGrid's
    limit; the smoke profile's few steps)."""
    level_seeds = [int(s) for s in level_seeds]
    limit = int(env_geometry(env_id, view_size)["max_steps"])
    max_steps = limit if max_steps is None else min(int(max_steps), limit)
    envs, obs = reset_levels(env_id, level_seeds, view_size)
    n = len(envs)
    traj = np.full((n, max_steps + 1, 3), -1, dtype=np.int16)
    steps = np.zeros(n, dtype=np.int64)
    ret = np.zeros(n, dtype=np.float64)
    success, lava, running = np.zeros(n, bool), np.zeros(n, bool), np.ones(n, bool)
    for i, env in enumerate(envs):
        traj[i, 0] = _agent(env)
    while running.any():
        idx = np.flatnonzero(running)
        actions = np.asarray(act(obs[idx])).reshape(len(idx), -1)[:, 0]
        for k, i in enumerate(idx):
            o, reward, terminated, truncated, info = envs[i].step(int(actions[k]))
            steps[i] += 1
            ret[i] += float(reward)
            obs[i] = o
            traj[i, steps[i]] = _agent(envs[i])
            if terminated or truncated or steps[i] >= max_steps:
                running[i] = False
                success[i] = bool(info.get("success", 0.0))
                lava[i] = bool(info.get("lava", 0.0))
    for env in envs:
        env.close()
    rows = pd.DataFrame({
        "episode": np.arange(n, dtype=np.int64),
        "level_seed": np.asarray(level_seeds, dtype=np.int64),
        "success": success,
        "lava": lava,
        "timeout": ~(success | lava),
        "steps": steps,
        "return": ret,
    })
    return rows, traj


def summarise(rows: pd.DataFrame) -> dict:
    """The per-policy summary of a run's marker: episodes, success rate, lava rate, timeout rate, mean steps and
    return, mean steps of the successful episodes."""
    ok = rows["success"].astype(bool)
    return dict(
        n_episodes=int(len(rows)),
        success_rate=float(ok.mean()) if len(rows) else float("nan"),
        lava_rate=float(rows["lava"].astype(float).mean()) if len(rows) else float("nan"),
        timeout_rate=float(rows["timeout"].astype(float).mean()) if len(rows) else float("nan"),
        mean_steps=float(rows["steps"].mean()) if len(rows) else float("nan"),
        mean_return=float(rows["return"].mean()) if len(rows) else float("nan"),
        success_steps=float(rows.loc[ok, "steps"].mean()) if ok.any() else float("nan"),
    )


__all__ = ["COLUMNS", "evaluate", "level_layouts", "reset_levels", "summarise"]
