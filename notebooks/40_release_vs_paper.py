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
# # 40 · The release and the paper, one difference at a time
#
# The authors' code and the paper's text differ in three places, and the env has release quirks:
#
# 1. **reward sign**: the release adds +1.9 x KL(teacher || proxy) to the reward, the paper subtracts it
#    (`release_paper_sign`);
# 2. **update term**: the release back-propagates an L1 distance between teacher and proxy features (weight 0.01),
#    the paper the KL itself (`release_kl_update`);
# 3. **evaluation metric**: the release counts any termination within 100 steps as success, stepping on lava
#    included; we report true success beside it (rows `metric` below: same runs, both metrics);
# 4. **env quirks** (last-cell feature, terminal observation, float64, episode length): `quirks_fixed` corrects
#    them all; `without_alignment_quirks_fixed` asks whether the plain teacher's route changes.
#
# `sitt_paper` switches 1 and 2 together. Each arm is compared with `sitt_release` on the student's true success
# (difference and probability of improvement, 95% bootstrap CIs over seeds).

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
root, out, eval_df = io.open_experiment("release_vs_paper", profile, root, out, run=run, seeds=seeds, jobs=jobs)
labels = io.arm_labels()

# %%
if eval_df is not None:
    rvp = maze_tables.release_vs_paper_table(eval_df, reference, labels=labels)
    print("saved", io.save_table(rvp, out, "release_vs_paper"))
    from IPython.display import Markdown

    display(Markdown(comparison_markdown(rvp)))

# %%
if eval_df is not None:
    arms = rvp[rvp["kind"] == "arm"]
    arms.attrs.update(rvp.attrs)
    fig = figures.comparison_plot(arms, value="diff", title="student true success: arm minus sitt_release")
    print("saved", io.save_figure(fig, out, "release_vs_paper_diff"))
    display(fig)
    metric = rvp[rvp["kind"] == "metric"]
    fig = figures.comparison_plot(metric, value="diff", title="release metric minus true success (same runs, student)")
    print("saved", io.save_figure(fig, out, "release_vs_paper_metric"))
    display(fig)

# %% [markdown]
# ## Teacher and student per seed; the teacher's route

# %%
if eval_df is not None:
    fig = figures.metric_plot(eval_df, "success", title="release vs paper: true success", ylabel="true success")
    print("saved", io.save_figure(fig, out, "release_vs_paper_success"))
    display(fig)
    routes = maze_tables.route_share_table(eval_df, "teacher")
    print("saved", io.save_table(routes, out, "release_vs_paper_teacher_routes"))
    fig = maze_figures.route_share_plot(routes, title="release vs paper: the teacher's route")
    print("saved", io.save_figure(fig, out, "release_vs_paper_teacher_routes"))
    display(fig)

# %%
progress, message = io.progress_table(root, "release_vs_paper", profile)
print(message)
if progress is not None:
    fig = figures.training_curves(progress, ["rollout/success_rate", "rollout/ep_len_mean", "sitt/kl_mean"],
                                  title="release vs paper: training")
    print("saved", io.save_figure(fig, out, "release_vs_paper_training"))
    display(fig)
