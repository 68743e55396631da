"""fov_flight: limited-field-of-view flight through pillars, the analogue of the SITT paper's quadrotor task."""

from .config import FlightConfig
from .env import FovFlightEnv
from .generation import Worlds, generate_worlds, worlds_sha256
from .views import scan_world, student_obs

__all__ = ["FlightConfig", "FovFlightEnv", "Worlds", "generate_worlds", "worlds_sha256", "student_obs", "scan_world"]
