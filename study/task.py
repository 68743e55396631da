"""The task protocol: what the study needs to know about one environment.

The study (configs, run store, sweeps, tables, claims, report) is generic; everything that depends on an environment
comes through one :class:`Task` object, looked up by name in :data:`study.registry.TASKS`. A task lives in its env's
package (``color_maze/task.py`` for the maze) and provides:

* its configs: ``env_config`` (a dataclass: what the training env is) and ``eval_config`` (a dataclass: the fixed
  held-out set and the evaluation protocol), each with ``validate(prefix) -> self`` raising ``ValueError`` that
  names the dotted field (``"env.n_envs: got 0; allowed: an integer >= 1"``);
* :meth:`Task.train_env`: the training ``VecEnv`` of a run (its seed decides what it draws); the env has a
  ``student_obs`` method, the student view (:meth:`Task.student_obs_fn`); a task may name other student views
  (:attr:`Task.student_views`, e.g. controls that bound the effect of the view), which a run asks for with
  ``ExperimentConfig.student_view`` (:func:`student_view_fn`);
* :meth:`Task.held_out`: the FIXED held-out evaluation set, drawn from ``eval_config``'s own seed, the same for every
  arm and seed of a study, with a fingerprint recorded in each run's provenance (``eval_set_sha256``);
* :meth:`Task.evaluate`: one row per held-out episode with ``success`` plus the task's own columns, and optional
  arrays (trajectories) for figures;
* :meth:`Task.episode_metrics`: the per-episode numbers the tables average per seed (:attr:`Task.metrics` names
  them, :attr:`Task.table_metrics` says which the main table shows), :attr:`Task.claims` (the claims that apply),
  its arms, profiles and experiments (:attr:`Task.arms`, :attr:`Task.profiles`, :attr:`Task.experiments`);
* its figures are functions of its own package, which its notebooks call.

A task is a subclass of :class:`Task` that fills these in; ``tests/test_task_protocol.py`` registers a toy task in a
few lines and takes it through a sweep, the tables and the report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

#: an act function: a batch of teacher observations (N, *obs_shape) -> actions (N, ...)
ActFn = Callable[[np.ndarray], np.ndarray]

#: the seeds on which a task's profile (and any choice of its arms) is tuned: never reported. A task's tuning
#: experiments (:attr:`Task.tuning_experiments`) run only on them, every other experiment never
#: (``robot_analogues.md`` section 4); the smoke profile is exempt. Reported seeds are 0-9.
TUNING_SEEDS: tuple[int, ...] = (100, 101, 102, 103, 104)


@dataclass(frozen=True)
class Metric:
    """A per-seed metric: the mean over a run's held-out episodes of the per-episode column ``name``.

    :param name: the column :meth:`Task.episode_metrics` adds (and the per-seed column :func:`study.tables.per_seed`
        returns).
    :param label: what it means, in words (tables, claims, figure axes).
    """

    name: str
    label: str


@dataclass(frozen=True)
class TableMetric:
    """A column group of the main table: ``<prefix>_mean`` (and ``<prefix>_ci_low``, ``<prefix>_ci_high`` when
    ``ci``) of the per-seed metric ``metric`` over seeds."""

    metric: str
    prefix: str
    ci: bool = True


@dataclass(frozen=True)
class SweepPlan:
    """One sweep of ``make reproduce``: ``experiments`` (run seed by seed together), the ``arms`` to train (None: all
    of each experiment's) and the ``seeds`` spec (``"0-9"``), fixed before the runs."""

    experiments: tuple[str, ...]
    arms: tuple[str, ...] | None = None
    seeds: str = "0-9"


@dataclass(frozen=True)
class HeldOut:
    """The held-out evaluation set of a study: ``data`` (whatever the task evaluates on: mazes, worlds, scenes),
    ``n`` episodes and ``sha256``, the fingerprint recorded in provenance."""

    data: Any
    n: int
    sha256: str


@dataclass(frozen=True)
class Claim:
    """One checkable claim of the claims table (:func:`study.claims.evaluate_claim` decides it; the verdict rules
    are in :mod:`study.claims`).

    :param id: short id (``"a"`` .. ``"f"`` for the paper's panels).
    :param claim: the claim in words.
    :param experiment: the experiment whose runs are the evidence.
    :param arm: the arm, or a tuple of alternatives (the first with runs is used).
    :param policy: ``"teacher"`` or ``"student"``.
    :param metric: a per-seed metric of :func:`study.tables.per_seed`.
    :param kind: ``"level"`` (compare the metric with ``threshold``), ``"better"`` (beat every arm of ``others``) or
        ``"better_metric"`` (the metric beats the metric ``others[0]`` of the same runs).
    :param direction: for level claims, ``"high"`` (metric above threshold) or ``"low"`` (below); for comparison
        claims, ``"high"`` (X beats Y with a higher metric) or ``"low"`` (with a lower one).
    :param threshold: for level claims.
    :param others: for comparison claims, the arms to beat.
    :param source: where the claim comes from (paper figure panel, paper table, study finding).
    :param untuned: arms of ``others`` that had fewer tuning configurations than ``arm`` (``fair_comparison.md``
        section 2: a baseline the tuned method beats gets the same effort before the claim may read *reproduced*): a
        comparison the rule reads *reproduced* is *held* while one of them is compared (:data:`study.claims.HELD`).
    """

    id: str
    claim: str
    experiment: str
    arm: str | tuple[str, ...]
    policy: str
    metric: str = "success"
    kind: str = "level"
    direction: str = "high"
    threshold: float = 0.5
    others: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""
    untuned: tuple[str, ...] = field(default_factory=tuple)

    def arms(self) -> tuple[str, ...]:
        return (self.arm,) if isinstance(self.arm, str) else tuple(self.arm)


def arrays_sha256(*arrays: np.ndarray) -> str:
    """A fingerprint of numpy arrays (dtype, shape and bytes of each, in order)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class Task:
    """One environment of the study (see the module docstring). Subclass it and set the class attributes.

    :cvar name: the registry name (``"color_maze"``), also written into every run's config (``task``).
    :cvar env_config: the env config dataclass; its defaults are the task's standard env.
    :cvar eval_config: the evaluation config dataclass (held-out set, its own seed, the protocol).
    :cvar metrics: the per-seed metrics beyond ``success`` (:class:`Metric`), in table order.
    :cvar table_metrics: which metrics the main table shows (:class:`TableMetric`).
    :cvar arms: ``{arm name: study.presets.ArmSpec}`` of the arms this task's experiments use.
    :cvar profiles: ``{profile name: study.presets.Profile}``; must include ``"smoke"`` (CI) and ``"default"``.
    :cvar experiments: ``{experiment name: arm names}``; experiment names are unique over all tasks.
    :cvar experiment_profiles: ``{experiment: profile}`` for an experiment that always runs one profile in place of
        ``default`` (the maze's ``main_release_schedule``: ``release``); see :func:`study.presets.experiment_profile`.
    :cvar claims: the claims of the claims table that this task's runs decide (:class:`Claim`).
    :cvar policy: the SB3 policy the teacher uses (``"MlpPolicy"``) and ``policy_kwargs`` its keyword arguments.
    :cvar info_keywords: episode-info keys SITT logs as ``rollout/<key>_mean`` during training.
    :cvar student_label: what the student sees, in words (reports).
    :cvar sweeps: what ``make reproduce`` trains for this task (:class:`SweepPlan`), in order.
    :cvar main_title: the report's heading of the task's main table; ``main_note`` a sentence under it;
        ``main_labels`` the words for its column groups (``{prefix: label}``).
    :cvar readme_title: the heading of the task's part of the README's results (default :attr:`main_title`);
        ``readme_note`` the words under it (default: the task's name, its table and :attr:`main_note`);
        ``readme_figure`` ``(figure name, alt text, words under it)``: a figure of ``<out>/figures`` shown under the
        main table when it exists (None: none); ``readme_tables`` ``{table name: heading}``: tables of
        ``<out>/tables`` (comparisons)
        shown after it when they exist.
    :cvar report_notes: ``{"easy": [...], "hard": [...]}``: what was easy and hard about this task, in words (the
        report's last section).
    :cvar notebooks: ``{experiment: notebook name}``: the notebook that writes each experiment's tables and figures.
    :cvar episode_column: the eval rows' column naming the held-out episode (``"episode"``; the maze: ``"maze"``).
    :cvar student_views: ``{view name: what the student sees, in words}``: the student views a run may ask for
        besides the standard one (``ExperimentConfig.student_view``; :meth:`student_obs_fn` builds them). Default none.
    :cvar tuning_experiments: the experiments (of :attr:`experiments`) that tune the profile: they run only on
        :data:`TUNING_SEEDS`, with tagged copies (``<experiment>-<tag>``) for each probe, and are never reported;
        :func:`check_tuning_seeds`. Default none.
    :cvar fixed_teachers: ``{name: factory}``: the task's FIXED teachers (scripted controllers, stored policies) that a
        ``fixed_teacher`` run imitates (:mod:`study.kinds.fixed_teacher`); ``factory(config, seed, root) -> act``,
        ``act`` deterministic on teacher observations (N, *obs_shape) -> actions (N, action_dim), ``root`` the run store
        of the run (for a teacher read from a stored run). Default none.
    :cvar budget: the task's equal-budget experiment (:class:`study.presets.BudgetPlan`: its name, SITT's arm, whether
        it has 2x arms of its own): the report and the README show its table (:func:`study.tables.budget_table`).
        Default None (none).
    """

    name: ClassVar[str] = ""
    env_config: ClassVar[type] = type(None)
    eval_config: ClassVar[type] = type(None)
    metrics: ClassVar[tuple[Metric, ...]] = ()
    table_metrics: ClassVar[tuple[TableMetric, ...]] = ()
    arms: ClassVar[Mapping[str, Any]] = {}
    profiles: ClassVar[Mapping[str, Any]] = {}
    experiments: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    experiment_profiles: ClassVar[Mapping[str, str]] = {}
    claims: ClassVar[tuple[Claim, ...]] = ()
    policy: ClassVar[str] = "MlpPolicy"
    policy_kwargs: ClassVar[Mapping[str, Any]] = {}
    info_keywords: ClassVar[tuple[str, ...]] = ()
    student_label: ClassVar[str] = ""
    episode_column: ClassVar[str] = "episode"
    sweeps: ClassVar[tuple[SweepPlan, ...]] = ()
    main_title: ClassVar[str] = "Main experiment"
    main_note: ClassVar[str] = ""
    main_labels: ClassVar[Mapping[str, str]] = {}
    readme_title: ClassVar[str] = ""
    readme_note: ClassVar[str] = ""
    readme_figure: ClassVar[tuple[str, str, str] | None] = None
    readme_tables: ClassVar[Mapping[str, str]] = {}
    report_notes: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    notebooks: ClassVar[Mapping[str, str]] = {}
    student_views: ClassVar[Mapping[str, str]] = {}
    tuning_experiments: ClassVar[tuple[str, ...]] = ()
    fixed_teachers: ClassVar[Mapping[str, Callable[..., ActFn]]] = {}
    budget: ClassVar[Any] = None

    # ------------------------------------------------------------------ what every task must provide

    def train_env(self, config: Any) -> Any:
        """The training ``VecEnv`` of the run ``config`` (a :class:`study.config.ExperimentConfig`: ``config.env``,
        ``config.seed``); it has a ``student_obs`` method."""
        raise NotImplementedError

    def held_out(self, config: Any) -> HeldOut:
        """The fixed held-out set of ``config`` (from ``config.eval`` and the env geometry only, never the seed)."""
        raise NotImplementedError

    def evaluate(self, config: Any, act: ActFn) -> tuple[pd.DataFrame, Any]:
        """Run ``act`` (deterministic) on every held-out episode: ``(rows, arrays)``, one row per episode with at
        least :attr:`episode_column` (int) and ``success`` (bool) and the task's own columns; ``arrays``: None, one
        ndarray
        (stored under the policy's name in ``positions.npz``) or ``{name: ndarray}`` (stored as ``<policy>_<name>``)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ optional, with generic defaults

    def student_obs_fn(self, env: Any, view: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
        """The student view of ``env``: teacher observations (N, *obs_shape) -> student observations (N, ...).
        ``view`` None is the standard view (``env.student_obs``); a task with :attr:`student_views` overrides this to
        build them (the default knows none and raises ``ValueError`` naming ``student_view``)."""
        if view is None:
            return env.student_obs
        raise ValueError(f"student_view: got {view!r}; allowed: None (task {self.name!r} names no other student view)")

    def episode_metrics(self, rows: pd.DataFrame) -> pd.DataFrame:
        """``rows`` (eval rows, any number of runs) with one numeric column per :attr:`metrics` entry added. The
        default adds nothing (the columns must already be there)."""
        return rows

    def summary(self, rows: pd.DataFrame) -> dict[str, Any]:
        """The per-policy summary written into a run's marker: ``n_episodes``, ``success_rate`` and the mean of each
        metric column present."""
        df = self.episode_metrics(rows)
        out = {"n_episodes": int(len(df)), "success_rate": float(df["success"].astype(float).mean())}
        for m in self.metrics:
            if m.name in df:
                out[m.name] = float(pd.to_numeric(df[m.name], errors="coerce").mean())
        return out

    def provenance(self, config: Any, train_env: Any, held_out: HeldOut) -> dict[str, Any]:
        """Task-specific provenance fields of a run (e.g. the training set's fingerprint); default none."""
        return {}

    def canonical_config(self, config: Any) -> Any:
        """The one config of a training that two presets may spell differently (called by
        :func:`study.presets.preset`; the maze: ``env.maze_seed`` equal to the run's seed is written None). Default:
        ``config`` unchanged."""
        return config

    def validate(self, config: Any) -> None:
        """Checks across fields of a run's config (e.g. the training seed never equals the held-out seed); raise
        ``ValueError`` naming the field."""

    @property
    def main_experiment(self) -> str | None:
        """The task's first experiment: its main table is saved under this name (``<out>/tables/<name>.csv``, by
        :func:`study.report.build_report`; the README reads it there)."""
        return next(iter(self.experiments), None)

    def report_tables(self, evals: Mapping[str, pd.DataFrame | None], labels: Mapping[str, str]):
        """The task's own tables of the report: ``(main, {title: (file name, table)})`` from ``evals`` (experiment ->
        eval rows or None). ``main`` None: the report shows the generic main table
        (:func:`study.tables.main_table`) of :attr:`main_experiment`'s rows, when there are any. Default: ``(None,
        {})``."""
        return None, {}

    def report_claims(self, evals: Mapping[str, pd.DataFrame | None], labels: Mapping[str, str]) -> tuple:
        """The claims the report checks for this task; default :attr:`claims`."""
        return tuple(self.claims)

    def metric_label(self, name: str) -> str:
        """A metric's words (``success`` and the task's metrics); the name itself when unknown."""
        labels = {"success": "true success", **{m.name: m.label for m in self.metrics}}
        return labels.get(name, name)

    def metric_names(self) -> tuple[str, ...]:
        return ("success", *(m.name for m in self.metrics))


def check_rows(task: Task, rows: pd.DataFrame) -> pd.DataFrame:
    """Raise ``ValueError`` unless a task's evaluation rows have its episode column and ``success``."""
    missing = [c for c in (task.episode_column, "success") if c not in rows.columns]
    if missing:
        raise ValueError(f"{task.name}.evaluate: rows lack column(s) {missing}; "
                         f"allowed: a frame with {task.episode_column}, success, ...")
    return rows


def student_view_fn(task: Task, env: Any, config: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The student view a run's student gets: ``task.student_obs_fn(env)`` for the standard view
    (``config.student_view`` None, so a task that overrides :meth:`Task.student_obs_fn` with one argument still
    works), else ``task.student_obs_fn(env, config.student_view)``."""
    view = getattr(config, "student_view", None)
    return task.student_obs_fn(env) if view is None else task.student_obs_fn(env, view)


def base_experiment(experiment: str) -> str:
    """The experiment a run directory's name stands for: ``"main"`` for ``"main"`` and its tagged copy ``"main-s64"``
    (``python -m study.sweep --tag``)."""
    return experiment.split("-", 1)[0]


def check_tuning_seeds(task: Task, config: Any) -> None:
    """Tuning seeds apart from reported seeds: a run of one of ``task.tuning_experiments`` (or of a tagged copy) must
    use a seed of :data:`TUNING_SEEDS`; a run of a reported experiment (any other untagged experiment) must not. A
    tagged copy of a reported experiment is a probe and may use any seed; the smoke profile is exempt.
    ``ValueError`` naming ``seed`` and the allowed values."""
    if config.profile == "smoke":
        return
    tuning = ", ".join(map(str, TUNING_SEEDS))
    if base_experiment(config.experiment) in task.tuning_experiments:
        if config.seed not in TUNING_SEEDS:
            raise ValueError(f"seed: got {config.seed!r}; allowed: one of the tuning seeds {tuning} "
                             f"(experiment {config.experiment!r})")
    elif config.experiment in task.experiments and config.seed in TUNING_SEEDS:
        raise ValueError(f"seed: got {config.seed!r}; allowed: any seed except the tuning seeds {tuning}: "
                         f"{config.experiment!r} is reported")


__all__ = ["ActFn", "Claim", "HeldOut", "Metric", "SweepPlan", "TUNING_SEEDS", "TableMetric", "Task", "arrays_sha256",
           "base_experiment", "check_rows", "check_tuning_seeds", "student_view_fn"]
