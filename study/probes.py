"""Probe experiments: tagged copies (``<experiment>-<tag>``, ``python -m study.sweep --tag``) that search a schedule
(a task's tuning, :attr:`study.task.Task.tuning_experiments`, on the tuning seeds) read side by side, each probe's
arms named ``"<experiment> / <arm>"`` with the schedule its runs were made with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from study import load
from study.budget import steps_label
from study.presets import study_profile
from study.registry import get_task
from study.task import base_experiment


def tuning_experiments(root: str | Path, task: str) -> list[str]:
    """Experiments under ``root`` that tune ``task``'s profile: its :attr:`study.task.Task.tuning_experiments` and
    their tagged copies (``<experiment>-<tag>``, one per probe)."""
    bases = set(get_task(task).tuning_experiments)
    return [e for e in load.list_experiments(root) if base_experiment(e) in bases]


def run_configs_table(root: str | Path, experiment: str) -> pd.DataFrame:
    """One row per arm of an experiment with its schedule, read from the runs' configs: ``experiment, arm, n_seeds,
    n_envs, n_steps, batch_size, n_epochs, ent_coef, total_timesteps, recipe, schedule`` (a short label)."""
    rows = {}
    for run in load.complete_run_dirs(root, experiment):
        cfg = load.load_config(run).to_dict()
        arm = cfg["arm"]
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


def load_probes(root: str | Path, names: list[str], profile: str | None = None,
                what: str = "probe") -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """``(eval_df, schedules, message)`` of the probe experiments ``names``: their eval rows (each of its own
    profile for ``profile``: :func:`study.presets.study_profile`) with ``experiment`` added and ``arm`` renamed
    ``"<experiment> / <arm>"`` so each (schedule, arm) is its own row in the tables; ``schedules`` has one row per
    such arm with its schedule (:func:`run_configs_table`). ``what`` names the probes in the message."""
    if not names:
        return None, pd.DataFrame(), (
            f"NO RUNS: no {what} experiments under {root} (tagged sweeps '<experiment>-<tag>' come from "
            "`python -m study.sweep --tag ...`)"
        )
    frames, scheds, msgs = [], [], []
    for name in names:
        df, msg = load.eval_rows(root, name, study_profile(name, profile))
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


def load_tuning(root: str | Path, task: str, profile: str | None = None
                ) -> tuple[pd.DataFrame | None, pd.DataFrame, str]:
    """:func:`load_probes` of ``task``'s tuning probes (:func:`tuning_experiments`), on the tuning seeds."""
    return load_probes(root, tuning_experiments(root, task), profile, what=f"{task} tuning")


__all__ = ["load_probes", "load_tuning", "run_configs_table", "tuning_experiments"]
