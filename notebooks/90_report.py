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
# # 90 · The report
#
# Collects every experiment into `results/tables/*.csv`, `results/figures/*.png` and `results/REPORT.md` (+ HTML):
# first the scorecard (the paper's claims as rows, the tasks as columns, each cell a verdict with its key number:
# `study/scorecard.py`, also `results/tables/scorecard.csv`) and one forest plot per task (student success per arm
# with its CI, the paper's number, the arm's budget: `results/figures/forest_<task>.png`), then the findings, the
# claims table (claim, experiment, evidence, verdict by the CI rules of `study/claims.py`), the main, ablation and
# release-vs-paper tables, the figures, what was easy and what was hard, and the command behind each number. Tables
# are recomputed from the runs (seeded, so identical to the experiment notebooks'); the other figures are those the
# experiment notebooks saved.

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
jobs = 2

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Image, Markdown

from study import io, registry, report, scorecard
from study.stats import rliable_available, rliable_import_error

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
root, out = io.resolve_paths(profile, root, out)
print(f"profile={profile}  runs={io.paths.display(root)}  outputs={io.paths.display(out)}")
notes = report.default_notes()
if rliable_available():
    notes["easy"].append("rliable imports cleanly here: its IQM intervals are used beside our bootstrap.")
else:
    notes["hard"][-1] += f" (here: {rliable_import_error()})"
built = report.build_report(profile, root, out, jobs, notes=notes)

# %% [markdown]
# ## Scorecard and the per-task forest plots

# %%
display(Markdown(scorecard.scorecard_markdown(built["scorecard"])))
for name in registry.task_names():
    forest = out / "figures" / f"{report.FOREST_PREFIX}{name}.png"
    if forest.is_file():
        display(Image(filename=str(forest)))

# %% [markdown]
# ## Tables

# %%
if built["main"] is not None:
    display(built["main"])
for name, table in built["tables"].items():
    display(Markdown(f"**{name}**\n\n" + report.table_markdown(table)))

# %% [markdown]
# ## Claims

# %%
display(Markdown(report.claims_markdown(built["claims"])))

# %% [markdown]
# ## REPORT.md

# %%
path = built["path"]
print("wrote", io.paths.display(path), "and", io.paths.display(path.with_suffix(".html")))
display(Markdown(path.read_text().split("\n## Figures")[0]))  # images: see REPORT.html
