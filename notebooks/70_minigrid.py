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
# # 70 · SITT on a third-party environment: MiniGrid's LavaGap
#
# The env is MiniGrid's own (`minigrid` package; `MiniGrid-LavaGapS7-v0` in the study's profiles: a 7 x 7 room, a
# lava wall with one gap, the goal in the far corner; MiniGrid's 3 navigation actions). The **teacher** sees the whole
# grid (MiniGrid's `FullyObsWrapper` encoding, flattened); the **student** sees MiniGrid's own egocentric 3 x 3 view
# (`agent_view_size=3`), walls occluding
# (`minigrid_lava.views.student_view`, tested equal to MiniGrid's `gen_obs()["image"]`). Experiment `minigrid_main`:
# the arms every task shares (`without_alignment` gives the plain teacher and the student aligned to it, `bc`,
# `dagger`, `hlrl`, `cosil` use that teacher; `sitt_release`, `sitt_paper`, `dwbc` train their own).
#
# Per held-out level (a fixed set of level seeds, the same for every arm and seed): success (the goal reached), lava
# death, timeout, steps and return. One number per training seed, then mean and seeded 95% bootstrap CI over seeds. The
# env, the view and the budget were chosen on the tuning seeds 100-104 before the sweep (the comment above
# `DEFAULT_PROFILE` in `minigrid_lava/design.py`, the tuning table at the end): PPO did not learn MiniGrid's
# LavaCrossingS9N1, the first choice, within the budget; with a 5 x 5 view even a perfect imitator succeeds on
# LavaGapS7.

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = "0-4"
run = False
jobs = 2
level = 0

# %%
# %matplotlib inline
import pandas as pd

from IPython.display import Markdown

from study import figures, io, policy_modes, tables
from study.units import experiment_units as units_table_of
from study.report import budget_markdown, claims_markdown, main_table_markdown
from minigrid_lava import figures as mg_figures
from minigrid_lava.design import GRID, GRID_EXPERIMENT, SCHEDULES, SELECTION
from minigrid_lava.task import TASK
from study import grid as study_grid

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
root, out, eval_df = io.open_experiment("minigrid_main", profile, root, out, run=run, seeds=seeds, jobs=jobs)
if eval_df is None:
    print("no runs yet: nothing is written (train them with `python -m study.sweep --plan minigrid_lava`)")

# %% [markdown]
# ## What teacher and student see
#
# The first state of held-out level `level`: left the teacher's grid with the student's square lightened,
# right the student's view (cells behind walls unseen). Shown, not saved.

# %%
if profile in TASK.profiles:
    display(mg_figures.level_view_figure("minigrid_main", profile, level))
else:
    print(f"the MiniGrid task has no profile {profile!r} (it has {', '.join(TASK.profiles)})")

# %% [markdown]
# ## The table

# %%
if eval_df is not None:
    main = tables.main_table(eval_df)
    print("saved", io.save_table(main, out, "minigrid_main"))
    print("saved", io.save_table(tables.per_seed(eval_df), out, "minigrid_main_per_seed"))
    display(main)

# %%
if eval_df is not None:
    display(Markdown(main_table_markdown(main, TASK.main_labels)))

# %% [markdown]
# ## Success and lava deaths per seed

# %%
if eval_df is not None:
    fig = figures.metric_plot(eval_df, "success", title="MiniGrid: success on held-out levels", ylabel="success")
    print("saved", io.save_figure(fig, out, "minigrid_success"))
    display(fig)
    fig = figures.metric_plot(eval_df, "lava_share", title="MiniGrid: episodes ended in lava", ylabel="lava share")
    print("saved", io.save_figure(fig, out, "minigrid_lava"))
    display(fig)

# %% [markdown]
# ## One held-out level, every arm
#
# Teacher (blue) and student (orange) on held-out level `level` at one training seed (the smallest seed with runs of
# the most arms).

# %%
if eval_df is not None:
    fig = mg_figures.episodes_figure(root, "minigrid_main", level=level)
    print("seed", fig.minigrid_info["seed"], "level seed", fig.minigrid_info["level_seed"],
          "missing arms", fig.minigrid_info["missing"])
    print("saved", io.save_figure(fig, out, "minigrid_episodes"))
    display(fig)

# %% [markdown]
# ## Arg-max and sampled actions
#
# Every reported evaluation takes the arg-max action. A memoryless student whose 3 x 3 view looks the same in two
# places may then repeat one move for ever (a timeout) where a sampled action would have broken the loop. Here each
# stored policy is evaluated again on the same held-out levels with sampled actions (torch seeded), beside the arg-max
# (`study.policy_modes`; the deterministic rows are the reported evaluation, recomputed; DWBC stores its own model
# class and is left out). One row per run, policy and mode; then the means over seeds. Each run's rows are kept
# beside it (`policy_modes.csv`, committed with the run) and read back while its config is unchanged.

# %%
if eval_df is not None:
    modes = policy_modes.policy_modes_table(TASK, root, "minigrid_main", profile, cache=True)
    print("saved", io.save_table(modes, out, "minigrid_main_modes"))
    summary = pd.concat([policy_modes.policy_modes_summary(modes, value).assign(value=value)
                         for value in ("success", "lava_share", "timeout_share")], ignore_index=True)
    print("saved", io.save_table(summary, out, "minigrid_main_modes_summary"))
    display(summary)

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

# %%
progress, message = io.progress_table(root, "minigrid_main", profile)
print(message)
if progress is not None:
    fig = figures.training_curves(progress, title="minigrid_main: training")
    print("saved", io.save_figure(fig, out, "minigrid_training"))
    display(fig)

# %% [markdown]
# ## Does the proxy track the student?
#
# SITT's roll-out term uses the proxy's KL to the teacher in place of the student's. Runs logged since the
# executed-action switch (here `sitt_tuned`) record both KLs every iteration, their mean absolute gap over the roll-out
# and their correlation across its states (`study.figures.TRACKING_CURVES`); the earlier runs lack them.

# %%
fig = figures.tracking_curves(progress, title="minigrid_main: the proxy's tracking of the student")
if fig is None:
    print("no run of this experiment logs the proxy's tracking")
else:
    print("saved", io.save_figure(fig, out, "minigrid_main_tracking"))
    display(fig)

# %% [markdown]
# ## Tuning probes
#
# The runs that choose the default profile (`minigrid_lava/README.md` lists the probes), on the tuning seeds 100-104
# only (the study refuses the reported experiment on them): experiment `minigrid_tuning` and its tagged copies
# (`python -m study.sweep --experiment minigrid_tuning --seeds 100-104 --tag <probe> --set ...`), one row per probe,
# arm and policy, with the probe's schedule.

# %%
tuning = tables.tuning_table(root, "minigrid_lava", profile)
if tuning is None:
    print(f"no tuning probes under {root}: the search is recorded in the comment above DEFAULT_PROFILE")
else:
    print("saved", io.save_table(tuning, out, "minigrid_tuning"))
    display(tuning)

# %% [markdown]
# ## SITT's coefficients searched: the grid on the tuning seeds
#
# The grid and its selection rule were committed before its runs (`minigrid_lava/design.py`: `GRID`, `SELECTION`, the
# comment above them): SITT (paper recipe) at lambda1 0.005-0.1 x lambda2 0-0.1 (coefficients suited to a reward of
# at most 1 an episode), on the tuning seeds 100-102. One row per configuration: teacher and student success (means
# over its seeds), the teacher's success as a share of the plain teacher's on the same seeds, the student's gain over
# the without-alignment student, and whether the rule admits it. Then the chosen configuration and the alignment
# schedule searched for it (`SCHEDULES`).

# %%
grid_eval, message = io.eval_table(root, GRID_EXPERIMENT, profile)
print(message)
if grid_eval is not None:
    grid_seeds = tables.per_seed(grid_eval, TASK)
    grid = study_grid.grid_table(grid_seeds, study_grid.grid_points(GRID), SELECTION)
    print("saved", io.save_table(grid, out, GRID_EXPERIMENT))
    display(grid)
    chosen = study_grid.select(grid, SELECTION)
    print("chosen:", "none admissible" if chosen is None else chosen["arm"])
    schedules = study_grid.schedule_table(grid_seeds, SCHEDULES, SELECTION)
    print("saved", io.save_table(schedules, out, f"{GRID_EXPERIMENT}_schedules"))
    display(schedules)

# %% [markdown]
# ## SITT's roll-out term in the task's units
#
# Per-step env reward and per-step KL(teacher || proxy) of the plain teacher (`without_alignment`: a plain PPO
# teacher whose proxy is aligned alongside) and of each SITT arm at 10%, 50% and 100% of training (means over seeds
# of the last 5% of iterations before each point; `study.units`), and what lambda1 x KL is as a share of the reward.

# %%
units = units_table_of(root, "minigrid_main")
if units.empty:
    print("no runs with a proxy yet")
else:
    print("saved", io.save_table(units, out, "minigrid_main_units"))
    display(units)
