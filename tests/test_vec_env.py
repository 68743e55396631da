"""sitt.vec_env.BatchedVecEnv: the SB3 VecEnv plumbing written once for envs that step all their copies at once."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from sitt.vec_env import BatchedVecEnv


class Counter(BatchedVecEnv):
    """n counters: the observation is the step count of the episode, which ends after ``length`` steps; reward 1 for
    action 1. Seeding draws the next episodes' lengths from a Generator."""

    def __init__(self, n: int = 4, length: int = 3, seed: int | None = 0) -> None:
        self.length = length
        self.t = np.zeros(n, dtype=np.int64)
        self.rng = np.random.default_rng(seed)
        self.reseeded: list = []
        super().__init__(n, spaces.Box(0.0, 10.0, (1,), np.float32), spaces.Discrete(2))

    def reset(self) -> np.ndarray:
        self.t[:] = 0
        return self.t[:, None].astype(np.float32)

    def _check_actions(self, actions) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape != (self.num_envs,):
            raise ValueError(f"actions: got shape {a.shape}; allowed: ({self.num_envs},)")
        return a

    def _step(self, actions: np.ndarray):
        self.t += 1
        dones = self.t >= self.length
        obs = self.t[:, None].astype(np.float32)
        infos = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i] = {"terminal_observation": obs[i].copy(), "TimeLimit.truncated": True}
        self.t[dones] = 0
        obs[dones] = 0.0
        return obs, (actions == 1).astype(np.float32), dones, infos

    def _reseed(self, seed) -> None:
        self.reseeded.append(seed)

    def double(self, x: int, plus: int = 0) -> int:
        return 2 * x + plus


class Minimal(BatchedVecEnv):
    """The least a subclass writes: reset and _step (no action check, no seeding)."""

    def __init__(self, n: int = 2) -> None:
        super().__init__(n, spaces.Box(-1.0, 1.0, (2,), np.float32), spaces.Box(-1.0, 1.0, (2,), np.float32))

    def reset(self) -> np.ndarray:
        return np.zeros((self.num_envs, 2), dtype=np.float32)

    def _step(self, actions: np.ndarray):
        n = self.num_envs
        return np.asarray(actions, dtype=np.float32), np.zeros(n, np.float32), np.zeros(n, bool), [{}] * n


def test_it_is_an_sb3_vec_env_with_no_render_mode():
    env = Counter(3)
    assert isinstance(env, VecEnv) and env.num_envs == 3
    assert env.render_mode is None and env.metadata == {"render_modes": []}
    with pytest.raises(TypeError):
        BatchedVecEnv(2, spaces.Discrete(2), spaces.Discrete(2))  # _step and reset are abstract


def test_get_attr_repeats_the_one_value_per_index():
    env = Counter(4)
    assert env.get_attr("length") == [3, 3, 3, 3]
    assert env.get_attr("length", indices=2) == [3]
    assert env.get_attr("length", indices=np.int64(1)) == [3]
    assert env.get_attr("length", indices=[0, 3]) == [3, 3]
    assert env.get_attr("length", indices=range(3)) == [3, 3, 3]
    assert env.get_attr("t")[0] is env.t  # the same object, not a copy
    with pytest.raises(AttributeError):
        env.get_attr("missing")


def test_set_attr_sets_the_shared_attribute_once_whatever_the_indices():
    env = Counter(4)
    env.set_attr("length", 5, indices=[1])
    assert env.length == 5 and env.get_attr("length") == [5] * 4
    env.set_attr("new_attr", "x")
    assert env.new_attr == "x"


def test_env_method_calls_once_and_repeats_the_result():
    env = Counter(4)
    calls = []
    env.probe = lambda *a, **k: calls.append((a, k)) or len(calls)
    assert env.env_method("probe", 1, key=2, indices=[0, 1]) == [1, 1]
    assert calls == [((1,), {"key": 2})]
    assert env.env_method("double", 3, plus=1) == [7, 7, 7, 7]
    assert env.env_method("double", 3, indices=0) == [6]


def test_env_is_wrapped_is_false_everywhere():
    env = Counter(3)
    assert env.env_is_wrapped(VecMonitor) == [False, False, False]
    assert env.env_is_wrapped(VecMonitor, indices=1) == [False]


def test_seed_calls_reseed_and_returns_sb3_seeds():
    env = Counter(3)
    assert env.seed(10) == [10, 11, 12]
    assert env.seed(np.int64(4)) == [4, 5, 6]
    assert env.seed() == [None, None, None]
    assert env.reseeded == [10, np.int64(4), None]
    state = np.random.get_state()[1].copy()
    Minimal(2).seed(3)  # the default _reseed does nothing, and the global RNG is never touched
    assert np.array_equal(np.random.get_state()[1], state)


def test_step_round_trip_and_auto_reset():
    env = Counter(2, length=2)
    obs = env.reset()
    assert obs.tolist() == [[0.0], [0.0]]
    obs, reward, dones, infos = env.step(np.array([1, 0]))
    assert obs.tolist() == [[1.0], [1.0]] and reward.tolist() == [1.0, 0.0] and not dones.any()
    assert infos == [{}, {}]
    env.step_async(np.array([0, 1]))
    obs, reward, dones, infos = env.step_wait()
    assert dones.tolist() == [True, True] and obs.tolist() == [[0.0], [0.0]]  # reset after the episode's end
    assert infos[0]["terminal_observation"].tolist() == [2.0] and infos[1]["TimeLimit.truncated"]


def test_step_wait_without_step_async_and_bad_actions():
    env = Counter(2)
    env.reset()
    with pytest.raises(RuntimeError, match="step_wait called without step_async"):
        env.step_wait()
    with pytest.raises(ValueError, match=r"actions: got shape \(3,\); allowed: \(2,\)"):
        env.step_async(np.zeros(3, dtype=np.int64))
    with pytest.raises(RuntimeError):  # a refused step leaves nothing pending
        env.step_wait()
    env.step(np.ones(2, dtype=np.int64))
    with pytest.raises(RuntimeError):  # a step consumes its actions
        env.step_wait()


def test_default_check_actions_is_asarray_and_close_does_nothing():
    env = Minimal(2)
    env.reset()
    obs, _, _, _ = env.step([[0.5, -0.5], [0.25, 0.0]])
    assert obs.tolist() == [[0.5, -0.5], [0.25, 0.0]]
    assert env.close() is None


def test_ppo_learns_on_a_subclass():
    env = VecMonitor(Counter(4, length=3))
    model = PPO("MlpPolicy", env, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(64)
    assert model.num_timesteps == 64
    actions, _ = model.predict(env.reset(), deterministic=True)
    assert actions.shape == (4,)
