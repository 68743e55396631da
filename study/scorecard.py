"""The scorecard: the paper's claims as rows, the tasks as columns, each cell the verdict of the claims table with its
key number and CI (and the paper's number where the paper has one); and the per-task forest data (student success per
arm with its CI, the paper's number, the arm's training budget).

Everything here is computed from what the study already wrote: the claims table (``results/tables/claims.csv``,
:func:`study.claims.claims_table`), the tasks' tables against the paper (``results/tables/<experiment>_vs_paper.csv``)
and the runs' provenance (``env_steps``). Nothing is decided here: a cell shows the claim's own verdict.

Which claim goes in which cell is data, defined once:

* the column is the claim's task, found from its experiment (:func:`study.presets.task_of`);
* the row is found from the claim's id: :data:`ROWS` lists, per row, the ids (fnmatch patterns) it takes, written
  without the tag a task may put in front of its ids (``fov:``, ``od:``, ``mg:``; :func:`claim_stem`), so the maze's
  ``g:hlrl``, the flight task's ``fov:g:hlrl`` and the drawer's ``od:g:hlrl`` all land in the row "SITT's student beats
  HLRL's";
* the claims deliberately left out of the scorecard (the study's own claims, repeats under another schedule) are
  :data:`LEFT_OUT`, each with its reason. ``tests/test_scorecard.py`` checks that every claim of every registered task
  is in a row or in :data:`LEFT_OUT`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from study import presets
from study.budget import arm_budgets, steps_label
from study.markdown import df_to_markdown
from study.registry import get_task, task_names
from study.tables import format_ci

__all__ = ["Row", "ROWS", "LEFT_OUT", "TASK_LABELS", "claim_stem", "row_of", "left_out_reason", "experiment_tasks",
           "task_of", "task_label", "paper_numbers", "scorecard_cells", "scorecard_table", "scorecard_markdown",
           "scorecard_notes", "arm_budgets", "budget_label", "forest_rows"]


@dataclass(frozen=True)
class Row:
    """One row of the scorecard: ``label`` (the claim in words), ``ids`` (claim ids without a task's tag, fnmatch
    patterns) and, for rows that read one arm out of a claim against several (the maze's ``g``: SITT's student
    beats BC, DAgger and the without-alignment student), ``versus``: the arm whose comparison the cell shows;
    ``sitt``: whether the claim's own arm is SITT's (False for the no-teacher control's rows, whose claim reads HLRL's
    student against PPO on the student's view alone)."""

    label: str
    ids: tuple[str, ...]
    versus: str | None = None
    sitt: bool = True


#: the scorecard's rows, in reading order
ROWS: tuple[Row, ...] = (
    Row("Premise (the task, not SITT): a student imitates a teacher that keeps what it needs in view better than one "
        "that does not (BC; DAgger)", ("premise:*",)),
    Row("The plain teacher takes a shortcut its student cannot see", ("a",)),
    Row("Students of the plain teacher fail (BC, DAgger, aligned without SITT's terms)", ("b", "c", "e")),
    Row("SITT's teacher adapts its behaviour to its student (maze: detours; flight: smaller velocity angle; "
        "drawer: handle kept in view)", ("d", "p1", "vis", "vis_seeds")),
    Row("SITT's teacher keeps more obstacles in view", ("p2",)),
    Row("SITT's teacher does better at its own task (higher return; fewer grasp attempts)", ("ret", "att")),
    Row("SITT's student succeeds (on more than half of the held-out episodes)", ("f",)),
    Row("SITT's student beats BC's", ("g:bc", "g"), versus="bc"),
    Row("SITT's student beats DAgger's", ("g:dagger", "g"), versus="dagger"),
    Row("SITT's student beats the student aligned without SITT's terms", ("g:without_alignment", "g"),
        versus="without_alignment"),
    Row("SITT's student beats HLRL's", ("g:hlrl",), versus="hlrl"),
    Row("SITT's student beats DWBC's", ("g:dwbc",), versus="dwbc"),
    Row("SITT's student beats COSIL's", ("g:cosil",), versus="cosil"),
    Row("Each ablation is worse: policy-update term only (reward term off)", ("abl:kl_gradient_only",),
        versus="kl_gradient_only"),
    Row("Each ablation is worse: roll-out reward term only (update term off)", ("abl:penalty_only",),
        versus="penalty_only"),
    Row("Each ablation is worse: no shared head", ("abl:no_shared_head",), versus="no_shared_head"),
    Row("lambda1 robustness: half the reward coefficient does as well", ("l1",)),
    Row("The other recipe's student beats BC's, DAgger's and the without-alignment student's", ("g'",)),
    # SITT at its tuned coefficients (the task's grid on the tuning seeds, fair_comparison.md section 2), against each
    # baseline's reported arm (with executed-action distances where they helped that baseline on the tuning seeds)
    Row("SITT at its tuned coefficients: its teacher adapts (flight: smaller velocity angle; drawer: handle kept in "
        "view, on average; per seed)",
        ("tuned:vis", "tuned:vis_seeds", "tuned:p1")),
    Row("SITT at its tuned coefficients: its teacher keeps more obstacles in view", ("tuned:p2",)),
    Row("SITT at its tuned coefficients: its student beats SITT's at the paper's coefficients", ("tuned:paper",)),
    Row("SITT at its tuned coefficients: its student beats BC's", ("tuned:g:bc", "tuned:g:bc_clipped")),
    Row("SITT at its tuned coefficients: its student beats DAgger's", ("tuned:g:dagger", "tuned:g:dagger_clipped")),
    Row("SITT at its tuned coefficients: its student beats the student aligned without SITT's terms",
        ("tuned:g:without_alignment",)),
    Row("SITT at its tuned coefficients: its student beats HLRL's (HLRL at twice SITT's budget)", ("tuned:g:hlrl",)),
    Row("SITT at its tuned coefficients: its student beats DWBC's", ("tuned:g:dwbc",)),
    Row("SITT at its tuned coefficients: its student beats COSIL's (COSIL at twice SITT's budget)",
        ("tuned:g:cosil",)),
    # the tuned comparison read again with the alignment schedule each arm adopted on the tuning seeds
    # (study.presets.AlignSchedules.adopted_claims; the without-alignment student is read at its own adopted schedule)
    Row("SITT tuned, with its adopted alignment schedule: its student beats SITT tuned's at the profile's schedule",
        ("tuned_align:tuned",)),
    Row("SITT tuned, with the adopted alignment schedules: its student beats BC's",
        ("tuned_align:g:bc", "tuned_align:g:bc_clipped")),
    Row("SITT tuned, with the adopted alignment schedules: its student beats DAgger's",
        ("tuned_align:g:dagger", "tuned_align:g:dagger_clipped")),
    Row("SITT tuned, with the adopted alignment schedules: its student beats the student aligned without SITT's terms "
        "(at its own adopted schedule)", ("tuned_align:g:without_alignment", "tuned_align:g:without_alignment_align")),
    Row("SITT tuned, with the adopted alignment schedules: its student beats HLRL's (HLRL at twice SITT's budget)",
        ("tuned_align:g:hlrl",)),
    Row("SITT tuned, with the adopted alignment schedules: its student beats DWBC's", ("tuned_align:g:dwbc",)),
    Row("SITT tuned, with the adopted alignment schedules: its student beats COSIL's (COSIL at twice SITT's budget)",
        ("tuned_align:g:cosil",)),
    # every comparison at an equal budget (fair_comparison.md section 1): HLRL's and COSIL's teacher and student share
    # SITT's env steps (the rows "beats HLRL's / COSIL's" above read them at twice SITT's budget)
    Row("SITT's student beats HLRL's at equal budget (HLRL's teacher and student share SITT's env steps)",
        ("g:hlrl_eq",), versus="hlrl_eq"),
    Row("SITT's student beats COSIL's at equal budget (COSIL's teacher and student share SITT's env steps)",
        ("g:cosil_eq",), versus="cosil_eq"),
    Row("The teacher helps: HLRL's student beats PPO on the student's view alone (no teacher), at equal budget",
        ("teacher_helps",), versus="student_rl", sitt=False),
    Row("At twice SITT's budget (HLRL's and COSIL's teacher + student): SITT's student, trained twice as long, beats "
        "HLRL's", ("2x:hlrl",), versus="hlrl"),
    Row("At twice SITT's budget: SITT's student, trained twice as long, beats COSIL's", ("2x:cosil",), versus="cosil"),
    Row("At twice SITT's budget: the teacher helps (HLRL's student beats PPO on the student's view alone trained as "
        "long)", ("2x:teacher_helps",), versus="student_rl_2x", sitt=False),
)

#: claim ids (without a task's tag, fnmatch patterns) deliberately left out of the scorecard -> why
LEFT_OUT: Mapping[str, str] = {
    "h:*": "the maze figure's claims again under the authors' schedule (5 seeds)",
    "d'": "the other recipe's teacher on the maze (its student's comparison is the last row)",
    "f'": "the other recipe's student level on the maze (its comparison is the last row)",
    "r[0-9]*": "the study's own claims about the release (reward sign, evaluation metric)",
    "v1": "a control of the flight task's student view (the study's, not the paper's)",
    "teacher": "the study's check that the task can be learnt in the budget",
}

#: a task's column heading; a task not named here is headed by its registry name
TASK_LABELS: Mapping[str, str] = {
    "color_maze": "maze",
    "fov_flight": "flight",
    "occluded_drawer": "drawer",
    "minigrid_lava": "MiniGrid",
}

#: what a cell shows where the claim is not asked of that task (markdown only; the CSV leaves the cell empty)
EMPTY = "–"

_NUMBER = r"-?\d+(?:\.\d+)?"
_CI = rf"({_NUMBER}) \[({_NUMBER}), ({_NUMBER})\]"
#: one comparison of a "better" claim's evidence: ``bc 0.00 [0.00, 0.00], PoI 0.85 [0.70, 1.00]``
_VERSUS = re.compile(rf"(?:^|; |\) vs )(\S+) {_CI}, PoI(?: \(lower is better\))? {_CI}")
_POI = re.compile(rf"PoI(?: \(lower is better\))? {_CI}")
_LEVEL = re.compile(rf"\(claim: ([<>]) ({_NUMBER})\)")


# --------------------------------------------------------------------------------------------- which cell


def _matches(stem: str, patterns) -> bool:
    return any(fnmatch.fnmatchcase(stem, p) for p in patterns)


def _known(stem: str, rows: Sequence[Row], left_out: Mapping[str, str]) -> bool:
    return any(_matches(stem, r.ids) for r in rows) or _matches(stem, left_out)


def claim_stem(claim_id: str, rows: Sequence[Row] = ROWS, left_out: Mapping[str, str] = LEFT_OUT) -> str:
    """The claim's id without its task's tag: the id itself when a row or :data:`LEFT_OUT` names it, else the id
    without its first ``tag:`` (``fov:g:hlrl`` -> ``g:hlrl``, ``mg:g'`` -> ``g'``; the maze's ``g:hlrl`` stays)."""
    if _known(claim_id, rows, left_out) or ":" not in claim_id:
        return claim_id
    return claim_id.split(":", 1)[1]


def row_of(claim_id: str, rows: Sequence[Row] = ROWS, left_out: Mapping[str, str] = LEFT_OUT) -> list[Row]:
    """The rows a claim appears in (none for a claim left out or unknown; several for a joint claim)."""
    stem = claim_stem(claim_id, rows, left_out)
    return [r for r in rows if _matches(stem, r.ids)]


def left_out_reason(claim_id: str, rows: Sequence[Row] = ROWS, left_out: Mapping[str, str] = LEFT_OUT) -> str | None:
    """Why a claim is not in the scorecard (:data:`LEFT_OUT`); None for a claim in a row or an unknown one."""
    stem = claim_stem(claim_id, rows, left_out)
    if any(_matches(stem, r.ids) for r in rows):
        return None
    return next((why for pattern, why in left_out.items() if fnmatch.fnmatchcase(stem, pattern)), None)


def experiment_tasks() -> dict[str, str]:
    """experiment -> task, for every experiment of every registered task."""
    return {e: name for name in task_names() for e in get_task(name).experiments}


def task_of(experiment: str) -> str:
    """The task of an experiment (:func:`study.presets.task_of`: a tagged copy's is its base experiment's); the
    experiment's own name when no registered task names it."""
    try:
        return presets.task_of(experiment)
    except ValueError:
        return experiment


def task_label(task: str) -> str:
    return TASK_LABELS.get(task, task)


def paper_numbers(tables: str | Path) -> dict[tuple[str, str], float]:
    """``(experiment, arm) -> the paper's student success`` from every ``<tables>/<experiment>_vs_paper.csv`` (the
    tables the task notebooks write against the paper's tables: ``arm, ..., paper_mean``)."""
    out: dict[tuple[str, str], float] = {}
    for path in sorted(Path(tables).glob("*_vs_paper.csv")):
        df = pd.read_csv(path)
        if not {"arm", "paper_mean"} <= set(df.columns):
            continue
        experiment = path.stem[: -len("_vs_paper")]
        for arm, value in zip(df["arm"], df["paper_mean"]):
            if pd.notna(value):
                out[(experiment, str(arm))] = float(value)
    return out


# --------------------------------------------------------------------------------------------- what a cell says


def _f(x: float) -> str:
    return f"{x:.2f}"


def _paper_pair(claim: pd.Series, other: str, paper: Mapping[tuple[str, str], float]) -> str:
    """``", paper 0.46 vs 0.05"`` when the claim is on student success and the paper gives both arms a number."""
    if not str(claim["evidence"]).startswith(f"{claim['arm']} student true success "):
        return ""
    mine, theirs = paper.get((claim["experiment"], claim["arm"])), paper.get((claim["experiment"], other))
    if mine is None or theirs is None:
        return ""
    return f", paper {_f(mine)} vs {_f(theirs)}"


def _detail(claim: pd.Series, versus: str | None, paper: Mapping[tuple[str, str], float]) -> str:
    """The key numbers of one claim (no verdict): the level's mean [CI] and threshold, or a comparison's PoI [CI] and
    both means (and the paper's)."""
    evidence = str(claim["evidence"])
    level = _LEVEL.search(evidence)
    if level is not None and "PoI" not in evidence:
        side, threshold = level.groups()
        return f"{format_ci(claim['mean'], claim['ci_low'], claim['ci_high'])} (needs {side} {threshold})"
    parts = [(m.group(1), *(float(x) for x in m.groups()[1:])) for m in _VERSUS.finditer(evidence)]
    if parts:
        chosen = [p for p in parts if p[0] == versus] if versus is not None else []
        if chosen:
            arm, mean, _, _, poi, lo, hi = chosen[0]
            note = ""
        else:  # a joint claim read as a whole: the comparison it is weakest in
            arm, mean, _, _, poi, lo, hi = min(parts, key=lambda p: p[4])
            note = f" (vs {arm}, the lowest of {len(parts)})" if len(parts) > 1 else ""
        return (f"PoI {format_ci(poi, lo, hi)}{note}, {_f(claim['mean'])} vs {_f(mean)}"
                + _paper_pair(claim, arm, paper))
    poi = _POI.search(evidence)  # a metric against another metric of the same runs (kind better_metric)
    if poi is not None:
        return f"PoI {format_ci(*(float(x) for x in poi.groups()))}, {_f(claim['mean'])}"
    return format_ci(claim["mean"], claim["ci_low"], claim["ci_high"])


def scorecard_cells(
    claims: pd.DataFrame,
    *,
    tasks: Mapping[str, str] | Callable[[str], str] | None = None,
    paper: Mapping[tuple[str, str], float] | None = None,
    rows: Sequence[Row] = ROWS,
    left_out: Mapping[str, str] = LEFT_OUT,
) -> pd.DataFrame:
    """One line per (row, task, claim) of the scorecard: ``row, task, id, verdict, detail, arm, order`` (``order``:
    the claim's place in ``claims``) in row order, then claim order. ``claims``: the claims table (``id, experiment,
    evidence, verdict, arm, mean, ci_low, ci_high``); ``tasks``: experiment -> task (a mapping or a function; default
    :func:`task_of`); ``paper``: :func:`paper_numbers`. Claims in no row are left out (:func:`scorecard_notes` names
    them)."""
    tasks = task_of if tasks is None else tasks
    find = tasks if callable(tasks) else tasks.__getitem__
    paper = paper or {}
    out = []
    for order, (_, claim) in enumerate(claims.iterrows()):
        for row in row_of(claim["id"], rows, left_out):
            out.append(dict(
                row_order=rows.index(row), order=order, row=row.label, task=find(claim["experiment"]),
                id=claim["id"], verdict=claim["verdict"], detail=_detail(claim, row.versus, paper), arm=claim["arm"]))
    cols = ["row", "task", "id", "verdict", "detail", "arm", "order"]
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(out).sort_values(["row_order", "order"], kind="stable")[cols].reset_index(drop=True)


def _columns(cells: pd.DataFrame) -> list[str]:
    """The tasks in the order their first claim has in the claims table (the registry's order)."""
    return list(cells.sort_values("order", kind="stable")["task"].drop_duplicates())


def _wide(cells: pd.DataFrame, text: Callable[[pd.Series], str], empty: str) -> pd.DataFrame:
    tasks = _columns(cells)
    table = []
    for label in dict.fromkeys(cells["row"]):
        sub = cells[cells["row"] == label]
        line = {"claim": label}
        for task in tasks:
            here = sub[sub["task"] == task]
            line[task_label(task)] = "; ".join(text(c) for _, c in here.iterrows()) if len(here) else empty
        table.append(line)
    return pd.DataFrame(table, columns=["claim", *(task_label(t) for t in tasks)])


def scorecard_table(cells: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as a table (``results/tables/scorecard.csv``): one row per claim row, one column per task, each
    cell ``"<verdict>: <key numbers> (<claim id>)"``, several claims of one cell joined by ``"; "``, empty where the
    claim is not asked of the task."""
    return _wide(cells, lambda c: f"{c['verdict']}: {c['detail']} ({c['id']})", "")


def scorecard_markdown(cells: pd.DataFrame) -> str:
    """The scorecard as a markdown table: the verdict in bold, the claim id as code, :data:`EMPTY` where the claim is
    not asked of the task."""
    table = _wide(cells, lambda c: f"**{c['verdict']}** {c['detail']} `{c['id']}`", EMPTY)
    return df_to_markdown(table.rename(columns={"claim": "the paper's claim"}))


def scorecard_notes(
    cells: pd.DataFrame, claims: pd.DataFrame, *, rows: Sequence[Row] = ROWS, left_out: Mapping[str, str] = LEFT_OUT,
) -> str:
    """What a reader needs to read the scorecard (markdown): the cell format, which arm is SITT on each task, the
    joint claims and the claims left out with their reasons."""
    lines = [
        "Each cell: the claim's verdict (rules in `study/claims.py`: a verdict needs at least 3 seeds and a 95% CI on "
        "one side of the threshold), then its key number with the 95% bootstrap CI over seeds: a level claim's mean "
        "(and the threshold it needs), a comparison's probability of improvement (PoI; above 0.5: the claim's arm is "
        "better) with both sides' means and, where the paper has a number for both, the paper's; last, the claim's "
        f"id in the claims table. {EMPTY}: not asked of that task."]
    if len(cells):
        first = cells[cells["row"].isin([r.label for r in rows if r.versus is not None and r.sitt])]
        arms = {t: sorted(set(first.loc[first["task"] == t, "arm"])) for t in _columns(cells)}
        by_arm: dict[str, list[str]] = {}
        for task, names in arms.items():
            for arm in names:
                by_arm.setdefault(arm, []).append(task_label(task))
        if by_arm:
            lines.append("SITT's arm in the comparison rows: " + "; ".join(
                f"`{arm}` on {', '.join(labels)}" for arm, labels in by_arm.items()) + ".")
        counts = cells.groupby(["task", "id"], sort=False).size()
        joint = [f"`{i}`" for (_, i), n in counts.items() if n > 1]
        if joint:
            lines.append(f"One claim against several arms ({', '.join(joint)}) stands in each of their rows with the "
                         "same verdict and, there, the PoI against that row's arm.")
    gone = [(i, left_out_reason(i, rows, left_out)) for i in claims["id"] if not row_of(i, rows, left_out)]
    if gone:
        reasons: dict[str, list[str]] = {}
        for claim_id, why in gone:
            reasons.setdefault(why or "not placed in a row", []).append(f"`{claim_id}`")
        lines.append("Not in the scorecard (all in the claims table): " + "; ".join(
            f"{', '.join(ids)}: {why}" for why, ids in reasons.items()) + ".")
    return "\n\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- budgets, forest rows


def budget_label(own: float, teacher: float = 0.0) -> str:
    """``"20M steps"``; ``"40.1M steps (20M teacher + 20M own)"`` when a teacher's steps are added."""
    if not np.isfinite(own):
        return "steps unknown"
    if teacher and np.isfinite(teacher):
        return f"{steps_label(own + teacher)} steps ({steps_label(teacher)} teacher + {steps_label(own)} own)"
    return f"{steps_label(own)} steps"


def forest_rows(
    main: pd.DataFrame,
    paper: Mapping[str, float] | None = None,
    budgets: pd.DataFrame | None = None,
    *,
    policy: str = "student",
    metric: str = "success",
) -> pd.DataFrame:
    """The rows of a task's forest plot from its main table (:func:`study.tables.main_table`): one per arm with
    ``policy`` rows, in the table's order: ``arm, label, mean, ci_low, ci_high, paper, total_steps`` (``label``: the
    arm and its budget, :func:`budget_label`; ``paper``: the paper's number for the arm, NaN where none)."""
    paper = paper or {}
    steps = {} if budgets is None or budgets.empty else budgets.set_index("arm")
    out = []
    for row in main[main["policy"] == policy].itertuples(index=False):
        arm = row.arm
        if len(steps) and arm in steps.index:
            own, teacher = float(steps.loc[arm, "own_steps"]), float(steps.loc[arm, "teacher_steps"])
            label, total = f"{arm}: {budget_label(own, teacher)}", own + teacher
        else:
            label, total = arm, np.nan
        out.append(dict(arm=arm, label=label, mean=getattr(row, f"{metric}_mean"),
                        ci_low=getattr(row, f"{metric}_ci_low"), ci_high=getattr(row, f"{metric}_ci_high"),
                        paper=paper.get(arm, np.nan), total_steps=total))
    return pd.DataFrame(out, columns=["arm", "label", "mean", "ci_low", "ci_high", "paper", "total_steps"])
