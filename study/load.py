"""Reading the run store back: evaluation rows, progress logs, visited positions, the held-out mazes, summaries.

Only complete runs (marker present) are read; runs being written (``.tmp-*``) or failed are ignored.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from study import store
from study.config import ExperimentConfig

#: columns joined onto every row read from a run
RUN_COLUMNS = ["experiment", "arm", "seed", "profile", "recipe", "kind"]


def eval_grids(config: ExperimentConfig) -> np.ndarray:
    """The held-out evaluation mazes of ``config``: ``make_mazes(eval.n_mazes, env.grid_size, env.margin_size,
    seed=eval.maze_seed)``, (n_mazes, G, G) int8. They depend on the evaluation settings and the maze geometry only,
    so every arm and seed of a study is evaluated on the same mazes."""
    from color_maze import make_mazes

    return make_mazes(config.eval.n_mazes, config.env.grid_size, config.env.margin_size, seed=config.eval.maze_seed)


def mazes_sha256(grids: np.ndarray) -> str:
    """A fingerprint of a set of mazes (shape and cell states)."""
    grids = np.ascontiguousarray(np.asarray(grids, dtype=np.int8))
    h = hashlib.sha256(str(grids.shape).encode())
    h.update(grids.tobytes())
    return h.hexdigest()


def complete_runs(root: str | Path, experiment: str) -> Iterator[tuple[Path, ExperimentConfig]]:
    """``(run_dir, config)`` of every complete run under ``<root>/<experiment>``, sorted by arm then seed."""
    base = Path(root) / experiment
    if not base.is_dir():
        return
    found = []
    for marker in base.glob(f"*/seed_*/{store.MARKER}"):
        run_dir = marker.parent
        if not store.is_complete(run_dir):
            continue
        config = ExperimentConfig.from_dict(store.read_json(run_dir / store.CONFIG_FILE))
        found.append((config.arm, config.seed, run_dir, config))
    for _, _, run_dir, config in sorted(found, key=lambda t: (t[0], t[1])):
        yield run_dir, config


def _run_columns(config: ExperimentConfig) -> dict[str, Any]:
    return dict(
        experiment=config.experiment, arm=config.arm, seed=config.seed, profile=config.profile,
        recipe=config.recipe, kind=config.kind,
    )


def _read_many(root: str | Path, experiment: str, filename: str) -> pd.DataFrame:
    frames = []
    for run_dir, config in complete_runs(root, experiment):
        path = run_dir / filename
        if not path.is_file() or path.stat().st_size == 0:
            continue
        df = pd.read_csv(path)
        for i, (key, value) in enumerate(_run_columns(config).items()):
            df.insert(i, key, value)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=RUN_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def load_eval(root: str | Path, experiment: str) -> pd.DataFrame:
    """All evaluation rows of the complete runs of ``experiment``: ``eval.csv`` (policy, maze, success,
    release_success, ep_return, ep_length, n_paths, through_path, route, outcome, n_done, n_success) joined with
    experiment, arm, seed, profile, recipe and kind. Empty (with those columns) when there is none."""
    return _read_many(root, experiment, store.EVAL_FILE)


def load_progress(root: str | Path, experiment: str) -> pd.DataFrame:
    """SB3's progress rows of every complete ``kind="sitt"`` run of ``experiment``, joined like :func:`load_eval`."""
    return _read_many(root, experiment, store.PROGRESS_FILE)


def load_configs(root: str | Path, experiment: str) -> pd.DataFrame:
    """One row per complete run: its config flattened to dotted columns (``ppo.n_steps``, ``switches.reward_coef``,
    ...) plus ``run_dir``; join on (arm, seed) to bring any setting next to the evaluation rows."""
    rows = []
    for run_dir, config in complete_runs(root, experiment):
        flat = pd.json_normalize(config.to_dict(), sep=".").iloc[0].to_dict()
        rows.append({"run_dir": str(run_dir), **flat})
    return pd.DataFrame(rows)


def load_positions(run_dir: str | Path, policy: str = "teacher") -> np.ndarray:
    """Visited positions of ``policy`` ("teacher" or "student") in a run: int16 (n_mazes, n_steps + 1, 2) of (x, y)."""
    with np.load(Path(run_dir) / store.POSITIONS_FILE) as data:
        if policy not in data.files:
            raise ValueError(f"policy: got {policy!r}; allowed in {run_dir}: {', '.join(data.files)}")
        return data[policy]


def load_config(run_dir: str | Path) -> ExperimentConfig:
    return ExperimentConfig.from_dict(store.read_json(Path(run_dir) / store.CONFIG_FILE))


def load_model(run_dir: str | Path, device: str = "cpu"):
    """The run's SITT model (for BC/DAgger runs: the teacher they imitated)."""
    from sitt.algorithm import SITT

    return SITT.load(Path(run_dir) / store.MODEL_FILE, device=device)


def load_student(run_dir: str | Path, device: str = "cpu"):
    """The BC/DAgger student of a run (a :class:`sitt.baselines.StudentPolicy`)."""
    from sitt.baselines import StudentPolicy

    path = Path(run_dir) / store.STUDENT_FILE
    if not path.is_file():
        raise ValueError(f"run_dir: {run_dir} has no {store.STUDENT_FILE} (only bc/dagger runs do)")
    return StudentPolicy.load(path, load_model(run_dir, device).policy, device=device)


def per_seed_summary(eval_df: pd.DataFrame) -> pd.DataFrame:
    """Per (experiment, profile,) arm, seed and policy: ``n_mazes``, ``success_rate`` (true success),
    ``release_success_rate`` (the release's metric), ``path_share`` and ``detour_share`` (among successes; NaN with
    none), ``lava_rate``, ``timeout_rate``, ``mean_length`` (of successful first episodes; NaN with none) and
    ``mean_return``. The seed is the unit of the study's statistics (see :mod:`study.stats`)."""
    keys = [k for k in ("experiment", "profile", "arm", "seed", "policy") if k in eval_df.columns]
    if eval_df.empty:
        return pd.DataFrame(columns=keys + ["n_mazes", "success_rate", "release_success_rate", "path_share",
                                            "detour_share", "lava_rate", "timeout_rate", "mean_length", "mean_return"])

    def summarise(g: pd.DataFrame) -> pd.Series:
        success = g["success"].astype(bool).to_numpy()
        n_success = int(success.sum())
        route = g["route"].to_numpy(dtype=object)
        lengths = g["ep_length"].to_numpy(dtype=float)
        return pd.Series(
            dict(
                n_mazes=len(g),
                success_rate=float(success.mean()),
                release_success_rate=float(g["release_success"].astype(bool).mean()),
                path_share=float((route == "path").sum() / n_success) if n_success else np.nan,
                detour_share=float((route == "detour").sum() / n_success) if n_success else np.nan,
                lava_rate=float((g["outcome"] == "lava").mean()),
                timeout_rate=float((g["outcome"] == "timeout").mean()),
                mean_length=float(lengths[success].mean()) if n_success else np.nan,
                mean_return=float(g["ep_return"].mean()),
            )
        )

    rows = []
    for key, group in eval_df.groupby(keys, sort=True):
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))), **summarise(group).to_dict()})
    out = pd.DataFrame(rows)
    out["n_mazes"] = out["n_mazes"].astype(int)
    return out
