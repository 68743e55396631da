"""The two views of a MiniGrid state, as pure vectorised numpy functions.

* The teacher sees MiniGrid's fully observable grid: ``minigrid.wrappers.FullyObsWrapper``'s ``image``, a
  ``(W, H, 3)`` uint8 array indexed ``[x, y]`` whose cells are ``(OBJECT_IDX, COLOR_IDX, STATE)`` (MiniGrid's
  ``Grid.encode``), with the agent's cell overwritten by ``(agent=10, red=0, direction)``. The study hands it to the
  teacher flattened (:func:`flatten_full`), ``W * H * 3`` values.
* The student sees MiniGrid's own egocentric partial view: what ``MiniGridEnv.gen_obs()["image"]`` returns, a
  ``(V, V, 3)`` uint8 array (``V = agent_view_size``, 7 by default) indexed ``[vx, vy]``, the agent at ``(V // 2,
  V - 1)`` facing "up" (decreasing ``vy``), cells outside the grid as walls, cells hidden behind walls and closed
  doors as ``(0, 0, 0)`` ("unseen", MiniGrid's ``Grid.process_vis``), and the agent's own cell as ``(empty, 0, 0)``
  (it carries nothing in the lava envs).

:func:`student_view` computes the second from the first for a whole batch, with no MiniGrid object, by the rules of
``MiniGridEnv.gen_obs_grid`` (slice, rotate, ``process_vis``, agent cell, ``Grid.encode``); the tests check it
against MiniGrid's ``gen_obs()`` on random states of several envs in every direction.

Why it is exactly a function of the full grid: the only thing the full encoding loses is the object under the agent
(overwritten by the agent's code). In ``gen_obs_grid`` that object matters only through ``see_behind()`` in the
occlusion pass, and every object the agent can stand on (nothing, goal, lava, floor, an open door) lets the view
through; the agent's own cell is then replaced by what it carries (``None`` here).
"""

from __future__ import annotations

import numpy as np

#: MiniGrid's object indices (``minigrid.core.constants.OBJECT_TO_IDX``), repeated here so that the views need no
#: MiniGrid import; ``tests/test_minigrid_task.py`` checks them against MiniGrid's own table
UNSEEN, EMPTY, WALL, FLOOR, DOOR, KEY, BALL, BOX, GOAL, LAVA, AGENT = range(11)
#: ``COLOR_TO_IDX["grey"]``: the colour of the walls MiniGrid puts outside the grid (``Grid.slice``)
GREY = 5
#: ``DIR_TO_VEC``: direction 0 east (+x), 1 south (+y), 2 west (-x), 3 north (-y)
DIR_TO_VEC = np.array([(1, 0), (0, 1), (-1, 0), (0, -1)], dtype=np.int64)


def flatten_full(images: np.ndarray) -> np.ndarray:
    """``(N, W, H, 3)`` full-grid encodings -> the teacher's flat observations ``(N, W * H * 3)`` (C order)."""
    images = np.asarray(images)
    return images.reshape(len(images), -1)


def unflatten_full(obs: np.ndarray, width: int, height: int) -> np.ndarray:
    """The teacher's flat observations ``(N, W * H * 3)`` -> full-grid encodings ``(N, W, H, 3)``."""
    obs = np.asarray(obs)
    if obs.ndim != 2 or obs.shape[1] != width * height * 3:
        raise ValueError(f"obs: got shape {obs.shape}; allowed: (N, {width * height * 3}) flat grids of {width} x "
                         f"{height} x 3")
    return obs.reshape(len(obs), width, height, 3)


def agent_state(images: np.ndarray, allow_missing: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, direction)`` of the agent in each full-grid encoding ``(N, W, H, 3)`` (the one cell whose object is
    ``agent``). ``ValueError`` when a grid has several agent cells, or none unless ``allow_missing`` (then that row's
    entries are ``-1``)."""
    images = np.asarray(images)
    is_agent = (images[..., 0] == AGENT).reshape(len(images), -1)
    counts = is_agent.sum(1)
    bad = np.flatnonzero((counts > 1) | ((counts == 0) & (not allow_missing)))
    if len(bad):
        raise ValueError(f"images: grid {int(bad[0])} has {int(counts[bad[0]])} agent cells; allowed: exactly one "
                         f"(object index {AGENT}) per full-grid encoding")
    x, y = np.divmod(is_agent.argmax(1), images.shape[2])
    direction = images[np.arange(len(images)), x, y, 2].astype(np.int64)
    if np.any(direction[counts == 1] > 3):
        raise ValueError("images: an agent cell's state is not a direction in 0-3")
    missing = counts == 0
    x, y, direction = x.astype(np.int64), y.astype(np.int64), np.where(missing, -1, direction)
    x[missing], y[missing] = -1, -1
    return x, y, direction


def view_offsets(direction: np.ndarray, view_size: int) -> tuple[np.ndarray, np.ndarray]:
    """World offsets ``(dx, dy)`` of every view cell ``[vx, vy]`` relative to the agent, per row: arrays
    ``(N, V, V)``. MiniGrid's convention (``MiniGridEnv.get_full_render``): view cell ``(vx, vy)`` is at ``agent +
    f * (V - 1 - vy) + r * (vx - V // 2)`` with ``f`` the facing vector and ``r = (-f_y, f_x)`` its right."""
    f = DIR_TO_VEC[np.asarray(direction, dtype=np.int64)]  # (N, 2)
    r = np.stack([-f[:, 1], f[:, 0]], axis=1)
    vx, vy = np.meshgrid(np.arange(view_size), np.arange(view_size), indexing="ij")
    ahead, side = view_size - 1 - vy, vx - view_size // 2
    dx = f[:, 0, None, None] * ahead + r[:, 0, None, None] * side
    dy = f[:, 1, None, None] * ahead + r[:, 1, None, None] * side
    return dx, dy


def visibility(opaque: np.ndarray) -> np.ndarray:
    """MiniGrid's ``Grid.process_vis`` on a batch of views: ``opaque`` ``(N, V, V)`` bool (cells that do not let the
    view through: walls, closed doors) -> the visibility mask ``(N, V, V)``. The same passes in the same order as
    MiniGrid (rows from the agent's row away, a left-to-right then a right-to-left sweep), each one numpy operation
    over the batch."""
    n, width, height = opaque.shape
    mask = np.zeros((n, width, height), dtype=bool)
    mask[:, width // 2, height - 1] = True
    clear = ~opaque
    for j in reversed(range(height)):
        for i in range(width - 1):
            spread = mask[:, i, j] & clear[:, i, j]
            mask[:, i + 1, j] |= spread
            if j > 0:
                mask[:, i + 1, j - 1] |= spread
                mask[:, i, j - 1] |= spread
        for i in reversed(range(1, width)):
            spread = mask[:, i, j] & clear[:, i, j]
            mask[:, i - 1, j] |= spread
            if j > 0:
                mask[:, i - 1, j - 1] |= spread
                mask[:, i, j - 1] |= spread
    return mask


def student_view(images: np.ndarray, view_size: int = 7, see_through_walls: bool = False) -> np.ndarray:
    """MiniGrid's egocentric partial view ``(N, V, V, 3)`` uint8 (``gen_obs()["image"]``) from full-grid encodings
    ``(N, W, H, 3)`` (``FullyObsWrapper``'s ``image``); see the module docstring. ``view_size``: MiniGrid's
    ``agent_view_size`` (odd, >= 3; the envs' default 7); ``see_through_walls``: MiniGrid's switch (False in the lava
    envs: walls occlude). A grid with no agent cell (no state of the env, but what SITT's construction probes with:
    zeros) gets an all-unseen view (zeros); one with several raises ``ValueError``."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images: got shape {images.shape}; allowed: (N, W, H, 3) full-grid encodings")
    if not isinstance(view_size, (int, np.integer)) or view_size < 3 or view_size % 2 == 0:
        raise ValueError(f"view_size: got {view_size!r}; allowed: an odd integer >= 3 (MiniGrid's agent_view_size)")
    n, width, height, _ = images.shape
    x, y, direction = agent_state(images, allow_missing=True)
    missing = x < 0
    dx, dy = view_offsets(np.where(missing, 0, direction), view_size)
    wx, wy = x[:, None, None] + dx, y[:, None, None] + dy
    inside = (wx >= 0) & (wx < width) & (wy >= 0) & (wy < height)
    rows = np.arange(n)[:, None, None]
    cells = images[rows, np.clip(wx, 0, width - 1), np.clip(wy, 0, height - 1)].copy()  # (N, V, V, 3)
    cells[~inside] = (WALL, GREY, 0)  # Grid.slice: outside the grid is a wall
    centre = (view_size // 2, view_size - 1)
    cells[:, centre[0], centre[1]] = (EMPTY, 0, 0)  # the agent's own cell: what it carries (nothing)
    if see_through_walls:
        mask = np.ones((n, view_size, view_size), dtype=bool)
    else:
        obj, state = cells[..., 0], cells[..., 2]
        mask = visibility((obj == WALL) | ((obj == DOOR) & (state != 0)))
    mask &= ~missing[:, None, None]
    return np.where(mask[..., None], cells, 0).astype(np.uint8)


def student_obs(obs: np.ndarray, width: int, height: int, view_size: int = 7) -> np.ndarray:
    """The student's observation of a batch of teacher observations: flat full grids ``(N, W * H * 3)`` -> flat
    partial views ``(N, V * V * 3)`` uint8 (:func:`student_view`, flattened in C order: a flat vector, so SITT's
    student is a flatten + MLP encoder; a 7 x 7 image is too small for SB3's NatureCNN)."""
    view = student_view(unflatten_full(obs, width, height), view_size)
    return view.reshape(len(view), -1)


__all__ = ["AGENT", "DIR_TO_VEC", "EMPTY", "GOAL", "LAVA", "UNSEEN", "WALL", "agent_state", "flatten_full",
           "student_obs", "student_view", "unflatten_full", "view_offsets", "visibility"]
