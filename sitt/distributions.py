"""Action distributions from head outputs, and the KL divergence SITT measures between teacher and student.

Head outputs are what the (shared) action head returns for a batch of features: logits (N, n_actions) for
``Discrete`` action spaces, means (N, action_dim) for ``Box`` spaces with SB3's diagonal Gaussian, whose
state-independent ``log_std`` belongs to the teacher and is shared by teacher, student and proxy.
"""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import CategoricalDistribution, DiagGaussianDistribution, Distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from torch.nn import functional as F

SUPPORTED = "Discrete (categorical) or Box (diagonal Gaussian, use_sde=False)"


def check_supported(policy: ActorCriticPolicy, action_space: spaces.Space) -> None:
    """Raise ``ValueError`` unless the policy's action distribution is one SITT handles."""
    if not isinstance(policy.action_dist, (CategoricalDistribution, DiagGaussianDistribution)):
        raise ValueError(f"action_space: {action_space} is not supported by SITT; allowed: {SUPPORTED}")


def kl_divergence(policy: ActorCriticPolicy, teacher_out: th.Tensor, other_out: th.Tensor) -> th.Tensor:
    """KL(teacher || other) per sample, (N, k) x (N, k) -> (N,).

    Categorical: sum_a p_t(a) (log p_t(a) - log p_o(a)). Diagonal Gaussian with the teacher's shared log-std: the
    paper's Mahalanobis form 0.5 * sum_i ((mu_t,i - mu_o,i) / sigma_i)^2, which equals the exact KL of two
    Gaussians with the same covariance. The log-std is detached: the shared covariance is the metric of the term,
    not something the term may enlarge to shrink itself.
    """
    if isinstance(policy.action_dist, CategoricalDistribution):
        log_pt = F.log_softmax(teacher_out, dim=-1)
        log_po = F.log_softmax(other_out, dim=-1)
        return (log_pt.exp() * (log_pt - log_po)).sum(-1)
    if isinstance(policy.action_dist, DiagGaussianDistribution):
        inv_var = th.exp(-2.0 * policy.log_std.detach())
        return 0.5 * ((teacher_out - other_out) ** 2 * inv_var).sum(-1)
    raise ValueError(f"action distribution {type(policy.action_dist).__name__}: allowed: {SUPPORTED}")


def actions_from_output(policy: ActorCriticPolicy, out: th.Tensor, deterministic: bool) -> th.Tensor:
    """Actions for head outputs (N, k): argmax / mean when deterministic, else a sample. Discrete -> (N,)."""
    if isinstance(policy.action_dist, CategoricalDistribution):
        if deterministic:
            return out.argmax(dim=-1)
        return th.distributions.Categorical(logits=out).sample()
    if isinstance(policy.action_dist, DiagGaussianDistribution):
        if deterministic:
            return out
        return out + th.randn_like(out) * th.exp(policy.log_std)
    raise ValueError(f"action distribution {type(policy.action_dist).__name__}: allowed: {SUPPORTED}")


def distribution_from_output(policy: ActorCriticPolicy, out: th.Tensor) -> Distribution:
    """SB3's action distribution for head outputs (N, k), as ``policy._get_action_dist_from_latent`` builds it."""
    if isinstance(policy.action_dist, CategoricalDistribution):
        return policy.action_dist.proba_distribution(action_logits=out)
    if isinstance(policy.action_dist, DiagGaussianDistribution):
        return policy.action_dist.proba_distribution(out, policy.log_std)
    raise ValueError(f"action distribution {type(policy.action_dist).__name__}: allowed: {SUPPORTED}")


def agreement(policy: ActorCriticPolicy, student_out: th.Tensor, teacher_out: th.Tensor) -> th.Tensor:
    """Student-teacher action agreement per sample (N,): 1.0 where the argmax actions are equal (Discrete), or for
    Box exp(-KL), a number in (0, 1] that is 1 when the means coincide. Average it for the agreement rate."""
    if isinstance(policy.action_dist, CategoricalDistribution):
        return (student_out.argmax(-1) == teacher_out.argmax(-1)).float()
    return th.exp(-kl_divergence(policy, teacher_out, student_out))
