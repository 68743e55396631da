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
# # 60 · The occluded drawer: the paper's manipulation task, as an analogue
#
# The paper's second robot result: a Franka arm opens a drawer; the student's camera sits close to the arm, so the
# arm can hide the (red) handle from it. SITT's teacher learns approach and grasp postures that keep the handle
# visible, and its student's success rises to 0.88 (BC 0.16, w/o alignment 0.61; a third-party reading of the paper,
# `shared/spec/robot_analogues.md`). The paper's only ablation table (penalty only, KL gradient only, no shared
# decoder, lambda1 0.05 and 0.025) is on this task.
#
# Our analogue (`occluded_drawer/`): a planar 2-link arm with joint-velocity actions and a gripper command, a drawer
# whose handle sits at a random height on its front, and a fixed camera behind the arm's base. The teacher sees the
# handle's position; the student sees the same proprioception, and the handle only while the camera's sight line to
# it crosses no link (zeros otherwise, with a visibility flag). From the start posture the short "elbow up" grasp
# lifts the upper arm across the sight line (the handle is hidden for most of the approach); the longer "elbow down"
# grasp keeps it in view. Nothing in the reward prefers either: which one a plain teacher learns is measured.
#
# Two experiments: `occluded_drawer_main` (the paper's table: w/o alignment, BC, DAgger, SITT as the paper describes
# it with lambda1 = 0.05 and lambda2 = 0.1, SITT with the maze release's recipe, HLRL, DWBC, COSIL) and
# `occluded_drawer_ablations` (the paper's Table 2 on the paper recipe). Numbers are per training seed (shares and
# means over the held-out scenes), then mean and seeded 95% bootstrap CI over seeds. The default profile and lambda2
# were chosen on the tuning seeds 100-104 before the sweeps (`occluded_drawer/design.py`: the comment above
# `DEFAULT_PROFILE`, and the tuning table at the end).

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = "0-9"
run = False
jobs = 2
experiment = "occluded_drawer_main"
ablations = "occluded_drawer_ablations"
sitt_arm = "sitt_paper"
scene = 0

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Markdown

from occluded_drawer import DrawerConfig
from occluded_drawer import figures as drawer_figures, tables as drawer_tables
from occluded_drawer.design import (ABLATION_REFERENCE, ADOPTED_SCHEDULES, GRID, GRID_EXPERIMENT, GRID_RAW,
                                    SCHEDULES, SELECTION)
from occluded_drawer.task import TASK
from study import claims, figures, io, policy_modes, tables
from study import grid as study_grid
from occluded_drawer.premise import PREMISE_CLAIMS, PREMISE_EXPERIMENT, premise_table
from study.units import experiment_units as units_table_of
from study.report import budget_markdown, claims_markdown, comparison_markdown, main_table_markdown

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
root, out, eval_df = io.open_experiment(experiment, profile, root, out, run=run, seeds=seeds, jobs=jobs)
if run:
    print(io.sweep_experiment(ablations, profile, seeds, root, jobs))
abl_df, message = io.eval_table(root, ablations, profile)
print(message)
labels = io.arm_labels(experiment)
have_runs = eval_df is not None or abl_df is not None
if not have_runs:
    print("There are no runs of the occluded drawer yet: the pictures of the task below need none; "
          "no table or figure is written.")

# %% [markdown]
# ## The task in pictures
#
# The two scripted approaches (inverse-kinematics waypoint controllers on the teacher's observation) on one held-out
# scene, up to the grasp: the camera (black triangle) and its field of view (yellow), the sight line to the handle
# per drawn posture (green: visible; red dashed: the arm hides it), the drawer (brown) on its rail. Both open the
# drawer; the table gives both over all held-out scenes.

# %%
fig, scripted = drawer_figures.scripted_approaches(DrawerConfig(), scene=scene)
display(fig)
display(scripted)
if have_runs:
    print("saved", io.save_figure(fig, out, "occluded_drawer_scripted"))

# %% [markdown]
# ## The approaches our teachers and students learned
#
# The same drawing for the plain teacher (`without_alignment`) and the SITT teacher (`sitt_paper`), then for their
# students, on held-out scene `scene` of the typical training seed (`occluded_drawer.figures.typical_seed`: the seed
# whose teachers' visible shares are closest to their medians over seeds).

# %%
if eval_df is not None:
    for policy in ("teacher", "student"):
        fig = drawer_figures.approach_figure(root, experiment, arms=("without_alignment", sitt_arm), policy=policy,
                                             scene=scene)
        print(policy, fig.drawer_info)
        print("saved", io.save_figure(fig, out, f"occluded_drawer_approach_{policy}"))
        display(fig)

# %% [markdown]
# ## The main table
#
# Success (the drawer open by `success_opening` within the time limit), the handle's visible share over the steps
# before the first grasp, grasp attempts and the episode's return, per arm and policy; then our student success next
# to the paper's.

# %%
if eval_df is not None:
    main = drawer_tables.main_table(eval_df)
    print("saved", io.save_table(main, out, experiment))
    display(Markdown(main_table_markdown(main, TASK.main_labels)))
    versus = drawer_tables.paper_comparison(eval_df)
    print("saved", io.save_table(versus, out, f"{experiment}_vs_paper"))
    display(versus)

# %%
if eval_df is not None:
    fig = figures.metric_plot(eval_df, "success", title="occluded drawer: success on the held-out scenes",
                              ylabel="success")
    print("saved", io.save_figure(fig, out, f"{experiment}_success"))
    display(fig)
    fig = figures.metric_plot(eval_df, "visible_share", title="handle visible before the first grasp",
                              ylabel="visible share")
    print("saved", io.save_figure(fig, out, f"{experiment}_visible_share"))
    display(fig)
    fig = figures.metric_plot(eval_df, "grasp_attempts", title="grasp attempts per episode", ylabel="attempts")
    print("saved", io.save_figure(fig, out, f"{experiment}_grasp_attempts"))
    display(fig)

# %% [markdown]
# ## Arg-max and sampled actions
#
# Every reported evaluation above takes the mean action (`deterministic=True`). Here each stored policy is evaluated
# again on the same held-out scenes with actions sampled from its Gaussian (torch seeded; `study.policy_modes`; the
# deterministic rows are the reported evaluation, recomputed; DWBC stores its own model class and is left out): a
# reading beside the headline, not a replacement for it. Each run's rows are kept beside it (`policy_modes.csv`,
# committed with the run) and read back while its config is unchanged. One row per run, policy and mode; then the
# means over seeds.

# %%
if eval_df is not None:
    modes = policy_modes.policy_modes_table(TASK, root, experiment, profile, cache=True)
    print("saved", io.save_table(modes, out, f"{experiment}_modes"))
    summary = pd.concat([policy_modes.policy_modes_summary(modes, value).assign(value=value)
                         for value in ("success", "visible_share")], ignore_index=True)
    print("saved", io.save_table(summary, out, f"{experiment}_modes_summary"))
    display(summary)

# %% [markdown]
# ## The ablation table
#
# Each arm against the full method (`sitt_paper`: the paper recipe, lambda1 = 0.05, the same run as the main
# table's) on the student's success: mean and CI, the difference to the full method and the probability of
# improvement (0.5 = no difference), with the teacher's visible share; then next to the paper's Table 2.

# %%
if abl_df is not None:
    abl = drawer_tables.ablation_table(abl_df, ABLATION_REFERENCE)
    print("saved", io.save_table(abl, out, ablations))
    display(Markdown(comparison_markdown(abl)))
    versus = drawer_tables.paper_comparison(abl_df, drawer_tables.PAPER_ABLATIONS)
    print("saved", io.save_table(versus, out, f"{ablations}_vs_paper"))
    display(versus)
    fig = figures.comparison_plot(abl, value="diff", title="student success: ablation minus the full method")
    print("saved", io.save_figure(fig, out, f"{ablations}_diff"))
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
# ## Claims
#
# The claims of this task (`occluded_drawer/design.py`, fixed before the runs), by the rules of `study/claims.py`; the
# report (`90_report`) collects them with every other task's.

# %%
if have_runs:
    budget_eval = None if budget is None else budget.eval_df
    evals = {experiment: eval_df, ablations: abl_df, TASK.budget.experiment: budget_eval}
    table = claims.claims_table(evals, TASK.claims)
    display(Markdown(claims_markdown(table)))

# %% [markdown]
# ## Tuning probes
#
# The runs that chose the default profile (`occluded_drawer/design.py`: `TUNING_PROBES`), on the tuning seeds 100-104
# only (the study refuses reported experiments on them): experiment `occluded_drawer_tuning` and its tagged copies,
# one row per probe, arm and policy, with the probe's schedule.

# %%
tuning = tables.tuning_table(root, "occluded_drawer", profile)
if tuning is None:
    print(f"no tuning probes under {root}: the search is recorded in the comment above DEFAULT_PROFILE")
else:
    print("saved", io.save_table(tuning, out, "occluded_drawer_tuning"))
    display(tuning)

# %% [markdown]
# ## SITT's roll-out term in the task's units
#
# Per-step env reward and per-step KL(teacher || proxy) of the plain teacher (`without_alignment`: a plain PPO
# teacher whose proxy is aligned alongside) and of each SITT arm at 10%, 50% and 100% of training (means over seeds
# of the last 5% of iterations before each point; `study.units`), and what lambda1 x KL is as a share of the reward.

# %%
units = units_table_of(root, experiment)
if units.empty:
    print("no runs with a proxy yet")
else:
    print("saved", io.save_table(units, out, f"{experiment}_units"))
    display(units)

# %% [markdown]
# ## The mechanism per seed: which approach each teacher took
#
# Per arm and training seed: the handle's mean visible share before the grasp for the teacher and the student, and the
# approach class (`visible` when the share is at least 0.5, `hiding` otherwise: the two modes of the learned and the
# scripted approaches; `occluded_drawer.tables.approach_table`). Then, per arm, on how many seeds the teacher (and the
# student) takes the visible approach: the claim `od:vis_seeds` reads this count.

# %%
if eval_df is not None:
    approaches = drawer_tables.approach_table(eval_df)
    print("saved", io.save_table(approaches, out, f"{experiment}_approaches"))
    counts = drawer_tables.approach_counts(approaches)
    print("saved", io.save_table(counts, out, f"{experiment}_approach_counts"))
    display(counts)

# %% [markdown]
# ## SITT's coefficients searched: the grid on the tuning seeds
#
# The grid and its selection rule were committed before its runs (`occluded_drawer/design.py`: `GRID`, `GRID_RAW`,
# `SELECTION`, the comment above them): SITT (paper recipe) at lambda1 x lambda2, with executed-action (`clipped`)
# and raw distances, on the tuning seeds 100-102. One row per configuration: teacher and student success (means over
# the seeds it has), the teacher's visible share, the teacher's success as a share of the plain teacher's on the same
# seeds, the student's gain over the without-alignment student, and whether the rule admits it. Then the chosen
# configuration, and the executed-action switch on the imitation baselines.

# %%
grid_eval, message = io.eval_table(root, GRID_EXPERIMENT, profile)
print(message)
if grid_eval is not None:
    grid_seeds = tables.per_seed(grid_eval, TASK)
    grid = study_grid.grid_table(grid_seeds, study_grid.grid_points(GRID, GRID_RAW), SELECTION,
                                 metrics=("visible_share",))
    print("saved", io.save_table(grid, out, GRID_EXPERIMENT))
    display(grid)
    chosen = study_grid.select(grid, SELECTION)
    print("chosen:", "none admissible" if chosen is None else chosen["arm"])
    switch = study_grid.switch_table(grid_seeds, study_grid.clipped_pairs())
    print("saved", io.save_table(switch, out, f"{GRID_EXPERIMENT}_switch"))
    display(switch)

# %% [markdown]
# ## The alignment schedule of the selected configuration
#
# Committed before its runs (`occluded_drawer/design.py`: `SCHEDULES`, the comment above it): the selected
# configuration and the without-alignment student (aligned by the same phase) with the release's schedule (20
# full-batch epochs on the whole roll-out) and with a 10x alignment learning rate, on the same tuning seeds. One row
# per arm and schedule: its teacher and student success, the profile schedule's on the same seeds, the student's gain,
# the teacher's share of the plain teacher's, and whether the rule adopts it (a gain above 0.02, the teacher floor
# kept). The chosen schedules (`ADOPTED_SCHEDULES` in the design, written down before their reported runs) run in the
# main experiment as `sitt_tuned_align` and `without_alignment_align` (the main table above; claims
# `od:tuned_align:*`).

# %%
if grid_eval is not None:
    schedules = study_grid.schedule_table(grid_seeds, SCHEDULES, SELECTION)
    print("saved", io.save_table(schedules, out, f"{GRID_EXPERIMENT}_schedules"))
    display(schedules)
    print("adopted (the design):", ", ".join(f"{arm}: {tag}" for arm, tag in ADOPTED_SCHEDULES.items()) or "none")

# %% [markdown]
# ## The premise: can a student imitate a teacher that keeps what it needs in view?
#
# Apart from SITT (`shared/spec/fair_comparison.md` section 4): BC and DAgger students (the study's student network and
# sizes, on the student's view) of FIXED teachers: the scripted approach that keeps the handle visible against the one
# that hides it behind the arm. Experiment `occluded_drawer_premise`, seeds 0-9; the claims `od:premise:*` were fixed
# before these runs. If the view-keeping teacher's students are not clearly better, the task cannot test SITT.

# %%
premise_eval, message = io.eval_table(root, PREMISE_EXPERIMENT, profile)
print(message)
if premise_eval is not None:
    premise = premise_table(premise_eval)
    print("saved", io.save_table(premise, out, PREMISE_EXPERIMENT))
    display(premise)
    display(Markdown(claims_markdown(claims.claims_table({PREMISE_EXPERIMENT: premise_eval}, PREMISE_CLAIMS))))

# %% [markdown]
# ## Training curves

# %%
progress, message = io.progress_table(root, experiment, profile)
print(message)
if progress is not None:
    fig = figures.training_curves(progress, title=f"{experiment}: training")
    print("saved", io.save_figure(fig, out, f"{experiment}_training"))
    display(fig)

# %% [markdown]
# ## Does the proxy track the student?
#
# SITT's roll-out term uses the proxy's KL to the teacher in place of the student's (the student sees too little to
# be queried on the teacher's states cheaply). Runs logged since the executed-action switch record both KLs every
# iteration, their mean absolute gap over the roll-out and their correlation across its states
# (`study.figures.TRACKING_CURVES`); the earlier runs of this experiment lack them and are left out.

# %%
fig = figures.tracking_curves(progress, title=f"{experiment}: the proxy's tracking of the student")
if fig is None:
    print("no run of this experiment logs the proxy's tracking")
else:
    print("saved", io.save_figure(fig, out, f"{experiment}_tracking"))
    display(fig)

# %% [markdown]
# ## How the analogue differs from the paper's task
#
# * **Sensing.** The paper's student sees camera images through a frozen DINOv2 encoder; ours sees a vector: the
#   arm's proprioception and the handle's position while it is visible. Occlusion is the whole asymmetry here; the
#   paper's student also has to find the handle in an image.
# * **Robot and contact.** A planar 2-link arm with joint-velocity actions and a gripper open/close command, instead
#   of a 7-DoF Franka in Isaac Gym. Links collide with nothing; grasping is "close within `grasp_radius`", pulling
#   follows the gripper's projection on the rail, a grasp slips when the gripper leaves the handle.
# * **Why the teacher hides the handle.** Here the hiding grasp is the shorter one from the start posture (the time
#   penalty and discounting favour it); the paper does not say why its plain teacher's postures hide the handle.
# * **Networks and budget.** SB3's default MLP (64, 64, tanh) for teacher and critic, a copy for the student and a
#   (64, 64) proxy, instead of the paper's 3-layer ELU MLPs; a few million environment steps on 2 CPU cores. The
#   paper's lambda2, learning rates, roll-out sizes and rewards are unpublished; ours are in
#   `occluded_drawer/design.py`.
# * **Ablation "no shared decoder".** The student and proxy get their own action head, but the Gaussian's log-std
#   stays the teacher's; whether the paper's ablation also separates the covariance is not published.
