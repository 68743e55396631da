"""Limited-field-of-view flight through pillars as a fast vectorised stable-baselines3 ``VecEnv``.

The analogue of the paper's quadrotor task (``shared/spec/robot_analogues.md`` section 1):
a point mass with a heading flies top-down along a corridor of pillars. Its translation
does not depend on its heading (as for a quadrotor); the heading only points the camera.
The teacher observes the K nearest pillars; the student only a depth scan over the field
of view (:mod:`fov_flight.views`).

Dynamics (one step of ``dt``; semi-implicit Euler)::

    a = clip(action, -1, 1)                         # (n, 3)
    v' = v + max_accel * a[:, 0:2] * dt             # world-frame acceleration
    v' = v' * min(1, max_speed / |v'|)              # speed clipped
    p' = p + v' * dt
    yaw' = wrap(yaw + max_yaw_rate * a[:, 2] * dt)  # into [-pi, pi)

Outcome of the step (the move is the segment p -> p'):

* collision: the segment passes within ``r + body_radius`` of a pillar centre, or p' is
  within ``body_radius`` of a side wall (``|y'| > W/2 - body_radius``) or of the back wall
  (``x' < body_radius``). Terminates.
* success: ``x' >= length`` and no collision. Terminates.
* truncation: the episode has taken ``time_limit`` steps without terminating.

Reward (defaults in brackets): ``progress_coef * (x' - x)`` [1 per metre along the corridor]
``- collision_penalty * collision`` [10] ``+ success_bonus * success`` [10]. A straight
successful flight from the default start earns about 24 + 10.

Infos: every env gets a dict; a finished episode's has ``terminal_observation`` (the
observation at p', before the auto-reset), ``TimeLimit.truncated``, ``is_success``,
``collision`` and ``episode = {"r": return, "l": length}``.

Worlds. ``FovFlightEnv(n_envs, config, seed)`` (training) draws a pool of ``pool_size``
worlds at construction (:func:`fov_flight.generation.generate_worlds`); each episode of
each env flies a world drawn uniformly from the pool, from a fresh start (y and heading
drawn as in generation), both from the env's own episode generator. The pool comes from
``SeedSequence(seed).spawn(2)[0]``, the episode stream from ``spawn(2)[1]``: the same seed
gives the same pool and, for the same actions, the same episodes. ``seed(s)`` restarts the
episode stream as if the env had been built with seed ``s`` (the pool is kept).
``FovFlightEnv.from_worlds(worlds, config)`` (evaluation): env i flies world i from its
stored start, and every reset (auto or not) replays it.

Implementation: every per-step operation is one numpy call over all envs (state as
(n,) float64 arrays, pillars as (n, P)); only the done envs get Python work (their
info dicts). Absent pillars (radius 0, hand-built worlds) are moved far away so that they
never collide.
"""

from __future__ import annotations

import math
from itertools import repeat
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from sitt.checks import fail, is_int
from sitt.vec_env import BatchedVecEnv

from .config import FlightConfig
from .generation import Worlds, draw_starts, generate_worlds, validate_worlds
from .views import student_obs, teacher_obs

__all__ = ["FovFlightEnv", "student_obs", "DEFAULT_POOL_SIZE"]

DEFAULT_POOL_SIZE = 1000  # training worlds when n_envs <= 1000 (else one per env)
_FAR = 1.0e6  # where absent pillars are put (never reached, never within ray range)
_EMPTY_INFO: dict[str, Any] = {}


def _validate_seed(seed: Any) -> Any:
    """:func:`sitt.checks.validate_seed` less the Generator: the pool and the episode stream are spawned from it."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return seed
    if is_int(seed) and seed >= 0:
        return int(seed)
    fail("seed", seed, "None, an int >= 0 or a numpy SeedSequence")


def _spawn(seed: Any) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    pool_seq, episode_seq = seq.spawn(2)
    return pool_seq, episode_seq


class FovFlightEnv(BatchedVecEnv):
    """``n_envs`` flights stepped together (module doc for dynamics, reward and worlds).

    :param n_envs: number of flights, >= 1.
    :param config: the task (:class:`fov_flight.config.FlightConfig`), validated here; default ``FlightConfig()``.
    :param seed: None (fresh OS entropy), an int >= 0 or a SeedSequence: the pool of training
        worlds and the episode stream derive from it (module doc). Default 0.
    :param pool_size: training worlds drawn at construction; default ``max(1000, n_envs)``.

    Public state (read-only views, (n,) or (n, 2) float64): ``pos``, ``vel``, ``yaw`` (current
    state, after any auto-reset); ``final_pos``, ``final_vel``, ``final_yaw`` (state reached by
    the last step, before any auto-reset); ``world_index`` (n,) (the world each env flies:
    an index into ``worlds``); ``episode_length``, ``episode_return``; ``worlds`` (the pool,
    or the fixed worlds of ``from_worlds``).
    """

    def __init__(self, n_envs: int = 256, config: FlightConfig | None = None, seed: Any = 0,
                 pool_size: int | None = None) -> None:
        if not is_int(n_envs) or n_envs < 1:
            fail("n_envs", n_envs, "an int >= 1")
        config = (config or FlightConfig()).validate()
        seed = _validate_seed(seed)
        if pool_size is None:
            pool_size = max(DEFAULT_POOL_SIZE, int(n_envs))
        if not is_int(pool_size) or pool_size < 1:
            fail("pool_size", pool_size, "an int >= 1 (or None)")
        pool_seq, episode_seq = _spawn(seed)
        worlds = generate_worlds(int(pool_size), config, seed=pool_seq)
        self._setup(int(n_envs), config, worlds, replay=False, episode_seq=episode_seq)
        self.seed_value = seed

    @classmethod
    def from_worlds(cls, worlds: Worlds, config: FlightConfig | None = None) -> FovFlightEnv:
        """An env of ``len(worlds)`` flights over fixed worlds: env i flies world i from its start, every episode."""
        config = (config or FlightConfig()).validate()
        worlds = validate_worlds(worlds, config)
        env = cls.__new__(cls)
        env._setup(len(worlds), config, worlds, replay=True, episode_seq=None)
        env.seed_value = None
        return env

    # ------------------------------------------------------------------ setup
    def _setup(self, n: int, config: FlightConfig, worlds: Worlds, replay: bool, episode_seq) -> None:
        self.config = config
        self.worlds = worlds
        self.replay = replay
        self.obs_dim = config.obs_dim
        self.max_episode_steps = config.time_limit
        present = worlds.radii > 0
        # per-world pillar tables; absent pillars far away with radius 0
        self._pool_cx = np.where(present, worlds.centres[..., 0], _FAR)
        self._pool_cy = np.where(present, worlds.centres[..., 1], _FAR)
        self._pool_r = worlds.radii.copy()
        self._pool_rc2 = np.where(present, (worlds.radii + config.body_radius) ** 2, 0.0)
        self._episode_rng = np.random.default_rng(episode_seq) if episode_seq is not None else None
        P = worlds.n_pillars
        self.world_index = np.zeros(n, dtype=np.int64)
        self._cx = np.empty((n, P))
        self._cy = np.empty((n, P))
        self._r = np.empty((n, P))
        self._rc2 = np.empty((n, P))
        self._px = np.empty(n)
        self._py = np.empty(n)
        self._vx = np.zeros(n)
        self._vy = np.zeros(n)
        self._yaw = np.empty(n)
        self._final = (self._px, self._py, self._vx, self._vy, self._yaw)
        self.episode_length = np.zeros(n, dtype=np.int64)
        self.episode_return = np.zeros(n, dtype=np.float64)
        self._dt = config.dt
        self._accel_dt = config.max_accel * config.dt
        self._yaw_dt = config.max_yaw_rate * config.dt
        self._wall = config.width / 2 - config.body_radius
        obs_space = spaces.Box(-np.inf, np.inf, shape=(config.obs_dim,), dtype=np.float32)
        act_space = spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
        super().__init__(n, obs_space, act_space)
        self._start_episodes(np.arange(n))

    def _start_episodes(self, idx: np.ndarray) -> None:
        """Put envs ``idx`` at the start of a fresh episode (world and start drawn, or replayed)."""
        k = idx.size
        if self.replay:
            w = idx  # env i flies world i
            start, yaw = self.worlds.start[w], self.worlds.start_yaw[w]
        else:
            w = self._episode_rng.integers(len(self.worlds), size=k)
            start, yaw = draw_starts(self._episode_rng, k, self.config)
        self.world_index[idx] = w
        self._cx[idx] = self._pool_cx[w]
        self._cy[idx] = self._pool_cy[w]
        self._r[idx] = self._pool_r[w]
        self._rc2[idx] = self._pool_rc2[w]
        self._px[idx] = start[:, 0]
        self._py[idx] = start[:, 1]
        self._vx[idx] = 0.0
        self._vy[idx] = 0.0
        self._yaw[idx] = yaw
        self.episode_length[idx] = 0
        self.episode_return[idx] = 0.0

    # ---------------------------------------------------------------- state
    @staticmethod
    def _ro(arr: np.ndarray) -> np.ndarray:
        view = arr.view()
        view.flags.writeable = False
        return view

    @property
    def pos(self) -> np.ndarray:
        """(n, 2) current positions (after any auto-reset)."""
        return np.stack([self._px, self._py], axis=1)

    @property
    def vel(self) -> np.ndarray:
        """(n, 2) current world-frame velocities."""
        return np.stack([self._vx, self._vy], axis=1)

    @property
    def yaw(self) -> np.ndarray:
        """(n,) current headings (radians, [-pi, pi))."""
        return self._ro(self._yaw)

    @property
    def final_pos(self) -> np.ndarray:
        """(n, 2) positions reached by the last step, before any auto-reset."""
        return np.stack(self._final[0:2], axis=1)

    @property
    def final_vel(self) -> np.ndarray:
        """(n, 2) velocities reached by the last step, before any auto-reset."""
        return np.stack(self._final[2:4], axis=1)

    @property
    def final_yaw(self) -> np.ndarray:
        """(n,) headings reached by the last step, before any auto-reset."""
        return self._ro(self._final[4])

    def set_state(self, pos: Any = None, vel: Any = None, yaw: Any = None) -> np.ndarray:
        """Overwrite the current state (for tests and figures); returns the new observations.

        ``pos``, ``vel``: (n, 2); ``yaw``: (n,); each optional (None keeps it).
        """
        n = self.num_envs
        if pos is not None:
            pos = np.asarray(pos, dtype=np.float64).reshape(n, 2)
            self._px[:], self._py[:] = pos[:, 0], pos[:, 1]
        if vel is not None:
            vel = np.asarray(vel, dtype=np.float64).reshape(n, 2)
            self._vx[:], self._vy[:] = vel[:, 0], vel[:, 1]
        if yaw is not None:
            self._yaw[:] = np.asarray(yaw, dtype=np.float64).reshape(n)
        self._final = (self._px, self._py, self._vx, self._vy, self._yaw)
        return self._observe_all()

    def _observe_all(self) -> np.ndarray:
        return teacher_obs(self._px, self._py, self._vx, self._vy, self._yaw, self._cx, self._cy, self._r,
                           self.config)

    # -------------------------------------------------------------- VecEnv
    def reset(self) -> np.ndarray:
        """Start a fresh episode in every env (training: new worlds and starts; ``from_worlds``: the same)."""
        self._start_episodes(np.arange(self.num_envs))
        self._final = (self._px, self._py, self._vx, self._vy, self._yaw)
        return self._observe_all()

    def _check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape != (self.num_envs, 3):
            raise ValueError(f"actions: got shape {a.shape}; allowed: ({self.num_envs}, 3)")
        if a.dtype.kind != "f":
            a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise ValueError("actions: got non-finite values; allowed: finite numbers (clipped to [-1, 1])")
        return a

    def _step(self, a: np.ndarray) -> VecEnvStepReturn:
        cfg = self.config
        a = np.clip(a, -1.0, 1.0).astype(np.float64, copy=False)
        px, py, vx, vy, yaw = self._px, self._py, self._vx, self._vy, self._yaw

        # 1. kinematics: world-frame acceleration, speed clip, position, yaw
        nvx = vx + a[:, 0] * self._accel_dt
        nvy = vy + a[:, 1] * self._accel_dt
        speed = np.hypot(nvx, nvy)
        over = speed > cfg.max_speed
        if over.any():
            scale = np.where(over, cfg.max_speed / np.maximum(speed, 1e-300), 1.0)
            nvx *= scale
            nvy *= scale
        mx = nvx * self._dt  # the move p' - p
        my = nvy * self._dt
        npx = px + mx
        npy = py + my
        nyaw = yaw + a[:, 2] * self._yaw_dt
        nyaw += math.pi
        nyaw %= 2 * math.pi
        nyaw -= math.pi

        # 2. collisions: segment p -> p' against inflated pillars; walls at p'
        fx = self._cx - px[:, None]  # (n, P) pillar centre - p
        fy = self._cy - py[:, None]
        mm = mx * mx + my * my
        t = (fx * mx[:, None] + fy * my[:, None]) / np.maximum(mm, 1e-300)[:, None]
        np.clip(t, 0.0, 1.0, out=t)
        ex = fx - t * mx[:, None]
        ey = fy - t * my[:, None]
        ex *= ex
        ey *= ey
        ex += ey
        collision = (ex < self._rc2).any(axis=1)
        collision |= np.abs(npy) > self._wall
        collision |= npx < cfg.body_radius
        success = (npx >= cfg.length) & ~collision
        terminated = collision | success

        # 3. reward, counters
        reward = mx * cfg.progress_coef
        reward -= collision * cfg.collision_penalty
        reward += success * cfg.success_bonus
        self.episode_length += 1
        self.episode_return += reward
        truncated = (self.episode_length >= self.max_episode_steps) & ~terminated
        dones = terminated | truncated

        # 4. observation at the new state (the terminal observation of the envs that are done)
        obs = teacher_obs(npx, npy, nvx, nvy, nyaw, self._cx, self._cy, self._r, cfg)
        self._final = (npx, npy, nvx, nvy, nyaw)

        done_idx = np.flatnonzero(dones)
        k = done_idx.size
        infos: list[dict[str, Any]] = list(map(dict.copy, repeat(_EMPTY_INFO, self.num_envs)))
        if k:
            terminal = obs[done_idx]
            lengths = self.episode_length[done_idx].tolist()
            returns = self.episode_return[done_idx].tolist()
            trunc = truncated[done_idx].tolist()
            succ = success[done_idx].tolist()
            coll = collision[done_idx].tolist()
            # 5. auto-reset: fresh state arrays (the final ones stay as they are)
            self._px, self._py, self._vx = npx.copy(), npy.copy(), nvx.copy()
            self._vy, self._yaw = nvy.copy(), nyaw.copy()
            self._start_episodes(done_idx)
            obs[done_idx] = teacher_obs(self._px[done_idx], self._py[done_idx], self._vx[done_idx],
                                        self._vy[done_idx], self._yaw[done_idx], self._cx[done_idx],
                                        self._cy[done_idx], self._r[done_idx], cfg)
            for i, term, tr, s, c, length, ret in zip(done_idx.tolist(), terminal, trunc, succ, coll, lengths, returns):
                infos[i] = {
                    "terminal_observation": term,
                    "TimeLimit.truncated": tr,
                    "is_success": s,
                    "collision": c,
                    "episode": {"r": ret, "l": length},
                }
        else:
            self._px, self._py, self._vx, self._vy, self._yaw = npx, npy, nvx, nvy, nyaw
        return obs, reward, dones, infos

    def _reseed(self, seed: Any) -> None:
        """Restart the episode stream (world picks and starts) as if built with ``seed``; the pool is kept (what
        :meth:`seed` does). Takes effect from the next (auto-)reset. ``None`` leaves the stream as it is. A
        ``from_worlds`` env has no randomness: nothing changes."""
        if seed is None:
            return
        seed = _validate_seed(seed)
        if not self.replay:
            self._episode_rng = np.random.default_rng(_spawn(seed)[1])

    # ------------------------------------------------------------ helpers
    def student_obs(self, obs: Any, fov_deg: float | None = None, n_rays: int | None = None) -> np.ndarray:
        """See :func:`fov_flight.views.student_obs` (with this env's config)."""
        return student_obs(obs, self.config, fov_deg=fov_deg, n_rays=n_rays)
