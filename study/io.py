"""The notebooks' facade: where results live, the study's readers under notebook-friendly names, the writers, and
the one place of the study that starts a sweep from a notebook (:func:`sweep_experiment`, :func:`open_experiment`).

The notebooks hold no logic; they call these. Readers never raise because runs are missing: they return ``None``
(or an empty frame) and a one-line reason, which the notebook prints, so a notebook executed before the sweep still
runs to the end and says what is missing. Library modules and tasks read the store through :mod:`study.load`; no
library module imports this one.

Paths: the committed results live under ``results/`` (runs in ``results/runs``); relative paths resolve against the
repository root wherever the kernel was started (:mod:`study.paths`); the smoke profile always writes under
``results/smoke/`` (gitignored), never over the committed results (:func:`resolve_paths`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable

import pandas as pd
from matplotlib.figure import Figure

from study import claims as claims_mod
from study import figures, load, paths
from study.budget import steps_label
from study.params import seed_list
from study.presets import arm_labels, experiment_configs, study_profile
from study.probes import load_tuning, run_configs_table
from study.sweep import sweep
from study.tables import budget_table
from study.task import Task
from study.writers import save_figure, save_table

__all__ = [
    "SMOKE_OUT",
    "BudgetReading",
    "arm_labels",
    "budget_reading",
    "eval_table",
    "load_tuning",
    "open_experiment",
    "progress_table",
    "resolve_paths",
    "run_configs_table",
    "save_figure",
    "save_table",
    "steps_label",
    "study_profile",
    "sweep_experiment",
]

SMOKE_OUT = paths.resolve(paths.SMOKE_OUT)


def resolve_paths(profile: str, root: str | Path, out: str | Path) -> tuple[Path, Path]:
    """``(root, out)`` for a profile: unchanged, except that the smoke profile is confined to ``results/smoke``.

    Relative paths resolve against the repository root (:func:`study.paths.resolve`).
    With ``profile == "smoke"``, an ``out`` outside ``results/smoke`` becomes ``results/smoke`` and a ``root`` outside
    it becomes ``results/smoke/runs``: a smoke execution can never overwrite committed tables, figures or runs.
    """
    root, out = paths.resolve(root), paths.resolve(out)
    if profile == "smoke":
        def inside(p: Path) -> bool:
            return SMOKE_OUT in (p, *p.parents)

        if not inside(out):
            out = SMOKE_OUT
        if not inside(root):
            root = SMOKE_OUT / "runs"
    return root, out


def eval_table(root: str | Path, experiment: str, profile: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(eval_df, message)``: the eval rows of every complete run of ``experiment`` (:func:`study.load.eval_rows`),
    restricted to ``profile`` when given (the experiment's own profile for it: :func:`study.presets.study_profile`).
    ``eval_df`` is None when there are no runs; ``message`` says what was loaded or why nothing was."""
    return load.eval_rows(root, experiment, study_profile(experiment, profile))


def progress_table(root: str | Path, experiment: str, profile: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(progress_df, message)``: SB3's progress.csv rows of every complete run (:func:`study.load.load_progress`),
    restricted to ``profile`` when given (the experiment's own profile for it: :func:`study.presets.study_profile`)."""
    profile = study_profile(experiment, profile)
    if not load.complete_run_dirs(root, experiment):
        return None, f"NO RUNS: no complete runs of experiment '{experiment}' under {root}"
    df = load.load_progress(root, experiment)
    if profile is not None and "profile" in df:
        df = df[df["profile"].astype(str) == profile]
    if len(df) == 0:
        return None, f"NO PROGRESS: the runs of '{experiment}' under {root} have no progress.csv rows"
    n = df[["arm", "seed"]].drop_duplicates().shape[0]
    return df.reset_index(drop=True), f"loaded training curves of {n} runs of '{experiment}'"


def sweep_experiment(
    experiment: str, profile: str, seeds: str | int | Iterable[int], root: str | Path, jobs: int = 1
) -> str:
    """Train the missing runs of ``experiment`` (:func:`study.sweep.sweep`; complete runs are kept). Returns a
    one-line message; never raises for an unknown experiment or failed runs (the message says so)."""
    seeds = seed_list(seeds)
    try:
        configs = experiment_configs(experiment, profile, seeds)
    except ValueError as exc:
        return f"cannot sweep '{experiment}': {exc}"
    report = sweep(configs, root, jobs=jobs, progress=False)
    return f"sweep of '{experiment}' ({profile}, seeds {seeds}) into {root}: {report.summary()}"


def open_experiment(
    experiment: str,
    profile: str,
    root: str | Path,
    out: str | Path,
    *,
    run: bool = False,
    seeds: str | int | Iterable[int] = "0-9",
    jobs: int = 1,
) -> tuple[Path, Path, pd.DataFrame | None]:
    """A notebook's set-up: resolve the run store and output folders for ``profile`` (:func:`resolve_paths`),
    train the missing runs first when ``run`` (:func:`sweep_experiment`), load the eval rows (:func:`eval_table`).
    Prints what it did; returns ``(root, out, eval_df)`` with ``eval_df`` None when there are no runs."""
    root, out = resolve_paths(profile, root, out)
    print(f"profile={profile}  runs={root}  outputs={out}")
    return root, out, _sweep_and_load(experiment, profile, root, run, seeds, jobs)


def _sweep_and_load(
    experiment: str, profile: str, root: str | Path, run: bool, seeds: str | int | Iterable[int], jobs: int
) -> pd.DataFrame | None:
    """Train the missing runs of ``experiment`` first when ``run`` (:func:`sweep_experiment`), then load its eval
    rows (:func:`eval_table`), printing both messages; None when there are no runs."""
    if run:
        print(sweep_experiment(experiment, profile, seeds, root, jobs))
    eval_df, message = eval_table(root, experiment, profile)
    print(message)
    return eval_df


@dataclass(frozen=True)
class BudgetReading:
    """A task's budget experiment read for a notebook (:func:`budget_reading`).

    :param eval_df: the experiment's eval rows (:func:`eval_table`)
    :param table: :func:`study.tables.budget_table` of them, one row per (budget, method) with runs
    :param figure: every arm's student and teacher success per seed (:func:`study.figures.metric_plot`)
    :param claims: :func:`study.claims.claims_table` of the task's claims on the budget experiment
    """

    eval_df: pd.DataFrame
    table: pd.DataFrame
    figure: Figure
    claims: pd.DataFrame


def budget_reading(
    task: Task,
    main_eval: pd.DataFrame | None,
    profile: str,
    root: str | Path,
    out: str | Path,
    *,
    run: bool = False,
    seeds: str | int | Iterable[int] = "0-9",
    jobs: int = 1,
) -> BudgetReading | None:
    """Every method of ``task`` at an equal budget and at 2x (:attr:`study.task.Task.budget`): train the budget
    experiment's missing runs first when ``run`` (:func:`sweep_experiment`), load its eval rows, and save its budget
    table (``tables/<experiment>.csv``) and success figure (``figures/<experiment>_success.png``) under ``out``. Prints
    what it did; returns None (after printing why) when the experiment has no runs under ``root``.

    :param main_eval: the task's main experiment's eval rows, for the tasks whose claims read them beside the budget
        experiment's (:meth:`study.task.Task.report_claims`); None when absent
    """
    plan = task.budget
    eval_df = _sweep_and_load(plan.experiment, profile, root, run, seeds, jobs)
    if eval_df is None:
        return None
    table = budget_table(eval_df, plan.readings)
    print("saved", save_table(table, out, plan.experiment))
    figure = figures.metric_plot(eval_df, "success", title=f"{plan.experiment}: success per arm", ylabel="success")
    print("saved", save_figure(figure, out, f"{plan.experiment}_success"))
    evals = {task.main_experiment: main_eval, plan.experiment: eval_df}
    claims = [c for c in task.report_claims(evals, {}) if c.experiment == plan.experiment]
    return BudgetReading(eval_df, table, figure, claims_mod.claims_table({plan.experiment: eval_df}, claims))
