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
# the claims table (claim, experiment, evidence, verdict by the CI rules of `study/claims.py`), the main,
# ablation and release-vs-paper tables, the figures, what was easy and what was hard, and the command behind each
# number. Tables are recomputed from the runs (seeded, so identical to the experiment notebooks'); figures are those
# the experiment notebooks saved.

# %% tags=["parameters"]
profile = "default"
root = "results/runs"
out = "results"
seeds = 10
run = False
jobs = 2

# %%
# %matplotlib inline
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from study import claims, io, report, tables
from study.stats import rliable_available, rliable_import_error

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 40)
root, out = io.resolve_paths(profile, root, out)
print(f"profile={profile}  runs={root}  outputs={out}")
labels = io.arm_labels()
evals = {}
for experiment in ("main", "ablations", "release_vs_paper"):
    evals[experiment], message = io.load_eval(root, experiment, profile)
    print(message)

# %% [markdown]
# ## Tables

# %%
main = tables.main_table(evals["main"]) if evals["main"] is not None else None
comparisons = {}
if evals["ablations"] is not None:
    comparisons["Ablations (student true success vs full SITT)"] = tables.ablation_table(
        evals["ablations"], "sitt_release", labels=labels)
if evals["release_vs_paper"] is not None:
    comparisons["Release vs paper, one difference at a time"] = tables.release_vs_paper_table(
        evals["release_vs_paper"], "sitt_release", labels=labels)
if main is not None:
    print("saved", io.save_table(main, out, "main"))
    display(main)
for name, table in comparisons.items():
    file = "ablations" if name.startswith("Ablations") else "release_vs_paper"
    print("saved", io.save_table(table, out, file))
    display(Markdown(f"**{name}**\n\n" + report.comparison_markdown(table)))

# %% [markdown]
# ## Claims

# %%
claim_list = list(claims.DEFAULT_CLAIMS)
if evals["ablations"] is not None:
    claim_list += claims.ablation_claims(sorted(set(evals["ablations"]["arm"])), "sitt_release", labels)  # paper's three
claims_df = claims.claims_table(evals, claim_list)
print("saved", io.save_table(claims_df, out, "claims"))
display(Markdown(report.claims_markdown(claims_df)))

# %% [markdown]
# ## REPORT.md

# %%
figure_dir = Path(out) / "figures"
order = ["paper_maze"]
found = sorted(figure_dir.glob("*.png")) if figure_dir.is_dir() else []
figures_list = [p for name in order for p in found if p.stem == name] + [p for p in found if p.stem not in order]
notes = {k: list(v) for k, v in report.DEFAULT_NOTES.items()}
if rliable_available():
    notes["easy"].append("rliable imports cleanly here: its IQM intervals are used beside our bootstrap.")
else:
    notes["hard"][-1] += f" (here: {rliable_import_error()})"
findings_file = Path(out) / "FINDINGS.md"  # the findings in words, written by hand from these tables
findings = findings_file.read_text() if findings_file.exists() else ""
path = report.write_report(
    out,
    claims=claims_df,
    main=main,
    comparisons=comparisons,
    figures=figures_list,
    command_lines=report.commands(
        profile, seeds, str(root), jobs,
        ablation_seeds=None if evals["ablations"] is None else int(evals["ablations"]["seed"].max()) + 1,
    ),
    notes=notes,
    profile=profile,
    provenance={"runs": str(root)},
    findings=findings,
)
print("wrote", path, "and", path.with_suffix(".html"))
display(Markdown(path.read_text().split("\n## Figures")[0]))  # images: see REPORT.html
