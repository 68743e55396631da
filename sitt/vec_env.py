"""A base for envs that step all their copies at once in numpy: one object holds the state of every env as arrays
with the env axis first (or last), and a step is a few array operations over all of them.

Stable-baselines3's :class:`~stable_baselines3.common.vec_env.VecEnv` asks for plumbing written for a list of
separate envs (``get_attr``, ``set_attr``, ``env_method``, ``env_is_wrapped``, ``seed``, ``close`` and the
``step_async`` / ``step_wait`` pair). :class:`BatchedVecEnv` writes it once for a batched env: there is ONE
underlying object, so an attribute access or a method call acts on it once and its result is repeated for each
requested index. A subclass writes only its env:

* ``reset() -> obs``: a fresh episode in every env; ``obs`` of shape ``(num_envs, *observation_space.shape)``;
* ``_check_actions(actions) -> array``: the actions of one step, checked (``ValueError`` naming the problem) and
  converted, e.g. ``(num_envs,)`` integers for a ``Discrete`` action space or ``(num_envs, action_dim)`` floats for
  a ``Box``; the default is ``np.asarray(actions)``;
* ``_step(actions) -> (obs, reward, dones, infos)``: one step of every env with auto-reset (SB3's contract: ``obs``
  ``(num_envs, ...)`` after the reset of the envs that are done, ``reward`` and ``dones`` ``(num_envs,)``, ``infos``
  a list of ``num_envs`` dicts with ``"terminal_observation"`` and ``"TimeLimit.truncated"`` for the done envs);
* optionally ``_reseed(seed)``: what :meth:`seed` re-seeds (nothing by default);

and calls ``super().__init__(num_envs, observation_space, action_space)`` once its attributes are set (SB3's
constructor reads ``render_mode`` through :meth:`get_attr`).

A minimal example (a counter per env that ends its episode after 3 steps)::

    class Counter(BatchedVecEnv):
        def __init__(self, n):
            self.t = np.zeros(n, dtype=np.int64)
            super().__init__(n, spaces.Box(0, 3, (1,), np.float32), spaces.Discrete(2))

        def reset(self):
            self.t[:] = 0
            return self.t[:, None].astype(np.float32)

        def _step(self, actions):
            self.t += 1
            dones = self.t >= 3
            obs = self.t[:, None].astype(np.float32)
            infos = [{} for _ in range(self.num_envs)]
            for i in np.flatnonzero(dones):
                infos[i] = {"terminal_observation": obs[i].copy(), "TimeLimit.truncated": False}
            self.t[dones] = 0
            obs[dones] = 0.0
            return obs, actions.astype(np.float32), dones, infos
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

__all__ = ["BatchedVecEnv"]


class BatchedVecEnv(VecEnv):
    """An SB3 ``VecEnv`` whose ``num_envs`` envs are one object stepped in numpy (module doc for what a subclass
    writes).

    ``render_mode`` is None (no rendering through SB3: a batched env draws with its own functions).
    """

    render_mode: str | None = None
    #: the actions of the pending step (set by :meth:`step_async`, consumed by :meth:`step_wait`)
    _actions: Any = None

    # ------------------------------------------------------------------ what a subclass writes
    def _check_actions(self, actions: Any) -> np.ndarray:
        """The actions of one step as the env uses them; ``ValueError`` for actions it refuses.

        :param actions: what the caller passed to ``step`` / ``step_async`` (array-like, ``(num_envs, ...)``).
        :return: the array :meth:`_step` receives. Default: ``np.asarray(actions)``, unchecked.
        """
        return np.asarray(actions)

    @abstractmethod
    def _step(self, actions: np.ndarray) -> VecEnvStepReturn:
        """One step of every env, with auto-reset of the envs that are done.

        :param actions: :meth:`_check_actions`'s array.
        :return: ``(obs, reward, dones, infos)``: ``obs`` ``(num_envs, *observation_space.shape)``, the done envs'
            first observation of their next episode; ``reward`` ``(num_envs,)`` float; ``dones`` ``(num_envs,)``
            bool; ``infos`` a list of ``num_envs`` dicts, a done env's with ``"terminal_observation"`` (its last
            observation) and ``"TimeLimit.truncated"``.
        """

    def _reseed(self, seed: Any) -> None:
        """Re-seed the env's randomness from ``seed`` (what :meth:`seed` passed on, ``None`` included); validate it
        here (``ValueError``). Default: nothing to seed."""

    # ------------------------------------------------------------------ SB3's VecEnv
    def step_async(self, actions: Any) -> None:
        """Check ``actions`` (:meth:`_check_actions`) and keep them for :meth:`step_wait`.

        :param actions: one action per env, ``(num_envs, ...)``.
        """
        self._actions = self._check_actions(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step every env with the actions of :meth:`step_async` (:meth:`_step`); ``RuntimeError`` without them."""
        actions = self._actions
        if actions is None:
            raise RuntimeError("step_wait called without step_async")
        self._actions = None
        return self._step(actions)

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Re-seed the env (:meth:`_reseed`, which may do nothing) and return SB3's list of per-env seeds.

        :param seed: None or an integer (a subclass may accept more in :meth:`_reseed`).
        :return: ``[seed + i for i in range(num_envs)]``, or ``[None] * num_envs`` for ``None``. The global numpy
            RNG is never touched.
        """
        self._reseed(seed)
        if seed is None:
            return [None] * self.num_envs
        return [int(seed) + i for i in range(self.num_envs)]

    def close(self) -> None:
        """Nothing to release (no subprocesses, no windows)."""

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        """``indices`` as a list: ``None`` = every env, an integer = that env, else the sequence as given."""
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, (int, np.integer)):
            return [int(indices)]
        return list(indices)

    # One underlying object for all envs: attribute access and method calls act on it once, and the result is
    # repeated for each requested index.
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute ``attr_name`` of the batched object, once per index.

        :param attr_name: the attribute's name.
        :param indices: None (every env), an integer or a sequence of integers.
        :return: ``[value] * len(indices)`` (the same object repeated).
        """
        value = getattr(self, attr_name)
        return [value] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute ``attr_name`` of the batched object (once, whatever ``indices`` says: every env shares
        it).

        :param attr_name: the attribute's name.
        :param value: its new value.
        :param indices: ignored (accepted for SB3's signature).
        """
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        """Call the method ``method_name`` of the batched object once and repeat its result per index.

        :param method_name: the method's name.
        :param method_args: its positional arguments.
        :param indices: None (every env), an integer or a sequence of integers: how many times the result is listed.
        :param method_kwargs: its keyword arguments.
        :return: ``[result] * len(indices)``.
        """
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        """``[False] * len(indices)``: a batched env has no gymnasium wrappers."""
        return [False] * len(self._indices(indices))
