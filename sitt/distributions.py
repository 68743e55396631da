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

# how a distance between two policies' actions is measured (executed_output): "raw" head outputs (every committed
# run) or "clipped" to what a bounded Box env executes; defined with SITT's config, which imports no torch
from sitt.config import ACTION_DISTANCES

SUPPORTED = "Discrete (categorical) or Box (diagonal Gaussian, use_sde=False)"


def check_action_distance(value: str, name: str = "action_distance") -> str:
    """``value`` when it is one of :data:`ACTION_DISTANCES`, else a ``ValueError`` naming ``name``."""
    if value not in ACTION_DISTANCES:
        raise ValueError(f"{name}: got {value!r}; allowed: {', '.join(ACTION_DISTANCES)}")
    return value


def executed_output(out: th.Tensor, action_space: spaces.Space, action_distance: str = "raw") -> th.Tensor:
    """Head outputs (N, K) as the env executes them, for measuring distances between policies.

    ``"raw"``: ``out`` unchanged. ``"clipped"`` on a ``Box`` space: the Gaussian means clamped to the space's bounds,
    ``clamp(mu, low, high)``; logits of a ``Discrete`` space are returned unchanged (nothing is clipped there).

    Why clipping and not squashing: SB3's PPO (roll-out and ``predict``) and every env of this study CLIP a Box action
    to its bounds, so ``clamp(mu)`` is exactly the action a deterministic policy executes. Two means beyond the same
    bound then act identically and are at distance 0, a mean inside the bounds keeps its value (distances where no
    mean is saturated equal the raw ones), and the gradient is 1 inside the bounds and 0 on a saturated dimension, so
    a loss cannot push a mean further into a region that changes no executed action. A ``tanh`` squash would bend
    every distance inside the bounds too (what a policy with ``squash_output`` learns, not what this env executes).
    Used with the shared-covariance KL (:func:`kl_divergence`) the result is the Mahalanobis distance between the two
    executed deterministic actions; it is not the KL of the clipped (censored) stochastic action distributions,
    whose mass beyond a bound is executed at the bound: the study's students are deployed deterministically.
    """
    check_action_distance(action_distance)
    if action_distance == "raw" or not isinstance(action_space, spaces.Box):
        return out
    low = th.as_tensor(action_space.low, dtype=out.dtype, device=out.device).reshape(-1)
    high = th.as_tensor(action_space.high, dtype=out.dtype, device=out.device).reshape(-1)
    return th.clamp(out, low, high)


def check_supported(policy: ActorCriticPolicy, action_space: spaces.Space) -> None:
    """Raise ``ValueError`` unless the policy's action distribution is one SITT handles."""
    if not isinstance(policy.action_dist, (CategoricalDistribution, DiagGaussianDistribution)):
        raise ValueError(f"action_space: {action_space} is not supported by SITT; allowed: {SUPPORTED}")


def kl_divergence(
    policy: ActorCriticPolicy, teacher_out: th.Tensor, other_out: th.Tensor, grad_log_std: bool = False,
    action_distance: str = "raw",
) -> th.Tensor:
    """KL(teacher || other) per sample, (N, k) x (N, k) -> (N,).

    Categorical: sum_a p_t(a) (log p_t(a) - log p_o(a)). Diagonal Gaussian: teacher and other share the policy's
    state-independent covariance Sigma = diag(sigma^2) (one shared decoder), so the exact KL of the two Gaussians is
    the paper's Mahalanobis form 0.5 * sum_i ((mu_t,i - mu_o,i) / sigma_i)^2 for every Sigma (the log-determinant and
    trace terms cancel).

    :param grad_log_std: ``False`` (default, the release's reading): the log-std is detached, the covariance is only
        the metric of the term. ``True`` (the paper: the term "also enlarges Sigma_T"): the gradient reaches the shared
        log-std, d KL / d log sigma_i = -((mu_t,i - mu_o,i) / sigma_i)^2 <= 0, so gradient descent on the term raises
        sigma_i in proportion to the squared standardised mean gap, i.e. the teacher explores more where it disagrees
        with the student. (Were the other side's std a detached copy sigma_o = sg(sigma_t), the exact KL
        sum_i log(sigma_o,i / sigma_t,i) + (sigma_t,i^2 + d_i^2) / (2 sigma_o,i^2) - 1/2 would have gradient
        -1 + sigma_t,i^2 / sigma_o,i^2 = 0 on log sigma_t,i: only the shared-Sigma form enlarges Sigma_T.)
    :param action_distance: ``"raw"`` (default; every committed run) or ``"clipped"``: both means clamped to the
        action bounds first (:func:`executed_output`), so disagreement beyond a bound counts for nothing.
    """
    teacher_out = executed_output(teacher_out, policy.action_space, action_distance)
    other_out = executed_output(other_out, policy.action_space, action_distance)
    if isinstance(policy.action_dist, CategoricalDistribution):
        log_pt = F.log_softmax(teacher_out, dim=-1)
        log_po = F.log_softmax(other_out, dim=-1)
        return (log_pt.exp() * (log_pt - log_po)).sum(-1)
    if isinstance(policy.action_dist, DiagGaussianDistribution):
        log_std = policy.log_std if grad_log_std else policy.log_std.detach()
        inv_var = th.exp(-2.0 * log_std)
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


def agreement(
    policy: ActorCriticPolicy, student_out: th.Tensor, teacher_out: th.Tensor, action_distance: str = "raw"
) -> th.Tensor:
    """Student-teacher action agreement per sample (N,): 1.0 where the argmax actions are equal (Discrete), or for
    Box exp(-KL) (KL measured with ``action_distance``), a number in (0, 1] that is 1 when the means coincide.
    Average it for the agreement rate."""
    if isinstance(policy.action_dist, CategoricalDistribution):
        return (student_out.argmax(-1) == teacher_out.argmax(-1)).float()
    return th.exp(-kl_divergence(policy, teacher_out, student_out, action_distance=action_distance))
