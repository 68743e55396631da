"""A slow, obviously-correct transcription of the color maze, one env at a time.

``ReferenceColorMaze`` follows ``shared/spec/color_maze.md`` and the authors'
release line by line with a Python loop over envs and no tricks (no padded
grid, no flat indices, no running counters: ``n_paths`` is summed over the
visit grid as the release does). It exists to check :class:`ColorMazeEnv`
transition for transition and as the baseline of the throughput benchmark.
All quirk switches that affect the env are supported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .generation import BORDER, FAIL, PATH, start_position, target_position, validate_grids
from .quirks import QuirksLike, resolve_quirks

__all__ = ["ReferenceColorMaze"]

_DIRECTIONS = [(1, 0), (0, 1), (-1, 0), (0, -1)]  # right, down, left, up


class ReferenceColorMaze:
    """Plain-Python color maze over given grids ``(n, G, G)``; ``step`` returns ``(obs, rewards, dones, infos)``."""

    def __init__(self, grids: Any, margin_size: int = 3, quirks: QuirksLike = "release") -> None:
        self.quirks = resolve_quirks(quirks)
        self.grids, self.grid_size, self.margin_size = validate_grids(grids, margin_size)
        self.num_envs = self.grids.shape[0]
        G = self.grid_size
        self.target = target_position(G, self.margin_size)
        self.start = start_position(G, self.margin_size)
        self.obs_dtype = np.float64 if self.quirks.float64_obs else np.float32
        self.agent_pos = [list(self.start) for _ in range(self.num_envs)]
        self.last_pos = [list(self.start) for _ in range(self.num_envs)]
        self.visits = np.zeros((self.num_envs, G, G), dtype=np.int64)
        self.episode_length = [0] * self.num_envs
        self.episode_return = [0.0] * self.num_envs
        self.reset()

    def _state(self, env: int, x: int, y: int) -> int:
        if 0 <= x < self.grid_size and 0 <= y < self.grid_size:
            return int(self.grids[env, x, y])
        return BORDER

    def _reset_env(self, env: int) -> None:
        self.agent_pos[env] = list(self.start)
        self.last_pos[env] = list(self.start)
        self.visits[env] = 0
        self.visits[env, self.start[0], self.start[1]] = 1

    def _obs_one(self, env: int, pos: list[int], last: list[int]) -> list[float]:
        x, y = pos
        if self.quirks.last_cell_two_step:
            feature = [x - (last[0] + 1), y - (last[1] + 1)]
        else:
            feature = [x - last[0], y - last[1]]
        return [
            self.target[0] - x,
            self.target[1] - y,
            self._state(env, x, y),
            self._state(env, x, y + 1),  # below
            self._state(env, x + 1, y),  # right
            self._state(env, x, y - 1),  # above
            self._state(env, x - 1, y),  # left
            *feature,
        ]

    def reset(self) -> np.ndarray:
        for env in range(self.num_envs):
            self._reset_env(env)
            self.episode_length[env] = 0
            self.episode_return[env] = 0.0
        return np.array(
            [self._obs_one(e, self.agent_pos[e], self.last_pos[e]) for e in range(self.num_envs)],
            dtype=self.obs_dtype,
        )

    def step(self, actions: Any):
        actions = np.asarray(actions).reshape(-1)
        G = self.grid_size
        n = self.num_envs
        obs = np.zeros((n, 9), dtype=self.obs_dtype)
        rewards = np.zeros(n, dtype=np.float64)
        dones = np.zeros(n, dtype=bool)
        infos: list[dict[str, Any]] = [{} for _ in range(n)]
        for e in range(n):
            a = int(actions[e])
            if not 0 <= a <= 3:
                raise ValueError(f"actions must be in 0..3, got {a}")
            prev = list(self.agent_pos[e])
            dx, dy = _DIRECTIONS[a]
            x = min(max(prev[0] + dx, 0), G - 1)
            y = min(max(prev[1] + dy, 0), G - 1)
            self.agent_pos[e] = [x, y]
            success = (x, y) == tuple(self.target)
            failure = int(self.grids[e, x, y]) == FAIL
            out_of_time = self.episode_length[e] >= G * G and not (success or failure)
            on_path = int(self.grids[e, x, y]) == PATH
            first_visit = self.visits[e, x, y] == 0
            reward = (
                10.0 * success
                + 0.5 * (on_path and first_visit)
                - 0.5 * (on_path and not first_visit)
                - 0.1 * failure
            )
            self.visits[e, x, y] += 1
            done = success or failure or out_of_time
            n_paths = int((self.visits[e] * (self.grids[e] == PATH)).sum())
            # the "last position" the observation is computed against
            last_for_obs = self.last_pos[e] if self.quirks.last_cell_two_step else prev
            true_last_obs = self._obs_one(e, [x, y], last_for_obs)
            if done:
                self._reset_env(e)  # agent_pos = last_pos = start, visits cleared, start counted
                last_for_obs = self.last_pos[e]
            obs[e] = self._obs_one(e, self.agent_pos[e], last_for_obs)
            # release: last_pos = pre-step position, even right after a reset
            self.last_pos[e] = prev if (self.quirks.last_cell_two_step or not done) else list(self.start)
            self.episode_return[e] += reward
            rewards[e] = reward
            dones[e] = done
            if done:
                infos[e] = {
                    "TimeLimit.truncated": bool(out_of_time),
                    "terminal_observation": (
                        obs[e].copy()
                        if self.quirks.terminal_obs_after_reset
                        else np.array(true_last_obs, dtype=self.obs_dtype)
                    ),
                    "episode": {
                        "l": self.episode_length[e]
                        if self.quirks.episode_length_minus_one
                        else self.episode_length[e] + 1,
                        "r": self.episode_return[e],
                        "n_paths": n_paths,
                    },
                    "is_success": bool(success),
                }
                self.episode_length[e] = 0
                self.episode_return[e] = 0.0
            else:
                self.episode_length[e] += 1
        return obs, rewards, dones, infos
