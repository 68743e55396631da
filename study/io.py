"""Where results live and how the notebooks read them: paths per profile, tolerant loaders, writers.

The notebooks hold no logic; they call these. Loaders never raise because runs are missing: they return ``None``
(or an empty frame) and a one-line reason, which the notebook prints, so a notebook executed before the sweep still
runs to the end and says what is missing.

Paths: the committed results live under ``results/`` (runs in ``results/runs``); relative paths resolve against the
repository root wherever the kernel was started (:mod:`study.paths`); the smoke profile always writes under
``results/smoke/`` (gitignored), never over the committed results (:func:`resolve_paths`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Iterable

import numpy as np
import pandas as pd

from study import load, paths, store
from study.budget import steps_label  # noqa: F401 - re-exported (notebooks call io.steps_label)
from study.params import seed_list

__all__ = [
    "SMOKE_OUT",
    "resolve_paths",
    "find_runs",
    "list_experiments",
    "load_eval",
    "budget_experiments",
    "load_budget_search",
    "tuning_experiments",
    "load_probes",
    "load_tuning",
    "load_progress",
    "load_positions",
    "load_config",
    "run_configs_table",
    "steps_label",
    "arm_labels",
    "sweep_experiment",
    "save_table",
    "save_figure",
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
        inside = lambda p: SMOKE_OUT in (p, *p.parents)  # noqa: E731
        if not inside(out):
            out = SMOKE_OUT
        if not inside(root):
            root = SMOKE_OUT / "runs"
    return root, out


def find_runs(root: str | Path, experiment: str) -> list[Path]:
    """Complete run directories of ``experiment`` (:func:`study.load.complete_run_dirs`)."""
    return load.complete_run_dirs(root, experiment)


list_experiments = load.list_experiments


def study_profile(experiment: str, profile: str | None) -> str | None:
    """The profile of ``experiment``'s runs when the study runs ``profile``
    (:func:`study.presets.experiment_profile`: ``main_release_schedule`` runs ``release`` in place of ``default``);
    ``profile`` itself for a name no task knows (a budget-search copy) or None."""
    from study.presets import experiment_profile

    if profile is None:
        return None
    try:
        return experiment_profile(experiment, profile)
    except ValueError:
        return profile


def load_eval(root: str | Path, experiment: str, profile: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(eval_df, message)``: the eval rows of every complete run of ``experiment`` (:func:`study.load.load_eval`),
    restricted to ``profile`` when given (the experiment's own profile for it: :func:`study_profile`). ``eval_df`` is
    None when there are no runs; ``message`` says what was loaded or why nothing was."""
    profile = study_profile(experiment, profile)
    runs = find_runs(root, experiment)
    if not runs:
        return None, f"NO RUNS: no complete runs of experiment '{experiment}' under {root} (run the sweep first)"
    try:
        df = load.load_eval(root, experiment)
    except Exception as exc:  # noqa: BLE001
        return None, f"NO RUNS: could not read experiment '{experiment}' under {root}: {type(exc).__name__}: {exc}"
    if df is None or len(df) == 0:
        return None, f"NO RUNS: experiment '{experiment}' under {root} has no eval rows"
    if profile is not None and "profile" in df:
        other = sorted(set(df["profile"].astype(str)) - {profile})
        df = df[df["profile"].astype(str) == profile]
        if len(df) == 0:
            return None, f"NO RUNS: experiment '{experiment}' under {root} has runs of profile(s) {other}, none of '{profile}'"
    df = df.reset_index(drop=True)
    n_runs = df[["arm", "seed"]].drop_duplicates().shape[0]
    arms = ", ".join(dict.fromkeys(df["arm"].astype(str)))
    return df, f"loaded {n_runs} runs of '{experiment}' from {root} (arms: {arms})"


def budget_experiments(root: str | Path) -> list[str]:
    """Experiments under ``root`` that belong to the maze's budget search: ``budget_search*`` and tagged copies
    (``<experiment>-<tag>``, written by ``python -m study.sweep --tag``) of the maze's experiments; another task's
    tagged runs (e.g. its tuning probes, :func:`tuning_experiments`) are not the maze's budget search."""
    from study.presets import experiments  # noqa: PLC0415
    from study.task import base_experiment  # noqa: PLC0415

    maze = {name for name, (task, _) in experiments().items() if task == "color_maze"}
    return [e for e in list_experiments(root)
            if e.startswith("budget") or ("-" in e and base_experiment(e) in maze)]


def tuning_experiments(root: str | Path, task: str) -> list[str]:
    """Experiments under ``root`` that tune ``task``'s profile: its :attr:`study.task.Task.tuning_experiments` and
    their tagged copies (``<experiment>-<tag>``, one per probe)."""
    from study.registry import get_task  # noqa: PLC0415
    from study.task import base_experiment  # noqa: PLC0415

    bases = set(get_task(task).tuning_experiments)
    return [e for e in list_experiments(root) if base_experiment(e) in bases]


def load_probes(root: str | Path, names: list[str], profile: str | None = None,
                what: str = "probe") -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """``(eval_df, schedules, message)`` of the probe experiments ``names`` (a budget search, a task's tuning): their
    eval rows with ``experiment`` added and ``arm`` renamed ``"<experiment> / <arm>"`` so each (schedule, arm) is its
    own row in the tables; ``schedules`` has one row per such arm with its schedule (:func:`run_configs_table`)."""
    if not names:
        return None, pd.DataFrame(), (
            f"NO RUNS: no {what} experiments under {root} (tagged sweeps '<experiment>-<tag>' come from "
            "`python -m study.sweep --tag ...`)"
        )
    frames, scheds, msgs = [], [], []
    for name in names:
        df, msg = load_eval(root, name, profile)
        msgs.append(msg)
        if df is None:
            continue
        df = df.copy()
        df["experiment"] = name
        df["arm"] = name + " / " + df["arm"].astype(str)
        frames.append(df)
        sched = run_configs_table(root, name)
        if len(sched):
            sched["arm"] = name + " / " + sched["arm"].astype(str)
            scheds.append(sched)
    if not frames:
        return None, pd.DataFrame(), "; ".join(msgs)
    schedules = pd.concat(scheds, ignore_index=True) if scheds else pd.DataFrame()
    return pd.concat(frames, ignore_index=True), schedules, "; ".join(msgs)


def load_budget_search(root: str | Path, profile: str | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """:func:`load_probes` of the maze's budget search (:func:`budget_experiments`)."""
    return load_probes(root, budget_experiments(root), profile, what="budget-search ('budget_search*' or tagged)")


def load_tuning(root: str | Path, task: str, profile: str | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """:func:`load_probes` of ``task``'s tuning probes (:func:`tuning_experiments`), on the tuning seeds."""
    return load_probes(root, tuning_experiments(root, task), profile, what=f"{task} tuning")


def load_progress(root: str | Path, experiment: str, profile: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(progress_df, message)``: SB3's progress.csv rows of every complete run (:func:`study.load.load_progress`),
    restricted to ``profile`` when given (the experiment's own profile for it: :func:`study_profile`)."""
    profile = study_profile(experiment, profile)
    if not find_runs(root, experiment):
        return None, f"NO RUNS: no complete runs of experiment '{experiment}' under {root}"
    df = load.load_progress(root, experiment)
    if profile is not None and "profile" in df:
        df = df[df["profile"].astype(str) == profile]
    if len(df) == 0:
        return None, f"NO PROGRESS: the runs of '{experiment}' under {root} have no progress.csv rows"
    n = df[["arm", "seed"]].drop_duplicates().shape[0]
    return df.reset_index(drop=True), f"loaded training curves of {n} runs of '{experiment}'"


def load_positions(run_dir: str | Path, policy: str) -> np.ndarray | None:
    """:func:`study.load.load_positions`, or None when the run has no such array."""
    try:
        return load.load_positions(run_dir, policy)
    except (OSError, ValueError):
        return None


def load_config(run_dir: str | Path) -> dict[str, Any]:
    """The run's config.json as a dict ({} when absent)."""
    path = Path(run_dir) / store.CONFIG_FILE
    return store.read_json(path) if path.is_file() else {}


def run_configs_table(root: str | Path, experiment: str) -> pd.DataFrame:
    """One row per arm of an experiment with its schedule, read from the runs' config.json: ``experiment, arm,
    n_seeds, n_envs, n_steps, batch_size, n_epochs, ent_coef, total_timesteps, recipe, schedule`` (a short label)."""
    rows = {}
    for run in find_runs(root, experiment):
        cfg = load_config(run)
        arm = cfg.get("arm", run.parent.name)
        if arm in rows:
            rows[arm]["n_seeds"] += 1
            continue
        env, ppo = cfg.get("env", {}), cfg.get("ppo", {})
        n_envs, n_steps = env.get("n_envs"), ppo.get("n_steps")
        batch = ppo.get("batch_size")
        total = cfg.get("total_timesteps")
        label = (f"{n_steps} x {n_envs}, mb {'full' if batch is None else batch}, {ppo.get('n_epochs')} ep, "
                 f"ent {ppo.get('ent_coef')}, {steps_label(total)} steps" if total else "")
        rows[arm] = dict(experiment=experiment, arm=arm, n_seeds=1, n_envs=n_envs, n_steps=n_steps, batch_size=batch,
                         n_epochs=ppo.get("n_epochs"), ent_coef=ppo.get("ent_coef"), total_timesteps=total,
                         recipe=cfg.get("recipe"), schedule=label)
    return pd.DataFrame(list(rows.values()))


def arm_labels(experiment: str | None = None) -> dict[str, str]:
    """arm -> its one-line description: of the experiment's task, or of every task (the first task naming an arm
    gives its words)."""
    from study.presets import task_of  # noqa: PLC0415
    from study.registry import get_task, task_names  # noqa: PLC0415

    names = [task_of(experiment)] if experiment is not None else list(task_names())
    out: dict[str, str] = {}
    for name in names:
        for arm, spec in get_task(name).arms.items():
            out.setdefault(arm, getattr(spec, "description", "") or arm)
    return out


def sweep_experiment(
    experiment: str, profile: str, seeds: str | int | Iterable[int], root: str | Path, jobs: int = 1
) -> str:
    """Train the missing runs of ``experiment`` (``study.sweep.sweep``; complete runs are kept). Returns a
    one-line message; never raises for an unknown experiment or failed runs (the message says so)."""
    from study.presets import experiment_configs  # noqa: PLC0415

    seeds = seed_list(seeds)
    try:
        configs = experiment_configs(experiment, profile, seeds)
    except ValueError as exc:
        return f"cannot sweep '{experiment}': {exc}"
    from study.sweep import sweep  # noqa: PLC0415

    report = sweep(configs, root, jobs=jobs, progress=False)
    summary = report.summary() if hasattr(report, "summary") else str(report)
    return f"sweep of '{experiment}' ({profile}, seeds {seeds}) into {root}: {summary}"


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
    train the missing runs first when ``run`` (:func:`sweep_experiment`), load the eval rows (:func:`load_eval`).
    Prints what it did; returns ``(root, out, eval_df)`` with ``eval_df`` None when there are no runs."""
    root, out = resolve_paths(profile, root, out)
    print(f"profile={profile}  runs={root}  outputs={out}")
    if run:
        print(sweep_experiment(experiment, profile, seeds, root, jobs))
    eval_df, message = load_eval(root, experiment, profile)
    print(message)
    return root, out, eval_df


#: floats of a saved table keep 10 significant digits: the same runs give the same file on any machine (the last
#: digits of a float sum depend on the CPU's summation order; every committed table was seen to move there between
#: two machines), and no table reports more than 4
TABLE_FLOAT_FORMAT = "%.10g"


def save_table(df: pd.DataFrame, out: str | Path, name: str) -> Path:
    """Write ``<out>/tables/<name>.csv`` (directories created; floats as :data:`TABLE_FLOAT_FORMAT`); returns the
    path."""
    path = Path(out) / "tables" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format=TABLE_FLOAT_FORMAT)
    return path


def save_figure(fig, out: str | Path, name: str, dpi: int = 150) -> Path:
    """Write ``<out>/figures/<name>.png`` (directories created); returns the path. The figure is left open, so a
    notebook can still display it."""
    path = Path(out) / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white", bbox_inches="tight")
    return path
