"""Where results live and how the notebooks read them: paths per profile, tolerant loaders, writers.

The notebooks hold no logic; they call these. Loaders never raise because runs are missing: they return ``None``
(or an empty frame) and a one-line reason, which the notebook prints, so a notebook executed before the sweep still
runs to the end and says what is missing.

Paths: the committed results live under ``results/`` (runs in ``results/runs``); the smoke profile always writes under
``results/smoke/`` (gitignored), never over the committed results (:func:`resolve_paths`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

__all__ = [
    "SMOKE_OUT",
    "resolve_paths",
    "find_runs",
    "list_experiments",
    "load_eval",
    "budget_experiments",
    "load_budget_search",
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

SMOKE_OUT = Path("results/smoke")


def resolve_paths(profile: str, root: str | Path, out: str | Path) -> tuple[Path, Path]:
    """``(root, out)`` for a profile: unchanged, except that the smoke profile is confined to ``results/smoke``.

    With ``profile == "smoke"``, an ``out`` outside ``results/smoke`` becomes ``results/smoke`` and a ``root`` outside
    it becomes ``results/smoke/runs``: a smoke execution can never overwrite committed tables, figures or runs.
    """
    root, out = Path(root), Path(out)
    if profile == "smoke":
        inside = lambda p: SMOKE_OUT in (p, *p.parents)  # noqa: E731
        if not inside(out):
            out = SMOKE_OUT
        if not inside(root):
            root = SMOKE_OUT / "runs"
    return root, out


def find_runs(root: str | Path, experiment: str) -> list[Path]:
    """Complete run directories ``<root>/<experiment>/<arm>/seed_<k>`` (holding ``COMPLETE``), sorted."""
    base = Path(root) / experiment
    if not base.is_dir():
        return []
    return sorted(p.parent for p in base.glob("*/seed_*/COMPLETE") if p.is_file())


def list_experiments(root: str | Path, prefix: str = "") -> list[str]:
    """Names of the experiments under ``root`` with at least one complete run, optionally filtered by prefix."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix) and find_runs(root, p.name))


def _experiments_module():
    try:
        import study as ex  # noqa: PLC0415
    except Exception as err:  # noqa: BLE001 - report any import problem, the notebook goes on
        return None, f"study is not importable ({type(err).__name__}: {err})"
    return ex, ""


def load_eval(root: str | Path, experiment: str, profile: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(eval_df, message)``: the eval rows of every complete run of ``experiment`` (``study.load_eval``:
    eval.csv rows plus ``arm, seed, profile, recipe``), restricted to ``profile`` when given and the column exists.
    ``eval_df`` is None when there are no runs; ``message`` says what was loaded or why nothing was."""
    runs = find_runs(root, experiment)
    if not runs:
        return None, f"NO RUNS: no complete runs of experiment '{experiment}' under {root} (run the sweep first)"
    ex, err = _experiments_module()
    try:
        if ex is not None and hasattr(ex, "load_eval"):
            df = ex.load_eval(root, experiment)
        else:
            df = _load_eval_files(runs)
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
    """Experiments under ``root`` that belong to the budget search: ``budget_search*`` and tagged copies of a study
    (``<experiment>-<tag>``, written by ``python -m study.sweep --tag``)."""
    return [e for e in list_experiments(root) if e.startswith("budget") or "-" in e]


def load_budget_search(root: str | Path, profile: str | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """``(eval_df, schedules, message)`` of the budget search: the eval rows of every budget experiment
    (:func:`budget_experiments`), with ``arm`` renamed ``"<experiment> / <arm>"`` so each (schedule, arm) is its own
    row in the tables; ``schedules`` has one row per such arm with its schedule (:func:`run_configs_table`)."""
    names = budget_experiments(root)
    if not names:
        return None, pd.DataFrame(), (
            f"NO RUNS: no budget-search experiments under {root} (expected 'budget_search*' or tagged sweeps "
            "'<experiment>-<tag>' from `python -m study.sweep --tag ...`)"
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


def _load_eval_files(runs: Iterable[Path]) -> pd.DataFrame:
    """Fallback reader (same columns as ``study.load_eval``) used when that module is unavailable."""
    frames = []
    for run in runs:
        df = pd.read_csv(run / "eval.csv")
        cfg = load_config(run)
        df["arm"] = cfg.get("arm", run.parent.name)
        df["seed"] = cfg.get("seed", int(run.name.split("_")[-1]))
        df["profile"] = cfg.get("profile")
        df["recipe"] = cfg.get("recipe")
        frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_progress(root: str | Path, experiment: str, profile: str | None = None) -> tuple[pd.DataFrame | None, str]:
    """``(progress_df, message)``: SB3's progress.csv rows of every complete run with ``arm, seed`` columns."""
    runs = find_runs(root, experiment)
    if not runs:
        return None, f"NO RUNS: no complete runs of experiment '{experiment}' under {root}"
    frames = []
    for run in runs:
        path = run / "progress.csv"
        if not path.is_file() or path.stat().st_size == 0:
            continue
        try:
            df = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            continue
        cfg = load_config(run)
        if profile is not None and cfg.get("profile") not in (None, profile):
            continue
        df["arm"] = cfg.get("arm", run.parent.name)
        df["seed"] = cfg.get("seed", int(run.name.split("_")[-1]))
        frames.append(df)
    if not frames:
        return None, f"NO PROGRESS: the runs of '{experiment}' under {root} have no progress.csv rows"
    return pd.concat(frames, ignore_index=True), f"loaded training curves of {len(frames)} runs of '{experiment}'"


def load_positions(run_dir: str | Path, policy: str) -> np.ndarray | None:
    """Positions ``(n_mazes, n_steps + 1, 2)`` of ``policy`` in a run's evaluation, or None when absent."""
    path = Path(run_dir) / "positions.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        return np.asarray(data[policy]) if policy in data.files else None


def load_config(run_dir: str | Path) -> dict[str, Any]:
    """The run's config.json as a dict ({} when absent)."""
    path = Path(run_dir) / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def steps_label(n: float) -> str:
    """6000000 -> "6M", 768000 -> "768k", 768 -> "768"."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:g}"


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


def arm_labels() -> dict[str, str]:
    """arm -> its one-line description from ``study`` ({} when unavailable)."""
    ex, _ = _experiments_module()
    arms = getattr(ex, "ARMS", None) if ex is not None else None
    if arms is None:
        try:
            from study.presets import ARMS as arms  # noqa: PLC0415
        except Exception:  # noqa: BLE001
            return {}
    return {name: getattr(spec, "description", "") or name for name, spec in arms.items()}


def sweep_experiment(
    experiment: str, profile: str, seeds: int | Iterable[int], root: str | Path, jobs: int = 1
) -> str:
    """Train the missing runs of ``experiment`` (``study.sweep.sweep``; complete runs are kept). Returns a
    one-line message; never raises for an unknown experiment or failed runs (the message says so)."""
    ex, err = _experiments_module()
    if ex is None:
        return f"cannot sweep: {err}"
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    try:
        configs = ex.experiment_configs(experiment, profile, seeds)
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
    seeds: int | Iterable[int] = 10,
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


def save_table(df: pd.DataFrame, out: str | Path, name: str) -> Path:
    """Write ``<out>/tables/<name>.csv`` (directories created); returns the path."""
    path = Path(out) / "tables" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def save_figure(fig, out: str | Path, name: str, dpi: int = 150) -> Path:
    """Write ``<out>/figures/<name>.png`` (directories created); returns the path. The figure is left open, so a
    notebook can still display it."""
    path = Path(out) / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white", bbox_inches="tight")
    return path
