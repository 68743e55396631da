"""Limited-field-of-view flight through pillars as a task of the study (:mod:`study.task`): the adapter between the
study and the env (training env, the fixed held-out worlds, evaluation, per-episode metrics, student views,
provenance). The task's data (configs, arms, profiles, experiments, metrics, claims and the design comments that
record their choice) is :mod:`fov_flight.design`; :class:`FlightTask` points its attributes at it.

The env is :class:`fov_flight.FovFlightEnv`, the evaluation protocol :func:`fov_flight.evaluate.evaluate`, the
premise's fixed teachers :mod:`fov_flight.premise`, the pictures :mod:`fov_flight.render` and :mod:`fov_flight.figures`.
"""

from __future__ import annotations

import functools
from typing import Any
from collections.abc import Callable

import numpy as np
import pandas as pd

from fov_flight import design
from fov_flight.config import FlightConfig
from fov_flight.env import FovFlightEnv
from fov_flight.evaluate import evaluate as evaluate_flights
from fov_flight.generation import generate_worlds, worlds_sha256
from fov_flight.premise import FIXED_TEACHERS
from fov_flight.views import student_obs
from sitt.checks import fail
from study.tables import as_float
from study.task import HeldOut, Task

__all__ = ["FlightTask", "TASK", "held_out_worlds", "scan360_rays"]

# ------------------------------------------------------------------------------------------------- held-out worlds


@functools.lru_cache(maxsize=8)
def _held_out_cached(flight: FlightConfig, n_worlds: int, world_seed: int):
    worlds = generate_worlds(n_worlds, flight, seed=world_seed)
    return worlds, worlds_sha256(worlds)


def held_out_worlds(config) -> tuple[Any, str]:
    """``(worlds, sha256)``: the held-out worlds of a run config (``config.env`` geometry, ``config.eval`` count and
    seed; never the run's seed), a fresh copy each call, and their fingerprint."""
    worlds, sha = _held_out_cached(config.env.flight, config.eval.n_worlds, config.eval.world_seed)
    return worlds.subset(slice(None)), sha


# -------------------------------------------------------------------------------------------------- student views


def scan360_rays(flight: FlightConfig) -> int:
    """Rays of the 360-degree control scan: the standard scan's angular spacing kept, ``round(M * 360 / fov)``."""
    return max(flight.n_rays, int(round(flight.n_rays * 360.0 / flight.fov_deg)))


def _scan360(obs: np.ndarray, flight: FlightConfig, n_rays: int) -> np.ndarray:
    return student_obs(obs, flight, fov_deg=360.0, n_rays=n_rays)


def _teacher_view(obs: np.ndarray) -> np.ndarray:
    return np.array(obs, dtype=np.float32, copy=True)


# --------------------------------------------------------------------------------------------------------- task


class FlightTask(Task):
    """Flight through pillars: the teacher sees the pillars, the student a depth scan over a 90-degree field of view.

    The measured throughput behind :data:`fov_flight.design.DEFAULT_PROFILE`'s budget is in the comment above it;
    every run's provenance records its own (``env_steps_per_s``).
    """

    name = design.NAME
    env_config = design.FlightEnvConfig
    eval_config = design.FlightEvalConfig
    metrics = design.METRICS
    table_metrics = design.TABLE_METRICS
    arms = design.ARMS
    profiles = design.PROFILES
    experiments = design.EXPERIMENTS
    claims = design.CLAIMS
    policy_kwargs = design.POLICY_KWARGS
    info_keywords = ()
    student_label = design.STUDENT_LABEL
    student_views = design.STUDENT_VIEWS
    episode_column = "world"
    sweeps = design.SWEEPS
    tuning_experiments = design.TUNING_EXPERIMENTS
    budget = design.BUDGET
    fixed_teachers = FIXED_TEACHERS
    main_title = design.MAIN_TITLE
    main_note = design.MAIN_NOTE
    main_labels = design.MAIN_LABELS
    notebooks = design.NOTEBOOKS

    def train_env(self, config):
        e = config.env
        return FovFlightEnv(e.n_envs, e.flight, seed=config.seed, pool_size=e.pool_size)

    def student_obs_fn(self, env, view: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
        """The standard view (``env.student_obs``: 90-degree scan) or a control of
        :data:`fov_flight.design.STUDENT_VIEWS`."""
        if view is None:
            return env.student_obs
        flight = env.config
        if view == "scan360":
            return functools.partial(_scan360, flight=flight, n_rays=scan360_rays(flight))
        if view == "teacher":
            return _teacher_view
        raise ValueError(f"student_view: got {view!r}; allowed: None (the standard view), "
                         f"{', '.join(design.STUDENT_VIEWS)}")

    def held_out(self, config) -> HeldOut:
        worlds, sha = held_out_worlds(config)
        return HeldOut(worlds, len(worlds), sha)

    def evaluate(self, config, act):
        worlds, _ = held_out_worlds(config)
        rows, traj = evaluate_flights(act, worlds, config.env.flight, min_speed=config.eval.min_speed)
        rows.attrs.clear()  # the fingerprint is in provenance; attrs do not survive concat anyway
        k = config.eval.n_trajectories
        arrays = {"pos": traj["pos"][:k].astype(np.float32), "yaw": traj["yaw"][:k].astype(np.float32)} if k else None
        return rows, arrays

    def episode_metrics(self, rows: pd.DataFrame) -> pd.DataFrame:
        df = rows.copy()
        for name in ("success", "collision", "timeout"):
            df[name] = as_float(df[name]) if name in df else np.nan
        for name in ("velocity_angle_deg", "pillars_in_view", "path_length", "steps", "ep_return"):
            df[name] = pd.to_numeric(df[name], errors="coerce").astype(float) if name in df else np.nan
        df["success_steps"] = df["steps"].where(df["success"] > 0.5)
        return df

    def provenance(self, config, train_env, held_out: HeldOut) -> dict[str, Any]:
        train = train_env.worlds
        train_set = {_world_key(train, i) for i in range(len(train))}
        return dict(
            train_worlds_sha256=worlds_sha256(train),
            n_train_worlds=len(train),
            eval_worlds_sha256=held_out.sha256,
            eval_worlds_in_training=int(sum(_world_key(held_out.data, i) in train_set for i in range(held_out.n))),
        )

    def validate(self, config) -> None:
        if config.seed == config.eval.world_seed:
            fail("seed", config.seed, f"any integer >= 0 except eval.world_seed ({config.eval.world_seed}): "
                 "the held-out worlds must never be a training set")


def _world_key(worlds, i: int) -> bytes:
    """One world's pillars as bytes (the start is left out: a world with the held-out pillars counts as seen)."""
    return np.ascontiguousarray(worlds.centres[i], dtype=np.float64).tobytes() + \
        np.ascontiguousarray(worlds.radii[i], dtype=np.float64).tobytes()


TASK = FlightTask()
