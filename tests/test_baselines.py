"""The baselines (sitt.baselines): BC and DAgger students of a fixed teacher, and the teacher constructors.

The fixed Discrete teacher is a hand-set CartPole controller in an SB3 MlpPolicy (push right when
theta + 0.5 * theta_dot > 0, with soft logits): it balances for the whole roll-out, so its state distribution is
narrow, and a student that acts on its own visits other states. Students in the agreement tests are fresh networks
(``net_arch``), so their agreement starts near chance and has to be learnt.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch as th

from sitt.baselines import (
    StudentPolicy,
    behaviour_cloning,
    beta_schedule,
    dagger,
    evaluate_fit,
    fit_student,
    plain_teacher,
    rollout,
    teacher_outputs,
    without_alignment,
)
from tests.sitt_helpers import Recorder, cartpole, mask_cartpole, mask_pendulum, pendulum

N_ENVS = 4
FRESH = [64, 64]  # a student encoder of its own: it does not start as a copy of the teacher


def identity(obs: np.ndarray) -> np.ndarray:
    return obs


def state(module: th.nn.Module) -> dict[str, th.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same_state(before: dict[str, th.Tensor], module: th.nn.Module) -> None:
    after = module.state_dict()
    assert before.keys() == after.keys()
    for k in before:
        assert th.equal(before[k], after[k]), k


def linear_cartpole_teacher():
    """A plain-PPO model whose policy is set by hand: logit(right) - logit(left) = 6 tanh(2 tanh(2 (theta + 0.5
    theta_dot))). Only the teacher's policy MLP and head are set; the critic stays as initialised (unused here)."""
    model = plain_teacher(cartpole(N_ENVS), n_steps=16, seed=0)
    policy = model.policy
    net = policy.mlp_extractor.policy_net
    with th.no_grad():
        for layer in (net[0], net[2], policy.action_net):
            layer.weight.zero_()
            layer.bias.zero_()
        net[0].weight[0] = th.tensor([0.0, 0.0, 2.0, 1.0])
        net[2].weight[0, 0] = 2.0
        policy.action_net.weight[:, 0] = th.tensor([-3.0, 3.0])
    return model  # left trainable (requires_grad): the tests check that the baselines never change it


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def teacher():
    return linear_cartpole_teacher()


def held_out_states(teacher_model, n_steps=96, seed=123):
    env = cartpole(N_ENVS, seed=seed)
    return rollout(env, teacher_model.policy, n_steps, generator=th.Generator().manual_seed(seed)).teacher_obs


# ---------------------------------------------------------------- the student


def test_student_copies_teacher_but_shares_no_tensor(teacher):
    student = StudentPolicy(teacher.policy)
    obs = held_out_states(teacher, n_steps=8)
    fit = evaluate_fit(student, teacher.policy, obs, obs)
    assert fit["loss"] == pytest.approx(0.0, abs=1e-7) and fit["agreement"] == 1.0  # a copy acts as the teacher
    teacher_ptrs = {p.data_ptr() for p in teacher.policy.parameters()}
    assert teacher_ptrs.isdisjoint(p.data_ptr() for p in student.parameters())
    assert all(p.requires_grad for p in student.parameters())  # encoder and head both trainable
    frozen = copy.deepcopy(teacher.policy).requires_grad_(False)
    assert all(p.requires_grad for p in StudentPolicy(frozen).parameters())  # even from a frozen teacher
    # another input size: a fresh encoder with the teacher's hidden sizes (issue 13: the default works)
    fresh = StudentPolicy(teacher.policy, student_obs_shape=(6,))
    assert [m.out_features for m in fresh.encoder if isinstance(m, th.nn.Linear)] == [64, 64]
    assert fresh.predict(np.zeros((3, 6), np.float32))[0].shape == (3,)
    with pytest.raises(ValueError, match="^net_arch"):
        StudentPolicy(teacher.policy, student_obs_shape=(6,), copy_teacher=True)  # a copy needs the teacher's size
    with pytest.raises(ValueError, match="^net_arch"):
        StudentPolicy(teacher.policy, net_arch=[32, 16])  # must end in the teacher's feature size (64)


def test_student_predict_act_fn_and_save_load(teacher, tmp_path):
    student = StudentPolicy(teacher.policy, net_arch=FRESH, seed=1)
    obs = held_out_states(teacher, n_steps=4)
    batch, none = student.predict(obs)
    single, _ = student.predict(obs[0])
    assert none is None and batch.shape == (len(obs),) and batch.dtype == np.int64
    assert np.ndim(single) == 0 and single == batch[0]
    np.testing.assert_array_equal(student.act_fn()(obs), batch)
    masked = student.act_fn(mask_cartpole)(obs)  # teacher obs in, masked first
    np.testing.assert_array_equal(masked, student.predict(mask_cartpole(obs))[0])
    student.save(tmp_path / "student.pt")
    loaded = StudentPolicy.load(tmp_path / "student.pt", teacher.policy)
    th.testing.assert_close(loaded.logits(obs), student.logits(obs))
    other = StudentPolicy(teacher.policy, net_arch=FRESH, seed=2)
    assert not th.allclose(other.logits(obs), student.logits(obs))  # the seed matters; the load restored weights


def test_fit_student_reduces_kl_and_never_touches_the_teacher(teacher):
    before = state(teacher.policy)
    obs = held_out_states(teacher, n_steps=32)
    student = StudentPolicy(teacher.policy, net_arch=FRESH, seed=0)
    losses = fit_student(student, teacher.policy, obs, obs, epochs=8, batch_size=32, lr=3e-3, seed=0)
    assert len(losses) == 8 and losses[-1] < 0.2 * losses[0], losses
    assert_same_state(before, teacher.policy)
    assert all(p.grad is None for p in teacher.policy.parameters()) and teacher.policy.training


def test_rollout_records_the_observation_each_action_was_taken_from(teacher):
    policy = teacher.policy
    greedy = rollout(cartpole(N_ENVS), policy, 16, deterministic_teacher=True)
    labels = teacher_outputs(policy, greedy.teacher_obs).argmax(-1).numpy()
    np.testing.assert_array_equal(greedy.actions, labels)
    sampled = rollout(cartpole(N_ENVS), policy, 64, generator=th.Generator().manual_seed(0))
    assert 0 < (sampled.actions != teacher_outputs(policy, sampled.teacher_obs).argmax(-1).numpy()).sum()
    student = StudentPolicy(policy, net_arch=FRESH, seed=0)
    by_student = rollout(cartpole(N_ENVS), policy, 16, beta=0.0, student=student, student_obs_fn=mask_cartpole)
    assert by_student.student_acted.all() and by_student.teacher_obs.shape == (16 * N_ENVS, 4)
    np.testing.assert_array_equal(by_student.actions, student.predict(mask_cartpole(by_student.teacher_obs))[0])


# ---------------------------------------------------------------- BC


def test_bc_reaches_teacher_agreement_on_held_out_states(teacher):
    before = state(teacher.policy)
    student, info = behaviour_cloning(
        teacher, cartpole(N_ENVS), identity, n_steps_per_env=128, epochs=30, batch_size=64, lr=3e-3, seed=0,
        net_arch=FRESH,
    )
    assert info["dataset_size"] == 128 * N_ENVS
    assert info["initial_agreement"] < 0.8  # a fresh student starts far from the teacher
    assert info["agreement"] >= 0.95 and info["final_loss"] < 0.1 * info["losses"][0]
    held_out = held_out_states(teacher)
    assert evaluate_fit(student, teacher.policy, held_out, held_out)["agreement"] >= 0.95
    assert_same_state(before, teacher.policy)


def test_bc_box_actions_reduce_the_loss():
    model = plain_teacher(pendulum(N_ENVS), n_steps=16, batch_size=64, n_epochs=1, seed=0)
    model.learn(16 * N_ENVS)  # a teacher that has been trained (its distribution object holds graph tensors)
    with th.no_grad():
        model.policy.action_net.weight.mul_(300.0)  # SB3's head starts near zero: give the means a spread
    before = state(model.policy)
    student, info = behaviour_cloning(
        model, pendulum(N_ENVS), identity, n_steps_per_env=64, epochs=15, batch_size=64, lr=3e-3, seed=0,
        net_arch=FRESH,
    )
    losses = info["losses"]
    assert losses[0] > 0.1 and info["final_loss"] < 0.1 * losses[0], losses
    assert info["agreement"] > 0.95 > info["initial_agreement"]  # mean exp(-KL) on the dataset
    th.testing.assert_close(student.log_std, model.policy.log_std)  # samples use the teacher's std
    actions, _ = student.predict(mask_pendulum(pendulum(N_ENVS).reset()), deterministic=False)
    assert actions.shape == (N_ENVS, 1) and actions.dtype == np.float32 and np.all(np.abs(actions) <= 2.0)
    assert_same_state(before, model.policy)


# ---------------------------------------------------------------- DAgger


def test_beta_schedule():
    assert beta_schedule(4, 1.0, 0.5) == [1.0, 0.5, 0.25, 0.125]
    assert beta_schedule(3, 0.8, 0.0) == [0.8, 0.0, 0.0]


def test_dagger_aggregates_student_visited_states_and_reaches_agreement(teacher):
    before = state(teacher.policy)
    n_new = 64 * N_ENVS
    student, info = dagger(
        teacher, cartpole(N_ENVS), identity, iterations=4, n_steps_per_env=64, beta0=1.0, beta_decay=0.5,
        epochs=15, batch_size=64, lr=3e-3, seed=0, net_arch=FRESH,
    )
    assert info["betas"] == [1.0, 0.5, 0.25, 0.125]
    assert info["dataset_sizes"] == [n_new, 2 * n_new, 3 * n_new, 4 * n_new]  # the dataset grows every iteration
    np.testing.assert_array_equal(info["iteration"], np.repeat(np.arange(4), n_new))  # earlier states are kept
    shares = info["student_share"]
    assert shares[0] == 0.0 and all(abs(s - (1 - b)) < 0.1 for s, b in zip(shares[1:], info["betas"][1:])), shares
    for i, share in enumerate(shares):
        assert info["student_acted"][info["iteration"] == i].mean() == share
    assert len(info["losses"]) == 4 and all(len(losses) == 15 for losses in info["losses"])
    assert info["agreement"][-1] >= 0.95
    held_out = held_out_states(teacher)
    assert evaluate_fit(student, teacher.policy, held_out, held_out)["agreement"] >= 0.95
    assert_same_state(before, teacher.policy)


def test_dagger_with_beta0_zero_visits_the_students_states(teacher):
    kw = dict(iterations=1, n_steps_per_env=64, epochs=1, batch_size=64, lr=3e-3, seed=5, net_arch=FRESH)
    _, student_led = dagger(teacher, cartpole(N_ENVS), identity, beta0=0.0, **kw)
    _, teacher_led = dagger(teacher, cartpole(N_ENVS), identity, beta0=1.0, **kw)
    assert student_led["student_share"] == [1.0] and student_led["student_acted"].all()
    assert teacher_led["student_share"] == [0.0] and not teacher_led["student_acted"].any()
    a, b = student_led["teacher_obs"], teacher_led["teacher_obs"]
    np.testing.assert_array_equal(a[:N_ENVS], b[:N_ENVS])  # same seed, same first states
    assert not np.allclose(a[N_ENVS:], b[N_ENVS:])  # then the student's actions lead elsewhere
    # the untrained student does not balance: its states spread wider in angle than the teacher's
    assert np.abs(a[:, 2]).mean() > 2 * np.abs(b[:, 2]).mean()


def test_dagger_is_reproducible_per_seed(teacher):
    kw = dict(iterations=2, n_steps_per_env=32, beta0=0.5, epochs=3, batch_size=32, lr=3e-3, net_arch=FRESH)
    runs = [dagger(teacher, cartpole(N_ENVS), identity, seed=s, **kw) for s in (3, 3, 4)]
    (s1, i1), (s2, i2), (s3, i3) = runs
    assert_same_state(state(s1), s2)
    np.testing.assert_array_equal(i1["teacher_obs"], i2["teacher_obs"])
    np.testing.assert_array_equal(i1["student_acted"], i2["student_acted"])
    assert i1["losses"] == i2["losses"]
    assert not np.array_equal(i1["student_acted"], i3["student_acted"])
    assert not th.equal(s1.encoder[0].weight, s3.encoder[0].weight)


# ---------------------------------------------------------------- teacher constructors


def test_plain_teacher_has_all_phases_off():
    model = plain_teacher(cartpole(N_ENVS), n_steps=16, seed=0)
    cfg = model.sitt_config
    assert (cfg.reward_term, cfg.update_term, cfg.align) == (False, "off", False)
    assert model.nets is None and not cfg.uses_student
    with pytest.raises(ValueError, match="^align"):
        plain_teacher(cartpole(N_ENVS), align=True)


def test_without_alignment_aligns_the_student_to_a_plain_ppo_teacher():
    n_steps = 32
    env = Recorder(cartpole(N_ENVS))
    model = without_alignment(
        env, mask_cartpole, n_steps=n_steps, batch_size=64, n_epochs=2, align_epochs=3, align_lr=1e-3, seed=0
    )
    cfg = model.sitt_config
    assert (cfg.reward_term, cfg.update_term, cfg.align) == (False, "off", True) and model.nets is not None
    with pytest.raises(ValueError, match="^reward_term"):
        without_alignment(cartpole(N_ENVS), mask_cartpole, reward_term=True)
    student_before, teacher_before = state(model.nets), state(model.policy)
    model.learn(3 * n_steps * N_ENVS)
    assert any(not th.equal(v, model.nets.state_dict()[k]) for k, v in student_before.items())  # aligned
    assert any(not th.equal(v, model.policy.state_dict()[k]) for k, v in teacher_before.items())  # PPO trained it
    env_rewards = np.stack(env.rewards[-n_steps:]).astype(np.float32)  # (T, E) of the last roll-out
    np.testing.assert_array_equal(model.rollout_buffer.rewards, env_rewards)  # no SITT reward term
    assert model.predict_student(mask_cartpole(env.reset()))[0].shape == (N_ENVS,)
