"""The experiment layer: configs as data, presets, the run store (run_one), sweeps and loading.

Trainings here are tiny (8 envs x 8 steps, 2 iterations, 3 held-out mazes x 20 steps): they check the plumbing, not
learning.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import study as ex
from sitt.algorithm import SITT
from study import store
from study import sweep as sweep_mod
from study.config import ExperimentConfig
from color_maze.design import ARMS, DEFAULT_PROFILE, EXPERIMENTS, PROFILES, eval_grids, mazes_sha256
from color_maze.task import TASK
from study.presets import preset
from study.run import StaleRunError, run_one


def make_train_env(config):
    return TASK.train_env(config)

REPO = Path(__file__).resolve().parents[1]
TINY = {
    "env.n_envs": 8,
    "ppo.n_steps": 8,
    "total_timesteps": 128,  # 2 iterations of 64 steps
    "eval.n_mazes": 3,
    "eval.n_steps": 20,
    "imitation.bc_n_steps_per_env": 4,
    "imitation.dagger_n_steps_per_env": 4,
    "imitation.dagger_iterations": 2,
}
RUN_FILES = {"config.json", "provenance.json", "progress.csv", "eval.csv", "positions.npz", "model.zip", "COMPLETE"}
IMITATION_FILES = {"config.json", "provenance.json", "imitation.csv", "imitation.json", "eval.csv", "positions.npz",
                   "model.zip", "student.pt", "COMPLETE"}


def tiny(arm: str = "sitt_release", seed: int = 0, experiment: str = "t") -> ExperimentConfig:
    return preset(experiment, arm, seed, "smoke", task="color_maze").override(TINY).validate()


@pytest.fixture(autouse=True)
def _restore_threads():
    """run_one sets torch to one thread for the process; give the other test modules their setting back."""
    threads = torch.get_num_threads()
    env = {k: os.environ.get(k)
           for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")}
    yield
    torch.set_num_threads(threads)
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---------------------------------------------------------------------------------------------------------- config


def test_config_round_trip_through_json():
    config = tiny("quirks_fixed", seed=3).override({"env.quirks": {"float64_obs": False}, "switches.reward_coef": 0.7})
    config.validate()
    text = json.dumps(config.to_dict())
    back = ExperimentConfig.from_dict(json.loads(text))
    assert back == config
    assert back.to_dict() == config.to_dict()
    assert ExperimentConfig.from_json(config.to_json()) == config
    assert back.run_id == "t/quirks_fixed/seed_3"
    assert back.relative_dir == Path("t", "quirks_fixed", "seed_3")
    assert back.sitt_config().reward_coef == 0.7
    # a config written before a field existed still loads (missing keys take defaults)
    old = config.to_dict()
    del old["tensorboard"], old["ppo"]["max_grad_norm"]
    assert ExperimentConfig.from_dict(old).validate().ppo.max_grad_norm == 0.5


BAD_FIELDS = [
    ("experiment", "../escape"),
    ("arm", ""),
    ("profile", "a/b"),
    ("seed", -1),
    ("seed", 20250101),  # the held-out maze seed may never train
    ("kind", "rl"),
    ("recipe", "preprint"),
    ("switches.reward_coef", -1.0),
    ("switches.update_term", "l2"),
    ("switches.no_such_switch", 1),
    ("switches.recipe", "paper"),
    ("env.n_envs", 0),
    ("env.grid_size", 3),
    ("env.margin_size", 10),
    ("env.quirks", "mostly"),
    ("env.quirks", {"no_such_quirk": True}),
    ("ppo.n_steps", 0),
    ("ppo.batch_size", 0),
    ("ppo.batch_size", 10_000),
    ("ppo.n_epochs", 0),
    ("ppo.learning_rate", 0.0),
    ("ppo.gamma", 1.5),
    ("ppo.gae_lambda", -0.1),
    ("ppo.clip_range", 0),
    ("ppo.ent_coef", float("nan")),
    ("ppo.vf_coef", -1),
    ("ppo.max_grad_norm", 0),
    ("eval.n_mazes", 0),
    ("eval.maze_seed", -5),
    ("eval.n_steps", 0),
    ("imitation.bc_epochs", 0),
    ("imitation.bc_batch_size", 0),
    ("imitation.bc_lr", -1e-3),
    ("imitation.dagger_iterations", 0),
    ("imitation.dagger_beta0", 1.5),
    ("imitation.dagger_beta_decay", -0.5),
    ("imitation.deterministic_teacher", "yes"),
    ("total_timesteps", 10),  # less than one roll-out
    ("total_timesteps", 3e6),  # a float, not an integer
    ("teacher_from", "without_alignment"),  # a sitt run reuses no teacher
    ("device", ""),
    ("tensorboard", "no"),
]


@pytest.mark.parametrize("field,value", BAD_FIELDS, ids=[f"{f}={v!r}" for f, v in BAD_FIELDS])
def test_every_validation_error_names_its_field(field, value):
    config = tiny().override({field: value})
    with pytest.raises(ValueError, match=rf"^{field.replace('.', '[.]')}:"):
        config.validate()


def test_bc_validation_names_teacher_from():
    with pytest.raises(ValueError, match=r"^teacher_from:"):
        tiny("bc").replace(teacher_from=None).validate()
    with pytest.raises(ValueError, match=r"^teacher_from:"):
        tiny("bc").replace(teacher_from="bc").validate()


def test_from_dict_and_override_name_unknown_fields():
    data = tiny().to_dict()
    data["env"]["colour"] = "red"
    with pytest.raises(ValueError, match=r"^env[.]colour: unknown field"):
        ExperimentConfig.from_dict(data)
    with pytest.raises(ValueError, match=r"^budget: unknown field"):
        ExperimentConfig.from_dict({**tiny().to_dict(), "budget": 1})
    with pytest.raises(ValueError, match=r"^ppo[.]nsteps: unknown field"):
        tiny().override({"ppo.nsteps": 8})


def test_bad_config_fails_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(SITT, "learn", lambda *a, **k: pytest.fail("trained a bad config"))
    with pytest.raises(ValueError, match=r"^ppo[.]batch_size:"):
        run_one(tiny().override({"ppo.batch_size": 1}), tmp_path / "runs")
    assert not (tmp_path / "runs").exists()
    with pytest.raises(ValueError, match=r"^switches[.]reward_sign:"):
        sweep_mod.sweep([tiny(seed=1), tiny().override({"switches.reward_sign": 2})], tmp_path / "runs", progress=False)
    assert not (tmp_path / "runs").exists()


# --------------------------------------------------------------------------------------------------------- presets


def test_presets_exist_for_every_arm_of_every_experiment():
    for experiment, arms in EXPERIMENTS.items():
        assert len(set(arms)) == len(arms)
        for profile in PROFILES:
            configs = ex.experiment_configs(experiment, profile, seeds=[0, 1])
            assert [(c.arm, c.seed) for c in configs] == [(a, s) for s in (0, 1) for a in arms]  # seed-major
            for config in configs:
                assert config.experiment == experiment
                assert config.profile == ex.experiment_profile(experiment, profile)  # main_release_schedule: release
                config.validate()
                assert config.kind == ARMS[config.arm].kind
    used = {arm for arms in EXPERIMENTS.values() for arm in arms}
    assert used == set(ARMS), f"arms in no experiment: {set(ARMS) - used}"
    assert {"plain_teacher", "bc", "dagger", "without_alignment", "sitt_release", "sitt_paper"} <= set(
        EXPERIMENTS["main"])
    assert list(EXPERIMENTS) == ["main", "ablations", "main_release_schedule", "seed_grid", "release_vs_paper",
                                 "main_budget"]
    # equal budgets, fixed before their runs; the 2x arms by the rule fixed before the equal-budget students' runs
    assert EXPERIMENTS["main_budget"] == ("sitt_release", "without_alignment", "hlrl", "cosil",
                                          "without_alignment_half", "hlrl_eq", "cosil_eq", "student_rl",
                                          "sitt_2x", "student_rl_2x")
    with pytest.raises(ValueError, match=r"^arm:"):
        preset("main", "no_such_arm", 0, "smoke")
    with pytest.raises(ValueError, match=r"^profile:"):
        preset("main", "bc", 0, "huge")
    with pytest.raises(ValueError, match=r"^arms:"):
        ex.experiment_configs("main", "smoke", [0], arms=["penalty_only"])


def test_arms_encode_what_their_names_say():
    cfg = lambda arm: preset("x", arm, 0, "smoke", task="color_maze")  # noqa: E731
    plain = cfg("plain_teacher").sitt_config()
    assert not plain.uses_student
    no_align = cfg("without_alignment").sitt_config()
    assert no_align.align and not no_align.reward_term and no_align.update_term == "off"
    assert cfg("sitt_release").sitt_config().reward_sign == 1 and cfg("sitt_release").recipe == "release"
    paper = cfg("sitt_paper").sitt_config()
    assert paper.reward_sign == -1 and paper.update_term == "kl"
    assert cfg("penalty_only").sitt_config().update_term == "off" and cfg("penalty_only").sitt_config().reward_term
    assert not cfg("kl_gradient_only").sitt_config().reward_term
    assert cfg("kl_gradient_only").sitt_config().update_term != "off"
    assert cfg("no_shared_head").sitt_config().shared_head is False
    assert cfg("oracle_student").sitt_config().kl_source == "student"
    assert cfg("quirks_fixed").env.quirks == "fixed" and cfg("sitt_release").env.quirks == "release"
    assert cfg("release_paper_sign").sitt_config().reward_sign == -1
    assert cfg("release_paper_sign").sitt_config().update_term == "feature_l1"
    assert cfg("release_kl_update").sitt_config().update_term == "kl"
    assert cfg("release_kl_update").sitt_config().reward_sign == 1
    for coef in (0.5, 1, 4):
        s = cfg(f"lambda1_bonus_{coef:g}").sitt_config()
        assert (s.reward_sign, s.reward_coef) == (1, coef)
    for coef in (0.05, 0.5, 1.9):
        s = cfg(f"lambda1_penalty_{coef:g}").sitt_config()
        assert (s.reward_sign, s.reward_coef) == (-1, coef)
    for arm in ("bc", "dagger"):
        assert cfg(arm).teacher_from == "without_alignment"


def test_profiles():
    release = preset("main", "sitt_release", 0, "release")
    assert (release.env.n_envs, release.ppo.n_steps, release.ppo.batch_size, release.ppo.n_epochs) == (
        1000, 250, None, 10)
    assert release.total_timesteps == 100_000_000 and release.sitt_config().align_epochs == 20
    assert release.ppo.sb3_kwargs(release.env.n_envs)["batch_size"] == 250_000
    smoke = preset("main", "sitt_release", 0, "smoke")
    assert smoke.total_timesteps // smoke.rollout_size in (2, 3) and smoke.sitt_config().align_epochs == 2
    default = preset("main", "sitt_release", 0, "default")
    assert PROFILES["default"] is DEFAULT_PROFILE
    assert default.total_timesteps == DEFAULT_PROFILE.total_timesteps
    assert default.ppo.n_steps == DEFAULT_PROFILE.ppo.n_steps and default.env.n_envs == DEFAULT_PROFILE.env.n_envs


@pytest.mark.parametrize("profile", list(PROFILES))
def test_bc_and_dagger_teacher_is_the_without_alignment_run(profile):
    for arm in ("bc", "dagger"):
        config = preset("main", arm, 4, profile)
        assert config.teacher_config() == preset("main", "without_alignment", 4, profile)


# --------------------------------------------------------------------------------------------------------- run_one


def test_run_one_writes_every_file_and_the_marker_last(tmp_path, monkeypatch):
    published: list[str] = []
    real_replace = store._replace

    def spy(src, dst):
        published.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(store, "_replace", spy)
    config = tiny("sitt_release")
    run_dir = run_one(config, tmp_path)
    assert run_dir == tmp_path / "t" / "sitt_release" / "seed_0"
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    assert published[-1] == "COMPLETE" and published.count("COMPLETE") == 1
    assert set(published) == RUN_FILES
    mtimes = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}
    assert mtimes["COMPLETE"] >= max(mtimes.values())
    assert not list(tmp_path.glob("t/sitt_release/*.tmp-*"))

    assert ExperimentConfig.from_dict(json.loads((run_dir / "config.json").read_text())) == config
    prov = json.loads((run_dir / "provenance.json").read_text())
    for key in ("git", "packages", "python", "cpu", "torch_threads", "wall_s", "env_steps_per_s", "eval_mazes_sha256"):
        assert key in prov, key
    assert set(prov["git"]) == {"commit", "dirty"}
    assert prov["torch_threads"]["intra_op"] == 1 and prov["env_steps"] == 128
    assert {"torch", "stable-baselines3", "gymnasium", "numpy", "pandas", "sitt"} <= set(prov["packages"])
    progress = pd.read_csv(run_dir / "progress.csv")
    assert list(progress["time/total_timesteps"]) == [64, 128]
    eval_df = pd.read_csv(run_dir / "eval.csv")
    from color_maze.evaluate import COLUMNS
    assert list(eval_df.columns) == ["policy"] + [c for c in COLUMNS if c != "positions"]
    assert sorted(eval_df["policy"].unique()) == ["student", "teacher"] and len(eval_df) == 2 * 3
    assert set(eval_df["route"]) <= {"path", "detour", "failed"}
    with np.load(run_dir / "positions.npz") as npz:
        assert set(npz.files) == {"teacher", "student"}
        for name in npz.files:
            assert npz[name].dtype == np.int16 and npz[name].shape == (3, 21, 2)
            assert (npz[name][:, 0] == [10, 19]).all()  # every evaluation starts at the start cell
    marker = store.read_marker(run_dir)
    assert marker["run_id"] == "t/sitt_release/seed_0"
    assert set(marker["policies"]) == {"teacher", "student"}
    model = ex.load_model(run_dir)
    assert model.sitt_config == config.sitt_config()


def test_plain_teacher_run_has_no_student(tmp_path):
    run_dir = run_one(tiny("plain_teacher"), tmp_path)
    assert set(pd.read_csv(run_dir / "eval.csv")["policy"]) == {"teacher"}
    assert set(np.load(run_dir / "positions.npz").files) == {"teacher"}
    with pytest.raises(ValueError, match="policy"):
        ex.load_positions(run_dir, "student")


def test_complete_run_returns_at_once_and_a_stale_one_is_refused(tmp_path, monkeypatch):
    config = tiny("plain_teacher")
    run_dir = run_one(config, tmp_path)
    marker_time = (run_dir / "COMPLETE").stat().st_mtime_ns

    def no_training(*args, **kwargs):
        raise AssertionError("trained a complete run")

    monkeypatch.setattr(SITT, "learn", no_training)
    assert run_one(config, tmp_path) == run_dir
    assert (run_dir / "COMPLETE").stat().st_mtime_ns == marker_time
    with pytest.raises(StaleRunError, match="ppo.n_epochs"):
        run_one(config.override({"ppo.n_epochs": 3}), tmp_path)
    # force retrains; a failure while doing so leaves the old complete run untouched
    with pytest.raises(AssertionError, match="trained a complete run"):
        run_one(config, tmp_path, force=True)
    assert store.is_complete(run_dir) and (run_dir / "COMPLETE").stat().st_mtime_ns == marker_time
    assert not list(run_dir.parent.glob("*.tmp-*"))


def test_force_replaces_a_complete_run(tmp_path):
    config = tiny("plain_teacher")
    run_dir = run_one(config, tmp_path)
    first = store.read_marker(run_dir)["finished_at"], (run_dir / "COMPLETE").stat().st_mtime_ns
    run_one(config, tmp_path, force=True)
    assert (run_dir / "COMPLETE").stat().st_mtime_ns != first[1]
    assert store.is_complete(run_dir) and not list(run_dir.parent.glob("*.tmp-*"))


def test_a_run_failing_half_way_leaves_no_result_and_the_next_completes_it(tmp_path, monkeypatch):
    config = tiny("sitt_release")
    calls = {"n": 0}
    real_train = SITT.train

    def train_then_die(self):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash in the second iteration")
        return real_train(self)

    monkeypatch.setattr(SITT, "train", train_then_die)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_one(config, tmp_path)
    run_dir = config.run_dir(tmp_path)
    assert calls["n"] == 2
    assert not run_dir.exists() and not list(run_dir.parent.glob("*.tmp-*"))
    monkeypatch.setattr(SITT, "train", real_train)
    assert store.is_complete(run_one(config, tmp_path))


KILL_SCRIPT = """
import os, signal, sys
from sitt.algorithm import SITT
from study import ExperimentConfig, run_one
SITT.train = lambda self: os.kill(os.getpid(), signal.SIGKILL)
run_one(ExperimentConfig.from_json(sys.argv[1]), sys.argv[2])
"""


@pytest.mark.slow  # starts Python processes (torch import each)
def test_a_killed_run_leaves_only_a_tmp_dir_which_the_next_run_removes(tmp_path):
    config = tiny("sitt_release")
    proc = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, config.to_json(), str(tmp_path)],
        env=_child_env(), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    run_dir = config.run_dir(tmp_path)
    leftovers = list(run_dir.parent.glob("seed_0.tmp-*"))
    assert not run_dir.exists() and len(leftovers) == 1
    assert (leftovers[0] / "config.json").exists() and not (leftovers[0] / "COMPLETE").exists()
    # an incomplete final dir (e.g. copied by hand) is replaced too; a live process's tmp dir is left alone
    run_dir.mkdir()
    (run_dir / "eval.csv").write_text("half")
    live = store.tmp_dir_for(run_dir, pid=os.getppid())
    live.mkdir()
    assert load_eval_count(tmp_path) == 0
    assert store.is_complete(run_one(config, tmp_path))
    assert list(run_dir.parent.glob("seed_0.tmp-*")) == [live]
    assert (run_dir / "eval.csv").read_text() != "half"


def load_eval_count(root: Path) -> int:
    return len(ex.load_eval(root, "t"))


def test_held_out_mazes_are_the_same_for_every_arm_and_seed(tmp_path):
    a, b = tiny("plain_teacher", seed=0), tiny("without_alignment", seed=1)
    grids = eval_grids(a)
    assert np.array_equal(grids, eval_grids(b))
    other = preset("other", "sitt_paper", 7, "release", task="color_maze").override({"eval.n_mazes": 3})
    assert np.array_equal(grids, eval_grids(other))
    assert not np.array_equal(grids, make_train_env(a).grids[:3])
    assert not np.array_equal(make_train_env(a).grids, make_train_env(b).grids)
    prov = [json.loads((run_one(c, tmp_path) / "provenance.json").read_text()) for c in (a, b)]
    assert prov[0]["eval_mazes_sha256"] == prov[1]["eval_mazes_sha256"] == mazes_sha256(grids)
    assert prov[0]["train_mazes_sha256"] != prov[1]["train_mazes_sha256"]
    assert prov[0]["train_mazes_sha256"] == mazes_sha256(make_train_env(a).grids)
    # the positions stored start at the start cell and stay on the held-out grids
    pos = ex.load_positions(a.run_dir(tmp_path), "teacher")
    assert pos.shape == (3, 21, 2) and pos.min() >= 0 and pos.max() < 21


def test_bc_and_dagger_reuse_the_without_alignment_teacher(tmp_path, monkeypatch):
    bc = tiny("bc")
    bc_dir = run_one(bc, tmp_path)
    teacher_dir = tiny("without_alignment").run_dir(tmp_path)
    assert store.is_complete(teacher_dir), "the teacher run is trained first when missing"
    assert {p.name for p in bc_dir.iterdir()} == IMITATION_FILES
    assert (bc_dir / "model.zip").read_bytes() == (teacher_dir / "model.zip").read_bytes()
    prov = json.loads((bc_dir / "provenance.json").read_text())
    assert prov["teacher_run"]["run_id"] == "t/without_alignment/seed_0"
    teacher_rows = lambda d: pd.read_csv(d / "eval.csv").query("policy == 'teacher'").reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(teacher_rows(bc_dir), teacher_rows(teacher_dir))

    monkeypatch.setattr(SITT, "learn", lambda *a, **k: pytest.fail("DAgger retrained the teacher"))
    dagger_dir = run_one(tiny("dagger"), tmp_path)
    assert {p.name for p in dagger_dir.iterdir()} == IMITATION_FILES
    assert (dagger_dir / "model.zip").read_bytes() == (teacher_dir / "model.zip").read_bytes()
    info = json.loads((dagger_dir / "imitation.json").read_text())
    assert info["betas"] == [1.0, 0.5]
    student = ex.load_student(dagger_dir)
    obs = make_train_env(tiny("dagger")).reset()
    actions, _ = student.predict(make_train_env(tiny("dagger")).student_obs(obs))
    assert actions.shape == (8,)
    df = ex.load_eval(tmp_path, "t")
    assert set(df["arm"]) == {"bc", "dagger", "without_alignment"}
    assert set(df.loc[df["arm"] == "bc", "kind"]) == {"bc"}


# ----------------------------------------------------------------------------------------------------------- sweep


@pytest.mark.slow  # starts Python processes (torch import each)
def test_sweep_parallel_skips_complete_runs_and_reports_failures(tmp_path, monkeypatch):
    good = [tiny("plain_teacher", seed=0), tiny("bc", seed=0)]
    broken = tiny("sitt_release", seed=0)
    broken.run_dir(tmp_path).parent.mkdir(parents=True)
    broken.run_dir(tmp_path).write_text("a file where the run directory must go")

    report = sweep_mod.sweep(good + [broken], tmp_path, jobs=2, progress=False)
    assert not report.ok
    assert sorted(report.completed) == ["t/bc/seed_0", "t/plain_teacher/seed_0", "t/without_alignment/seed_0"]
    assert report.added_teachers == ["t/without_alignment/seed_0"]
    assert list(report.failed) == ["t/sitt_release/seed_0"]
    assert "not a directory" in report.failed["t/sitt_release/seed_0"]
    failure = Path(report.failure_files["t/sitt_release/seed_0"])
    assert failure == tmp_path / "t" / "sitt_release" / "seed_0.failed.txt"
    assert "Traceback" in failure.read_text() and "FAILED t/sitt_release/seed_0" in report.summary()
    for config in good:
        assert store.is_complete(config.run_dir(tmp_path))

    def no_pool(self):
        raise AssertionError("launched a process for complete runs")

    monkeypatch.setattr(sweep_mod._Pool, "get", no_pool)
    again = sweep_mod.sweep(good, tmp_path, jobs=2, progress=False)
    assert again.ok and again.completed == [] and sorted(again.skipped) == ["t/bc/seed_0", "t/plain_teacher/seed_0"]


@pytest.mark.slow  # starts Python processes (torch import each)
def test_sweep_does_not_launch_imitation_runs_whose_teacher_failed(tmp_path, capsys):
    teacher = tiny("without_alignment")
    teacher.run_dir(tmp_path).parent.mkdir(parents=True)
    teacher.run_dir(tmp_path).write_text("blocked")
    report = sweep_mod.sweep([tiny("bc"), tiny("dagger")], tmp_path, jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "FAILED t/bc/seed_0" in err  # the progress bar counts runs; failures are printed
    assert set(report.failed) == {"t/without_alignment/seed_0", "t/bc/seed_0", "t/dagger/seed_0"}
    assert "teacher run t/without_alignment/seed_0 failed" in report.failed["t/bc/seed_0"]
    assert not tiny("bc").run_dir(tmp_path).exists()


@pytest.mark.slow  # starts Python processes (torch import each)
def test_cli_exits_non_zero_when_a_run_failed(tmp_path, capsys):
    blocked = preset("main", "plain_teacher", 0, "smoke").run_dir(tmp_path)
    blocked.parent.mkdir(parents=True)
    blocked.write_text("blocked")
    proc = subprocess.run(
        [sys.executable, "-m", "study.sweep", "--experiment", "main", "--profile", "smoke", "--seeds", "0",
         "--arms", "plain_teacher,sitt_release", "--jobs", "2", "--root", str(tmp_path), "--no-progress"],
        env=_child_env(), capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    assert "FAILED main/plain_teacher/seed_0" in proc.stderr
    assert "RuntimeWarning" not in proc.stderr
    assert store.is_complete(preset("main", "sitt_release", 0, "smoke").run_dir(tmp_path))
    assert sweep_mod.main(["--experiment", "main", "--profile", "smoke", "--seeds", "0", "--arms", "sitt_release",
                           "--root", str(tmp_path), "--no-progress"]) == 0
    assert "1 already complete" in capsys.readouterr().err


def test_cli_parsing_and_dry_run(tmp_path, capsys):
    assert sweep_mod.parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    assert sweep_mod.parse_seeds("5") == [5]
    for bad in ("", "3-1", "a", "-2"):
        with pytest.raises(ValueError, match="^seeds:"):
            sweep_mod.parse_seeds(bad)
    assert sweep_mod.parse_overrides(["total_timesteps=6e6", "switches.reward_coef=0.5", "env.quirks=fixed"]) == {
        "total_timesteps": 6_000_000, "switches.reward_coef": 0.5, "env.quirks": "fixed"}
    configs = sweep_mod.build_configs("main", "smoke", [0], ["sitt_release"], {"ppo.n_steps": 4}, tag="probe")
    assert configs[0].run_id == "main-probe/sitt_release/seed_0" and configs[0].ppo.n_steps == 4
    assert sweep_mod.main(["--experiment", "main", "--profile", "smoke", "--seeds", "0-1", "--arms", "bc",
                           "--root", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "main/without_alignment/seed_1\tsitt\tto run (teacher added)" in out and "main/bc/seed_0\tbc\tto run" in out
    assert not any(tmp_path.iterdir())
    assert sweep_mod.main(["--experiment", "main", "--profile", "smoke", "--set", "ppo.batch_size=1",
                           "--root", str(tmp_path), "--dry-run"]) == 2
    assert "ppo.batch_size" in capsys.readouterr().err



def test_cli_plan_dry_run_lists_and_trains_nothing(tmp_path, capsys):
    # --plan --dry-run once trained the whole plan: the listing must be all it does
    assert sweep_mod.main(["--plan", "color_maze", "--profile", "smoke", "--seeds", "0", "--root", str(tmp_path),
                           "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "main/sitt_release/seed_0\tsitt\tto run" in lines
    assert len(lines) > 10 and all(line.count("\t") == 2 for line in lines)
    assert not any(tmp_path.iterdir())

# ------------------------------------------------------------------------------------------ the same run, two names


def test_training_key_ignores_names_and_the_spelling_of_switches():
    key = preset("main", "sitt_release", 3).training_key()
    assert preset("ablations", "sitt_release", 3).training_key() == key
    assert preset("release_vs_paper", "sitt_release", 3, "default").replace(profile="renamed").training_key() == key
    # -1.9 x KL spelled {"reward_sign": -1} and {"reward_sign": -1, "reward_coef": 1.9}: one run
    assert preset("ablations", "lambda1_penalty_1.9", 3).training_key() == preset(
        "release_vs_paper", "release_paper_sign", 3).training_key()
    assert (preset("ablations", "quirks_fixed", 3).training_key()
            == preset("release_vs_paper", "quirks_fixed", 3).training_key())
    different = [
        preset("main", "sitt_release", 4),  # seed
        preset("main", "sitt_paper", 3),  # recipe
        preset("ablations", "lambda1_bonus_1", 3),  # one switch
        preset("ablations", "quirks_fixed", 3).replace(arm="sitt_release"),  # env only
        preset("main", "sitt_release", 3, "smoke"),  # budget
    ]
    assert len({c.training_key() for c in different} | {key}) == len(different) + 1
    # BC/DAgger runs carry their teacher's key, not the teacher arm's name
    bc = preset("main", "bc", 3)
    assert (bc.training_key() == preset("other", "bc", 3, task="color_maze").training_key()
            != preset("main", "dagger", 3).training_key())
    assert json.loads(bc.training_key())["teacher"] == json.loads(
        preset("x", "without_alignment", 3, task="color_maze").training_key())


def test_run_one_copies_the_same_run_made_under_another_name(tmp_path, monkeypatch):
    original = run_one(tiny("release_paper_sign", experiment="a"), tmp_path)

    def no_training(*args, **kwargs):
        raise AssertionError("retrained a run that exists under another name")

    monkeypatch.setattr(SITT, "learn", no_training)
    copy_config = tiny("lambda1_penalty_1.9", experiment="b")
    copy = run_one(copy_config, tmp_path)
    assert copy == tmp_path / "b" / "lambda1_penalty_1.9" / "seed_0" and store.is_complete(copy)
    assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in original.iterdir())
    for name in ("eval.csv", "progress.csv", "positions.npz", "model.zip"):
        assert (copy / name).read_bytes() == (original / name).read_bytes(), name
    assert ExperimentConfig.from_dict(store.read_json(copy / "config.json")).to_dict() == copy_config.to_dict()
    prov, marker = store.read_json(copy / "provenance.json"), store.read_marker(copy)
    source_prov = store.read_json(original / "provenance.json")
    assert prov["reused_from"] == marker["reused_from"] == "a/release_paper_sign/seed_0"
    assert prov["run_id"] == marker["run_id"] == "b/lambda1_penalty_1.9/seed_0"
    assert marker["arm"] == "lambda1_penalty_1.9"
    assert prov["wall_s"] == source_prov["wall_s"] and "reused_at" in prov and "reused_by_git" in prov
    assert marker["policies"] == store.read_marker(original)["policies"]
    # a copy of a copy names the original; a run of another key is trained, not copied
    again = run_one(tiny("release_paper_sign", experiment="c"), tmp_path)
    assert store.read_marker(again)["reused_from"] == "a/release_paper_sign/seed_0"
    with pytest.raises(AssertionError, match="retrained"):
        run_one(tiny("lambda1_penalty_0.5", experiment="b"), tmp_path)
    with pytest.raises(AssertionError, match="retrained"):
        run_one(tiny("lambda1_penalty_1.9", experiment="d"), tmp_path, reuse=False)
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").rglob("COMPLETE"))


def test_find_equivalent_prefers_originals_and_skips_unreadable_runs(tmp_path):
    from study.run import find_equivalent

    config = tiny("sitt_release", experiment="z")
    assert find_equivalent(config, tmp_path) is None
    original = run_one(tiny("sitt_release", experiment="m"), tmp_path)
    run_one(tiny("sitt_release", experiment="a"), tmp_path)  # a copy, sorted before the original
    assert find_equivalent(config, tmp_path) == original
    broken = tmp_path / "b" / "sitt_release" / "seed_0"
    broken.mkdir(parents=True)
    (broken / "COMPLETE").write_text("{}")
    (broken / "config.json").write_text("not json")
    assert find_equivalent(config, tmp_path) == original
    assert find_equivalent(tiny("sitt_release", seed=1, experiment="z"), tmp_path) is None


def test_find_equivalent_prefers_a_clean_tree(tmp_path):
    from study.run import find_equivalent

    dirty = run_one(tiny("sitt_release", experiment="a"), tmp_path)  # first by path
    clean = tmp_path / "m" / "sitt_release" / "seed_0"
    shutil.copytree(dirty, clean)  # the same training, as if made again from a clean tree
    for run, flag in ((dirty, True), (clean, False)):
        prov = json.loads((run / "provenance.json").read_text())
        prov["git"] = dict(prov.get("git") or {}, dirty=flag)
        (run / "provenance.json").write_text(json.dumps(prov))
    config = tiny("sitt_release", experiment="z")
    assert find_equivalent(config, tmp_path) == clean
    prov = json.loads((clean / "provenance.json").read_text())
    del prov["git"]  # unknown state counts as dirty: the first by path wins again
    (clean / "provenance.json").write_text(json.dumps(prov))
    assert find_equivalent(config, tmp_path) == dirty


def test_sweep_plan_puts_copies_after_their_original():
    configs = (sweep_mod.build_configs("release_vs_paper", "smoke", [0])
               + sweep_mod.build_configs("ablations", "smoke", [0]))
    first, second, added = sweep_mod.plan(configs)
    firsts = {c.run_id for c in first}
    assert "release_vs_paper/release_paper_sign/seed_0" in firsts and "release_vs_paper/quirks_fixed/seed_0" in firsts
    copies = {c.run_id for c in second}
    assert {"ablations/lambda1_penalty_1.9/seed_0", "ablations/quirks_fixed/seed_0",
            "ablations/sitt_release/seed_0"} == copies
    assert added == [] and len({c.training_key() for c in first}) == len(first)


def test_sweep_report_counts_copies_apart_from_trainings():
    report = sweep_mod.SweepReport()
    sweep_mod._account(dict(run_id="a/x/seed_0", status="completed", seconds=200.0), report, None)
    sweep_mod._account(dict(run_id="b/x/seed_0", status="reused", seconds=0.1), report, None)
    assert report.completed == ["a/x/seed_0"] and report.reused == ["b/x/seed_0"] and report.ok
    assert ("2 runs in 0.0 s: 1 trained, 1 copied from the same run under another name, 0 already complete"
            in report.summary())


def test_cli_runs_several_experiments_seed_by_seed(tmp_path, capsys):
    assert sweep_mod.main(["--experiment", "release_vs_paper,ablations", "--profile", "smoke", "--seeds", "0-1",
                           "--root", str(tmp_path), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first_wave = [line.split("\t")[0] for line in lines if "copy of" not in line]
    seeds = [int(r.rsplit("_", 1)[1]) for r in first_wave]
    assert seeds == sorted(seeds) and first_wave[0] == "release_vs_paper/sitt_release/seed_0"
    copy_line = "ablations/quirks_fixed/seed_1\tsitt\tcopy of release_vs_paper/quirks_fixed/seed_1 (once it is done)"
    assert copy_line in lines
    argv = ["--experiment", "main,nope", "--profile", "smoke", "--root", str(tmp_path), "--dry-run"]
    assert sweep_mod.main(argv) == 2
    assert "experiment" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------- store and load


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "a.json"
    store.atomic_write_json(path, {"x": np.float32(1.5), "y": np.arange(2), "z": float("nan")})
    assert json.loads(path.read_text()) == {"x": 1.5, "y": [0, 1], "z": None}

    def half_then_crash(tmp):
        Path(tmp).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.atomic_write_with(path, half_then_crash)
    assert json.loads(path.read_text())["x"] == 1.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_run_records_the_git_state_it_started_from(tmp_path, monkeypatch):
    states = iter([{"commit": "a" * 40, "dirty": False}, {"commit": "b" * 40, "dirty": True}])
    monkeypatch.setattr(store, "git_state", lambda path=None: next(states, {"commit": "c" * 40, "dirty": True}))
    run_dir = run_one(tiny("plain_teacher"), tmp_path)
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["git"] == {"commit": "a" * 40, "dirty": False}  # read before training, not after


def test_provenance_without_git(monkeypatch):
    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(store.subprocess, "run", no_git)
    prov = store.provenance()
    assert prov["git"] == {"commit": None, "dirty": None}
    assert prov["packages"]["torch"] and prov["python"] == sys.version.split()[0]


def test_configure_threads():
    from sitt.runtime import configure_threads

    assert configure_threads(1) == 1 and torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
    with pytest.raises(ValueError, match="^n:"):
        configure_threads(0)


def test_complete_runs_filter_by_profile_arm_and_seed():
    root = REPO / "results" / "runs"
    if not list((root / "minigrid_main" / "hlrl").glob("seed_*/COMPLETE")):
        pytest.skip("no committed minigrid_main runs")
    every = [(c.arm, c.seed) for _, c in ex.complete_runs(root, "minigrid_main")]
    assert len(every) == 45 and every == sorted(every)
    some = [(c.arm, c.seed, c.profile) for _, c in
            ex.complete_runs(root, "minigrid_main", "default", arms=("hlrl", "bc"), seeds=(2, 0))]
    assert some == [("bc", 0, "default"), ("bc", 2, "default"), ("hlrl", 0, "default"), ("hlrl", 2, "default")]
    assert list(ex.complete_runs(root, "minigrid_main", "smoke")) == []


def test_load_ignores_incomplete_runs(tmp_path):
    assert ex.load_eval(tmp_path, "t").empty and ex.load_progress(tmp_path, "t").empty
    run_one(tiny("plain_teacher"), tmp_path)
    (tmp_path / "t" / "sitt_release" / "seed_0").mkdir(parents=True)  # no marker: not a run
    (tmp_path / "t" / "sitt_release" / "seed_0" / "eval.csv").write_text("policy\nteacher\n")
    df = ex.load_eval(tmp_path, "t")
    assert set(df["arm"]) == {"plain_teacher"} and len(df) == 3
    assert list(df.columns[:6]) == ["experiment", "arm", "seed", "profile", "recipe", "kind"]
    progress = ex.load_progress(tmp_path, "t")
    assert len(progress) == 2 and set(progress["arm"]) == {"plain_teacher"}
    configs = ex.load_configs(tmp_path, "t")
    assert configs.loc[0, "ppo.n_steps"] == 8 and configs.loc[0, "switches.align"] == False  # noqa: E712
