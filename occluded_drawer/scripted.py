"""Scripted controllers for the occluded drawer: inverse-kinematics waypoint controllers.

Each controller is a pure, stateless function of the TEACHER observation (the privileged
handle position included), so it can be passed to :func:`occluded_drawer.evaluate.evaluate`.
The phase is read from the observation:

* approach (not holding): drive the joints towards the inverse-kinematics solution that puts
  the gripper on the handle, on the chosen elbow branch; the joint command is the remaining
  joint error in units of one step's largest change, clipped to [-1, 1] (each joint at full
  speed until it is within one step of its target, so the path is nearly straight in joint
  space). The gripper is open, and closes once the gripper is within ``close_radius`` of the
  handle. A closed gripper that holds nothing (a miss or a slip) is opened first;
* pull (holding): target the point ``pull_step`` further along the rail (capped a little past
  ``success_opening``), same branch, gripper closed.

Two branches (2-link arm; for 3 links the last link points into the drawer, against the
rail, and the branch is the one of the first two links):

``elbow="up"``   the elbow on the counter-clockwise side (``q2 < 0``). With the default
                 geometry this is the SHORTER approach (the arm starts bent that way) and the
                 upper arm crosses the camera's sight line: the handle is hidden for most of
                 the approach (:data:`HIDING_ELBOW`).
``elbow="down"`` ``q2 > 0``: the arm must straighten and bend the other way (longer), and
                 stays below the sight line: the handle stays in view (:data:`VISIBLE_ELBOW`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .config import DrawerConfig
from .env import obs_layout
from .geometry import inverse_kinematics_2link

__all__ = ["ik_controller", "hiding_controller", "visible_controller", "HIDING_ELBOW", "VISIBLE_ELBOW", "joint_targets"]

HIDING_ELBOW = "up"
VISIBLE_ELBOW = "down"


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def joint_targets(target: np.ndarray, config: DrawerConfig, elbow: str) -> np.ndarray:
    """Joint angles ``(n, K)`` that put the gripper at ``target (n, 2)`` on branch ``elbow``."""
    lengths = config.link_lengths
    if config.n_links == 2:
        return inverse_kinematics_2link(target, lengths[0], lengths[1], elbow)
    phi = config.rail_angle + np.pi  # the last link points into the drawer
    wrist = target - lengths[2] * np.array([np.cos(phi), np.sin(phi)])
    q12 = inverse_kinematics_2link(wrist, lengths[0], lengths[1], elbow)
    q3 = _wrap(phi - q12.sum(-1))
    return np.concatenate([q12, q3[..., None]], axis=-1)


def ik_controller(
    config: DrawerConfig | None = None,
    elbow: str = HIDING_ELBOW,
    close_radius: float | None = None,
    pull_step: float = 0.04,
) -> Callable[[np.ndarray], np.ndarray]:
    """An act_fn ``teacher obs (n, D) -> actions (n, K + 1)`` (module doc).

    :param config: the env's config (default ``DrawerConfig()``).
    :param elbow: ``"up"`` or ``"down"`` (module doc).
    :param close_radius: close the gripper within this distance of the handle (default
        ``grasp_radius / 2``).
    :param pull_step: how far along the rail the pull phase aims ahead of the handle (default 0.04).
    """
    config = (config or DrawerConfig()).validate()
    if elbow not in ("up", "down"):
        raise ValueError(f"elbow: got {elbow!r}; allowed: 'up', 'down'")
    radius = config.grasp_radius / 2 if close_radius is None else float(close_radius)
    if not 0 < radius <= config.grasp_radius:
        raise ValueError(f"close_radius: got {close_radius!r}; allowed: in (0, grasp_radius={config.grasp_radius}]")
    lay = obs_layout(config.n_links)
    u = np.asarray(config.rail_direction)
    end = config.success_opening + 0.05

    def act(obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float64)
        q = np.arctan2(obs[:, lay.sin_q], obs[:, lay.cos_q])
        gripper = obs[:, lay.gripper]
        handle = obs[:, lay.handle]
        opening = obs[:, lay.opening]
        holding = obs[:, lay.holding] > 0.5
        closed = obs[:, lay.closed] > 0.5
        pull_to = np.minimum(opening + pull_step, end)
        target = np.where(
            holding[:, None], handle + (pull_to - opening)[:, None] * u, handle
        )
        dq = _wrap(joint_targets(target, config, elbow) - q)
        actions = np.empty((obs.shape[0], config.action_dim))
        actions[:, :-1] = np.clip(dq / config.step_angle, -1.0, 1.0)
        near = np.linalg.norm(gripper - handle, axis=-1) <= radius
        # hold while holding; close when near with an open gripper; open otherwise
        grip = holding | (near & ~closed)
        actions[:, -1] = np.where(grip, 1.0, -1.0)
        return actions

    return act


def hiding_controller(config: DrawerConfig | None = None, **kwargs) -> Callable[[np.ndarray], np.ndarray]:
    """The short approach that hides the handle (default geometry): ``ik_controller(elbow="up")``."""
    return ik_controller(config, elbow=HIDING_ELBOW, **kwargs)


def visible_controller(config: DrawerConfig | None = None, **kwargs) -> Callable[[np.ndarray], np.ndarray]:
    """The longer approach that keeps the handle in view (default geometry): ``ik_controller(elbow="down")``."""
    return ik_controller(config, elbow=VISIBLE_ELBOW, **kwargs)
