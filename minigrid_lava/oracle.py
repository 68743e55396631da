"""A privileged scripted policy: shortest paths on the full grid (breadth-first search over (x, y, direction)).

It acts on the teacher's observations, so it is a teacher no training made: the reference the probes and tests use
(its episodes are the shortest possible, it never steps into lava), and a scripted ``act`` for the evaluation tests.

The state graph: MiniGrid's actions ``left`` (0), ``right`` (1) and ``forward`` (2) (the other four do nothing in the
lava envs); ``forward`` into a wall or a closed door leaves the state unchanged, into lava ends the episode in
failure (never taken), into the goal ends it in success. :func:`distances` gives every state's number of steps to
the goal; the oracle takes, of the actions whose next state is one step nearer, the first of ``forward``, ``left``,
``right``.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from minigrid_lava.views import AGENT, DIR_TO_VEC, DOOR, EMPTY, GOAL, LAVA, WALL, agent_state, unflatten_full

LEFT, RIGHT, FORWARD = 0, 1, 2
#: the oracle's preference among equally short actions
PREFERENCE = (FORWARD, LEFT, RIGHT)
UNREACHABLE = np.iinfo(np.int32).max


def layout_of(image: np.ndarray) -> np.ndarray:
    """One full-grid encoding ``(W, H, 3)`` with the agent's cell made empty: the level's layout."""
    layout = np.array(image, copy=True)
    layout[layout[..., 0] == AGENT] = (EMPTY, 0, 0)
    return layout


def _blocked(obj: np.ndarray, state: np.ndarray) -> np.ndarray:
    return (obj == WALL) | ((obj == DOOR) & (state != 0))


def distances(layout: np.ndarray) -> np.ndarray:
    """Steps to the goal from every state ``[x, y, direction]`` of a layout ``(W, H, 3)`` (the agent may stand on
    any cell that is not a wall, closed door, lava or the goal); :data:`UNREACHABLE` where the goal cannot be
    reached. Breadth-first search backwards from the goal."""
    obj, state = layout[..., 0], layout[..., 2]
    width, height = obj.shape
    standable = ~(_blocked(obj, state) | (obj == LAVA) | (obj == GOAL))
    dist = np.full((width, height, 4), UNREACHABLE, dtype=np.int64)
    queue: deque = deque()
    # states one forward step from the goal
    for x in range(width):
        for y in range(height):
            if not standable[x, y]:
                continue
            for d in range(4):
                fx, fy = x + DIR_TO_VEC[d][0], y + DIR_TO_VEC[d][1]
                if 0 <= fx < width and 0 <= fy < height and obj[fx, fy] == GOAL:
                    dist[x, y, d] = 1
                    queue.append((x, y, d))
    while queue:
        x, y, d = queue.popleft()
        step = dist[x, y, d] + 1
        # predecessors: turning into d (from d+1 by left, from d-1 by right), moving forward into (x, y) facing d
        preds = [(x, y, (d + 1) % 4), (x, y, (d - 1) % 4)]
        bx, by = x - DIR_TO_VEC[d][0], y - DIR_TO_VEC[d][1]
        if 0 <= bx < width and 0 <= by < height and standable[bx, by]:
            preds.append((bx, by, d))
        for p in preds:
            if dist[p] > step:
                dist[p] = step
                queue.append(p)
    return dist


def next_state(layout: np.ndarray, x: int, y: int, d: int, action: int) -> tuple[int, int, int, str]:
    """MiniGrid's transition for ``left``/``right``/``forward``: ``(x, y, d, outcome)`` with outcome ``"goal"``,
    ``"lava"`` or ``""``."""
    if action == LEFT:
        return x, y, (d - 1) % 4, ""
    if action == RIGHT:
        return x, y, (d + 1) % 4, ""
    fx, fy = x + int(DIR_TO_VEC[d][0]), y + int(DIR_TO_VEC[d][1])
    obj, state = int(layout[fx, fy, 0]), int(layout[fx, fy, 2])
    if obj == WALL or (obj == DOOR and state != 0):
        return x, y, d, ""
    return fx, fy, d, {GOAL: "goal", LAVA: "lava"}.get(obj, "")


def best_action(layout: np.ndarray, dist: np.ndarray, x: int, y: int, d: int) -> int:
    """The oracle's action in state ``(x, y, d)``: the first of :data:`PREFERENCE` that brings the goal one step
    nearer (``forward`` when the goal cannot be reached)."""
    here = dist[x, y, d]
    if here == UNREACHABLE:
        return FORWARD
    for action in PREFERENCE:
        nx, ny, nd, outcome = next_state(layout, x, y, d, action)
        if outcome == "goal" or (outcome == "" and dist[nx, ny, nd] == here - 1):
            return action
    raise AssertionError("a reachable state has no action one step nearer the goal")


class Oracle:
    """The shortest-path policy on flat teacher observations of a ``width`` x ``height`` grid: ``oracle(obs)`` ->
    actions ``(N,)`` int64. Distance tables are cached per layout."""

    def __init__(self, width: int, height: int):
        self.width, self.height = int(width), int(height)
        self._cache: dict[bytes, np.ndarray] = {}

    def table(self, layout: np.ndarray) -> np.ndarray:
        key = layout.tobytes()
        if key not in self._cache:
            self._cache[key] = distances(layout)
        return self._cache[key]

    def steps_to_goal(self, obs: np.ndarray) -> np.ndarray:
        """Shortest number of steps to the goal from each observation's state (int64; :data:`UNREACHABLE`)."""
        images = unflatten_full(obs, self.width, self.height)
        x, y, d = agent_state(images)
        return np.array([self.table(layout_of(im))[x[i], y[i], d[i]] for i, im in enumerate(images)], dtype=np.int64)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        images = unflatten_full(obs, self.width, self.height)
        x, y, d = agent_state(images)
        out = np.empty(len(images), dtype=np.int64)
        for i, image in enumerate(images):
            layout = layout_of(image)
            out[i] = best_action(layout, self.table(layout), int(x[i]), int(y[i]), int(d[i]))
        return out


__all__ = ["FORWARD", "LEFT", "Oracle", "PREFERENCE", "RIGHT", "UNREACHABLE", "best_action", "distances",
           "layout_of", "next_state"]
