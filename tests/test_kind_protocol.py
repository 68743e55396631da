"""The training-kind protocol (study.kinds.Kind): a toy kind registered in a few lines runs through a sweep, the
tables, the re-evaluation of stored policies and the report, with no list of kinds anywhere to extend."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from study import policy_modes, report, run_sweep, tables
from study.kinds import Kind, TrainResult
from study.load import load_eval
from study.presets import COMMON_ARMS, ArmSpec, experiment_configs
from study.registry import register_kind, register_task, unregister_kind, unregister_task
from tests.test_task_protocol import ToyTask

ACTION_FILE = "constant.json"


@dataclass
class ConstantConfig:
    """The constant student's one setting: the action it always takes."""

    action: int = 1

    def validate(self) -> ConstantConfig:
        if self.action not in (0, 1):
            raise ValueError(f"action: got {self.action!r}; allowed: 0, 1")
        return self


class ConstantKind(Kind):
    """A student that trains nothing: it always takes ``method.action``, and stores that as its policy."""

    name = "constant"
    method_config = ConstantConfig
    stores_policies = True

    def train(self, config, task, tmp: Path, teacher_dir: Path | None) -> TrainResult:
        action = self.check_method(config.method).action
        (tmp / ACTION_FILE).write_text(json.dumps({"action": action}))
        act = lambda obs: np.full(len(obs), action)  # noqa: E731
        return TrainResult({"student": act}, 0.0, 0, task.train_env(config))

    def stored_policies(self, run_dir, config, student_obs):
        action = json.loads((Path(run_dir) / ACTION_FILE).read_text())["action"]
        return {"student": lambda obs, det: np.full(len(obs), action)}


class KindTask(ToyTask):
    name = "toy_kind"
    arms = {**COMMON_ARMS, "constant": ArmSpec("constant", "release", method=dict(action=1),
                                               description="always steps right")}
    experiments = {"toy_kind_main": ("sitt_release", "constant")}
    claims = ()


@pytest.fixture
def constant_kind():
    task = register_task(KindTask())
    register_kind("constant", ConstantKind())
    yield task
    unregister_kind("constant")
    unregister_task("toy_kind")


def test_a_kind_checks_its_method_settings_by_name(constant_kind):
    config = experiment_configs("toy_kind_main", "smoke", [0], ["constant"])[0]
    assert config.kind == "constant" and config.kind_object().method_fields() == ["action"]
    with pytest.raises(ValueError, match=r"^method\.action: got 2; allowed: 0, 1$"):
        config.replace(method={"action": 2}).validate()
    with pytest.raises(ValueError, match=r"^method\.speed: unknown field of ConstantConfig; allowed: action$"):
        config.replace(method={"speed": 1}).validate()
    with pytest.raises(ValueError, match=r"^kind: got 'constant'; allowed: a kind that trains an SB3 model$"):
        config.kind_object().make_model(config, None, constant_kind)
    assert "constant" in policy_modes.stored_policy_kinds()


@pytest.mark.slow  # a sweep of 4 runs in a subprocess
def test_a_toy_kind_runs_through_sweep_tables_policy_modes_and_report(constant_kind, tmp_path):
    root = tmp_path / "runs"
    configs = experiment_configs("toy_kind_main", "smoke", [0, 1])
    result = run_sweep(configs, root, jobs=1, progress=False)
    assert result.ok, result.summary()
    rows = load_eval(root, "toy_kind_main")
    assert set(rows["arm"]) == {"sitt_release", "constant"}
    per = tables.per_seed(rows)
    constant = per[per["arm"] == "constant"]
    assert list(constant["policy"]) == ["student", "student"] and (constant["n_episodes"] == 4).all()
    main = tables.main_table(rows)
    assert ("constant", "student") in set(zip(main["arm"], main["policy"]))

    modes = policy_modes.policy_modes_table(constant_kind, root, "toy_kind_main", arms=("constant",))
    det = modes[modes["mode"] == "deterministic"].set_index("seed")["success"]
    assert list(det) == list(constant.set_index("seed")["success"])  # the stored policy is the evaluated one

    built = report.build_report("smoke", root, tmp_path / "out")
    assert "| constant | student | 2 |" in built["path"].read_text()
