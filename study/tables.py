"""Tables of the study, computed from the evaluation rows of the runs (:func:`study.load.load_eval`).

Input: a long ``eval_df`` with one row per (run, policy, held-out episode) and at least the columns
``arm, seed, policy, success``; the task's own columns (the maze: ``release_success, route, outcome, n_paths,
ep_length``) become per-episode metrics through the task's :meth:`study.task.Task.episode_metrics`.

Unit of replication: the training seed. Every statistic is first reduced to ONE number per run
(:func:`per_seed`: e.g. the share of the held-out episodes solved), then summarised over seeds:
mean and a seeded percentile bootstrap 95% CI over seeds (:func:`study.stats.bootstrap_ci_table`,
2000 resamples, seed 0 unless told), the IQM (rliable's definition) with its CI, and, for
comparisons, the probability of improvement P(X > Y) + 0.5 P(X = Y) over seed pairs with its
bootstrap CI. rliable's own interval estimates are used for the IQM when ``rliable.library``
imports cleanly (column ``ci_source``); otherwise our seeded bootstrap, which follows rliable's
definitions. Same inputs and ``seed`` always give the same numbers.

The task of the rows is read from their ``task`` column (every row :mod:`study.load` returns has one), or given with
``task=``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from study.budget import BUDGET
from study.load import LEGACY_TASK
from study.presets import COMMON_ARMS, experiments
from study.probes import load_tuning
from study.registry import get_task
from study.stats import (
    DegenerateIntervalWarning,
    bootstrap_ci_table,
    difference_ci,
    probability_of_improvement_ci,
    rliable_available,
    rliable_interval_estimates,
)

__all__ = [
    "ARM_ORDER",
    "tuning_table",
    "POLICIES",
    "per_seed",
    "per_seed_metrics",
    "resolve_task",
    "summarise_metric",
    "main_table",
    "comparison_table",
    "ablation_table",
    "budget_table",
    "order_arms",
    "settle_steps",
    "format_ci",
    "as_float",
]

#: the tables' row order of the arms every task shares (study.presets.COMMON_ARMS, the order of the paper's figure);
#: not study.presets.MAIN_ARMS, the main experiments' arm list (which orders sitt_paper before sitt_release)
ARM_ORDER = tuple(COMMON_ARMS)
POLICIES = ("teacher", "student")
N_BOOT = 2000
CONFIDENCE = 0.95
REQUIRED = ("arm", "seed", "policy", "success")


def as_float(col: pd.Series) -> pd.Series:
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
    """ARM_ORDER, then the arms of the study's other experiments in their listed order (``study``)."""
    return tuple(dict.fromkeys([*ARM_ORDER, *(a for _, arms in experiments().values() for a in arms)]))


def order_arms(arms: Iterable[str], order: Sequence[str] | None = None) -> list[str]:
    """``arms`` (deduplicated) with those in ``order`` first, in that order, then the rest sorted. Default order: the
    shared arms (:data:`ARM_ORDER`), then those of the other experiments as ``study`` lists
    them; ``"<experiment> / <arm>"`` names (budget search) sort by experiment, then by that order."""
    order = _study_order() if order is None else tuple(order)
    arms = list(dict.fromkeys(arms))
    if any(" / " in str(a) for a in arms):
        rank = {a: i for i, a in enumerate(order)}
        key = lambda a: (str(a).split(" / ")[0], rank.get(str(a).split(" / ")[-1], len(rank)), str(a))  # noqa: E731
        return sorted(arms, key=key)
    known = [a for a in order if a in arms]
    return known + sorted(a for a in arms if a not in order)


def resolve_task(eval_df: pd.DataFrame, task=None):
    """The :class:`study.task.Task` of eval rows: ``task`` (an object or a registered name) when given, else the
    rows' single ``task`` value (every row :mod:`study.load` reads has one), else the legacy rule: rows without a
    task are :data:`study.load.LEGACY_TASK`'s (the maze's early runs and tables)."""
    if task is not None:
        return get_task(task) if isinstance(task, str) else task
    if "task" in eval_df and len(eval_df):
        names = sorted(set(eval_df["task"].dropna().astype(str)))
        if len(names) > 1:
            raise ValueError(f"eval_df: rows of several tasks {names}; allowed: the rows of one task (or pass task=)")
        if names:
            return get_task(names[0])
    return get_task(LEGACY_TASK)


def per_seed_metrics(task) -> tuple[str, ...]:
    """The per-seed metric columns :func:`per_seed` returns for ``task``: ``success`` and the task's metrics."""
    return task.metric_names()


def per_seed(eval_df: pd.DataFrame, task=None) -> pd.DataFrame:
    """One row per (arm, policy, seed): the run's metrics over its held-out episodes.

    Columns: ``arm, policy, seed, n_episodes`` (the number of held-out episodes) and
    :func:`per_seed_metrics`: ``success`` (share of held-out episodes that succeeded) and each metric of the task
    (:attr:`study.task.Task.metrics`; the maze: ``release_success``, ``path_share`` / ``detour_share`` /
    ``failed_share``, ``lava_share`` / ``timeout_share``, ``n_paths``, ``success_length``), the mean of the task's
    per-episode column over the run's episodes (NaN is skipped).
    With an ``experiment`` column, runs of different experiments stay apart (and the column is kept, last);
    ``profile`` and ``recipe`` are kept when present.
    """
    _check(eval_df)
    task = resolve_task(eval_df, task)
    df = eval_df.copy()
    df["success"] = as_float(df["success"])
    df = task.episode_metrics(df)
    metrics = per_seed_metrics(task)
    keys = (["experiment"] if "experiment" in df else []) + ["arm", "policy", "seed"]
    agg = {m: (m, "mean") for m in metrics}
    out = df.groupby(keys, sort=True, dropna=False).agg(n_episodes=("success", "size"), **agg).reset_index()
    for extra in ("profile", "recipe"):
        if extra in df:
            const = df.groupby(keys, sort=True, dropna=False)[extra].agg(
                lambda s: s.iloc[0] if s.nunique() <= 1 else "mixed")
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
    task=None,
) -> pd.DataFrame:
    """The main table: per arm x policy, statistics over seeds of the per-seed metrics.

    Columns: ``arm, policy, n_seeds``; ``success_mean, success_ci_low, success_ci_high`` (true success,
    mean over seeds and its bootstrap CI); ``success_iqm, success_iqm_ci_low, success_iqm_ci_high``; then for each
    of the task's :attr:`~study.task.Task.table_metrics` ``<prefix>_mean`` (and ``<prefix>_ci_low``,
    ``<prefix>_ci_high``) (the maze: ``detour``, ``path`` route shares over all held-out mazes, ``release_success``
    the release's any-termination metric, ``lava`` mean only); ``ci_source``.
    Rows in :data:`ARM_ORDER` order (then other arms), teacher before student; ``arms`` restricts them.
    """
    task = resolve_task(eval_df, task)
    seeds_df = per_seed(eval_df, task)
    if arms is not None:
        seeds_df = seeds_df[seeds_df["arm"].isin(list(arms))]
    keys = ["arm", "policy"]
    kw = dict(n_boot=n_boot, confidence=confidence, seed=seed)
    succ = summarise_metric(seeds_df, "success", keys, **kw)
    out = succ[keys].copy()
    out["n_seeds"] = succ["n"].astype("int64")
    for col in ("mean", "ci_low", "ci_high", "iqm", "iqm_ci_low", "iqm_ci_high"):
        out[f"success_{col}"] = succ[col]
    for tm in task.table_metrics:
        t = summarise_metric(seeds_df, tm.metric, keys, **kw)
        for col in ("mean", "ci_low", "ci_high") if tm.ci else ("mean",):
            out[f"{tm.prefix}_{col}"] = t[col].to_numpy()
    if BUDGET in eval_df:  # the arm's budget: env steps of every policy trained for a run (study.budget)
        budgets = eval_df.groupby("arm")[BUDGET].median()
        out[BUDGET] = out["arm"].map(budgets).astype(float).to_numpy()
    out["ci_source"] = f"seeded percentile bootstrap over seeds (n_boot={n_boot}, seed={seed})"
    riq = _rliable_iqm(seeds_df, "success", keys, n_boot, confidence, seed)
    for i, key in enumerate(zip(out["arm"], out["policy"])):
        if key in riq:
            out.loc[i, ["success_iqm", "success_iqm_ci_low", "success_iqm_ci_high"]] = list(riq[key])
            out.loc[i, "ci_source"] = f"rliable (IQM) + seeded bootstrap (n_boot={n_boot}, seed={seed})"
    return out.reset_index(drop=True)


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
    task=None,
) -> pd.DataFrame:
    """Each arm against a reference arm on one per-seed metric of one policy.

    Columns: ``arm, label, n_seeds, mean, ci_low, ci_high, iqm, diff, diff_ci_low, diff_ci_high`` (mean
    of the arm minus mean of the reference, independent bootstrap over seeds) and ``poi, poi_ci_low,
    poi_ci_high`` (probability that a seed of the arm beats a seed of the reference; 0.5 = no
    difference). The reference row has diff 0 and PoI 0.5 by definition (CIs NaN). Raises when the
    reference arm has no runs for ``policy``.
    """
    seeds_df = per_seed(eval_df, task)
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
            row.update(diff=0.0, diff_ci_low=np.nan, diff_ci_high=np.nan, poi=0.5, poi_ci_low=np.nan,
                       poi_ci_high=np.nan)
        elif len(x) == 0 or len(ref) == 0:
            row.update(dict.fromkeys(["diff", "diff_ci_low", "diff_ci_high", "poi", "poi_ci_low", "poi_ci_high"],
                                     np.nan))
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
    teacher_metric: str | None = None,
    teacher_column: str | None = None,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    task=None,
) -> pd.DataFrame:
    """The ablation table: every ablation arm against the full method (``reference``; default: the
    first arm whose name contains "full", else the first arm) on the student's true success; columns
    as :func:`comparison_table`, plus, with ``teacher_metric``, the teacher's mean of that per-seed metric per arm in
    the column ``teacher_column`` (default ``teacher_<metric>_mean``; the maze: ``detour_share`` as
    ``teacher_detour_mean``) when teacher rows exist."""
    arms = order_arms(eval_df["arm"])
    if reference is None:
        reference = next((a for a in arms if "full" in a), arms[0] if arms else None)
    out = comparison_table(
        eval_df, reference, policy=policy, metric=metric, labels=labels, n_boot=n_boot, confidence=confidence,
        seed=seed,
        task=task,
    )
    if teacher_metric is not None:
        seeds_df = per_seed(eval_df, task)
        teacher = seeds_df[seeds_df["policy"] == "teacher"].groupby("arm")[teacher_metric].mean()
        out[teacher_column or f"teacher_{teacher_metric}_mean"] = out["arm"].map(teacher)
    return out


def budget_table(
    eval_df: pd.DataFrame,
    readings: Sequence[tuple[str, str, str]],
    *,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    seed: int = 0,
    task=None,
) -> pd.DataFrame:
    """A task's equal-budget experiment: SITT, HLRL, COSIL and the no-teacher control, each at equal and at twice
    SITT's budget (``fair_comparison.md`` section 1).

    ``readings``: ``(budget, method, arm)`` rows (:attr:`study.presets.BudgetPlan.readings`), each budget's first row
    SITT's arm. Columns: ``budget, method, arm, n_seeds``, ``budget_env_steps`` (the arm's median run budget: env
    steps of every policy trained for a run, NaN when the rows lack it), ``student_mean, student_ci_low,
    student_ci_high`` (the student's true success over seeds, seeded bootstrap CI), ``teacher_mean`` (its teacher's;
    NaN for an arm without one, the no-teacher control) and ``poi_sitt, poi_sitt_ci_low, poi_sitt_ci_high``: the
    probability that a seed of the budget's SITT student beats a seed of this arm's (0.5: no difference; NaN on SITT's
    own row, or when that budget has no SITT runs). Rows in ``readings`` order; arms with no student runs are left
    out.
    """
    seeds_df = per_seed(eval_df, task)
    kw = dict(n_boot=n_boot, confidence=confidence, seed=seed)
    students = seeds_df[seeds_df["policy"] == "student"]

    def values(arm: str, frame: pd.DataFrame = students) -> np.ndarray:
        return frame.loc[frame["arm"] == arm, "success"].dropna().to_numpy(dtype=float)

    budgets = eval_df.groupby("arm")[BUDGET].median() if BUDGET in eval_df else pd.Series(dtype=float)
    sitt_of = {}
    for budget, _, arm in readings:
        sitt_of.setdefault(budget, arm)
    rows = []
    for budget, method, arm in readings:
        x = values(arm)
        if len(x) == 0:
            continue
        stats = summarise_metric(students[students["arm"] == arm], "success", ["arm"], **kw).iloc[0]
        teacher = values(arm, seeds_df[seeds_df["policy"] == "teacher"])
        row = dict(budget=budget, method=method, arm=arm, n_seeds=int(stats["n"]),
                   budget_env_steps=float(budgets.get(arm, np.nan)), student_mean=stats["mean"],
                   student_ci_low=stats["ci_low"], student_ci_high=stats["ci_high"],
                   teacher_mean=float(teacher.mean()) if len(teacher) else np.nan)
        sitt = values(sitt_of[budget])
        if arm == sitt_of[budget] or len(sitt) == 0:
            row.update(poi_sitt=np.nan, poi_sitt_ci_low=np.nan, poi_sitt_ci_high=np.nan)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DegenerateIntervalWarning)
                p = probability_of_improvement_ci(sitt, x, **kw)
            row.update(poi_sitt=p[0], poi_sitt_ci_low=p[1], poi_sitt_ci_high=p[2])
        rows.append(row)
    cols = ["budget", "method", "arm", "n_seeds", BUDGET, "student_mean", "student_ci_low", "student_ci_high",
            "teacher_mean", "poi_sitt", "poi_sitt_ci_low", "poi_sitt_ci_high"]
    return pd.DataFrame(rows, columns=cols)


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
        (:func:`study.load.load_progress`); NaN (no episode finished that iteration) counts as 0.
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


def tuning_table(root, task: str, profile: str | None = None, *, n_boot: int = N_BOOT, seed: int = 0,
                 schedule: Sequence[str] = ("n_envs", "n_steps", "batch_size", "n_epochs", "ent_coef",
                                            "total_timesteps")) -> pd.DataFrame | None:
    """The tuning probes of ``task`` under ``root`` (:func:`study.probes.load_tuning`: its tuning experiments and their
    tagged copies, on the tuning seeds): :func:`main_table` with each arm named ``"<experiment> / <arm>"``, joined
    with the columns ``schedule`` of each probe's config (:func:`study.probes.run_configs_table`). None without
    probes."""
    eval_df, schedules, _ = load_tuning(root, task, profile)
    if eval_df is None:
        return None
    table = main_table(eval_df, n_boot=n_boot, seed=seed, task=get_task(task))
    keep = ["arm", *[c for c in schedule if c in schedules]]
    return table.merge(schedules[keep].drop_duplicates("arm"), on="arm", how="left") if len(schedules) else table
