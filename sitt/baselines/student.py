"""The student of the BC and DAgger baselines: a policy on student observations, initialised from a trained teacher.

The teacher is an SB3 ``ActorCriticPolicy`` (``model.policy`` of a SITT or PPO model): its policy MLP maps the
(privileged) observation to features, its ``action_net`` maps features to the action distribution's parameters
(logits for ``Discrete``, means for ``Box``). The student mirrors that structure on the *student* observation:

* **encoder**: student observation (flattened, float32) -> features; a deep copy of the teacher's policy MLP when the
  sizes match (as SITT's own student), or a fresh ``Linear -> activation`` stack of the given sizes;
* **head**: features -> logits / means; a deep copy of the teacher's ``action_net``. Unlike SITT's student, whose head
  is the teacher's (shared and frozen), a BC/DAgger student owns its head and trains it;
* for ``Box`` actions, a frozen copy of the teacher's state-independent ``log_std`` (a buffer, not a parameter): the
  student outputs means and samples with the teacher's standard deviation.

A ``StudentPolicy`` carries ``action_dist`` and ``log_std`` like an SB3 policy, so the helpers of
:mod:`sitt.distributions` (``actions_from_output``, ``kl_divergence``, ``agreement``) accept it in place of one.
The teacher is only read at construction (copies are taken); the student never shares a tensor with it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import DiagGaussianDistribution, make_proba_distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from sitt.distributions import actions_from_output, check_supported
from sitt.networks import mlp

StudentObsFn = Callable[[np.ndarray], np.ndarray]


def _first_linear(module: nn.Module) -> nn.Linear:
    return next(m for m in module.modules() if isinstance(m, nn.Linear))


class StudentPolicy(nn.Module):
    """A student acting on student observations, built next to a trained teacher policy.

    :param teacher_policy: the teacher's SB3 ``ActorCriticPolicy`` (e.g. ``model.policy``); read, copied, never
        modified. Its action distribution must be categorical (``Discrete``) or diagonal Gaussian (``Box``).
    :param student_obs_shape: shape of one student observation (without the batch axis); ``None`` = the teacher's
        observation shape (e.g. a masked view of the same size, or the identity).
    :param net_arch: hidden sizes of the encoder; ``None`` = a copy of the teacher's policy MLP (its input size must
        then equal the flattened student observation size). When given, the last size must equal the teacher's
        feature size (``latent_dim_pi``), the input of the copied head.
    :param activation: ``"tanh"`` (SB3's default) or ``"relu"``, after each layer of a fresh encoder.
    :param seed: seed of a fresh encoder's initialisation (drawn in a forked torch RNG: the global one is untouched);
        ``None`` = the global torch RNG. Unused for a copied encoder.
    :param device: where the student lives; ``None`` = the teacher's device.
    """

    def __init__(
        self,
        teacher_policy: ActorCriticPolicy,
        student_obs_shape: Sequence[int] | None = None,
        net_arch: Sequence[int] | None = None,
        activation: str = "tanh",
        seed: int | None = None,
        device: th.device | str | None = None,
    ):
        super().__init__()
        check_supported(teacher_policy, teacher_policy.action_space)
        self.action_space = teacher_policy.action_space
        # a fresh distribution of the teacher's family (the teacher's own object may hold its last batch's tensors)
        self.action_dist = make_proba_distribution(self.action_space)
        self.student_obs_shape = tuple(
            int(s) for s in (teacher_policy.observation_space.shape if student_obs_shape is None else student_obs_shape)
        )
        self.net_arch = None if net_arch is None else [int(h) for h in net_arch]
        self.activation = activation
        obs_dim = int(np.prod(self.student_obs_shape))
        latent_dim = teacher_policy.mlp_extractor.latent_dim_pi
        if self.net_arch is None:
            first = _first_linear(teacher_policy.mlp_extractor.policy_net)
            if first.in_features != obs_dim:
                raise ValueError(
                    f"net_arch: a copied encoder takes {first.in_features} inputs (the teacher's policy MLP), but the "
                    f"student observation has {obs_dim}; allowed: a list of hidden sizes ending in {latent_dim}"
                )
            self.encoder = copy.deepcopy(teacher_policy.mlp_extractor.policy_net)
        else:
            if not self.net_arch or self.net_arch[-1] != latent_dim:
                raise ValueError(
                    f"net_arch: got {self.net_arch}; allowed: None or a non-empty list ending in the teacher's "
                    f"feature size {latent_dim} (the head is a copy of the teacher's)"
                )
            if activation not in ("tanh", "relu"):
                raise ValueError(f"activation: got {activation!r}; allowed: tanh, relu")
            with th.random.fork_rng(devices=[]):
                if seed is not None:
                    th.manual_seed(seed)
                self.encoder = mlp(obs_dim, self.net_arch, [activation] * len(self.net_arch))
        self.head = copy.deepcopy(teacher_policy.action_net)
        self.requires_grad_(True)  # trainable even when the teacher was frozen (deep copies keep requires_grad)
        if isinstance(self.action_dist, DiagGaussianDistribution):
            self.register_buffer("log_std", teacher_policy.log_std.detach().clone())  # (action_dim,), frozen
        else:
            self.log_std = None
        self.to(device if device is not None else teacher_policy.device)

    @property
    def device(self) -> th.device:
        return next(self.parameters()).device

    # ------------------------------------------------------------------ forward

    def obs_tensor(self, student_obs: np.ndarray | th.Tensor) -> th.Tensor:
        """A batch of student observations (N, *student_obs_shape), numpy or torch -> float32 (N, obs_dim)."""
        obs = th.as_tensor(np.asarray(student_obs) if not th.is_tensor(student_obs) else student_obs)
        obs = obs.to(device=self.device, dtype=th.float32)
        return obs.reshape(len(obs), -1)

    def logits(self, student_obs: np.ndarray | th.Tensor) -> th.Tensor:
        """Head outputs (N, K) for a batch (N, *student_obs_shape): logits (Discrete) or means (Box); with grad."""
        return self.head(self.encoder(self.obs_tensor(student_obs)))

    forward = logits

    # ------------------------------------------------------------------ acting

    def predict(
        self, student_obs: np.ndarray, deterministic: bool = True, generator: th.Generator | None = None
    ) -> tuple[np.ndarray, None]:
        """Actions for student observations, like SB3's ``predict``: numpy in, ``(actions, None)`` out.

        :param student_obs: one observation (``student_obs_shape``) or a batch (N, *student_obs_shape).
        :param deterministic: argmax (Discrete) / the mean (Box); otherwise a sample (Box: mean + teacher std * noise).
        :param generator: CPU torch generator for the sample (``None`` = the global torch RNG).
        :return: actions (N,) int64 for Discrete, (N, action_dim) float32 clipped to the bounds for Box; without the
            batch axis for a single observation.
        """
        obs = np.asarray(student_obs)
        single = obs.shape == self.student_obs_shape
        batch = obs[None] if single else obs
        with th.no_grad():
            actions = self.actions_from_logits(self.logits(batch), deterministic, generator)
        return (actions[0] if single else actions), None

    def actions_from_logits(
        self, out: th.Tensor, deterministic: bool, generator: th.Generator | None = None
    ) -> np.ndarray:
        """Numpy actions (N,) / (N, action_dim) from head outputs (N, K), clipped to a Box's bounds."""
        return actions_from_head(self, self.action_space, out, deterministic, generator)

    def act_fn(self, student_obs_fn: StudentObsFn | None = None, deterministic: bool = True) -> Callable[[np.ndarray], np.ndarray]:
        """A function ``obs batch (N, ...) -> actions (N, ...)`` (numpy) for evaluation loops.

        :param student_obs_fn: when given, the function takes *teacher* observations and applies this map first
            (e.g. ``color_maze.evaluate.evaluate(student.act_fn(env.student_obs), env)``); ``None``: it takes student
            observations directly.
        :param deterministic: as in :meth:`predict`.
        """

        def act(obs: np.ndarray) -> np.ndarray:
            view = obs if student_obs_fn is None else student_obs_fn(obs)
            return self.predict(np.asarray(view), deterministic=deterministic)[0]

        return act

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """Write the weights and the construction arguments (``torch.save`` of a plain dict) to ``path``."""
        th.save(
            {
                "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
                "student_obs_shape": list(self.student_obs_shape),
                "net_arch": self.net_arch,
                "activation": self.activation,
            },
            str(path),
        )

    @classmethod
    def load(
        cls, path: str | Path, teacher_policy: ActorCriticPolicy, device: th.device | str | None = None
    ) -> "StudentPolicy":
        """Rebuild a saved student: the architecture comes from ``teacher_policy`` (the same kind of teacher it was
        built from) and the saved arguments, all weights (encoder, head, log_std) from the file."""
        saved: dict[str, Any] = th.load(str(path), map_location="cpu", weights_only=True)
        student = cls(
            teacher_policy,
            student_obs_shape=saved["student_obs_shape"],
            net_arch=saved["net_arch"],
            activation=saved["activation"],
            device=device,
        )
        student.load_state_dict(saved["state_dict"])
        return student


def actions_from_head(
    policy: Any, action_space: spaces.Space, out: th.Tensor, deterministic: bool, generator: th.Generator | None = None
) -> np.ndarray:
    """Numpy actions from head outputs (N, K) of ``policy`` (an SB3 policy or a :class:`StudentPolicy`).

    Discrete: argmax or a categorical sample -> (N,) int64. Box: the mean or mean + exp(log_std) * noise, clipped to
    the space's bounds -> (N, action_dim) float32. ``generator`` (a CPU ``torch.Generator``) seeds the sample
    (``None``: global torch RNG).
    """
    out = out.detach()
    if deterministic or generator is None:
        actions = actions_from_output(policy, out, deterministic)
    elif isinstance(action_space, spaces.Discrete):
        probs = th.softmax(out.cpu(), -1)  # sampled on the CPU, where ``generator`` lives
        actions = th.multinomial(probs, 1, generator=generator)[:, 0]
    else:
        noise = th.randn(out.shape, generator=generator, dtype=out.dtype)
        actions = out.cpu() + noise * th.exp(policy.log_std.detach().cpu())
    actions = actions.detach().cpu().numpy()
    if isinstance(action_space, spaces.Box):
        return np.clip(actions, action_space.low, action_space.high).astype(np.float32)
    return actions.astype(np.int64)
