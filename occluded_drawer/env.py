"""The occluded drawer as a fast vectorised stable-baselines3 ``VecEnv``.

A planar arm (2 or 3 revolute links, base at the origin) must grasp a drawer handle and
pull the drawer open; a fixed camera watches the handle and the arm can hide it
(self-occlusion). Geometry and constants: :class:`~occluded_drawer.config.DrawerConfig`;
kinematics and the visibility rule: :mod:`occluded_drawer.geometry`.

Actions, ``(n, K + 1)`` floats clipped to [-1, 1]: ``K`` joint velocities in units of
``max_joint_velocity`` and a gripper command (closed when > 0, open otherwise).

Step order (every env at once, one vectorised pass):

1. joints: ``q <- clip(q + a_joint * max_joint_velocity * dt, joint_limits)``; the observed
   velocity is the applied change over ``max_joint_velocity * dt`` (0 against a limit);
2. gripper ``g`` = position of the forward kinematics;
3. grasp attempts: the gripper CLOSES this step (open before, command > 0). It grasps the
   handle when ``|g - handle| <= grasp_radius`` (handle where it was before this step);
   otherwise the attempt is a miss. Closing counts once: keeping it closed is no new attempt,
   and a closed gripper that reaches the handle does not grasp it (it must open and close);
4. holding = (holding or grasped) and command closed (opening the gripper releases it);
5. pull: while holding, the opening follows the gripper's projection on the rail,
   ``opening = clip((g - handle_closed) . u, 0, max_opening)`` (u: rail direction; pushing
   closes it again); the handle is ``handle_closed + opening * u``. If the gripper is then
   farther than ``grasp_radius`` from the handle (pulled off the rail or past the end), the
   grasp slips (holding = False). A released drawer stays where it is;
6. reward (see ``DrawerConfig``); success when ``opening >= success_opening`` (terminated);
   truncated when the episode has taken ``time_limit`` steps without success;
7. finished envs are reset in place with a new scene (replayed scene ``i`` for
   :meth:`OccludedDrawerEnv.from_scenes`); their info holds ``terminal_observation``,
   ``TimeLimit.truncated``, ``is_success``, ``grasp_attempts``, ``missed_grasps`` and
   ``episode`` (``r`` return, ``l`` length).

Teacher observation (float32, ``3K + 7`` numbers, :data:`OBS_DIM` for K = 2), see
:func:`obs_layout`: ``cos q`` (K), ``sin q`` (K) of the relative joint angles, joint velocities
(K, in [-1, 1]), gripper closed (0/1), holding (0/1), gripper position (2), handle position
(2), drawer opening (1).

Student view (:func:`student_obs`, ``3K + 8`` numbers): the same numbers, except that the
handle position and the drawer opening (both read off the handle) are zero while the handle
is not visible, and a last entry, the visibility flag (0/1). The visibility is recomputed
from the teacher observation alone: the arm is rebuilt from ``cos q``/``sin q`` and the link
lengths. The proprioception (angles, velocities, gripper closed, holding: a gripper feels what
it holds, gripper position) is always seen.
"""

from __future__ import annotations

import math
from itertools import repeat
from typing import Any, NamedTuple

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from sitt.checks import fail, is_int, validate_seed
from sitt.vec_env import BatchedVecEnv

from .config import DrawerConfig
from .generation import Scenes, draw_scenes
from .geometry import handle_visible, link_points

__all__ = ["OccludedDrawerEnv", "ObsLayout", "obs_layout", "student_obs", "visibility_from_obs", "OBS_DIM",
           "STUDENT_OBS_DIM"]

_EMPTY_INFO: dict[str, Any] = {}


class ObsLayout(NamedTuple):
    """Slices of the teacher observation for ``n_links`` links."""

    cos_q: slice
    sin_q: slice
    qdot: slice
    closed: int
    holding: int
    gripper: slice
    handle: slice
    opening: int
    dim: int
    student_dim: int


def obs_layout(n_links: int) -> ObsLayout:
    k = int(n_links)
    return ObsLayout(
        cos_q=slice(0, k),
        sin_q=slice(k, 2 * k),
        qdot=slice(2 * k, 3 * k),
        closed=3 * k,
        holding=3 * k + 1,
        gripper=slice(3 * k + 2, 3 * k + 4),
        handle=slice(3 * k + 4, 3 * k + 6),
        opening=3 * k + 6,
        dim=3 * k + 7,
        student_dim=3 * k + 8,
    )


OBS_DIM = obs_layout(2).dim
STUDENT_OBS_DIM = obs_layout(2).student_dim


def _check_obs(obs: Any, config: DrawerConfig) -> np.ndarray:
    obs = np.asarray(obs)
    dim = obs_layout(config.n_links).dim
    if obs.ndim < 1 or obs.shape[-1] != dim:
        raise ValueError(f"obs: got shape {obs.shape}; allowed: (..., {dim}) for {config.n_links} links")
    return obs


def _point_segment_sq(px, py, ax, ay, bx, by):
    """Squared distance from points p to segments a-b, component arrays (broadcast)."""
    abx, aby = bx - ax, by - ay
    apx, apy = px - ax, py - ay
    t = np.clip((apx * abx + apy * aby) / np.maximum(abx * abx + aby * aby, 1e-300), 0.0, 1.0)
    dx, dy = apx - t * abx, apy - t * aby
    return dx * dx + dy * dy


def _segments_closer_than(r, p0x, p0y, p1x, p1y, q0x, q0y, q1x, q1y) -> np.ndarray:
    """Bool: segments p0-p1 and q0-q1 cross or come within ``r`` (same rule as
    :func:`occluded_drawer.geometry.segment_segment_distance` < r, on component arrays)."""
    r2 = r * r
    near = _point_segment_sq(p0x, p0y, q0x, q0y, q1x, q1y) < r2
    near |= _point_segment_sq(p1x, p1y, q0x, q0y, q1x, q1y) < r2
    near |= _point_segment_sq(q0x, q0y, p0x, p0y, p1x, p1y) < r2
    near |= _point_segment_sq(q1x, q1y, p0x, p0y, p1x, p1y) < r2
    rx, ry, sx, sy = p1x - p0x, p1y - p0y, q1x - q0x, q1y - q0y
    d1 = sx * (p0y - q0y) - sy * (p0x - q0x)
    d2 = sx * (p1y - q0y) - sy * (p1x - q0x)
    d3 = rx * (q0y - p0y) - ry * (q0x - p0x)
    d4 = rx * (q1y - p0y) - ry * (q1x - p0x)
    return near | ((d1 * d2 < 0) & (d3 * d4 < 0))


def visibility_from_obs(obs: Any, config: DrawerConfig) -> np.ndarray:
    """Bool ``(...)``: the handle is visible, computed from teacher observations ``(..., D)`` alone.

    The arm is rebuilt from ``cos q``/``sin q`` by angle addition; the rule is
    :func:`occluded_drawer.geometry.handle_visible` (written out on component arrays for speed;
    the tests compare the two).
    """
    obs = _check_obs(obs, config)
    lay = obs_layout(config.n_links)
    flat = obs.reshape(-1, lay.dim).astype(np.float64).T  # (D, m)
    cos_q, sin_q = flat[lay.cos_q], flat[lay.sin_q]
    hx, hy = flat[lay.handle]
    cx, cy = config.camera_position
    rx, ry = hx - cx, hy - cy
    dist = np.sqrt(rx * rx + ry * ry)
    shrink = 1.0 - config.handle_clearance / np.maximum(dist, 1e-12)
    ex, ey = cx + rx * shrink, cy + ry * shrink  # end of the sight segment
    visible = (rx * math.cos(config.camera_angle) + ry * math.sin(config.camera_angle)) >= dist * math.cos(
        config.camera_fov / 2
    )
    ca, sa = cos_q[0], sin_q[0]
    px = py = np.zeros_like(hx)
    for k, length in enumerate(config.link_lengths):
        if k:
            ca, sa = ca * cos_q[k] - sa * sin_q[k], sa * cos_q[k] + ca * sin_q[k]
        qx, qy = px + length * ca, py + length * sa
        visible &= ~_segments_closer_than(config.link_radius, cx, cy, ex, ey, px, py, qx, qy)
        px, py = qx, qy
    return visible.reshape(obs.shape[:-1])


def student_obs(obs: Any, config: DrawerConfig | None = None) -> np.ndarray:
    """The student's view ``(..., D + 1)`` of teacher observations ``(..., D)`` (module doc); numpy in, numpy out.

    A pure function of ``obs`` and the config's constants (link lengths, camera); the input is
    not modified; the dtype is kept.
    """
    config = config or DrawerConfig()
    obs = _check_obs(obs, config)
    lay = obs_layout(config.n_links)
    vis = visibility_from_obs(obs, config)
    out = np.empty(obs.shape[:-1] + (lay.student_dim,), dtype=obs.dtype)
    out[..., : lay.dim] = obs
    mask = vis.astype(obs.dtype)
    out[..., lay.handle] *= mask[..., None]
    out[..., lay.opening] *= mask
    out[..., lay.dim] = mask
    return out


class OccludedDrawerEnv(BatchedVecEnv):
    """``n_envs`` arms and drawers stepped together (module doc for the dynamics).

    :param n_envs: number of envs, >= 1.
    :param config: a :class:`DrawerConfig` (default ``DrawerConfig()``); validated here.
    :param seed: seed of the scene generator (None, int >= 0, SeedSequence or Generator): every
        reset, at start and after each finished episode, draws a new scene from it. The
        dynamics are deterministic; the global numpy RNG is never used.

    :meth:`from_scenes` builds an env that replays fixed scenes (env ``i`` always restarts
    from scene ``i``), for evaluation on held-out scenes.

    Public state (read-only views or copies; use :meth:`set_state` to change it): ``q`` (n, K),
    ``gripper`` (n, 2), ``handle`` (n, 2) (current, opened), ``handle_closed`` (n, 2),
    ``opening``, ``closed``, ``holding``, ``episode_length``, ``episode_return``,
    ``grasp_attempts``, ``missed_grasps`` (n,).
    """

    def __init__(self, n_envs: int = 1000, config: DrawerConfig | None = None, seed: Any = 0) -> None:
        if not is_int(n_envs) or n_envs < 1:
            fail("n_envs", n_envs, "an int >= 1")
        config = (config or DrawerConfig()).validate()
        self._rng = np.random.default_rng(validate_seed(seed))
        self._setup(int(n_envs), config, scenes=None)

    @classmethod
    def from_scenes(cls, scenes: Scenes, config: DrawerConfig | None = None) -> OccludedDrawerEnv:
        """An env of ``len(scenes)`` envs; env ``i`` starts (and restarts) from scene ``i``."""
        config = (config or DrawerConfig()).validate()
        if not isinstance(scenes, Scenes):
            raise ValueError(f"scenes: got {type(scenes).__name__}; allowed: an occluded_drawer.Scenes")
        if scenes.q0.shape[1] != config.n_links:
            raise ValueError(f"scenes.q0: got {scenes.q0.shape[1]} joints; allowed: {config.n_links} "
                             "(config.link_lengths)")
        env = cls.__new__(cls)
        env._rng = None
        env._setup(len(scenes), config, scenes=scenes)
        return env

    # ------------------------------------------------------------------ setup
    def _setup(self, n: int, config: DrawerConfig, scenes: Scenes | None) -> None:
        self.config = config
        self.scenes = scenes
        k = config.n_links
        self.n_links = k
        self.layout = obs_layout(k)
        self._L = np.asarray(config.link_lengths, dtype=np.float64)[:, None]  # (K, 1)
        self._lo = np.array([lim[0] for lim in config.joint_limits])[:, None]
        self._hi = np.array([lim[1] for lim in config.joint_limits])[:, None]
        self._step_angle = config.step_angle
        self._u = np.asarray(config.rail_direction, dtype=np.float64)
        self.max_episode_steps = config.time_limit

        # state, env axis last
        self._q = np.zeros((k, n))
        self._qdot = np.zeros((k, n))
        self._closed = np.zeros(n, dtype=bool)
        self._holding = np.zeros(n, dtype=bool)
        self._opening = np.zeros(n)
        self._h0 = np.zeros((2, n))
        self._g = np.zeros((2, n))
        self._dist = np.zeros(n)
        self._t = np.zeros(n, dtype=np.int64)
        self.episode_return = np.zeros(n)
        self._attempts = np.zeros(n, dtype=np.int64)
        self._misses = np.zeros(n, dtype=np.int64)

        reach = config.reach
        lay = self.layout
        low = np.full(lay.dim, -1.0, dtype=np.float32)
        high = np.full(lay.dim, 1.0, dtype=np.float32)
        low[[lay.closed, lay.holding, lay.opening]] = 0.0
        high[lay.opening] = config.max_opening
        low[lay.gripper] = low[lay.handle] = -reach
        high[lay.gripper] = high[lay.handle] = reach
        observation_space = spaces.Box(low, high, dtype=np.float32)
        s_low = np.append(np.minimum(low, 0.0), 0.0).astype(np.float32)
        s_high = np.append(high, 1.0).astype(np.float32)
        self.student_observation_space = spaces.Box(s_low, s_high, dtype=np.float32)
        action_space = spaces.Box(-1.0, 1.0, shape=(config.action_dim,), dtype=np.float32)
        super().__init__(n, observation_space, action_space)
        self._reset_envs(np.arange(n))

    # --------------------------------------------------------------- state
    def _scenes_for(self, idx: np.ndarray) -> Scenes:
        if self.scenes is not None:
            return self.scenes.subset(idx)
        return draw_scenes(idx.size, self.config, self._rng)

    def _reset_envs(self, idx: np.ndarray) -> None:
        sc = self._scenes_for(idx)
        self._q[:, idx] = sc.q0.T
        self._qdot[:, idx] = 0.0
        self._closed[idx] = False
        self._holding[idx] = False
        self._opening[idx] = 0.0
        self._h0[:, idx] = sc.handle.T
        self._t[idx] = 0
        self.episode_return[idx] = 0.0
        self._attempts[idx] = 0
        self._misses[idx] = 0
        self._refresh(idx)

    def _refresh(self, idx: np.ndarray) -> None:
        """Recompute the gripper position and the gripper-handle distance of envs ``idx``."""
        theta = np.cumsum(self._q[:, idx], axis=0)
        self._g[0, idx] = (self._L * np.cos(theta)).sum(0)
        self._g[1, idx] = (self._L * np.sin(theta)).sum(0)
        hx = self._h0[0, idx] + self._opening[idx] * self._u[0]
        hy = self._h0[1, idx] + self._opening[idx] * self._u[1]
        self._dist[idx] = np.hypot(self._g[0, idx] - hx, self._g[1, idx] - hy)

    def _observe(self, idx: Any = slice(None)) -> np.ndarray:
        """Teacher observations ``(m, D)`` float32 of envs ``idx``, built transposed then copied."""
        lay = self.layout
        q = self._q[:, idx]
        k = self.n_links
        m = q.shape[1]
        obs_t = np.empty((lay.dim, m), dtype=np.float32)
        np.cos(q, out=obs_t[0:k])
        np.sin(q, out=obs_t[k : 2 * k])
        obs_t[2 * k : 3 * k] = self._qdot[:, idx]
        obs_t[lay.closed] = self._closed[idx]
        obs_t[lay.holding] = self._holding[idx]
        obs_t[lay.gripper] = self._g[:, idx]
        opening = self._opening[idx]
        obs_t[lay.handle.start] = self._h0[0, idx] + opening * self._u[0]
        obs_t[lay.handle.start + 1] = self._h0[1, idx] + opening * self._u[1]
        obs_t[lay.opening] = opening
        return np.ascontiguousarray(obs_t.T)

    def set_state(
        self,
        q: Any = None,
        closed: Any = None,
        holding: Any = None,
        opening: Any = None,
        handle_closed: Any = None,
    ) -> np.ndarray:
        """Overwrite parts of the state of every env (hand-set states for tests and figures).

        ``q (n, K)``, ``closed``/``holding`` (n,) bools, ``opening`` (n,), ``handle_closed (n, 2)``;
        ``None`` keeps a part. Joint velocities are zeroed; episode counters are kept. Returns the
        teacher observations of the new state.
        """
        n = self.num_envs
        if q is not None:
            q = np.asarray(q, dtype=np.float64).reshape(n, self.n_links)
            self._q[...] = np.clip(q.T, self._lo, self._hi)
        if closed is not None:
            self._closed[:] = np.asarray(closed, dtype=bool).reshape(n)
        if holding is not None:
            self._holding[:] = np.asarray(holding, dtype=bool).reshape(n)
        if opening is not None:
            self._opening[:] = np.clip(np.asarray(opening, dtype=np.float64).reshape(n), 0.0, self.config.max_opening)
        if handle_closed is not None:
            self._h0[...] = np.asarray(handle_closed, dtype=np.float64).reshape(n, 2).T
        self._qdot[...] = 0.0
        self._refresh(np.arange(n))
        return self._observe()

    @property
    def q(self) -> np.ndarray:
        return self._q.T.copy()

    @property
    def gripper(self) -> np.ndarray:
        return self._g.T.copy()

    @property
    def handle_closed(self) -> np.ndarray:
        return self._h0.T.copy()

    @property
    def handle(self) -> np.ndarray:
        return (self._h0 + self._opening * self._u[:, None]).T.copy()

    @property
    def opening(self) -> np.ndarray:
        return self._opening.copy()

    @property
    def closed(self) -> np.ndarray:
        return self._closed.copy()

    @property
    def holding(self) -> np.ndarray:
        return self._holding.copy()

    @property
    def episode_length(self) -> np.ndarray:
        return self._t.copy()

    @property
    def grasp_attempts(self) -> np.ndarray:
        return self._attempts.copy()

    @property
    def missed_grasps(self) -> np.ndarray:
        return self._misses.copy()

    # -------------------------------------------------------------- VecEnv
    def reset(self) -> np.ndarray:
        """Start a fresh episode in every env (new scenes, or the fixed scenes again); return the observations."""
        self._reset_envs(np.arange(self.num_envs))
        return self._observe()

    def _check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        shape = (self.num_envs, self.config.action_dim)
        if a.shape != shape:
            raise ValueError(f"actions: got shape {a.shape}; allowed: {shape} (joint velocities, gripper)")
        if a.dtype.kind not in "fiu":
            raise ValueError(f"actions: got dtype {a.dtype}; allowed: real numbers")
        return a

    def _step(self, a: np.ndarray) -> VecEnvStepReturn:
        cfg = self.config
        k = self.n_links
        at = a.T  # (K + 1, n)

        # 1. joints
        dq = np.clip(at[:k], -1.0, 1.0) * self._step_angle
        q = self._q + dq
        np.clip(q, self._lo, self._hi, out=q)
        self._qdot = (q - self._q) * (1.0 / self._step_angle)
        self._q = q
        # 2. gripper position
        theta = np.cumsum(q, axis=0) if k > 1 else q
        gx = (self._L * np.cos(theta)).sum(0)
        gy = (self._L * np.sin(theta)).sum(0)
        self._g[0] = gx
        self._g[1] = gy
        # 3. grasp attempts against the handle as it was
        ux, uy = self._u
        h0x, h0y = self._h0
        opening0 = self._opening
        command = at[k] > 0
        closing = command & ~self._closed
        near = np.hypot(gx - (h0x + opening0 * ux), gy - (h0y + opening0 * uy)) <= cfg.grasp_radius
        grasp = closing & near
        miss = closing & ~near
        self._attempts += closing
        self._misses += miss
        # 4. holding; 5. pull, slip
        holding = (self._holding | grasp) & command
        proj = (gx - h0x) * ux + (gy - h0y) * uy
        opening = np.where(holding, np.clip(proj, 0.0, cfg.max_opening), opening0)
        dist = np.hypot(gx - (h0x + opening * ux), gy - (h0y + opening * uy))
        holding &= dist <= cfg.grasp_radius
        self._holding = holding
        self._closed = command
        # 6. reward, success, truncation
        success = opening >= cfg.success_opening
        reward = cfg.reach_coef * (self._dist - dist)
        reward += cfg.open_coef * (opening - opening0)
        reward += cfg.success_bonus * success
        reward -= cfg.time_penalty
        reward -= cfg.miss_penalty * miss
        self._opening = opening
        self._dist = dist
        self._t += 1
        self.episode_return += reward
        truncated = (self._t >= cfg.time_limit) & ~success
        dones = success | truncated
        obs = self._observe()

        # 7. infos and auto-reset
        infos: list[dict[str, Any]] = list(map(dict.copy, repeat(_EMPTY_INFO, self.num_envs)))
        done_idx = np.flatnonzero(dones)
        if done_idx.size:
            terminal = obs[done_idx].copy()
            per_env = zip(
                done_idx.tolist(),
                terminal,
                truncated[done_idx].tolist(),
                success[done_idx].tolist(),
                self.episode_return[done_idx].tolist(),
                self._t[done_idx].tolist(),
                self._attempts[done_idx].tolist(),
                self._misses[done_idx].tolist(),
            )
            for i, term, trunc, succ, ret, length, att, mis in per_env:
                infos[i] = {
                    "terminal_observation": term,
                    "TimeLimit.truncated": trunc,
                    "is_success": succ,
                    "grasp_attempts": att,
                    "missed_grasps": mis,
                    "episode": {"r": ret, "l": length},
                }
            self._reset_envs(done_idx)
            obs[done_idx] = self._observe(done_idx)
        return obs, reward.astype(np.float32), dones, infos

    def _reseed(self, seed: Any) -> None:
        """Re-seed the scene generator, used from the next reset on (what :meth:`seed` does; ``None``: fresh OS
        entropy). An env built with :meth:`from_scenes` replays its scenes and ignores the seed."""
        if self.scenes is None:
            self._rng = np.random.default_rng(validate_seed(seed))

    # ------------------------------------------------------------ helpers
    def student_obs(self, obs: Any) -> np.ndarray:
        """See :func:`occluded_drawer.env.student_obs` (with this env's config)."""
        return student_obs(obs, self.config)

    def visible(self) -> np.ndarray:
        """(n,) bool: the handle is visible in the current state (from the float64 state, not the obs)."""
        return handle_visible(link_points(self._q.T, self.config.link_lengths), self.handle, self.config)
