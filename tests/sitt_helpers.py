"""Small shared fixtures for the SITT tests: toy vectorised envs with a masked student view."""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnvWrapper


def mask_cartpole(obs: np.ndarray) -> np.ndarray:
    """Student view of CartPole: velocities hidden. (N, 4) -> (N, 4)."""
    return obs * np.array([1, 0, 1, 0], dtype=obs.dtype)


def mask_pendulum(obs: np.ndarray) -> np.ndarray:
    """Student view of Pendulum: angular velocity hidden. (N, 3) -> (N, 3)."""
    return obs * np.array([1, 1, 0], dtype=obs.dtype)


class Recorder(VecEnvWrapper):
    """Records, per step, the observation the actions were taken from and the env's rewards."""

    def __init__(self, venv):
        super().__init__(venv)
        self.obs_before: list[np.ndarray] = []
        self.rewards: list[np.ndarray] = []
        self._last = None

    def reset(self):
        self._last = self.venv.reset()
        return self._last

    def step_async(self, actions):
        self.obs_before.append(np.array(self._last, copy=True))
        self.venv.step_async(actions)

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self.rewards.append(np.array(rewards, copy=True))
        self._last = obs
        return obs, rewards, dones, infos


def cartpole(n_envs: int = 4, seed: int = 0):
    return make_vec_env("CartPole-v1", n_envs=n_envs, seed=seed)


def pendulum(n_envs: int = 4, seed: int = 0):
    return make_vec_env("Pendulum-v1", n_envs=n_envs, seed=seed)
