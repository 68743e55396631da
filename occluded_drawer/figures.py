"""The occluded drawer's figures from the study's runs: the approaches of the plain and the SITT teacher (and their
students) with the camera's field of view and sight line, and the two scripted approaches (the task in pictures).
Built on :mod:`occluded_drawer.render` (the drawing) and the study's readers; generic plots (a metric per arm, e.g.
the visible share) are :func:`study.figures.metric_plot`.

Every function returns a ``matplotlib.figure.Figure`` on an Agg canvas (no display needed).
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from occluded_drawer import render
from occluded_drawer.config import DrawerConfig
from occluded_drawer.design import DrawerEvalConfig
from occluded_drawer.evaluate import evaluate, summarise
from occluded_drawer.generation import generate_scenes
from occluded_drawer.scripted import hiding_controller, visible_controller
from occluded_drawer.task import TRAJECTORY_KEYS
from study import load

__all__ = ["APPROACH_ARMS", "load_trajectories", "run_drawer_config", "runs_by_arm", "typical_seed",
           "approach_figure", "scripted_approaches",
           "visible_before_grasp"]

#: the arms whose approaches the main figure compares: the plain teacher's (w/o alignment) and SITT's
APPROACH_ARMS = ("without_alignment", "sitt_paper")


def run_drawer_config(run_dir: str | Path) -> DrawerConfig:
    """The :class:`DrawerConfig` a run was trained and evaluated with (its config's ``env.drawer``)."""
    return load.load_config(run_dir).env.drawer_config()


def load_trajectories(run_dir: str | Path, policy: str) -> dict[str, np.ndarray] | None:
    """The stored evaluation trajectories of ``policy`` in a run (:data:`occluded_drawer.task.TRAJECTORY_KEYS`, the
    first ``eval.n_trajectories`` held-out scenes), as :func:`occluded_drawer.render.approach_figure` takes them; None
    when the run stored none."""
    out = {}
    for key in TRAJECTORY_KEYS:
        a = load.load_positions(run_dir, f"{policy}_{key}")
        if a is None:
            return None
        out[key] = a
    return out


def runs_by_arm(root: str | Path, experiment: str) -> dict[str, dict[int, Path]]:
    """arm -> seed -> complete run directory of ``experiment`` under ``root``."""
    out: dict[str, dict[int, Path]] = {}
    for run in load.complete_run_dirs(root, experiment):
        out.setdefault(run.parent.name, {})[int(run.name.split("_")[-1])] = run
    return out


def typical_seed(root: str | Path, experiment: str, arms: Sequence[str] = APPROACH_ARMS,
                 policies: Sequence[str] = ("teacher",), metric: str = "visible_share") -> int | None:
    """The training seed that best stands for all seeds in an approach figure: among the seeds with runs of the most
    ``arms``, the one minimising the sum over (arm, policy) of |the run's mean ``metric`` over the held-out scenes -
    its median over seeds|; ties go to the smallest seed; None without runs. A rule fixed before looking at the
    figure, as the maze's :func:`color_maze.figures.typical_seed`."""
    by_arm = runs_by_arm(root, experiment)
    seeds = sorted({s for a in arms for s in by_arm.get(a, {})})
    if not seeds:
        return None
    coverage = {s: sum(s in by_arm.get(a, {}) for a in arms) for s in seeds}
    best = [s for s in seeds if coverage[s] == max(coverage.values())]
    values: list[dict[int, float]] = []
    for arm in arms:
        for policy in policies:
            per = {}
            for s, run in by_arm.get(arm, {}).items():
                ev = pd.read_csv(run / "eval.csv")
                sel = pd.to_numeric(ev.loc[ev["policy"] == policy, metric], errors="coerce")
                if sel.notna().any():
                    per[s] = float(sel.mean())
            values.append(per)
    medians = [float(np.median(list(p.values()))) if p else 0.0 for p in values]
    distance = {s: sum(abs(p[s] - m) for p, m in zip(values, medians) if s in p) for s in best}
    return min(best, key=lambda s: (distance[s], s))


def approach_figure(root: str | Path, experiment: str, *, arms: Sequence[str] = APPROACH_ARMS,
                    policy: str = "teacher", seed: int | str = "typical", scene: int = 0, every: int = 3,
                    until_grasp: bool = True) -> Figure:
    """One panel per arm: the ``policy``'s approach on held-out scene ``scene`` of run ``seed`` (``"typical"``:
    :func:`typical_seed` on the teacher's visible share), postures overlaid (older lighter), the camera's field of
    view (yellow cone) and its sight line to the handle per drawn posture (green: visible; red dashed: hidden by the
    arm or out of view), up to the first grasp when ``until_grasp``. Titles: arm, policy and the visible share before
    the grasp of that episode. Arms without a run at that seed are left out (``fig.drawer_info["missing"]``);
    with none at all, one panel says so."""
    by_arm = runs_by_arm(root, experiment)
    if seed == "typical":
        seed = typical_seed(root, experiment, arms)
    elif isinstance(seed, str):
        raise ValueError(f"seed: got {seed!r}; allowed: an int or 'typical'")
    panels, titles, missing, config = [], [], [], None
    for arm in arms:
        run = by_arm.get(arm, {}).get(seed) if seed is not None else None
        traj = load_trajectories(run, policy) if run is not None else None
        if traj is None or scene >= len(traj["steps"]):
            missing.append(arm)
            continue
        config = config or run_drawer_config(run)
        panels.append(traj)
        titles.append(f"{arm} {policy}, seed {seed}, scene {scene}:\nhandle visible "
                      f"{visible_before_grasp(traj, scene):.0%} before the grasp")
    if not panels:
        fig = render.scene_figure(DrawerConfig(), (1.5, 0.2), title=f"no runs of {', '.join(arms)} in '{experiment}'")
    else:
        fig = render.approach_figure(panels, scene, config, every=every, titles=titles, until_grasp=until_grasp)
    fig.drawer_info = dict(seed=seed, scene=scene, policy=policy, missing=missing, experiment=experiment)
    return fig


def scripted_approaches(config: DrawerConfig | None = None, scene: int = 0, n_scenes: int = 256,
                        scene_seed: int | None = None, every: int = 3) -> tuple[Figure, pd.DataFrame]:
    """The task in pictures: the two scripted approaches (:mod:`occluded_drawer.scripted`, 'elbow up' hides the
    handle, 'elbow down' keeps it in view) on held-out scene ``scene`` of the study's held-out set (``n_scenes`` from
    ``scene_seed``, default :class:`occluded_drawer.design.DrawerEvalConfig`'s), up to the grasp, and a table of both
    controllers over all those scenes (success, visible share, grasp attempts, steps: means over scenes)."""
    config = (config or DrawerConfig()).validate()
    seed = DrawerEvalConfig().scene_seed if scene_seed is None else scene_seed
    scenes = generate_scenes(n_scenes, config, seed=seed)
    rows, trajs = [], []
    for name, controller in (("elbow up (hides the handle)", hiding_controller(config)),
                             ("elbow down (keeps it in view)", visible_controller(config))):
        df, traj = evaluate(controller, scenes, config)
        rows.append(dict(controller=name, **summarise(df)))
        trajs.append(traj)
    table = pd.DataFrame(rows)
    titles = [f"scripted {r['controller']}: visible {visible_before_grasp(t, scene):.0%}" for r, t in zip(rows, trajs)]
    fig = render.approach_figure(trajs, scene, config, every=every, titles=titles, until_grasp=True)
    return fig, table


def visible_before_grasp(traj: dict[str, np.ndarray], scene: int) -> float:
    """The share of the decisions before the first grasp of ``scene`` (all of the episode's decisions when it never
    grasped) at which the handle was visible: the eval rows' ``visible_share``, from stored trajectories."""
    steps = int(traj["steps"][scene])
    holding = np.asarray(traj["holding"][scene, : steps + 1], dtype=bool)
    before = int(np.argmax(holding)) if holding.any() else steps
    return float(np.mean(traj["visible"][scene, : max(before, 1)]))
