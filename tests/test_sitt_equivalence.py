"""The optimised phases compute what a plain implementation computes (same losses and gradients to float tolerance).

Plain references here follow the authors' release line by line: SB3's ``evaluate_actions`` on every sample, the
teacher's features recomputed in every alignment epoch, ``F.l1_loss`` on all samples, the head frozen by
``requires_grad``. The optimised code groups repeated observations (:mod:`sitt.dedup`), caches what a phase does
not change, and applies heads with detached parameters.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from torch.nn import functional as F

from color_maze import ColorMazeEnv
from sitt import SITT
from sitt.algorithm import flatten_env_major
from sitt.dedup import groups_for, unique_rows
from tests.test_sitt_algorithm import rollout_once, sharpen

N_ENVS, N_STEPS = 64, 32


def maze_model(dedup: bool, **kw) -> SITT:
    env = ColorMazeEnv(n_envs=N_ENVS, seed=3)
    kw.setdefault("n_epochs", 1)
    kw.setdefault("batch_size", N_ENVS * N_STEPS)
    return sharpen(SITT("MlpPolicy", env, n_steps=N_STEPS, seed=5, dedup=dedup, align_epochs=1, **kw), scale=30.0)


def captured_grads(model, optimizer, run):
    """Run ``run()`` and return the gradients present at the first ``optimizer.step``."""
    grads = []
    original = optimizer.step

    def step(*a, **k):
        if not grads:
            grads.append({id(p): p.grad.clone() for grp in optimizer.param_groups for p in grp["params"]
                          if p.grad is not None})
        return original(*a, **k)

    optimizer.step = step
    run()
    optimizer.step = original
    return grads[0]


def test_unique_rows_groups_exactly_and_declines_continuous_data():
    x = th.tensor([[1.0, -2.0], [3.0, 4.0], [1.0, -2.0], [1.0, -2.0], [3.0, 4.0], [0.0, 0.0]] * 3)
    first, inverse = unique_rows(x, max_fraction=1.0)
    assert len(first) == 3
    assert th.equal(x[first][inverse], x)
    g = groups_for(None, inverse)
    assert g.counts.tolist() == [3, 9, 6]  # rows in key order: (0, 0), (1, -2), (3, 4)
    per_row = th.tensor([1.0, 2.0, 3.0])
    assert th.isclose(g.mean(per_row), g.per_sample(per_row).mean())
    assert unique_rows(x + 0.5) is None  # not integral
    assert unique_rows(th.arange(20.0).reshape(10, 2)) is None  # all rows distinct: grouping would not pay


def test_maze_rollouts_repeat_observations():
    m = rollout_once(maze_model(True))
    assert m._iteration["inverse"] is not None and len(m._iteration["rows"]) < 0.5 * m._iteration["n"]


def test_grouped_rollout_term_equals_per_sample():
    a, b = rollout_once(maze_model(True)), rollout_once(maze_model(False))
    np.testing.assert_array_equal(a.rollout_buffer.observations, b.rollout_buffer.observations)
    np.testing.assert_allclose(a.rollout_buffer.rewards, b.rollout_buffer.rewards, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a.rollout_buffer.advantages, b.rollout_buffer.advantages, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("recipe", ["release", "paper"])
@pytest.mark.parametrize("batch_size", [None, 512])
def test_grouped_policy_update_equals_per_sample(recipe, batch_size):
    kw = dict(recipe=recipe, n_epochs=2)
    if batch_size:
        kw["batch_size"] = batch_size
    a, b = rollout_once(maze_model(True, **kw)), rollout_once(maze_model(False, **kw))
    np.random.seed(0)
    a.policy_update()
    np.random.seed(0)
    b.policy_update()
    for (name, pa), pb in zip(a.policy.named_parameters(), b.policy.parameters()):
        th.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5, msg=name)


def release_policy_update_reference(model) -> dict[int, th.Tensor]:
    """Gradient of one full-batch step of the release's loss: SB3 PPO loss + 0.01 * L1(policy_net(obs), proxy(obs))."""
    buf = model.rollout_buffer
    obs = th.as_tensor(flatten_env_major(buf.observations), dtype=th.float32)
    actions = th.as_tensor(flatten_env_major(buf.actions)).long().flatten()
    values, log_prob, entropy = model.policy.evaluate_actions(obs, actions)
    adv = th.as_tensor(flatten_env_major(buf.advantages))
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    ratio = th.exp(log_prob - th.as_tensor(flatten_env_major(buf.log_probs)))
    policy_loss = -th.min(adv * ratio, adv * th.clamp(ratio, 0.8, 1.2)).mean()
    value_loss = F.mse_loss(th.as_tensor(flatten_env_major(buf.returns)), values.flatten())
    loss = policy_loss + model.ent_coef * -th.mean(entropy) + model.vf_coef * value_loss
    teacher_feat = model.policy.mlp_extractor.policy_net(obs)
    with th.no_grad():
        proxy_feat = model.nets.proxy(obs)
    loss = loss + 0.01 * F.l1_loss(teacher_feat, proxy_feat.detach())
    model.policy.optimizer.zero_grad()
    loss.backward()
    th.nn.utils.clip_grad_norm_(model.policy.parameters(), model.max_grad_norm)
    return {id(p): p.grad.clone() for p in model.policy.parameters()}


@pytest.mark.parametrize("dedup", [True, False])
def test_policy_update_gradient_equals_release_reference(dedup):
    m = rollout_once(maze_model(dedup, n_epochs=1))
    reference = release_policy_update_reference(m)
    ours = captured_grads(m, m.policy.optimizer, m.policy_update)
    for name, p in m.policy.named_parameters():
        th.testing.assert_close(ours[id(p)], reference[id(p)], rtol=1e-4, atol=1e-6, msg=name)


def release_alignment_reference(model) -> tuple[float, dict[int, th.Tensor]]:
    """Loss and gradients of one release alignment step (ppo_toy.align_policy), on every sample."""
    obs_np = flatten_env_major(model.rollout_buffer.observations).astype(np.float32)
    teacher_obs = th.from_numpy(obs_np)
    student_obs = th.from_numpy(model.env.student_obs(obs_np).astype(np.float32))
    for p in model.policy.action_net.parameters():
        p.requires_grad = False
    student_feat = model.nets.student(student_obs)
    teacher_feat = model.policy.mlp_extractor.policy_net(teacher_obs)
    proxy_feat = model.nets.proxy(teacher_obs)
    loss = F.l1_loss(student_feat, teacher_feat.detach()) + F.l1_loss(student_feat.detach(), proxy_feat)
    t_out = model.policy.action_net(teacher_feat.detach())
    s_out = model.policy.action_net(student_feat)
    p_out = model.policy.action_net(proxy_feat)
    loss = loss + F.l1_loss(s_out, t_out.detach()) + F.l1_loss(s_out.detach(), p_out)
    model.align_optimizer.zero_grad()
    loss.backward()
    for p in model.policy.action_net.parameters():
        p.requires_grad = True
    return loss.item(), {id(p): p.grad.clone() for p in model.nets.parameters()}


@pytest.mark.parametrize("dedup", [True, False])
def test_alignment_loss_and_gradient_equal_release_reference(dedup):
    m = rollout_once(maze_model(dedup))
    ref_loss, reference = release_alignment_reference(m)
    teacher_before = {k: v.clone() for k, v in m.policy.state_dict().items()}
    ours = captured_grads(m, m.align_optimizer, m.align)
    assert m.logger.name_to_value["sitt/align_loss"] == pytest.approx(ref_loss, rel=1e-5)
    for name, p in m.nets.named_parameters():
        th.testing.assert_close(ours[id(p)], reference[id(p)], rtol=1e-4, atol=1e-7, msg=name)
    for k, v in m.policy.state_dict().items():
        assert th.equal(v, teacher_before[k]), k


def test_rollout_loop_equals_sb3_loop_including_timeout_bootstrap():
    """SITT's roll-out loop (timeouts bootstrapped in one batch over finished envs) fills the buffer exactly as SB3's
    ``OnPolicyAlgorithm.collect_rollouts`` (a Python loop over every env) does, on open grids where episodes end
    by timeouts."""
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    grids = np.zeros((16, 5, 5), dtype=np.int8)  # no lava: episodes end by success or by timeout (26 steps)

    def model():
        env = ColorMazeEnv.from_grids(grids, margin_size=1)
        m = SITT("MlpPolicy", env, n_steps=64, batch_size=1024, seed=2, reward_term=False)
        _, callback = m._setup_learn(10**6, callback=None)
        callback.on_training_start(locals(), globals())
        return m, callback

    ours, cb_ours = model()
    sb3, cb_sb3 = model()
    timeouts = []
    original_step = sb3.env.step_wait

    def counting_step():
        out = original_step()
        timeouts.extend(i for i, info in enumerate(out[3]) if info.get("TimeLimit.truncated"))
        return out

    sb3.env.step_wait = counting_step
    th.manual_seed(0)  # both models sample their actions from torch's global generator
    assert ours.collect_rollouts(ours.env, cb_ours, ours.rollout_buffer, 64)
    th.manual_seed(0)
    assert OnPolicyAlgorithm.collect_rollouts(sb3, sb3.env, cb_sb3, sb3.rollout_buffer, 64)
    assert len(timeouts) > 5  # the bootstrap path is exercised
    a, b = ours.rollout_buffer, sb3.rollout_buffer
    np.testing.assert_array_equal(a.observations, b.observations)
    np.testing.assert_array_equal(a.actions, b.actions)
    np.testing.assert_allclose(a.rewards, b.rewards, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(a.advantages, b.advantages, rtol=1e-5, atol=1e-5)
    assert len(ours.ep_info_buffer) == len(sb3.ep_info_buffer) > 0
