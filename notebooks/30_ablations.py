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
# # 30 · Ablations
#
# Each arm removes or changes one part of SITT (release recipe) and is compared with the full method
# (`sitt_release`) on the student's true success: mean over seeds with a 95% bootstrap CI, the difference to the
# full method and the probability of improvement (PoI: the chance that a seed of the arm beats a seed of the full
# method; 0.5 = no difference), each with its CI. The paper's own ablation (manipulation, not the maze) reports:
# penalty only 0.47, KL-gradient only 0.74, no shared decoder 0.62, full 0.88 (lambda1 = 0.05) and 0.95
# (lambda1 = 0.025). The lambda1 arms sweep the reward coefficient with the release's sign (bonus) and the paper's
# (penalty).

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = "0-9"
run = False
jobs = 2
reference = "sitt_release"

# %%
# %matplotlib inline
import pandas as pd

from study import figures, io
from color_maze import figures as maze_figures, tables as maze_tables
from study.report import comparison_markdown

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
root, out, eval_df = io.open_experiment("ablations", profile, root, out, run=run, seeds=seeds, jobs=jobs)
labels = io.arm_labels()

# %%
if eval_df is not None:
    ablations = maze_tables.ablation_table(eval_df, reference, labels=labels)
    print("saved", io.save_table(ablations, out, "ablations"))
    from IPython.display import Markdown

    display(Markdown(comparison_markdown(ablations)))

# %%
if eval_df is not None:
    fig = figures.comparison_plot(ablations, value="diff", title="student true success: ablation minus full SITT")
    print("saved", io.save_figure(fig, out, "ablations_diff"))
    display(fig)
    fig = figures.comparison_plot(ablations, value="poi", title="probability that the ablation beats full SITT")
    print("saved", io.save_figure(fig, out, "ablations_poi"))
    display(fig)

# %% [markdown]
# ## Teacher and student, per seed

# %%
if eval_df is not None:
    fig = figures.metric_plot(eval_df, "success", title="ablations: true success", ylabel="true success")
    print("saved", io.save_figure(fig, out, "ablations_success"))
    display(fig)
    routes = maze_tables.route_share_table(eval_df, "teacher")
    print("saved", io.save_table(routes, out, "ablations_teacher_routes"))
    fig = maze_figures.route_share_plot(routes, title="ablations: the teacher's route")
    print("saved", io.save_figure(fig, out, "ablations_teacher_routes"))
    display(fig)

# %% [markdown]
# ## The reward coefficient lambda1, with either sign

# %%
if eval_df is not None:
    sweep_table = maze_tables.lambda1_table(eval_df)
    print("saved", io.save_table(sweep_table, out, "ablations_lambda1"))
    display(sweep_table)
    fig = figures.lambda1_plot(sweep_table, title="lambda1 sweep (student)")
    print("saved", io.save_figure(fig, out, "ablations_lambda1"))
    display(fig)
