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
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from study.store import atomic_write_text
from study.tables import format_ci

__all__ = ["DEFAULT_NOTES", "NOTEBOOK_OF", "df_to_markdown", "main_table_markdown", "comparison_markdown",
           "claims_markdown", "commands", "write_report", "markdown_to_html"]

#: which notebook writes which experiment's tables and figures
NOTEBOOK_OF = {
    "budget_search": "10_budget_search",
    "main": "20_maze_main",
    "ablations": "30_ablations",
    "release_vs_paper": "40_release_vs_paper",
    "report": "90_report",
}

DEFAULT_NOTES = {
    "easy": [
        "The color maze: a vectorised numpy env reproduces the release transition for transition and steps "
        "1.5-2.4M env-steps/s at 1000 envs, so the environment never limits the study.",
        "SITT as an SB3 PPO subclass: the roll-out reward term, the policy-update term and the alignment phase are "
        "each one method, switchable field by field (recipe `release` or `paper`, every ablation).",
        "Separating the release's evaluation metric (any termination) from true success: both come from the same "
        "roll-outs, so every table reports both.",
    ],
    "hard": [
        "Budget: the release trains 1e8 steps per run (4.5-7.5 h for SITT on 2 CPU cores); a multi-seed study needs "
        "a reduced profile, and the schedule (roll-out length, minibatching) decides which route the plain teacher "
        "learns. The default profile's schedule is itself a finding (see the budget search).",
        "The release and the paper disagree on the reward sign (+KL bonus vs -KL penalty) and the update term "
        "(feature L1 vs KL); only measuring each difference on its own tells which produces the paper's figure.",
        "The paper reports the maze qualitatively (one figure, no numbers, no seeds): the thresholds that turn "
        "'goes through the path' or 'fails' into a verdict are ours (documented in study/claims.py).",
        "rliable 1.2 does not import under pandas 3 (its `arch` dependency fails at import): intervals are our "
        "own seeded stratified bootstrap, which follows rliable's definitions.",
    ],
}


def _fmt(v, floatfmt: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return format(float(v), floatfmt)
    return str(v).replace("|", "\\|").replace("\n", " ")


def df_to_markdown(df: pd.DataFrame, floatfmt: str = ".2f", columns: Sequence[str] | None = None) -> str:
    """A GitHub markdown table of ``df`` (no index); NaN as empty cells, pipes escaped."""
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    if df.empty and len(df.columns) == 0:
        return "_(empty)_\n"
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_fmt(v, floatfmt) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body]) + "\n"


def main_table_markdown(table: pd.DataFrame) -> str:
    """The main table in words: arm, policy, seeds, true success mean [95% CI], IQM, detour share, path share, the
    release's metric."""
    rows = pd.DataFrame({
        "arm": table["arm"],
        "policy": table["policy"],
        "seeds": table["n_seeds"],
        "true success [95% CI]": [format_ci(m, lo, hi) for m, lo, hi in
                                  zip(table["success_mean"], table["success_ci_low"], table["success_ci_high"])],
        "IQM": [format_ci(m, np.nan, np.nan) for m in table["success_iqm"]],
        "detour share [95% CI]": [format_ci(m, lo, hi) for m, lo, hi in
                                  zip(table["detour_mean"], table["detour_ci_low"], table["detour_ci_high"])],
        "path share": [format_ci(m, np.nan, np.nan) for m in table["path_mean"]],
        "release metric": [format_ci(m, np.nan, np.nan) for m in table["release_success_mean"]],
    })
    return df_to_markdown(rows)


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


def claims_markdown(claims: pd.DataFrame) -> str:
    return df_to_markdown(claims, columns=["id", "claim", "experiment", "evidence", "verdict"])


MAIN_ARMS = ("without_alignment", "bc", "dagger", "sitt_release", "sitt_paper")  # the Makefile's MAIN_ARMS


def commands(profile: str = "default", seeds: int = 10, root: str = "results/runs", jobs: int = 2,
             ablation_seeds: int | None = None) -> dict[str, str]:
    """Command lines (run from the repository root) that regenerate each number, as ``make reproduce`` runs them:
    the main sweep (``seeds`` seeds, the Makefile's ``MAIN_ARMS``), the release-vs-paper and ablation sweep (seed by
    seed over both studies, ``ablation_seeds`` seeds, default ``seeds``), the notebook of each study, the report.
    Keys name what they produce."""
    py = ".venv/bin/python"
    nb = f"{py} notebooks/run_notebook.py"
    sweep = f"{py} -m study.sweep --profile {profile} --jobs {jobs} --root {root}"
    k = seeds if ablation_seeds is None else ablation_seeds
    out = {
        "runs: main": f"{sweep} --experiment main --arms {','.join(MAIN_ARMS)} --seeds 0-{seeds - 1}",
        "runs: release_vs_paper, ablations": f"{sweep} --experiment release_vs_paper,ablations --seeds 0-{k - 1}",
    }
    for exp in ("main", "ablations", "release_vs_paper"):
        out[f"tables + figures: {exp}"] = f"{nb} {NOTEBOOK_OF[exp]} --profile {profile}"
    out["everything from existing runs (tables, figures, this report, the README's results)"] = "make figures"
    out["this report"] = f"{nb} 90_report --profile {profile}"
    return out


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
) -> Path:
    """Write ``<out>/REPORT.md`` (and ``REPORT.html``): header, the findings in words (``findings``, markdown whose
    headings are demoted below the report's; omitted when empty), claims table with verdict counts and the verdict
    rules, main table, comparison tables, figures, easy/hard notes, commands. Both files are written atomically.
    Returns the markdown path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    notes = DEFAULT_NOTES if notes is None else notes
    lines = [f"# {title}\n\n", f"Profile: `{profile}`. Generated by `notebooks/90_report.py` (`make figures`)."]
    for k, v in (provenance or {}).items():
        lines.append(f" {k}: {v}.")
    if findings.strip():
        lines.append("\n\n## Findings\n\n" + demote_headings(findings, 3).strip() + "\n")
    lines.append("\n\n## Claims\n\n")
    counts = claims["verdict"].value_counts()
    lines.append(", ".join(f"{counts.get(v, 0)} {v}" for v in ("reproduced", "not reproduced", "inconclusive")) + ".\n\n")
    lines.append(claims_markdown(claims))
    lines.append(
        "\nVerdict rules (study/claims.py): numbers are per training seed (share of the held-out mazes), "
        "mean and seeded 95% bootstrap CI over seeds. A level claim is *reproduced* when the CI lies entirely on the "
        "claimed side of its threshold (0.5), *not reproduced* when it lies entirely on the other side, *inconclusive* "
        "otherwise or with fewer than 3 seeds. A comparison claim is *reproduced* when the probability of improvement "
        "over every compared arm has a CI above 0.5, *not reproduced* when one CI stays at or below 0.5.\n"
    )
    if main is not None and len(main):
        lines.append("\n## Main experiment: the paper's maze figure in numbers\n\n")
        lines.append(main_table_markdown(main))
        lines.append("\nShares are over the held-out mazes of each run (path + detour + failed = 1); the release "
                     "metric counts any termination within the 100 evaluation steps as success (lava included).\n")
    for name, comp in (comparisons or {}).items():
        if comp is None or len(comp) == 0:
            continue
        ref = comp.attrs.get("reference", "")
        lines.append(f"\n## {name}\n\n")
        if ref:
            lines.append(f"Reference arm: `{ref}`; student true success unless stated.\n\n")
        lines.append(comparison_markdown(comp))
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
        import mistune  # noqa: PLC0415

        body = mistune.create_markdown(plugins=["table"])(text)
    except Exception:  # noqa: BLE001
        body = f"<pre>{html.escape(text)}</pre>"
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px}"
             "img{max-width:100%}code,pre{background:#f4f4f4}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")
