"""Every comparison at an equal budget (fair_comparison.md section 1): ArmSpec.budget_share and its whole PPO
iterations, the equal-budget arms (without_alignment_half, hlrl_eq, cosil_eq, student_rl) and the 2x readings
(sitt_2x, student_rl_2x) of each task's budget experiment, the no-teacher control (sitt.baselines.student_rl, kind
student_rl), smoke runs whose study.budget totals are SITT's, and the claims fixed before the runs."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch as th

from sitt.baselines import HLRL, StudentRL, student_rl
from sitt.baselines.student_rl import rl_parameters
from sitt.baselines.teachers import plain_teacher
from study import load, report, scorecard, tables
from study.budget import BUDGET, run_budget
from study.presets import (
    COMMON_ARMS, EQUAL_BUDGET_SPLIT, ArmSpec, budget_experiment_arms, budget_iterations, budget_readings,
    equal_budget_arms, experiments, preset,
)
from study.registry import get_kind, get_task, task_names
from study.run import run_one
from study.task import SweepPlan
from tests.sitt_helpers import cartpole, mask_cartpole, mask_pendulum, pendulum

#: the maze's budget experiment departs from every other task's (the release recipe; its 2x arms came by the rule in
#: color_maze/design.py)
BUDGET_EXCEPTIONS = {"color_maze": ("main_budget", "sitt_release", "main", True)}
#: the SITT arm of a task's budget experiment where it is not sitt_paper: the task's best configuration (its grid's
#: selection on the tuning seeds, with the alignment schedule the rule adopted there)
BUDGET_SITT_ARMS = {"fov_flight": "sitt_tuned", "occluded_drawer": "sitt_tuned_align", "minigrid_lava": "sitt_tuned"}


def _budget_experiment(task: str) -> tuple[str, str, str, bool]:
    """A registered task's budget experiment, its SITT arm, its main experiment and whether it has the 2x arms: by
    default ``<main without _main>_budget`` on the paper recipe, with the 2x arms."""
    if task in BUDGET_EXCEPTIONS:
        return BUDGET_EXCEPTIONS[task]
    main = get_task(task).main_experiment
    return (f"{main.removesuffix('_main')}_budget", BUDGET_SITT_ARMS.get(task, "sitt_paper"), main, True)


#: each registered task's budget experiment, its SITT arm, its main experiment and whether it has the 2x arms
BUDGET_EXPERIMENTS = {task: _budget_experiment(task) for task in task_names()}
EQ_ARMS = ("without_alignment_half", "hlrl_eq", "cosil_eq", "student_rl")
TWICE_ARMS = ("sitt_2x", "student_rl_2x")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _claims(task: str):
    if task == "minigrid_lava":  # MiniGrid reports its claims once runs exist (MiniGridTask.report_claims)
        from minigrid_lava.design import CLAIMS

        return CLAIMS
    return get_task(task).claims


# ------------------------------------------------------------------------------------------------- presets


def test_each_task_has_its_budget_experiment():
    table = experiments()
    for task, (experiment, sitt_arm, _, twice) in BUDGET_EXPERIMENTS.items():
        assert table[experiment] == (task, (sitt_arm, "without_alignment", "hlrl", "cosil", *EQ_ARMS,
                                            *(TWICE_ARMS if twice else ())))
        assert not set(table[experiment][1]) & {a for e, (t, arms) in table.items() if t == task and e != experiment
                                                for a in arms} - {sitt_arm, "without_alignment", "hlrl", "cosil"}
    assert EQUAL_BUDGET_SPLIT == 0.5


@pytest.mark.parametrize("task", list(BUDGET_EXPERIMENTS))
def test_shares_round_to_whole_iterations_and_add_up_to_sitt_s_budget(task):
    experiment, sitt_arm, main, twice = BUDGET_EXPERIMENTS[task]
    for profile, prof in get_task(task).profiles.items():
        sitt = preset(experiment, sitt_arm, 0, profile)
        rollout = sitt.rollout_size
        n = math.ceil(prof.total_timesteps / rollout)  # the iterations SITT makes: its budget
        assert sitt.total_timesteps == prof.total_timesteps and sitt.method == {}
        half = preset(experiment, "without_alignment_half", 0, profile)
        plain = preset(experiment, "without_alignment", 0, profile)
        assert half.kind == "sitt" and half.sitt_config() == plain.sitt_config()
        assert half.total_timesteps == math.floor(n / 2 + 0.5) * rollout  # halves rounded up, whole iterations
        for arm in ("hlrl_eq", "cosil_eq"):
            c = preset(experiment, arm, 0, profile)
            assert c.teacher_from == "without_alignment_half" and c.kind == arm[:-3]
            assert c.teacher_config().to_dict() == half.to_dict()  # the half teacher is what it builds on
            student = c.method["student_timesteps"]
            assert student % rollout == 0 and c.total_timesteps + student == n * rollout  # SITT's budget, exactly
            assert get_kind(c.kind).student_timesteps(c) == student
        control = preset(experiment, "student_rl", 0, profile)
        assert control.kind == "student_rl" and control.total_timesteps == prof.total_timesteps
        assert control.teacher_from is None and control.method == {}
        if twice:
            sitt2 = preset(experiment, "sitt_2x", 0, profile)
            assert sitt2.sitt_config() == sitt.sitt_config() and sitt2.total_timesteps == 2 * n * rollout
            assert preset(experiment, "student_rl_2x", 0, profile).total_timesteps == 2 * n * rollout
        else:
            assert "sitt_2x" not in get_task(task).arms
        # the 2x baselines are the main experiment's runs (one training key: the store copies them)
        for arm in (sitt_arm, "without_alignment", "hlrl", "cosil"):
            assert preset(experiment, arm, 3, profile).training_key() == preset(main, arm, 3, profile).training_key()


def test_today_s_arms_keep_their_configs():
    """budget_share 1.0 everywhere leaves total_timesteps and method as they were (no committed run goes stale)."""
    for task, (_, sitt_arm, main, _) in BUDGET_EXPERIMENTS.items():
        for arm in (sitt_arm, "without_alignment", "hlrl", "cosil"):
            c = preset(main, arm, 0, "default")
            assert c.total_timesteps == get_task(task).profiles["default"].total_timesteps and c.method == {}
    assert all(spec.budget_share == 1.0 for spec in COMMON_ARMS.values())


def test_the_default_profiles_split():
    """The numbers in the tasks' comments: maze 157 + 156 of 313 iterations, flight 120 + 120, drawer 150 + 150,
    MiniGrid 196 + 195 of 391."""
    for experiment, (teacher, student, rollout) in {
        "main_budget": (157, 156, 64_000), "fov_flight_budget": (120, 120, 32_768),
        "occluded_drawer_budget": (150, 150, 8192), "minigrid_budget": (196, 195, 2048),
    }.items():
        c = preset(experiment, "hlrl_eq", 0, "default")
        assert (c.total_timesteps, c.method["student_timesteps"]) == (teacher * rollout, student * rollout)


@pytest.mark.parametrize("share", [0, -0.5, float("nan"), float("inf"), True, "half", None])
def test_a_bad_budget_share_is_named(share):
    with pytest.raises(ValueError, match=r"^budget_share: got"):
        ArmSpec("sitt", "release", budget_share=share)


def test_shares_that_leave_no_iteration_or_a_kind_without_a_budget_are_named(monkeypatch):
    assert budget_iterations(0.5, 3) == 2 and budget_iterations(0.5, 4) == 2 and budget_iterations(2.0, 313) == 626
    with pytest.raises(ValueError, match=r"^budget_share: got 0.1; allowed: a share that leaves at least one"):
        budget_iterations(0.1, 3)
    arms = get_task("fov_flight").arms
    monkeypatch.setitem(arms, "student_rl_tiny", ArmSpec("student_rl", "release", {}, budget_share=0.1))
    with pytest.raises(ValueError, match=r"^budget_share: got 0.1"):
        preset("fov_flight_budget", "student_rl_tiny", 0, "smoke")
    half_teacher = dict(teacher_from="without_alignment_half")
    monkeypatch.setitem(arms, "bc_share", dataclasses.replace(COMMON_ARMS["bc"], budget_share=0.5, **half_teacher))
    with pytest.raises(ValueError, match=r"^budget_share: got 0.5 for arm 'bc_share'; allowed: 1.0 \(kind 'bc' has no"):
        preset("fov_flight_budget", "bc_share", 0, "smoke")
    # BC of the half teacher: its own budget is its roll-outs; it takes the teacher run's total_timesteps
    monkeypatch.setitem(arms, "bc_half", dataclasses.replace(COMMON_ARMS["bc"], **half_teacher))
    bc = preset("fov_flight_budget", "bc_half", 0, "smoke")
    assert bc.teacher_config().to_dict() == preset("fov_flight_budget", "without_alignment_half", 0, "smoke").to_dict()
    with pytest.raises(ValueError, match=r"^split: got 1.0"):
        equal_budget_arms(1.0)


def test_student_timesteps_is_a_field_of_the_kinds_with_a_teacher_run():
    c = preset("fov_flight_budget", "hlrl_eq", 0, "smoke")
    assert "method.student_timesteps" in c.dotted_fields()
    assert get_kind("student_rl").method_fields() == [] and "student_timesteps" in get_kind("cosil").method_fields()
    for bad in (0, 1.5, True, "many"):
        with pytest.raises(ValueError, match=r"^method\.student_timesteps: got"):
            c.override({"method.student_timesteps": bad}).validate()
    with pytest.raises(ValueError, match=r"^method\.student_timesteps: unknown field of StudentRLConfig"):
        preset("fov_flight_budget", "student_rl", 0, "smoke").override({"method.student_timesteps": 128}).validate()
    with pytest.raises(ValueError, match=r"^method\.kl_coef: got -1"):  # the method's own fields still validated
        c.override({"method.kl_coef": -1}).validate()


# ------------------------------------------------------------------------------- the no-teacher control


def _names(model) -> list[tuple[str, tuple[int, ...]]]:
    names = {id(p): n for n, p in model.policy.named_parameters()}
    return sorted((names[id(p)], tuple(p.shape)) for g in model.policy.optimizer.param_groups for p in g["params"])


@pytest.mark.parametrize("env, view", [(cartpole, mask_cartpole), (pendulum, mask_pendulum)])
def test_the_control_is_hlrl_s_student_without_a_teacher(env, view):
    kwargs = dict(n_steps=16, batch_size=32, n_epochs=2, seed=0)
    teacher = plain_teacher(env(4), n_steps=16, seed=0)
    hlrl_model = HLRL(teacher, env(4), view, **kwargs)
    model = StudentRL(env(4), view, **kwargs)
    assert _names(model) == _names(hlrl_model)  # critic and student: HLRL's optimiser, the same shapes
    assert not any(n.startswith(("mlp_extractor.policy_net", "action_net")) or n == "log_std" for n, _ in _names(model))
    assert [id(p) for p in rl_parameters(model.policy)] == [id(p) for g in model.policy.optimizer.param_groups
                                                             for p in g["params"]]
    before = {k: v.detach().clone() for k, v in model.policy.state_dict().items()}
    model.learn(64)
    after = model.policy.state_dict()
    moved = {k for k, v in after.items() if not th.equal(v, before[k])}
    assert any(k.startswith("student.encoder") for k in moved) and any(k.startswith("value_net") for k in moved)
    assert not any(k.startswith(("mlp_extractor.policy_net", "action_net")) or k == "log_std" for k in moved)
    data = next(model.rollout_buffer.get(32))
    assert model.extra_loss(data, None, None) == (None, {})  # no teacher term


def test_the_control_s_info_counts_its_own_steps_only():
    a, info = student_rl(cartpole(4), mask_cartpole, total_timesteps=128, n_steps=16, batch_size=32, n_epochs=1, seed=3)
    b, _ = student_rl(cartpole(4), mask_cartpole, total_timesteps=128, n_steps=16, batch_size=32, n_epochs=1, seed=3)
    assert info["env_steps"] == info["total_env_steps"] == 128 and info["teacher_env_steps"] == 0
    assert info["history"] == {} and info["config"] == {}
    assert all(th.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))  # seeded


@pytest.mark.slow  # PPO-trains two CartPole students (16k steps each)
def test_the_control_learns_less_without_the_velocities():
    """What the control measures: PPO alone on a velocity-blind view learns less than on the full state."""
    from tests.test_student_ppo_baselines import RANDOM_EP_LEN

    def mean_length(view):
        student, _ = student_rl(cartpole(4), view, total_timesteps=16384, n_steps=128, batch_size=256, n_epochs=4,
                                seed=0)
        env, lengths = cartpole(8, seed=99), []
        obs, current = env.reset(), np.zeros(8)
        for _ in range(500):
            obs, _, dones, _ = env.step(student.predict(view(obs))[0])
            current += 1
            lengths += list(current[dones])
            current[dones] = 0
        return float(np.mean(lengths))

    full, blind = mean_length(lambda o: np.array(o, copy=True)), mean_length(mask_cartpole)
    assert full > 2 * blind and full > 2 * RANDOM_EP_LEN  # measured: full state 110.4, velocity-blind 28.6


# ------------------------------------------------------------------------------------ smoke runs, budgets


@pytest.mark.parametrize("experiment, sitt_arm", [("fov_flight_budget", "sitt_tuned"),
                                                  ("main_budget", "sitt_release")])
def test_smoke_runs_spend_sitt_s_budget(tmp_path, experiment, sitt_arm):
    root = tmp_path / "runs"
    sitt_dir = run_one(preset(experiment, sitt_arm, 0, "smoke"), root)
    sitt_steps = load.load_provenance(sitt_dir)["env_steps"]
    assert sitt_steps == 3 * preset(experiment, sitt_arm, 0, "smoke").rollout_size  # 3 iterations: an odd split
    for arm in ("hlrl_eq", "cosil_eq", "student_rl"):
        run_dir = run_one(preset(experiment, arm, 0, "smoke"), root)
        prov = load.load_provenance(run_dir)
        budget = run_budget(run_dir)
        assert budget["total_steps"] == prov[BUDGET] == sitt_steps, arm
        if arm == "student_rl":
            assert budget["teacher_steps"] == 0 and "teacher_run" not in prov
            assert set(pd.read_csv(run_dir / "eval.csv")["policy"]) == {"student"}  # no teacher to evaluate
            assert (run_dir / "student.pt").is_file() and (run_dir / "model.zip").is_file()
        else:
            assert prov["teacher_run"]["run_id"] == f"{experiment}/without_alignment_half/seed_0"
            assert (budget["teacher_steps"], budget["own_steps"]) == (2 / 3 * sitt_steps, 1 / 3 * sitt_steps)
    if experiment == "fov_flight_budget":  # the 2x readings spend twice SITT's budget
        for arm in TWICE_ARMS:
            assert run_budget(run_one(preset(experiment, arm, 0, "smoke"), root))["total_steps"] == 2 * sitt_steps


# ------------------------------------------------------------------------------------------------ claims


@pytest.mark.parametrize("task", list(BUDGET_EXPERIMENTS))
def test_the_claims_are_fixed_and_read_arms_of_their_experiment(task):
    experiment, sitt_arm, _, twice = BUDGET_EXPERIMENTS[task]
    arms = experiments()[experiment][1]
    by_id = {c.id: c for c in _claims(task) if c.experiment == experiment}
    # the task's claim-id prefix ("" for the maze, "fov:" for the flight, ...): that of its teacher_helps claim
    tag = min((i for i in by_id if i.endswith("teacher_helps")), key=len, default="?").removesuffix("teacher_helps")
    assert tag == "" or (tag.endswith(":") and tag.count(":") == 1), tag
    expected = {f"{tag}g:hlrl_eq": (sitt_arm, ("hlrl_eq",)), f"{tag}g:cosil_eq": (sitt_arm, ("cosil_eq",)),
                f"{tag}teacher_helps": ("hlrl_eq", ("student_rl",))}
    if twice:
        expected.update({f"{tag}2x:hlrl": ("sitt_2x", ("hlrl",)), f"{tag}2x:cosil": ("sitt_2x", ("cosil",)),
                         f"{tag}2x:teacher_helps": ("hlrl", ("student_rl_2x",))})
    assert {i: (c.arm, c.others) for i, c in by_id.items()} == expected
    # a tuned SITT arm (every task's but the maze's release recipe): its wins over HLRL and COSIL are held until they
    # get its tuning effort (study.presets.hold_untuned); the teacher-helps claims compare no tuned arm
    held = {i: others for i, (arm, others) in expected.items()
            if task in BUDGET_SITT_ARMS and arm in (sitt_arm, "sitt_2x")}
    assert {i: c.untuned for i, c in by_id.items() if c.untuned} == held
    for c in by_id.values():
        assert set(c.arms()) | set(c.others) <= set(arms) and (c.policy, c.metric, c.kind) == ("student", "success",
                                                                                              "better")
        assert "budget" in c.claim
        rows = scorecard.row_of(c.id)
        assert len(rows) == 1 and rows[0].versus == c.others[0] and "budget" in rows[0].label, c.id
    ids = [c.id for c in _claims(task)]
    assert len(ids) == len(set(ids))


# ------------------------------------------------------------------------------------------ the budget table


def test_each_task_names_its_budget_plan():
    for task, (experiment, sitt_arm, _, twice) in BUDGET_EXPERIMENTS.items():
        plan = get_task(task).budget
        assert (plan.experiment, plan.sitt_arm, plan.twice) == (experiment, sitt_arm, twice)
        assert plan.arms == get_task(task).experiments[experiment]
        assert SweepPlan((experiment,), None, "0-4" if task == "minigrid_lava" else "0-9") in get_task(task).sweeps


def test_budget_readings_pair_each_method_with_its_arm_at_each_budget():
    assert budget_readings("sitt_x") == (
        ("equal", "SITT", "sitt_x"), ("equal", "HLRL", "hlrl_eq"), ("equal", "COSIL", "cosil_eq"),
        ("equal", "no teacher", "student_rl"),
        ("2x", "SITT", "sitt_2x"), ("2x", "HLRL", "hlrl"), ("2x", "COSIL", "cosil"),
        ("2x", "no teacher", "student_rl_2x"))
    assert budget_readings("sitt_x", twice=False) == (
        ("equal", "SITT", "sitt_x"), ("equal", "HLRL", "hlrl_eq"), ("equal", "COSIL", "cosil_eq"),
        ("equal", "no teacher", "student_rl"), ("2x", "HLRL", "hlrl"), ("2x", "COSIL", "cosil"))
    # every arm a reading names is an arm of the experiment
    for twice in (True, False):
        assert {arm for _, _, arm in budget_readings("sitt_x", twice)} <= set(budget_experiment_arms("sitt_x", twice))


def _drawer_rows(per_run: dict) -> pd.DataFrame:
    """Drawer eval rows: per_run {(arm, seed, policy): per-episode successes}, the other metric columns constant; each
    arm's budget: 100 steps (sitt_2x, hlrl: 200)."""
    frames = []
    for (arm, seed, policy), success in per_run.items():
        n = len(success)
        frames.append(pd.DataFrame({
            "task": "occluded_drawer", "experiment": "occluded_drawer_budget", "arm": arm, "seed": seed,
            "policy": policy, "scene": range(n), "success": success, "visible_share": 0.5, "grasp_attempts": 1.0,
            "missed_grasps": 0.0, "ep_return": 1.0, "steps": 10.0, "success_steps": 10.0,
            BUDGET: 200.0 if arm in ("sitt_2x", "hlrl") else 100.0}))
    return pd.concat(frames, ignore_index=True)


def test_budget_table_on_hand_made_rows():
    per_run = {
        # SITT at equal budget: seeds at 0.5, 1.0 and 0.75; teacher always succeeds
        **{("sitt_a", s, "student"): v for s, v in enumerate(([1, 0, 1, 0], [1, 1, 1, 1], [1, 1, 1, 0]))},
        **{("sitt_a", s, "teacher"): [1, 1, 1, 1] for s in range(3)},
        # HLRL at equal budget: 0.25, 1.0, 0.5 (teacher 0.5 on each)
        **{("hlrl_eq", s, "student"): v for s, v in enumerate(([1, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]))},
        **{("hlrl_eq", s, "teacher"): [1, 0, 1, 0] for s in range(3)},
        # the control: no teacher rows
        **{("student_rl", s, "student"): [0, 0, 0, 0] for s in range(3)},
        # at 2x: hlrl only (no sitt_2x: no PoI on that budget)
        **{("hlrl", s, "student"): [1, 1, 1, 1] for s in range(2)},
    }
    table = tables.budget_table(_drawer_rows(per_run), budget_readings("sitt_a"), n_boot=200)
    assert list(table[["budget", "method", "arm"]].itertuples(index=False, name=None)) == [
        ("equal", "SITT", "sitt_a"), ("equal", "HLRL", "hlrl_eq"), ("equal", "no teacher", "student_rl"),
        ("2x", "HLRL", "hlrl")]  # cosil_eq, sitt_2x, cosil and student_rl_2x have no runs
    assert table["n_seeds"].tolist() == [3, 3, 3, 2]
    assert table["student_mean"].tolist() == pytest.approx([0.75, 1.75 / 3, 0.0, 1.0])
    assert table[BUDGET].tolist() == [100.0, 100.0, 100.0, 200.0]
    assert table["teacher_mean"].iloc[:2].tolist() == [1.0, 0.5] and table["teacher_mean"].iloc[2:].isna().all()
    # P(SITT's seed beats the arm's seed) + 0.5 P(tie), by brute force over the seed pairs
    sitt, hlrl_eq = [0.5, 1.0, 0.75], [0.25, 1.0, 0.5]
    brute = np.mean([(a > b) + 0.5 * (a == b) for a in sitt for b in hlrl_eq])
    assert table["poi_sitt"].iloc[1] == pytest.approx(brute) and table["poi_sitt"].iloc[2] == 1.0
    assert np.isnan(table["poi_sitt"].iloc[0]) and np.isnan(table["poi_sitt"].iloc[3])  # SITT's own; no sitt_2x
    lo, hi = table["student_ci_low"].iloc[0], table["student_ci_high"].iloc[0]
    assert 0.5 <= lo <= 0.75 <= hi <= 1.0
    words = report.table_markdown(table)
    assert "P(SITT's student better)" in words and "| 2x | HLRL | hlrl | 2 | 200 |" in words


def test_the_report_shows_a_task_s_budget_table_when_its_experiment_has_rows():
    task = get_task("occluded_drawer")
    rows = _drawer_rows({("sitt_tuned_align", 0, "student"): [1, 0], ("hlrl_eq", 0, "student"): [0, 0]})
    _, without = report.report_tables(task, {}, {})
    _, with_rows = report.report_tables(task, {"occluded_drawer_budget": rows}, {})
    assert report.budget_title(task) not in without
    file, table = with_rows[report.budget_title(task)]
    assert file == "occluded_drawer_budget" and table["arm"].tolist() == ["sitt_tuned_align", "hlrl_eq"]


# ------------------------------------------------------------------------------------------- notebook facade


def test_the_notebooks_budget_reading_trains_reads_saves_and_claims(tmp_path, capsys):
    from study import io

    task, root, out = get_task("color_maze"), tmp_path / "runs", tmp_path / "out"
    assert io.budget_reading(task, None, "smoke", root, out) is None  # no runs: says so, writes nothing
    assert "NO RUNS" in capsys.readouterr().out and not out.exists()
    reading = io.budget_reading(task, None, "smoke", root, out, run=True, seeds="0", jobs=1)
    printed = capsys.readouterr().out
    assert "sweep of 'main_budget' (smoke, seeds [0])" in printed and "0 failed" in printed
    arms = budget_experiment_arms("sitt_release")
    assert set(reading.eval_df["arm"]) == set(arms) and set(reading.eval_df["seed"]) == {0}
    # the table: every reading of the maze's plan, each with its one seed; SITT's own row has no PoI
    assert list(reading.table["arm"]) == [arm for _, _, arm in task.budget.readings]
    assert set(reading.table["n_seeds"]) == {1} and np.isnan(reading.table["poi_sitt"].iloc[0])
    saved = pd.read_csv(out / "tables" / "main_budget.csv")
    assert saved["arm"].tolist() == reading.table["arm"].tolist()
    assert (out / "figures" / "main_budget_success.png").stat().st_size > 0
    # the claims: exactly the task's claims on the budget experiment, read on one seed (too few for a verdict)
    ids = [c.id for c in task.claims if c.experiment == "main_budget"]
    assert reading.claims["id"].tolist() == ids and len(ids) > 0
    assert set(reading.claims["experiment"]) == {"main_budget"}
    assert (reading.claims["verdict"] == "inconclusive").all()
