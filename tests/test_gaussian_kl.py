"""The paper's Gaussian KL term (issue 16 item 2): with ``kl_grad_log_std`` its gradient reaches the shared log-std."""

from __future__ import annotations

import pytest
import torch as th

from sitt import SITTConfig
from sitt.losses import update_term
from sitt.networks import teacher_latent
from tests.sitt_helpers import mask_pendulum, pendulum
from tests.test_sitt_algorithm import make, rollout_once, sharpen


def pendulum_model(**kw):
    return sharpen(make(pendulum(4), recipe="paper", student_obs_fn=mask_pendulum, **kw), scale=30.0)


@pytest.mark.parametrize("on", [True, False])
def test_kl_term_gradient_on_log_std_matches_the_derivation(on):
    m = rollout_once(pendulum_model())
    rows = m._iteration["rows"]
    with th.no_grad():
        m.policy.log_std.fill_(-0.4)
        target_latent = m._iteration["target_latent"]
        target_out = m.policy.action_net(target_latent)
    m.policy.zero_grad()
    latent = teacher_latent(m.policy, rows)
    update_term("kl", m.policy, latent, target_latent, target_out, grad_log_std=on).backward()
    grad = m.policy.log_std.grad
    if not on:
        assert grad is None or th.equal(grad, th.zeros_like(grad))
        return
    with th.no_grad():  # d/d log sigma of mean_n 0.5 sum_i (d_ni / sigma_i)^2 = -mean_n (d_ni / sigma_i)^2
        gap = m.policy.action_net(latent) - target_out
        expected = -((gap / th.exp(m.policy.log_std)) ** 2).mean(0)
    assert (expected < -1e-4).all()  # the proxy disagrees: a real gradient, and it enlarges sigma (descent raises it)
    th.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-8)


def first_log_std_grad(**kw):
    m = rollout_once(pendulum_model(max_grad_norm=1e9, **kw))  # no clipping: it would couple the terms' gradients
    grads = []
    original = m.policy.optimizer.step
    m.policy.optimizer.step = lambda *a, **k: (grads.append(m.policy.log_std.grad.clone()), original(*a, **k))
    th.manual_seed(0)
    m.policy_update()
    return grads[0]


def test_policy_update_log_std_gradient_with_and_without_the_switch():
    off = first_log_std_grad(kl_grad_log_std=False)
    ppo_only = first_log_std_grad(update_term="off")
    on = first_log_std_grad(kl_grad_log_std=True)
    th.testing.assert_close(off, ppo_only, rtol=0, atol=0)  # off: the term never reaches the log-std
    assert not th.allclose(on, off)
    assert (on < off).all()  # the term's gradient is negative: descent enlarges Sigma_T


def test_recipes_set_the_switch():
    assert SITTConfig.from_recipe("paper").kl_grad_log_std is True
    assert SITTConfig.from_recipe("release").kl_grad_log_std is False
    with pytest.raises(ValueError, match="^kl_grad_log_std"):
        SITTConfig.from_recipe("paper", kl_grad_log_std=1)
