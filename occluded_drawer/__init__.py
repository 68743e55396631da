"""occluded_drawer: a planar arm opens a drawer whose handle it can hide from a fixed camera.

The analogue of the SITT paper's drawer-opening task (``shared/spec/robot_analogues.md``,
section 2), as a fast vectorised stable-baselines3 VecEnv with continuous actions. The
teacher sees the handle's position; the student sees it only while the camera's sight line
to it is not blocked by the arm. See :mod:`occluded_drawer.env` for the dynamics and
:mod:`occluded_drawer.scripted` for the two approaches (one hides the handle, one keeps it
in view).
"""

from .config import DrawerConfig
from .env import OBS_DIM, STUDENT_OBS_DIM, OccludedDrawerEnv, obs_layout, student_obs, visibility_from_obs
from .evaluate import evaluate, summarise
from .generation import Scenes, generate_scenes, scenes_sha256
from .scripted import HIDING_ELBOW, VISIBLE_ELBOW, hiding_controller, ik_controller, visible_controller

__all__ = [
    "DrawerConfig",
    "OccludedDrawerEnv",
    "Scenes",
    "generate_scenes",
    "scenes_sha256",
    "student_obs",
    "visibility_from_obs",
    "obs_layout",
    "OBS_DIM",
    "STUDENT_OBS_DIM",
    "evaluate",
    "summarise",
    "ik_controller",
    "hiding_controller",
    "visible_controller",
    "HIDING_ELBOW",
    "VISIBLE_ELBOW",
]
