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
# # 05 · One SITT iteration on a continuous-action task (flight), step by step
#
# Notebook 00 steps through one SITT iteration on the color maze, whose actions are discrete. Here the same three
# phases run on the flight task (`fov_flight`, the paper's quadrotor analogue), whose actions are continuous: a
# world-frame acceleration (x, y) and a yaw rate, each in [-1, 1]. The teacher is SB3's diagonal Gaussian policy:
# a mean per action from its head and a state-independent standard deviation sigma (the log-std), both shared with
# the student and the proxy. Between two such Gaussians with the same covariance the KL is the paper's Mahalanobis
# form
#
# KL(teacher || proxy) = 0.5 x sum_k ((mu_t,k - mu_p,k) / sigma_k)^2,
#
# which this notebook computes by hand and checks against `sitt.distributions.kl_divergence`.
#
# The model is the study's `sitt_paper` arm of the flight task (the paper recipe as the paper runs it on its robot
# tasks: the roll-out reward gets **- lambda1 x KL** with lambda1 = 0.05, the policy update adds lambda2 x KL with
# lambda2 = 0.1 and that term's gradient reaches the shared log-std), built with the profile's world, body and PPO
# settings but only a few envs and a short roll-out: seconds on a CPU. Nothing long is trained. The logic lives in
# `fov_flight/walkthrough.py` (tested in `tests/test_fov_flight_walkthrough.py`).

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seed = 0
n_envs = 8
n_steps = 32
warmup_iterations = 4
world = 0
env_index = 0

# %%
# %matplotlib inline
import pandas as pd
import torch as th

from fov_flight import walkthrough as w
from fov_flight.render import views_figure, world_figure
from study import io

th.set_num_threads(1)
pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
pd.set_option("display.float_format", "{:.4g}".format)
w.check_parameters(n_envs, n_steps, warmup_iterations, seed, env_index)  # ValueError naming a bad parameter
root, out = io.resolve_paths(profile, root, out)  # nothing is written; the smoke profile stays in results/smoke
if profile == "smoke":
    n_envs, n_steps, warmup_iterations = min(n_envs, 4), min(n_steps, 16), min(warmup_iterations, 1)
    env_index = min(env_index, n_envs - 1)
print(f"profile={profile}  n_envs={n_envs}  n_steps={n_steps}  warm-up iterations={warmup_iterations}")

# %% [markdown]
# ## The task in pictures
#
# A corridor 25 m long and 9 m wide with 8 circular pillars (a passage is guaranteed); the flight starts near the
# back wall (black dot) and succeeds on crossing the green line. Translation does not depend on the heading, which
# only points the camera. Below the world: one state of a scripted privileged pilot flying it (heading along its
# velocity). Top panel: the teacher's view, every pillar (each listed in its observation, joined to the body).
# Bottom panel: the student's view, a depth scan of 16 rays over 90 degrees around the heading, each ray drawn to its
# first hit (the pillars are outlined faintly for reference only).

# %%
model, config = w.tiny_model(profile, seed, n_envs, n_steps)
flight = config.env.flight
state = w.scripted_state(config, world)
display(world_figure(state["worlds"], state["world"], flight))
print(f"held-out world {state['world']}, step {state['step']} of the scripted pilot: position "
      f"({state['pos'][0]:.2f}, {state['pos'][1]:.2f}) m, heading {state['yaw']:.2f} rad")
display(views_figure(state["worlds"], state["world"], state["pos"], state["yaw"], flight))

# %% [markdown]
# ## What teacher, proxy and student see
#
# The teacher's observation of that state (own state, then every pillar's offset and radius, nearest first) and the
# student's view of the same state (own state in the body frame, then the 16 ray depths; 1 = nothing hit within
# 7 m). The student's view is a function of the teacher's (`env.student_obs`): SITT computes it from the teacher's
# observations, so one roll-out serves both.

# %%
display(w.teacher_table(state["obs"][0], flight))
display(w.student_table(model.student_obs_fn(state["obs"])[0], flight))

# %% [markdown]
# ## The model
#
# The teacher is SB3's `MlpPolicy` (30 -> 64 -> 64, tanh; head 64 -> 3 means; log-std initialised at -0.5, sigma
# about 0.61). The student is a fresh MLP of the teacher's shape fed its 22-entry view (22 -> 64 -> 64, tanh); the
# proxy a 30 -> 64 (ReLU) -> 64 (tanh) MLP fed the **teacher's** observation. Both end in the teacher's head and use
# its sigma. A few warm-up iterations give the networks some structure. Then, at the state above: the means each
# network gives and its KL to the teacher. The proxy never sees the student's view; alignment trains it to predict
# the student's actions from what the teacher sees, so that the roll-out can score every teacher state cheaply.

# %%
print(model.sitt_config)
print("student:", model.nets.student)
print("proxy:  ", model.nets.proxy)
model.learn(warmup_iterations * n_steps * n_envs)
print(f"warm-up: {model.num_timesteps} env steps")
display(w.who_sees_what(model, state["obs"][0]))

# %% [markdown]
# ## Phase 1: the roll-out
#
# The teacher acts (SB3's loop; actions sampled from the Gaussian and clipped to [-1, 1] by the env) and the env's
# rewards are stored. Then SITT adds `sign x lambda1 x KL(teacher || proxy)` to each stored reward (paper: sign -1,
# lambda1 = 0.05) on the observation the action was taken from, and recomputes returns and advantages. The table:
# the first steps of env `env_index`, with the KL by hand (numpy, float64: the Mahalanobis form above) next to
# SITT's, and the term the buffer received next to `- lambda1 x KL` by hand. The check below it covers every step of
# every env.

# %%
callback = w.start_learning(model, 10 * n_steps * n_envs)
env = model.get_env()
worlds_flown = env.world_index.copy()  # the world each env flies from the start of this roll-out
w.raw_rollout(model, callback)
env_rewards = model.rollout_buffer.rewards.copy()
obs_rollout = model.rollout_buffer.observations.reshape(-1, model.observation_space.shape[0])
means_rollout = w.head_means(model, obs_rollout)  # teacher, proxy, student: the networks of this roll-out
# raw and clipped KL of these means with this roll-out's sigma (shown at the end; the update moves the log-std)
distances = w.action_distance_table(model, means_rollout["teacher"], means_rollout["proxy"])
model.rollout_reward_term(model.rollout_buffer)
table = w.rollout_table(model, env_rewards)
display(table[table["env"] == env_index].head(8))
check = w.rollout_check(table)
display(check.to_frame("roll-out"))
assert check["max |KL by hand - KL sitt|"] < 1e-5 and check["max |term in buffer - sign lambda1 KL|"] < 1e-5
display(pd.Series(w.logged(model, clear=True), name="roll-out logs").to_frame())

# %% [markdown]
# ### Where the proxy disagrees
#
# Env `env_index`'s first flight of the roll-out (up to its first reset) in its world, each step coloured by
# KL(teacher || proxy): with the paper's sign, the steps that cost the most reward are the brightest.

# %%
flown = w.rollout_flight(model, flight, env_index)
display(w.kl_path_figure(env.worlds, int(worlds_flown[env_index]), flight, flown["pos"], flown["yaw"],
                         table["kl_by_hand"].to_numpy()[flown["rows"]],
                         title=f"env {env_index}: {len(flown['pos'])} steps of the roll-out"))

# %% [markdown]
# ## Phase 2: the policy update
#
# PPO's clipped surrogate, value loss and entropy term on the shaped reward, plus lambda2 x KL(teacher || proxy) with
# the proxy frozen. Snapshots of every parameter before and after show what moved: the teacher (MLP, head, critic)
# and, because the paper's KL term reaches it, the shared log-std; the student and the proxy not at all.

# %%
before = w.snapshot(model)
model.policy_update()
after_update = w.snapshot(model)
display(pd.Series(w.logged(model, clear=True), name="policy-update logs").to_frame())
display(w.changes(before, after_update))

# %% [markdown]
# ## Phase 3: alignment
#
# Full-batch Adam steps on a share of the roll-out's observations (the profile's `align_epochs`, `align_subset`),
# the teacher and its head frozen: L1 between the student's features and the teacher's and between their head outputs
# (the student pulled to the teacher), the same for the proxy against the student. `agreement` is the mean of
# exp(-KL(teacher || student)) over those states. Only the student and the proxy move.

# %%
model.align()
after_align = w.snapshot(model)
display(pd.Series(w.logged(model, clear=True), name="alignment logs").to_frame())
display(w.changes(after_update, after_align))
display(w.who_sees_what(model, state["obs"][0]))

# %% [markdown]
# ## Raw and executed-action distances
#
# The env clips every action to [-1, 1], so two means beyond the same bound execute the same action, yet the raw KL
# counts their gap in full. `action_distance="clipped"` (a `SITTConfig` switch; every committed run uses `"raw"`)
# clamps both means to the bounds first (`sitt.distributions.executed_output`). First what that does to one
# dimension, for a few pairs of means: equal inside the bounds, zero when both sides are beyond the same bound, and
# measured from the bound when one side is beyond it.

# %%
display(w.clipping_example(model))

# %% [markdown]
# Then the KL(teacher || proxy) of this roll-out (the networks and sigma as they were during it: the KL of the reward
# term above), raw and clipped, per action dimension: the range of each side's means, the share of samples where a
# mean is beyond a bound, and the share of the whole raw KL that comes from those saturated entries, i.e. what
# clipping can remove. Row `all` holds the KL itself, and `sitt raw` / `sitt clipped` the same means through
# `sitt.distributions.kl_divergence` with each switch. When no mean leaves the bounds the two distances are equal.

# %%
display(distances)
print(f"raw KL {distances.loc['all', 'raw KL']:.4g}, clipped KL {distances.loc['all', 'clipped KL']:.4g}: "
      f"{100 * distances.loc['all', 'raw KL from saturated']:.1f}% of the raw KL of this roll-out comes from "
      f"saturated action dimensions")

# %% [markdown]
# That is one iteration; `model.learn` repeats it. What the whole training does to the teacher (does it turn the
# camera where it flies?) and how far its student gets is measured over the study's runs in `50_fov_flight`.
