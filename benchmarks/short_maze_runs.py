"""A short maze run of each recipe and baseline (6 iterations of 1000 x 64), printing their last logged figures."""
import tempfile

import pandas as pd
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure

from color_maze import ColorMazeEnv
from sitt import SITT
from sitt.baselines import plain_teacher, without_alignment, behaviour_cloning, dagger

th.set_num_threads(1)
keys = ["rollout/ep_len_mean", "rollout/n_paths_mean", "sitt/kl_mean", "sitt/kl_path", "sitt/kl_normal",
        "sitt/reward_term_mean", "sitt/update_term", "sitt/align_loss", "sitt/agreement", "sitt/distinct_obs_share",
        "train/value_loss", "train/approx_kl"]
ppo = dict(n_steps=64, batch_size=64000, n_epochs=10, ent_coef=0.3, seed=0)
def show(name, m):
    v = m.logger.name_to_value
    print(name, {k.split('/')[-1]: round(float(v[k]), 4) for k in keys if k in v})
class Snap(BaseCallback):
    def _on_rollout_end(self): self.snap = dict(self.model.logger.name_to_value)
    def _on_step(self): return True
for name, make in [("sitt release", lambda e: SITT("MlpPolicy", e, recipe="release", **ppo)),
                   ("sitt paper", lambda e: SITT("MlpPolicy", e, recipe="paper", **ppo)),
                   ("plain teacher", lambda e: plain_teacher(e, **ppo)),
                   ("without alignment", lambda e: without_alignment(e, **ppo))]:
    env = ColorMazeEnv(n_envs=1000, seed=0)
    m = make(env)
    d = tempfile.mkdtemp()
    m.set_logger(configure(d, ["csv"]))
    m.learn(6 * 64000)
    rows = pd.read_csv(d + "/progress.csv")
    last = {k: rows[k].dropna().iloc[-1] for k in keys if k in rows and rows[k].notna().any()}
    print(name, "after", int(rows["time/total_timesteps"].max()), "steps:",
          {k.split('/')[-1]: round(float(v), 4) for k, v in last.items()})
    if name == "plain teacher":
        teacher = m
env = ColorMazeEnv(n_envs=1000, seed=1)
s, info = behaviour_cloning(teacher, env, n_steps_per_env=64, epochs=20, batch_size=1024, seed=0)
print("bc", {k: (round(v, 4) if isinstance(v, float) else v) for k, v in info.items()
             if k in ("dataset_size", "final_loss", "agreement", "initial_agreement")})
s, info = dagger(teacher, env, iterations=3, n_steps_per_env=32, epochs=10, batch_size=1024, seed=0)
print("dagger", {k: info[k] for k in ("betas", "dataset_sizes", "student_share", "agreement")})
