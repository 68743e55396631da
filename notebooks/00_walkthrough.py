# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · One SITT iteration, step by step
#
# Student-Informed Teacher Training (Messikommer, Xing, Aljalbout, Scaramuzza, ICLR 2025) trains a privileged
# **teacher** by RL together with a **student** that sees less, and makes the teacher prefer behaviour the student
# can imitate. The paper's bound says the return gap between teacher and student is bounded by the KL between
# their action distributions *on the teacher's state distribution*; since that depends on the teacher, the teacher's
# objective becomes E[r] - E[KL(teacher || student)]. Its gradient has two parts: a policy gradient on the shaped
# reward (changes *where* the teacher goes) and a direct gradient of the KL (changes *what* it does there).
#
# A **proxy student** (fed the teacher's observation, trained to imitate the student) estimates the KL at every
# roll-out step. One iteration has three phases:
#
# 1. **roll-out**: the teacher acts; each reward gets ± lambda1 x KL(teacher || proxy);
# 2. **policy update**: PPO on that reward plus the student-informed term (release: L1 between teacher and proxy
#    features; paper: the KL), proxy frozen, only the teacher changes;
# 3. **alignment**: the student is pulled to the teacher and the proxy to the student (L1 on features and on the
#    shared, frozen action head's outputs); the teacher does not change.
#
# This notebook builds a small color maze and a SITT model (release recipe), warms it up for a few iterations, then
# runs one iteration by hand and looks at each phase. Nothing long is trained.

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = "0-9"
run = False
jobs = 2
seed = 0
n_envs = 64
n_steps = 32
warmup_iterations = 8

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
import torch as th

from color_maze import ColorMazeEnv
from color_maze.render import draw_maze
from sitt import SITT
from study import figures, io
from color_maze import figures as maze_figures
from color_maze import walkthrough as w

th.set_num_threads(1)
root, out = io.resolve_paths(profile, root, out)
if profile == "smoke":
    n_envs, n_steps, warmup_iterations = min(n_envs, 16), min(n_steps, 16), min(warmup_iterations, 1)
print(f"profile={profile}  outputs={out}  n_envs={n_envs}  n_steps={n_steps}  warm-up iterations={warmup_iterations}")

# %% [markdown]
# ## The mazes
#
# 21 x 21 grids: a white margin of 3 cells round a 15 x 15 block of lava with one hidden winding path from its
# bottom row to its top row. Start: bottom centre (grey dot); target: top centre (green). The agent can go straight
# up the path (short, each new path cell pays +0.5) or walk round the maze in the white margin (longer, no path
# reward, but it needs no colour information). Each env draws its maze once; training sees `n_envs` fixed mazes.
# Left: the paper's colours (the release wrote RGB through a BGR library: lava red, path blue); right: the
# colours the release intended.

# %%
env = ColorMazeEnv(n_envs, seed=seed)
fig = figures.new_figure((13, 3.6))
axes = fig.subplots(1, 4)
for k, ax in enumerate(axes[:3]):
    draw_maze(ax, env.grids[k])
    ax.set_title(f"maze {k} (paper colours)", fontsize=9)
draw_maze(axes[3], env.grids[0], colors="release_rgb")
axes[3].set_title("maze 0 (intended colours)", fontsize=9)
print("saved", io.save_figure(fig, out, "walkthrough_mazes"))
fig

# %% [markdown]
# ## What teacher and student see
#
# Nine numbers: target minus position, the state of the agent's cell and of its four neighbours (0 normal, 1 lava,
# 2 path, 4 outside the grid), and a last-cell feature. The student's view maps lava and path both to 2: it sees
# that a cell is "coloured" but not which colour, so it cannot follow the path. Below: a cell on the path next to
# lava, as the teacher and as the student see it.

# %%
grid = env.grids[0]
obs_cells = w.cell_observations(grid)
size = grid.shape[0]
path_cells = np.argwhere(grid == 2)
x, y = path_cells[len(path_cells) // 2]
print(f"agent on path cell ({x}, {y})")
display(w.observation_table(obs_cells[x * size + y]))
lava_x, lava_y = int(np.flatnonzero(grid[:, y] == 1)[0]), y  # the first lava cell of the same row
print(f"agent on lava cell ({lava_x}, {lava_y}): to the student, lava and path both read 2")
display(w.observation_table(obs_cells[lava_x * size + lava_y]))

# %% [markdown]
# ## The model
#
# The teacher is SB3's actor-critic (9 -> 64 -> 64, tanh; action head 64 -> 4 logits). The student is a copy of the
# teacher's policy MLP fed the student view; the proxy is a fresh 9 -> 64 (ReLU) -> 64 (tanh) MLP fed the teacher's
# view. Student and proxy use the teacher's action head. Release recipe: reward += 1.9 x KL, update term 0.01 x
# feature L1, 20 alignment steps per iteration. A few warm-up iterations give the networks some structure.

# %%
model = SITT("MlpPolicy", env, recipe="release", n_steps=n_steps, batch_size=n_steps * n_envs, n_epochs=4,
             ent_coef=0.3, seed=seed, verbose=0)
print(model.sitt_config)
print("student:", model.nets.student)
print("proxy:  ", model.nets.proxy)
model.learn(warmup_iterations * n_steps * n_envs)
print(f"warm-up: {model.num_timesteps} env steps")

# %% [markdown]
# ## Phase 1: the roll-out
#
# The teacher acts (SB3's loop) and the env's rewards are stored. Then SITT adds sign x coef x KL(teacher || proxy)
# to each stored reward, on the observation the action was taken from, and recomputes returns and advantages.

# %%
callback = w.start_learning(model, 10 * n_steps * n_envs)
w.raw_rollout(model, callback)
env_rewards = model.rollout_buffer.rewards.copy()
kl_before = w.kl_map(model, grid)
model.rollout_reward_term(model.rollout_buffer)
term = model.rollout_buffer.rewards - env_rewards
print(f"reward term per step: mean {term.mean():.4g}, max {term.max():.4g} (env reward mean {env_rewards.mean():.4g})")
display(pd.Series(w.logged(model, clear=True), name="roll-out logs").to_frame())

# %% [markdown]
# ### The KL map over the grid
#
# Left: maze 0. Middle: KL(teacher || proxy) for the agent standing on each cell of maze 0 (as at the start of an
# episode). Right: the mean KL per cell over the states this roll-out visited (all mazes; blank: not visited). High
# KL marks where the proxy, and so the student, would act differently from the teacher: with the release's sign these
# cells pay a bonus, with the paper's a penalty.

# %%
kl_rollout, visits = w.rollout_kl_by_cell(model, size)
fig = maze_figures.value_map_figure(grid, {"KL(teacher || proxy), maze 0": kl_before,
                                      "mean KL over the roll-out (all mazes)": kl_rollout},
                               colorbar_label="KL (nats)", title="the roll-out's KL term")
print("saved", io.save_figure(fig, out, "walkthrough_kl_map"))
fig

# %% [markdown]
# ## Phase 2: the policy update
#
# PPO's clipped surrogate, value loss and entropy bonus on the shaped reward, plus (release) 0.01 x the L1 distance
# between the teacher's policy features and the frozen proxy's. Only the teacher (policy MLP, head, critic) moves.

# %%
model.policy_update()
display(pd.Series(w.logged(model, clear=True), name="policy-update logs").to_frame())

# %% [markdown]
# ## Phase 3: alignment
#
# 20 full-batch Adam steps on the roll-out's observations, with the teacher (and the shared head) frozen:
# `student_feat` = L1(student features, teacher features), `student_out` = L1 on the head's outputs (student pulled
# to the teacher); `proxy_feat`, `proxy_out` the same with the proxy pulled to the student. `agreement`: share of
# roll-out states where the student's action equals the teacher's.

# %%
model.align()
display(pd.Series(w.logged(model, clear=True), name="alignment logs").to_frame())
kl_after = w.kl_map(model, grid)
kl_student = w.kl_map(model, grid, against="student")
fig = maze_figures.value_map_figure(grid, {"KL(teacher || proxy) before": kl_before, "... after alignment": kl_after,
                                      "KL(teacher || student) after": kl_student},
                               colorbar_label="KL (nats)", title="what one alignment phase changes")
print("saved", io.save_figure(fig, out, "walkthrough_alignment"))
fig

# %% [markdown]
# That is one iteration; `model.learn` repeats it. Where the student cannot follow (the coloured block, where lava
# and path look alike to it), the KL tends to stay high. With the paper's sign those states cost reward, which
# should push the teacher towards states the student can handle (the detour of panel d); with the release's sign
# they pay a bonus. Which sign reproduces the figure is measured in `40_release_vs_paper`.
