"""color_maze: the SITT paper's color maze as a fast vectorised stable-baselines3 VecEnv."""
