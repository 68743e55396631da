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
# # 10 · The budget search: which schedule for the default profile?
#
# The release trains each run for 1e8 env steps (4.5-7.5 h for SITT on 2 CPU cores), too much for a multi-seed
# study, so the study runs a reduced **default** profile. Single-seed probes of the release
# (`shared/spec/release_measurements.md`) showed that the *schedule* decides which route the plain teacher learns:
# one full-batch gradient step per epoch (as released, 64 x 1000) made it follow the rewarded hidden path as in the
# paper's panel (a), while minibatching made it find the detour first and keep it, and then even the baselines'
# students succeed, which is not the paper's story.
#
# So the key figure here is the **plain teacher's route share** under each schedule: the share of held-out mazes it
# solves through the path, by the detour, or not at all (mean over seeds, 95% CI). A schedule qualifies for the
# default profile when the plain teacher takes the path, SITT's runs fit the time budget, and the result holds over
# seeds. The probes are tagged sweeps, one experiment per schedule, e.g.
#
# ```
# .venv/bin/python -m study.sweep --experiment main --arms without_alignment,sitt_release \
#     --profile default --seeds 0-4 --set ppo.n_steps=64 --set total_timesteps=6e6 --tag budget-64x1000-6M
# ```
#
# which land in `results/runs/main-budget-64x1000-6M/`; this notebook reads every `budget_search*` experiment and
# every tagged copy `<experiment>-<tag>` under the run store.
#
# **What was searched (2 CPU cores, 2026-11-28).** Recorded in the run store:
#
# ```
# .venv/bin/python -m study.sweep --experiment main --profile default --seeds 2,3 \
#     --arms without_alignment,sitt_release --set ppo.n_steps=64 --set total_timesteps=20e6 --tag s64 --jobs 2
# ```
#
# What those probes found is in the tables below (`budget_plain_teacher_routes`, `budget_teacher_routes`), read
# from their runs. Two exploratory probes ran outside the run store (a scratch script, not recorded, so they carry no
# weight here): 1000 x 16 full batch and 1000 x 64 on other training mazes, in which the plain teacher never entered
# the path. The default profile therefore keeps 1000 x 64 full batch at 20M steps, the cheapest schedule seen that
# reproduces panel (a) on most seeds; the main experiment's seeds then say how often it does.

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = "0-9"
run = False
jobs = 2

# %%
# %matplotlib inline
import pandas as pd

from study import figures, io, tables
from color_maze import figures as maze_figures, tables as maze_tables
from color_maze.budget_search import load_budget_search

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
root, out = io.resolve_paths(profile, root, out)
print(f"profile={profile}  runs={root}  outputs={out}")
if run:
    print(io.sweep_experiment("budget_search", profile, seeds, root, jobs))
eval_df, schedules, message = load_budget_search(root, profile)
print(message)

# %% [markdown]
# ## The schedules tried

# %%
if eval_df is not None:
    print("saved", io.save_table(schedules, out, "budget_schedules"))
    display(schedules)

# %% [markdown]
# ## The plain teacher's route (the key figure)
#
# Teacher-only rows of the arms whose teacher gets no student-informed term (`plain_teacher`, `without_alignment`).

# %%
if eval_df is not None:
    plain = eval_df[eval_df["arm"].str.endswith(("/ plain_teacher", "/ without_alignment"))]
    if len(plain):
        routes = maze_tables.route_share_table(plain, "teacher")
        routes = routes.merge(schedules[["arm", "schedule"]], on="arm", how="left") if len(schedules) else routes
        print("saved", io.save_table(routes, out, "budget_plain_teacher_routes"))
        display(routes)
        schedule_of = dict(zip(schedules["arm"], schedules["schedule"])) if len(schedules) else {}
        fig = maze_figures.route_share_plot(routes, title="plain teacher's route per schedule",
                                       labels={a: f"{a}\n{schedule_of.get(a, '')}" for a in routes["arm"]})
        print("saved", io.save_figure(fig, out, "budget_plain_teacher_routes"))
        display(fig)
    else:
        print("no plain-teacher arm (plain_teacher / without_alignment) among the budget runs")

# %% [markdown]
# ## Every arm of the search: teacher route, student success

# %%
if eval_df is not None:
    routes_all = maze_tables.route_share_table(eval_df, "teacher")
    print("saved", io.save_table(routes_all, out, "budget_teacher_routes"))
    fig = maze_figures.route_share_plot(routes_all, title="teacher's route, every arm and schedule")
    print("saved", io.save_figure(fig, out, "budget_teacher_routes"))
    display(fig)
    fig = figures.metric_plot(eval_df, "success", title="budget search: true success", ylabel="true success")
    print("saved", io.save_figure(fig, out, "budget_success"))
    display(fig)

# %% [markdown]
# ## How much of the 20M-step budget the main runs need
#
# The target was the main result (4+ arms x 10 seeds) in 30 minutes on 2 cores. What a run costs here is in
# each run's provenance (the README's timing table, generated from it). Halving the budget would meet the target only
# if the runs learn their route well before half of it. The table says when each main run's training success rate
# settled: the first step from which it stays at >= 80% of its final level (NaN: nothing learned).

# %%
progress, message = io.progress_table(root, "main", profile)
print(message)
if progress is not None and "rollout/success_rate" not in progress:
    print("no training success rate logged (no episode finished during training): nothing to settle")
elif progress is not None:
    settle = tables.settle_steps(progress)
    print("saved", io.save_table(settle, out, "budget_settle_steps"))
    summary = settle.groupby("arm", sort=False).agg(
        runs=("seed", "size"), learned=("settle_step", "count"), settle_min=("settle_step", "min"),
        settle_median=("settle_step", "median"), settle_max=("settle_step", "max"), budget=("budget", "max"))
    display(summary)

# %% [markdown]
# Read the summary above: when the settle steps of SITT's successful seeds lie in the second half of the budget, a
# halved budget would lose them, and the 30-minute target is not reachable with this schedule on 2 cores (see the
# README's timing table).

# %% [markdown]
# ## The profile the study uses now

# %%
from color_maze.design import PROFILES

for name, prof in PROFILES.items():
    print(f"{name:8s} {prof.description}")
