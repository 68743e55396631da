"""The maze study's own tables: which route a policy takes, the release/paper differences one at a time, the lambda1
sweep. They read per-seed rows of :func:`study.tables.per_seed` with the maze's metrics (:mod:`color_maze.design`)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from study.stats import DegenerateIntervalWarning, bootstrap_ci, difference_ci, probability_of_improvement_ci
from study.tables import CONFIDENCE, N_BOOT, comparison_table, per_seed, summarise_metric
from study.tables import ablation_table as generic_ablation_table

__all__ = ["route_share_table", "release_vs_paper_table", "lambda1_table", "ablation_table"]


def route_share_table(
    eval_df: pd.DataFrame,
    policy: str = "teacher",
    *,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> pd.DataFrame:
    """Which route a policy takes, per arm: ``arm, n_seeds`` and for each of ``path``, ``detour``,
    ``failed``: ``<route>_mean, <route>_ci_low, <route>_ci_high`` (shares of held-out mazes, over seeds),
    plus ``success_mean``. The key table of the budget search (the plain teacher's route)."""
    seeds_df = per_seed(eval_df)
    seeds_df = seeds_df[seeds_df["policy"] == policy]
    if seeds_df.empty:
        return pd.DataFrame(columns=["arm", "n_seeds"])
    kw = dict(n_boot=n_boot, confidence=confidence, seed=seed)
    base = summarise_metric(seeds_df, "success", ["arm"], **kw)
    out = pd.DataFrame({"arm": base["arm"], "n_seeds": base["n"].astype("int64"), "success_mean": base["mean"]})
    for route in ("path", "detour", "failed"):
        t = summarise_metric(seeds_df, f"{route}_share", ["arm"], **kw)
        for col in ("mean", "ci_low", "ci_high"):
            out[f"{route}_{col}"] = t[col].to_numpy()
    return out


def release_vs_paper_table(
    eval_df: pd.DataFrame,
    reference: str = "release",
    *,
    policy: str = "student",
    labels: Mapping[str, str] | None = None,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> pd.DataFrame:
    """The release/paper differences one at a time: each arm (one difference switched from the release
    to the paper's choice, or the env's quirks fixed) against the reference arm on the student's true
    success (columns of :func:`comparison_table`, ``kind = "arm"``), plus, for every arm, one row with
    ``kind = "metric"`` comparing the release's any-termination metric with true success on the SAME
    runs (``diff`` = release metric minus true success, a paired bootstrap over seeds; PoI of
    release metric over true success)."""
    out = comparison_table(
        eval_df, reference, policy=policy, metric="success", labels=labels, n_boot=n_boot, confidence=confidence,
        seed=seed,
    )
    out.insert(1, "kind", "arm")
    seeds_df = per_seed(eval_df)
    seeds_df = seeds_df[seeds_df["policy"] == policy]
    rows = []
    for arm, sub in seeds_df.groupby("arm", sort=False):
        sub = sub.dropna(subset=["success", "release_success"])
        x = sub["release_success"].to_numpy(dtype=float)
        y = sub["success"].to_numpy(dtype=float)
        if len(x) == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegenerateIntervalWarning)
            d = difference_ci(x, y, "mean", n_boot=n_boot, confidence=confidence, seed=seed, paired=True)
            p = probability_of_improvement_ci(x, y, n_boot=n_boot, confidence=confidence, seed=seed)
            m = bootstrap_ci(x, "mean", n_boot=n_boot, confidence=confidence, seed=seed)
        name = (labels or {}).get(arm, arm)
        rows.append(dict(
            arm=arm, kind="metric", label=f"{name}: release metric (any termination) vs true success",
            n_seeds=len(x), mean=m[0], ci_low=m[1], ci_high=m[2], iqm=np.nan,
            diff=d[0], diff_ci_low=d[1], diff_ci_high=d[2], poi=p[0], poi_ci_low=p[1], poi_ci_high=p[2],
        ))
    if rows:
        out = pd.concat([out, pd.DataFrame(rows)], ignore_index=True)
    out.attrs.update(reference=reference, policy=policy)
    return out


def lambda1_table(
    eval_df: pd.DataFrame,
    *,
    policy: str = "student",
    metric: str = "success",
    release_arm: str = "sitt_release",
    release_coef: float = 1.9,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> pd.DataFrame:
    """The lambda1 sweep: arms ``lambda1_bonus_<c>`` (reward += c x KL) and ``lambda1_penalty_<c>`` (reward -= c x
    KL), plus ``release_arm`` as the bonus at ``release_coef``. Columns ``arm, sign`` ("bonus" | "penalty"), ``coef,
    n_seeds, mean, ci_low, ci_high`` of ``metric`` for ``policy``, sorted by sign then coefficient."""
    seeds_df = per_seed(eval_df)
    seeds_df = seeds_df[seeds_df["policy"] == policy]
    rows = []
    for arm in dict.fromkeys(seeds_df["arm"]):
        parts = arm.split("_")
        if arm == release_arm:
            sign, coef = "bonus", release_coef
        elif len(parts) == 3 and parts[0] == "lambda1" and parts[1] in ("bonus", "penalty"):
            try:
                sign, coef = parts[1], float(parts[2])
            except ValueError:
                continue
        else:
            continue
        rows.append((arm, sign, coef))
    if not rows:
        return pd.DataFrame(columns=["arm", "sign", "coef", "n_seeds", "mean", "ci_low", "ci_high"])
    sel = seeds_df[seeds_df["arm"].isin([r[0] for r in rows])]
    summ = summarise_metric(sel, metric, ["arm"], n_boot=n_boot, confidence=confidence, seed=seed).set_index("arm")
    out = pd.DataFrame([
        dict(arm=a, sign=s, coef=c, n_seeds=int(summ.loc[a, "n"]), mean=summ.loc[a, "mean"],
             ci_low=summ.loc[a, "ci_low"], ci_high=summ.loc[a, "ci_high"]) for a, s, c in rows
    ])
    return out.sort_values(["sign", "coef"]).reset_index(drop=True)


def ablation_table(eval_df: pd.DataFrame, reference: str | None = None, **kw) -> pd.DataFrame:
    """:func:`study.tables.ablation_table` with the teacher's detour share (``teacher_detour_mean``)."""
    return generic_ablation_table(eval_df, reference, teacher_metric="detour_share",
                                  teacher_column="teacher_detour_mean", **kw)
