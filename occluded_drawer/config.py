"""The occluded drawer's configuration: one typed, validated dataclass.

World frame: a plane, x to the right, y up, angles in radians (counter-clockwise). The
arm's base is at the origin. Defaults are the geometry committed for the study:

* a 2-link arm (links 1.0 and 1.0) starting nearly stretched towards the drawer, its elbow
  bent clockwise (``q1`` in [-0.2, 0.2], ``q2`` in [-1.1, -0.5]: the "elbow up" side);
* the drawer front at x in [1.45, 1.55], the handle on it at a height in [-0.1, 0.5], the
  drawer sliding out along -x (``rail_angle = pi``), success at an opening of 0.25;
* the camera just behind and above the base at (-0.2, 0.3), looking at the drawer
  (axis -0.08 rad, field of view 1.0 rad): its sight line to the handle passes just above
  the base and the starting arm. An "elbow up" grasp lifts the upper arm across the sight
  line (the handle is hidden); an "elbow down" grasp keeps the whole arm below it.

Why: from the starting posture the "elbow up" grasp is the short one (the arm is already
bent that way: about 10 steps to the handle, 17 to success) and hides the handle for about
72% of the approach; the "elbow down" grasp must straighten the arm and bend it the other
way (about 23 steps to the handle, 30 to success) and keeps the handle in view throughout
(measured with :mod:`occluded_drawer.scripted` on 2000 scenes). A plain teacher has a reason
(time penalty, discounting) to hide the handle; nothing in the dynamics or the reward makes
the hiding approach worse. Links do not collide with anything (the arm may pass through the
cabinet or over the camera): the analogue keeps the occlusion, not the contact mechanics.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from sitt.checks import is_int, is_number

__all__ = ["DrawerConfig", "MIN_LINKS", "MAX_LINKS"]

MIN_LINKS, MAX_LINKS = 2, 3


@dataclass(frozen=True)
class DrawerConfig:
    """Every constant of the occluded drawer (geometry, dynamics, camera, rewards).

    Arm and dynamics
    :param link_lengths: lengths of the 2 or 3 links, base to gripper (default (1.0, 1.0)).
    :param joint_limits: ``(lo, hi)`` per joint, relative joint angles in radians; joint 1 is the
        angle of the first link from +x, joint k > 1 the angle of link k relative to link k-1.
        Angles are clipped to these after every step (default (-pi, pi) and (-2.8, 2.8)).
    :param max_joint_velocity: joint speed (rad/s) at action +-1; actions are clipped to [-1, 1]
        (default 2.0, i.e. 0.1 rad per step at the default ``dt``).
    :param dt: seconds per step (default 0.05).
    :param link_radius: half-thickness of every link for occlusion (default 0.04); links do not
        collide with anything (they may pass through the drawer front or the camera).
    :param init_joint_ranges: ``(lo, hi)`` per joint of the uniform initial joint angles (default:
        joint 1 in [-0.2, 0.2], joint 2 in [-1.1, -0.5]: nearly stretched, elbow bent clockwise).

    Drawer
    :param rail_angle: direction in which the handle moves when the drawer opens (default pi: -x).
    :param handle_x_range, handle_y_range: uniform range of the CLOSED handle position
        (defaults (1.45, 1.55) and (-0.1, 0.5)).
    :param max_opening: how far the drawer can be pulled out (default 0.4).
    :param success_opening: opening at which the episode succeeds (default 0.25).
    :param grasp_radius: the gripper grasps the handle when it CLOSES within this distance of
        it, and loses it when the handle gets farther than this from the gripper (default 0.08).

    Camera
    :param camera_position: fixed camera position (default (-0.2, 0.3)).
    :param camera_angle: direction of the camera's optical axis (default -0.08 rad).
    :param camera_fov: full field of view, radians (default 1.0, about 57 deg).
    :param handle_clearance: the sight line runs from the camera to this distance short of the
        handle (the handle's own size: the gripper holding the handle does not hide it by
        itself) (default 0.1).

    Episode and reward
    :param time_limit: steps per episode before truncation (default 100).
    :param reach_coef: weight of the potential ``-|gripper - handle|`` (default 1.0).
    :param open_coef: weight of the potential ``+opening`` (default 4.0).
    :param success_bonus: reward on the step the drawer reaches ``success_opening`` (default 10.0).
    :param time_penalty: reward ``-time_penalty`` on every step (default 0.01).
    :param miss_penalty: reward ``-miss_penalty`` for closing the gripper away from the handle
        (default 0.1).

    The reward of a step is ``phi(s') - phi(s) + success_bonus * success - time_penalty
    - miss_penalty * missed_grasp`` with the potential ``phi = -reach_coef * |gripper - handle|
    + open_coef * opening`` (undiscounted potential shaping).
    """

    link_lengths: tuple[float, ...] = (1.0, 1.0)
    joint_limits: tuple[tuple[float, float], ...] = ((-math.pi, math.pi), (-2.8, 2.8))
    max_joint_velocity: float = 2.0
    dt: float = 0.05
    link_radius: float = 0.04
    init_joint_ranges: tuple[tuple[float, float], ...] = ((-0.2, 0.2), (-1.1, -0.5))
    rail_angle: float = math.pi
    handle_x_range: tuple[float, float] = (1.45, 1.55)
    handle_y_range: tuple[float, float] = (-0.1, 0.5)
    max_opening: float = 0.4
    success_opening: float = 0.25
    grasp_radius: float = 0.08
    camera_position: tuple[float, float] = (-0.2, 0.3)
    camera_angle: float = -0.08
    camera_fov: float = 1.0
    handle_clearance: float = 0.1
    time_limit: int = 100
    reach_coef: float = 1.0
    open_coef: float = 4.0
    success_bonus: float = 10.0
    time_penalty: float = 0.01
    miss_penalty: float = 0.1

    # ------------------------------------------------------------ derived
    @property
    def n_links(self) -> int:
        return len(self.link_lengths)

    @property
    def action_dim(self) -> int:
        """Joint velocities (one per link) and the gripper command."""
        return self.n_links + 1

    @property
    def step_angle(self) -> float:
        """Largest joint-angle change per step (rad): ``max_joint_velocity * dt``."""
        return self.max_joint_velocity * self.dt

    @property
    def rail_direction(self) -> tuple[float, float]:
        return (math.cos(self.rail_angle), math.sin(self.rail_angle))

    @property
    def reach(self) -> float:
        return float(sum(self.link_lengths))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DrawerConfig:
        """Build from a plain dict (lists become tuples); unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown DrawerConfig field(s) {unknown}; allowed: {sorted(known)}")

        def tup(v: Any) -> Any:
            return tuple(tup(x) for x in v) if isinstance(v, (list, tuple)) else v

        return cls(**{k: tup(v) for k, v in values.items()})

    # ------------------------------------------------------------ validation
    def validate(self, prefix: str = "env.") -> DrawerConfig:
        """Raise ``ValueError("<prefix><field>: got ...; allowed: ...")`` on the first bad field.

        Checks types and ranges of every field and the geometry that generation relies on:
        the closed and the fully opened handle are inside the arm's reach and the camera's field
        of view, and away from the camera. Returns ``self``.
        """

        def bad(name: str, value: Any, allowed: str) -> ValueError:
            return ValueError(f"{prefix}{name}: got {value!r}; allowed: {allowed}")

        def real(name: str, lo: float | None = None, hi: float | None = None, open_lo: bool = True) -> float:
            v = getattr(self, name)
            ok = is_number(v)
            if ok and lo is not None:
                ok = v > lo if open_lo else v >= lo
            if ok and hi is not None:
                ok = v <= hi
            if not ok:
                lo_s = "" if lo is None else (f"> {lo}" if open_lo else f">= {lo}")
                hi_s = "" if hi is None else f"<= {hi}"
                rng = " and ".join(s for s in (lo_s, hi_s) if s) or "any"
                raise bad(name, v, f"a finite number {rng}")
            return float(v)

        def pair(name: str, value: Any, ordered: bool = True) -> tuple[float, float]:
            if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(is_number(x) for x in value)):
                raise bad(name, value, "a pair of finite numbers (lo, hi)" if ordered else "a pair of finite numbers")
            lo, hi = float(value[0]), float(value[1])
            if ordered and not lo <= hi:
                raise bad(name, value, "lo <= hi")
            return lo, hi

        links = self.link_lengths
        if not (isinstance(links, (tuple, list)) and MIN_LINKS <= len(links) <= MAX_LINKS):
            raise bad("link_lengths", links, f"a tuple of {MIN_LINKS} or {MAX_LINKS} lengths > 0")
        if not all(is_number(x) and x > 0 for x in links):
            raise bad("link_lengths", links, "lengths > 0")
        k = len(links)
        for name in ("joint_limits", "init_joint_ranges"):
            value = getattr(self, name)
            if not (isinstance(value, (tuple, list)) and len(value) == k):
                raise bad(name, value, f"{k} (lo, hi) pairs, one per link")
            for pr in value:
                pair(name, pr)
        for j, ((lo, hi), (ilo, ihi)) in enumerate(zip(self.joint_limits, self.init_joint_ranges)):
            if lo < -math.pi - 1e-12 or hi > math.pi + 1e-12 or lo >= hi:
                raise bad("joint_limits", self.joint_limits, f"lo < hi within [-pi, pi] (joint {j + 1})")
            if ilo < lo or ihi > hi:
                raise bad("init_joint_ranges", self.init_joint_ranges, f"inside joint_limits (joint {j + 1})")
        real("max_joint_velocity", 0.0)
        real("dt", 0.0)
        real("link_radius", 0.0, open_lo=False)
        real("rail_angle", -2 * math.pi, 2 * math.pi)
        pair("handle_x_range", self.handle_x_range)
        pair("handle_y_range", self.handle_y_range)
        max_open = real("max_opening", 0.0)
        real("success_opening", 0.0, max_open)
        real("grasp_radius", 0.0)
        pair("camera_position", self.camera_position, ordered=False)
        real("camera_angle", -2 * math.pi, 2 * math.pi)
        real("camera_fov", 0.0, math.pi, open_lo=True)
        real("handle_clearance", 0.0, open_lo=False)
        if not (is_int(self.time_limit) and self.time_limit >= 1):
            raise bad("time_limit", self.time_limit, "an int >= 1 (steps)")
        real("reach_coef", 0.0, open_lo=False)
        real("open_coef", 0.0, open_lo=False)
        real("success_bonus", 0.0, open_lo=False)
        real("time_penalty", 0.0, open_lo=False)
        real("miss_penalty", 0.0, open_lo=False)

        # geometry: every corner of the handle box, closed and fully open, reachable and in view
        reach = self.reach
        inner = max(0.0, 2 * max(links) - reach)  # the annulus the gripper can reach: [inner, reach]
        ux, uy = self.rail_direction
        cx, cy = self.camera_position
        ax, ay = math.cos(self.camera_angle), math.sin(self.camera_angle)
        for hx in self.handle_x_range:
            for hy in self.handle_y_range:
                for s in (0.0, self.max_opening):
                    px, py = hx + s * ux, hy + s * uy
                    r = math.hypot(px, py)
                    if not inner + self.grasp_radius <= r <= reach - self.grasp_radius:
                        raise bad(
                            "handle_x_range",
                            (self.handle_x_range, self.handle_y_range),
                            f"handle positions (closed and opened by max_opening) at a distance in "
                            f"[{inner + self.grasp_radius:.3f}, {reach - self.grasp_radius:.3f}] from the base "
                            f"(inside the arm's reach, grasp_radius to spare); corner ({px:.3f}, {py:.3f}) is at "
                            f"{r:.3f}",
                        )
                    dx, dy = px - cx, py - cy
                    dist = math.hypot(dx, dy)
                    if dist <= 2 * self.handle_clearance:
                        raise bad("camera_position", self.camera_position,
                                  "farther than 2 * handle_clearance from every handle position")
                    if (dx * ax + dy * ay) < dist * math.cos(self.camera_fov / 2) - 1e-12:
                        raise bad("camera_fov", self.camera_fov,
                                  f"a field of view (with camera_angle) that holds every handle position; "
                                  f"({px:.3f}, {py:.3f}) is outside")
        return self
