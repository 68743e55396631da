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
# # 45 · The maze verdicts, settled: the authors' schedule, what a seed decides, two readings of the figure
#
# The main study runs a reduced profile (1000 x 64 steps, 2e7 steps). Here, from the runs:
#
# 1. **The authors' schedule** (experiment `main_release_schedule`, profile `release`: 1000 envs x 250 steps, full
#    batch, 10 epochs, 20 alignment epochs, 1e8 steps): does the reduced profile's verdict hold?
# 2. **What a seed decides**: a run's seed draws the training mazes, the network initialisation and the action
#    sampling together. Experiment `seed_grid` separates them (`env.maze_seed`): `sitt_release` on network seed x
#    maze seed over seeds {0, 1, 2, 3, 9}; the cells on the diagonal are the main study's runs. The verdict rule
#    (`color_maze.readings.SEED_GRID_RULE`) was fixed before the runs.
# 3. **10 seeds everywhere**: `ablations` and `release_vs_paper` go to seeds 0-9 in their notebooks (30, 40);
#    here, the verdicts that the two added seeds changed.
# 4. **Two readings the figure invites**: (a) which side of the maze the detours take; (b) why adding the KL to the
#    reward makes the teacher detour while subtracting it (the paper's sign) makes it fail, from the logs.

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = "0-4"
grid_seeds = "0-3,9"
run = False
jobs = 2

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Markdown

from study import claims, figures, io, tables
from study.report import main_table_markdown
from color_maze import figures as maze_figures, readings
from color_maze.task import TASK

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)

# %% [markdown]
# ## 1. The authors' schedule beside the reduced profile

# %%
root, out, schedule = io.open_experiment("main_release_schedule", profile, root, out, run=run, seeds=seeds, jobs=jobs)
main_df, message = io.eval_table(root, "main", profile)
print(message)
if schedule is not None:
    table = tables.main_table(schedule)
    print("saved", io.save_table(table, out, "main_release_schedule"))
    display(Markdown(main_table_markdown(table, TASK.main_labels)))
    both = pd.concat([d.assign(study=name) for name, d in (("reduced", main_df), ("authors", schedule))
                      if d is not None])
    both = both[both["arm"].isin(set(schedule["arm"]))]
    both["arm"] = both["study"] + ": " + both["arm"].astype(str)
    fig = figures.metric_plot(both, "success", title="true success: reduced profile vs the authors' schedule",
                              ylabel="true success")
    print("saved", io.save_figure(fig, out, "main_release_schedule_success"))
    display(fig)

# %% [markdown]
# ### 1b. A deterministic stall, or over-fitting to the training mazes?
#
# Every reported evaluation takes the arg-max action. Here the stored models are evaluated again with sampled actions
# (torch seeded), on the held-out mazes and on mazes of each run's own training set, beside the arg-max
# (`color_maze.readings.policy_modes_table`; its deterministic held-out rows are the reported evaluation, recomputed).
# A policy over-fitted to its training mazes succeeds on those and fails on held-out ones; a policy whose arg-max
# stalls fails deterministically on both while its samples succeed. The same runs of the reduced profile (`main`,
# same arms and seeds) are the contrast.

# %%
if schedule is not None:
    arms = sorted(set(schedule["arm"]))
    modes = pd.concat([readings.policy_modes_table(root, e, io.study_profile(e, profile), arms=arms,
                                                   seeds=sorted(set(schedule["seed"]))).assign(study=name)
                       for name, e in (("authors", "main_release_schedule"), ("reduced", "main"))], ignore_index=True)
    modes = modes[["study", *[c for c in modes.columns if c != "study"]]]
    print("saved", io.save_table(modes, out, "main_release_schedule_modes"))
    summary = pd.concat([readings.policy_modes_summary(d).assign(study=name) for name, d in modes.groupby("study")],
                        ignore_index=True)
    display(summary[["study", *[c for c in summary.columns if c != "study"]]])

# %% [markdown]
# ## 2. What a seed decides: network seed x maze seed

# %%
_, _, grid_df = io.open_experiment("seed_grid", profile, root, out, run=run, seeds=grid_seeds, jobs=jobs)
if grid_df is not None:
    grid = readings.seed_grid_table(grid_df)
    effects = readings.seed_grid_effects(grid)
    print("saved", io.save_table(grid, out, "seed_grid"))
    print("saved", io.save_table(effects, out, "seed_grid_effects"))
    print("verdict rule:", readings.SEED_GRID_RULE)
    display(grid)
    display(effects)
    fig = maze_figures.seed_grid_heatmap(grid)
    print("saved", io.save_figure(fig, out, "seed_grid"))
    display(fig)

# %% [markdown]
# ## 3. 10 seeds everywhere: the verdicts at 8 seeds and at 10
#
# `ablations` and `release_vs_paper` were reported on seeds 0-7; the count of 10 was fixed before any result, and
# seeds 8-9 complete it. Each claim these experiments decide, with its verdict on seeds 0-7 (the same rule and
# bootstrap seed) beside its verdict on every seed: `changed` says where the two added seeds moved a verdict.

# %%
evals10 = {e: io.eval_table(root, e, io.study_profile(e, profile))[0] for e in ("release_vs_paper", "ablations")}
evals10 = {e: d for e, d in evals10.items() if d is not None}
if evals10:
    decided = [c for c in TASK.report_claims(evals10, io.arm_labels()) if c.experiment in evals10]
    changes = claims.verdict_changes(evals10, decided, before_seeds=range(8))
    print("saved", io.save_table(changes, out, "verdicts_8_vs_10_seeds"))
    display(changes)
else:
    print("NO RUNS: neither release_vs_paper nor ablations under", root)

# %% [markdown]
# ## 4a. Which side do the detours take?
#
# A detour goes round the maze block by the left margin or the right one. Counts over every seed and held-out maze
# of each experiment; above each bar, how many runs had a left and a right detour. A run detours on one side only
# (no run mixes them, "both" is the episodes that crossed both margins), so the side is a property of the run: the
# typical seed's figure shows one side, the seeds together show both.

# %%
side_tables = []
for experiment in ("main", "ablations", "release_vs_paper"):
    sides = readings.detour_side_table(root, experiment, io.study_profile(experiment, profile))
    if not sides.empty:
        side_tables.append(sides.assign(experiment=experiment))
if side_tables:
    sides = pd.concat(side_tables, ignore_index=True)
    sides = sides[["experiment", *[c for c in sides.columns if c != "experiment"]]]
    print("saved", io.save_table(sides, out, "detour_sides"))
    display(sides)
    main_sides = sides[sides["experiment"] == "main"]
    fig = maze_figures.detour_side_plot(main_sides, title="main: which side the detours take")
    print("saved", io.save_figure(fig, out, "detour_sides"))
    display(fig)
else:
    print("NO DETOURS: no run with a detour under", root)

# %% [markdown]
# ## 4b. Why does adding the KL make the teacher detour, and subtracting it make it fail?
#
# From the logs every SITT run keeps: the KL between teacher and proxy on the roll-out's path cells
# (`sitt/kl_path`) and on the margin's normal cells (`sitt/kl_normal`), the reward term added to each step
# (`sitt/reward_term_mean`: +1.9 x KL for the release, -1.9 x KL for the paper's sign) and the path cells a roll-out
# episode visits (`rollout/n_paths_mean`). `sitt/kl_path` is missing (NaN) in an iteration whose roll-out visits no
# path cell. Mean over seeds with a 95% band.

# %%
progress, message = io.progress_table(root, "release_vs_paper", profile)
print(message)
if progress is not None:
    fig = figures.training_curves(
        progress, ["sitt/kl_path", "sitt/kl_normal", "sitt/reward_term_mean", "rollout/n_paths_mean",
                   "rollout/success_rate", "rollout/ep_len_mean"],
        arms=["sitt_release", "release_paper_sign"], title="the KL bonus (release) vs the KL penalty (paper's sign)")
    print("saved", io.save_figure(fig, out, "kl_sign_curves"))
    display(fig)

# %% [markdown]
# The same logs per run at the end of training (mean over the last 10 logged iterations), beside the run's held-out
# success: the main study's `sitt_release` seeds, then the two arms above. A seed that fails is one whose teacher
# still visits path cells at the end, where the KL (and so the +1.9 x KL bonus) is large.

# %%
last = []
for experiment, arms in (("main", ["sitt_release"]), ("release_vs_paper", ["sitt_release", "release_paper_sign"])):
    logs, _ = io.progress_table(root, experiment, profile)
    evals, _ = io.eval_table(root, experiment, profile)
    if logs is not None and evals is not None:
        last.append(readings.last_iteration_table(logs, evals, arms).assign(experiment=experiment))
if last:
    last = pd.concat(last, ignore_index=True)
    last = last[["experiment", *[c for c in last.columns if c != "experiment"]]]
    print("saved", io.save_table(last, out, "kl_sign_last_iterations"))
    display(last)
