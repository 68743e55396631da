"""The color maze as a fast vectorised stable-baselines3 ``VecEnv``.

Transition for transition this is the authors' release
(``uzh-rpg/sitt``, ``color_maze/env/color_maze_world.py``) in the default
``quirks="release"`` mode; see ``shared/spec/color_maze.md`` and
:mod:`color_maze.quirks` for what each quirk switch changes.

Layout: grids are indexed ``[env, x, y]``; states 0 normal, 1 fail, 2 path,
3 green path (reserved), 4 border (outside the grid). Actions: 0 right (+x),
1 down (+y), 2 left (-x), 3 up (-y); the move is clipped to the grid.

Observation (9 numbers): ``target - pos`` (2); the state of the agent's cell
and of its neighbours below (y+1), right (x+1), above (y-1), left (x-1);
the last-cell feature (2): release ``pos - (last + 1)`` with the release's
lagging ``last`` (quirk 1), corrected ``pos - last_pos`` (one-step
displacement, (0, 0) at the start of each episode).

Step order (release): move; success / failure / timeout (the timeout fires when
the episode has already taken ``G*G`` steps, i.e. on step ``G*G + 1``, unless
the step succeeded or failed); reward ``10*success + 0.5*(path, first visit)
- 0.5*(path, revisit) - 0.1*failure``; visit count of the new cell += 1;
done envs are reset in place (agent and last position to the start, visits
cleared, start cell counted once); observation; ``last_pos`` = pre-step
position; infos for the done envs.

Deviations from the release that no quirk switch covers: ``reset()`` also
clears the episode counters and returns (the release's left them running); the
info values are Python scalars (``int``/``float``/``bool``) rather than numpy
scalars; ``info["terminal_observation"]`` is a copy, not a view.

Implementation: every per-step operation is vectorised over envs (about 40
numpy calls per step, none of them over an (n, G, G) array). The agent's cell
is kept as an index into flat, padded (border = 4) per-env arrays, so moving
is one lookup in a (cell, action) table and the cell's outcome and reward
come from a per-cell code (state + 4 on the target) through small tables;
visit counts live in the same flat layout; ``n_paths`` is a running counter;
the five observed cell states are pre-packed per cell (base 5) and unpacked
by one table lookup; positions and observations are built with the env axis
last and transposed once. Only the done envs get per-env Python work (their
info dicts); building the list of ``n`` fresh info dicts is a sizeable part of
a step at 1000 envs.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from sitt.vec_env import BatchedVecEnv

from .generation import (
    BORDER,
    FAIL,
    PATH,
    make_mazes,
    start_position,
    target_position,
    validate_grids,
    validate_n_envs,
    validate_seed,
    validate_sizes,
)
from .quirks import Quirks, QuirksLike, resolve_quirks

__all__ = ["ColorMazeEnv", "student_obs", "kl_groups", "ACTION_TO_DIRECTION", "STUDENT_STATE_MAP", "OBS_DIM"]

OBS_DIM = 9
# 0 right (+x), 1 down (+y), 2 left (-x), 3 up (-y)
ACTION_TO_DIRECTION = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.int64)
# Student view of the five cell states: 0 -> 0, 1 -> 2, 2 -> 2, 3 -> 2, 4 -> 4.
STUDENT_STATE_MAP = np.array([0, 2, 2, 2, 4], dtype=np.int64)
_EMPTY_INFO: dict[str, Any] = {}  # never handed out: only copies of it


def _check_obs(obs: Any) -> None:
    shape = tuple(getattr(obs, "shape", ()))
    if len(shape) < 1 or shape[-1] != OBS_DIM:
        raise ValueError(f"obs must be an array of shape (..., {OBS_DIM}), got shape {shape}")


def _is_torch(obs: Any) -> bool:
    return type(obs).__module__.split(".")[0] == "torch"


def student_obs(obs: Any) -> Any:
    """The student's view: entries 2..6 (cell states) mapped 0->0, 1->2, 2->2, 3->2, 4->4.

    Works on numpy arrays (any dtype, shape ``(..., 9)``) and torch tensors; returns a new
    array/tensor of the same type, dtype and shape (the input is not modified). Entries
    2..6 must hold valid states 0..4.
    """
    _check_obs(obs)
    if _is_torch(obs):
        import torch  # noqa: PLC0415  (torch only for tensor observations: the env itself is numpy)

        out = obs.clone()
        table = torch.as_tensor(STUDENT_STATE_MAP, device=obs.device)
        out[..., 2:7] = table[obs[..., 2:7].long()].to(obs.dtype)
        return out
    obs = np.asarray(obs)
    out = obs.copy()
    out[..., 2:7] = STUDENT_STATE_MAP.take(obs[..., 2:7].astype(np.intp))
    return out


def kl_groups(obs: Any) -> dict[str, Any]:
    """Boolean masks over the batch for logging: ``{"path": own cell is path, "normal": own cell is normal}``."""
    _check_obs(obs)
    own = obs[..., 2]
    return {"path": own == PATH, "normal": own == 0}


class ColorMazeEnv(BatchedVecEnv):
    """``n_envs`` color mazes stepped together; mazes are drawn once, at construction.

    :param n_envs: number of mazes (one env each), >= 1.
    :param grid_size: side G of each grid, >= 4.
    :param margin_size: white margin M round the maze block, 1 <= M <= (G - 2) // 2.
    :param seed: seed of the maze generator (None, int >= 0, SeedSequence or Generator);
        the global numpy RNG is never used. The dynamics themselves are deterministic.
    :param quirks: ``"release"`` (default), ``"fixed"``, a :class:`Quirks` or a dict of
        overrides on top of the release, see :mod:`color_maze.quirks`.

    ``reset()`` puts every agent back at the start and clears visit counts, episode
    lengths and returns; unlike the release (whose ``reset`` left the episode counters
    running) it starts fresh episodes everywhere. It never redraws the mazes.

    Public state (numpy arrays, do not resize): ``grids`` (n, G, G) int8, ``agent_pos`` and
    ``last_pos`` (n, 2) int64, ``visits`` (n, G, G) int32 (a view), ``episode_length`` (n,)
    (steps taken in the current episode), ``episode_return`` (n,), ``n_paths`` (n,) (sum of
    the visit counts of the path cells), ``target`` and ``start`` (2,) int64 (same for all envs).
    """

    def __init__(
        self,
        n_envs: int = 1000,
        grid_size: int = 21,
        margin_size: int = 3,
        seed: Any = None,
        quirks: QuirksLike = "release",
    ) -> None:
        n_envs = validate_n_envs(n_envs, "n_envs")
        grid_size, margin_size = validate_sizes(grid_size, margin_size)
        seed = validate_seed(seed)
        quirks = resolve_quirks(quirks)
        grids = make_mazes(n_envs, grid_size, margin_size, seed=seed)
        self._setup(grids, grid_size, margin_size, quirks, seed)

    @classmethod
    def from_grids(cls, grids: Any, margin_size: int = 3, quirks: QuirksLike = "release") -> ColorMazeEnv:
        """An env over given grids (n, G, G) of states 0..3, copied; ``margin_size`` fixes start and target."""
        quirks = resolve_quirks(quirks)
        grids, grid_size, margin_size = validate_grids(grids, margin_size)
        env = cls.__new__(cls)
        env._setup(grids, grid_size, margin_size, quirks, None)
        return env

    # ------------------------------------------------------------------ setup
    def _setup(self, grids: np.ndarray, grid_size: int, margin_size: int, quirks: Quirks, seed: Any) -> None:
        n = grids.shape[0]
        G, M = grid_size, margin_size
        P = G + 2
        self.grid_size = G
        self.margin_size = M
        self.maze_size = G - 2 * M
        self.maze_seed = seed
        self.quirks = quirks
        self.obs_dtype = np.dtype(np.float64 if quirks.float64_obs else np.float32)
        self.obs_dim = OBS_DIM
        self.max_episode_steps = G * G  # the timeout fires on step G*G + 1 (see module doc)
        self.grids = grids
        self.target = np.array(target_position(G, M), dtype=np.int64)
        self.start = np.array(start_position(G, M), dtype=np.int64)

        # Padded grids (border state 4) and visit counts, addressed by flat indices
        # flat = env * P*P + c, with the padded local cell index c = (x + 1) * P + (y + 1).
        self._P = P
        self._base = np.arange(n, dtype=np.int64) * (P * P)
        grid_pad = np.full((n, P, P), BORDER, dtype=np.int8)
        grid_pad[:, 1:-1, 1:-1] = grids
        # The five observed states (own, below (y+1), right (x+1), above (y-1), left (x-1)) of
        # every cell, packed base 5 into one int16 per cell, and the table that unpacks them
        # (column ``packed`` holds the five states in the obs dtype).
        neighbours = [(0, 0), (0, 1), (1, 0), (0, -1), (-1, 0)]
        packed = np.zeros((n, P, P), dtype=np.int16)
        for dx, dy in neighbours:
            shifted = np.full((n, P, P), BORDER, dtype=np.int16)
            shifted[:, 1:-1, 1:-1] = grid_pad[:, 1 + dx : P - 1 + dx, 1 + dy : P - 1 + dy]
            packed = packed * 5 + shifted
        self._packed_flat = packed.reshape(-1)
        digits = np.arange(5 ** len(neighbours))
        self._unpack_table = np.stack(
            [(digits // 5 ** (len(neighbours) - 1 - i)) % 5 for i in range(len(neighbours))]
        ).astype(self.obs_dtype)
        # Dynamics code per cell: state + 4 on the target cell (0..7); tables indexed by it.
        code_pad = grid_pad.copy()
        code_pad[:, self.target[0] + 1, self.target[1] + 1] += 4
        self._code_flat = code_pad.reshape(-1)
        codes = np.arange(8)
        state, success = codes & 3, codes >= 4
        self._terminal_table = success | (state == FAIL)
        self._path_table = (state == PATH).astype(np.int64)
        # reward by key = 2 * code + (cell visited before), written as the release writes it
        first = np.array([[True, False]])  # column 0: first visit, column 1: visited before
        on_path = (state == PATH)[:, None]
        self._reward_table = (
            10.0 * success[:, None]
            + 0.5 * (on_path & first)
            - 0.5 * (on_path & ~first)
            - 0.1 * (state == FAIL)[:, None]
        ).reshape(-1)
        self._visits_pad = np.zeros((n, P, P), dtype=np.int32)
        self._visits_flat = self._visits_pad.reshape(-1)
        self.visits = self._visits_pad[:, 1:-1, 1:-1]

        # Per-cell tables over c (same for all envs).
        xs, ys = np.meshgrid(np.arange(G), np.arange(G), indexing="ij")
        cells = ((xs + 1) * P + (ys + 1)).reshape(-1)
        self._cell_xy = np.zeros((2, P * P), dtype=np.int64)  # rows: x, y
        self._cell_xy[0, cells] = xs.reshape(-1)
        self._cell_xy[1, cells] = ys.reshape(-1)
        self._cell_to_target = (self.target[:, None] - self._cell_xy).astype(self.obs_dtype)
        nxt = np.repeat(np.arange(P * P, dtype=np.int64)[:, None], 4, axis=1)  # border cells: unused
        for a, (dx, dy) in enumerate(ACTION_TO_DIRECTION):
            nx = np.clip(xs + dx, 0, G - 1)
            ny = np.clip(ys + dy, 0, G - 1)
            nxt[cells, a] = ((nx + 1) * P + (ny + 1)).reshape(-1)
        self._next_cell = nxt.reshape(-1)  # index: c * 4 + action
        self._start_col = self.start[:, None]
        self._start_cell = int((self.start[0] + 1) * P + self.start[1] + 1)
        self._start_is_path = (grids[:, self.start[0], self.start[1]] == PATH).astype(np.int64)
        self._start_flat = self._base + self._start_cell

        # Positions are stored transposed, (2, n) (rows x, y), so that every operation runs
        # along the env axis; ``agent_pos`` / ``last_pos`` are (n, 2) views of them.
        # Episode lengths are ``_t - _episode_start`` (no per-step increment).
        self._cell = np.empty(n, dtype=np.int64)
        self._pos = np.empty((2, n), dtype=np.int64)
        self._last = np.empty((2, n), dtype=np.int64)
        self._t = 0
        self._episode_start = np.zeros(n, dtype=np.int64)
        self.episode_return = np.zeros(n, dtype=np.float64)
        self.n_paths = np.zeros(n, dtype=np.int64)

        start_pos = np.repeat(self._start_col, n, axis=1)
        # observation at the start of an episode: feature (-1, -1) (release) or (0, 0) (fixed)
        self._start_obs = self._observe(np.full(n, self._start_cell), self._start_flat, start_pos, start_pos)
        self._start_obs.flags.writeable = False

        observation_space = spaces.Box(-float(G), float(G), shape=(OBS_DIM,), dtype=self.obs_dtype)
        super().__init__(n, observation_space, spaces.Discrete(4))
        self._reset_all()

    @property
    def agent_pos(self) -> np.ndarray:
        """(n, 2) agent positions (x, y); a read-only view."""
        view = self._pos.T
        view.flags.writeable = False
        return view

    @property
    def last_pos(self) -> np.ndarray:
        """(n, 2) "last position" of the last-cell feature (release: lags one step); a read-only view."""
        view = self._last.T
        view.flags.writeable = False
        return view

    @property
    def episode_length(self) -> np.ndarray:
        """(n,) steps taken so far in each env's current episode."""
        return self._t - self._episode_start

    # ------------------------------------------------------------ internals
    def _reset_all(self) -> None:
        self._cell[:] = self._start_cell
        self._visits_pad[...] = 0
        self._visits_flat[self._start_flat] = 1
        self._pos = np.repeat(self._start_col, self.num_envs, axis=1)
        self._last = self._pos.copy()
        self.n_paths = self._start_is_path.copy()
        self._episode_start[:] = self._t
        self.episode_return[:] = 0.0

    def _observe(self, cell: np.ndarray, flat: np.ndarray, pos: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """Observations (m, 9) for agents in cells ``cell`` (padded flat ``flat``, position ``pos``
        (2, m)) with last-cell reference ``ref`` (2, m). Built transposed, then copied to (m, 9)."""
        obs_t = np.empty((OBS_DIM, cell.shape[0]), dtype=self.obs_dtype)
        self._cell_to_target.take(cell, axis=1, out=obs_t[0:2], mode="clip")
        self._unpack_table.take(self._packed_flat.take(flat), axis=1, out=obs_t[2:7], mode="clip")
        obs_t[7:9] = pos - ref
        if self.quirks.last_cell_two_step:
            obs_t[7:9] -= 1
        return np.ascontiguousarray(obs_t.T)

    # -------------------------------------------------------------- VecEnv
    def reset(self) -> np.ndarray:
        """Start a fresh episode in every env (mazes unchanged); return the observations."""
        self._reset_all()
        return self._start_obs.copy()

    def _check_actions(self, actions: Any) -> np.ndarray:
        n = self.num_envs
        a = np.asarray(actions)
        if a.shape == (n, 1):
            a = a.reshape(n)
        if a.shape != (n,):
            raise ValueError(f"actions must have shape ({n},) or ({n}, 1), got {a.shape}")
        if a.dtype.kind not in "iu":
            raise ValueError(f"actions must be integers in 0..3, got dtype {a.dtype}")
        a = a.astype(np.int64, copy=False)
        if a.view(np.uint64).max() > 3:  # negatives wrap to huge values
            raise ValueError(f"actions must be in 0..3 (right, down, left, up), got values in [{a.min()}, {a.max()}]")
        return a

    def _step(self, a: np.ndarray) -> VecEnvStepReturn:
        q = self.quirks

        # 1. move (clipped to the grid): a table lookup on the local cell index
        idx = self._cell * 4
        idx += a
        cell = self._next_cell.take(idx)
        flat = cell + self._base

        # 2. outcome and reward from the cell's code (state + 4 on the target) and its visit count
        code = self._code_flat.take(flat)
        seen = self._visits_flat.take(flat)
        key = code * 2
        key += seen > 0
        reward = self._reward_table.take(key)
        terminated = self._terminal_table.take(code)  # success or failure

        # 3. visit count += 1, running n_paths, timeout (the episode already took G*G steps), dones
        seen += 1
        self._visits_flat[flat] = seen
        self.n_paths += self._path_table.take(code)
        timed = self._episode_start <= self._t - self.max_episode_steps
        dones = terminated | timed
        self.episode_return += reward

        # 4. observation at the new cell (the true last observation for the envs that are done);
        #    last-cell reference (quirk 1): the lagging last_pos, or the pre-step position
        prev_pos = self._pos
        pos = self._cell_xy.take(cell, axis=1)
        obs = self._observe(cell, flat, pos, self._last if q.last_cell_two_step else prev_pos)
        # then last_pos = pre-step position (release: even for the envs reset below)
        last = prev_pos

        done_idx = np.flatnonzero(dones)
        k = done_idx.size
        if k:
            # episode statistics, read before the reset
            truncated_d = (~terminated[done_idx]).tolist()  # done and not terminated = timeout
            lengths = self._t - self._episode_start[done_idx]
            if not q.episode_length_minus_one:
                lengths += 1
            lengths_d = lengths.tolist()
            returns_d = self.episode_return[done_idx].tolist()
            n_paths_d = self.n_paths[done_idx].tolist()
            success_d = (code[done_idx] >= 4).tolist()
            # 5. reset the done envs in place; their observation becomes the precomputed start
            #    observation (last-cell reference = start: feature (-1, -1) release, (0, 0) fixed)
            start_obs = self._start_obs[done_idx]
            terminal = start_obs if q.terminal_obs_after_reset else obs[done_idx]  # quirk 2
            obs[done_idx] = start_obs
            cell[done_idx] = self._start_cell
            pos[:, done_idx] = self._start_col
            if not q.last_cell_two_step:  # corrected: last_pos = start for the new episode
                last = last.copy()  # (a copy: views handed out earlier stay valid)
                last[:, done_idx] = self._start_col
            self._visits_pad[done_idx] = 0
            self._visits_flat[self._start_flat[done_idx]] = 1
            self.n_paths[done_idx] = self._start_is_path[done_idx]
            self._episode_start[done_idx] = self._t + 1
            self.episode_return[done_idx] = 0.0

        self._last = last
        self._pos = pos
        self._cell = cell
        self._t += 1

        # 6. infos: a fresh dict per env (copies of an empty dict: faster than a comprehension
        #    of literals); only the done envs get entries
        infos: list[dict[str, Any]] = list(map(dict.copy, repeat(_EMPTY_INFO, self.num_envs)))
        if k:
            for i, truncated, term, length, ret, n_paths, success in zip(
                done_idx.tolist(), truncated_d, terminal, lengths_d, returns_d, n_paths_d, success_d
            ):
                infos[i] = {
                    "TimeLimit.truncated": truncated,
                    "terminal_observation": term,
                    "episode": {"l": length, "r": ret, "n_paths": n_paths},
                    "is_success": success,
                }
        return obs, reward, dones, infos

    # ------------------------------------------------------------ helpers
    def student_obs(self, obs: Any) -> Any:
        """See :func:`color_maze.env.student_obs`."""
        return student_obs(obs)

    def kl_groups(self, obs: Any) -> dict[str, Any]:
        """See :func:`color_maze.env.kl_groups`."""
        return kl_groups(obs)
