"""Tables of the study, computed from the evaluation rows of the runs (``study.load_eval``).

Input: a long ``eval_df`` with one row per (run, policy, eval maze) and at least the columns
``arm, seed, policy, success, release_success, route`` (``route`` in {"path", "detour", "failed"});
``outcome``, ``n_paths``, ``ep_length``, ``ep_return`` are used when present.

Unit of replication: the training seed. Every statistic is first reduced to ONE number per run
(:func:`per_seed`: e.g. the share of the 15 held-out mazes solved), then summarised over seeds:
mean and a seeded percentile bootstrap 95% CI over seeds (:func:`study.stats.bootstrap_ci_table`,
2000 resamples, seed 0 unless told), the IQM (rliable's definition) with its CI, and, for
comparisons, the probability of improvement P(X > Y) + 0.5 P(X = Y) over seed pairs with its
bootstrap CI. rliable's own interval estimates are used for the IQM when ``rliable.library``
imports cleanly (column ``ci_source``); otherwise our seeded bootstrap, which follows rliable's
definitions. Same inputs and ``seed`` always give the same numbers.

Route shares are over ALL held-out mazes of a run: ``path_share`` + ``detour_share`` +
``failed_share`` = 1 (path = reached the target having stepped on path cells, detour = reached it
without any path cell, failed = did not reach it within the evaluation horizon).
"""

from __future__ import annotations

import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from study.stats import (
    DegenerateIntervalWarning,
    bootstrap_ci,
    bootstrap_ci_table,
    difference_ci,
    probability_of_improvement_ci,
    rliable_available,
    rliable_interval_estimates,
)

__all__ = [
    "MAIN_ARMS",
    "POLICIES",
    "PER_SEED_METRICS",
    "per_seed",
    "summarise_metric",
    "main_table",
    "route_share_table",
    "comparison_table",
    "ablation_table",
    "release_vs_paper_table",
    "order_arms",
    "lambda1_table",
    "settle_steps",
    "format_ci",
]

#: arms of the "main" experiment, in the order of the paper's figure and tables
MAIN_ARMS = ("plain_teacher", "without_alignment", "bc", "dagger", "sitt_release", "sitt_paper")
POLICIES = ("teacher", "student")
#: per-seed metrics computed by :func:`per_seed`
PER_SEED_METRICS = (
    "success",
    "release_success",
    "path_share",
    "detour_share",
    "failed_share",
    "lava_share",
    "timeout_share",
    "n_paths",
    "success_length",
)
N_BOOT = 2000
CONFIDENCE = 0.95
REQUIRED = ("arm", "seed", "policy", "success", "release_success", "route")


def _as_float(col: pd.Series) -> pd.Series:
    """Booleans stored as bool, 0/1 or "True"/"False" strings -> float 0/1."""
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    col = col.map(lambda v: {"true": 1.0, "false": 0.0}.get(str(v).strip().lower(), v))
    return pd.to_numeric(col, errors="coerce").astype(float)


def _check(eval_df: pd.DataFrame, required: Iterable[str] = REQUIRED) -> None:
    if not isinstance(eval_df, pd.DataFrame):
        raise ValueError(f"eval_df must be a pandas DataFrame, got {type(eval_df).__name__}")
    missing = [c for c in required if c not in eval_df.columns]
    if missing:
        raise ValueError(f"eval_df lacks columns {missing}; it has {list(eval_df.columns)}")


def _study_order() -> tuple[str, ...]:
    """MAIN_ARMS, then the arms of the study's other experiments in their listed order (``study``)."""
    try:
        from study.presets import EXPERIMENTS  # noqa: PLC0415
    except Exception:  # noqa: BLE001 - ordering only
        return MAIN_ARMS
    return tuple(dict.fromkeys([*MAIN_ARMS, *(a for arms in EXPERIMENTS.values() for a in arms)]))


def order_arms(arms: Iterable[str], order: Sequence[str] | None = None) -> list[str]:
    """``arms`` (deduplicated) with those in ``order`` first, in that order, then the rest sorted. Default order: the
    main experiment's arms (:data:`MAIN_ARMS`), then those of the other experiments as ``study`` lists
    them; ``"<experiment> / <arm>"`` names (budget search) sort by experiment, then by that order."""
    order = _study_order() if order is None else tuple(order)
    arms = list(dict.fromkeys(arms))
    if any(" / " in str(a) for a in arms):
        rank = {a: i for i, a in enumerate(order)}
        key = lambda a: (str(a).split(" / ")[0], rank.get(str(a).split(" / ")[-1], len(rank)), str(a))  # noqa: E731
        return sorted(arms, key=key)
    known = [a for a in order if a in arms]
    return known + sorted(a for a in arms if a not in order)


def per_seed(eval_df: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, policy, seed): the run's metrics over its held-out mazes.

    Columns: ``arm, policy, seed, n_mazes`` and :data:`PER_SEED_METRICS`:
    ``success`` (share of mazes whose first episode reached the target: true success),
    ``release_success`` (share that terminated in any way within the horizon: the release's metric),
    ``path_share`` / ``detour_share`` / ``failed_share`` (route of each maze, shares of all mazes),
    ``lava_share`` / ``timeout_share`` (first episode ended on lava / by the env's time limit; NaN
    without an ``outcome`` column), ``n_paths`` (mean path-cell visits per maze), ``success_length``
    (mean length of the successful first episodes; NaN when none succeeded).
    With an ``experiment`` column, runs of different experiments stay apart (and the column is kept, last);
    ``profile`` and ``recipe`` are kept when present.
    """
    _check(eval_df)
    df = eval_df.copy()
    df["success"] = _as_float(df["success"])
    df["release_success"] = _as_float(df["release_success"])
    route = df["route"].astype(str)
    df["path_share"] = (route == "path").astype(float)
    df["detour_share"] = (route == "detour").astype(float)
    df["failed_share"] = (route == "failed").astype(float)
    if "outcome" in df:
        outcome = df["outcome"].astype(str)
        df["lava_share"] = (outcome == "lava").astype(float)
        df["timeout_share"] = (outcome == "timeout").astype(float)
    else:
        df["lava_share"] = np.nan
        df["timeout_share"] = np.nan
    df["n_paths"] = _as_float(df["n_paths"]) if "n_paths" in df else np.nan
    length = _as_float(df["ep_length"]) if "ep_length" in df else pd.Series(np.nan, index=df.index)
    df["success_length"] = length.where(df["success"] > 0.5)
    keys = (["experiment"] if "experiment" in df else []) + ["arm", "policy", "seed"]
    agg = {m: (m, "mean") for m in PER_SEED_METRICS}
    out = df.groupby(keys, sort=True, dropna=False).agg(n_mazes=("success", "size"), **agg).reset_index()
    for extra in ("profile", "recipe"):
        if extra in df:
            const = df.groupby(keys, sort=True, dropna=False)[extra].agg(lambda s: s.iloc[0] if s.nunique() <= 1 else "mixed")
            out[extra] = const.to_numpy()
    arms = order_arms(out["arm"])
    out["arm"] = pd.Categorical(out["arm"], categories=arms, ordered=True)
    out["policy"] = pd.Categorical(out["policy"], categories=order_arms(out["policy"], POLICIES), ordered=True)
    out = out.sort_values(keys).reset_index(drop=True)
    if "experiment" in out:
        out = out.drop(columns="experiment").assign(experiment=out["experiment"].to_numpy())
    out["arm"] = out["arm"].astype(str)
    out["policy"] = out["policy"].astype(str)
    return out


def summarise_metric(
    seeds_df: pd.DataFrame,
    metric: str,
    group_cols: Sequence[str] = ("arm", "policy"),
    *,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean, bootstrap CI, IQM and IQM CI of one per-seed metric, per group (order of first appearance).

    Columns: ``*group_cols, n, mean, ci_low, ci_high, iqm, iqm_ci_low, iqm_ci_high, note``. Seeded: the
    same ``seed`` gives the same intervals, and a group's row does not depend on the other groups.
    """
    group_cols = list(group_cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateIntervalWarning)
        table = bootstrap_ci_table(
            seeds_df[[*group_cols, metric]], metric, group_cols, n_boot=n_boot, confidence=confidence, seed=seed
        )
    order = seeds_df[group_cols].drop_duplicates()
    table = order.merge(table, on=group_cols, how="left")
    return table.drop(columns=["n_nan"]).reset_index(drop=True)


def _rliable_iqm(seeds_df: pd.DataFrame, metric: str, group_cols: list[str], n_boot, confidence, seed) -> dict:
    """group key -> rliable IQM interval, for groups with >= 2 seeds; {} when rliable is unavailable."""
    if not rliable_available():
        return {}
    scores = {}
    for key, sub in seeds_df.groupby(group_cols, sort=False):
        values = sub[metric].dropna().to_numpy(dtype=float)
        if len(values) >= 2:
            scores[key if isinstance(key, tuple) else (key,)] = values
    if not scores:
        return {}
    named = {str(k): v for k, v in scores.items()}
    est = rliable_interval_estimates(named, "iqm", n_boot=n_boot, confidence=confidence, seed=seed)
    return {k: est[str(k)] for k in scores}


def main_table(
    eval_df: pd.DataFrame,
    *,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    arms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The main table: per arm x policy, statistics over seeds of the per-seed metrics.

    Columns: ``arm, policy, n_seeds``; ``success_mean, success_ci_low, success_ci_high`` (true success,
    mean over seeds and its bootstrap CI); ``success_iqm, success_iqm_ci_low, success_iqm_ci_high``;
    ``detour_mean, detour_ci_low, detour_ci_high`` and ``path_mean, path_ci_low, path_ci_high`` (route
    shares over all held-out mazes); ``release_success_mean, release_success_ci_low,
    release_success_ci_high`` (the release's any-termination metric); ``lava_mean``; ``ci_source``.
    Rows in :data:`MAIN_ARMS` order (then other arms), teacher before student; ``arms`` restricts them.
    """
    seeds_df = per_seed(eval_df)
    if arms is not None:
        seeds_df = seeds_df[seeds_df["arm"].isin(list(arms))]
    keys = ["arm", "policy"]
    kw = dict(n_boot=n_boot, confidence=confidence, seed=seed)
    succ = summarise_metric(seeds_df, "success", keys, **kw)
    out = succ[keys].copy()
    out["n_seeds"] = succ["n"].astype("int64")
    for col in ("mean", "ci_low", "ci_high", "iqm", "iqm_ci_low", "iqm_ci_high"):
        out[f"success_{col}"] = succ[col]
    for metric, prefix in (("detour_share", "detour"), ("path_share", "path"), ("release_success", "release_success")):
        t = summarise_metric(seeds_df, metric, keys, **kw)
        for col in ("mean", "ci_low", "ci_high"):
            out[f"{prefix}_{col}"] = t[col].to_numpy()
    out["lava_mean"] = summarise_metric(seeds_df, "lava_share", keys, **kw)["mean"].to_numpy()
    out["ci_source"] = f"seeded percentile bootstrap over seeds (n_boot={n_boot}, seed={seed})"
    riq = _rliable_iqm(seeds_df, "success", keys, n_boot, confidence, seed)
    for i, key in enumerate(zip(out["arm"], out["policy"])):
        if key in riq:
            out.loc[i, ["success_iqm", "success_iqm_ci_low", "success_iqm_ci_high"]] = list(riq[key])
            out.loc[i, "ci_source"] = f"rliable (IQM) + seeded bootstrap (n_boot={n_boot}, seed={seed})"
    return out.reset_index(drop=True)


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


def comparison_table(
    eval_df: pd.DataFrame,
    reference: str,
    *,
    policy: str = "student",
    metric: str = "success",
    labels: Mapping[str, str] | None = None,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> pd.DataFrame:
    """Each arm against a reference arm on one per-seed metric of one policy.

    Columns: ``arm, label, n_seeds, mean, ci_low, ci_high, iqm, diff, diff_ci_low, diff_ci_high`` (mean
    of the arm minus mean of the reference, independent bootstrap over seeds) and ``poi, poi_ci_low,
    poi_ci_high`` (probability that a seed of the arm beats a seed of the reference; 0.5 = no
    difference). The reference row has diff 0 and PoI 0.5 by definition (CIs NaN). Raises when the
    reference arm has no runs for ``policy``.
    """
    seeds_df = per_seed(eval_df)
    seeds_df = seeds_df[seeds_df["policy"] == policy]
    if reference not in set(seeds_df["arm"]):
        raise ValueError(f"reference arm {reference!r} has no {policy} runs; arms: {sorted(set(seeds_df['arm']))}")
    labels = dict(labels or {})
    kw = dict(n_boot=n_boot, confidence=confidence, seed=seed)
    base = summarise_metric(seeds_df, metric, ["arm"], **kw)
    ref = seeds_df.loc[seeds_df["arm"] == reference, metric].dropna().to_numpy(dtype=float)
    rows = []
    for _, r in base.iterrows():
        arm = r["arm"]
        x = seeds_df.loc[seeds_df["arm"] == arm, metric].dropna().to_numpy(dtype=float)
        row = dict(
            arm=arm, label=labels.get(arm, arm), n_seeds=int(r["n"]), mean=r["mean"], ci_low=r["ci_low"],
            ci_high=r["ci_high"], iqm=r["iqm"],
        )
        if arm == reference:
            row.update(diff=0.0, diff_ci_low=np.nan, diff_ci_high=np.nan, poi=0.5, poi_ci_low=np.nan, poi_ci_high=np.nan)
        elif len(x) == 0 or len(ref) == 0:
            row.update(dict.fromkeys(["diff", "diff_ci_low", "diff_ci_high", "poi", "poi_ci_low", "poi_ci_high"], np.nan))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateIntervalWarning)
                d = difference_ci(x, ref, "mean", **kw)
                p = probability_of_improvement_ci(x, ref, **kw)
            row.update(diff=d[0], diff_ci_low=d[1], diff_ci_high=d[2], poi=p[0], poi_ci_low=p[1], poi_ci_high=p[2])
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(reference=reference, policy=policy, metric=metric)
    return out


def ablation_table(
    eval_df: pd.DataFrame,
    reference: str | None = None,
    *,
    policy: str = "student",
    metric: str = "success",
    labels: Mapping[str, str] | None = None,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> pd.DataFrame:
    """The ablation table: every ablation arm against the full method (``reference``; default: the
    first arm whose name contains "full", else the first arm) on the student's true success; columns
    as :func:`comparison_table`, plus the teacher's detour share (``teacher_detour_mean``) when
    teacher rows exist."""
    arms = order_arms(eval_df["arm"])
    if reference is None:
        reference = next((a for a in arms if "full" in a), arms[0] if arms else None)
    out = comparison_table(
        eval_df, reference, policy=policy, metric=metric, labels=labels, n_boot=n_boot, confidence=confidence, seed=seed
    )
    seeds_df = per_seed(eval_df)
    teacher = seeds_df[seeds_df["policy"] == "teacher"].groupby("arm")["detour_share"].mean()
    out["teacher_detour_mean"] = out["arm"].map(teacher)
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


def format_ci(mean: float, lo: float, hi: float, digits: int = 2) -> str:
    """``"0.53 [0.40, 0.67]"``; ``"n/a"`` for a NaN mean; the bracket is left out when the CI is NaN."""
    if mean is None or not np.isfinite(mean):
        return "n/a"
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def settle_steps(
    progress: pd.DataFrame,
    column: str = "rollout/success_rate",
    frac: float = 0.8,
    min_final: float = 0.2,
    tail: int = 10,
) -> pd.DataFrame:
    """How much of its budget each run needed: the first env step from which the training curve ``column`` stays at
    or above ``frac`` x its final level (the mean of the last ``tail`` iterations).

    :param progress: SB3 progress rows with ``arm, seed, time/total_timesteps`` and ``column``
        (:func:`study.io.load_progress`); NaN (no episode finished that iteration) counts as 0.
    :return: one row per (arm, seed): ``final`` (the final level), ``settle_step`` (NaN when the final level is below
        ``min_final``: nothing learned to settle on), ``budget`` (the run's last step) and ``settle_share`` =
        settle_step / budget.
    """
    for name in ("arm", "seed", "time/total_timesteps", column):
        if name not in progress:
            raise ValueError(f"progress: missing column {name!r}; allowed: SB3 progress rows with arm and seed")
    rows = []
    for (arm, seed), run in progress.groupby(["arm", "seed"], sort=False):
        run = run.sort_values("time/total_timesteps")
        values = run[column].fillna(0.0).to_numpy(dtype=float)
        steps = run["time/total_timesteps"].to_numpy()
        final = float(values[-tail:].mean())
        settle = np.nan
        if final >= min_final:
            below = np.flatnonzero(values < frac * final)
            first = 0 if below.size == 0 else below[-1] + 1
            settle = float(steps[first]) if first < len(steps) else np.nan
        rows.append(dict(arm=arm, seed=int(seed), final=final, settle_step=settle, budget=float(steps[-1]),
                         settle_share=settle / float(steps[-1])))
    out = pd.DataFrame(rows, columns=["arm", "seed", "final", "settle_step", "budget", "settle_share"])
    rank = {a: i for i, a in enumerate(order_arms(out["arm"]))}
    return out.sort_values(["arm", "seed"], key=lambda c: c.map(rank) if c.name == "arm" else c, ignore_index=True)
