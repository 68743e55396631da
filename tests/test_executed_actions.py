"""The executed-action switch (``action_distance="clipped"``): every distance between teacher, proxy and student on a
bounded Box action space measured on the actions the env executes (means clamped to the bounds).

Checked against brute-force references: equal to the raw distance where no mean is saturated, a saturated dimension
contributes nothing, gradients flow where a mean is inside the bounds and not where it is beyond, Discrete unchanged;
then through each user (SITT's three phases, BC/DAgger's loss, COSIL's distance) and the study's arms.
"""

from __future__ import annotations

import numpy as np
import gymnasium as gym
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env

from sitt import SITT
from sitt.baselines.cosil import COSILConfig, action_l1
from sitt.baselines.imitation import evaluate_fit, fit_student
from sitt.config import SITTConfig
from sitt.distributions import executed_output, kl_divergence
from sitt.losses import alignment_loss, update_term
from sitt.student import StudentPolicy


class _BoxEnv(gym.Env):
    """A 3-feature observation, a Box(low, high, (dim,)) action: enough to build SITT's networks."""

    def __init__(self, low=-1.0, high=1.0, dim=2):
        self.observation_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.action_space = spaces.Box(low, high, (dim,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return self.np_random.normal(size=3).astype(np.float32), {}

    def step(self, action):
        obs = self.np_random.normal(size=3).astype(np.float32)
        return obs, -float(np.sum(np.square(np.clip(action, -1, 1) - obs[:1]))), False, False, {}


def _model(low=-1.0, high=1.0, dim=2, distance="raw", n_steps=8):
    env = make_vec_env(lambda: _BoxEnv(low, high, dim), n_envs=2, seed=0)
    return SITT("MlpPolicy", env, recipe="paper", student_obs_fn=lambda o: o[:, :2], n_steps=n_steps,
                batch_size=n_steps, action_distance=distance, seed=0)


def _box_policy(low=-1.0, high=1.0, dim=2):
    """An SB3 Gaussian policy on a Box(low, high, (dim,)) action space."""
    return _model(low, high, dim).policy


def _brute_kl(mu_t, mu_o, log_std, low, high, clip):
    """0.5 sum_i ((a_t,i - a_o,i) / sigma_i)^2 one sample at a time, a = clip(mu) or mu (plain Python floats)."""
    out = []
    for t_row, o_row in zip(mu_t.tolist(), mu_o.tolist()):
        total = 0.0
        for i, (t, o) in enumerate(zip(t_row, o_row)):
            if clip:
                t, o = min(max(t, low), high), min(max(o, low), high)
            total += 0.5 * ((t - o) / float(np.exp(log_std[i]))) ** 2
        out.append(total)
    return np.array(out)


@pytest.fixture(scope="module")
def policy():
    p = _box_policy(low=-1.0, high=1.0, dim=2)
    p.log_std.data = th.tensor([0.3, -0.2])
    return p


def test_executed_output_clamps_box_means_and_leaves_raw_and_discrete_alone(policy):
    out = th.tensor([[0.5, -3.0], [1.7, 0.99]])
    assert th.equal(executed_output(out, policy.action_space, "clipped"), th.tensor([[0.5, -1.0], [1.0, 0.99]]))
    assert executed_output(out, policy.action_space, "raw") is out
    logits = th.tensor([[5.0, -7.0, 2.0]])
    assert executed_output(logits, spaces.Discrete(3), "clipped") is logits
    asym = spaces.Box(np.array([-2.0, 0.0], np.float32), np.array([2.0, 0.5], np.float32))
    assert th.equal(executed_output(th.tensor([[-2.5, 0.7]]), asym, "clipped"), th.tensor([[-2.0, 0.5]]))
    with pytest.raises(ValueError, match="action_distance.*allowed: raw, clipped"):
        executed_output(out, policy.action_space, "squashed")


def test_clipped_kl_equals_raw_where_no_mean_is_saturated(policy):
    g = th.Generator().manual_seed(0)
    mu_t, mu_o = th.rand(50, 2, generator=g) * 1.8 - 0.9, th.rand(50, 2, generator=g) * 1.8 - 0.9
    raw = kl_divergence(policy, mu_t, mu_o)
    clipped = kl_divergence(policy, mu_t, mu_o, action_distance="clipped")
    assert th.equal(raw, clipped)
    ref = _brute_kl(mu_t, mu_o, policy.log_std.detach().numpy(), -1.0, 1.0, clip=False)
    np.testing.assert_allclose(raw.numpy(), ref, rtol=1e-5)


def test_a_saturated_dimension_contributes_nothing(policy):
    # dim 0: both beyond +1 (teacher 5.6, other 1.3): no executed difference; dim 1 inside: counts fully
    mu_t = th.tensor([[5.6, 0.2], [-4.0, 0.5], [3.0, -0.3]])
    mu_o = th.tensor([[1.3, -0.4], [-1.2, 0.5], [0.4, -0.3]])
    clipped = kl_divergence(policy, mu_t, mu_o, action_distance="clipped")
    ref = _brute_kl(mu_t, mu_o, policy.log_std.detach().numpy(), -1.0, 1.0, clip=True)
    np.testing.assert_allclose(clipped.numpy(), ref, rtol=1e-6)
    sigma1 = float(np.exp(-0.2))
    assert clipped[0].item() == pytest.approx(0.5 * (0.6 / sigma1) ** 2, rel=1e-6)  # dim 0 adds nothing
    assert clipped[1].item() == 0.0
    sigma0 = float(np.exp(0.3))
    assert clipped[2].item() == pytest.approx(0.5 * (0.6 / sigma0) ** 2, rel=1e-6)  # only up to the bound
    assert kl_divergence(policy, mu_t, mu_o)[0].item() > clipped[0].item()


def test_gradients_flow_inside_the_bounds_and_not_beyond(policy):
    mu_t = th.tensor([[0.3, 2.5]], requires_grad=True)
    mu_o = th.tensor([[-0.2, 0.1]], requires_grad=True)
    kl_divergence(policy, mu_t, mu_o, action_distance="clipped").sum().backward()
    assert mu_t.grad[0, 0].item() != 0.0 and mu_o.grad[0, 0].item() != 0.0  # both inside: gradient flows
    assert mu_t.grad[0, 1].item() == 0.0  # teacher mean beyond the bound: no gradient
    assert mu_o.grad[0, 1].item() != 0.0  # the other side, inside, is pulled toward the bound
    sigma1 = float(np.exp(-0.2))
    assert mu_o.grad[0, 1].item() == pytest.approx(-(1.0 - 0.1) / sigma1 ** 2, rel=1e-5)


def test_discrete_kl_unchanged_by_the_switch():
    env = make_vec_env("CartPole-v1", n_envs=1, seed=0)
    policy = SITT("MlpPolicy", env, student_obs_fn=lambda o: o[:, :2], n_steps=8, batch_size=8, seed=0).policy
    a, b = th.randn(20, 2), th.randn(20, 2)
    assert th.equal(kl_divergence(policy, a, b), kl_divergence(policy, a, b, action_distance="clipped"))


def test_update_term_and_alignment_loss_use_executed_actions(policy):
    latent = th.randn(4, 64, requires_grad=True)
    with th.no_grad():
        policy.action_net.bias.data = th.tensor([4.0, 0.0])  # dim 0 of the teacher saturated everywhere
    target = th.tensor([[2.0, 0.1]] * 4)  # the proxy also beyond +1 on dim 0
    term = update_term("kl", policy, latent, th.zeros(4, 64), target, action_distance="clipped")
    mu = policy.action_net(latent).detach()
    ref = _brute_kl(mu, target, policy.log_std.detach().numpy(), -1.0, 1.0, clip=True).mean()
    assert term.item() == pytest.approx(ref, rel=1e-5)
    assert term.item() < update_term("kl", policy, latent, th.zeros(4, 64), target).item()
    # alignment: the output terms on clipped outputs, the feature terms untouched
    f = th.zeros(3, 4)
    s_out, t_out, p_out = th.tensor([[0.5, 3.0]] * 3), th.tensor([[0.2, 5.0]] * 3), th.tensor([[0.5, -2.0]] * 3)
    ex = lambda out: executed_output(out, policy.action_space, "clipped")  # noqa: E731
    _, parts = alignment_loss(f, f, f, s_out, t_out, p_out, executed=ex)
    assert parts["student_out"].item() == pytest.approx((0.3 + 0.0) / 2)
    assert parts["proxy_out"].item() == pytest.approx((0.0 + 2.0) / 2)
    _, raw = alignment_loss(f, f, f, s_out, t_out, p_out)
    assert raw["student_out"].item() == pytest.approx((0.3 + 2.0) / 2)
    with th.no_grad():
        policy.action_net.bias.data.zero_()


def test_imitation_loss_clipped_fits_a_saturated_teacher_to_the_bound():
    """BC's fit with clipped distances: the student's mean ends at (or beyond) the bound where the teacher's mean is
    far beyond it, and its loss reaches about zero there; the raw loss cannot (the student's head is the same)."""
    policy = _box_policy(low=-2.0, high=2.0, dim=1)
    obs = np.random.default_rng(0).normal(size=(256, 3)).astype(np.float32)
    student = StudentPolicy(policy, student_obs_shape=(2,), seed=0)  # its own head: a copy made now
    with th.no_grad():
        policy.action_net.weight.zero_()
        policy.action_net.bias.data = th.tensor([6.0])  # the teacher's mean is 6 everywhere: executes +2
    losses = fit_student(student, policy, obs[:, :2], obs, epochs=30, batch_size=64, lr=1e-2, action_distance="clipped")
    fit = evaluate_fit(student, policy, obs[:, :2], obs, action_distance="clipped")
    assert losses[0] > losses[-1]
    assert fit["loss"] < 1e-3 and fit["agreement"] > 0.999
    assert evaluate_fit(student, policy, obs[:, :2], obs)["loss"] > fit["loss"]
    with pytest.raises(ValueError, match="action_distance"):
        fit_student(student, policy, obs[:, :2], obs, epochs=1, action_distance="tanh")


def test_cosil_distance_on_executed_actions():
    policy = _box_policy(dim=2)
    student = StudentPolicy(policy, student_obs_shape=(2,), seed=0)
    s, t = th.tensor([[0.9, 1.5], [0.0, -3.0]]), th.tensor([[0.4, 4.0], [0.5, -1.0]])
    assert action_l1(student, s, t).tolist() == pytest.approx([0.5 + 2.5, 0.5 + 2.0])
    assert action_l1(student, s, t, "clipped").tolist() == pytest.approx([0.5, 0.5])
    with pytest.raises(ValueError, match="action_distance"):
        COSILConfig(action_distance="nope").validate()


def test_sitt_config_switch_is_validated_and_defaults_to_raw():
    assert SITTConfig.from_recipe("paper").action_distance == "raw"
    assert SITTConfig.from_recipe("release").action_distance == "raw"
    with pytest.raises(ValueError, match="action_distance: got 'squashed'; allowed: raw, clipped"):
        SITTConfig.from_recipe("paper", action_distance="squashed")


def test_sitt_raw_and_clipped_identical_when_bounds_are_never_reached_and_different_when_they_are():
    """A seeded SITT run with clipped distances equals the raw run bit for bit while no mean leaves the bounds
    (bounds of 1e6 here), and the roll-out KL logs differ once the bounds bite (tiny bounds)."""
    def run(distance, bound):
        model = _model(-bound, bound, dim=1, distance=distance, n_steps=32)
        model.learn(128)
        return model

    raw, clipped = run("raw", 1e6), run("clipped", 1e6)
    for a, b in zip(raw.policy.parameters(), clipped.policy.parameters()):
        assert th.equal(a, b)
    for a, b in zip(raw.nets.parameters(), clipped.nets.parameters()):
        assert th.equal(a, b)
    raw_small, clipped_small = run("raw", 0.01), run("clipped", 0.01)
    changed = any(not th.equal(a, b) for a, b in zip(raw_small.nets.parameters(), clipped_small.nets.parameters()))
    assert changed


def test_study_arms_carry_the_switch():
    from study.presets import preset

    bc = preset("occluded_drawer_grid", "bc_clipped", 100)
    assert bc.method == {"action_distance": "clipped"}
    assert bc.teacher_config().method == {} and bc.teacher_config().arm == "without_alignment"
    assert bc.training_key() != preset("occluded_drawer_grid", "bc", 100).training_key()
    grid_bc = preset("occluded_drawer_grid", "bc", 100)
    assert bc.teacher_config().training_key() == grid_bc.teacher_config().training_key()
    grid = preset("occluded_drawer_grid", "sitt_l1_0.2_l2_0.01_clipped", 100)
    cfg = grid.sitt_config()
    assert (cfg.reward_coef, cfg.update_weight, cfg.action_distance, cfg.reward_sign) == (0.2, 0.01, "clipped", -1)
    assert (cfg.align_epochs, cfg.align_subset) == (10, 0.5)  # the drawer profile's schedule
    with pytest.raises(ValueError, match="method.action_distance"):
        bc.replace(method={"action_distance": "tanh"}).validate()
    with pytest.raises(ValueError, match="seed"):
        preset("occluded_drawer_grid", "bc_clipped", 3)  # a reported seed in a tuning experiment
