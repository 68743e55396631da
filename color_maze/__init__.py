"""color_maze: the SITT paper's color maze as a fast vectorised stable-baselines3 VecEnv."""

from .env import ColorMazeEnv, kl_groups, student_obs
from .generation import make_mazes
from .quirks import Quirks, resolve_quirks

__all__ = ["ColorMazeEnv", "make_mazes", "student_obs", "kl_groups", "Quirks", "resolve_quirks"]
