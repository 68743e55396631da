"""The premise, per task (fair_comparison.md section 4): the ``fixed_teacher`` kind (study/kinds/fixed_teacher.py),
the action-labelled teacher of BC/DAgger (sitt.baselines.imitation.ActionTeacher), the flight and drawer premise
arms, experiments, claims and tables (fov_flight/premise.py, occluded_drawer/premise.py), and a smoke sweep of both
premise experiments."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch as th
from gymnasium import spaces

from sitt.baselines import behaviour_cloning
from sitt.baselines.imitation import ActionTeacher, evaluate_fit, rollout, seed_streams, student_view
from sitt.distributions import kl_divergence
from sitt.student import StudentPolicy
from study import store
from study import sweep as sweep_mod
from study.config import ExperimentConfig
from study.kinds.fixed_teacher import KIND, load_student, reference_policy
from study.presets import experiment_configs, experiments, preset
from study.registry import get_kind, get_task
from study.run import run_one

from fov_flight import premise as flight_premise
from occluded_drawer import premise as drawer_premise

DRAWER = get_task("occluded_drawer")
FLIGHT = get_task("fov_flight")


# ------------------------------------------------------------------------------------------ the kind's settings


def test_the_kind_is_registered_without_a_teacher_run():
    assert get_kind("fixed_teacher") is KIND
    assert KIND.needs_teacher is False and KIND.method_fields() == ["teacher", "algorithm"]


@pytest.mark.parametrize("method, task, message", [
    (dict(teacher="scripted_visible", algorithm="bc", epochs=3), None,
     r"^method\.epochs: unknown field of FixedTeacherMethodConfig; allowed: teacher, algorithm$"),
    (dict(algorithm="bc"), None, r"^method\.teacher: got None; allowed: the name of one of the task's fixed teachers$"),
    (dict(teacher="scripted_visible"), None, r"^method\.algorithm: got None; allowed: bc, dagger$"),
    (dict(teacher="scripted_visible", algorithm="ppo"), None, r"^method\.algorithm: got 'ppo'; allowed: bc, dagger$"),
    (dict(teacher="scripted_fixed", algorithm="bc"), "occluded_drawer",
     r"^method\.teacher: got 'scripted_fixed'; allowed: scripted_visible, scripted_hiding$"),
    (dict(teacher="scripted_visible", algorithm="bc"), "fov_flight",
     r"^method\.teacher: got 'scripted_visible'; allowed: scripted_along_velocity, scripted_fixed, hlrl_student$"),
    (dict(teacher="anything", algorithm="bc"), "color_maze",
     r"^method\.teacher: got 'anything'; allowed: none \(the task names no fixed teacher\)$"),
])
def test_method_validation_names_the_field_and_the_allowed_values(method, task, message):
    with pytest.raises(ValueError, match=message):
        KIND.check_method(method, None if task is None else get_task(task))


def test_configs_validate_the_method_and_refuse_a_teacher_run():
    config = preset(drawer_premise.PREMISE_EXPERIMENT, "premise_bc_view", 0, "smoke")
    assert config.kind == "fixed_teacher" and config.teacher_from is None
    with pytest.raises(ValueError, match=r"^method\.algorithm: got 'ppo'; allowed: bc, dagger$"):
        config.override({"method.algorithm": "ppo"}).validate()
    with pytest.raises(ValueError, match=r"^method\.color: unknown field of FixedTeacherMethodConfig"):
        config.replace(method=dict(config.method, color="red")).validate()
    with pytest.raises(ValueError, match=r"^teacher_from: got 'without_alignment'; allowed: None"):
        config.replace(teacher_from="without_alignment").validate()
    back = ExperimentConfig.from_json(config.to_json()).validate()
    assert back == config and back.method == {"teacher": "scripted_visible", "algorithm": "bc"}


def test_an_unknown_teacher_fails_when_the_run_starts_and_leaves_nothing(tmp_path):
    config = preset(drawer_premise.PREMISE_EXPERIMENT, "premise_bc_view", 0, "smoke")
    bad = config.replace(method=dict(teacher="scripted_fixed", algorithm="bc")).validate()  # the form is fine
    with pytest.raises(ValueError, match=r"^method\.teacher: got 'scripted_fixed'; allowed: scripted_visible, "):
        run_one(bad, tmp_path)
    assert not bad.run_dir(tmp_path).exists() and not list(bad.run_dir(tmp_path).parent.glob("*.tmp-*"))


# ------------------------------------------------------------------------------------- arms, experiments, claims


@pytest.mark.parametrize("module, task, n_arms", [(flight_premise, FLIGHT, 6), (drawer_premise, DRAWER, 4)])
def test_premise_arms_experiments_and_claims_are_registered(module, task, n_arms):
    assert experiments()[module.PREMISE_EXPERIMENT] == (task.name, module.PREMISE_ARMS_ORDER)
    assert len(module.PREMISE_ARMS_ORDER) == n_arms and tuple(module.PREMISE_ARMS) == module.PREMISE_ARMS_ORDER
    assert task.fixed_teachers is module.FIXED_TEACHERS
    for arm, spec in module.PREMISE_ARMS.items():
        assert task.arms[arm] is spec and spec.kind == "fixed_teacher" and spec.teacher_from is None
        method = KIND.check_method(spec.method, task)  # every arm names one of its task's teachers
        assert arm == f"premise_{method.algorithm}_{arm.split('_')[2]}"
    # reported: seeds 0-9, never the tuning seeds
    configs = experiment_configs(module.PREMISE_EXPERIMENT, "default", range(10))
    assert len(configs) == 10 * n_arms and {c.seed for c in configs} == set(range(10))
    with pytest.raises(ValueError, match=r"^seed: got 100; allowed: any seed except the tuning seeds"):
        preset(module.PREMISE_EXPERIMENT, "premise_bc_view", 100, "default")
    # the claims, fixed before the runs: the view-keeping teacher's student beats the other's, DAgger and BC
    claims = [c for c in task.claims if c.experiment == module.PREMISE_EXPERIMENT]
    assert claims == list(module.PREMISE_CLAIMS) and len(claims) == 2
    for claim, alg in zip(claims, ("dagger", "bc")):
        assert (claim.arm, claim.others, claim.policy, claim.metric, claim.kind, claim.direction) == (
            f"premise_{alg}_view", (f"premise_{alg}_hidden",), "student", "success", "better", "high")
        assert "P(X > Y) + 0.5 P(X = Y)" in claim.claim and "above 0.5" in claim.claim  # the rule, in words
    ids = [c.id for c in task.claims]
    assert len(ids) == len(set(ids))
    view, hidden = (module.PREMISE_ARMS[f"premise_bc_{w}"].method["teacher"] for w in ("view", "hidden"))
    assert (view, hidden) == (("scripted_along_velocity", "scripted_fixed") if task is FLIGHT
                              else ("scripted_visible", "scripted_hiding"))


# ------------------------------------------------------------------------------- BC against actions (ActionTeacher)


def _drawer_setup(seed=0):
    config = preset(drawer_premise.PREMISE_EXPERIMENT, "premise_bc_view", seed, "smoke")
    env = DRAWER.train_env(config)
    view = DRAWER.student_obs_fn(env)
    reference = reference_policy(config, DRAWER, env)
    probe = student_view(view, np.zeros((1, *env.observation_space.shape), env.observation_space.dtype))
    student = StudentPolicy(reference, student_obs_shape=probe.shape[1:], net_arch=config.imitation.student_net_arch,
                            seed=seed_streams(seed, 4)[2])
    act = DRAWER.fixed_teachers["scripted_visible"](config, seed, None)
    return config, env, view, student, ActionTeacher(act, env.action_space, student.log_std)


def test_action_teacher_labels_are_its_actions_and_the_loss_a_scaled_squared_error():
    config, env, view, student, teacher = _drawer_setup()
    obs = env.reset()
    labels = teacher.outputs(obs)
    np.testing.assert_array_equal(labels.numpy(), np.asarray(teacher.act(obs), dtype=np.float32))
    mu = student.logits(view(obs)).detach()
    sigma2 = th.exp(2 * student.log_std)
    np.testing.assert_allclose(kl_divergence(teacher, labels, mu).numpy(),
                               (0.5 * ((labels - mu) ** 2) / sigma2).sum(-1).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"^action_space: got Discrete\(3\); allowed: a flat Box"):
        ActionTeacher(teacher.act, spaces.Discrete(3), th.zeros(1))
    with pytest.raises(ValueError, match=r"^act: returned shape \(16, 2\) for 16 observations; allowed: \(16, 3\)$"):
        ActionTeacher(lambda o: np.zeros((len(o), 2)), env.action_space, student.log_std).outputs(obs)
    with pytest.raises(AttributeError, match="pass it as `student=`"):  # it owns no network to size a student from
        behaviour_cloning(teacher, env, view, n_steps_per_env=2, epochs=1)


def test_bc_against_a_scripted_teacher_reaches_a_lower_loss_after_fitting():
    config, env, view, student, teacher = _drawer_setup()
    before = copy.deepcopy(student)
    kwargs = dict(config.imitation.bc_kwargs(), deterministic_teacher=True)
    kwargs.pop("net_arch", None)
    trained, info = behaviour_cloning(teacher, env, view, seed=config.seed, student=student, **kwargs)
    # the same data again: the deterministic teacher from the env seed BC used
    env.seed(seed_streams(config.seed, 4)[0])
    data = rollout(env, teacher, config.imitation.bc_n_steps_per_env, beta=1.0, deterministic_teacher=True)
    student_obs = view(data.teacher_obs)
    first = evaluate_fit(before, teacher, student_obs, data.teacher_obs)
    last = evaluate_fit(trained, teacher, student_obs, data.teacher_obs)
    assert last["loss"] == pytest.approx(info["final_loss"], rel=1e-5)  # the data BC fitted
    assert last["loss"] < first["loss"] and last["agreement"] > first["agreement"]
    assert info["losses"][-1] < info["losses"][0] and info["dataset_size"] == 128


# --------------------------------------------------------------------------------------------- smoke sweep


@pytest.mark.slow  # starts a Python process per sweep (torch import each)
def test_smoke_sweep_of_both_premise_experiments(tmp_path):
    from study.load import load_eval, load_provenance

    root = str(tmp_path)
    common = ["--profile", "smoke", "--seeds", "0", "--jobs", "1", "--root", root, "--no-progress"]
    # the flight's hlrl_student teacher is the HLRL run of the same store and profile: run it first
    assert sweep_mod.main(["--experiment", "fov_flight_main", "--arms", "hlrl", *common]) == 0
    for module, n_arms, n_episodes in ((drawer_premise, 4, 8), (flight_premise, 6, 8)):
        assert sweep_mod.main(["--experiment", module.PREMISE_EXPERIMENT, *common]) == 0
        rows = load_eval(tmp_path, module.PREMISE_EXPERIMENT)
        assert set(rows["arm"]) == set(module.PREMISE_ARMS_ORDER)
        assert len(rows) == n_arms * 2 * n_episodes and set(rows["policy"]) == {"teacher", "student"}
        for arm in module.PREMISE_ARMS_ORDER:
            run = tmp_path / module.PREMISE_EXPERIMENT / arm / "seed_0"
            marker = json.loads((run / store.MARKER).read_text())
            assert {"student.pt", "imitation.csv", "imitation.json", "eval.csv"} <= set(marker["files"])
            assert "model.zip" not in marker["files"]
            spec = module.PREMISE_ARMS[arm]
            n_envs = preset(module.PREMISE_EXPERIMENT, arm, 0, "smoke").env.n_envs
            steps = 8 if spec.method["algorithm"] == "bc" else 2 * 8  # smoke: bc 8 steps, dagger 2 x 8 per env
            assert marker["env_steps"] == steps * n_envs
            prov = load_provenance(run)
            assert prov["fixed_teacher"]["name"] == spec.method["teacher"] and prov["fixed_teacher"]["deterministic"]
            table = pd.read_csv(run / store.IMITATION_CSV)
            assert len(table) == (2 if spec.method["algorithm"] == "bc" else 2 * 2)  # epochs (x iterations)
            student = load_student(run)  # rebuilt on the reference policy of the run's config
            assert student.observation_space.shape == ((14,) if module is drawer_premise else (22,))  # the views
    # the scripted teachers solve the held-out episodes; the flight pair flies the same paths, headings apart
    rows = load_eval(tmp_path, drawer_premise.PREMISE_EXPERIMENT)
    assert rows[rows["policy"] == "teacher"]["success"].astype(bool).all()
    rows = load_eval(tmp_path, flight_premise.PREMISE_EXPERIMENT)
    teach = rows[rows["policy"] == "teacher"].set_index(["arm", "world"])
    view, held = teach.loc["premise_bc_view"], teach.loc["premise_bc_hidden"]
    np.testing.assert_array_equal(view["success"].to_numpy(), held["success"].to_numpy())
    np.testing.assert_allclose(view["path_length"].to_numpy(), held["path_length"].to_numpy())
    assert view["velocity_angle_deg"].mean() < held["velocity_angle_deg"].mean()
    # the HLRL teacher IS the stored HLRL student: its evaluation repeats that run's student rows
    hlrl = load_eval(tmp_path, "fov_flight_main")
    hlrl = hlrl[(hlrl["arm"] == "hlrl") & (hlrl["policy"] == "student")].set_index("world")
    ours = teach.loc["premise_dagger_hlrl"]
    for col in ("success", "steps", "path_length", "velocity_angle_deg"):
        np.testing.assert_array_equal(ours[col].to_numpy(), hlrl[col].to_numpy())
    source = load_provenance(tmp_path / flight_premise.PREMISE_EXPERIMENT / "premise_bc_hlrl" / "seed_0")
    assert source["fixed_teacher"]["source"]["run_id"] == "fov_flight_main/hlrl/seed_0"
    # the tables of the smoke rows: one row per arm, one seed
    table = drawer_premise.premise_table(load_eval(tmp_path, drawer_premise.PREMISE_EXPERIMENT))
    assert table["arm"].tolist() == list(drawer_premise.PREMISE_ARMS_ORDER) and set(table["n_seeds"]) == {1}
    table = flight_premise.premise_table(rows)
    assert table["arm"].tolist() == list(flight_premise.PREMISE_ARMS_ORDER)


def test_the_hlrl_teacher_needs_its_run(tmp_path):
    config = preset(flight_premise.PREMISE_EXPERIMENT, "premise_bc_hlrl", 3, "smoke")
    with pytest.raises(ValueError, match=r"^method\.teacher: 'hlrl_student' is the student of the run "
                                         r"fov_flight_main/hlrl/seed_3, which is not complete under .*--arms hlrl "
                                         r"--seeds 3 --profile smoke"):
        run_one(config, tmp_path)


# ------------------------------------------------------------------------------------------- the premise tables


def _rows(task: str, episode: str, per_run: dict) -> pd.DataFrame:
    """Eval rows: per_run {(arm, seed, policy): {column: per-episode values}}."""
    frames = []
    for (arm, seed, policy), cols in per_run.items():
        n = len(next(iter(cols.values())))
        frames.append(pd.DataFrame({"task": task, "experiment": "x", "arm": arm, "seed": seed, "policy": policy,
                                    episode: range(n), **cols}))
    return pd.concat(frames, ignore_index=True)


def test_drawer_premise_table_on_hand_made_rows():
    per_run = {
        # premise_bc_view: teacher always succeeds with the handle in view; student 0.75 and 0.5 on the two seeds
        ("premise_bc_view", 0, "teacher"): dict(success=[True] * 4, visible_share=[1.0, 1.0, 1.0, 1.0]),
        ("premise_bc_view", 1, "teacher"): dict(success=[True] * 4, visible_share=[1.0, 1.0, 1.0, 1.0]),
        ("premise_bc_view", 0, "student"): dict(success=[True, True, False, True], visible_share=[1.0, 0.5, 0.5, 1.0]),
        ("premise_bc_view", 1, "student"): dict(success=[True, False, False, True], visible_share=[1.0, 1.0, 0.5, 0.5]),
        # premise_dagger_hidden: the hiding teacher, a student that never succeeds
        ("premise_dagger_hidden", 0, "teacher"): dict(success=[1, 1, 1, 1], visible_share=[0.25, 0.25, 0.25, 0.25]),
        ("premise_dagger_hidden", 0, "student"): dict(success=[0, 0, 0, 0], visible_share=[0.0, 0.5, 0.0, 0.5]),
        # an arm of another experiment: left out
        ("bc", 0, "student"): dict(success=[1, 1, 1, 1], visible_share=[1.0] * 4),
    }
    table = drawer_premise.premise_table(_rows("occluded_drawer", "scene", per_run))
    expected = pd.DataFrame([
        dict(arm="premise_bc_view", teacher="scripted_visible", algorithm="bc", n_seeds=2,
             teacher_success_mean=1.0, teacher_success_ci_low=1.0, teacher_success_ci_high=1.0,
             teacher_visible_share_mean=1.0, teacher_visible_share_ci_low=1.0, teacher_visible_share_ci_high=1.0,
             student_success_mean=0.625, student_success_ci_low=0.5, student_success_ci_high=0.75,
             student_visible_share_mean=0.75, student_visible_share_ci_low=0.75, student_visible_share_ci_high=0.75),
        dict(arm="premise_dagger_hidden", teacher="scripted_hiding", algorithm="dagger", n_seeds=1,
             teacher_success_mean=1.0, teacher_success_ci_low=1.0, teacher_success_ci_high=1.0,
             teacher_visible_share_mean=0.25, teacher_visible_share_ci_low=0.25, teacher_visible_share_ci_high=0.25,
             student_success_mean=0.0, student_success_ci_low=0.0, student_success_ci_high=0.0,
             student_visible_share_mean=0.25, student_visible_share_ci_low=0.25, student_visible_share_ci_high=0.25),
    ])
    pd.testing.assert_frame_equal(table, expected)
    assert drawer_premise.premise_table(_rows("occluded_drawer", "scene", {k: v for k, v in per_run.items()
                                                                           if k[0] == "bc"})).empty


def test_flight_premise_table_on_hand_made_rows():
    per_run = {
        ("premise_dagger_view", 0, "teacher"): dict(success=[1, 1], velocity_angle_deg=[2.0, 4.0],
                                                    pillars_in_view=[3.0, 1.0]),
        ("premise_dagger_view", 0, "student"): dict(success=[1, 0], velocity_angle_deg=[10.0, np.nan],
                                                    pillars_in_view=[2.0, 2.0]),
        ("premise_dagger_view", 1, "student"): dict(success=[0, 0], velocity_angle_deg=[30.0, 50.0],
                                                    pillars_in_view=[1.0, 0.0]),
        ("premise_bc_hlrl", 0, "student"): dict(success=[1, 1], velocity_angle_deg=[5.0, 5.0],
                                                pillars_in_view=[1.0, 1.0]),
    }
    table = flight_premise.premise_table(_rows("fov_flight", "world", per_run))
    assert table["arm"].tolist() == ["premise_dagger_view", "premise_bc_hlrl"]  # PREMISE_ARMS_ORDER
    assert table.columns.tolist()[:4] == ["arm", "teacher", "algorithm", "n_seeds"]
    view = table.iloc[0]
    assert (view["teacher"], view["algorithm"], view["n_seeds"]) == ("scripted_along_velocity", "dagger", 2)
    assert (view["teacher_success_mean"], view["teacher_velocity_angle_deg_mean"],
            view["teacher_pillars_in_view_mean"]) == (1.0, 3.0, 2.0)
    # student: per seed success 0.5 and 0.0; velocity angle 10 (NaN skipped) and 40; pillars 2.0 and 0.5
    assert (view["student_success_mean"], view["student_success_ci_low"], view["student_success_ci_high"]) == \
        (0.25, 0.0, 0.5)
    assert (view["student_velocity_angle_deg_mean"], view["student_velocity_angle_deg_ci_low"],
            view["student_velocity_angle_deg_ci_high"]) == (25.0, 10.0, 40.0)
    assert (view["student_pillars_in_view_mean"], view["student_pillars_in_view_ci_low"],
            view["student_pillars_in_view_ci_high"]) == (1.25, 0.5, 2.0)
    hlrl = table.iloc[1]
    assert (hlrl["teacher"], hlrl["algorithm"], hlrl["n_seeds"]) == ("hlrl_student", "bc", 1)
    assert np.isnan(hlrl["teacher_success_mean"]) and hlrl["student_success_mean"] == 1.0  # no teacher rows: NaN


def test_fixed_teacher_runs_wait_for_every_other_run_of_the_sweep(tmp_path):
    """The flight's HLRL-student teacher reads fov_flight_main/hlrl/seed_k when its run starts: in one sweep with the
    hlrl runs, the fixed-teacher runs form a third wave after them (the smoke sweep of every notebook's experiments
    failed without it)."""
    from study.presets import experiment_configs
    from study.sweep import late_waves, plan

    configs = (experiment_configs("fov_flight_premise", "smoke", [0])
               + experiment_configs("fov_flight_main", "smoke", [0], arms=["without_alignment", "hlrl"]))
    first, second, added = plan(configs, tmp_path)
    waves = late_waves(first, second)
    assert [c.kind for c in waves[2]] == ["fixed_teacher"] * 6
    assert {c.arm for c in waves[0] + waves[1]} == {"without_alignment", "hlrl"}
    assert sum(map(len, waves)) == len(first) + len(second)
