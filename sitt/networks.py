"""The student side of SITT: student encoder, proxy student encoder, and (optionally) a separate student head.

The teacher is SB3's actor-critic (``ActorCriticPolicy``); its policy MLP maps the privileged observation to the
feature space and its ``action_net`` (the *shared action head*) maps features to the action distribution's
parameters (logits for ``Discrete``, means for ``Box``). SITT adds, in that same feature space:

* the **student encoder**: student observation -> features; by default a deep copy of the teacher's policy MLP at
  construction, as in the release;
* the **proxy student encoder**: teacher observation -> features, trained to imitate the student so that the
  student's action distribution can be estimated at every roll-out step from privileged observations only
  (release: ``Linear-ReLU-Linear-Tanh`` with 64 units);
* a **student head** only when the head is not shared (``shared_head=False`` ablation).
"""

from __future__ import annotations

import copy

import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from sitt.config import SITTConfig

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def mlp(in_dim: int, sizes: list[int], activations: list[str]) -> nn.Sequential:
    """``Linear -> activation`` per entry of ``sizes``; input (N, in_dim) -> output (N, sizes[-1])."""
    layers: list[nn.Module] = []
    for size, act in zip(sizes, activations):
        layers += [nn.Linear(in_dim, size), _ACTIVATIONS[act]()]
        in_dim = size
    return nn.Sequential(*layers)


def teacher_latent(policy: ActorCriticPolicy, obs: th.Tensor) -> th.Tensor:
    """The teacher's policy features ``latent_pi`` for a batch of observations: (N, *obs_shape) -> (N, latent_dim)."""
    if policy.share_features_extractor:
        features = policy.extract_features(obs)
    else:
        features = policy.extract_features(obs, policy.pi_features_extractor)
    return policy.mlp_extractor.forward_actor(features)


class StudentNetworks(nn.Module):
    """Student encoder, proxy student encoder and optional student head, built next to a teacher policy.

    :param teacher: the teacher's SB3 ``ActorCriticPolicy`` (its policy MLP is copied for the default student, its
        ``action_net`` is the shared head).
    :param config: the SITT configuration (architectures, ``shared_head``).
    :param student_obs_dim: size of the flattened student observation.
    :param teacher_obs_dim: size of the flattened teacher observation (the proxy's input).
    """

    def __init__(self, teacher: ActorCriticPolicy, config: SITTConfig, student_obs_dim: int, teacher_obs_dim: int):
        super().__init__()
        latent_dim = teacher.mlp_extractor.latent_dim_pi
        if config.student_net_arch is None:
            first = next(m for m in teacher.mlp_extractor.policy_net.modules() if isinstance(m, nn.Linear))
            if first.in_features != student_obs_dim:
                raise ValueError(
                    f"student_net_arch: the default student copies the teacher's policy MLP, whose input has "
                    f"{first.in_features} features, but the student observation has {student_obs_dim}; "
                    f"allowed: a list of hidden sizes ending in {latent_dim} for a student of its own"
                )
            self.student = copy.deepcopy(teacher.mlp_extractor.policy_net)
        else:
            if config.student_net_arch[-1] != latent_dim:
                raise ValueError(
                    f"student_net_arch: last size {config.student_net_arch[-1]} must equal the teacher's feature "
                    f"size {latent_dim} (the action head is shared)"
                )
            self.student = mlp(student_obs_dim, list(config.student_net_arch), ["tanh"] * len(config.student_net_arch))
        if config.proxy_net_arch[-1] != latent_dim:
            raise ValueError(
                f"proxy_net_arch: last size {config.proxy_net_arch[-1]} must equal the teacher's feature size "
                f"{latent_dim} (the action head is shared)"
            )
        self.proxy = mlp(teacher_obs_dim, list(config.proxy_net_arch), list(config.proxy_activations))
        self.student_head = None if config.shared_head else copy.deepcopy(teacher.action_net)
