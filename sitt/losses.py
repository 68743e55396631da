"""The losses of SITT's policy-update and alignment phases, as pure functions of tensors.

Kept apart from the training loop so that tests (and readers) can check each term on given inputs.
Shapes: N samples, D feature size, K head outputs (logits or Gaussian means).
"""

from __future__ import annotations

from collections.abc import Callable

import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy
from torch.nn import functional as F

from sitt.distributions import kl_divergence


def ppo_loss(
    log_prob: th.Tensor,
    old_log_prob: th.Tensor,
    advantages: th.Tensor,
    values: th.Tensor,
    old_values: th.Tensor,
    returns: th.Tensor,
    entropy: th.Tensor | None,
    *,
    clip_range: float,
    clip_range_vf: float | None,
    ent_coef: float,
    vf_coef: float,
    normalize_advantage: bool,
) -> tuple[th.Tensor, dict[str, th.Tensor]]:
    """SB3's PPO loss (clipped surrogate + value loss + entropy bonus) on one minibatch; all inputs (N,).

    Returns the loss and the detached parts SB3 logs (policy_gradient_loss, value_loss, entropy_loss,
    clip_fraction, approx_kl).
    """
    if normalize_advantage and len(advantages) > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_ratio = log_prob - old_log_prob
    ratio = th.exp(log_ratio)
    policy_loss = -th.min(advantages * ratio, advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)).mean()
    if clip_range_vf is None:
        values_pred = values
    else:
        values_pred = old_values + th.clamp(values - old_values, -clip_range_vf, clip_range_vf)
    value_loss = F.mse_loss(returns, values_pred)
    entropy_loss = -th.mean(-log_prob) if entropy is None else -th.mean(entropy)
    loss = policy_loss + ent_coef * entropy_loss + vf_coef * value_loss
    with th.no_grad():
        parts = {
            "policy_gradient_loss": policy_loss.detach(),
            "value_loss": value_loss.detach(),
            "entropy_loss": entropy_loss.detach(),
            "clip_fraction": th.mean((th.abs(ratio - 1) > clip_range).float()),
            "approx_kl": th.mean((ratio - 1) - log_ratio),
        }
    return loss, parts


def update_term(
    kind: str,
    policy: ActorCriticPolicy,
    latent_pi: th.Tensor,
    target_latent: th.Tensor,
    target_out: th.Tensor | None = None,
    mean: Callable[[th.Tensor], th.Tensor] = th.mean,
    grad_log_std: bool = False,
    action_distance: str = "raw",
) -> th.Tensor:
    """The student-informed term of the policy-update phase (a scalar, before its weight).

    :param kind: ``"feature_l1"`` (release): mean |latent_pi - target_latent|, gradient into the teacher's policy MLP
        only; ``"kl"`` (paper): mean KL(teacher || target) of the action distributions, gradient into the teacher's
        policy MLP and action head.
    :param latent_pi: teacher policy features (N, D), with gradient.
    :param target_latent: the proxy's (or oracle student's) features (N, D), frozen.
    :param target_out: the proxy's head outputs (N, K), frozen; needed for ``"kl"``.
    :param mean: the mean over samples; rows may stand for several samples (see :mod:`sitt.dedup`).
    :param grad_log_std: for ``"kl"`` with Box actions, let the gradient reach the shared log-std (the paper; see
        :func:`sitt.distributions.kl_divergence`).
    :param action_distance: for ``"kl"``: ``"raw"`` means or ``"clipped"`` to the action bounds
        (:func:`sitt.distributions.executed_output`); the feature L1 has no actions and ignores it.
    """
    if kind == "feature_l1":
        return mean((latent_pi - target_latent.detach()).abs())
    if kind == "kl":
        assert target_out is not None, "the kl update term needs the proxy's head outputs"
        return mean(kl_divergence(policy, policy.action_net(latent_pi), target_out.detach(), grad_log_std=grad_log_std,
                                  action_distance=action_distance))
    raise ValueError(f"update_term: got {kind!r}; allowed: feature_l1, kl")


def alignment_loss(
    student_feat: th.Tensor,
    teacher_feat: th.Tensor,
    proxy_feat: th.Tensor,
    student_out: th.Tensor,
    teacher_out: th.Tensor,
    proxy_out: th.Tensor,
    mean: Callable[[th.Tensor], th.Tensor] = th.mean,
    executed: Callable[[th.Tensor], th.Tensor] | None = None,
) -> tuple[th.Tensor, dict[str, th.Tensor]]:
    """The alignment loss, the release's four L1 terms (features (N, D), head outputs (N, K)).

    student -> teacher on features and on head outputs (gradients into the student only: the teacher side is
    detached), proxy -> student on features and on head outputs (the student side is detached, so gradients reach
    the proxy only). The head outputs of student and proxy come from a frozen head, so the head is not trained here.
    ``mean`` averages over samples (default: ``F.l1_loss``'s plain mean; rows may stand for several samples).
    ``executed`` maps head outputs to executed actions before the two output terms (e.g. ``lambda out:
    executed_output(out, space, "clipped")``); None (default, every committed run): the raw outputs.
    """
    if executed is not None:
        student_out, teacher_out, proxy_out = executed(student_out), executed(teacher_out), executed(proxy_out)
    l1 = lambda a, b: mean((a - b).abs())
    parts = {
        "student_feat": l1(student_feat, teacher_feat.detach()),
        "proxy_feat": l1(student_feat.detach(), proxy_feat),
        "student_out": l1(student_out, teacher_out.detach()),
        "proxy_out": l1(student_out.detach(), proxy_out),
    }
    loss = parts["student_feat"] + parts["proxy_feat"] + parts["student_out"] + parts["proxy_out"]
    return loss, {k: v.detach() for k, v in parts.items()}
