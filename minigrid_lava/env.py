"""MiniGrid envs as the study trains them: gymnasium envs from the ``minigrid`` package (a third-party environment:
nothing of the env's dynamics is written here), the teacher's fully observable grid flattened, an episode outcome in
the info, training levels drawn from the run's seed, and SB3 vectorisation.

One env (:func:`make_env`)::

    gym.make(env_id)                      # MiniGrid's own env (e.g. MiniGrid-LavaCrossingS9N1-v0)
      (skip_partial_view)                 # MiniGrid's gen_obs without the partial view nobody reads (see below)
      -> FullyObsWrapper                  # minigrid.wrappers: the full grid encoding as obs["image"]
      -> FlatGrid                         # the teacher's observation: that image flattened, (W * H * 3,) uint8
      -> Outcome                          # info["success"], info["lava"] at the end of an episode
      -> LevelStream (training only)      # each reset draws the level seed from the env's own stream
      -> stable_baselines3 Monitor        # episode return/length (+ success, lava) for SB3's logger

:func:`make_vec_env` puts ``n_envs`` of them in SB3's ``DummyVecEnv`` (default: one process; the study runs one
training per core) or ``SubprocVecEnv`` and wraps the result in :class:`MiniGridVecEnv`, whose ``student_obs`` is the
student's view (:func:`minigrid_lava.views.student_obs`) of a batch of teacher observations.

Speed: MiniGrid's ``step`` and ``reset`` end in ``gen_obs()``, which computes the egocentric partial view in Python
(slice, rotations, occlusion, encoding: 39% of a SITT training's time in a profile of 12k steps); ``FullyObsWrapper``
then throws that image away for the full grid. :func:`skip_partial_view` gives the env instance a ``gen_obs`` that
returns MiniGrid's observation dict without computing the partial image (``image`` is None until
``FullyObsWrapper`` sets the full grid); the dynamics are MiniGrid's (``step`` is untouched) and the student's view
is computed from the full grid by :func:`minigrid_lava.views.student_obs` (tested equal to MiniGrid's own
``gen_obs``; a test checks that the teacher's observations are the same with and without the skip).

Levels: a MiniGrid level is what ``env.reset(seed=s)`` generates. A training env ``i`` of a run with seed ``k`` draws
the seed of each of its episodes from ``numpy.random.default_rng(train_stream_seed(k, i))`` (:class:`LevelStream`),
so the training levels are a function of the run's seed alone (not of SB3's ``env.seed``, which it ignores), and
different for every env and run seed. The held-out levels are seeds of their own (:func:`held_out_level_seeds`).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecEnvWrapper

from minigrid_lava.views import flatten_full, student_obs
from sitt.checks import fail, is_int

#: MiniGrid's lava envs (gymnasium ids registered by ``import minigrid``): each can end an episode in lava
LAVA_ENVS = ("MiniGrid-LavaGapS5-v0", "MiniGrid-LavaGapS6-v0", "MiniGrid-LavaGapS7-v0",
             "MiniGrid-LavaCrossingS9N1-v0", "MiniGrid-LavaCrossingS9N2-v0", "MiniGrid-LavaCrossingS9N3-v0",
             "MiniGrid-LavaCrossingS11N5-v0")
#: the vectorisations :func:`make_vec_env` offers
VEC_ENVS = ("dummy", "subproc")
#: tags that keep the seed streams of training and held-out levels apart (any fixed distinct integers)
TRAIN_STREAM, HELD_OUT_STREAM = 0x7472, 0x686F
#: the episode-info keys :class:`Outcome` adds (logged by SITT as rollout/<key>_mean)
INFO_KEYWORDS = ("success", "lava")


def register() -> None:
    """Register MiniGrid's envs with gymnasium (importing ``minigrid`` does it)."""
    import minigrid  # noqa: F401, PLC0415  (minigrid: the optional `minigrid` extra, imported when first used)


def env_kwargs(view_size: int | None) -> dict[str, int]:
    """``gym.make`` keywords of MiniGrid for a view size (``agent_view_size``; None: the env's own, 7)."""
    return {} if view_size is None else {"agent_view_size": int(view_size)}


def env_geometry(env_id: str, view_size: int | None = None) -> dict[str, int | bool]:
    """``width``, ``height``, ``view_size`` (``agent_view_size``), ``max_steps`` and ``see_through_walls`` of a
    MiniGrid env id (from one instance of MiniGrid's env)."""
    register()
    env = gym.make(env_id, **env_kwargs(view_size))
    try:
        u = env.unwrapped
        if not hasattr(u, "gen_obs_grid"):
            raise ValueError(f"env_id: got {env_id!r}, not a MiniGrid env; allowed: a MiniGrid-* id")
        return dict(width=int(u.width), height=int(u.height), view_size=int(u.agent_view_size),
                    max_steps=int(u.max_steps), see_through_walls=bool(u.see_through_walls))
    finally:
        env.close()


def skip_partial_view(env: gym.Env) -> gym.Env:
    """Give MiniGrid's env instance (``env.unwrapped``) a ``gen_obs`` that skips the partial-view image: it returns
    ``{"image": None, "direction": agent_dir, "mission": mission}`` (MiniGrid's dict less the image). Only for envs
    wrapped in ``FullyObsWrapper``, which replaces the image; the class's own ``gen_obs`` stays reachable as
    ``type(env.unwrapped).gen_obs(env.unwrapped)``. Returns ``env``."""
    u = env.unwrapped

    def gen_obs() -> dict[str, Any]:
        return {"image": None, "direction": u.agent_dir, "mission": u.mission}

    u.gen_obs = gen_obs
    return env


class FlatGrid(gym.ObservationWrapper):
    """``FullyObsWrapper``'s ``image`` flattened: the teacher's observation, ``Box(0, 255, (W * H * 3,), uint8)``."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        space = env.observation_space["image"]
        self.observation_space = gym.spaces.Box(0, 255, (int(np.prod(space.shape)),), np.uint8)

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        return flatten_full(observation["image"][None])[0]


class NavigationActions(gym.ActionWrapper):
    """MiniGrid's action space cut to its first ``n`` actions: ``Discrete(3)`` keeps ``left`` (0), ``right`` (1) and
    ``forward`` (2), the only ones that do anything in the lava envs (``pickup``, ``drop``, ``toggle`` and ``done``
    leave the state as it is and cost a step). The kept actions keep their numbers, so a policy trained on the cut
    space acts unchanged in MiniGrid's own env (the evaluation's)."""

    def __init__(self, env: gym.Env, n: int = 3):
        super().__init__(env)
        if not is_int(n) or not 1 <= n <= env.action_space.n:
            fail("actions", n, f"an integer in 1-{env.action_space.n}")
        self.action_space = gym.spaces.Discrete(n)

    def action(self, action):
        return int(action)


class Outcome(gym.Wrapper):
    """Adds ``info["success"]`` (the agent stepped onto the goal) and ``info["lava"]`` (onto lava) as 0.0/1.0 on the
    step that ends an episode (terminated or truncated), read from the cell under the agent in MiniGrid's grid."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            u = self.env.unwrapped
            cell = u.grid.get(*u.agent_pos)
            kind = cell.type if (cell is not None and terminated) else None
            info = dict(info, success=float(kind == "goal"), lava=float(kind == "lava"))
        return obs, reward, terminated, truncated, info


class LevelStream(gym.Wrapper):
    """Each reset generates the level ``env.reset(seed=s)`` with ``s`` drawn from this env's own stream
    ``numpy.random.default_rng(stream_seed)``; a seed passed to ``reset`` is ignored (SB3 seeds its envs ``seed +
    i``, which would make run seeds 0 and 1 share levels). ``levels`` counts the episodes started."""

    def __init__(self, env: gym.Env, stream_seed: int):
        super().__init__(env)
        self.stream_seed = int(stream_seed)
        self._rng = np.random.default_rng(self.stream_seed)
        self.levels = 0

    def next_level_seed(self) -> int:
        return int(self._rng.integers(0, 2**31 - 1))

    def reset(self, *, seed=None, options=None):
        self.levels += 1
        return self.env.reset(seed=self.next_level_seed(), options=options)


def make_env(env_id: str, stream_seed: int | None = None, monitor: bool = True, view_size: int | None = None,
             fast: bool = True, actions: int | None = None) -> gym.Env:
    """One env as in the module docstring (``stream_seed`` None: no :class:`LevelStream`, the caller seeds resets;
    ``monitor``: add SB3's ``Monitor`` with :data:`INFO_KEYWORDS`; ``view_size``: MiniGrid's ``agent_view_size``,
    None: the env's own; ``fast``: :func:`skip_partial_view`; ``actions``: keep MiniGrid's first ``actions`` actions
    (:class:`NavigationActions`), None: all 7)."""
    from minigrid.wrappers import FullyObsWrapper  # noqa: PLC0415  (minigrid: the optional `minigrid` extra)

    register()
    # gymnasium's passive checker would warn about the skipped image on the first reset (it checks nothing after)
    base = gym.make(env_id, disable_env_checker=fast, **env_kwargs(view_size))
    if fast:
        skip_partial_view(base)
    env: gym.Env = Outcome(FlatGrid(FullyObsWrapper(base)))
    if actions is not None:
        env = NavigationActions(env, actions)
    if stream_seed is not None:
        env = LevelStream(env, stream_seed)
    if monitor:
        env = Monitor(env, info_keywords=INFO_KEYWORDS)
    return env


def train_stream_seed(seed: int, index: int) -> int:
    """The level-stream seed of training env ``index`` of a run with seed ``seed``: a 32-bit word of
    ``numpy.random.SeedSequence([seed, TRAIN_STREAM, index])``, distinct for distinct (seed, index)."""
    return int(np.random.SeedSequence([int(seed), TRAIN_STREAM, int(index)]).generate_state(1)[0])


def held_out_level_seeds(level_seed: int, n: int) -> np.ndarray:
    """The ``n`` held-out level seeds of the evaluation seed ``level_seed``: distinct integers in ``[0, 2**31 - 1)``
    drawn without replacement by ``numpy.random.default_rng([level_seed, HELD_OUT_STREAM])`` (int64)."""
    rng = np.random.default_rng([int(level_seed), HELD_OUT_STREAM])
    return np.sort(rng.choice(2**31 - 1, size=int(n), replace=False)).astype(np.int64)


class MiniGridVecEnv(VecEnvWrapper):
    """An SB3 ``VecEnv`` of MiniGrid envs with the teacher's flat grid observations and the student's view.

    :ivar env_id: the MiniGrid env id; ``width``, ``height``, ``view_size``: its geometry.
    """

    def __init__(self, venv: VecEnv, env_id: str, width: int, height: int, view_size: int):
        super().__init__(venv)
        self.env_id, self.width, self.height, self.view_size = env_id, int(width), int(height), int(view_size)

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        return self.venv.step_wait()

    def student_obs(self, obs: np.ndarray) -> np.ndarray:
        """Teacher observations ``(N, W * H * 3)`` -> the student's views ``(N, V * V * 3)`` uint8
        (:func:`minigrid_lava.views.student_obs`)."""
        return student_obs(obs, self.width, self.height, self.view_size)


def _factory(env_id: str, stream_seed: int | None, view_size: int | None,
             actions: int | None) -> Callable[[], gym.Env]:
    def make() -> gym.Env:
        return make_env(env_id, stream_seed, view_size=view_size, actions=actions)

    return make


def make_vec_env(env_id: str, n_envs: int, seed: int | None, vec_env: str = "dummy",
                 stream_seeds: Sequence[int] | None = None, view_size: int | None = None,
                 actions: int | None = None) -> MiniGridVecEnv:
    """``n_envs`` training envs (:func:`make_env`) in SB3's ``DummyVecEnv`` (``vec_env="dummy"``) or
    ``SubprocVecEnv`` (``"subproc"``), env ``i`` drawing its levels from :func:`train_stream_seed` ``(seed, i)``
    (or ``stream_seeds[i]``; ``seed=None`` and no ``stream_seeds``: resets are seeded by the caller); ``view_size``:
    MiniGrid's ``agent_view_size`` (None: the env's own, 7); ``actions``: MiniGrid's first ``actions`` actions only
    (:class:`NavigationActions`; None: all 7)."""
    if vec_env not in VEC_ENVS:
        raise ValueError(f"vec_env: got {vec_env!r}; allowed: {', '.join(VEC_ENVS)}")
    geometry = env_geometry(env_id, view_size)
    if stream_seeds is None:
        stream_seeds = [None if seed is None else train_stream_seed(seed, i) for i in range(n_envs)]
    factories = [_factory(env_id, s, view_size, actions) for s in stream_seeds]
    venv = DummyVecEnv(factories) if vec_env == "dummy" else SubprocVecEnv(factories, start_method="forkserver")
    return MiniGridVecEnv(venv, env_id, geometry["width"], geometry["height"], geometry["view_size"])


__all__ = ["FlatGrid", "HELD_OUT_STREAM", "INFO_KEYWORDS", "LAVA_ENVS", "LevelStream", "MiniGridVecEnv",
           "NavigationActions", "Outcome",
           "TRAIN_STREAM", "VEC_ENVS", "env_geometry", "env_kwargs", "held_out_level_seeds", "make_env", "make_vec_env",
           "register", "skip_partial_view", "train_stream_seed"]
