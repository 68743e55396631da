"""The one reader of the run store: complete runs, their configs, evaluation rows, progress logs, arrays, models.

Only complete runs (marker present) are read; runs being written (``.tmp-*``) or failed are ignored. File names come
from :mod:`study.store`. Every library module and task reads the store through this module; the notebook helpers of
:mod:`study.io` wrap it under their own names.

The legacy rule: a stored config written before configs named their task (every early run of the color maze) is the
maze's (:data:`LEGACY_TASK`); :func:`load_config` applies it, and nothing else fills in a missing task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from study import store
from study.budget import BUDGET, run_budget
from study.config import ExperimentConfig

#: the task of a stored config written before configs named their task (the color maze's early runs)
LEGACY_TASK = "color_maze"

#: columns joined onto every row read from a run
RUN_COLUMNS = ["experiment", "arm", "seed", "profile", "recipe", "kind", "task"]


def complete_run_dirs(root: str | Path, experiment: str) -> list[Path]:
    """Complete run directories ``<root>/<experiment>/<arm>/seed_<k>`` (holding the marker), sorted by path."""
    base = Path(root) / experiment
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.glob(f"*/seed_*/{store.MARKER}") if p.is_file())


def complete_runs(root: str | Path, experiment: str, profile: str | None = None, arms: Sequence[str] | None = None,
                  seeds: Sequence[int] | None = None) -> Iterator[tuple[Path, ExperimentConfig]]:
    """``(run_dir, config)`` of every complete run under ``<root>/<experiment>``, sorted by arm then seed; only those
    of ``profile``, of ``arms`` and of ``seeds`` where given."""
    found = []
    for run_dir in complete_run_dirs(root, experiment):
        config = load_config(run_dir)
        if ((profile is not None and config.profile != profile) or (arms is not None and config.arm not in arms)
                or (seeds is not None and config.seed not in seeds)):
            continue
        found.append((config.arm, config.seed, run_dir, config))
    for _, _, run_dir, config in sorted(found, key=lambda t: (t[0], t[1])):
        yield run_dir, config


def list_experiments(root: str | Path, prefix: str = "") -> list[str]:
    """Names of the experiments under ``root`` with at least one complete run, optionally filtered by prefix."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and p.name.startswith(prefix) and complete_run_dirs(root, p.name))


def run_columns(config: ExperimentConfig) -> dict[str, Any]:
    """The :data:`RUN_COLUMNS` values of one run."""
    return dict(
        experiment=config.experiment, arm=config.arm, seed=config.seed, profile=config.profile,
        recipe=config.recipe, kind=config.kind, task=config.task,
    )


def _read_many(root: str | Path, experiment: str, filename: str, budget: bool = False) -> pd.DataFrame:
    frames = []
    for run_dir, config in complete_runs(root, experiment):
        path = run_dir / filename
        if not path.is_file() or path.stat().st_size == 0:
            continue
        try:
            df = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            continue
        for i, (key, value) in enumerate(run_columns(config).items()):
            df.insert(i, key, value)
        if budget:
            df[BUDGET] = run_budget(run_dir, root)["total_steps"]
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=RUN_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def load_eval(root: str | Path, experiment: str) -> pd.DataFrame:
    """All evaluation rows of the complete runs of ``experiment``: each run's ``eval.csv`` (``policy`` and the task's
    columns) joined with :data:`RUN_COLUMNS` and the run's budget (``budget_env_steps``, :mod:`study.budget`: the env
    steps of every policy trained for it). Empty (with the run columns) when there is none."""
    return _read_many(root, experiment, store.EVAL_FILE, budget=True)


def eval_rows(root: str | Path, experiment: str, profile: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(rows, message)``: :func:`load_eval` of ``experiment`` restricted to the runs of ``profile`` (when given),
    index reset; ``rows`` None when there are none (or they cannot be read), ``message`` saying what was read or why
    nothing was (for notebooks and the report, which go on without the experiment)."""
    if not complete_run_dirs(root, experiment):
        return None, f"NO RUNS: no complete runs of experiment '{experiment}' under {root} (run the sweep first)"
    try:
        df = load_eval(root, experiment)
    except Exception as exc:  # noqa: BLE001 - any unreadable run: said in the message, the reader goes on
        return None, f"NO RUNS: could not read experiment '{experiment}' under {root}: {type(exc).__name__}: {exc}"
    if len(df) == 0:
        return None, f"NO RUNS: experiment '{experiment}' under {root} has no eval rows"
    if profile is not None and "profile" in df:
        other = sorted(set(df["profile"].astype(str)) - {profile})
        df = df[df["profile"].astype(str) == profile]
        if len(df) == 0:
            return None, (f"NO RUNS: experiment '{experiment}' under {root} has runs of profile(s) {other}, "
                          f"none of '{profile}'")
    df = df.reset_index(drop=True)
    n_runs = df[["arm", "seed"]].drop_duplicates().shape[0]
    arms = ", ".join(dict.fromkeys(df["arm"].astype(str)))
    return df, f"loaded {n_runs} runs of '{experiment}' from {root} (arms: {arms})"


def load_progress(root: str | Path, experiment: str) -> pd.DataFrame:
    """SB3's progress rows of every complete run of ``experiment`` that has them, joined like :func:`load_eval`."""
    return _read_many(root, experiment, store.PROGRESS_FILE)


def load_configs(root: str | Path, experiment: str) -> pd.DataFrame:
    """One row per complete run: its config flattened to dotted columns (``ppo.n_steps``, ``switches.reward_coef``,
    ...) plus ``run_dir``; join on (arm, seed) to bring any setting next to the evaluation rows."""
    rows = []
    for run_dir, config in complete_runs(root, experiment):
        flat = pd.json_normalize(config.to_dict(), sep=".").iloc[0].to_dict()
        rows.append({"run_dir": str(run_dir), **flat})
    return pd.DataFrame(rows)


def load_positions(run_dir: str | Path, policy: str = "teacher", missing_ok: bool = False) -> np.ndarray | None:
    """An evaluation array of ``policy`` in a run's ``positions.npz`` (the maze: int16 (n_episodes, n_steps + 1, 2)
    of visited (x, y)); ``ValueError`` naming ``policy`` and the stored names when absent (``missing_ok``: None when
    the run stored no such array, or no arrays at all)."""
    path = Path(run_dir) / store.POSITIONS_FILE
    if missing_ok and not path.is_file():
        return None
    with np.load(path) as data:
        if policy not in data.files:
            if missing_ok:
                return None
            raise ValueError(f"policy: got {policy!r}; allowed in {run_dir}: {', '.join(data.files)}")
        return data[policy]


def load_config(run_dir: str | Path) -> ExperimentConfig:
    """The run's :class:`ExperimentConfig` (configs written before a field existed take its default; one written
    before configs named their task is :data:`LEGACY_TASK`'s: the legacy rule)."""
    data = store.read_json(Path(run_dir) / store.CONFIG_FILE)
    if isinstance(data, dict) and "task" not in data:
        data = dict(data, task=LEGACY_TASK)
    return ExperimentConfig.from_dict(data)


def load_provenance(run_dir: str | Path) -> dict[str, Any]:
    return store.read_json(Path(run_dir) / store.PROVENANCE_FILE)


def load_model(run_dir: str | Path, device: str = "cpu"):
    """The run's SITT model (for BC/DAgger runs: the teacher they imitated)."""
    from sitt.algorithm import SITT  # noqa: PLC0415  (torch-heavy: imported when a model is read)

    return SITT.load(Path(run_dir) / store.MODEL_FILE, device=device)


def load_student(run_dir: str | Path, device: str = "cpu"):
    """The BC/DAgger student of a run (a :class:`sitt.baselines.StudentPolicy`)."""
    from sitt.baselines import StudentPolicy  # noqa: PLC0415  (torch-heavy: imported when a student is read)

    path = Path(run_dir) / store.STUDENT_FILE
    if not path.is_file():
        raise ValueError(f"run_dir: {run_dir} has no {store.STUDENT_FILE} (only bc/dagger runs do)")
    return StudentPolicy.load(path, load_model(run_dir, device).policy, device=device)
