"""The README's results section, written from the study's tables and the runs' provenance (``make figures`` calls it).

The section sits between :data:`BEGIN` and :data:`END` in ``README.md``; :func:`update_readme` replaces what is
between them (atomically) and leaves the rest of the file alone. Every number in it comes from ``results/tables/*.csv``
(written by the notebooks) or from the ``provenance.json`` of the complete runs under ``results/runs``.

Command line::

    python -m study.readme [--readme README.md] [--tables results/tables] [--runs results/runs] [--jobs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np
import pandas as pd

from study import scorecard
from study.registry import get_task, task_names
from study.report import (FOREST_PREFIX, LEAD_FIGURES_NOTE, LEAD_FIGURES_TITLE, budget_title, claims_markdown,
                          demote_headings, main_table_markdown, table_markdown)
from study.store import atomic_write_text

BEGIN = "<!-- results:begin (written by `python -m study.readme`; edits between these lines are lost) -->"
END = "<!-- results:end -->"


#: arms (and training kinds, as a run's marker names them) whose env-steps/s counts only their imitation steps (left
#: out of the training-speed range): also a task's other imitation arms, e.g. the flight task's view controls
IMITATION_ARMS = ("bc", "dagger")


def studies() -> tuple[str, ...]:
    """The experiments of every task's sweep plans (:attr:`study.task.Task.sweeps`), in plan order."""
    return tuple(dict.fromkeys(e for t in task_names() for plan in get_task(t).sweeps for e in plan.experiments))


def run_records(runs_root: str | Path, experiments: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per complete run of ``experiments``: experiment, arm, kind (the training kind its marker names, None
    when it names none), seed, copied (a copy of the same run made under another name), wall_s, train_s,
    env_steps_per_s, started_at, finished_at, cpu, cpu_count, commit, dirty."""
    rows: list[dict[str, Any]] = []
    for experiment in studies() if experiments is None else experiments:
        for marker in sorted(Path(runs_root).glob(f"{experiment}/*/seed_*/COMPLETE")):
            prov = json.loads((marker.parent / "provenance.json").read_text())
            try:
                kind = json.loads(marker.read_text() or "{}").get("kind")
            except (ValueError, AttributeError):
                kind = None
            rows.append(dict(
                experiment=experiment,
                arm=marker.parent.parent.name,
                kind=kind,
                seed=int(marker.parent.name.split("_", 1)[1]),
                copied=prov.get("reused_from") is not None,
                wall_s=float(prov["wall_s"]),
                train_s=float(prov.get("train_s") or 0.0),
                env_steps_per_s=prov.get("env_steps_per_s"),
                started_at=prov.get("started_at"),
                finished_at=prov.get("finished_at"),
                cpu=prov.get("cpu"),
                cpu_count=prov.get("cpu_count"),
                commit=(prov.get("git") or {}).get("commit"),
                dirty=(prov.get("git") or {}).get("dirty"),
            ))
    columns = ["experiment", "arm", "kind", "seed", "copied", "wall_s", "train_s", "env_steps_per_s", "started_at",
               "finished_at", "cpu", "cpu_count", "commit", "dirty"]
    return pd.DataFrame(rows, columns=columns)


def timing_summary(records: pd.DataFrame, jobs: int = 2) -> pd.DataFrame:
    """Per experiment (and ``"all"``): runs, trained (not copied), seeds, run-minutes (sum of ``wall_s`` over trained
    runs), the wall-clock minutes that makes on ``jobs`` parallel processes (run-minutes / jobs), and the range of
    env-steps/s of the PPO trainings (BC/DAgger runs, whose rate counts only their imitation steps, are left out)."""
    out = []
    groups = [(e, records[records["experiment"] == e]) for e in records["experiment"].unique()] + [("all", records)]
    for name, df in groups:
        trained = df[~df["copied"].astype(bool)]
        imitation = trained["arm"].isin(IMITATION_ARMS) | trained["kind"].isin(IMITATION_ARMS)
        rates = trained.loc[~imitation, "env_steps_per_s"].dropna().astype(float)
        out.append(dict(
            experiment=name,
            runs=len(df),
            trained=len(trained),
            copied=int(df["copied"].sum()),
            seeds=len(df["seed"].unique()),
            run_minutes=trained["wall_s"].sum() / 60.0,
            wall_minutes_on_jobs=trained["wall_s"].sum() / 60.0 / jobs,
            steps_per_s_min=rates.min() if len(rates) else np.nan,
            steps_per_s_max=rates.max() if len(rates) else np.nan,
        ))
    return pd.DataFrame(out)


def _seed_range(seeds: Sequence[int]) -> str:
    seeds = sorted(set(int(s) for s in seeds))
    if not seeds:
        return "none"
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])
    return ",".join(map(str, seeds))


def _profile_lines() -> list[str]:
    """One line per task: its default profile's description and its held-out evaluation config."""
    out = []
    for name in task_names():
        task = get_task(name)
        prof = task.profiles["default"]
        ev = prof.eval if prof.eval is not None else task.eval_config()
        held = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(ev).items())
        out.append(f"Default profile of `{name}`: {prof.description}; held-out evaluation: {held}.")
    return out


def _task_sections(tables: Path) -> list[str]:
    """The part of every task that has a sweep plan and a written main table (``<tables>/<first experiment>.csv``, as
    :func:`study.report.build_report` saves it), in registry order: heading :attr:`~study.task.Task.readme_title`
    (default its main title), its note, the main table, its figure (:attr:`~study.task.Task.readme_figure`) and its
    other tables (:attr:`~study.task.Task.readme_tables`, then its budget table: :attr:`~study.task.Task.budget`) where
    they were written."""
    lines: list[str] = []
    for name in task_names():
        task = get_task(name)
        path = tables / f"{task.main_experiment}.csv"
        if not task.sweeps or not path.exists():
            continue
        note = task.readme_note or f"Task `{name}` (table `{path.as_posix()}`). {task.main_note}"
        lines += ["", f"### {task.readme_title or task.main_title}", "", note, "",
                  main_table_markdown(pd.read_csv(path), task.main_labels).rstrip()]
        if task.readme_figure is not None:
            stem, alt, words = task.readme_figure
            figure = tables.parent / "figures" / f"{stem}.png"
            if figure.exists():
                lines += ["", f"![{alt}]({figure.as_posix()})"] + (["", words] if words else [])
        others = dict(task.readme_tables)
        if task.budget is not None:  # the equal-budget table (study.report.report_tables writes it)
            others[task.budget.experiment] = budget_title(task)
        for file, title in others.items():
            table = tables / f"{file}.csv"
            if table.exists():
                lines += ["", f"### {title}", "", table_markdown(pd.read_csv(table), task.main_labels).rstrip()]
    return lines


def _scorecard_lines(tables: Path) -> list[str]:
    """The scorecard (:mod:`study.scorecard`, from ``<tables>/claims.csv`` and the tables against the paper) and the
    per-task forest plots found under ``<tables>/../figures`` (``forest_<task>.png``, written by the report notebook),
    in the registry's task order; nothing when there is no claims table."""
    lines: list[str] = []
    path = tables / "claims.csv"
    if path.exists():
        claims = pd.read_csv(path)
        cells = scorecard.scorecard_cells(claims, paper=scorecard.paper_numbers(tables))
        if len(cells):
            lines += ["", "### Scorecard: the paper's claims, task by task", "",
                      scorecard.scorecard_markdown(cells).rstrip(), "",
                      scorecard.scorecard_notes(cells, claims).rstrip()]
    figures = [tables.parent / "figures" / f"{FOREST_PREFIX}{name}.png" for name in task_names()]
    figures = [f for f in figures if f.exists()]
    if figures:
        lines += ["", f"### {LEAD_FIGURES_TITLE}", "", LEAD_FIGURES_NOTE]
        for figure in figures:
            name = figure.stem[len(FOREST_PREFIX):]
            lines += ["", f"![{scorecard.task_label(name)}: student true success per arm]({figure.as_posix()})"]
    return lines


def readme_section(tables: str | Path, runs_root: str | Path, jobs: int = 2, extra: str = "") -> str:
    """The README's results section (markdown, between :data:`BEGIN` and :data:`END`) from ``tables`` (the CSVs the
    notebooks wrote) and the runs under ``runs_root``: the scorecard and the per-task forest plots first, then
    ``extra``, the findings in words (markdown), under a "Findings" heading with its own headings demoted, then the
    runs' cost and the tables."""
    tables = Path(tables)
    records = run_records(runs_root)
    if records.empty:
        raise ValueError(f"runs_root: no complete run of {', '.join(studies())} under {runs_root}")
    timing = timing_summary(records, jobs=jobs).set_index("experiment")
    trained = records[~records["copied"]]
    # the runs of a store may come from several machines of one size: every CPU model they name
    cpus = ", ".join(sorted(set(trained["cpu"].dropna().astype(str)))) or "unknown CPU"
    machine = f"{trained['cpu_count'].iloc[0]} cores ({cpus})"
    first, last = min(trained["started_at"])[:16], max(trained["finished_at"])[:16]
    span = f"{first.replace('T', ' ')} to {last.replace('T', ' ')} UTC"
    seeds = {e: _seed_range(records.loc[records["experiment"] == e, "seed"]) for e in records["experiment"].unique()}
    lines = [BEGIN, "## Results of the study"]
    lines += _scorecard_lines(tables)
    if extra.strip():
        lines += ["", "### Findings", "", demote_headings(extra, 4).strip()]
    lines += [
        "",
        "### The runs and what they cost",
        "",
        *_profile_lines(),
        f"Machine: {machine}, one torch thread per run, {jobs} runs at a time.",
        "",
        "| study | seeds | runs | trained | copied | run-minutes | wall minutes on "
        f"{jobs} cores | env-steps/s of the trainings |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in timing.reset_index().itertuples(index=False):
        name = row.experiment
        rate = (f"{row.steps_per_s_min / 1e3:.0f}k-{row.steps_per_s_max / 1e3:.0f}k"
                if np.isfinite(row.steps_per_s_min) else "")
        lines.append(f"| {name} | {seeds.get(name, '')} | {int(row.runs)} | {int(row.trained)} | {int(row.copied)} | "
                     f"{row.run_minutes:.0f} | {row.wall_minutes_on_jobs:.0f} | {rate} |")
    lines += [
        "",
        f"The runs were made from {span}, by `make reproduce` and the sweeps it runs, resumed across sessions "
        "(complete runs are never redone); wall minutes = run-minutes / parallel jobs. \"copied\": the same run "
        "under another study's name (e.g. `sitt_release` of the ablations is `main/sitt_release`), copied with "
        "`reused_from` in its provenance instead of being trained again.",
    ]
    lines += _task_sections(tables)
    claims = tables / "claims.csv"
    if claims.exists():
        lines += ["", "### Claims", "", "Rules in `study/claims.py` (a verdict needs at least 3 seeds and a CI "
                  "on one side of the threshold).", "", claims_markdown(pd.read_csv(claims)).rstrip()]
    lines += ["", "Regenerate every table and figure from the committed run records: `make figures`; "
              "the full report with figures: `results/REPORT.md`.", END]
    return "\n".join(lines) + "\n"


def update_readme(readme: str | Path, section: str) -> Path:
    """Replace the text from :data:`BEGIN` to :data:`END` in ``readme`` with ``section`` (atomic write); raise
    ``ValueError`` when the markers are missing, leaving the file untouched."""
    path = Path(readme)
    text = path.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"readme: {path} lacks the markers {BEGIN!r} ... {END!r}; add them where the section goes")
    if not section.startswith(BEGIN) or not section.rstrip().endswith(END):
        raise ValueError("section: must start with BEGIN and end with END (use readme_section)")
    new = text[:start] + section.rstrip("\n") + text[end + len(END):]
    atomic_write_text(path, new)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m study.readme", description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", default="README.md")
    parser.add_argument("--tables", default="results/tables")
    parser.add_argument("--runs", default="results/runs")
    parser.add_argument("--jobs", type=int, default=2, help="parallel runs the wall time is quoted for (default 2)")
    parser.add_argument("--findings", default="results/FINDINGS.md",
                        help="a markdown paragraph (in words) appended to the section, if the file exists")
    args = parser.parse_args(argv)
    try:
        findings = Path(args.findings)
        extra = findings.read_text() if findings.exists() else ""
        update_readme(args.readme, readme_section(args.tables, args.runs, jobs=args.jobs, extra=extra))
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.readme}: results section rewritten", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
