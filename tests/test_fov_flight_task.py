"""The flight task in the study (fov_flight/task.py, tables.py, figures.py, notebooks/50_fov_flight.py): config
validation, the fixed held-out worlds and their fingerprint, evaluation rows against fov_flight.evaluate, the student
views, plain SITT = SB3 PPO on this env, a smoke sweep of every arm end to end with its tables, figures and claims,
and the generic additions it needed in study/ (student_view, imitation.student_net_arch, lower-is-better claims)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch as th  # noqa: E402

from fov_flight import FlightConfig, FovFlightEnv, generate_worlds, worlds_sha256  # noqa: E402
from fov_flight import figures as fov_figures, tables as fov_tables  # noqa: E402
from fov_flight.evaluate import COLUMNS, evaluate  # noqa: E402
from fov_flight.scripted import ScriptedPilot  # noqa: E402
from fov_flight.design import (  # noqa: E402
    ARMS, BUDGET_EXPERIMENT, CLAIMS, GRID, GRID_EXPERIMENT, MAIN, MAIN_ARMS, PREMISE_ARMS_ORDER, PREMISE_EXPERIMENT,
    PROFILES, TUNING, FlightEnvConfig, FlightEvalConfig,
)
from fov_flight.task import TASK, held_out_worlds, scan360_rays  # noqa: E402
from fov_flight.views import scan_world, student_obs  # noqa: E402
from study import claims, io, load, report  # noqa: E402
from study.config import ExperimentConfig, ImitationConfig  # noqa: E402
from study.params import check_notebook_parameters, notebook_defaults  # noqa: E402
from study.presets import COMMON_ARMS, PLAIN, experiment_configs, preset  # noqa: E402
from study.registry import get_task  # noqa: E402
from study.task import SweepPlan, check_rows, student_view_fn  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

#: the default held-out set's fingerprint: 200 worlds of the profiles' world (8 pillars) from seed 20250311 (pins the
#: generator; every committed run's provenance records it as eval_set_sha256)
DEFAULT_HELD_OUT_SHA = "82600097ce13419e25ea847345cfeb0e927fa4c8bd31195361cf1f0f71e34dd8"


# ------------------------------------------------------------------------------------------------ configs


def test_the_task_is_registered_with_its_experiment_profiles_and_arms():
    assert get_task("fov_flight") is TASK
    assert TASK.experiments == {MAIN: (*MAIN_ARMS, "sitt_tuned"),
                                TUNING: ("plain_teacher", "without_alignment", "sitt_paper", "sitt_release", "bc",
                                         "bc_scan360", "bc_teacher_obs"),
                                PREMISE_EXPERIMENT: PREMISE_ARMS_ORDER,
                                GRID_EXPERIMENT: ("without_alignment", "without_alignment_clipped", "bc", "bc_clipped",
                                                  "dagger", "dagger_clipped", "cosil", "cosil_clipped", *GRID.arms(),
                                                  "sitt_l1_0.05_l2_0.01_clipped_align_lr_1e-3",
                                                  "without_alignment_align_lr_1e-3"),
                                BUDGET_EXPERIMENT: ("sitt_tuned", "without_alignment", "hlrl", "cosil",
                                                    "without_alignment_half", "hlrl_eq", "cosil_eq", "student_rl",
                                                    "sitt_2x", "student_rl_2x")}
    assert len(GRID.arms()) == 15 and all(a.endswith("_clipped") for a in GRID.arms())
    assert TASK.tuning_experiments == (TUNING, GRID_EXPERIMENT) and TASK.sweeps == (
        SweepPlan((MAIN,), None, "0-9"), SweepPlan((PREMISE_EXPERIMENT,), None, "0-9"),
        SweepPlan((BUDGET_EXPERIMENT,), None, "0-9"))
    assert set(MAIN_ARMS) == set(COMMON_ARMS) - {"plain_teacher"} | {"bc_scan360", "bc_teacher_obs"}
    assert {"smoke", "default"} <= set(TASK.profiles)
    for name in MAIN_ARMS:  # the common arms are reused as they are, except sitt_paper's robot-task lambda1
        if name in COMMON_ARMS and name != "sitt_paper":
            assert ARMS[name] == COMMON_ARMS[name]
    paper = preset(MAIN, "sitt_paper", 0, "default").sitt_config()
    assert (paper.reward_sign, paper.reward_coef, paper.update_term, paper.kl_grad_log_std) == (-1, 0.05, "kl", True)
    assert paper.update_weight == 0.1  # lambda2, chosen on the tuning seeds
    release = preset(MAIN, "sitt_release", 0, "default").sitt_config()
    assert (release.reward_sign, release.reward_coef, release.update_term) == (1, 1.9, "feature_l1")
    # the grid's selection (design.py): lambda1 0.05, lambda2 0.01, executed-action distances, the paper's recipe
    tuned = preset(MAIN, "sitt_tuned", 0, "default").sitt_config()
    assert (tuned.recipe, tuned.reward_sign, tuned.reward_coef, tuned.update_weight, tuned.action_distance) == (
        "paper", -1, 0.05, 0.01, "clipped")
    assert paper.action_distance == "raw"
    for arm in TASK.experiments[MAIN]:  # every SITT arm shares the profile's alignment schedule
        c = preset(MAIN, arm, 0, "default")
        assert c.task == "fov_flight" and c.env.n_envs == 256
        if c.kind == "sitt":
            assert (c.sitt_config().align_epochs, c.sitt_config().align_subset) == (5, 0.25)


def test_default_profile_budget_and_schedule():
    c = preset(MAIN, "without_alignment", 0, "default")
    assert c.rollout_size == 256 * 128 and c.total_timesteps == 240 * c.rollout_size
    assert (c.ppo.batch_size, c.ppo.n_epochs, c.ppo.learning_rate, c.ppo.ent_coef) == (8192, 5, 5e-4, 0.0)
    assert (c.env.n_pillars, c.env.k_nearest, c.env.max_speed) == (8, 8, 2.0)
    assert preset(MAIN, "bc", 0, "smoke").env.flight == c.env.flight  # CI's smoke runs fly the same worlds' geometry
    assert c.imitation.student_net_arch == [64, 64] and TASK.policy_kwargs == {"log_std_init": -0.5}
    assert "tuned on seeds 100-104" in PROFILES["default"].description
    assert c.eval == FlightEvalConfig() and c.eval.n_worlds == 200


@pytest.mark.parametrize("config, message", [
    (FlightEnvConfig(n_envs=0), "env.n_envs: got 0; allowed: an integer >= 1"),
    (FlightEnvConfig(pool_size=0), "env.pool_size: got 0; allowed: an integer >= 1"),
    (FlightEnvConfig(fov_deg=400.0), "env.fov_deg: got 400.0; allowed: a number in (0, 360]"),
    (FlightEnvConfig(k_nearest=13), "env.k_nearest: got 13; allowed: an int in [1, n_pillars] = [1, 12]"),
    (FlightEvalConfig(n_worlds=0), "eval.n_worlds: got 0; allowed: an integer >= 1"),
    (FlightEvalConfig(world_seed=-1), "eval.world_seed: got -1; allowed: an integer >= 0"),
    (FlightEvalConfig(n_trajectories=201),
     "eval.n_trajectories: got 201; allowed: an integer in [0, eval.n_worlds = 200]"),
    (FlightEvalConfig(min_speed=-0.5), "eval.min_speed: got -0.5; allowed: a finite number >= 0 (m/s)"),
    (FlightEvalConfig(min_speed=True), "eval.min_speed: got True; allowed: a finite number >= 0 (m/s)"),
])
def test_config_errors_name_the_field(config, message):
    with pytest.raises(ValueError) as err:
        config.validate()
    assert str(err.value) == message


def test_run_config_errors_name_the_field():
    c = preset(MAIN, "bc", 0, "default")
    with pytest.raises(ValueError, match=r"^seed: got 20250311; allowed: any integer >= 0 except eval.world_seed"):
        c.replace(seed=20250311).validate()
    with pytest.raises(ValueError, match=r"^env.nope: unknown field; allowed: "):
        ExperimentConfig.from_dict({**c.to_dict(), "env": {"nope": 1}})
    with pytest.raises(ValueError, match=r"^student_view: got 'nope'; allowed: None \(the task's standard view\) or "
                                         r"one of scan360, teacher$"):
        c.replace(student_view="nope").validate()
    with pytest.raises(ValueError, match=r"^student_view: got 'scan360'; allowed: None \(the task's standard view\): "
                                         r"task 'color_maze' names no other student view$"):
        preset("main", "bc", 0, "smoke").replace(student_view="scan360").validate()
    for bad in ([], [0], "64", [64.0]):
        with pytest.raises(ValueError, match=r"^imitation.student_net_arch: got .*; allowed: None \(the study's "
                                             r"student\) or a non-empty list of positive integers$"):
            c.replace(imitation=dataclasses.replace(c.imitation, student_net_arch=bad)).validate()
    # every env field is one dotted name, for presets and --set
    changed = c.override({"env.fov_deg": 120.0, "env.n_envs": 64}).validate()
    assert (changed.env.fov_deg, changed.env.n_envs, changed.env.flight.fov_deg) == (120.0, 64, 120.0)
    assert {"env.fov_deg", "env.pool_size", "eval.world_seed", "student_view"} <= set(c.dotted_fields())


def test_configs_round_trip_and_old_configs_keep_their_meaning():
    for arm in MAIN_ARMS:
        c = preset(MAIN, arm, 3, "default")
        back = ExperimentConfig.from_json(c.to_json())
        assert back.to_dict() == c.to_dict() and isinstance(back.env, FlightEnvConfig)
        assert back.training_key() == c.training_key()
    # a config written before student_view / imitation.student_net_arch existed (every committed maze run) reads as
    # the standard view and the study's student, and is the same run as before (training key)
    maze = preset("main", "bc", 0, "default")
    old = maze.to_dict()
    del old["student_view"]
    del old["imitation"]["student_net_arch"]
    back = ExperimentConfig.from_dict(old)
    assert back.student_view is None and back.imitation.student_net_arch is None
    assert back.training_key() == maze.training_key()
    assert "net_arch" not in maze.imitation.bc_kwargs() and "net_arch" not in maze.imitation.dagger_kwargs()
    assert ImitationConfig(student_net_arch=[32, 64]).bc_kwargs()["net_arch"] == [32, 64]


def test_a_control_arm_is_its_own_run_and_imitates_the_standard_teacher_run():
    bc, b360, bt = (preset(MAIN, a, 1, "default") for a in ("bc", "bc_scan360", "bc_teacher_obs"))
    assert (bc.student_view, b360.student_view, bt.student_view) == (None, "scan360", "teacher")
    assert len({bc.training_key(), b360.training_key(), bt.training_key()}) == 3  # never copied for one another
    teacher = preset(MAIN, "without_alignment", 1, "default")
    for c in (bc, b360, bt):
        assert c.teacher_config().to_dict() == dict(teacher.to_dict(), profile=c.profile)
        assert c.teacher_config().student_view is None


# ------------------------------------------------------------------------------------------------ held-out set


def test_the_held_out_set_is_one_for_every_arm_and_seed_with_its_fingerprint():
    world = FlightConfig(n_pillars=8, k_nearest=8, max_speed=2.0)  # the profiles' world (fov_flight.design._WORLD)
    reference = generate_worlds(200, world, seed=20250311)  # the documented recipe, called directly
    assert worlds_sha256(reference) == DEFAULT_HELD_OUT_SHA
    shas = {TASK.held_out(preset(MAIN, arm, seed, "default")).sha256 for arm in MAIN_ARMS for seed in (0, 7, 9)}
    assert shas == {DEFAULT_HELD_OUT_SHA}
    held = TASK.held_out(preset(MAIN, "dagger", 4, "default"))
    assert held.n == 200
    for name in ("centres", "radii", "start", "start_yaw"):
        np.testing.assert_array_equal(getattr(held.data, name), getattr(reference, name))
    # the worlds depend on the evaluation settings and the geometry, not on the training env's size
    c = preset(MAIN, "bc", 0, "default")
    assert TASK.held_out(c.override({"env.n_envs": 8, "env.pool_size": 50})).sha256 == DEFAULT_HELD_OUT_SHA
    assert TASK.held_out(c.override({"eval.world_seed": 5})).sha256 != DEFAULT_HELD_OUT_SHA
    assert TASK.held_out(c.override({"env.n_pillars": 10, "env.k_nearest": 10})).sha256 != DEFAULT_HELD_OUT_SHA
    assert TASK.held_out(c.override({"env.max_speed": 3.0})).sha256 == DEFAULT_HELD_OUT_SHA  # the body: same worlds
    fewer = TASK.held_out(c.override({"eval.n_worlds": 20}))
    np.testing.assert_array_equal(fewer.data.radii, generate_worlds(20, world, seed=20250311).radii)
    # each call hands out a copy: a caller cannot change the set
    held.data.radii[:] = 0.0
    assert TASK.held_out(c).sha256 == DEFAULT_HELD_OUT_SHA


def test_training_worlds_come_from_the_run_seed_and_never_hold_a_held_out_world():
    c = preset(MAIN, "without_alignment", 2, "smoke")
    a, b, other = TASK.train_env(c), TASK.train_env(c), TASK.train_env(c.replace(seed=3))
    assert len(a.worlds) == 32 and a.num_envs == 16
    assert worlds_sha256(a.worlds) == worlds_sha256(b.worlds) != worlds_sha256(other.worlds)
    assert worlds_sha256(a.worlds) == worlds_sha256(FovFlightEnv(16, c.env.flight, seed=2, pool_size=32).worlds)
    held = TASK.held_out(c)
    prov = TASK.provenance(c, a, held)
    assert prov["eval_worlds_sha256"] == held.sha256 and prov["n_train_worlds"] == 32
    assert prov["train_worlds_sha256"] == worlds_sha256(a.worlds)
    assert prov["eval_worlds_in_training"] == 0
    # the check counts: a pool that contains held-out worlds says how many
    mixed = held.data.subset(slice(0, 3))
    a.worlds = mixed
    assert TASK.provenance(c, a, held)["eval_worlds_in_training"] == 3


# ------------------------------------------------------------------------------------------------ evaluation


def test_evaluate_rows_equal_fov_flight_evaluate_one_row_per_held_out_world():
    c = preset(MAIN, "bc", 0, "default")
    world = FlightConfig(n_pillars=8, k_nearest=8, max_speed=2.0)  # the profiles' world (fov_flight.design._WORLD)
    assert c.env.flight == world
    pilot = ScriptedPilot(world, yaw="along_velocity")
    rows, arrays = TASK.evaluate(c, pilot)
    reference, traj = evaluate(pilot, generate_worlds(200, world, seed=20250311), world)
    reference.attrs.clear()
    pd.testing.assert_frame_equal(rows, reference)
    assert list(rows.columns) == COLUMNS and len(rows) == 200
    np.testing.assert_array_equal(rows["world"], np.arange(200))
    check_rows(TASK, rows)
    assert set(arrays) == {"pos", "yaw"} and arrays["pos"].shape == (16, 201, 2) and arrays["pos"].dtype == np.float32
    np.testing.assert_array_equal(arrays["pos"], traj["pos"][:16].astype(np.float32))
    np.testing.assert_array_equal(arrays["yaw"], traj["yaw"][:16].astype(np.float32))
    # the per-run summary of the marker, and the per-episode metrics
    summary = TASK.summary(rows)
    assert summary["n_episodes"] == 200 and summary["success_rate"] == rows["success"].mean()
    assert summary["velocity_angle_deg"] == pytest.approx(rows["velocity_angle_deg"].mean())
    m = TASK.episode_metrics(rows)
    np.testing.assert_array_equal(m["success_steps"].dropna(), rows.loc[rows["success"], "steps"].astype(float))
    assert set(m["collision"].unique()) <= {0.0, 1.0}
    no_arrays = TASK.evaluate(c.override({"eval.n_trajectories": 0, "eval.n_worlds": 4}), pilot)
    assert no_arrays[1] is None and len(no_arrays[0]) == 4


def test_episode_metrics_read_stored_rows():
    rows = pd.DataFrame(dict(world=[0, 1, 2], success=["True", "False", "True"], collision=["False", "True", "False"],
                             timeout=[False, False, False], steps=[80, 12, 90], velocity_angle_deg=[10.0, np.nan, 30.0],
                             pillars_in_view=[2.0, 1.0, 3.0], path_length=[24.0, 3.0, 25.0],
                             ep_return=[34.0, -8.0, 34.0]))
    m = TASK.episode_metrics(rows)
    assert m["success"].tolist() == [1.0, 0.0, 1.0] and m["collision"].tolist() == [0.0, 1.0, 0.0]
    assert m["success_steps"].tolist()[0::2] == [80.0, 90.0] and math.isnan(m["success_steps"].iloc[1])
    assert TASK.summary(rows)["velocity_angle_deg"] == 20.0  # NaN (no step fast enough) is left out


# ------------------------------------------------------------------------------------------------ student views


def test_student_views_standard_360_and_teacher():
    c = preset(MAIN, "bc", 0, "smoke")
    env = TASK.train_env(c)
    obs = env.reset()
    flight = env.config
    standard = student_view_fn(TASK, env, c)
    np.testing.assert_array_equal(standard(obs), student_obs(obs, flight))
    assert standard(obs).shape == (16, 6 + 16)
    view360 = student_view_fn(TASK, env, c.replace(student_view="scan360"))
    assert scan360_rays(flight) == 64
    got = view360(obs)
    assert got.shape == (16, 6 + 64) and got.dtype == np.float32
    # the depth part against a scan of the whole world (every pillar, no K selection), from the env's own state
    worlds = env.worlds
    ref = scan_world(env.pos, np.asarray(env.yaw), worlds.centres[env.world_index], worlds.radii[env.world_index],
                     flight, fov_deg=360, n_rays=64) / flight.ray_range
    np.testing.assert_allclose(got[:, 6:], ref, atol=1e-5)
    np.testing.assert_array_equal(got[:, :6], standard(obs)[:, :6])  # the same own state
    teacher = student_view_fn(TASK, env, c.replace(student_view="teacher"))(obs)
    np.testing.assert_array_equal(teacher, obs)
    assert teacher is not obs and teacher.dtype == np.float32
    with pytest.raises(ValueError, match=r"^student_view: got 'x'; allowed: None \(the standard view\), scan360"):
        TASK.student_obs_fn(env, "x")


# ------------------------------------------------------------------------------------------------ plain SITT = PPO


@pytest.mark.parametrize("time_limit", [200, 12])
def test_plain_sitt_learns_as_sb3_ppo_on_the_flight_env(time_limit):
    """Every SITT term off: bit-equal to SB3's PPO while no episode is truncated (time limit 200 > the 64 steps run
    here); with truncations (time limit 12) equal to 1e-5: SITT computes the truncated envs' terminal values in one
    batched forward where SB3 does one per env, which may differ in the last float bits."""
    from stable_baselines3 import PPO

    from sitt import SITT

    kw = dict(n_steps=16, batch_size=64, n_epochs=2, learning_rate=5e-4, ent_coef=0.0, seed=7, device="cpu",
              verbose=0, policy_kwargs=dict(log_std_init=-0.5))
    cfg = FlightConfig(time_limit=time_limit)
    th.set_num_threads(1)
    a = SITT("MlpPolicy", FovFlightEnv(16, cfg, seed=3, pool_size=32), recipe="release", **PLAIN, **kw)
    a.learn(4 * 256)  # built and trained before the other: SB3 seeds torch's global RNG at construction
    b = PPO("MlpPolicy", FovFlightEnv(16, cfg, seed=3, pool_size=32), **kw)
    b.learn(4 * 256)
    pa, pb = a.policy.state_dict(), b.policy.state_dict()
    assert sorted(pa) == sorted(pb)
    if time_limit == 200:
        assert all(th.equal(pa[k], pb[k]) for k in pa)
    else:
        for k in pa:
            th.testing.assert_close(pa[k], pb[k], rtol=0, atol=1e-5)


# ------------------------------------------------------------------------------------------------ a smoke sweep

VIEW_ARMS = ("bc", "bc_scan360", "bc_teacher_obs")


@pytest.fixture(scope="module")
def smoke_store(tmp_path_factory):
    """Every arm of the main experiment on the smoke profile, seed 0, through study.sweep."""
    from study import run_sweep

    root = tmp_path_factory.mktemp("fov_runs")
    configs = experiment_configs(MAIN, "smoke", [0])
    assert [c.arm for c in configs] == list(TASK.experiments[MAIN])
    assert {c.kind for c in configs} == {"sitt", "bc", "dagger", "hlrl", "dwbc", "cosil"}
    result = run_sweep(configs, root, jobs=1, progress=False)
    assert result.ok, result.summary()
    return root


@pytest.mark.slow  # the module's smoke sweep of every arm (fixture `smoke_store`)
def test_smoke_sweep_runs_every_arm_kind_end_to_end(smoke_store):
    from study.load import load_eval, load_provenance, load_student

    rows = load_eval(smoke_store, MAIN)
    assert set(rows["task"]) == {"fov_flight"} and set(rows["arm"]) == set(TASK.experiments[MAIN])
    assert len(rows) == len(TASK.experiments[MAIN]) * 2 * 8  # arms x policies x held-out worlds (smoke: 8)
    smoke_sha = TASK.held_out(preset(MAIN, "bc", 0, "smoke")).sha256
    for arm in TASK.experiments[MAIN]:
        run = smoke_store / MAIN / arm / "seed_0"
        prov = load_provenance(run)
        assert prov["eval_set_sha256"] == smoke_sha and prov["eval_worlds_in_training"] == 0
        for policy in ("teacher", "student"):
            assert load.load_positions(run, f"{policy}_pos").shape == (2, 201, 2)
            sub = rows[(rows["arm"] == arm) & (rows["policy"] == policy)]
            assert sub["world"].tolist() == list(range(8))
        marker = json.loads((run / "COMPLETE").read_text())
        assert marker["policies"]["student"]["n_episodes"] == 8
    # the teacher-run arms used the without_alignment run; the controls' students saw their own view
    for arm in ("bc", "dagger", "hlrl", "cosil", "bc_scan360", "bc_teacher_obs"):
        assert load_provenance(smoke_store / MAIN / arm / "seed_0")["teacher_run"]["run_id"] == \
            f"{MAIN}/without_alignment/seed_0"
    dims = {arm: load_student(smoke_store / MAIN / arm / "seed_0").observation_space.shape for arm in VIEW_ARMS}
    assert dims == {"bc": (22,), "bc_scan360": (70,), "bc_teacher_obs": (preset(MAIN, "bc", 0, "smoke").env.obs_dim,)}
    fresh = load_student(smoke_store / MAIN / "bc_teacher_obs" / "seed_0")
    assert not getattr(fresh.encoder, "copied_from_teacher", False)  # learns from scratch, not the teacher's copy


@pytest.mark.slow  # the module's smoke sweep of every arm (fixture `smoke_store`)
def test_smoke_tables_and_claims(smoke_store):
    rows, _ = load.eval_rows(smoke_store, MAIN)
    main = fov_tables.main_table(rows)
    assert len(main) == 2 * len(TASK.experiments[MAIN]) and set(main["n_seeds"]) == {1}
    for col in ("success_mean", "success_ci_low", "velocity_angle_mean", "velocity_angle_ci_high",
                "pillars_in_view_mean", "pillars_in_view_ci_low", "collision_mean", "path_length_mean"):
        assert col in main.columns
    hand = rows[(rows["arm"] == "sitt_paper") & (rows["policy"] == "teacher")]
    got = main[(main["arm"] == "sitt_paper") & (main["policy"] == "teacher")].iloc[0]
    assert got["velocity_angle_mean"] == pytest.approx(hand["velocity_angle_deg"].mean())
    assert got["success_mean"] == hand["success"].astype(float).mean()
    assert got["collision_mean"] == hand["collision"].astype(float).mean()
    paper = fov_tables.paper_table(main)
    assert paper["arm"].tolist() == list(fov_tables.PAPER_TABLE1) and paper["paper_mean"].iloc[-1] == 0.46
    controls = fov_tables.view_controls_table(rows)
    assert controls["arm"].tolist() == list(VIEW_ARMS) and controls["poi"].iloc[0] == 0.5
    table = claims.claims_table({MAIN: rows}, CLAIMS)
    assert table["id"].tolist() == [c.id for c in CLAIMS]
    assert set(table["verdict"]) == {"inconclusive"}  # one seed: the rules need three
    assert table.loc[table["experiment"] == MAIN, "evidence"].str.contains("only 1 seed").all()
    assert table.loc[table["experiment"] == PREMISE_EXPERIMENT, "evidence"].str.startswith("no runs").all()
    # the generic report takes the task's main table under its experiment's name
    main_from_report, others = report.report_tables(TASK, {MAIN: rows}, {})
    pd.testing.assert_frame_equal(main_from_report, main)


@pytest.mark.slow  # the module's smoke sweep of every arm (fixture `smoke_store`)
def test_smoke_figures(smoke_store, tmp_path):
    rows, _ = load.eval_rows(smoke_store, MAIN)
    assert fov_figures.typical_seed(rows) == 0
    fig = fov_figures.trajectory_figure(smoke_store, MAIN, world=1)
    assert fig.fov_info["seed"] == 0 and fig.fov_info["missing"] == []
    panels, info = fov_figures.trajectory_panels(smoke_store, MAIN, world=1)
    stored = load.load_positions(smoke_store / MAIN / "sitt_paper" / "seed_0", "student_pos")[1]
    np.testing.assert_array_equal(panels[3][2], stored)
    for name, f in (("traj", fig), ("angles", fov_figures.velocity_angle_figure(rows))):
        path = io.save_figure(f, tmp_path, name)
        assert path.stat().st_size > 10_000
    empty, info = fov_figures.trajectory_panels(tmp_path / "none", MAIN)
    assert info["seed"] is None and len(info["missing"]) == 4


# ------------------------------------------------------------------------------------------------ tables, figures


def per_seed_rows(values: dict[tuple[str, str], list[float]], metric: str) -> pd.DataFrame:
    """Eval rows of the flight task with one held-out world per run: {(arm, policy): value per seed}."""
    out = []
    for (arm, policy), per_seed in values.items():
        for seed, v in enumerate(per_seed):
            row = dict(task="fov_flight", experiment=MAIN, arm=arm, seed=seed, policy=policy, world=0, success=False,
                       collision=True, timeout=False, steps=10, velocity_angle_deg=45.0, pillars_in_view=1.0,
                       path_length=3.0, ep_return=-7.0)
            row[metric] = v
            out.append(row)
    return pd.DataFrame(out)


def test_a_lower_is_better_claim():
    rows = per_seed_rows({("sitt_paper", "teacher"): [10.0, 20.0, 15.0, 12.0],
                          ("without_alignment", "teacher"): [50.0, 40.0, 60.0, 55.0]}, "velocity_angle_deg")
    low = next(c for c in CLAIMS if c.id == "fov:p1")
    assert low.direction == "low" and low.kind == "better"
    row = claims.evaluate_claim(low, rows)
    assert row["verdict"] == "reproduced" and "PoI (lower is better) 1.00" in row["evidence"]
    high = dataclasses.replace(low, direction="high")
    row = claims.evaluate_claim(high, rows)
    assert row["verdict"] == "not reproduced" and "PoI 0.00" in row["evidence"]
    # the PoI of "lower" is exactly the PoI of "higher" with the arms swapped (all pairs differ here)
    swapped = dataclasses.replace(high, arm="without_alignment", others=("sitt_paper",))
    assert claims.evaluate_claim(swapped, rows)["verdict"] == "reproduced"
    # ties count a half: two equal arms are never "better" either way
    tied = per_seed_rows({("sitt_paper", "teacher"): [5.0] * 4, ("without_alignment", "teacher"): [5.0] * 4},
                         "velocity_angle_deg")
    assert claims.evaluate_claim(low, tied)["verdict"] == "not reproduced"
    with pytest.raises(ValueError, match=r"direction 'down'; allowed: high, low"):
        claims.evaluate_claim(dataclasses.replace(low, direction="down"), rows)


def test_typical_seed_is_the_maze_rule_by_brute_force():
    rng = np.random.default_rng(0)
    out = []
    for seed in range(5):
        for arm in ("without_alignment", "sitt_paper"):
            for policy in ("teacher", "student"):
                for world in range(4):
                    out.append(dict(task="fov_flight", arm=arm, seed=seed, policy=policy, world=world,
                                    success=bool(rng.random() < 0.2 + 0.15 * seed)))
    rows = pd.DataFrame(out)
    rate = rows.groupby(["arm", "policy", "seed"])["success"].mean()
    specs = [("without_alignment", "teacher"), ("without_alignment", "student"), ("sitt_paper", "teacher"),
             ("sitt_paper", "student")]
    medians = {k: np.median([rate[(*k, s)] for s in range(5)]) for k in specs}
    distance = {s: sum(abs(rate[(*k, s)] - medians[k]) for k in specs) for s in range(5)}
    assert fov_figures.typical_seed(rows) == min(range(5), key=lambda s: (distance[s], s))
    assert fov_figures.typical_seed(None) is None
    # a seed without every panel loses to one with all
    partial = rows[~((rows["seed"] == fov_figures.typical_seed(rows)) & (rows["arm"] == "sitt_paper"))]
    assert fov_figures.typical_seed(partial) != fov_figures.typical_seed(rows)


def test_scripted_table_and_pictures_of_the_task(tmp_path):
    c = preset(MAIN, "bc", 0, "smoke")
    table = fov_tables.scripted_table(c)
    assert table["n_worlds"].tolist() == [8, 8, 8] and table["view"].tolist() == ["teacher", "teacher", "student"]
    fixed, along = table.iloc[0], table.iloc[1]
    assert fixed["success"] == along["success"] and fixed["path_length"] == along["path_length"]  # same flights
    worlds, _ = held_out_worlds(c)
    rows, _ = evaluate(ScriptedPilot(c.env.flight, yaw="fixed"), worlds, c.env.flight)
    assert fixed["velocity_angle_deg"] == pytest.approx(rows["velocity_angle_deg"].mean())
    assert along["velocity_angle_deg"] < fixed["velocity_angle_deg"]
    for name, fig in (("views", fov_figures.views_picture(c, world=1)), ("scripted", fov_figures.scripted_figure(c))):
        assert io.save_figure(fig, tmp_path, name).stat().st_size > 10_000


# ------------------------------------------------------------------------------------------------ the notebook


def test_notebook_parameters_are_validated():
    source = REPO / "notebooks" / "50_fov_flight.py"
    defaults = notebook_defaults(source)
    assert defaults == dict(experiment=MAIN, profile="default", root="results/runs", out="results", seeds="0-9",
                            run=False, jobs=2, world=0, sitt_arm="sitt_paper")
    check_notebook_parameters("50_fov_flight", defaults,
                              {"profile": "smoke", "seeds": "0-1", "sitt_arm": "sitt_release"})
    for given, needle in (
        ({"profile": "release"}, "parameter profile: got 'release'; allowed: smoke, default"),
        ({"sitt_arm": "lambda1_bonus_4"}, "parameter sitt_arm: got 'lambda1_bonus_4'; allowed: plain_teacher"),
        ({"world": "0"}, "parameter world: got '0' (str)"),
        ({"seeds": "9-1"}, "seeds: got '9-1'"),
        ({"experiment": "nope"}, "parameter experiment: got 'nope'"),
        ({"nope": 1}, "unknown parameter 'nope'"),
    ):
        with pytest.raises(ValueError) as err:
            check_notebook_parameters("50_fov_flight", defaults, given)
        assert needle in str(err.value)
    # what the notebook checks itself: a flight experiment, and a world whose flights the runs store
    config, world = fov_figures.notebook_config(MAIN, "smoke", 1)
    assert world == 1 and config.eval.n_trajectories == 2
    with pytest.raises(ValueError, match=r"^world: got 2; allowed: an integer in \[0, 1\]"):
        fov_figures.notebook_config(MAIN, "smoke", 2)
    with pytest.raises(ValueError, match=r"^experiment: got 'main' \(task 'color_maze'\); allowed: a reported "
                                         r"experiment of task 'fov_flight': fov_flight_main, fov_flight_premise, "
                                         r"fov_flight_budget$"):
        fov_figures.notebook_config("main", "smoke", 0)
    assert TASK.notebooks == {MAIN: "50_fov_flight", TUNING: "50_fov_flight", BUDGET_EXPERIMENT: "50_fov_flight"}


def test_the_readme_timing_leaves_every_imitation_run_out_of_the_training_speed(tmp_path):
    from study import readme

    for arm, kind, rate in (("sitt_paper", "sitt", 9000.0), ("bc_scan360", "bc", 500.0), ("bc", None, 400.0)):
        run = tmp_path / MAIN / arm / "seed_0"
        run.mkdir(parents=True)
        (run / "provenance.json").write_text(json.dumps(dict(
            wall_s=10.0, train_s=9.0, env_steps_per_s=rate, started_at="2026-01-01T10:00:00+00:00",
            finished_at="2026-01-01T10:05:00+00:00", cpu="CPU X", cpu_count=2, git=dict(commit="abc", dirty=False))))
        (run / "COMPLETE").write_text(json.dumps({"kind": kind} if kind else {}))
    records = readme.run_records(tmp_path, [MAIN])
    kinds = records.set_index("arm")["kind"]
    assert pd.isna(kinds["bc"]) and (kinds["bc_scan360"], kinds["sitt_paper"]) == ("bc", "sitt")
    t = readme.timing_summary(records).set_index("experiment")
    assert t.loc[MAIN, "steps_per_s_min"] == t.loc[MAIN, "steps_per_s_max"] == 9000.0
    assert (MAIN in readme.studies()) == bool(TASK.sweeps)  # the README times the flight study once it is planned
