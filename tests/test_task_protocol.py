"""The task protocol: a toy task registered in a few lines goes through a sweep, the tables, the claims and the report,
with no change to the study. Also: the method package imports nothing of the study or of any environment."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from study import claims, probes, register_task, report, run_sweep, tables
from sitt.checks import check_int
from study.config import ImitationConfig, PPOConfig
from study.presets import COMMON_ARMS, Profile, experiment_configs
from color_maze.budget_search import budget_experiments
from study.registry import get_task, task_names, unregister_task
from study.task import HeldOut, Metric, TableMetric, Task, arrays_sha256

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------------ the toy task


class Corridor(gym.Env):
    """Walk to the goal at the end the observation's second entry names; the student does not see which end."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, goal: float = 1.0):
        self.goal, self.x, self.t = goal, 0.0, 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.t = 0.0, 0
        return np.array([self.x, self.goal], np.float32), {}

    def step(self, action):
        self.x = float(np.clip(self.x + (0.25 if action == 1 else -0.25), -1, 1))
        self.t += 1
        done = self.x == self.goal
        return np.array([self.x, self.goal], np.float32), float(done), done, self.t >= 12, {"is_success": done}


@dataclasses.dataclass
class ToyEnvConfig:
    n_envs: int = 4

    def validate(self):
        check_int("env.n_envs", self.n_envs, 1)
        return self


@dataclasses.dataclass
class ToyEvalConfig:
    n_episodes: int = 4
    seed: int = 999

    def validate(self):
        check_int("eval.n_episodes", self.n_episodes, 1)
        return self


def _vec(goals) -> DummyVecEnv:
    env = DummyVecEnv([lambda g=g: Corridor(g) for g in goals])
    env.student_obs = lambda obs: obs * np.array([1.0, 0.0], np.float32)  # the goal side is hidden from the student
    return env


class ToyTask(Task):
    name = "toy"
    env_config, eval_config = ToyEnvConfig, ToyEvalConfig
    metrics = (Metric("steps", "steps to the end"),)
    table_metrics = (TableMetric("steps", "steps"),)
    arms = COMMON_ARMS
    profiles = {"smoke": Profile(ToyEnvConfig(), PPOConfig(n_steps=8, n_epochs=1), 64, dict(align_epochs=1),
                                 imitation=ImitationConfig(bc_n_steps_per_env=4, dagger_iterations=1,
                                                           dagger_n_steps_per_env=4))}
    experiments = {"toy_main": ("without_alignment", "bc", "sitt_release")}
    claims = (claims.Claim("toy", "SITT's toy student beats BC's", "toy_main", "sitt_release", "student",
                           kind="better", others=("bc",)),)

    def train_env(self, config):
        return _vec(np.random.default_rng(config.seed).choice([-1.0, 1.0], config.env.n_envs))

    def held_out(self, config):
        goals = np.random.default_rng(config.eval.seed).choice([-1.0, 1.0], config.eval.n_episodes)
        return HeldOut(goals, len(goals), arrays_sha256(goals))

    def evaluate(self, config, act):
        goals = self.held_out(config).data
        env, rows = _vec(goals), []
        obs, done, steps = env.reset(), np.zeros(len(goals), bool), np.zeros(len(goals), int)
        success = np.zeros(len(goals), bool)
        for _ in range(12):
            obs, _, dones, infos = env.step(act(obs))
            steps += ~done
            success |= ~done & np.array([i["is_success"] for i in infos])
            done |= dones
        rows = pd.DataFrame({"episode": range(len(goals)), "success": success, "steps": steps})
        return rows, None


# ------------------------------------------------------------------------------------------------------- tests


@pytest.fixture
def toy():
    task = register_task(ToyTask())
    yield task
    unregister_task("toy")


@pytest.mark.slow  # a sweep of 9 runs in subprocesses
def test_a_toy_task_runs_through_sweep_tables_claims_and_report(toy, tmp_path):
    configs = experiment_configs("toy_main", "smoke", [0, 1, 2])
    assert {c.task for c in configs} == {"toy"} and len(configs) == 9
    result = run_sweep(configs, tmp_path / "runs", jobs=1, progress=False)
    assert result.ok, result.summary()
    from study.load import load_eval, load_provenance

    rows = load_eval(tmp_path / "runs", "toy_main")
    assert set(rows["task"]) == {"toy"} and set(rows["arm"]) == {"without_alignment", "bc", "sitt_release"}
    assert len(rows) == 3 * 3 * 2 * 4  # arms x seeds x policies x held-out episodes
    prov = load_provenance(tmp_path / "runs" / "toy_main" / "bc" / "seed_1")
    assert prov["eval_set_sha256"] == toy.held_out(configs[0]).sha256 and prov["task"] == "toy"

    main = tables.main_table(rows)
    assert {"steps_mean", "steps_ci_low", "steps_ci_high"} <= set(main.columns)
    assert list(main["n_seeds"]) == [3] * len(main)
    per = tables.per_seed(rows)
    hand = rows[(rows.arm == "bc") & (rows.policy == "student") & (rows.seed == 2)]
    got = per[(per.arm == "bc") & (per.policy == "student") & (per.seed == 2)].iloc[0]
    assert got["success"] == hand["success"].astype(float).mean() and got["steps"] == hand["steps"].mean()

    table = claims.claims_table({"toy_main": rows}, toy.claims)
    assert list(table["id"]) == ["toy"] and table["verdict"].iloc[0] in claims.VERDICTS

    built = report.build_report("smoke", tmp_path / "runs", tmp_path / "out", jobs=1)
    text = built["path"].read_text()
    assert "SITT's toy student beats BC's" in text and "--experiment toy_main" not in text  # no sweep plan: no line
    assert (tmp_path / "out" / "tables" / "toy_main.csv").is_file()
    assert (tmp_path / "out" / "tables" / "claims.csv").is_file()


def test_an_unknown_task_is_named():
    from study.config import ExperimentConfig

    with pytest.raises(ValueError, match=r"^task: got 'nope'; allowed: color_maze"):
        ExperimentConfig.from_dict({"experiment": "x", "arm": "bc", "task": "nope"})


def test_the_method_imports_no_study_and_no_environment():
    # the study and every registered task's package
    forbidden = ("study", *sorted({type(get_task(n)).__module__.split(".")[0] for n in task_names()}))
    for path in (REPO / "sitt").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in forbidden, (path, name)
    code = (f"import sys, sitt, sitt.baselines; "
            f"assert not [m for m in sys.modules if m.split('.')[0] in {forbidden!r}]")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


class TunedToyTask(ToyTask):
    name = "toy_tuned"
    profiles = {"smoke": ToyTask.profiles["smoke"], "default": ToyTask.profiles["smoke"]}
    experiments = {"toy_tuned_main": ("without_alignment", "sitt_release"), "toy_tuning": ("plain_teacher",)}
    claims = ()
    tuning_experiments = ("toy_tuning",)


@pytest.mark.slow  # a tuning sweep in subprocesses
def test_tuning_seeds_stay_apart_from_reported_seeds_and_the_tuning_table_reads_the_probes(tmp_path):
    from study import io
    from study.presets import preset
    from study.sweep import build_configs
    from study.task import TUNING_SEEDS

    register_task(TunedToyTask())
    try:
        tuning = ", ".join(map(str, TUNING_SEEDS))
        with pytest.raises(ValueError, match=rf"^seed: got 3; allowed: one of the tuning seeds {tuning} "
                                             r"\(experiment 'toy_tuning-steps2x'\)$"):
            preset("toy_tuning-steps2x", "plain_teacher", 3, "default")
        with pytest.raises(ValueError, match=rf"^seed: got 101; allowed: any seed except the tuning seeds {tuning}: "
                                             r"'toy_tuned_main' is reported$"):
            preset("toy_tuned_main", "sitt_release", 101, "default")
        assert preset("toy_tuned_main-probe", "sitt_release", 101, "default").seed == 101  # a tagged probe: free
        assert preset("toy_tuning", "plain_teacher", 0, "smoke").seed == 0  # smoke sweeps every experiment
        with pytest.raises(ValueError, match=r"^seed: got 104; allowed: any seed except the tuning seeds"):
            preset("main", "sitt_release", 104, "default")  # the maze's reported experiments too

        root = tmp_path / "runs"
        configs = experiment_configs("toy_tuning", "default", [100, 101])
        configs += build_configs("toy_tuning", "default", [100], None, {"ppo.n_steps": 16}, tag="n16")
        configs += experiment_configs("toy_tuned_main", "default", [0])
        assert run_sweep(configs, root, jobs=1, progress=False).ok
        assert probes.tuning_experiments(root, "toy_tuned") == sorted(
            {c.experiment for c in configs} - {"toy_tuned_main"})
        assert budget_experiments(root) == []  # another task's probes are not the maze's budget search
        table = tables.tuning_table(root, "toy_tuned", "default")
        teacher = table[(table.arm == "toy_tuning / plain_teacher") & (table.policy == "teacher")].iloc[0]
        rows = io.eval_table(root, "toy_tuning")[0]
        hand = rows[rows.policy == "teacher"].groupby("seed")["success"].mean().mean()
        assert teacher["n_seeds"] == 2 and teacher["success_mean"] == pytest.approx(hand)
        assert teacher["n_steps"] == 8 and teacher["total_timesteps"] == 64
        assert table.loc[table.arm == "toy_tuning-n16 / plain_teacher", "n_steps"].iloc[0] == 16
        assert "toy_tuned_main / sitt_release" not in set(table["arm"])  # the reported runs are not probes
        assert tables.tuning_table(root, "toy_tuned", "smoke") is None
    finally:
        unregister_task("toy_tuned")
