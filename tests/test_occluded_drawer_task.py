"""The occluded drawer as a task of the study (occluded_drawer/task.py): configs and their validation, the fixed
held-out scenes, the evaluation rows against occluded_drawer.evaluate, the arms, profiles and claims, SITT with every
term off against SB3's PPO on this env, a smoke sweep of both experiments through study.sweep with the tables,
claims and figures, the notebook's parameters, and the generic lower-is-better comparison claims (study.claims)."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch as th

from occluded_drawer import DrawerConfig, OccludedDrawerEnv, evaluate, generate_scenes, scenes_sha256
from occluded_drawer import figures as drawer_figures, tables as drawer_tables
from occluded_drawer.scripted import hiding_controller, visible_controller
from occluded_drawer.design import (
    ABLATION_EXPERIMENT, ABLATION_REFERENCE, ARMS, BUDGET_EXPERIMENT, CLAIMS, DEFAULT_PROFILE, EXPERIMENTS,
    GRID_EXPERIMENT, MAIN_EXPERIMENT, PAPER_ABLATIONS, PAPER_SWITCHES, PREMISE_EXPERIMENT, PROFILES,
    REPORTED_EXPERIMENTS, TUNING_EXPERIMENT, TUNING_PROBES, DrawerEnvConfig, DrawerEvalConfig, default_drawer,
)
from occluded_drawer.task import TASK, TRAJECTORY_KEYS
from study import claims, tables
from study.config import ExperimentConfig
from study.presets import COMMON_ARMS, PLAIN, experiment_configs, experiments, preset, task_of
from study.registry import get_task
from study.task import TUNING_SEEDS, SweepPlan
from study.run import evaluate_policies

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "60_occluded_drawer.py"
CFG = DrawerConfig()


def _config(arm="sitt_paper", seed=0, profile="smoke", experiment=MAIN_EXPERIMENT):
    return preset(experiment, arm, seed, profile)


# ------------------------------------------------------------------------------------------------ registration


def test_the_task_is_registered_with_both_experiments():
    assert get_task("occluded_drawer") is TASK
    table = experiments()
    assert table[MAIN_EXPERIMENT] == ("occluded_drawer", EXPERIMENTS[MAIN_EXPERIMENT])
    assert table[ABLATION_EXPERIMENT] == ("occluded_drawer", EXPERIMENTS[ABLATION_EXPERIMENT])
    assert table[TUNING_EXPERIMENT] == ("occluded_drawer", ("plain_teacher", "without_alignment", "sitt_paper"))
    # equal budgets, fixed before their runs: the SITT arm, the 2x baselines (copies of the main runs), the
    # equal-budget arms and the 2x readings' own arms
    assert table[BUDGET_EXPERIMENT] == ("occluded_drawer", (
        "sitt_tuned_align", "without_alignment", "hlrl", "cosil", "without_alignment_half", "hlrl_eq", "cosil_eq",
        "student_rl", "sitt_2x", "student_rl_2x"))
    assert list(EXPERIMENTS) == [MAIN_EXPERIMENT, ABLATION_EXPERIMENT, TUNING_EXPERIMENT, GRID_EXPERIMENT,
                                 PREMISE_EXPERIMENT, BUDGET_EXPERIMENT]
    # the alignment schedules of the selected configuration and of without_alignment, last in the grid experiment
    assert EXPERIMENTS[GRID_EXPERIMENT][-4:] == (
        "sitt_l1_0.05_l2_0.1_clipped_release_align", "sitt_l1_0.05_l2_0.1_clipped_align_lr_1e-3",
        "without_alignment_release_align", "without_alignment_align_lr_1e-3")
    assert task_of(MAIN_EXPERIMENT) == task_of(f"{ABLATION_EXPERIMENT}-probe") == "occluded_drawer"
    # the tuned design's plan: both reported experiments, every arm, seeds 0-9
    assert TASK.sweeps == (SweepPlan((MAIN_EXPERIMENT, ABLATION_EXPERIMENT), None, "0-9"),
                           SweepPlan((PREMISE_EXPERIMENT,), None, "0-9"), SweepPlan((BUDGET_EXPERIMENT,), None, "0-9"))


# ------------------------------------------------------------------------------------------------------ configs


@pytest.mark.parametrize("make, message", [
    (lambda: DrawerEnvConfig(n_envs=0), r"^env\.n_envs: got 0; allowed: an integer >= 1$"),
    (lambda: DrawerEnvConfig(n_envs=2.0), r"^env\.n_envs: got 2\.0; allowed: an integer >= 1$"),
    (lambda: DrawerEnvConfig(drawer="wide"), r"^env\.drawer: got 'wide'; allowed: a dict of DrawerConfig fields"),
    (lambda: DrawerEnvConfig(drawer={"nope": 1}), r"^env\.drawer\.nope: unknown field; allowed: camera_angle, "),
    (lambda: DrawerEnvConfig(drawer={"camera_fov": 4.0}),
     r"^env\.drawer\.camera_fov: got 4\.0; allowed: a finite number > 0\.0 and <= 3\.14"),
    (lambda: DrawerEnvConfig(drawer={"time_limit": 0}), r"^env\.drawer\.time_limit: got 0; allowed: an int >= 1"),
    (lambda: DrawerEnvConfig(drawer={"link_lengths": [1.0]}), r"^env\.drawer\.link_lengths: got \(1\.0,\); allowed:"),
    (lambda: DrawerEvalConfig(n_scenes=0), r"^eval\.n_scenes: got 0; allowed: an integer >= 1$"),
    (lambda: DrawerEvalConfig(scene_seed=-1), r"^eval\.scene_seed: got -1; allowed: an integer >= 0$"),
    (lambda: DrawerEvalConfig(n_trajectories=-1), r"^eval\.n_trajectories: got -1; allowed: an integer >= 0$"),
    (lambda: DrawerEvalConfig(n_scenes=4, n_trajectories=5),
     r"^eval\.n_trajectories: got 5; allowed: an integer in \[0, eval\.n_scenes = 4\]$"),
])
def test_config_errors_name_the_field_and_the_allowed_values(make, message):
    with pytest.raises(ValueError, match=message):
        make().validate()


def test_run_config_errors_name_the_field():
    config = _config()
    with pytest.raises(ValueError, match=r"^seed: got 20250612; allowed: any integer >= 0 except eval\.scene_seed"):
        config.replace(seed=config.eval.scene_seed).validate()
    data = config.to_dict()
    with pytest.raises(ValueError, match=r"^env\.bogus: unknown field; allowed: drawer, n_envs$"):
        ExperimentConfig.from_dict(dict(data, env={"n_envs": 4, "bogus": 1}))
    with pytest.raises(ValueError, match=r"^eval\.seed: unknown field; allowed: n_scenes, n_trajectories, scene_seed"):
        ExperimentConfig.from_dict(dict(data, eval={"seed": 1}))
    with pytest.raises(ValueError, match=r"^env\.drawer\.grasp_radius: got -0\.1; allowed: a finite number > 0\.0"):
        config.override({"env.drawer.grasp_radius": -0.1}).validate()


def test_tuning_seeds_are_kept_apart_from_the_reported_seeds():
    for seed in TUNING_SEEDS:  # reported experiments never run on a tuning seed (outside the smoke profile)
        for experiment in REPORTED_EXPERIMENTS:
            with pytest.raises(ValueError, match=rf"^seed: got {seed}; allowed: any seed except the tuning seeds "
                                                 rf"100, 101, 102, 103, 104: '{experiment}' is reported$"):
                _config("without_alignment", seed, "default", experiment)
        _config("plain_teacher", seed, "default", TUNING_EXPERIMENT)
        preset(f"{MAIN_EXPERIMENT}-probe", "bc", seed, "default")  # a tagged copy is a probe, not a reported run
    with pytest.raises(ValueError, match=r"^seed: got 3; allowed: one of the tuning seeds 100, 101, 102, 103, 104 "
                                         r"\(experiment 'occluded_drawer_tuning-steps2x'\)$"):
        preset(f"{TUNING_EXPERIMENT}-steps2x", "plain_teacher", 3, "default")
    assert _config("plain_teacher", 0, "smoke", TUNING_EXPERIMENT).seed == 0  # make smoke sweeps every experiment
    assert _config("bc", 100, "smoke").seed == 100


def test_configs_round_trip_through_json_with_drawer_overrides():
    config = _config().override({"env.drawer.camera_position": [-0.2, 0.35], "env.drawer.time_limit": 80})
    config.validate()
    assert config.to_dict()["env"]["drawer"] == dict(default_drawer(), camera_position=[-0.2, 0.35], time_limit=80)
    back = ExperimentConfig.from_json(config.to_json()).validate()
    assert back == config and isinstance(back.env, DrawerEnvConfig) and isinstance(back.eval, DrawerEvalConfig)
    drawer = back.env.drawer_config()
    assert drawer.camera_position == (-0.2, 0.35) and drawer.time_limit == 80
    assert drawer == DrawerConfig(camera_position=(-0.2, 0.35), time_limit=80)
    assert DrawerEnvConfig().drawer_config() == CFG  # the committed geometry, recorded field by field
    assert set(DrawerEnvConfig().drawer) == set(CFG.to_dict())
    assert DrawerEnvConfig().drawer["link_lengths"] == [1.0, 1.0]
    partial = DrawerEnvConfig(drawer={"time_limit": 50})  # completed with the defaults
    assert partial.drawer == dict(default_drawer(), time_limit=50) and partial.drawer_config().time_limit == 50


# ------------------------------------------------------------------------------------------------ held-out set


def _brute_sha256(handle: np.ndarray, q0: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (handle, q0):
        a = np.ascontiguousarray(a, dtype="<f8")
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def test_held_out_scenes_are_one_fixed_set_for_every_arm_and_seed():
    ev = DrawerEvalConfig()
    reference = generate_scenes(ev.n_scenes, CFG, seed=ev.scene_seed)
    fingerprint = _brute_sha256(reference.handle, reference.q0)
    seen = set()
    for experiment, arms in EXPERIMENTS.items():
        seeds = TUNING_SEEDS[:3] if experiment in TASK.tuning_experiments else (0, 3, 9)
        for arm, seed in itertools.product(arms, seeds):
            held = TASK.held_out(_config(arm, seed, "default", experiment))
            seen.add(held.sha256)
            assert held.n == ev.n_scenes == 256
            np.testing.assert_array_equal(held.data.handle, reference.handle)
            np.testing.assert_array_equal(held.data.q0, reference.q0)
    assert seen == {fingerprint} == {scenes_sha256(reference)}
    # the fingerprint changes with the set: another seed, fewer scenes, other constants
    other_seed = _config(profile="default").override({"eval.scene_seed": 7})
    fewer = _config(profile="default").override({"eval.n_scenes": 255})
    narrower = _config(profile="default").override({"env.drawer.handle_y_range": [0.0, 0.4]})
    assert len({TASK.held_out(c).sha256 for c in (other_seed, fewer, narrower)} | {fingerprint}) == 4
    # the smoke profile's set: 8 scenes from the same seed
    smoke = TASK.held_out(_config())
    assert smoke.n == 8 and smoke.sha256 == scenes_sha256(generate_scenes(8, CFG, seed=ev.scene_seed))


def test_training_scenes_come_from_the_run_seed():
    config = _config(seed=4)
    env = TASK.train_env(config)
    assert isinstance(env, OccludedDrawerEnv) and env.num_envs == config.env.n_envs == 16
    first = generate_scenes(16, CFG, seed=4)
    np.testing.assert_array_equal(env.handle_closed, first.handle)
    np.testing.assert_array_equal(env.q, first.q0)
    env.seed(4)  # SB3 seeds the env with the run seed, then resets it: the same first scenes again
    env.reset()
    np.testing.assert_array_equal(env.handle_closed, first.handle)
    assert not np.array_equal(TASK.train_env(_config(seed=5)).handle_closed, first.handle)
    prov = TASK.provenance(config, env, TASK.held_out(config))
    assert prov == dict(train_first_scenes_sha256=scenes_sha256(first), eval_scenes_sha256=TASK.held_out(config).sha256,
                        eval_scene_seed=20250612)
    student = TASK.student_obs_fn(env)(env.reset())
    assert student.shape == (16, CFG.n_links * 3 + 8)


# ------------------------------------------------------------------------------------------------------ evaluate


def test_evaluate_rows_equal_occluded_drawer_evaluate_for_a_scripted_policy():
    config = _config(profile="default").override({"eval.n_scenes": 12, "eval.n_trajectories": 3}).validate()
    rows, arrays = TASK.evaluate(config, hiding_controller(CFG))
    ref_rows, ref_traj = evaluate(hiding_controller(CFG), generate_scenes(12, CFG, seed=20250612), CFG)
    pd.testing.assert_frame_equal(rows, ref_rows)
    assert rows["success"].all() and (rows["grasp_attempts"] == 1).all()  # the scripted grasp never misses
    assert tuple(arrays) == TRAJECTORY_KEYS
    for key in TRAJECTORY_KEYS:
        expected = ref_traj[key][:3]
        assert arrays[key].shape == expected.shape
        if arrays[key].dtype.kind == "f":
            assert arrays[key].dtype == np.float32
            np.testing.assert_array_equal(arrays[key], expected.astype(np.float32))  # NaN padding included
        else:
            np.testing.assert_array_equal(arrays[key], expected)
    # the stored trajectories give the rows' visible share back
    for s in range(3):
        assert drawer_figures.visible_before_grasp(arrays, s) == pytest.approx(rows["visible_share"][s], abs=1e-12)


def test_evaluated_policies_summaries_and_per_seed_metrics():
    config = _config()
    eval_df, arrays, summaries = evaluate_policies(
        config, {"teacher": hiding_controller(CFG), "student": visible_controller(CFG)}, TASK)
    assert list(eval_df.columns[:3]) == ["policy", "scene", "success"] and len(eval_df) == 2 * 8
    assert sorted(arrays) == sorted(f"{p}_{k}" for p in ("teacher", "student") for k in TRAJECTORY_KEYS)
    assert arrays["teacher_q"].shape == (2, CFG.time_limit + 1, 2)
    for policy in ("teacher", "student"):
        sel = eval_df[eval_df["policy"] == policy]
        assert summaries[policy]["n_episodes"] == 8 and summaries[policy]["success_rate"] == 1.0
        assert summaries[policy]["visible_share"] == pytest.approx(sel["visible_share"].mean(), abs=1e-15)
        assert summaries[policy]["success_steps"] == pytest.approx(sel["steps"].mean(), abs=1e-15)
    # the visible approach keeps the handle in view throughout; the hiding one does not (the design)
    assert (eval_df.loc[eval_df.policy == "student", "visible_share"] == 1.0).all()
    assert eval_df.loc[eval_df.policy == "teacher", "visible_share"].mean() < 0.5
    rows = eval_df.assign(arm="x", seed=0, task="occluded_drawer")
    per = tables.per_seed(rows)
    assert set(per.columns) >= {"success", *(m.name for m in TASK.metrics)}
    got = per[per.policy == "teacher"].iloc[0]
    hand = rows[rows.policy == "teacher"]
    assert got["grasp_attempts"] == hand["grasp_attempts"].mean() and got["ep_return"] == hand["ep_return"].mean()


def test_episode_metrics_read_strings_and_keep_success_steps_of_successes_only():
    rows = pd.DataFrame({"scene": [0, 1, 2], "success": ["True", "False", "True"], "visible_share": ["0.5", "1", "0"],
                         "grasp_attempts": [1, 3, 2], "missed_grasps": [0, 3, 1], "ep_return": [1.0, -2.0, 3.0],
                         "steps": [20, 100, 30]})
    df = TASK.episode_metrics(rows)
    assert df["visible_share"].tolist() == [0.5, 1.0, 0.0]
    assert df["success_steps"].tolist()[::2] == [20.0, 30.0] and np.isnan(df["success_steps"][1])


# ------------------------------------------------------------------------------------------- arms and profiles


def test_arms_encode_what_their_names_say():
    assert EXPERIMENTS[MAIN_EXPERIMENT] == ("without_alignment", "bc", "dagger", "sitt_paper", "sitt_release", "hlrl",
                                            "dwbc", "cosil", "sitt_tuned", "bc_clipped", "dagger_clipped",
                                            "sitt_tuned_align", "without_alignment_align")
    assert EXPERIMENTS[ABLATION_EXPERIMENT] == ("sitt_paper", "penalty_only", "kl_gradient_only", "no_shared_head",
                                                "lambda1_0.025")
    s = {arm: _config(arm, experiment=next(e for e, a in EXPERIMENTS.items() if arm in a)).sitt_config()
         for arm in (*EXPERIMENTS[MAIN_EXPERIMENT], *PAPER_ABLATIONS, "lambda1_0.025")}
    assert (s["sitt_paper"].recipe, s["sitt_paper"].reward_sign, s["sitt_paper"].reward_coef) == ("paper", -1, 0.05)
    # the grid's selection (design.py): lambda1 0.05, lambda2 0.1, executed-action distances, the paper's recipe
    tuned = s["sitt_tuned"]
    assert (tuned.recipe, tuned.reward_sign, tuned.reward_coef, tuned.update_weight, tuned.action_distance) == (
        "paper", -1, 0.05, 0.1, "clipped")
    assert s["sitt_paper"].action_distance == "raw"
    # the adopted alignment schedules (design.py, ADOPTED_SCHEDULES): sitt_tuned at a 10x alignment learning rate,
    # the without-alignment student by the release's 20 full-batch epochs on the whole roll-out
    aligned = s["sitt_tuned_align"]
    assert (aligned.reward_coef, aligned.update_weight, aligned.action_distance, aligned.align_lr) == (
        0.05, 0.1, "clipped", 1e-3)
    assert aligned.align_epochs == tuned.align_epochs and tuned.align_lr == 1e-4
    plain = s["without_alignment_align"]
    assert (plain.reward_term, plain.align_epochs, plain.align_batch_size, plain.align_subset) == (False, 20, None, 1.0)
    assert plain.align_lr == s["without_alignment"].align_lr
    assert s["sitt_paper"].update_term == "kl" and s["sitt_paper"].kl_grad_log_std and s["sitt_paper"].shared_head
    assert s["penalty_only"].reward_term and s["penalty_only"].update_term == "off"
    assert (s["penalty_only"].reward_sign, s["penalty_only"].reward_coef) == (-1, 0.05)
    assert not s["kl_gradient_only"].reward_term and s["kl_gradient_only"].update_term == "kl"
    assert s["no_shared_head"].shared_head is False and s["no_shared_head"].reward_coef == 0.05
    assert s["no_shared_head"].update_term == "kl" and s["no_shared_head"].reward_term
    assert (s["lambda1_0.025"].reward_coef, s["lambda1_0.025"].update_term) == (0.025, "kl")
    release = s["sitt_release"]
    assert (release.recipe, release.reward_sign, release.reward_coef) == ("release", 1, 1.9)
    w = s["without_alignment"]
    assert w.align and not w.reward_term and w.update_term == "off"
    assert ARMS["plain_teacher"].switches == PLAIN
    assert not _config("plain_teacher", experiment=TUNING_EXPERIMENT).sitt_config().uses_student
    for arm in ("bc", "dagger", "hlrl", "cosil"):
        assert ARMS[arm].teacher_from == "without_alignment" and ARMS[arm].kind == COMMON_ARMS[arm].kind
    assert ARMS["dwbc"].kind == "dwbc" and ARMS["dwbc"].teacher_from is None
    # the ablation table's full method is the main table's SITT run: one training, copied by the store
    main, abl = _config("sitt_paper"), _config("sitt_paper", experiment=ABLATION_EXPERIMENT)
    assert main.training_key() == abl.training_key()


def test_profiles_and_the_tuning_plan():
    assert set(PROFILES) == {"smoke", "default"} and PROFILES["default"] is DEFAULT_PROFILE
    smoke, default = _config(profile="smoke"), _config(profile="default")
    assert smoke.total_timesteps == 3 * smoke.rollout_size and smoke.eval.n_scenes == 8
    assert smoke.sitt_config().align_epochs == 2
    assert (default.env.n_envs, default.ppo.n_steps, default.ppo.batch_size, default.ppo.n_epochs) == (256, 32, 2048, 5)
    assert default.total_timesteps == 300 * default.rollout_size and default.ppo.ent_coef == 0.0
    assert (default.sitt_config().align_epochs, default.sitt_config().align_subset) == (10, 0.5)
    assert default.eval == DrawerEvalConfig() and default.eval.n_scenes == 256
    assert "PROVISIONAL" not in DEFAULT_PROFILE.description and "tuned on seeds 100-104" in DEFAULT_PROFILE.description
    assert PAPER_SWITCHES == dict(reward_coef=0.05, update_weight=0.1)  # lambda1 the paper's, lambda2 tuned
    for arm in ("sitt_paper", *PAPER_ABLATIONS, "lambda1_0.025"):  # every paper-recipe arm shares lambda2
        assert _config(arm, profile="default").sitt_config().update_weight == 0.1
    assert TUNING_SEEDS == (100, 101, 102, 103, 104) and len(TUNING_PROBES) >= 5
    for experiment, arms in EXPERIMENTS.items():  # every arm of every experiment builds under every profile
        for profile in PROFILES:
            seeds = [100, 104] if experiment in TASK.tuning_experiments and profile != "smoke" else [0, 1]
            configs = experiment_configs(experiment, profile, seeds)
            assert [(c.arm, c.seed) for c in configs] == [(a, s) for s in seeds for a in arms]
            assert all(c.task == "occluded_drawer" and c.kind == ARMS[c.arm].kind for c in configs)


def test_claims_are_fixed_and_name_arms_of_their_experiments():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids)) and not set(ids) & {c.id for c in get_task("color_maze").claims}
    assert {f"od:g:{b}" for b in ("without_alignment", "bc", "dagger", "hlrl", "dwbc", "cosil")} <= set(ids)
    assert {f"od:abl:{a}" for a in PAPER_ABLATIONS} | {"od:vis", "od:ret", "od:att", "od:l1"} <= set(ids)
    for c in CLAIMS:
        arms = EXPERIMENTS[c.experiment]
        assert set(c.arms()) <= set(arms) and set(c.others) <= set(arms), c.id
        assert c.metric in TASK.metric_names()
    by_id = {c.id: c for c in CLAIMS}
    assert by_id["od:att"].direction == "low" and by_id["od:att"].metric == "grasp_attempts"
    assert (by_id["od:vis"].policy, by_id["od:vis"].metric) == ("teacher", "visible_share")
    assert by_id["od:l1"].others == (ABLATION_REFERENCE,)


# --------------------------------------------------------------------------- SITT with every term off is PPO


def test_sitt_with_every_term_off_learns_as_sb3_ppo_on_the_drawer():
    """Same seed, same hyper-parameters: the plain-teacher arm's SITT and SB3's PPO end with the same weights (to
    float summation order) after three iterations whose roll-outs cross the time limit (timeouts bootstrapped)."""
    from stable_baselines3 import PPO

    from sitt import SITT

    kw = dict(n_steps=64, batch_size=256, n_epochs=2, ent_coef=0.0, seed=3, device="cpu")
    steps = 3 * 64 * 16  # 192 steps per env > the 100-step time limit
    sitt = SITT("MlpPolicy", OccludedDrawerEnv(16, seed=3), recipe="release", **PLAIN, **kw)
    sitt.learn(steps)
    ours = [p.detach().clone() for p in sitt.policy.parameters()]
    returns = [e["r"] for e in sitt.ep_info_buffer]
    ppo = PPO("MlpPolicy", OccludedDrawerEnv(16, seed=3), **kw)  # built after SITT learned: the same torch RNG stream
    ppo.learn(steps)
    assert len(returns) >= 16 and returns == [e["r"] for e in ppo.ep_info_buffer]
    for (name, _), a, b in zip(ppo.policy.named_parameters(), ours, ppo.policy.parameters()):
        th.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


# ------------------------------------------------------------------------------------- smoke sweep, end to end


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    from study import run_sweep

    root = tmp_path_factory.mktemp("drawer") / "runs"
    configs = experiment_configs(MAIN_EXPERIMENT, "smoke", [0]) + experiment_configs(ABLATION_EXPERIMENT, "smoke", [0])
    tuning = experiment_configs(TUNING_EXPERIMENT, "smoke", [0])
    result = run_sweep(configs + tuning, root, jobs=1, progress=False)
    assert result.ok, result.summary()
    return root, configs


@pytest.mark.slow  # the module's smoke sweep (fixture `swept`)
def test_smoke_sweep_of_both_experiments_writes_every_run(swept):
    from study.load import load_eval, load_provenance

    root, configs = swept
    rows = load_eval(root, MAIN_EXPERIMENT)
    assert set(rows["arm"]) == set(EXPERIMENTS[MAIN_EXPERIMENT]) and set(rows["task"]) == {"occluded_drawer"}
    assert len(rows) == len(EXPERIMENTS[MAIN_EXPERIMENT]) * 2 * 8  # arms x policies x held-out scenes
    sha = TASK.held_out(configs[0]).sha256
    for config in configs:
        run = config.run_dir(root)
        prov = load_provenance(run)
        assert prov["eval_set_sha256"] == sha and prov["eval_scenes_sha256"] == sha
        assert prov["train_first_scenes_sha256"] == scenes_sha256(generate_scenes(16, CFG, seed=0))
        with np.load(run / "positions.npz") as data:
            assert data["student_q"].shape == (2, CFG.time_limit + 1, 2) and data["teacher_visible"].dtype == bool
    copied = json.loads((configs[-5].run_dir(root) / "COMPLETE").read_text())
    assert configs[-5].arm == "sitt_paper" and copied["reused_from"] == f"{MAIN_EXPERIMENT}/sitt_paper/seed_0"


@pytest.mark.slow  # the module's smoke sweep (fixture `swept`)
def test_smoke_sweep_tables_claims_and_figures(swept):
    from study.load import load_eval

    root, _ = swept
    rows, abl_rows = load_eval(root, MAIN_EXPERIMENT), load_eval(root, ABLATION_EXPERIMENT)
    main = drawer_tables.main_table(rows)
    assert list(main["arm"].unique()) == list(EXPERIMENTS[MAIN_EXPERIMENT][:3]) + [
        "sitt_release", "sitt_paper", "hlrl", "dwbc", "cosil", "sitt_tuned", "bc_clipped", "dagger_clipped",
        "sitt_tuned_align", "without_alignment_align"]
    assert (main["n_seeds"] == 1).all() and len(main) == 2 * len(EXPERIMENTS[MAIN_EXPERIMENT])
    for _, r in main.iterrows():  # one seed: each mean is the run's mean over its held-out scenes
        sel = rows[(rows.arm == r.arm) & (rows.policy == r.policy)]
        assert r.success_mean == sel["success"].astype(float).mean()
        assert r.visible_mean == pytest.approx(sel["visible_share"].mean(), abs=1e-12)
        assert r.attempts_mean == sel["grasp_attempts"].mean() and r.steps_mean == sel["steps"].mean()
        assert r.return_mean == pytest.approx(sel["ep_return"].mean(), abs=1e-12)
    abl = drawer_tables.ablation_table(abl_rows)
    assert abl.attrs["reference"] == "sitt_paper" and list(abl["arm"]) == list(EXPERIMENTS[ABLATION_EXPERIMENT])
    ref = abl.set_index("arm").loc["sitt_paper"]
    assert ref["diff"] == 0.0 and ref["poi"] == 0.5
    teacher = abl_rows[(abl_rows.arm == "penalty_only") & (abl_rows.policy == "teacher")]
    assert abl.set_index("arm").loc["penalty_only", "teacher_visible_mean"] == pytest.approx(
        teacher["visible_share"].mean(), abs=1e-12)
    versus = drawer_tables.paper_comparison(rows)
    assert list(versus["arm"]) == list(drawer_tables.PAPER_MAIN)
    assert versus.set_index("arm").loc["bc", "paper_mean"] == 0.16 and (versus["n_seeds"] == 1).all()
    report_main, report_tables = TASK.report_tables({MAIN_EXPERIMENT: rows, ABLATION_EXPERIMENT: abl_rows}, {})
    pd.testing.assert_frame_equal(report_main, main)
    assert [f for f, _ in report_tables.values()] == [ABLATION_EXPERIMENT]

    table = claims.claims_table({MAIN_EXPERIMENT: rows, ABLATION_EXPERIMENT: abl_rows}, TASK.claims)
    assert list(table["id"]) == [c.id for c in CLAIMS]
    reported = table["experiment"].isin([MAIN_EXPERIMENT, ABLATION_EXPERIMENT])
    assert set(table["verdict"]) == {"inconclusive"}
    assert table.loc[reported, "evidence"].str.contains("only 1 seed").all()
    assert table.loc[~reported, "evidence"].str.startswith("no runs").all()  # the premise: not in these rows
    assert "PoI (lower is better)" in table.set_index("id").loc["od:att", "evidence"]
    empty = claims.claims_table({}, TASK.claims)
    assert empty["evidence"].str.startswith("no runs of experiment").all()

    fig = drawer_figures.approach_figure(root, MAIN_EXPERIMENT, policy="teacher", scene=1)
    assert fig.drawer_info["seed"] == 0 and fig.drawer_info["missing"] == [] and len(fig.axes) == 2
    share = rows[(rows.arm == "without_alignment") & (rows.policy == "teacher") & (rows.scene == 1)]["visible_share"]
    assert f"handle visible {float(share.iloc[0]):.0%}" in fig.axes[0].get_title()
    none = drawer_figures.approach_figure(root, ABLATION_EXPERIMENT, arms=("nope",))
    assert none.drawer_info["missing"] == ["nope"] and "no runs" in none.axes[0].get_title()
    fig.canvas.draw()


@pytest.mark.slow  # the module's smoke sweep (fixture `swept`)
def test_smoke_sweep_tuning_table(swept):
    from study.load import load_eval

    root, _ = swept
    table = tables.tuning_table(root, "occluded_drawer", "smoke")
    arms = [f"{TUNING_EXPERIMENT} / {a}" for a in EXPERIMENTS[TUNING_EXPERIMENT]]
    assert sorted(table["arm"].unique()) == sorted(arms) and (table["n_envs"] == 16).all()
    assert (table["total_timesteps"] == 384).all() and (table["n_seeds"] == 1).all()
    plain = table[table["arm"] == arms[0]]
    assert list(plain["policy"]) == ["teacher"]  # the plain teacher has no student
    rows = load_eval(root, TUNING_EXPERIMENT)
    teacher = rows[(rows.arm == "plain_teacher") & (rows.policy == "teacher")]
    assert plain["visible_mean"].iloc[0] == pytest.approx(teacher["visible_share"].mean(), abs=1e-12)
    assert tables.tuning_table(root, "occluded_drawer", "default") is None  # no probe of that profile


# ------------------------------------------------------------------------------------------------ the notebook


def test_notebook_parameters_are_validated():
    from study.params import check_notebook_parameters, notebook_defaults

    defaults = notebook_defaults(NOTEBOOK)
    assert {"profile", "root", "out", "seeds", "run", "jobs", "experiment", "sitt_arm", "scene"} <= set(defaults)
    assert defaults["experiment"] == MAIN_EXPERIMENT and defaults["ablations"] == ABLATION_EXPERIMENT
    check_notebook_parameters("60_occluded_drawer", defaults, {"profile": "smoke", "seeds": "0-1", "scene": 3})
    with pytest.raises(ValueError, match=r"parameter profile: got 'release'; allowed: smoke, default$"):
        check_notebook_parameters("60_occluded_drawer", defaults, {"profile": "release"})
    with pytest.raises(ValueError, match=r"parameter sitt_arm: got 'oracle_student'; allowed: plain_teacher, "):
        check_notebook_parameters("60_occluded_drawer", defaults, {"sitt_arm": "oracle_student"})
    with pytest.raises(ValueError, match=r"parameter scene: got '0'"):
        check_notebook_parameters("60_occluded_drawer", defaults, {"scene": "0"})
    with pytest.raises(ValueError, match=r"unknown parameter 'maze'"):
        check_notebook_parameters("60_occluded_drawer", defaults, {"maze": 0})


# --------------------------------------------------------------- generic: lower-is-better comparison claims


def _attempt_rows(x, y):
    """Eval rows of two teacher arms with per-seed grasp attempts ``x`` (sitt_paper) and ``y`` (without_alignment),
    one held-out scene per seed."""
    out = []
    for arm, values in (("sitt_paper", x), ("without_alignment", y)):
        for seed, v in enumerate(values):
            out.append(dict(arm=arm, seed=seed, policy="teacher", scene=0, success=True, visible_share=1.0,
                            grasp_attempts=v, missed_grasps=0, ep_return=1.0, steps=20, task="occluded_drawer"))
    return pd.DataFrame(out)


def _brute_poi(x, y, lower: bool) -> float:
    wins = sum((a < b if lower else a > b) + 0.5 * (a == b) for a in x for b in y)
    return wins / (len(x) * len(y))


def test_lower_is_better_comparison_claims():
    att = next(c for c in CLAIMS if c.id == "od:att")
    x, y = [1, 2, 1, 1], [3, 2, 2, 4]
    assert _brute_poi(x, y, lower=True) == 15 / 16 and _brute_poi(x, y, lower=False) == 1 / 16
    row = claims.evaluate_claim(att, _attempt_rows(x, y))
    assert "PoI (lower is better) 0.94 [" in row["evidence"] and row["mean"] == 1.25
    assert row["verdict"] in claims.VERDICTS
    high = claims.evaluate_claim(claims.Claim(**{**att.__dict__, "direction": "high"}), _attempt_rows(x, y))
    assert "PoI 0.06 [" in high["evidence"]  # the default direction: higher is better, unchanged
    # clear-cut cases decide the verdict both ways
    assert claims.evaluate_claim(att, _attempt_rows([1] * 5, [3] * 5))["verdict"] == "reproduced"
    assert claims.evaluate_claim(att, _attempt_rows([3] * 5, [1] * 5))["verdict"] == "not reproduced"
    # lower-is-better on x equals higher-is-better on -x (the same resamples: the same interval)
    neg = claims.evaluate_claim(claims.Claim(**{**att.__dict__, "direction": "high"}),
                                _attempt_rows([-v for v in x], [-v for v in y]))
    assert neg["evidence"].split("PoI ")[1] == row["evidence"].split("PoI (lower is better) ")[1]
    with pytest.raises(ValueError, match=r"^claim od:att: direction 'sideways'; allowed: high, low$"):
        claims.evaluate_claim(claims.Claim(**{**att.__dict__, "direction": "sideways"}), _attempt_rows(x, y))
