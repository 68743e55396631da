"""Typed, validated configuration of the limited-field-of-view flight task.

One :class:`FlightConfig` fixes the world (corridor, pillars, passage guarantee), the body
(dynamics limits), the two views (teacher: K nearest pillars; student: a depth scan of
``n_rays`` rays over ``fov_deg``), the time limit and the reward. Every field has a unit
in its name or its comment. Defaults start from the throwaway probe of issue 11
(25 m x 9 m corridor, 12 pillars, rays over 90 degrees, range 7 m) with the changes
listed at each field.

Coordinates (top-down, metres): the corridor is ``0 <= x <= length`` by
``-width / 2 <= y <= width / 2``; the flight starts near ``x = 0`` and succeeds on
crossing ``x = length``. Side walls at ``y = +-width / 2`` and a back wall at ``x = 0``
are obstacles (touching one ends the episode); the far end is open.

Construction does not validate (so that a caller can choose the error prefix); every
entry point (:class:`fov_flight.env.FovFlightEnv`, :func:`fov_flight.generation.generate_worlds`,
:func:`fov_flight.evaluate.evaluate`, ...) calls :meth:`FlightConfig.validate` before any work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sitt.checks import is_int, is_number

__all__ = ["FlightConfig"]


@dataclass(frozen=True)
class FlightConfig:
    """World, body, views and reward of one flight task (all lengths in metres, times in seconds).

    World
    :param length: corridor length L; success on crossing ``x = L``. Probe: 25.
    :param width: corridor width W (walls at ``y = +-W/2``). Probe: 9.
    :param n_pillars: pillars per world P. Probe: 12.
    :param pillar_radius_min, pillar_radius_max: pillar radii are uniform in this range.
    :param pillar_x_min: no pillar centre at ``x < pillar_x_min`` (room to start and turn).
    :param pillar_end_gap: no pillar centre at ``x > L - pillar_end_gap``.
    :param min_passage_width: every generated world has a path from the start to ``x = L``
        along which a disc of this diameter touches no pillar and no wall (checked on a
        grid, see :mod:`fov_flight.generation`). Must exceed ``2 * body_radius``.
    :param grid_resolution: cell size of the occupancy grid used by that check.
    :param start_x: start position along the corridor.
    :param start_y_range: start ``y`` uniform in ``[-start_y_range, start_y_range]``.
    :param start_yaw_range_deg: start heading uniform in ``[-range, range]`` degrees around
        ``+x``; 180 (default) = any heading, so that a teacher which never turns flies with
        the camera pointing anywhere (the non-imitable behaviour is not designed away).

    Body (a point mass with a heading; translation does not depend on the heading)
    :param body_radius: collision radius of the body.
    :param dt: step length. Probe: 0.1.
    :param max_accel: action ``a[0:2]`` in [-1, 1] is scaled to a world-frame acceleration
        of at most this per axis (m/s^2).
    :param max_speed: speed is clipped to this (m/s) after each acceleration.
    :param max_yaw_rate: action ``a[2]`` in [-1, 1] is scaled to a yaw rate of at most this (rad/s).
    :param time_limit: steps per episode; the episode is truncated after this many steps.

    Views
    :param k_nearest: pillars listed in the teacher observation, nearest surface first.
        Default 12 = ``n_pillars``: every pillar is listed, so every pillar within the ray
        range is listed (the issue's probe used 8; with ``k_nearest < n_pillars`` the
        generator rejects worlds where more than K pillars can lie within range).
    :param n_rays: rays of the student's depth scan (M), spread evenly over the field of view.
    :param fov_deg: the student's field of view, centred on the heading. Default 90.
    :param ray_range: depth range R of a ray; also the range of "pillars in view". Probe: 7.

    Reward per step (documented in :mod:`fov_flight.env`)
    :param progress_coef: reward per metre of progress along ``+x``.
    :param collision_penalty: subtracted on the step that hits a pillar or a wall.
    :param success_bonus: added on the step that crosses ``x = L``.
    """

    # world
    length: float = 25.0
    width: float = 9.0
    n_pillars: int = 12
    pillar_radius_min: float = 0.3
    pillar_radius_max: float = 0.6
    pillar_x_min: float = 3.0
    pillar_end_gap: float = 1.0
    min_passage_width: float = 1.0
    grid_resolution: float = 0.25
    start_x: float = 1.0
    start_y_range: float = 2.0
    start_yaw_range_deg: float = 180.0
    # body
    body_radius: float = 0.25
    dt: float = 0.1
    max_accel: float = 4.0
    max_speed: float = 3.0
    max_yaw_rate: float = 3.0
    time_limit: int = 200
    # views
    k_nearest: int = 12
    n_rays: int = 16
    fov_deg: float = 90.0
    ray_range: float = 7.0
    # reward
    progress_coef: float = 1.0
    collision_penalty: float = 10.0
    success_bonus: float = 10.0

    # ------------------------------------------------------------------ derived
    @property
    def obs_dim(self) -> int:
        """Size of the teacher observation: 6 own-state entries + 3 per listed pillar."""
        return 6 + 3 * self.k_nearest

    def student_dim(self, n_rays: int | None = None) -> int:
        """Size of the student observation: 6 own-state entries + one per ray."""
        return 6 + (self.n_rays if n_rays is None else int(n_rays))

    def replace(self, **changes: Any) -> FlightConfig:
        """A validated copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for provenance records)."""
        return dataclasses.asdict(self)

    # --------------------------------------------------------------- validation
    def validate(self, prefix: str = "env.") -> FlightConfig:
        """Check every field; raise ``ValueError("<prefix><field>: got ...; allowed: ...")``. Returns self."""

        def fail(name: str, allowed: str) -> None:
            raise ValueError(f"{prefix}{name}: got {getattr(self, name)!r}; allowed: {allowed}")

        def positive(name: str) -> None:
            if not is_number(getattr(self, name)) or getattr(self, name) <= 0:
                fail(name, "a finite number > 0")

        def non_negative(name: str) -> None:
            if not is_number(getattr(self, name)) or getattr(self, name) < 0:
                fail(name, "a finite number >= 0")

        for name in ("length", "width", "pillar_radius_min", "grid_resolution", "body_radius", "dt",
                     "max_accel", "max_speed", "max_yaw_rate", "ray_range", "min_passage_width"):
            positive(name)
        for name in ("pillar_end_gap", "start_y_range", "progress_coef", "collision_penalty", "success_bonus"):
            non_negative(name)
        if not is_int(self.n_pillars) or self.n_pillars < 1:
            fail("n_pillars", "an int >= 1")
        if not is_number(self.pillar_radius_max) or self.pillar_radius_max < self.pillar_radius_min:
            fail("pillar_radius_max", f"a finite number >= pillar_radius_min ({self.pillar_radius_min})")
        if 2 * self.pillar_radius_max >= self.width:
            fail("pillar_radius_max", f"a radius < width / 2 ({self.width / 2})")
        if self.min_passage_width <= 2 * self.body_radius or self.min_passage_width >= self.width:
            fail("min_passage_width", f"a width in (2 * body_radius, width) = ({2 * self.body_radius}, {self.width})")
        if not is_number(self.start_x) or not (self.body_radius < self.start_x < self.length):
            fail("start_x", f"a number in (body_radius, length) = ({self.body_radius}, {self.length})")
        if self.start_y_range > self.width / 2 - self.body_radius:
            fail("start_y_range",
                 f"a number in [0, width / 2 - body_radius] = [0, {self.width / 2 - self.body_radius}]")
        if not is_number(self.start_yaw_range_deg) or not (0 <= self.start_yaw_range_deg <= 180):
            fail("start_yaw_range_deg", "a number in [0, 180]")
        if not is_number(self.pillar_x_min) or not (self.start_x < self.pillar_x_min < self.length):
            fail("pillar_x_min", f"a number in (start_x, length) = ({self.start_x}, {self.length})")
        if self.length - self.pillar_end_gap <= self.pillar_x_min:
            fail("pillar_end_gap", f"a gap < length - pillar_x_min = {self.length - self.pillar_x_min}")
        if self.grid_resolution > self.min_passage_width / 2:
            fail("grid_resolution", f"a cell size in (0, min_passage_width / 2] = (0, {self.min_passage_width / 2}]")
        if not is_int(self.time_limit) or self.time_limit < 1:
            fail("time_limit", "an int >= 1 (steps)")
        if not is_int(self.k_nearest) or not (1 <= self.k_nearest <= self.n_pillars):
            fail("k_nearest", f"an int in [1, n_pillars] = [1, {self.n_pillars}]")
        if not is_int(self.n_rays) or self.n_rays < 1:
            fail("n_rays", "an int >= 1")
        if not is_number(self.fov_deg) or not (0 < self.fov_deg <= 360):
            fail("fov_deg", "a number in (0, 360]")
        return self
