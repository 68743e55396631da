"""Helpers of the walkthrough notebook (00_walkthrough): one SITT iteration stepped through by hand, and KL maps.

SB3's ``learn`` runs ``_setup_learn``, then per iteration ``collect_rollouts`` and ``train``. SITT's
``collect_rollouts`` is SB3's roll-out followed by :meth:`sitt.SITT.rollout_reward_term`, and its ``train`` is
:meth:`sitt.SITT.policy_update` followed by :meth:`sitt.SITT.align`. :func:`start_learning` and :func:`raw_rollout` let
a notebook call those four steps one at a time and look at the model between them; :func:`logged` reads what each step
logged (losses, KL statistics).

KL maps: :func:`cell_observations` builds the teacher's observation of an agent standing on each cell of a maze (as at
the start of an episode: the last-cell feature takes its reset value), :func:`kl_map` the KL(teacher || proxy) (or ||
student) there; :func:`rollout_kl_by_cell` the mean KL per cell over the states a roll-out actually visited.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch as th

from color_maze.env import student_obs as student_view
from color_maze.quirks import resolve_quirks
from sitt.distributions import kl_divergence
from sitt.stepping import logged, raw_rollout, start_learning  # noqa: F401 - notebook 00 calls them from here
from sitt.networks import teacher_latent

__all__ = [
    "cell_observations",
    "kl_map",
    "action_map",
    "rollout_kl_by_cell",
    "start_learning",
    "raw_rollout",
    "logged",
    "observation_table",
]

BORDER = 4
OBS_NAMES = ("target dx", "target dy", "own cell", "below (y+1)", "right (x+1)", "above (y-1)", "left (x-1)",
             "last-cell x", "last-cell y")


def cell_observations(grid: np.ndarray, margin_size: int = 3, quirks: Any = "release") -> np.ndarray:
    """Teacher observations (G*G, 9) float32 of an agent standing on each cell of ``grid`` ((G, G), indexed [x, y]);
    row ``x * G + y`` is cell (x, y). Entries: target minus position, the states of the own cell and of the
    neighbours below, right, above, left (4 outside the grid), and the last-cell feature as right after a reset
    (release quirk: (-1, -1); corrected: (0, 0))."""
    grid = np.asarray(grid)
    size = grid.shape[0]
    pad = np.full((size + 2, size + 2), BORDER, dtype=np.int64)
    pad[1:-1, 1:-1] = grid
    xs, ys = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    xs, ys = xs.reshape(-1), ys.reshape(-1)
    tx, ty = size // 2, margin_size // 2
    last = -1.0 if resolve_quirks(quirks).last_cell_two_step else 0.0
    obs = np.stack([
        tx - xs, ty - ys,
        pad[xs + 1, ys + 1], pad[xs + 1, ys + 2], pad[xs + 2, ys + 1], pad[xs + 1, ys], pad[xs, ys + 1],
        np.full_like(xs, 0), np.full_like(xs, 0),
    ], axis=1).astype(np.float32)
    obs[:, 7:9] = last
    return obs


def _outputs(model, obs: np.ndarray, against: str) -> tuple[th.Tensor, th.Tensor]:
    t = th.as_tensor(obs, dtype=th.float32, device=model.device)
    with th.no_grad():
        teacher = model.policy.action_net(teacher_latent(model.policy, t))
        if against == "proxy":
            other = model._student_head()(model.nets.proxy(t))
        elif against == "student":
            s = th.as_tensor(np.asarray(student_view(obs)), dtype=th.float32, device=model.device)
            other = model._student_head()(model.nets.student(s))
        else:
            raise ValueError(f"against: got {against!r}; allowed: proxy, student")
    return teacher, other


def kl_map(model, grid: np.ndarray, margin_size: int = 3, quirks: Any = "release",
           against: str = "proxy") -> np.ndarray:
    """KL(teacher(o) || proxy(o)) (``against="student"``: || student(student view of o)) for the agent standing on
    each cell of ``grid``: an array (G, G) indexed [x, y]. Needs a model with a student (``model.nets``)."""
    if getattr(model, "nets", None) is None:
        raise ValueError("kl_map: the model trains no student/proxy (all SITT phases off)")
    size = np.asarray(grid).shape[0]
    teacher, other = _outputs(model, cell_observations(grid, margin_size, quirks), against)
    return kl_divergence(model.policy, teacher, other).cpu().numpy().reshape(size, size)


def action_map(model, grid: np.ndarray, margin_size: int = 3, quirks: Any = "release",
               who: str = "teacher") -> np.ndarray:
    """The deterministic action (0 right, 1 down, 2 left, 3 up) of the teacher, proxy or student on each cell:
    (G, G)."""
    size = np.asarray(grid).shape[0]
    other_net = "student" if who == "student" else "proxy"
    teacher, other = _outputs(model, cell_observations(grid, margin_size, quirks), other_net)
    out = teacher if who == "teacher" else other
    return out.argmax(-1).cpu().numpy().reshape(size, size)


def rollout_kl_by_cell(model, grid_size: int, margin_size: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Mean KL(teacher || proxy) per cell over the states of the model's current roll-out buffer (all mazes), and the
    visit counts; both (G, G) indexed [x, y], the mean NaN where nothing was visited. The position of a state is read
    back from its observation (target minus position)."""
    obs = model.rollout_buffer.observations.reshape(-1, model.rollout_buffer.observations.shape[-1])
    teacher, other = _outputs(model, obs, "proxy")
    kl = kl_divergence(model.policy, teacher, other).cpu().numpy()
    tx, ty = grid_size // 2, margin_size // 2
    x = (tx - obs[:, 0]).round().astype(int)
    y = (ty - obs[:, 1]).round().astype(int)
    flat = x * grid_size + y
    counts = np.bincount(flat, minlength=grid_size * grid_size).reshape(grid_size, grid_size)
    sums = np.bincount(flat, weights=kl, minlength=grid_size * grid_size).reshape(grid_size, grid_size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return mean, counts


def observation_table(obs: np.ndarray) -> pd.DataFrame:
    """A teacher observation (9,) beside the student's view of it, one row per entry, named."""
    obs = np.asarray(obs).reshape(-1)
    return pd.DataFrame({"entry": OBS_NAMES, "teacher": obs, "student": np.asarray(student_view(obs[None]))[0]})
