"""The occluded drawer's tables: the main table (the paper's manipulation table), the ablation table and both next
to the paper's numbers. They read eval rows of :func:`study.load.load_eval` with the drawer's metrics
(:mod:`occluded_drawer.design`); every number is a statistic over training seeds (:mod:`study.tables`).

Files (written by ``notebooks/60_occluded_drawer.py`` only when runs exist): ``results/tables/occluded_drawer_main.csv``
(:func:`main_table`) and ``results/tables/occluded_drawer_ablations.csv`` (:func:`ablation_table`).

The paper's numbers (:data:`PAPER_MAIN`, :data:`PAPER_ABLATIONS`: student success, mean +- std over seeds, number of
seeds not stated) are from a third-party reading of the paper, not checked against the PDF
(``shared/spec/robot_analogues.md`` section 2).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from occluded_drawer.design import ABLATION_REFERENCE, ARMS, NAME, VISIBLE_APPROACH
from study import tables as study_tables
from study.tables import CONFIDENCE, N_BOOT

__all__ = ["PAPER_MAIN", "PAPER_ABLATIONS", "main_table", "ablation_table", "paper_comparison"]

#: the paper's manipulation table: arm -> (student success mean, std over seeds)
PAPER_MAIN: dict[str, tuple[float, float]] = {
    "bc": (0.16, 0.15),
    "dagger": (0.34, 0.31),
    "hlrl": (0.61, 0.22),
    "dwbc": (0.63, 0.18),
    "cosil": (0.56, 0.21),
    "without_alignment": (0.61, 0.18),
    "sitt_paper": (0.88, 0.07),
}

#: the paper's ablation table (manipulation): arm -> (student success mean, std over seeds); the full method at
#: lambda1 = 0.05 is ``sitt_paper``
PAPER_ABLATIONS: dict[str, tuple[float, float]] = {
    "penalty_only": (0.47, 0.37),
    "kl_gradient_only": (0.74, 0.08),
    "no_shared_head": (0.62, 0.27),
    "sitt_paper": (0.88, 0.07),
    "lambda1_0.025": (0.95, 0.03),
}


def main_table(eval_df: pd.DataFrame, *, n_boot: int = N_BOOT, confidence: float = CONFIDENCE,
               seed: int = 0) -> pd.DataFrame:
    """:func:`study.tables.main_table` of the drawer's rows: per arm x policy, success (mean, CI, IQM), the handle's
    visible share before the first grasp, grasp attempts and return (mean and 95% CI over seeds), steps (mean)."""
    return study_tables.main_table(eval_df, n_boot=n_boot, confidence=confidence, seed=seed, task=NAME)


def ablation_table(eval_df: pd.DataFrame, reference: str | None = None, *, labels: Mapping[str, str] | None = None,
                   **kw) -> pd.DataFrame:
    """:func:`study.tables.ablation_table` against the full method (default ``sitt_paper``, lambda1 = 0.05) on the
    student's success, with the teacher's visible share per arm (``teacher_visible_mean``). Labels default to the
    drawer's arm descriptions."""
    labels = {a: s.description for a, s in ARMS.items()} if labels is None else labels
    return study_tables.ablation_table(
        eval_df, reference or ABLATION_REFERENCE, labels=labels, teacher_metric="visible_share",
        teacher_column="teacher_visible_mean", task=NAME, **kw)


def paper_comparison(eval_df: pd.DataFrame, paper: Mapping[str, tuple[float, float]] | None = None, *,
                     policy: str = "student", n_boot: int = N_BOOT, confidence: float = CONFIDENCE,
                     seed: int = 0) -> pd.DataFrame:
    """Our student success next to the paper's, per arm of ``paper`` (default :data:`PAPER_MAIN`; pass
    :data:`PAPER_ABLATIONS` for the ablation table): ``arm, n_seeds, mean, ci_low, ci_high`` (ours: mean over seeds
    and its seeded 95% bootstrap CI), ``paper_mean, paper_std`` and ``paper_in_ci`` (the paper's mean inside our CI).
    Arms of ``paper`` without runs keep NaN for ours (``n_seeds`` 0)."""
    paper = PAPER_MAIN if paper is None else paper
    seeds_df = study_tables.per_seed(eval_df, NAME)
    seeds_df = seeds_df[seeds_df["policy"] == policy]
    ours = study_tables.summarise_metric(seeds_df, "success", ["arm"], n_boot=n_boot, confidence=confidence,
                                         seed=seed).set_index("arm")
    rows = []
    for arm, (mean, std) in paper.items():
        have = arm in ours.index
        row = dict(arm=arm, n_seeds=int(ours.loc[arm, "n"]) if have else 0,
                   mean=ours.loc[arm, "mean"] if have else np.nan,
                   ci_low=ours.loc[arm, "ci_low"] if have else np.nan,
                   ci_high=ours.loc[arm, "ci_high"] if have else np.nan,
                   paper_mean=mean, paper_std=std)
        lo, hi = row["ci_low"], row["ci_high"]
        row["paper_in_ci"] = bool(lo <= mean <= hi) if np.isfinite(lo) and np.isfinite(hi) else None
        rows.append(row)
    return pd.DataFrame(rows, columns=["arm", "n_seeds", "mean", "ci_low", "ci_high", "paper_mean", "paper_std",
                                       "paper_in_ci"])


def approach_table(eval_df: pd.DataFrame, arms=None) -> pd.DataFrame:
    """The mechanism per seed: which approach each run's teacher and student take.

    One row per (arm, seed) with runs: ``teacher_visible_share`` and ``student_visible_share`` (means over the held-out
    scenes), ``teacher_approach`` / ``student_approach`` (``"visible"`` when the share is >=
    :data:`occluded_drawer.design.VISIBLE_APPROACH`, else ``"hiding"``) and the two success shares; ``arms``
    (default: all) in that order, then seeds ascending.
    """
    df = eval_df if arms is None else eval_df[eval_df["arm"].isin(list(arms))]
    seeds = study_tables.per_seed(df, NAME)
    rows = []
    order = list(arms) if arms is not None else list(dict.fromkeys(seeds["arm"]))
    for arm in order:
        sub = seeds[seeds["arm"] == arm]
        for seed in sorted(set(sub["seed"])):
            row = dict(arm=arm, seed=int(seed))
            for policy in ("teacher", "student"):
                r = sub[(sub["seed"] == seed) & (sub["policy"] == policy)]
                share = float(r["visible_share"].iloc[0]) if len(r) else np.nan
                row[f"{policy}_visible_share"] = share
                row[f"{policy}_approach"] = ("" if np.isnan(share) else
                                             "visible" if share >= VISIBLE_APPROACH else "hiding")
                row[f"{policy}_success"] = float(r["success"].iloc[0]) if len(r) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def approach_counts(approaches: pd.DataFrame) -> pd.DataFrame:
    """Per arm: seeds, and how many of them have a teacher (and a student) taking the visible approach."""
    rows = []
    for arm, g in approaches.groupby("arm", sort=False):
        rows.append(dict(arm=arm, n_seeds=len(g), teacher_visible_seeds=int((g["teacher_approach"] == "visible").sum()),
                         student_visible_seeds=int((g["student_approach"] == "visible").sum()),
                         visible_seeds=",".join(str(s) for s in g.loc[g["teacher_approach"] == "visible", "seed"])))
    return pd.DataFrame(rows)


__all__ += ["approach_table", "approach_counts"]
