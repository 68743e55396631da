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
# # 20 · The paper's maze figure, regenerated, and its numbers
#
# The paper shows the color maze in one figure (six panels, no numbers): **(a)** the teacher trained without
# alignment goes through the hidden path; the students of that teacher fail: **(b)** behaviour cloning,
# **(c)** DAgger, **(e)** the student aligned to it; **(d)** the teacher trained with SITT detours round the maze in
# the white margin, and **(f)** its student follows the detour and reaches the goal.
#
# Here every panel is drawn from our runs (experiment `main`), and the same runs give the table: per arm, teacher and
# student true success (reached the target in the first episode of the 100 evaluation steps) and the share of
# held-out mazes solved by the detour, as mean over training seeds with a seeded 95% bootstrap CI, the IQM, and the
# release's own metric (any termination counts, lava included). Arms:
# `without_alignment` gives panels (a) and (e) and the teacher that `bc` and `dagger` imitate; `sitt_release` is SITT
# as released (+1.9 KL bonus), `sitt_paper` as the paper describes it (-1.9 KL penalty, KL update term).

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = "0-9"
run = False
jobs = 2
maze = 0
sitt_arm = "sitt_release"

# %%
# %matplotlib inline
import pandas as pd

from IPython.display import Markdown

from study import figures, io, tables
from study.units import experiment_units as units_table_of
from color_maze import figures as maze_figures, tables as maze_tables
from study.report import budget_markdown, claims_markdown, main_table_markdown
from color_maze.task import TASK

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
root, out, eval_df = io.open_experiment("main", profile, root, out, run=run, seeds=seeds, jobs=jobs)

# %% [markdown]
# ## The six panels
#
# Left of each panel: the policy's first episode on one held-out maze (green line; paper colours: lava red, path
# blue, target green, start grey). Right: the cells it visited over all held-out mazes and all 100 evaluation steps
# (log-scaled blue; the maze block outlined red). One training seed, the typical one (`figures.typical_seed`: each
# panel's true success at that seed closest to its median over seeds, ties to the smallest seed), so the figure shows
# what most seeds did; below it, every seed's figure, failures included.

# %%
if eval_df is not None:
    fig = maze_figures.paper_maze_figure(root, "main", maze=maze, sitt_arm=sitt_arm, seed="typical")
    print("seed", fig.sitt_info["seed"], "maze", fig.sitt_info["maze"], "arms", fig.sitt_info["arms"])
    if fig.sitt_info["missing"]:
        print("panels without runs:", fig.sitt_info["missing"])
    print("saved", io.save_figure(fig, out, "paper_maze"))
    display(fig)

# %% [markdown]
# The same six panels for every training seed (the runs differ: look at all of them before trusting one), and with
# the heatmaps pooled over all seeds.

# %%
if eval_df is not None:
    fig = maze_figures.paper_maze_figure(root, "main", maze=maze, sitt_arm=sitt_arm, pool_seeds=True)
    print("saved", io.save_figure(fig, out, "paper_maze_pooled"))
    display(fig)
    for run_seed in sorted(eval_df["seed"].unique()):
        fig = maze_figures.paper_maze_figure(root, "main", maze=maze, sitt_arm=sitt_arm, seed=int(run_seed))
        print("saved", io.save_figure(fig, out, f"paper_maze_seed_{int(run_seed)}"))

# %% [markdown]
# ## The table
#
# One number per training seed (share of the held-out mazes), then mean and 95% CI over seeds.

# %%
if eval_df is not None:
    main = tables.main_table(eval_df)
    print("saved", io.save_table(main, out, "main"))
    print("saved", io.save_table(tables.per_seed(eval_df), out, "main_per_seed"))
    display(main)

# %%
if eval_df is not None:
    display(Markdown(main_table_markdown(main, TASK.main_labels)))

# %% [markdown]
# ## True success, detour share and the release's metric, per seed

# %%
if eval_df is not None:
    fig = figures.metric_plot(eval_df, "success", title="true success on held-out mazes", ylabel="true success")
    print("saved", io.save_figure(fig, out, "main_success"))
    display(fig)
    fig = figures.metric_plot(eval_df, "detour_share", title="mazes solved by the detour (no path cell)",
                              ylabel="detour share")
    print("saved", io.save_figure(fig, out, "main_detour"))
    display(fig)
    fig = figures.metric_plot(eval_df, "release_success", title="the release's metric: any termination counts",
                              ylabel="release metric")
    print("saved", io.save_figure(fig, out, "main_release_metric"))
    display(fig)

# %% [markdown]
# ## Which route does each teacher take?

# %%
if eval_df is not None:
    routes = maze_tables.route_share_table(eval_df, "teacher")
    print("saved", io.save_table(routes, out, "main_teacher_routes"))
    fig = maze_figures.route_share_plot(routes, title="teacher's route on the held-out mazes")
    print("saved", io.save_figure(fig, out, "main_teacher_routes"))
    display(fig)

# %% [markdown]
# ## Every method at an equal budget
#
# HLRL and COSIL as the main table runs them train their student by its own PPO for as long as their teacher trained,
# on top of it: twice SITT's env steps (`shared/spec/fair_comparison.md` section 1). The budget experiment (its arms,
# SITT's configuration and its claims were fixed before its runs: the budget block of the task's `design.py`) reads
# every method at SITT's budget (`hlrl_eq`, `cosil_eq`: their teacher on half of it, the student's own PPO on the other
# half) and at twice it (`sitt_2x` beside the main table's `hlrl` and `cosil`), with a no-teacher control
# (`student_rl`, `student_rl_2x`: PPO on the student's view alone, with HLRL's asymmetric critic). Env steps count
# every policy trained for a run; the last column is the probability that a seed of SITT's student beats a seed of
# the row's at the same budget (0.5: no difference).

# %%
budget = io.budget_reading(TASK, eval_df, profile, root, out, run=run, seeds=seeds, jobs=jobs)
if budget is not None:
    display(Markdown(budget_markdown(budget.table)))
    display(budget.figure)
    display(Markdown(claims_markdown(budget.claims)))

# %% [markdown]
# ## Training curves
#
# SB3's progress log per iteration (mean over seeds, 95% band); `sitt/kl_mean` is the KL between teacher and proxy
# on the roll-out, `sitt/agreement` the share of roll-out states where the student's action equals the teacher's.

# %%
progress, message = io.progress_table(root, "main", profile)
print(message)
if progress is not None:
    fig = figures.training_curves(progress, title="main: training")
    print("saved", io.save_figure(fig, out, "main_training"))
    display(fig)

# %% [markdown]
# ## SITT's roll-out term in the task's units
#
# Per-step env reward and per-step KL(teacher || proxy) of the plain teacher (`without_alignment`: a plain PPO
# teacher whose proxy is aligned alongside) and of each SITT arm at 10%, 50% and 100% of training (means over seeds
# of the last 5% of iterations before each point; `study.units`), and what lambda1 x KL is as a share of the reward.

# %%
units = units_table_of(root, "main")
if units.empty:
    print("no runs with a proxy yet")
else:
    print("saved", io.save_table(units, out, "main_units"))
    display(units)
