"""The flight task's figures from our runs: teacher and student flights with their view cones on one held-out world
(the typical seed, by the maze figure's rule), the distribution of velocity angles per arm, and the task itself (what
the teacher and the student see; the two scripted behaviours). Built on :mod:`fov_flight.render`; generic plots are in
:mod:`study.figures`.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fov_flight.render import draw_trajectory, draw_world, views_figure, world_figure
from fov_flight.evaluate import evaluate
from fov_flight.scripted import ScriptedPilot
from fov_flight.task import TASK, held_out_worlds
from study import load
from study.figures import POLICY_COLORS, new_figure
from study.presets import preset, task_of
from study.tables import as_float, order_arms

__all__ = ["PANELS", "check_world", "notebook_config", "panel_specs", "typical_seed", "trajectory_panels",
           "trajectory_figure", "velocity_angle_figure", "views_picture", "scripted_figure"]

#: the panels of the trajectory figure: caption, arm (``{sitt}``: the SITT arm asked for), policy
PANELS = (
    ("Teacher without alignment", "without_alignment", "teacher"),
    ("Student without alignment", "without_alignment", "student"),
    ("Teacher with alignment ({sitt})", "{sitt}", "teacher"),
    ("Student with alignment ({sitt})", "{sitt}", "student"),
)
PANEL_COLORS = {"teacher": POLICY_COLORS["teacher"], "student": POLICY_COLORS["student"]}


def check_world(config, world) -> int:
    """``world`` if it is one of the held-out flights a run of ``config`` stores (``0 <= world < eval.n_trajectories``,
    the trajectory figure's choice), else ``ValueError`` naming the parameter ``world`` and the allowed range."""
    n = config.eval.n_trajectories
    if isinstance(world, bool) or not isinstance(world, (int, np.integer)) or not 0 <= world < n:
        raise ValueError(f"world: got {world!r}; allowed: an integer in [0, {n - 1}] (the held-out flights a run "
                         f"stores, eval.n_trajectories = {n})")
    return int(world)


def notebook_config(experiment: str, profile: str, world: int):
    """The flight notebook's checked parameters: ``(config, world)``, with ``config`` the ``without_alignment`` run
    config of ``experiment`` (an experiment of the flight task, else ``ValueError`` naming ``experiment``) under
    ``profile`` (its held-out worlds; a tuning experiment is not one, the task's geometry) and ``world`` checked by
    :func:`check_world`."""
    reported = [e for e in TASK.experiments if e not in TASK.tuning_experiments]
    if task_of(experiment) != TASK.name or experiment not in reported:
        raise ValueError(f"experiment: got {experiment!r} (task {task_of(experiment)!r}); allowed: a reported "
                         f"experiment of task {TASK.name!r}: {', '.join(reported)}")
    config = preset(experiment, "without_alignment", 0, profile)
    return config, check_world(config, world)


def panel_specs(sitt_arm: str = "sitt_paper") -> list[tuple[str, str, str]]:
    """:data:`PANELS` with the SITT arm filled in."""
    return [(cap.format(sitt=sitt_arm), arm.format(sitt=sitt_arm), pol) for cap, arm, pol in PANELS]


def typical_seed(eval_df: pd.DataFrame | None, sitt_arm: str = "sitt_paper") -> int | None:
    """The training seed that best stands for all seeds in the panels (the maze figure's rule,
    :func:`color_maze.figures.typical_seed`): among the seeds with runs of the most panels, the one minimising the sum
    over panels of |success of the panel's policy at that seed - its median over seeds|; ties go to the smallest
    seed. None without runs."""
    if eval_df is None or len(eval_df) == 0:
        return None
    specs = panel_specs(sitt_arm)
    df = eval_df.assign(success=as_float(eval_df["success"]))
    rates = df.groupby(["arm", "policy", "seed"])["success"].mean()
    seeds = sorted(int(s) for s in df["seed"].unique())
    per_panel = []
    for _, arm, policy in specs:
        per_panel.append({s: float(rates[(arm, policy, s)]) for s in seeds if (arm, policy, s) in rates.index})
    coverage = {s: sum(s in p for p in per_panel) for s in seeds}
    best = [s for s in seeds if coverage[s] == max(coverage.values())]
    medians = [float(np.median(list(p.values()))) if p else 0.0 for p in per_panel]
    distance = {s: sum(abs(p[s] - m) for p, m in zip(per_panel, medians) if s in p) for s in best}
    return min(best, key=lambda s: (distance[s], s))


def _run_dirs(root: Path, experiment: str) -> dict[str, dict[int, Path]]:
    out: dict[str, dict[int, Path]] = {}
    for run in load.complete_run_dirs(root, experiment):
        out.setdefault(run.parent.name, {})[int(run.name.split("_")[-1])] = run
    return out


def trajectory_panels(root: str | Path, experiment: str = "fov_flight_main", *, world: int = 0,
                      sitt_arm: str = "sitt_paper", seed: int | str | None = "typical") -> tuple[list, dict]:
    """The data of the trajectory figure: a list of ``(caption, policy, pos (T, 2) | None, yaw (T,) | None, outcome)``
    per panel, and an info dict (``seed``, ``world``, ``worlds`` (the held-out worlds of the runs), ``config``,
    ``missing`` captions). ``seed="typical"``: :func:`typical_seed` of the experiment's runs; None: the smallest seed
    with runs of the most panels. ``world`` must be one of the stored flights (``eval.n_trajectories``)."""
    root = Path(root)
    eval_df, _ = load.eval_rows(root, experiment)
    runs = _run_dirs(root, experiment)
    specs = panel_specs(sitt_arm)
    if seed == "typical":
        seed = typical_seed(eval_df, sitt_arm)
    elif isinstance(seed, str):
        raise ValueError(f"seed: got {seed!r}; allowed: an int, None or 'typical'")
    if seed is None:
        seeds = sorted({s for arm in runs.values() for s in arm})
        seed = max(seeds, key=lambda s: (sum(s in runs.get(a, {}) for _, a, _ in specs), -s)) if seeds else None
    info = dict(seed=seed, world=world, worlds=None, config=None, missing=[], experiment=experiment)
    panels = []
    for caption, arm, policy in specs:
        run = runs.get(arm, {}).get(seed) if seed is not None else None
        pos = load.load_positions(run, f"{policy}_pos") if run is not None else None
        yaw = load.load_positions(run, f"{policy}_yaw") if run is not None else None
        if pos is None or yaw is None or world >= len(pos):
            info["missing"].append(caption)
            panels.append((caption, policy, None, None, "no runs"))
            continue
        if info["config"] is None:
            info["config"] = load.load_config(run)
            info["worlds"], _ = held_out_worlds(info["config"])
        rows = eval_df[(eval_df["arm"] == arm) & (eval_df["seed"] == seed) & (eval_df["policy"] == policy)
                       & (eval_df["world"] == world)]
        outcome = "?"
        if len(rows):
            r = rows.iloc[0]
            outcome = ("success" if as_float(rows["success"]).iloc[0] > 0.5 else
                       "collision" if as_float(rows["collision"]).iloc[0] > 0.5 else "timeout")
            outcome += f", velocity angle {float(r['velocity_angle_deg']):.0f} deg"
        panels.append((caption, policy, np.asarray(pos[world], float), np.asarray(yaw[world], float), outcome))
    return panels, info


def trajectory_figure(root: str | Path, experiment: str = "fov_flight_main", *, world: int = 0,
                      sitt_arm: str = "sitt_paper", seed: int | str | None = "typical", every: int = 8) -> Figure:
    """Teacher and student flights of ``without_alignment`` and ``sitt_arm`` on held-out world ``world`` of one seed
    (default the typical one), each with its view cone (field of view, a third of the range) every ``every`` steps.
    ``fig.fov_info`` holds the panel info (seed, world, missing panels)."""
    panels, info = trajectory_panels(root, experiment, world=world, sitt_arm=sitt_arm, seed=seed)
    fig = new_figure((11.0, 6.4))
    axes = fig.subplots(2, 2, squeeze=False).ravel()
    config = info["config"]
    for ax, (caption, policy, pos, yaw, outcome) in zip(axes, panels):
        if config is None:
            ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            flight = config.env.flight
            draw_world(ax, info["worlds"], world, flight)
            if pos is not None:
                draw_trajectory(ax, pos, yaw, flight, every=every, color=PANEL_COLORS[policy])
        ax.set_title(f"{caption}\n{outcome}", fontsize=9)
    fig.suptitle(f"{experiment}: held-out world {world}, seed {info['seed']}", fontsize=10)
    fig.tight_layout()
    fig.fov_info = {k: v for k, v in info.items() if k not in ("worlds", "config")}
    return fig


def velocity_angle_figure(eval_df: pd.DataFrame, *, policies: Sequence[str] = ("teacher", "student"),
                          arms: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
                          title: str | None = None) -> Figure:
    """The distribution of the per-flight velocity angle (degrees; each held-out flight of each seed one value) per
    arm (rows) and policy (colour): box plots with the median, quartiles and 1.5-IQR whiskers."""
    df = eval_df[eval_df["policy"].isin(list(policies))].copy()
    df["velocity_angle_deg"] = pd.to_numeric(df["velocity_angle_deg"], errors="coerce")
    df = df.dropna(subset=["velocity_angle_deg"])
    order = order_arms(df["arm"]) if arms is None else [a for a in arms if a in set(df["arm"])]
    fig = new_figure((7.5, max(2.4, 0.28 * len(order) * len(policies) + 1.2)))
    ax = fig.add_subplot(1, 1, 1)
    if df.empty:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    pols = [p for p in policies if p in set(df["policy"])]
    step = 1.0 / (len(pols) + 1)
    for j, pol in enumerate(pols):
        data, ys = [], []
        for i, arm in enumerate(order):
            values = df.loc[(df["arm"] == arm) & (df["policy"] == pol), "velocity_angle_deg"].to_numpy(float)
            if len(values):
                data.append(values)
                ys.append(len(order) - 1 - i + (j - (len(pols) - 1) / 2) * step)
        if data:
            box = ax.boxplot(data, positions=ys, orientation="horizontal", widths=step * 0.8, patch_artist=True,
                             showfliers=False)
            for patch in box["boxes"]:
                patch.set_facecolor(POLICY_COLORS.get(pol, "grey"))
                patch.set_alpha(0.6)
            ax.plot([], [], color=POLICY_COLORS.get(pol, "grey"), lw=6, alpha=0.6, label=pol)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([(labels or {}).get(a, a) for a in order][::-1], fontsize=8)
    ax.set_xlim(0, 180)
    ax.set_xlabel("velocity angle per flight (degrees; 0 = camera along the velocity)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _scripted_flight(config, world: int, yaw: str):

    worlds, _ = held_out_worlds(config)
    one = worlds.subset([world])
    rows, traj = evaluate(ScriptedPilot(config.env.flight, yaw=yaw), one, config.env.flight,
                          min_speed=config.eval.min_speed)
    return worlds, rows, traj


def views_picture(config, world: int = 0, step: int = 25) -> Figure:
    """What the teacher and the student see (:func:`fov_flight.render.views_figure`) at step ``step`` of the scripted
    privileged pilot with its yaw along the velocity on held-out world ``world`` of a run config (its last state if
    the flight ends earlier)."""
    worlds, rows, traj = _scripted_flight(config, world, "along_velocity")
    t = int(min(step, int(traj["steps"][0])))
    return views_figure(worlds, world, traj["pos"][0, t], float(traj["yaw"][0, t]), config.env.flight)


def scripted_figure(config, world: int = 0, every: int = 8) -> Figure:
    """The two privileged behaviours on one held-out world: the scripted pilot with its yaw held and with its yaw
    along the velocity. Translation does not depend on the heading, so both fly the same path; only the view cones
    differ (:mod:`fov_flight.scripted`)."""
    flights = {}
    for yaw, label in (("fixed", "yaw held"), ("along_velocity", "yaw along the velocity")):
        worlds, rows, traj = _scripted_flight(config, world, yaw)
        outcome = "success" if bool(rows["success"].iloc[0]) else "collision" if bool(rows["collision"].iloc[0]) \
            else "timeout"
        flights[f"{label}: {outcome}, velocity angle {float(rows['velocity_angle_deg'].iloc[0]):.0f} deg"] = (
            traj["pos"][0], traj["yaw"][0])
    return world_figure(worlds, world, config.env.flight, flights, every=every)
