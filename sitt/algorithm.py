"""SITT: Student-Informed Teacher Training as a subclass of stable-baselines3's PPO.

One iteration of :meth:`SITT.learn` is the paper's three phases:

1. roll-out (:meth:`SITT.collect_rollouts`): the teacher acts with SB3's loop; :meth:`SITT.rollout_reward_term`
   then adds ``sign * coef * KL(teacher(o) || proxy(o))`` to each stored reward, ``o`` the observation the action
   was taken from, and recomputes returns and advantages;
2. policy update (:meth:`SITT.policy_update`): PPO's loss plus the student-informed term (release: feature L1 to the
   proxy; paper: KL to the proxy), proxy frozen; only the teacher (policy MLP, head, critic) changes;
3. alignment (:meth:`SITT.align`): the student is pulled to the teacher and the proxy to the student (L1 on
   features and on the frozen head's outputs); only the student side changes.

What does not change within a phase is computed once per iteration: the observations as float32 tensors, the
student view, the proxy's features (frozen during the update), the teacher's features and head outputs (frozen
during alignment).
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any
from collections.abc import Callable

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import explained_variance, obs_as_tensor, safe_mean
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import VecEnv, VecTransposeImage
from stable_baselines3.common.vec_env.base_vec_env import VecEnvWrapper

from sitt.config import SITTConfig
from sitt.dedup import groups_for, unique_rows
from sitt.distributions import agreement, check_supported, distribution_from_output, executed_output, kl_divergence
from sitt.losses import alignment_loss, ppo_loss, update_term
from sitt.networks import StudentNetworks, teacher_latent, transposed_by_sb3, untranspose
from sitt.student import StudentPolicy, check_student_view, obs_to_tensor, probe_student_space, space_shapes

StudentObsFn = Callable[[np.ndarray], np.ndarray]
_PPO_ARGS = set(inspect.signature(PPO.__init__).parameters) - {"self", "policy", "env"}


def call_frozen(module: th.nn.Module, x: th.Tensor) -> th.Tensor:
    """``module(x)`` with the module's parameters detached: gradients reach ``x`` but never the module."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return th.func.functional_call(module, params, (x,))


def flatten_env_major(a: np.ndarray | dict[str, np.ndarray]) -> np.ndarray | dict[str, np.ndarray]:
    """(T, E, ...) roll-out array (or a dict of them) -> (E*T, ...), the order of SB3's
    ``RolloutBuffer.swap_and_flatten``, so that a seeded minibatch permutation picks the same samples as stock PPO."""
    if isinstance(a, dict):
        return {k: flatten_env_major(v) for k, v in a.items()}
    return a.swapaxes(0, 1).reshape(a.shape[0] * a.shape[1], *a.shape[2:])


def pick_rows(groups: Any, rows: th.Tensor | dict[str, th.Tensor]) -> th.Tensor | dict[str, th.Tensor]:
    """``groups.pick`` on a tensor or on each tensor of a dict observation."""
    if isinstance(rows, dict):
        return {k: groups.pick(v) for k, v in rows.items()}
    return groups.pick(rows)


def env_space_of(env: VecEnv | None, policy_space: spaces.Space) -> spaces.Space:
    """The observation space the user's env returns: before SB3's ``VecTransposeImage`` when SB3 added one."""
    while isinstance(env, VecEnvWrapper):
        if isinstance(env, VecTransposeImage):
            return env.venv.observation_space
        env = env.venv
    return policy_space


def minibatches(n: int, batch_size: int | None, generator: Callable[[int], np.ndarray]):
    """Index arrays covering ``range(n)`` in minibatches; ``None`` (one full batch, no shuffling) when
    ``batch_size`` is None or >= n: a full batch in a shuffled order is the same batch."""
    if batch_size is None or batch_size >= n:
        yield None
        return
    perm = generator(n)
    for start in range(0, n, batch_size):
        yield perm[start : start + batch_size]


class SITT(PPO):
    """PPO teacher trained with SITT's roll-out, policy-update and alignment phases (see the module docstring).

    :param policy: the teacher's policy (``"MlpPolicy"`` or an ``ActorCriticPolicy`` class), as for SB3's PPO.
    :param env: any SB3 ``VecEnv`` (or gymnasium env) giving the teacher's (privileged) observations.
    :param recipe: ``"release"`` (the authors' code) or ``"paper"`` (the text); see :func:`sitt.config.recipe_defaults`.
    :param config: a ready :class:`SITTConfig`; ``recipe`` is then ignored and ``switches`` override its fields.
    :param student_obs_fn: maps a batch of teacher observations to student observations, numpy in and out (a dict of
        arrays for a ``Dict`` space, in or out). **Contract**: it receives the observations exactly as the user's env
        returns them, i.e. *before* SB3's ``VecTransposeImage`` (channels-last images stay channels-last: SITT undoes
        SB3's transpose before calling it), as a batch (N, *obs_shape); it must return a batch of the same N rows, of
        one fixed row shape (the student's layout; ``uint8`` (H, W, C) or (C, H, W) arrays are images). It is checked
        at construction on probe batches of 2 and 3 observations and on every call; a violation raises a
        ``ValueError`` naming ``student_obs_fn``. ``predict_student`` takes what it returns. Default:
        ``env.student_obs`` when the env has one.
    :param kl_groups_fn: optional logging hook: observations (N, *obs_shape) -> {group name: bool mask (N,)}; the
        mean KL of each group is logged as ``sitt/kl_<name>``. Default: ``env.kl_groups`` when the env has one.
    :param dedup: run the networks once per distinct observation of a roll-out when observations repeat (integer
        valued and at most half distinct; see :mod:`sitt.dedup`). Same results up to float summation order; False
        runs them once per sample.
    :param info_keywords: keys of the env's per-episode info entries (those SB3 keeps in ``ep_info_buffer``) whose
        mean over the last episodes is logged as ``rollout/<key>_mean`` each iteration, as SB3's ``Monitor`` does with
        its ``info_keywords`` (the study's maze passes ``("n_paths",)``). Default: none.
    :param student_observation_space: the student's observation space (default: inferred from the probe batch, see
        :func:`sitt.student.space_of_batch`).
    :param student_features_extractor_class: SB3 features extractor of the student encoder, before its MLP
        (``student_net_arch``); default: SB3's choice for the student's space (``FlattenExtractor``, ``NatureCNN`` with
        SB3's image preprocessing, ``CombinedExtractor``), as SB3 chooses one for a policy.
    :param student_features_extractor_kwargs: its keyword arguments (e.g. ``{"features_dim": 256}``).
    :param proxy_features_extractor_class: SB3 features extractor of the proxy on the teacher observation, before its
        MLP (``proxy_net_arch``); default: SB3's choice for the teacher's space, with the teacher's preprocessing.
    :param proxy_features_extractor_kwargs: its keyword arguments.
    :param switches: any :class:`SITTConfig` field (``reward_coef=0.5``, ``update_term="kl"``, ``align=False``, ...);
        every other keyword goes to SB3's ``PPO`` (``n_steps``, ``batch_size``, ``n_epochs``, ``ent_coef``,
        ``seed``, ``device``, ``verbose``, ``tensorboard_log``, ...).
    """

    def __init__(
        self,
        policy: Any,
        env: Any,
        recipe: str = "release",
        *,
        config: SITTConfig | None = None,
        student_obs_fn: StudentObsFn | None = None,
        kl_groups_fn: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None,
        dedup: bool = True,
        info_keywords: tuple[str, ...] = (),
        student_observation_space: spaces.Space | None = None,
        student_features_extractor_class: type[BaseFeaturesExtractor] | None = None,
        student_features_extractor_kwargs: dict[str, Any] | None = None,
        proxy_features_extractor_class: type[BaseFeaturesExtractor] | None = None,
        proxy_features_extractor_kwargs: dict[str, Any] | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ):
        switches = {k: kwargs.pop(k) for k in list(kwargs) if k in SITTConfig.field_names()}
        unknown = sorted(set(kwargs) - _PPO_ARGS)
        if unknown:
            raise ValueError(
                f"{unknown[0]}: not a SITT switch nor a PPO argument; SITT switches: "
                f"{', '.join(SITTConfig.field_names())}; PPO arguments: {', '.join(sorted(_PPO_ARGS))}"
            )
        if config is None:
            self.sitt_config = SITTConfig.from_recipe(recipe, **switches)
        else:
            self.sitt_config = dataclasses.replace(config, **switches).validate()
        super().__init__(policy, env, _init_setup_model=False, **kwargs)
        self.student_obs_fn = student_obs_fn or getattr(self.env, "student_obs", None)
        self.kl_groups_fn = kl_groups_fn or getattr(self.env, "kl_groups", None)
        self.dedup = dedup
        self.info_keywords = tuple(info_keywords)
        self.student_observation_space = student_observation_space
        self.student_features_extractor_class = student_features_extractor_class
        self.student_features_extractor_kwargs = student_features_extractor_kwargs
        self.proxy_features_extractor_class = proxy_features_extractor_class
        self.proxy_features_extractor_kwargs = proxy_features_extractor_kwargs
        self._iteration: dict[str, Any] = {}
        if not _init_setup_model:
            return  # SB3's load(): attributes come from the saved file, then _setup_model() is called
        if self.sitt_config.needs_student_obs and self.student_obs_fn is None:
            raise ValueError(
                "student_obs_fn: the env has no student view (no `student_obs` method) and none was passed; "
                "allowed: a function mapping teacher observations (N, *obs_shape) to student observations"
            )
        self.student_observation_space = self._probe_student_space()
        self.student_obs_shape = getattr(self.student_observation_space, "shape", None)
        self._setup_model()

    # ------------------------------------------------------------------ set-up

    def _probe_student_space(self) -> spaces.Space:
        """The student's observation space: given, or from probe batches of ``student_obs_fn`` (row count and row
        shape checked); the env's own space (before SB3's transpose) when there is no student view."""
        env_space = env_space_of(self.env, self.observation_space)
        if self.student_obs_fn is None:
            return self.student_observation_space or env_space
        probed = probe_student_space(self.student_obs_fn, env_space)
        given = self.student_observation_space
        if given is not None and space_shapes(given) != space_shapes(probed):
            raise ValueError(
                f"student_obs_fn: returns rows of shape {space_shapes(probed)}, but "
                f"student_observation_space is {given}; allowed: a function returning that space's shape"
            )
        return given or probed

    def _setup_model(self) -> None:
        super()._setup_model()
        check_supported(self.policy, self.action_space)
        if getattr(self, "student_observation_space", None) is None:  # a model saved before student spaces existed
            shape = tuple(getattr(self, "student_obs_shape", None) or self.observation_space.shape)
            self.student_observation_space = spaces.Box(-np.inf, np.inf, shape, np.float32)
        if self.sitt_config.uses_student:
            self.nets = StudentNetworks(
                self.policy,
                self.sitt_config,
                self.student_observation_space,
                getattr(self, "student_features_extractor_class", None),
                getattr(self, "student_features_extractor_kwargs", None),
                getattr(self, "proxy_features_extractor_class", None),
                getattr(self, "proxy_features_extractor_kwargs", None),
            ).to(self.device)
            self.align_optimizer = th.optim.Adam(self.nets.parameters(), lr=self.sitt_config.align_lr)
            self.student = StudentPolicy(
                self.policy, observation_space=self.student_observation_space, encoder=self.nets.student,
                head="shared" if self.nets.student_head is None else self.nets.student_head, log_std="shared",
            )
        else:
            self.nets = None
            self.align_optimizer = None
            self.student = None

    def learn(self, total_timesteps: int, callback: Any = None, log_interval: int = 1, tb_log_name: str = "SITT",
              reset_num_timesteps: bool = True, progress_bar: bool = False) -> SITT:
        """SB3's ``learn``; TensorBoard runs are named ``SITT_1``, ``SITT_2``, ..."""
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps, progress_bar)

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()
        if self.sitt_config.uses_student:
            state_dicts = state_dicts + ["nets", "align_optimizer"]
        return state_dicts, variables

    def _excluded_save_params(self) -> list[str]:
        return super()._excluded_save_params() + ["student_obs_fn", "kl_groups_fn", "_iteration", "student"]

    # ------------------------------------------------------------------ helpers

    def _student_head(self) -> th.nn.Module:
        return self.nets.student_head if self.nets.student_head is not None else self.policy.action_net

    def _student_obs_tensor(self, obs: np.ndarray | dict[str, np.ndarray]) -> th.Tensor | dict[str, th.Tensor]:
        """Student views (float32 tensors) of teacher observations as the buffer holds them (after SB3's transpose):
        the transpose is undone, ``student_obs_fn`` applied and checked (rows, shape)."""
        env_space = env_space_of(self.env, self.observation_space)
        env_obs = untranspose(obs, transposed_by_sb3(env_space, self.observation_space))
        view = check_student_view(self.student_obs_fn, env_obs, space_shapes(self.student_observation_space))
        return obs_to_tensor(view, self.device)

    def _kl_target(self, obs: th.Tensor, student_obs: th.Tensor | None) -> tuple[th.Tensor, th.Tensor]:
        """Features (N, D) and head outputs (N, K) of whoever stands in for the student in the KL: the proxy on the
        teacher observation, or (oracle ablation) the true student on the student observation."""
        if self.sitt_config.kl_source == "proxy":
            latent = self.nets.proxy(obs)
        else:
            latent = self.nets.student(student_obs)
        return latent, self._student_head()(latent)

    # ------------------------------------------------------------------ phase 1: roll-out

    def collect_rollouts(
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: RolloutBuffer, n_rollout_steps: int
    ) -> bool:
        """Roll-out phase: the teacher acts (SB3's loop, env rewards stored), then SITT's reward term is added.

        The loop is SB3's ``OnPolicyAlgorithm.collect_rollouts`` step for step, except that the timeout
        bootstrapping (reward += gamma * V(terminal observation) for truncated episodes) reads the finished envs only
        and evaluates their values in one batch, instead of a Python loop over every env at every step.
        """
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(False)
        n_steps = 0
        rollout_buffer.reset()
        if self.use_sde:
            self.policy.reset_noise(env.num_envs)
        callback.on_rollout_start()
        while n_steps < n_rollout_steps:
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                self.policy.reset_noise(env.num_envs)
            with th.no_grad():
                actions, values, log_probs = self.policy(obs_as_tensor(self._last_obs, self.device))
            actions = actions.cpu().numpy()
            clipped_actions = actions
            if isinstance(self.action_space, spaces.Box):
                if self.policy.squash_output:
                    clipped_actions = self.policy.unscale_action(clipped_actions)
                else:
                    clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)
            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs
            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos, dones)
            n_steps += 1
            if isinstance(self.action_space, spaces.Discrete):
                actions = actions.reshape(-1, 1)
            self._bootstrap_timeouts(rewards, dones, infos)
            rollout_buffer.add(self._last_obs, actions, rewards, self._last_episode_starts, values, log_probs)
            self._last_obs = new_obs
            self._last_episode_starts = dones
        with th.no_grad():
            values = self.policy.predict_values(obs_as_tensor(new_obs, self.device))
        rollout_buffer.compute_returns_and_advantage(last_values=values, dones=dones)
        callback.update_locals(locals())
        callback.on_rollout_end()

        for key in self.info_keywords:  # the env's own episode statistics, e.g. the maze's n_paths
            values = [info[key] for info in self.ep_info_buffer if key in info]
            if values:
                self.logger.record(f"rollout/{key}_mean", safe_mean(values))
        self.rollout_reward_term(rollout_buffer)
        return True

    def _bootstrap_timeouts(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """rewards[i] += gamma * V(terminal_obs_i) for envs whose episode was truncated (SB3 issue #633), in place."""
        truncated = [
            i for i in np.flatnonzero(dones)
            if infos[i].get("terminal_observation") is not None and infos[i].get("TimeLimit.truncated", False)
        ]
        if not truncated:
            return
        first = infos[truncated[0]]["terminal_observation"]
        if isinstance(first, dict):
            terminal = {k: np.stack([infos[i]["terminal_observation"][k] for i in truncated]) for k in first}
        else:
            terminal = np.stack([infos[i]["terminal_observation"] for i in truncated])
        with th.no_grad():
            terminal_values = self.policy.predict_values(obs_as_tensor(terminal, self.device)).flatten()
        rewards[truncated] += self.gamma * terminal_values.cpu().numpy()

    def _update_info_buffer(self, infos: list[dict[str, Any]], dones: np.ndarray | None = None) -> None:
        """SB3's episode bookkeeping, read from the finished envs only (episode and success entries come with
        ``done``), instead of every env's info dict at every step."""
        if dones is None:
            return super()._update_info_buffer(infos, dones)
        done_idx = np.flatnonzero(dones)
        super()._update_info_buffer([infos[i] for i in done_idx], np.asarray(dones)[done_idx])

    def rollout_reward_term(self, buffer: RolloutBuffer) -> None:
        """reward_t += sign * coef * KL(teacher(o_t) || proxy(o_t)) for every stored step; returns/advantages redone.

        Adding the term after the loop equals adding it at each step (teacher and proxy do not change during the
        roll-out) and evaluates both networks once on the whole batch. Also caches what later phases reuse.
        """
        cfg = self.sitt_config
        # the env's reward per step before the term (timeout bootstraps included), the unit lambda1 x KL is read in
        self.logger.record("sitt/env_reward_mean", float(buffer.rewards.mean()))
        it = self._prepare_iteration(buffer)
        if not cfg.uses_student:
            return
        rows = it["rows"]  # (U, *obs_shape): distinct observations (all N samples when not grouped)
        with th.no_grad():
            teacher_out = self.policy.action_net(teacher_latent(self.policy, rows))
            target_latent, target_out = self._kl_target(rows, it["student_rows"])
            kl = kl_divergence(self.policy, teacher_out, target_out, action_distance=cfg.action_distance)  # (U,)
            student_kl = None  # KL(teacher || student) on the same states: how well the proxy tracks the student
            if it["student_rows"] is not None and cfg.kl_source == "proxy":
                student_out = self._student_head()(self.nets.student(it["student_rows"]))
                student_kl = kl_divergence(self.policy, teacher_out, student_out, action_distance=cfg.action_distance)
            if cfg.action_distance != "raw":
                raw = kl_divergence(self.policy, teacher_out, target_out)
                self.logger.record("sitt/kl_raw_mean", float(self._sample_mean(raw, it["inverse"])))
        it["target_latent"] = target_latent
        kl = kl if it["inverse"] is None else kl[it["inverse"]]  # (N,), sample order E*T
        if student_kl is not None:
            self._log_tracking(kl, student_kl if it["inverse"] is None else student_kl[it["inverse"]])
        self._log_kl(kl, it["obs_np"])
        if cfg.reward_term and cfg.reward_coef > 0:
            n_steps, n_envs = buffer.rewards.shape
            term = (cfg.reward_sign * cfg.reward_coef) * kl.cpu().numpy().reshape(n_envs, n_steps).T  # (T, E)
            buffer.rewards += term.astype(np.float32)
            self.logger.record("sitt/reward_term_mean", float(term.mean()))
            with th.no_grad():
                last_values = self.policy.predict_values(obs_as_tensor(self._last_obs, self.device))
            buffer.compute_returns_and_advantage(last_values=last_values, dones=self._last_episode_starts)

    def _prepare_iteration(self, buffer: RolloutBuffer) -> dict[str, Any]:
        """This iteration's observations as float32 tensors, grouped into distinct rows when that pays."""
        obs_np = flatten_env_major(buffer.observations)  # (N, *obs_shape), N = E*T in SB3's buffer.get() order
        obs = obs_to_tensor(obs_np, self.device)  # float32 (a dict of them for a Dict space)
        grouping = unique_rows(obs) if self.dedup and not isinstance(obs, dict) else None
        if grouping is None:
            rows, rows_np, inverse = obs, obs_np, None
        else:
            first, inverse = grouping
            rows, rows_np = obs[first], obs_np[first.cpu().numpy()]
        student_rows = None
        if self.sitt_config.uses_student and self.sitt_config.needs_student_obs:
            student_rows = self._student_obs_tensor(rows_np)
        n = buffer.buffer_size * buffer.n_envs
        self._iteration = {"obs_np": obs_np, "rows": rows, "inverse": inverse, "n": n, "student_rows": student_rows}
        self.logger.record("sitt/distinct_obs_share", (n if inverse is None else len(rows)) / n)
        return self._iteration

    @staticmethod
    def _sample_mean(values: th.Tensor, inverse: th.Tensor | None) -> float:
        """Mean over the N samples of per-row values (U,) (``inverse`` maps samples to rows; None: rows = samples)."""
        return float((values if inverse is None else values[inverse]).mean())

    def _log_tracking(self, proxy_kl: th.Tensor, student_kl: th.Tensor) -> None:
        """How well the proxy stands in for the student on this roll-out's states (N,) each: the mean of
        KL(teacher || student), the mean |KL(teacher || proxy) - KL(teacher || student)| and their Pearson
        correlation over the samples (NaN when either is constant)."""
        p, q = proxy_kl.double(), student_kl.double()
        self.logger.record("sitt/kl_student_mean", float(q.mean()))
        self.logger.record("sitt/proxy_tracking_mae", float((p - q).abs().mean()))
        pc, qc = p - p.mean(), q - q.mean()
        denom = float(th.sqrt((pc * pc).sum() * (qc * qc).sum()))
        self.logger.record("sitt/proxy_tracking_corr", float((pc * qc).sum()) / denom if denom > 0 else float("nan"))

    def _log_kl(self, kl: th.Tensor, obs_np: np.ndarray) -> None:
        kl_np = kl.cpu().numpy()
        self.logger.record("sitt/kl_mean", float(kl_np.mean()))
        if self.kl_groups_fn is not None:
            for name, mask in self.kl_groups_fn(obs_np).items():
                mask = np.asarray(mask).reshape(-1)
                self.logger.record(f"sitt/kl_{name}", float(kl_np[mask].mean()) if mask.any() else float("nan"))

    # ------------------------------------------------------------------ phase 2: policy update

    def train(self) -> None:
        """One SITT update: the policy-update phase, then the alignment phase."""
        if not self._iteration or self._iteration.get("n") != self.rollout_buffer.buffer_size * self.n_envs:
            self._prepare_iteration(self.rollout_buffer)
        self.policy_update()
        if self.sitt_config.align:
            self.align()

    def _teacher_latents(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Teacher policy and value features for observations (R, *obs_shape) -> (R, D_pi), (R, D_vf)."""
        features = self.policy.extract_features(obs)
        if self.policy.share_features_extractor:
            return self.policy.mlp_extractor(features)
        extractor = self.policy.mlp_extractor
        return extractor.forward_actor(features[0]), extractor.forward_critic(features[1])

    def policy_update(self) -> None:
        """PPO's clipped update of the teacher plus ``update_weight * update_term`` (proxy frozen).

        Same loss, schedules, grad clipping, early stopping and logs as SB3's ``PPO.train``. The networks run once
        per distinct observation of the minibatch; their outputs serve both the PPO loss and the SITT term.
        """
        cfg, buf, it = self.sitt_config, self.rollout_buffer, self._iteration
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)
        clip_range_vf = None if self.clip_range_vf is None else self.clip_range_vf(self._current_progress_remaining)

        n = it["n"]
        as_t = lambda a: th.as_tensor(flatten_env_major(a), device=self.device)  # (T, E, ...) -> (N, ...)
        actions = as_t(buf.actions)
        actions = actions.long().flatten() if isinstance(self.action_space, spaces.Discrete) else actions.float()
        old_values, old_log_prob, advantages, returns = (
            as_t(a) for a in (buf.values, buf.log_probs, buf.advantages, buf.returns)
        )
        use_term = cfg.uses_student and cfg.update_term != "off" and cfg.update_weight > 0
        full_batch = groups_for(None, it["inverse"])

        logs: dict[str, list[float]] = {}
        approx_kl_divs: list[float] = []
        continue_training = True
        for epoch in range(self.n_epochs):
            approx_kl_divs = []
            for idx in minibatches(n, self.batch_size, np.random.permutation):
                g = full_batch if idx is None else groups_for(th.as_tensor(idx, device=self.device), it["inverse"])
                pick = (lambda t: t) if idx is None else (lambda t: t[idx])
                latent_pi, latent_vf = self._teacher_latents(pick_rows(g, it["rows"]))  # (R, D)
                dist = distribution_from_output(self.policy, g.per_sample(self.policy.action_net(latent_pi)))
                values = g.per_sample(self.policy.value_net(latent_vf)).flatten()  # (B,)
                log_prob = dist.log_prob(pick(actions))
                loss, parts = ppo_loss(
                    log_prob, pick(old_log_prob), pick(advantages), values, pick(old_values), pick(returns),
                    dist.entropy(), clip_range=clip_range, clip_range_vf=clip_range_vf, ent_coef=self.ent_coef,
                    vf_coef=self.vf_coef, normalize_advantage=self.normalize_advantage,
                )
                if use_term:
                    target_latent = g.pick(it["target_latent"])
                    target_out = None
                    if cfg.update_term == "kl":
                        with th.no_grad():
                            target_out = self._student_head()(target_latent)
                    term = update_term(
                        cfg.update_term, self.policy, latent_pi, target_latent, target_out, mean=g.mean,
                        grad_log_std=cfg.kl_grad_log_std, action_distance=cfg.action_distance,
                    )
                    loss = loss + cfg.update_weight * term
                    parts["sitt_update_term"] = term.detach()
                for key, value in parts.items():
                    logs.setdefault(key, []).append(value.item())
                approx_kl_divs.append(parts["approx_kl"].item())
                if self.target_kl is not None and approx_kl_divs[-1] > 1.5 * self.target_kl:
                    continue_training = False
                    if self.verbose >= 1:
                        print(f"Early stopping at step {epoch} due to reaching max kl: {approx_kl_divs[-1]:.2f}")
                    break
                self.policy.optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                self.policy.optimizer.step()
            self._n_updates += 1
            if not continue_training:
                break

        for key in ("entropy_loss", "policy_gradient_loss", "value_loss", "clip_fraction"):
            self.logger.record(f"train/{key}", np.mean(logs[key]))
        self.logger.record("train/approx_kl", np.mean(approx_kl_divs))
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/explained_variance", explained_variance(buf.values.flatten(), buf.returns.flatten()))
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)
        if "sitt_update_term" in logs:
            self.logger.record("sitt/update_term", np.mean(logs["sitt_update_term"]))

    # ------------------------------------------------------------------ phase 3: alignment

    def align(self) -> None:
        """Pull the student to the teacher and the proxy to the student on this iteration's roll-out.

        ``align_epochs`` passes (full batch by default) over a random ``align_subset`` of the samples; Adam on the
        student side only. The teacher's features and head outputs are computed once (the teacher is frozen here);
        heads are applied with detached parameters, so the shared head never moves in this phase.
        """
        cfg, it = self.sitt_config, self._iteration
        rows, student_rows, inverse = it["rows"], it["student_rows"], it["inverse"]
        samples = None  # (S,) sample indices used for alignment; None = all N
        n = it["n"]
        if cfg.align_subset < 1.0:
            samples = th.randperm(n, device=self.device)[: max(1, int(round(cfg.align_subset * n)))]
            n = len(samples)
        with th.no_grad():
            teacher_feat = teacher_latent(self.policy, rows)  # (U, D), frozen for the whole phase
            teacher_out = self.policy.action_net(teacher_feat)  # (U, K)
        head = self._student_head()
        executed = None
        if cfg.action_distance != "raw":
            executed = lambda out: executed_output(out, self.action_space, cfg.action_distance)  # noqa: E731
        full_batch = groups_for(samples, inverse)
        losses: list[float] = []
        parts_log: dict[str, list[float]] = {}
        for _ in range(cfg.align_epochs):
            for idx in minibatches(n, cfg.align_batch_size, lambda k: th.randperm(k, device=self.device)):
                g = full_batch if idx is None else groups_for(idx if samples is None else samples[idx], inverse)
                student_feat = self.nets.student(pick_rows(g, student_rows))
                proxy_feat = self.nets.proxy(pick_rows(g, rows))
                student_out = (head(student_feat) if self.nets.student_head is not None
                               else call_frozen(head, student_feat))
                proxy_out = call_frozen(head, proxy_feat)
                loss, parts = alignment_loss(
                    student_feat, g.pick(teacher_feat), proxy_feat, student_out, g.pick(teacher_out), proxy_out,
                    mean=g.mean, executed=executed,
                )
                self.align_optimizer.zero_grad()
                loss.backward()
                self.align_optimizer.step()
                losses.append(loss.item())
                for key, value in parts.items():
                    parts_log.setdefault(key, []).append(value.item())
        with th.no_grad():
            student_out = head(self.nets.student(pick_rows(full_batch, student_rows)))
            agree = full_batch.mean(agreement(self.policy, student_out, full_batch.pick(teacher_out),
                                              action_distance=cfg.action_distance)).item()
        self.logger.record("sitt/align_loss", float(np.mean(losses)))
        for key, values in parts_log.items():
            self.logger.record(f"sitt/align_{key}", float(np.mean(values)))
        self.logger.record("sitt/agreement", agree)

    # ------------------------------------------------------------------ acting

    def student_logits(self, student_obs: np.ndarray | th.Tensor) -> th.Tensor:
        """The student's head outputs (logits or means) for a batch of student observations, (N, K)."""
        if self.student is None:
            raise ValueError("student_logits: this model trains no student (all three SITT phases are off)")
        with th.no_grad():
            return self.student.logits(student_obs)

    def predict_student(self, student_obs: Any, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """The student's actions for student observations (what ``student_obs_fn`` returns: one or a batch); like
        ``predict``. A ``ValueError`` names the expected shape when ``student_obs`` has another (e.g. channels-first
        images for a channels-last student view)."""
        if self.student is None:
            raise ValueError("predict_student: this model trains no student (all three SITT phases are off)")
        return self.student.predict(student_obs, deterministic=deterministic)

