"""The ``bc`` and ``dagger`` training kinds: a student imitates the teacher of the run ``teacher_from``
(:func:`sitt.baselines.behaviour_cloning`, :func:`sitt.baselines.dagger`) on the run's training env.

Files: ``model.zip`` (a copy of the teacher run's), ``student.pt``, ``imitation.csv`` (per iteration and epoch, the
loss and the iteration's statistics) and ``imitation.json`` (the rest of the method's ``info``).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from study import load, store
from study.kinds import Kind, TrainResult, teacher_act
from study.task import student_view_fn


def imitation_tables(kind: str, info: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """BC/DAgger ``info`` -> (rows per iteration and epoch, the JSON-able rest)."""
    rows = []
    if kind == "bc":
        for epoch, loss in enumerate(info["losses"]):
            rows.append(dict(iteration=0, epoch=epoch, loss=float(loss), dataset_size=info["dataset_size"]))
        rest = {k: v for k, v in info.items() if k != "losses"}
    else:
        per_iter = ("betas", "dataset_sizes", "student_share", "new_state_agreement", "final_loss", "agreement",
                    "mean_reward")
        for i, losses in enumerate(info["losses"]):
            extra = {k: info[k][i] for k in per_iter if k in info}
            for epoch, loss in enumerate(losses):
                rows.append(dict(iteration=i, epoch=epoch, loss=float(loss), **extra))
        arrays = ("teacher_obs", "iteration", "student_acted")
        rest = {k: v for k, v in info.items() if k not in arrays}
        if "student_acted" in info:
            rest["student_acted_share"] = float(np.mean(info["student_acted"]))
    return pd.DataFrame(rows), store.jsonable(rest)


@dataclass
class ImitationMethodConfig:
    """The run's own BC/DAgger setting (``ExperimentConfig.method``; the sizes are the profile's ``imitation``).

    :param action_distance: how the imitation loss measures actions: ``"raw"`` (default: every committed run) or
        ``"clipped"`` (Box means clamped to the action bounds, :func:`sitt.distributions.executed_output`).
    """

    action_distance: str = "raw"

    def validate(self) -> ImitationMethodConfig:
        from sitt.config import ACTION_DISTANCES  # noqa: PLC0415  (sitt.config imports torch)

        if self.action_distance not in ACTION_DISTANCES:
            raise ValueError(f"action_distance: got {self.action_distance!r}; allowed: {', '.join(ACTION_DISTANCES)}")
        return self


class ImitationKind(Kind):
    """BC (``name="bc"``) or DAgger (``name="dagger"``) against the teacher run's model."""

    needs_teacher = True
    method_config = ImitationMethodConfig
    stores_policies = True

    def __init__(self, name: str):
        self.name = name

    def stored_policies(self, run_dir, config, student_obs):
        """The run's ``student`` (``student.pt`` on the teacher run's policy, :func:`study.load.load_student`)."""
        student = load.load_student(run_dir)
        return {"student": lambda obs, det: student.predict(student_obs(obs), deterministic=det)[0]}

    def train(self, config, task, tmp: Path, teacher_dir: Path) -> TrainResult:
        from sitt.algorithm import SITT  # noqa: PLC0415  (torch-heavy: imported when a run trains)
        from sitt.baselines import behaviour_cloning, dagger  # noqa: PLC0415  (the same)

        teacher = SITT.load(teacher_dir / store.MODEL_FILE, device=config.device)
        env = task.train_env(config)
        student_obs_fn = student_view_fn(task, env, config)
        distance = self.check_method(config.method).action_distance
        t0 = time.perf_counter()
        if self.name == "bc":
            student, info = behaviour_cloning(teacher, env, student_obs_fn, seed=config.seed,
                                              action_distance=distance, **config.imitation.bc_kwargs())
            env_steps = int(config.imitation.bc_n_steps_per_env * config.env.n_envs)
        else:
            student, info = dagger(teacher, env, student_obs_fn, seed=config.seed, action_distance=distance,
                                   **config.imitation.dagger_kwargs())
            env_steps = int(config.imitation.dagger_iterations * config.imitation.dagger_n_steps_per_env
                            * config.env.n_envs)
        train_s = time.perf_counter() - t0
        table, rest = imitation_tables(self.name, info)
        store.atomic_write_with(
            tmp / store.MODEL_FILE, lambda p: shutil.copyfile(teacher_dir / store.MODEL_FILE, p), suffix=".zip"
        )
        store.atomic_write_with(tmp / store.STUDENT_FILE, lambda p: student.save(p), suffix=".pt")
        store.atomic_write_text(tmp / store.IMITATION_CSV, table.to_csv(index=False))
        store.atomic_write_json(tmp / store.IMITATION_JSON, rest)
        policies = {
            "teacher": teacher_act(teacher),
            "student": lambda obs: student.predict(student_obs_fn(obs), deterministic=True)[0],
        }
        record = {"teacher_run": {"run_dir": str(teacher_dir), "run_id": config.teacher_config().run_id}}
        return TrainResult(policies, train_s, env_steps, env, record)


BC = ImitationKind("bc")
DAGGER = ImitationKind("dagger")
