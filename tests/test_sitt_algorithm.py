"""The mechanics of SITT's three phases on small SB3 envs (CartPole: Discrete, Pendulum: Box)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO

from sitt import SITT, SITTConfig
from sitt.distributions import kl_divergence
from sitt.losses import update_term
from sitt.networks import teacher_latent
from tests.sitt_helpers import Recorder, cartpole, mask_cartpole, mask_pendulum, pendulum

N_STEPS, N_ENVS = 16, 4


def make(env=None, recipe="release", **kw):
    kw.setdefault("n_steps", N_STEPS)
    kw.setdefault("batch_size", N_STEPS * N_ENVS)
    kw.setdefault("n_epochs", 2)
    kw.setdefault("seed", 0)
    kw.setdefault("student_obs_fn", mask_cartpole)
    kw.setdefault("align_epochs", 3)
    return SITT("MlpPolicy", env if env is not None else cartpole(N_ENVS), recipe=recipe, **kw)


def sharpen(model, scale=300.0):
    """SB3 initialises the action head with gain 0.01 (near-uniform policies, KL ~ 1e-7); scale it so that teacher,
    proxy and student disagree measurably and the tests can tell a KL term from none."""
    with th.no_grad():
        model.policy.action_net.weight.mul_(scale)
    return model


def rollout_once(model):
    _, callback = model._setup_learn(model.n_steps * model.n_envs, callback=None)
    callback.on_training_start(locals(), globals())
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)
    return model


def params(module) -> dict[str, th.Tensor]:
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(before: dict, module) -> dict[str, bool]:
    return {k: not th.equal(before[k], v) for k, v in module.named_parameters()}


def categorical_kl(t_logits, o_logits):
    return th.distributions.kl_divergence(
        th.distributions.Categorical(logits=t_logits), th.distributions.Categorical(logits=o_logits)
    )


def gae(rewards, values, episode_starts, last_values, last_dones, gamma, lam):
    """Plain GAE over (T, E) arrays, written out for the test."""
    adv = np.zeros_like(rewards)
    last = 0.0
    for t in reversed(range(len(rewards))):
        if t == len(rewards) - 1:
            non_terminal, next_values = 1.0 - last_dones, last_values
        else:
            non_terminal, next_values = 1.0 - episode_starts[t + 1], values[t + 1]
        delta = rewards[t] + gamma * next_values * non_terminal - values[t]
        last = delta + gamma * lam * non_terminal * last
        adv[t] = last
    return adv


# ---------------------------------------------------------------- roll-out phase


@pytest.mark.parametrize("recipe,sign", [("release", 1.0), ("paper", -1.0)])
def test_rollout_rewards_are_env_reward_plus_signed_kl_on_pre_step_obs(recipe, sign):
    rec = Recorder(cartpole(N_ENVS))
    m = rollout_once(sharpen(make(rec, recipe=recipe, reward_coef=1.9)))
    obs = th.as_tensor(np.stack(rec.obs_before), dtype=th.float32)  # (T, E, 4)
    env_rewards = np.stack(rec.rewards)  # (T, E)
    with th.no_grad():
        t_logits = m.policy.action_net(m.policy.mlp_extractor.policy_net(obs))
        p_logits = m.policy.action_net(m.nets.proxy(obs))
        kl = categorical_kl(t_logits, p_logits).numpy()
    assert kl.mean() > 1e-4  # a fresh proxy disagrees with the teacher: the term is not trivially zero
    np.testing.assert_allclose(m.rollout_buffer.rewards, env_rewards + sign * 1.9 * kl, rtol=1e-5, atol=1e-6)


def test_rollout_advantages_are_recomputed_from_shaped_rewards():
    m = rollout_once(sharpen(make(reward_coef=5.0)))
    buf = m.rollout_buffer
    with th.no_grad():
        last_values = m.policy.predict_values(th.as_tensor(m._last_obs, dtype=th.float32)).numpy().flatten()
    expected = gae(buf.rewards, buf.values, buf.episode_starts, last_values,
                   m._last_episode_starts.astype(np.float32), m.gamma, m.gae_lambda)
    np.testing.assert_allclose(buf.advantages, expected, rtol=1e-4, atol=1e-5)
    off = rollout_once(sharpen(make(reward_term=False)))
    assert not np.allclose(off.rollout_buffer.advantages, buf.advantages)


def test_reward_term_off_leaves_env_rewards_untouched():
    rec = Recorder(cartpole(N_ENVS))
    m = rollout_once(make(rec, reward_term=False))
    np.testing.assert_array_equal(m.rollout_buffer.rewards, np.stack(rec.rewards).astype(np.float32))
    assert "sitt/kl_mean" in m.logger.name_to_value  # the KL is still measured and logged


def test_oracle_kl_source_uses_the_true_student_on_student_obs():
    rec = Recorder(cartpole(N_ENVS))
    m = rollout_once(sharpen(make(rec, kl_source="student", reward_coef=1.0)))
    obs = np.stack(rec.obs_before)
    with th.no_grad():
        o = th.as_tensor(obs, dtype=th.float32)
        t_logits = m.policy.action_net(m.policy.mlp_extractor.policy_net(o))
        s_logits = m.policy.action_net(m.nets.student(th.as_tensor(mask_cartpole(obs), dtype=th.float32)))
        kl = categorical_kl(t_logits, s_logits).numpy()
    assert kl.mean() > 1e-5
    np.testing.assert_allclose(m.rollout_buffer.rewards, np.stack(rec.rewards) + kl, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- policy-update phase


@pytest.mark.parametrize("recipe", ["release", "paper"])
def test_policy_update_changes_teacher_only(recipe):
    m = rollout_once(make(recipe=recipe))
    before_policy, before_nets = params(m.policy), params(m.nets)
    m.policy_update()
    moved = changed(before_policy, m.policy)
    assert all(moved.values()), [k for k, v in moved.items() if not v]  # policy MLP, value MLP, heads all move
    assert not any(changed(before_nets, m.nets).values())


@pytest.mark.parametrize("kind,reaches", [
    ("feature_l1", {"mlp_extractor.policy_net"}),
    ("kl", {"mlp_extractor.policy_net", "action_net"}),
])
def test_update_term_gradient_reaches_only_the_teacher_policy(kind, reaches):
    m = rollout_once(make())
    it = m._iteration
    m.policy.zero_grad()
    m.nets.zero_grad()
    latent = teacher_latent(m.policy, it["rows"])
    with th.no_grad():
        target_out = m.policy.action_net(it["target_latent"])
    update_term(kind, m.policy, latent, it["target_latent"], target_out).backward()
    for name, p in m.policy.named_parameters():
        has_grad = p.grad is not None and p.grad.abs().sum() > 0
        assert has_grad == any(name.startswith(r) for r in reaches), name
    assert all(p.grad is None for p in m.nets.parameters())


def test_update_term_off_equals_stock_sb3_ppo_update():
    kw = dict(n_steps=N_STEPS, batch_size=16, n_epochs=3, seed=3)
    m = rollout_once(make(update_term="off", reward_term=False, align=False, **kw))
    ppo = PPO("MlpPolicy", cartpole(N_ENVS), **kw)
    ppo.policy.load_state_dict(m.policy.state_dict())
    ppo.policy.optimizer.load_state_dict(m.policy.optimizer.state_dict())
    ppo.rollout_buffer = copy.deepcopy(m.rollout_buffer)
    ppo._logger = m.logger
    np.random.seed(11)
    m.policy_update()
    np.random.seed(11)
    ppo.train()
    for (name, a), b in zip(m.policy.named_parameters(), ppo.policy.parameters()):
        th.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_update_weight_changes_the_teacher_update():
    a = rollout_once(make(update_weight=0.0, reward_term=False))
    b = rollout_once(make(update_weight=10.0, reward_term=False))
    a.policy_update()
    b.policy_update()
    pa, pb = dict(a.policy.named_parameters()), dict(b.policy.named_parameters())
    assert not th.allclose(pa["mlp_extractor.policy_net.0.weight"], pb["mlp_extractor.policy_net.0.weight"])
    th.testing.assert_close(pa["value_net.weight"], pb["value_net.weight"])  # the term never reaches the critic


# ---------------------------------------------------------------- alignment phase


def test_alignment_changes_student_and_proxy_not_teacher_and_loss_decreases():
    m = rollout_once(make(align_epochs=5, align_lr=1e-3))
    before_policy, before_nets = params(m.policy), params(m.nets)
    losses = []
    for _ in range(6):
        m.align()
        losses.append(m.logger.name_to_value["sitt/align_loss"])
    assert not any(changed(before_policy, m.policy).values())  # teacher and shared head frozen
    assert all(changed(before_nets, m.nets).values())
    assert all(b < a for a, b in zip(losses, losses[1:])) and losses[-1] < 0.8 * losses[0], losses


def test_alignment_off_never_trains_student():
    m = make(align=False)
    before = params(m.nets)
    m.learn(2 * N_STEPS * N_ENVS)
    assert not any(changed(before, m.nets).values())


def test_align_epochs_batch_size_and_subset_switch():
    def steps_and_rows(**kw):
        m = rollout_once(make(**kw))
        rows, steps = [], []
        m.nets.student.register_forward_hook(lambda mod, inp, out: rows.append(len(inp[0])))
        m.align_optimizer.step = lambda *a, _s=m.align_optimizer.step, **k: (steps.append(1), _s(*a, **k))
        m.align()
        return len(steps), rows
    n = N_STEPS * N_ENVS
    assert steps_and_rows(align_epochs=4) == (4, [n] * 4 + [n])  # full batch per epoch, + the agreement pass
    assert steps_and_rows(align_epochs=2, align_batch_size=16) == (2 * n // 16, [16] * (2 * n // 16) + [n])
    steps, rows = steps_and_rows(align_epochs=2, align_subset=0.25)
    assert steps == 2 and rows == [n // 4] * 3


def test_separate_student_head_is_trained_and_teacher_head_is_not():
    m = rollout_once(make(shared_head=False))
    head_before, student_head_before = params(m.policy.action_net), params(m.nets.student_head)
    m.align()
    assert not any(changed(head_before, m.policy.action_net).values())
    assert all(changed(student_head_before, m.nets.student_head).values())


# ---------------------------------------------------------------- continuous actions


def test_gaussian_kl_is_torch_kl_with_shared_std():
    m = make(pendulum(N_ENVS), recipe="paper", student_obs_fn=mask_pendulum)
    with th.no_grad():
        m.policy.log_std.fill_(-0.3)
    mu_t, mu_o = th.randn(32, 1), th.randn(32, 1)
    std = th.exp(m.policy.log_std).expand_as(mu_t)
    expected = th.distributions.kl_divergence(th.distributions.Normal(mu_t, std),
                                              th.distributions.Normal(mu_o, std)).sum(-1)
    th.testing.assert_close(kl_divergence(m.policy, mu_t, mu_o), expected)


@pytest.mark.parametrize("recipe", ["release", "paper"])
def test_box_actions_run_all_three_phases(recipe):
    m = make(pendulum(N_ENVS), recipe=recipe, student_obs_fn=mask_pendulum)
    before_nets, before_policy = params(m.nets), params(m.policy)
    m.learn(2 * N_STEPS * N_ENVS)
    assert all(changed(before_nets, m.nets).values())
    assert all(changed(before_policy, m.policy).values())
    actions, _ = m.predict_student(mask_pendulum(m.env.reset()))
    assert actions.shape == (N_ENVS, 1) and np.all(np.abs(actions) <= 2.0)


# ---------------------------------------------------------------- reproducibility, save/load, API


def test_seeded_runs_repeat_bit_for_bit():
    runs = []
    for _ in range(2):
        m = make(seed=7)
        m.learn(2 * N_STEPS * N_ENVS)
        runs.append({**{f"p.{k}": v for k, v in params(m.policy).items()},
                     **{f"n.{k}": v for k, v in params(m.nets).items()}})
    assert runs[0].keys() == runs[1].keys()
    for k in runs[0]:
        assert th.equal(runs[0][k], runs[1][k]), k
    other = make(seed=8)
    other.learn(2 * N_STEPS * N_ENVS)
    assert not th.equal(params(other.nets)["student.0.weight"], runs[0]["n.student.0.weight"])


def test_save_load_round_trip(tmp_path):
    m = make(recipe="paper", reward_coef=0.7, shared_head=False)
    m.learn(N_STEPS * N_ENVS)
    m.save(tmp_path / "model.zip")
    loaded = SITT.load(tmp_path / "model.zip", env=cartpole(N_ENVS), student_obs_fn=mask_cartpole)
    assert loaded.sitt_config == m.sitt_config
    obs = m.env.reset()
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], m.predict(obs, deterministic=True)[0])
    th.testing.assert_close(loaded.student_logits(mask_cartpole(obs)), m.student_logits(mask_cartpole(obs)))
    for a, b in zip(loaded.nets.parameters(), m.nets.parameters()):
        assert th.equal(a, b)
    assert loaded.align_optimizer.state_dict()["state"].keys() == m.align_optimizer.state_dict()["state"].keys()
    loaded.learn(N_STEPS * N_ENVS)  # training continues after loading


def test_predict_student_single_and_batch():
    m = make()
    obs = mask_cartpole(m.env.reset())
    batch, _ = m.predict_student(obs)
    single, _ = m.predict_student(obs[0])
    assert batch.shape == (N_ENVS,) and np.ndim(single) == 0 and single == batch[0]


def test_plain_teacher_has_no_student():
    m = make(reward_term=False, update_term="off", align=False)
    assert m.nets is None
    m.learn(N_STEPS * N_ENVS)
    with pytest.raises(ValueError, match="predict_student"):
        m.predict_student(mask_cartpole(m.env.reset()))


def test_logs_sitt_figures_to_csv(tmp_path):
    from stable_baselines3.common.logger import configure

    m = make()
    m.set_logger(configure(str(tmp_path), ["csv"]))
    m.learn(3 * N_STEPS * N_ENVS)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert len(m.ep_info_buffer) > 0  # episode bookkeeping reads the finished envs' infos
    for key in ("sitt/kl_mean", "sitt/reward_term_mean", "sitt/update_term", "sitt/align_loss", "sitt/agreement",
                "rollout/ep_rew_mean"):
        assert key in header, key


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("kw,field", [
    (dict(recipe="nope"), "recipe"),
    (dict(reward_coef=-1.0), "reward_coef"),
    (dict(update_weight=-0.1), "update_weight"),
    (dict(align_subset=0.0), "align_subset"),
    (dict(align_subset=1.5), "align_subset"),
    (dict(update_term="l2"), "update_term"),
    (dict(reward_sign=0), "reward_sign"),
    (dict(align_epochs=0), "align_epochs"),
    (dict(kl_source="teacher"), "kl_source"),
    (dict(proxy_net_arch=[64], proxy_activations=["relu", "tanh"]), "proxy_activations"),
    (dict(not_a_switch=1), "not_a_switch"),
])
def test_bad_config_raises_naming_the_field(kw, field):
    recipe = kw.pop("recipe", "release")
    with pytest.raises(ValueError, match=f"^{field}"):
        make(recipe=recipe, **kw)


def test_env_without_student_view_is_refused_before_training():
    with pytest.raises(ValueError, match="^student_obs_fn"):
        SITT("MlpPolicy", cartpole(N_ENVS), n_steps=N_STEPS)
    # a plain teacher needs no student view
    SITT("MlpPolicy", cartpole(N_ENVS), n_steps=N_STEPS, reward_term=False, update_term="off", align=False)


def test_config_round_trip_and_recipes_differ():
    release, paper = SITTConfig.from_recipe("release"), SITTConfig.from_recipe("paper")
    assert (release.reward_sign, release.update_term) == (1, "feature_l1")
    assert (paper.reward_sign, paper.update_term) == (-1, "kl")
    assert SITTConfig(**release.to_dict()) == release
