"""The flight walkthrough's helpers (fov_flight/walkthrough.py, notebook 05_walkthrough_flight): the tiny model is the
study's sitt_paper arm at a small scale, the hand-computed Gaussian KL is SITT's, the roll-out's reward term is
-lambda1 x KL at every step, each phase moves exactly its parameter groups, and the raw/clipped distances are
accounted for by the saturated entries."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from matplotlib.figure import Figure

from fov_flight import walkthrough as w
from sitt.distributions import kl_divergence

th.set_num_threads(1)


@pytest.fixture(scope="module")
def stepped():
    """A tiny smoke-profile model stepped through one iteration by hand, with what the notebook keeps on the way."""
    model, config = w.tiny_model("smoke", seed=3, n_envs=3, n_steps=12)
    callback = w.start_learning(model, 10 * 3 * 12)
    worlds_flown = model.get_env().world_index.copy()
    w.raw_rollout(model, callback)
    env_rewards = model.rollout_buffer.rewards.copy()
    obs = model.rollout_buffer.observations.reshape(-1, model.observation_space.shape[0])
    means = w.head_means(model, obs)
    model.rollout_reward_term(model.rollout_buffer)
    table = w.rollout_table(model, env_rewards)
    before = w.snapshot(model)
    model.policy_update()
    after_update = w.snapshot(model)
    model.align()
    after_align = w.snapshot(model)
    return dict(model=model, config=config, worlds_flown=worlds_flown, means=means, table=table, before=before,
                after_update=after_update, after_align=after_align)


@pytest.mark.parametrize("kwargs, needle", [
    (dict(n_envs=0), "n_envs: got 0"),
    (dict(n_envs=True), "n_envs: got True"),
    (dict(n_steps=1), "n_steps: got 1"),
    (dict(warmup_iterations=-1), "warmup_iterations: got -1"),
    (dict(seed=-2), "seed: got -2"),
    (dict(env_index=4), "env_index: got 4; allowed: an integer in [0, n_envs - 1 = 3]"),
    (dict(env_index=1.0), "env_index: got 1.0"),
])
def test_bad_parameters_are_named(kwargs, needle):
    good = dict(n_envs=4, n_steps=16, warmup_iterations=1, seed=0, env_index=0)
    w.check_parameters(**good)
    with pytest.raises(ValueError) as info:
        w.check_parameters(**{**good, **kwargs})
    assert needle in str(info.value)


def test_the_tiny_model_is_the_studys_paper_arm_at_a_small_scale(stepped):
    from study.presets import preset

    model, config = stepped["model"], stepped["config"]
    arm = preset(w.EXPERIMENT, w.ARM, 3, "smoke")
    cfg = model.sitt_config
    assert (cfg.recipe, cfg.reward_sign, cfg.update_term, cfg.kl_grad_log_std) == ("paper", -1, "kl", True)
    for key, value in arm.switches.items():
        assert getattr(cfg, key) == value
    assert cfg.reward_coef == arm.switches["reward_coef"] == 0.05
    assert (model.n_envs, model.n_steps, model.batch_size) == (3, 12, 36)
    assert config.env.flight == arm.env.flight  # the profile's world, body and views unchanged
    assert model.policy.log_std.shape == (3,)


def test_kl_by_hand_is_sittss_gaussian_kl(stepped):
    model = stepped["model"]
    rng = np.random.default_rng(0)
    mu_t, mu_o = rng.normal(0, 1.5, (50, 3)), rng.normal(0, 1.5, (50, 3))
    sigma = np.exp(w.log_std(model))
    ours = w.kl_by_hand(mu_t, mu_o, sigma)
    theirs = kl_divergence(model.policy, th.as_tensor(mu_t, dtype=th.float32),
                           th.as_tensor(mu_o, dtype=th.float32)).double().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert np.allclose(w.kl_terms(mu_t, mu_o, sigma).sum(1), ours)
    assert (w.kl_by_hand(mu_t, mu_t, sigma) == 0).all()


def test_the_rollout_term_is_minus_lambda1_kl_at_every_step(stepped):
    model, table = stepped["model"], stepped["table"]
    T, E = model.rollout_buffer.rewards.shape
    assert len(table) == T * E and (table.groupby("step")["env"].apply(list) == [list(range(E))] * T).all()
    check = w.rollout_check(table)
    assert check["max |KL by hand - KL sitt|"] < 1e-6
    assert check["max |term in buffer - sign lambda1 KL|"] < 1e-5
    assert (table["kl_by_hand"] > 0).all() and (table["term_in_buffer"] <= 0).all()
    np.testing.assert_allclose(table["sign_lambda1_kl"], -0.05 * table["kl_by_hand"])
    # the same means as the notebook keeps for the distances
    np.testing.assert_allclose(w.kl_by_hand(stepped["means"]["teacher"], stepped["means"]["proxy"],
                                            np.exp(stepped["before"]["policy.log_std"])), table["kl_by_hand"])


def test_each_phase_moves_exactly_its_groups(stepped):
    update = w.changes(stepped["before"], stepped["after_update"])
    align = w.changes(stepped["after_update"], stepped["after_align"])
    assert list(update.index) == list(w.PARAMETER_GROUPS)
    teacher = ["teacher MLP", "shared head", "shared log-std", "critic"]
    assert update.loc[teacher, "changed"].all() and not update.loc[["student", "proxy"], "changed"].any()
    assert align.loc[["student", "proxy"], "changed"].all() and not align.loc[teacher, "changed"].any()
    model = stepped["model"]
    n_values = sum(p.numel() for p in model.policy.parameters()) + sum(p.numel() for p in model.nets.parameters())
    assert update["values"].sum() == n_values
    assert update.loc["shared log-std", "values"] == 3


def test_parameter_groups_name_every_parameter():
    assert w.parameter_group("policy", "log_std") == "shared log-std"
    assert w.parameter_group("policy", "action_net.weight") == "shared head"
    assert w.parameter_group("policy", "mlp_extractor.policy_net.0.weight") == "teacher MLP"
    assert w.parameter_group("policy", "value_net.bias") == "critic"
    assert w.parameter_group("nets", "student_head.weight") == "student"
    assert w.parameter_group("nets", "proxy.0.weight") == "proxy"
    with pytest.raises(ValueError, match="parameter policy.extra: in none of the groups"):
        w.parameter_group("policy", "extra")
    with pytest.raises(ValueError, match="different parameters"):
        w.changes({"policy.log_std": np.zeros(3)}, {})


def test_raw_and_clipped_distances_are_accounted_for_by_saturated_entries(stepped):
    model = stepped["model"]
    sigma = np.exp(w.log_std(model))
    # inside the bounds: the two distances are equal and nothing is saturated
    inside = w.action_distance_table(model, stepped["means"]["teacher"], stepped["means"]["proxy"])
    assert inside.loc["all", "raw KL"] == pytest.approx(inside.loc["all", "clipped KL"])
    assert inside.loc["all", "raw KL from saturated"] == 0 and inside.loc["all", "saturated share"] == 0
    # by hand: dimension 0 of sample 0 beyond the same bound on both sides (clipped term 0), sample 1 inside
    mu_t = np.array([[1.5, 0.2, 0.0], [0.5, 0.2, 0.0]])
    mu_o = np.array([[1.2, 0.0, 0.0], [0.1, 0.0, 0.0]])
    table = w.action_distance_table(model, mu_t, mu_o)
    raw = w.kl_terms(mu_t, mu_o, sigma)
    assert table.loc["accel x", "saturated share"] == 0.5 and table.loc["accel y", "saturated share"] == 0
    assert table.loc["all", "raw KL from saturated"] == pytest.approx(raw[0, 0] / raw.sum())
    assert table.loc["accel x", "clipped KL"] == pytest.approx(raw[1, 0] / 2)
    assert table.loc["all", "raw KL"] - table.loc["all", "clipped KL"] == pytest.approx(raw[0, 0] / 2)
    # the totals are SITT's raw and clipped KL
    rng = np.random.default_rng(1)
    mu_t, mu_o = rng.normal(0, 1.5, (40, 3)), rng.normal(0, 1.5, (40, 3))
    table = w.action_distance_table(model, mu_t, mu_o)
    assert table.loc["all", "raw KL"] == pytest.approx(table.loc["all", "sitt raw"], rel=1e-5)
    assert table.loc["all", "clipped KL"] == pytest.approx(table.loc["all", "sitt clipped"], rel=1e-5)
    assert 0 < table.loc["all", "raw KL from saturated"] < 1
    assert table.loc["all", "clipped KL"] < table.loc["all", "raw KL"]


def test_clipping_example():
    model, _ = w.tiny_model("smoke", seed=0, n_envs=2, n_steps=4)
    ex = w.clipping_example(model, pairs=((0.3, -0.2), (1.4, 2.5), (0.5, 1.5)))
    assert ex.loc[0, "raw KL term"] == pytest.approx(ex.loc[0, "clipped KL term"])
    assert ex.loc[1, "clipped KL term"] == 0 and ex.loc[1, "raw KL term"] > 0
    assert list(ex["other executes"]) == [-0.2, 1.0, 1.0]
    sigma = float(np.exp(w.log_std(model))[0])
    assert ex.loc[2, "clipped KL term"] == pytest.approx(0.5 * (0.5 / sigma) ** 2)


def test_views_of_one_state(stepped):
    model, config = stepped["model"], stepped["config"]
    flight = config.env.flight
    state = w.scripted_state(config, world=1, step=10)
    assert state["obs"].shape == (1, flight.obs_dim) and state["step"] == 10
    teacher = w.teacher_table(state["obs"][0], flight)
    student = w.student_table(model.student_obs_fn(state["obs"])[0], flight)
    assert len(teacher) == 6 + 3 * flight.k_nearest and len(student) == 6 + flight.n_rays
    assert teacher.loc[0, "in m or m/s"] == pytest.approx(state["pos"][0], abs=1e-4)
    assert student["entry"].iloc[-1] == f"ray {flight.n_rays - 1} depth / R"
    seen = w.who_sees_what(model, state["obs"][0]).set_index("network")
    assert seen.loc["teacher", "KL(teacher || it)"] == 0 and (seen["KL(teacher || it)"] >= 0).all()
    assert seen.loc["student", "fed"] == f"student view ({6 + flight.n_rays} entries)"
    with pytest.raises(ValueError, match="world: got 99"):
        w.scripted_state(config, world=99)


def test_a_flight_of_the_rollout_and_its_figure(stepped):
    model, config, table = stepped["model"], stepped["config"], stepped["table"]
    flight = config.env.flight
    flown = w.rollout_flight(model, flight, env_index=1)
    n = len(flown["pos"])
    assert 1 <= n <= model.n_steps and flown["yaw"].shape == (n,)
    assert (table.loc[flown["rows"], "env"] == 1).all() and list(table.loc[flown["rows"], "step"]) == list(range(n))
    assert (flown["pos"][:, 0] > 0).all() and (np.abs(flown["pos"][:, 1]) < flight.width / 2).all()
    env = model.get_env()
    fig = w.kl_path_figure(env.worlds, int(stepped["worlds_flown"][1]), flight, flown["pos"], flown["yaw"],
                           table["kl_by_hand"].to_numpy()[flown["rows"]], title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # the world and the colour bar
