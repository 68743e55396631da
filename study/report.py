"""results/REPORT.md (and REPORT.html): the claims table, the tables, the figures, what was easy and hard, and the
exact command behind every number.

:func:`write_report` takes what the notebooks computed (tables as DataFrames, the claims table, figure paths) and
writes the markdown; nothing is recomputed here. :func:`commands` gives the command lines that regenerate each
experiment's runs and each table/figure.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from study import claims as claims_mod
from study import figures as figures_mod
from study import load, paths
from study import scorecard as scorecard_mod
from study.budget import BUDGET, steps_label
from study.markdown import df_to_markdown
from study.presets import arm_labels, study_profile
from study.registry import get_task, task_names
from study.store import atomic_write_text
from study.tables import budget_table, format_ci, main_table
from study.writers import save_figure, save_table

__all__ = ["STUDY_NOTES", "default_notes", "REPORT_NOTEBOOK", "notebook_of", "main_table_markdown", "table_markdown",
           "comparison_markdown", "budget_markdown", "budget_title",
           "claims_markdown", "commands", "write_report", "markdown_to_html", "build_report", "forest_figure",
           "LEAD_FIGURES_TITLE", "LEAD_FIGURES_NOTE", "FOREST_PREFIX"]

def notebook_of() -> dict[str, str]:
    """experiment -> the notebook that writes its tables and figures (every task's :attr:`~study.task.Task.notebooks`),
    plus ``"report"`` -> the report notebook."""
    out: dict[str, str] = {}
    for name in task_names():
        out.update(get_task(name).notebooks)
    out["report"] = REPORT_NOTEBOOK
    return out


#: the notebook that writes this report
REPORT_NOTEBOOK = "90_report"

#: what was easy and hard about the study itself (each task adds its own: :attr:`study.task.Task.report_notes`)
STUDY_NOTES = {
    "hard": [
        "rliable 1.2 does not import under pandas 3 (its `arch` dependency fails at import): intervals are our "
        "own seeded stratified bootstrap, which follows rliable's definitions.",
    ],
}


def default_notes() -> dict[str, list[str]]:
    """The report's "what was easy, what was hard": every task's :attr:`~study.task.Task.report_notes` in registry
    order, then the study's own (:data:`STUDY_NOTES`)."""
    out: dict[str, list[str]] = {"easy": [], "hard": []}
    for name in task_names():
        for key, items in get_task(name).report_notes.items():
            out.setdefault(key, []).extend(items)
    for key, items in STUDY_NOTES.items():
        out.setdefault(key, []).extend(items)
    return out


def main_table_markdown(table: pd.DataFrame, labels: Mapping[str, str] | None = None) -> str:
    """The main table in words: arm, policy, seeds, true success mean [95% CI], IQM, then every other
    ``<prefix>_mean`` column of :func:`study.tables.main_table` (with its CI when the table has one), headed by
    ``labels[prefix]`` (default the prefix)."""
    labels = dict(labels or {})
    cols = {
        "arm": table["arm"],
        "policy": table["policy"],
        "seeds": table["n_seeds"],
        "true success [95% CI]": [format_ci(m, lo, hi) for m, lo, hi in
                                  zip(table["success_mean"], table["success_ci_low"], table["success_ci_high"])],
        "IQM": [format_ci(m, np.nan, np.nan) for m in table["success_iqm"]],
    }
    if BUDGET in table:  # the arm's budget (study.budget): teacher + student + imitation env steps
        cols["budget (env steps)"] = [steps_label(b) if np.isfinite(b) else "" for b in table[BUDGET].astype(float)]
    for col in table.columns:
        if not col.endswith("_mean") or col == "success_mean":
            continue
        prefix = col[: -len("_mean")]
        name = labels.get(prefix, prefix.replace("_", " "))
        if f"{prefix}_ci_low" in table:
            cols[f"{name} [95% CI]"] = [format_ci(m, lo, hi) for m, lo, hi in
                                        zip(table[col], table[f"{prefix}_ci_low"], table[f"{prefix}_ci_high"])]
        else:
            cols[name] = [format_ci(m, np.nan, np.nan) for m in table[col]]
    return df_to_markdown(pd.DataFrame(cols))


def table_markdown(table: pd.DataFrame, labels: Mapping[str, str] | None = None) -> str:
    """Any table of a task's :meth:`~study.task.Task.report_tables` in words: a comparison (it has ``diff``) by
    :func:`comparison_markdown`, a budget table (``poi_sitt``) by :func:`budget_markdown`, a main table
    (``success_mean``) by :func:`main_table_markdown`, else every column."""
    if "poi_sitt" in table:
        return budget_markdown(table)
    if "diff" in table and "poi" in table:
        return comparison_markdown(table)
    if "success_mean" in table:
        return main_table_markdown(table, labels)
    return df_to_markdown(table)


def comparison_markdown(comp: pd.DataFrame) -> str:
    """A comparison/ablation/release-vs-paper table in words: mean [CI], difference [CI], PoI [CI]."""
    cols = {
        "arm": comp["arm"],
        "what": comp.get("label", comp["arm"]),
        "seeds": comp["n_seeds"],
        "mean [95% CI]": [format_ci(m, lo, hi) for m, lo, hi in zip(comp["mean"], comp["ci_low"], comp["ci_high"])],
        "difference vs reference": [format_ci(m, lo, hi) for m, lo, hi in
                                    zip(comp["diff"], comp["diff_ci_low"], comp["diff_ci_high"])],
        "PoI vs reference": [format_ci(m, lo, hi) for m, lo, hi in
                             zip(comp["poi"], comp["poi_ci_low"], comp["poi_ci_high"])],
    }
    if "kind" in comp:
        cols = {"kind": comp["kind"], **cols}
    return df_to_markdown(pd.DataFrame(cols))


def budget_markdown(table: pd.DataFrame) -> str:
    """A budget table (:func:`study.tables.budget_table`) in words: budget, method, arm, seeds, env steps, the
    student's true success [95% CI], the teacher's, and the probability that SITT's student (the budget's first row)
    beats this arm's [95% CI]."""
    steps = table[BUDGET].astype(float)
    cols = {
        "budget": table["budget"],
        "method": table["method"],
        "arm": table["arm"],
        "seeds": table["n_seeds"],
        "env steps": [steps_label(b) if np.isfinite(b) else "" for b in steps],
        "student success [95% CI]": [format_ci(m, lo, hi) for m, lo, hi in
                                     zip(table["student_mean"], table["student_ci_low"], table["student_ci_high"])],
        "teacher success": [format_ci(m, np.nan, np.nan) if np.isfinite(m) else "" for m in
                            table["teacher_mean"].astype(float)],
        "P(SITT's student better) [95% CI]": [
            format_ci(m, lo, hi) if np.isfinite(m) else "" for m, lo, hi in
            zip(table["poi_sitt"].astype(float), table["poi_sitt_ci_low"], table["poi_sitt_ci_high"])],
    }
    return df_to_markdown(pd.DataFrame(cols))


def budget_title(task) -> str:
    """The heading of a task's budget table (:attr:`study.task.Task.budget`) in the report and the README."""
    return (f"{scorecard_mod.task_label(task.name)}: SITT, HLRL, COSIL and no teacher at equal and at twice SITT's "
            f"budget ({task.budget.experiment}; student true success)")


def claims_markdown(claims: pd.DataFrame) -> str:
    return df_to_markdown(claims, columns=["id", "claim", "experiment", "evidence", "verdict"])


def commands(profile: str = "default", root: str = "results/runs", jobs: int = 2,
             seeds: Mapping[tuple[str, ...], str] | None = None) -> dict[str, str]:
    """Command lines (run from the repository root) that regenerate each number, as ``make reproduce`` runs them:
    one sweep per sweep plan of every task (:attr:`study.task.Task.sweeps`: its experiments, arms and seeds;
    ``seeds`` maps a plan's ``(experiments, arms)`` to the seeds actually in the store when they differ), the notebook
    of each
    experiment, the report. Keys name what they produce."""
    py = ".venv/bin/python"
    nb = f"{py} notebooks/run_notebook.py"
    sweep = f"{py} -m study.sweep --profile {profile} --jobs {jobs} --root {root}"
    out = {}
    for name in task_names():
        for plan in get_task(name).sweeps:
            spec = (seeds or {}).get((plan.experiments, plan.arms), plan.seeds)
            arms = f" --arms {','.join(plan.arms)}" if plan.arms else ""
            key = f"runs: {', '.join(plan.experiments)}"
            if key in out:  # a second plan of the same experiments (other arms, other seeds)
                key += f" ({', '.join(plan.arms or ())})"
            out[key] = (
                f"{sweep} --experiment {','.join(plan.experiments)}{arms} --seeds {spec}")
    notebooks = notebook_of()
    for name in task_names():
        for plan in get_task(name).sweeps:
            for exp in plan.experiments:
                if exp in notebooks:
                    out[f"tables + figures: {exp}"] = f"{nb} {notebooks[exp]} --profile {profile}"
    out["everything from existing runs (tables, figures, this report, the README's results)"] = "make figures"
    out["this report"] = f"{nb} {REPORT_NOTEBOOK} --profile {profile}"
    return out


#: the heading and the words over the per-task forest plots (REPORT and README)
LEAD_FIGURES_TITLE = "Student success per arm, task by task"
LEAD_FIGURES_NOTE = (
    "One figure per task, from its main table: each arm's student true success (share of the held-out episodes), "
    "mean over seeds with its 95% bootstrap CI; a red cross marks the paper's number where the paper reports one; "
    "each label gives the arm's training budget in env steps from the runs' provenance (a student that learns from "
    "a trained teacher, BC, DAgger, HLRL, COSIL, counts the teacher's steps too).")


def _figure_lines(figures: Sequence[str | Path], base: Path) -> list[str]:
    """Markdown image lines, paths relative to the report's directory."""
    return [f"![{Path(f).stem}]({Path(os.path.relpath(Path(f).resolve(), base.resolve())).as_posix()})\n\n"
            for f in figures]


def demote_headings(text: str, level: int) -> str:
    """``text`` (markdown) with every heading shallower than ``level`` ``#`` pushed down to ``level``, so that a
    hand-written file can be nested under a generated section."""
    return re.sub(r"^(#+) ", lambda m: "#" * max(len(m.group(1)), level) + " ", text, flags=re.M)


def write_report(
    out: str | Path,
    *,
    claims: pd.DataFrame,
    main: pd.DataFrame | None = None,
    comparisons: Mapping[str, pd.DataFrame] | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
    figures: Sequence[str | Path] = (),
    command_lines: Mapping[str, str] | None = None,
    notes: Mapping[str, Sequence[str]] | None = None,
    profile: str = "default",
    provenance: Mapping[str, str] | None = None,
    title: str = "Student-Informed Teacher Training: reproduction report",
    html_too: bool = True,
    findings: str = "",
    main_title: str = "Main experiment",
    main_note: str = "",
    main_labels: Mapping[str, str] | None = None,
    scorecard: str = "",
    lead_figures: Sequence[str | Path] = (),
) -> Path:
    """Write ``<out>/REPORT.md`` (and ``REPORT.html``): header, the scorecard (``scorecard``: markdown, the paper's
    claims by task, :mod:`study.scorecard`; omitted when empty) and the figures that go with it (``lead_figures``:
    one forest plot per task), the findings in words (``findings``, markdown whose headings are demoted below the
    report's; omitted when empty), claims table with verdict counts and the verdict rules, main table, comparison
    tables, the other figures, easy/hard notes, commands. Both files are written atomically. Returns the markdown
    path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    notes = default_notes() if notes is None else notes
    lines = [f"# {title}\n\n", f"Profile: `{profile}`. Generated by `notebooks/90_report.py` (`make figures`)."]
    for k, v in (provenance or {}).items():
        lines.append(f" {k}: {v}.")
    if scorecard.strip():
        lines.append("\n\n## Scorecard: the paper's claims, task by task\n\n" + scorecard.strip() + "\n")
    if lead_figures:
        lines.append(f"\n## {LEAD_FIGURES_TITLE}\n\n{LEAD_FIGURES_NOTE}\n\n")
        lines.extend(_figure_lines(lead_figures, out))
    if findings.strip():
        lines.append("\n\n## Findings\n\n" + demote_headings(findings, 3).strip() + "\n")
    lines.append("\n\n## Claims\n\n")
    counts = claims["verdict"].value_counts()
    lines.append(", ".join(f"{counts.get(v, 0)} {v}" for v in claims_mod.VERDICTS) + ".\n\n")
    lines.append(claims_markdown(claims))
    lines.append(
        "\nVerdict rules (study/claims.py): numbers are per training seed (share of the held-out episodes), "
        "mean and seeded 95% bootstrap CI over seeds. A level claim is *reproduced* when the CI lies entirely on the "
        "claimed side of its threshold (0.5), *not reproduced* when it lies entirely on the other side, *inconclusive* "
        "otherwise or with fewer than 3 seeds. A comparison claim is *reproduced* when the probability of improvement "
        "over every compared arm has a CI above 0.5, *not reproduced* when one CI stays at or below 0.5; a comparison "
        f"reproduced against a baseline tuned less than the method is *{claims_mod.HELD}* until that baseline gets the "
        "same tuning effort.\n"
    )
    if main is not None and len(main):
        lines.append(f"\n## {main_title}\n\n")
        lines.append(main_table_markdown(main, main_labels))
        if main_note:
            lines.append(f"\n{main_note}\n")
    for name, comp in (comparisons or {}).items():
        if comp is None or len(comp) == 0:
            continue
        ref = comp.attrs.get("reference", "")
        lines.append(f"\n## {name}\n\n")
        if ref:
            lines.append(f"Reference arm: `{ref}`; student true success unless stated.\n\n")
        lines.append(table_markdown(comp))
    for name, table in (extra_tables or {}).items():
        if table is None or len(table) == 0:
            continue
        lines.append(f"\n## {name}\n\n")
        lines.append(df_to_markdown(table))
    if figures:
        lines.append("\n## Figures\n\n")
        lines.extend(_figure_lines(figures, out))
    lines.append("\n## What was easy, what was hard\n\n")
    for key in ("easy", "hard"):
        if notes.get(key):
            lines.append(f"\n**{key.capitalize()}**\n\n")
            lines.extend(f"- {item}\n" for item in notes[key])
    if command_lines:
        lines.append("\n## Commands\n\nRun from the repository root; each line regenerates what its label names.\n\n")
        for label, cmd in command_lines.items():
            lines.append(f"- {label}:\n\n  ```\n  {cmd}\n  ```\n")
    text = "".join(lines)
    path = out / "REPORT.md"
    atomic_write_text(path, text)
    if html_too:
        atomic_write_text(out / "REPORT.html", markdown_to_html(text, title=title))
    return path


def markdown_to_html(text: str, title: str = "report") -> str:
    """Markdown -> a standalone HTML page (mistune, which nbconvert brings; ``<pre>`` without it)."""
    try:
        import mistune  # noqa: PLC0415  (optional: nbconvert brings it; a <pre> page without it)

        body = mistune.create_markdown(plugins=["table"])(text)
    except Exception:  # noqa: BLE001
        body = f"<pre>{html.escape(text)}</pre>"
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px}"
             "img{max-width:100%}code,pre{background:#f4f4f4}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")


def seed_spec(seeds) -> str:
    """Sorted seeds -> the shortest spec :func:`study.params.parse_seeds` reads back (``"0-9"``, ``"0,2,5"``)."""
    seeds = sorted(int(s) for s in set(seeds))
    if not seeds:
        return ""
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return ",".join(map(str, seeds))


def report_tables(task, evals: Mapping[str, pd.DataFrame | None], labels: Mapping[str, str]):
    """A task's tables of the report, ``(main, {title: (file name, table)})``: the task's own
    (:meth:`study.task.Task.report_tables`) and its budget table (:attr:`~study.task.Task.budget`:
    :func:`study.tables.budget_table`, when its experiment has rows); its main table is the generic one
    (:func:`study.tables.main_table` of :attr:`~study.task.Task.main_experiment`'s rows) where the task gives none and
    there are rows."""
    main, others = task.report_tables(evals, labels)
    plan = task.budget
    if plan is not None and evals.get(plan.experiment) is not None:  # the equal-budget experiment, every task alike
        others = {**others, budget_title(task): (plan.experiment, budget_table(evals[plan.experiment], plan.readings,
                                                                               task=task))}
    first = task.main_experiment
    if main is None and first is not None and evals.get(first) is not None:
        main = main_table(evals[first], task=task)
    return main, others


def build_report(profile: str, root: str | Path, out: str | Path, jobs: int = 2,
                 findings_file: str | Path | None = None,
                 notes: Mapping[str, Sequence[str]] | None = None) -> dict:
    """Everything the report notebook shows, from the runs: every task's evaluation rows, its tables
    (:meth:`study.task.Task.report_tables`, saved under ``<out>/tables``), the claims table of every task's claims
    (:meth:`study.task.Task.report_claims`, saved as ``claims.csv``) and ``<out>/REPORT.md`` / ``.html`` with the
    figures found under ``<out>/figures`` and the hand-written findings (``findings_file``, default
    ``<out>/FINDINGS.md``). Returns ``{"evals", "main", "tables", "claims", "path"}``."""
    out = Path(out)
    evals, tables, claim_list, main, main_task, mains = {}, {}, [], None, None, {}
    labels = arm_labels()
    for name in task_names():
        task = get_task(name)
        task_evals = {}
        for experiment in task.experiments:
            task_evals[experiment], message = load.eval_rows(root, experiment, study_profile(experiment, profile))
            print(message)
        evals.update(task_evals)
        task_main, task_tables = report_tables(task, task_evals, labels)
        if task_main is not None:  # saved under the task's first experiment (the maze: main.csv)
            save_table(task_main, out, task.main_experiment)
            mains[name] = (task, task_main)
            if main is None:
                main, main_task = task_main, task
        for title, (file, table) in task_tables.items():
            save_table(table, out, file)
            tables[title] = table
        claim_list += list(task.report_claims(task_evals, labels))
    claims_df = claims_mod.claims_table(evals, claim_list)
    save_table(claims_df, out, "claims")
    paper = scorecard_mod.paper_numbers(out / "tables")
    cells = scorecard_mod.scorecard_cells(claims_df, paper=paper)
    save_table(scorecard_mod.scorecard_table(cells), out, "scorecard")
    card = (scorecard_mod.scorecard_markdown(cells) + "\n" + scorecard_mod.scorecard_notes(cells, claims_df)
            if len(cells) else "")
    forests = []
    for name, (task, task_main) in mains.items():
        fig = forest_figure(task, task_main, root, paper)
        forests.append(save_figure(fig, out, f"{FOREST_PREFIX}{name}"))
    figure_dir = out / "figures"
    found = sorted(figure_dir.glob("*.png")) if figure_dir.is_dir() else []
    first = [p for p in found if p.stem == "paper_maze"]
    figures = first + [p for p in found if p not in first and not p.stem.startswith(FOREST_PREFIX)]
    plan_seeds = {}
    for name in task_names():
        for plan in get_task(name).sweeps:
            present = [s for e in plan.experiments if evals.get(e) is not None
                       for s in evals[e].loc[evals[e]["arm"].isin(plan.arms) if plan.arms else slice(None),
                                             "seed"].unique()]
            if present:
                plan_seeds[(plan.experiments, plan.arms)] = seed_spec(present)
    findings_file = Path(findings_file) if findings_file is not None else out / "FINDINGS.md"
    findings = findings_file.read_text(encoding="utf-8") if findings_file.is_file() else ""
    shown_root = paths.display(root)  # relative to the repository root: no machine's path in the report
    path = write_report(
        out, claims=claims_df, main=main, comparisons=tables, figures=figures,
        command_lines=commands(profile, shown_root, jobs, plan_seeds), notes=notes, profile=profile,
        provenance={"runs": shown_root}, findings=findings, scorecard=card, lead_figures=forests,
        **(dict(main_title=main_task.main_title, main_note=main_task.main_note, main_labels=main_task.main_labels)
           if main_task is not None else {}),
    )
    return dict(evals=evals, main=main, tables=tables, claims=claims_df, scorecard=cells, path=path)


#: the file name prefix of the per-task forest plots (``<out>/figures/forest_<task>.png``)
FOREST_PREFIX = "forest_"


def forest_figure(task, main: pd.DataFrame, root: str | Path, paper: Mapping[tuple[str, str], float]):
    """The forest plot of one task (:func:`study.figures.forest_plot`): its main table's student success per arm, the
    paper's number (``paper``: :func:`study.scorecard.paper_numbers`) and each arm's budget from the runs under
    ``root``."""
    experiment = task.main_experiment
    own_paper = {arm: v for (exp, arm), v in paper.items() if exp == experiment}
    rows = scorecard_mod.forest_rows(main, own_paper, scorecard_mod.arm_budgets(root, experiment))
    seeds = sorted(set(int(n) for n in main.loc[main["policy"] == "student", "n_seeds"]))
    n = f"{seeds[0]} seeds" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]} seeds"
    title = f"{scorecard_mod.task_label(task.name)} ({experiment}, {n}): student true success"
    return figures_mod.forest_plot(rows, title=title)
