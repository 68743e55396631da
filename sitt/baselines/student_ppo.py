"""What the PPO ports of HLRL, DWBC and COSIL share: a student view in the roll-out, an asymmetric actor-critic, and
SB3's PPO update with a method-specific extra term.

* :class:`StudentViewEnv` wraps any SB3 ``VecEnv`` of (privileged) teacher observations so that each observation is
  ``{"teacher": obs, "student": student_obs_fn(obs)}``: SB3's ``DictRolloutBuffer`` then stores both views and the
  policy picks the one each network may see.
* :class:`StudentActorCritic` is an SB3 ``ActorCriticPolicy`` on that Dict: the critic (features extractor, value MLP,
  ``value_net``) and a privileged actor (policy MLP, ``action_net``, ``log_std``) read the teacher view; the
  :class:`sitt.student.StudentPolicy` reads the student view. ``acting`` says which actor rolls out and is trained by
  PPO (``"student"`` for HLRL and COSIL, ``"privileged"`` or ``"student"`` per iteration for DWBC).
* :class:`StudentPPO` is SB3's ``PPO`` with that policy; its :meth:`StudentPPO.train` is SB3's PPO update (same loss,
  minibatches from SB3's ``RolloutBuffer.get``, clipping, early stopping, logs) plus :meth:`StudentPPO.extra_loss`.

Observation spaces: a ``Box`` teacher view (flat or image) and a ``Box`` student view (flat or image, in the layout
``student_obs_fn`` returns: SB3's ``VecTransposeImage`` of image keys is undone before the student sees them).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.distributions import Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import DictRolloutBufferSamples
from stable_baselines3.common.utils import explained_variance
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

from sitt.dedup import unique_rows
from sitt.distributions import check_supported, distribution_from_output
from sitt.losses import ppo_loss
from sitt.networks import default_extractor
from sitt.student import StudentObsFn, StudentPolicy, check_student_view, probe_student_space, space_shapes

TEACHER, STUDENT = "teacher", "student"


class Rows:
    """A minibatch as its distinct observations: ``obs`` the Dict observation of the R distinct rows (all B samples
    when not grouped) and :meth:`expand` (R, ...) -> (B, ...). Every network maps one observation to one output, so
    running it on the distinct rows and expanding gives the per-sample outputs, and a mean over samples of an
    expanded quantity is the count-weighted mean over rows: the same loss up to float summation order
    (:mod:`sitt.dedup`). Rows are grouped by the teacher view (the student view is a function of it)."""

    def __init__(self, obs: dict[str, th.Tensor], group: bool = True):
        found = unique_rows(obs[TEACHER]) if group else None
        if found is None:
            self.obs, self.inverse = obs, None
        else:
            first, self.inverse = found
            self.obs = {k: v[first] for k, v in obs.items()}

    def expand(self, per_row: th.Tensor) -> th.Tensor:
        return per_row if self.inverse is None else per_row[self.inverse]


class StudentViewEnv(VecEnvWrapper):
    """A ``VecEnv`` whose observations are ``{"teacher": obs, "student": student_obs_fn(obs)}`` (also in the infos'
    ``terminal_observation``).

    :param venv: any SB3 ``VecEnv`` with a ``Box`` observation space (the teacher's, privileged view).
    :param student_obs_fn: teacher observations (N, *obs_shape) -> student observations (N, *student_shape), numpy, in
        the env's layout (the contract of :class:`sitt.SITT`); checked on probe batches and on every call.
    """

    def __init__(self, venv: VecEnv, student_obs_fn: StudentObsFn):
        if not isinstance(venv.observation_space, spaces.Box):
            raise ValueError(f"env: observation space {venv.observation_space}; allowed: a Box (flat or image)")
        student_space = probe_student_space(student_obs_fn, venv.observation_space)
        if not isinstance(student_space, spaces.Box):
            raise ValueError(f"student_obs_fn: returns {student_space}; allowed: a Box view (an array per batch)")
        self.student_obs_fn = student_obs_fn
        self.student_space = student_space
        super().__init__(venv, observation_space=spaces.Dict({TEACHER: venv.observation_space, STUDENT: student_space}))

    def view(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        student = check_student_view(self.student_obs_fn, obs, space_shapes(self.student_space))
        return {TEACHER: obs, STUDENT: student.astype(self.student_space.dtype, copy=False)}

    def reset(self) -> dict[str, np.ndarray]:
        return self.view(self.venv.reset())

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        for info in infos:
            if info.get("terminal_observation") is not None:
                terminal = self.view(info["terminal_observation"][None])
                info["terminal_observation"] = {k: v[0] for k, v in terminal.items()}
        return self.view(obs), rewards, dones, infos


class TeacherViewExtractor(BaseFeaturesExtractor):
    """SB3's features extractor for the ``"teacher"`` entry of the Dict observation (flatten / ``NatureCNN``)."""

    def __init__(self, observation_space: spaces.Dict, features_extractor_class: Any = None,
                 features_extractor_kwargs: dict[str, Any] | None = None):
        inner = default_extractor(observation_space[TEACHER], features_extractor_class, features_extractor_kwargs)
        super().__init__(observation_space, inner.features_dim)
        self.inner = inner

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        return self.inner(observations[TEACHER])


class StudentActorCritic(ActorCriticPolicy):
    """SB3 actor-critic on ``{"teacher", "student"}`` observations with a :class:`sitt.student.StudentPolicy` actor.

    :param student_space: the student's observation space in the env's layout (:attr:`StudentViewEnv.student_space`).
    :param student_teacher: the trained teacher policy the student is built next to (HLRL, COSIL: its feature size and
        head shape; the student is fresh), or ``None``: the student is built next to this policy's privileged actor
        (DWBC: shared decoder and log-std).
    :param student_kwargs: keyword arguments of :class:`sitt.student.StudentPolicy` (``copy_teacher``, ``head``,
        ``log_std``, ``net_arch``, ``features_extractor_class``, ...).
    :param acting: ``"student"`` or ``"privileged"``: whose actions roll out and whose log-probabilities PPO trains.
    Other arguments are SB3's ``ActorCriticPolicy``'s (``net_arch``, ``activation_fn``, ``ortho_init``, ...); the
    features extractor reads the teacher view (:class:`TeacherViewExtractor`).
    """

    def __init__(self, observation_space: spaces.Dict, action_space: spaces.Space, lr_schedule: Any, *,
                 student_space: spaces.Box, student_teacher: ActorCriticPolicy | None = None,
                 student_kwargs: dict[str, Any] | None = None, acting: str = STUDENT, **kwargs: Any):
        object.__setattr__(self, "_student_args", (student_space, student_teacher, dict(student_kwargs or {})))
        kwargs.setdefault("features_extractor_class", TeacherViewExtractor)
        self.acting = acting
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        check_supported(self, self.action_space)
        student_space, teacher, student_kwargs = self._student_args
        self.student_space = student_space
        self.student = StudentPolicy(teacher if teacher is not None else self, observation_space=student_space,
                                     device=self.device, **student_kwargs)
        self.student_transposed = self.observation_space[STUDENT].shape != student_space.shape  # by SB3's wrapper
        self.optimizer = self.optimizer_class(self.ppo_parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def ppo_parameters(self) -> list[th.nn.Parameter]:
        """What PPO's optimiser trains: the critic, the privileged actor when it can act, the student's own
        parameters when the student acts (its encoder is never PPO's with ``acting="privileged"`` methods)."""
        student = {id(p) for p in self.student.parameters()}
        actor = {id(p) for p in [*self.mlp_extractor.policy_net.parameters(), *self.action_net.parameters()]}
        if hasattr(self, "log_std") and isinstance(self.log_std, th.nn.Parameter):
            actor.add(id(self.log_std))
        if self.student_teacher_given:
            keep = lambda p: id(p) not in actor  # the privileged actor never acts: not trained
        else:
            keep = lambda p: id(p) not in student  # the adaptation encoder has its own optimiser
        return [p for p in self.parameters() if keep(p)]

    @property
    def student_teacher_given(self) -> bool:
        return self._student_args[1] is not None

    def student_view(self, obs: dict[str, th.Tensor]) -> th.Tensor:
        """The student entry in the env's layout (SB3's transpose of images undone)."""
        x = obs[STUDENT]
        return x.permute(0, 2, 3, 1) if self.student_transposed else x

    def privileged_latent(self, obs: dict[str, th.Tensor]) -> th.Tensor:
        """z_mu: the privileged actor's features (N, D) from the teacher view."""
        return self.mlp_extractor.forward_actor(self.extract_features(obs, self.pi_features_extractor))

    def actor_distribution(self, obs: dict[str, th.Tensor], acting: str | None = None,
                           expand: Any = None) -> Distribution:
        """The acting actor's distribution on ``obs``; with ``expand`` (:meth:`Rows.expand`), ``obs`` are distinct
        rows and the head outputs are expanded to the samples before the distribution is built."""
        if (acting or self.acting) == STUDENT:
            out, owner = self.student.logits(self.student_view(obs)), self.student
        else:
            out, owner = self.action_net(self.privileged_latent(obs)), self
        return distribution_from_output(owner, out if expand is None else expand(out))

    def forward(self, obs: dict[str, th.Tensor], deterministic: bool = False):
        distribution = self.actor_distribution(obs)
        actions = distribution.get_actions(deterministic=deterministic)
        log_prob = distribution.log_prob(actions)
        return actions.reshape((-1, *self.action_space.shape)), self.predict_values(obs), log_prob

    def evaluate_actions(self, obs: dict[str, th.Tensor], actions: th.Tensor):
        distribution = self.actor_distribution(obs)
        return self.predict_values(obs), distribution.log_prob(actions), distribution.entropy()

    def get_distribution(self, obs: dict[str, th.Tensor]) -> Distribution:
        return self.actor_distribution(obs)


def check_fields(config: Any, rules: dict[str, tuple[Any, str]]) -> None:
    """``rules``: field -> (predicate, allowed text); raise ``ValueError(f"{field}: got ...; allowed: ...")``."""
    for name, (ok, allowed) in rules.items():
        value = getattr(config, name)
        if not ok(value):
            raise ValueError(f"{name}: got {value!r}; allowed: {allowed}")


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x)


def is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class StudentPPO(PPO):
    """SB3's PPO on a :class:`StudentViewEnv` with a :class:`StudentActorCritic`; subclasses add :meth:`extra_loss`.

    :param env: any SB3 ``VecEnv`` of teacher observations (wrapped here in a :class:`StudentViewEnv`).
    :param student_obs_fn: the student view (``None``: ``env.student_obs``).
    :param student_teacher: passed to :class:`StudentActorCritic`.
    :param student_kwargs: passed to :class:`StudentActorCritic` (the student's construction).
    :param acting: the initial actor (``"student"`` or ``"privileged"``).
    :param policy_kwargs: SB3 policy keyword arguments (``net_arch``: the privileged actor's and critic's MLPs).
    :param dedup: run the networks of each PPO minibatch once per distinct observation (:class:`Rows`; integer-valued
        observations only, e.g. the color maze); the same loss up to float summation order. Default True, as SITT.
    :param ppo_kwargs: SB3 ``PPO`` arguments (``n_steps``, ``batch_size``, ``n_epochs``, ``learning_rate``,
        ``seed``, ...).
    """

    method_name = "StudentPPO"

    def __init__(self, env: VecEnv, student_obs_fn: StudentObsFn | None = None, *,
                 student_teacher: ActorCriticPolicy | None = None, student_kwargs: dict[str, Any] | None = None,
                 acting: str = STUDENT, policy_kwargs: dict[str, Any] | None = None, dedup: bool = True,
                 **ppo_kwargs: Any):
        self.dedup = dedup
        student_obs_fn = student_obs_fn or getattr(env, "student_obs", None)
        if student_obs_fn is None:
            raise ValueError(
                "student_obs_fn: the env has no student view (no `student_obs` method) and none was passed; allowed: "
                "a function mapping teacher observations (N, *obs_shape) to student observations"
            )
        wrapped = StudentViewEnv(env, student_obs_fn)
        kwargs = dict(policy_kwargs or {})
        kwargs.update(student_space=wrapped.student_space, student_teacher=student_teacher,
                      student_kwargs=student_kwargs, acting=acting)
        self.iteration = 0  # PPO iterations done (roll-out + update)
        self.history: dict[str, list[float]] = {}
        super().__init__(StudentActorCritic, wrapped, policy_kwargs=kwargs, **ppo_kwargs)

    @property
    def student(self) -> StudentPolicy:
        """The deployable student (acts on what ``student_obs_fn`` returns)."""
        return self.policy.student

    def progress(self) -> float:
        """Share of training done, in [0, 1]: SB3's ``1 - progress_remaining`` (set after each roll-out)."""
        return float(1.0 - self._current_progress_remaining)

    def record(self, key: str, value: float) -> None:
        self.history.setdefault(key, []).append(float(value))
        self.logger.record(f"{self.method_name.lower()}/{key}", float(value))

    def learn(self, total_timesteps: int, callback: Any = None, log_interval: int = 1, tb_log_name: str | None = None,
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name or self.method_name,
                             reset_num_timesteps, progress_bar)

    def extra_loss(self, data: DictRolloutBufferSamples, distribution: Distribution,
                   rows: Rows) -> tuple[th.Tensor | None, dict]:
        """The method's term added to PPO's loss on one minibatch (``None``: none) and its parts to log. ``rows``:
        the minibatch's distinct observations (run networks on ``rows.obs``, then ``rows.expand``)."""
        return None, {}

    def after_step(self, data: DictRolloutBufferSamples, parts: dict[str, th.Tensor]) -> None:
        """Called after each PPO optimiser step (COSIL's dual step)."""

    def train(self) -> None:
        """SB3's ``PPO.train`` (clipped surrogate, value loss, entropy, grad clipping, early stopping, SB3's logs) with
        :meth:`extra_loss` added to each minibatch's loss."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)
        clip_range_vf = None if self.clip_range_vf is None else self.clip_range_vf(self._current_progress_remaining)
        logs: dict[str, list[float]] = {}
        continue_training = True
        for epoch in range(self.n_epochs):
            approx_kl_divs = []
            for data in self.rollout_buffer.get(self.batch_size):
                actions = data.actions
                if isinstance(self.action_space, spaces.Discrete):
                    actions = actions.long().flatten()
                rows = Rows(data.observations, self.dedup)
                distribution = self.policy.actor_distribution(rows.obs, expand=rows.expand)
                values = rows.expand(self.policy.predict_values(rows.obs).flatten())
                log_prob = distribution.log_prob(actions)
                loss, parts = ppo_loss(
                    log_prob, data.old_log_prob, data.advantages, values, data.old_values, data.returns,
                    distribution.entropy(), clip_range=clip_range, clip_range_vf=clip_range_vf,
                    ent_coef=self.ent_coef, vf_coef=self.vf_coef, normalize_advantage=self.normalize_advantage,
                )
                term, extra = self.extra_loss(data, distribution, rows)
                if term is not None:
                    loss = loss + term
                parts.update(extra)
                for key, value in parts.items():
                    logs.setdefault(key, []).append(float(value))
                approx_kl_divs.append(float(parts["approx_kl"]))
                if self.target_kl is not None and approx_kl_divs[-1] > 1.5 * self.target_kl:
                    continue_training = False
                    break
                self.policy.optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                self.policy.optimizer.step()
                self.after_step(data, parts)
            self._n_updates += 1
            if not continue_training:
                break
        for key, values in logs.items():
            self.logger.record(f"train/{key}", float(np.mean(values)))
        buffer = self.rollout_buffer
        self.logger.record("train/explained_variance",
                           explained_variance(buffer.values.flatten(), buffer.returns.flatten()))
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)
        self.iteration += 1


def info_of(model: StudentPPO, teacher: Any = None) -> dict[str, Any]:
    """What an entry function returns next to the student: environment steps and the per-iteration history."""
    teacher_steps = int(getattr(teacher, "num_timesteps", 0) or 0)
    return {
        "env_steps": int(model.num_timesteps),  # steps of this method's own training
        "teacher_env_steps": teacher_steps,  # steps that trained the given teacher (0 when none / unknown)
        "total_env_steps": int(model.num_timesteps) + teacher_steps,
        "iterations": int(model.iteration),
        "history": {k: list(v) for k, v in model.history.items()},
    }


def config_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)
