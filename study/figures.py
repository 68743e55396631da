"""Figures of the study, for any task: metric plots with CIs, comparisons, the lambda1 sweep, training curves. A
task's own figures (the maze's six panels: :mod:`color_maze.figures`) live in its package.

Every function returns a ``matplotlib.figure.Figure`` built on an Agg canvas outside pyplot (no display needed, no
global state touched; a returned Figure still renders inline in a notebook). Save with
:func:`study.io.save_figure` or ``fig.savefig``. Intervals drawn are the tables' (seeded bootstrap over seeds,
:mod:`study.tables`), so a figure and its table always agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from study.tables import POLICIES, order_arms, per_seed, summarise_metric

__all__ = [
    "POLICY_COLORS",
    "new_figure",
    "metric_plot",
    "comparison_plot",
    "lambda1_plot",
    "training_curves",
    "CURVE_COLUMNS",
    "TRACKING_CURVES",
    "tracking_curves",
    "available_curves",
    "forest_plot",
]

POLICY_COLORS = {"teacher": "#4c72b0", "student": "#dd8452"}


def new_figure(figsize=(6.0, 4.0)) -> Figure:
    """A Figure on an Agg canvas, outside pyplot."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig



# --------------------------------------------------------------------------------------------- metric plots


def _seeds_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Per-seed metrics from either eval rows or an already per-seed frame (:func:`study.tables.per_seed`, which has
    ``n_episodes``)."""
    return df if "n_episodes" in df.columns else per_seed(df)


def metric_plot(
    data: pd.DataFrame,
    metric: str = "success",
    *,
    policies: Sequence[str] = POLICIES,
    arms: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> Figure:
    """Per arm (x) and policy (colour): each seed's value as a dot, the mean over seeds as a diamond with its 95%
    bootstrap CI (the tables' interval). ``data``: eval rows or :func:`study.tables.per_seed` output."""
    seeds_df = _seeds_frame(data)
    seeds_df = seeds_df[seeds_df["policy"].isin(list(policies))]
    arm_order = order_arms(seeds_df["arm"]) if arms is None else [a for a in arms if a in set(seeds_df["arm"])]
    seeds_df = seeds_df[seeds_df["arm"].isin(arm_order)]
    pol_order = [p for p in policies if p in set(seeds_df["policy"])]
    names = [(labels or {}).get(a, a) for a in arm_order]
    longest = max((len(n) for n in names), default=0)
    fig = new_figure((max(4.0, 0.9 * len(arm_order) + 0.05 * longest + 1.5), 3.6 + 0.045 * longest))
    ax = fig.add_subplot(1, 1, 1)
    if seeds_df.empty:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    palette = {p: POLICY_COLORS.get(p, "grey") for p in pol_order}
    rng_state = np.random.get_state()
    np.random.seed(seed)  # seaborn's jitter draws from the global RNG: keep the picture reproducible
    try:
        sns.stripplot(data=seeds_df, x="arm", y=metric, hue="policy", order=arm_order, hue_order=pol_order,
                      dodge=len(pol_order) > 1, jitter=0.12, alpha=0.45, size=4, palette=palette, ax=ax, legend=False)
    finally:
        np.random.set_state(rng_state)
    summary = summarise_metric(seeds_df, metric, ["arm", "policy"], n_boot=n_boot, seed=seed)
    width = 0.8 / max(1, len(pol_order))
    for j, pol in enumerate(pol_order):
        sub = summary[summary["policy"] == pol].set_index("arm")
        xs, ys, lo, hi = [], [], [], []
        for i, arm in enumerate(arm_order):
            if arm not in sub.index:
                continue
            offset = (j - (len(pol_order) - 1) / 2) * width if len(pol_order) > 1 else 0.0
            xs.append(i + offset)
            ys.append(sub.loc[arm, "mean"])
            lo.append(sub.loc[arm, "mean"] - sub.loc[arm, "ci_low"])
            hi.append(sub.loc[arm, "ci_high"] - sub.loc[arm, "mean"])
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt="D", color=palette[pol], markeredgecolor="black", markersize=7,
                    capsize=4, lw=1.6, label=f"{pol}: mean, 95% CI", zorder=5)
    ax.set_xticks(range(len(arm_order)))
    ax.set_xticklabels(names, rotation=25, ha="right")
    ax.set_xlabel("")
    ax.set_ylabel(ylabel or metric)
    if seeds_df[metric].between(0, 1).all():
        ax.set_ylim(-0.05, 1.05)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def comparison_plot(comp: pd.DataFrame, *, value: str = "diff", title: str | None = None,
                    label_col: str = "arm") -> Figure:
    """Forest plot of :func:`study.tables.comparison_table` rows: ``value="diff"`` (mean difference to the
    reference, 0 line) or ``"poi"`` (probability of improvement over the reference, 0.5 line), with 95% CIs."""
    rows = comp.reset_index(drop=True)
    n = len(rows)
    fig = new_figure((7.5, max(1.8, 0.45 * n + 1.2)))
    ax = fig.add_subplot(1, 1, 1)
    if n == 0:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    y = np.arange(n)[::-1]
    v = rows[value].to_numpy(dtype=float)
    lo = rows[f"{value}_ci_low"].to_numpy(dtype=float)
    hi = rows[f"{value}_ci_high"].to_numpy(dtype=float)
    err = np.vstack([np.where(np.isfinite(lo), v - lo, 0.0), np.where(np.isfinite(hi), hi - v, 0.0)])
    ax.errorbar(v, y, xerr=err, fmt="o", color="#4c72b0", ecolor="black", capsize=3)
    ax.axvline(0.0 if value == "diff" else 0.5, color="grey", ls="--", lw=1)
    ref = comp.attrs.get("reference")
    labels = [str(t) for t in (rows[label_col] if label_col in rows else rows["arm"])]
    if ref and "kind" not in rows:
        labels = [f"{t} (reference)" if a == ref else t for t, a in zip(labels, rows["arm"])]
    ax.set_yticks(y)
    ax.set_yticklabels([t if len(t) <= 60 else t[:57] + "..." for t in labels], fontsize=8)
    ax.set_xlabel(("difference in mean" if value == "diff" else "probability of improvement")
                  + (f" vs {ref}" if ref else "") + " (95% CI)")
    if value == "poi":
        ax.set_xlim(-0.02, 1.02)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def lambda1_plot(table: pd.DataFrame, *, title: str | None = None, ylabel: str = "student true success") -> Figure:
    """The lambda1 sweep (:func:`study.tables.lambda1_table`): mean and 95% CI against the coefficient (log
    axis), one line for the release's sign (bonus) and one for the paper's (penalty)."""
    fig = new_figure((5.5, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    if len(table) == 0:
        ax.text(0.5, 0.5, "no lambda1 runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    colors = {"bonus": "#4c72b0", "penalty": "#c44e52"}
    for sign, sub in table.groupby("sign", sort=True):
        sub = sub.sort_values("coef")
        m = sub["mean"].to_numpy(dtype=float)
        err = np.vstack([m - sub["ci_low"].to_numpy(dtype=float), sub["ci_high"].to_numpy(dtype=float) - m])
        label = "+ lambda1 KL (release sign)" if sign == "bonus" else "- lambda1 KL (paper sign)"
        ax.errorbar(sub["coef"], m, yerr=err, fmt="o-", capsize=4, color=colors.get(sign, "grey"), label=label)
    ax.set_xscale("log")
    ax.set_xlabel("lambda1 (reward coefficient of the KL)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------- training curves

#: progress.csv columns worth plotting, in order of interest
CURVE_COLUMNS = (
    "rollout/success_rate",
    "rollout/ep_rew_mean",
    "rollout/ep_len_mean",
    "rollout/n_paths_mean",
    "sitt/kl_mean",
    "sitt/align_loss",
    "sitt/agreement",
    "train/entropy_loss",
)


#: how well SITT's proxy tracks its student, per iteration (logged by runs since the executed-action switch; older
#: runs lack them): the roll-out KL of the teacher to its proxy and to its student, their mean absolute gap and their
#: correlation over the roll-out's states (:mod:`sitt.algorithm`)
TRACKING_CURVES = ("sitt/kl_mean", "sitt/kl_student_mean", "sitt/proxy_tracking_mae", "sitt/proxy_tracking_corr")


def available_curves(progress: pd.DataFrame, wanted: Sequence[str] = CURVE_COLUMNS) -> list[str]:
    """The columns of ``wanted`` that ``progress`` has with at least one value."""
    return [c for c in wanted if c in progress.columns and progress[c].notna().any()]


def training_curves(
    progress: pd.DataFrame,
    ys: str | Sequence[str] | None = None,
    *,
    x: str = "time/total_timesteps",
    hue: str = "arm",
    arms: Sequence[str] | None = None,
    ncols: int = 3,
    title: str | None = None,
    seed: int = 0,
) -> Figure:
    """Training curves from progress.csv rows (:func:`study.load.load_progress`): one panel per column of
    ``ys`` (default: :func:`available_curves`), mean over seeds per ``hue`` with a seeded 95% bootstrap band."""
    ys = available_curves(progress) if ys is None else ([ys] if isinstance(ys, str) else list(ys))
    missing = [c for c in [x, *ys] if c not in progress.columns]
    if missing:
        raise ValueError(f"progress has no column(s) {missing}; it has {sorted(progress.columns)}")
    data = progress if arms is None else progress[progress[hue].isin(list(arms))]
    order = order_arms(data[hue]) if hue == "arm" else sorted(data[hue].unique())
    ncols = max(1, min(ncols, len(ys)))
    nrows = max(1, math.ceil(len(ys) / ncols))
    fig = new_figure((4.2 * ncols, 3.0 * nrows + 0.6))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, col in zip(axes, ys):
        sub = data[[x, hue, col]].dropna()
        if sub.empty:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        else:
            sns.lineplot(data=sub, x=x, y=col, hue=hue, hue_order=[h for h in order if h in set(sub[hue])],
                         errorbar=("ci", 95), n_boot=500, seed=seed, ax=ax, legend=ax is axes[0])
        ax.set_title(col, fontsize=9)
        ax.set_ylabel("")
        ax.set_xlabel("env steps" if x == "time/total_timesteps" else x, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(ys):]:
        ax.set_visible(False)
    if len(ys) and axes[0].get_legend() is not None:
        axes[0].legend(fontsize=7, title=None)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def tracking_curves(progress: pd.DataFrame | None, title: str | None = None, seed: int = 0) -> Figure | None:
    """The proxy's tracking of the student (:data:`TRACKING_CURVES`, one panel each) over the rows of ``progress``
    that log all four (runs trained since the log was added; older runs of the same experiment are left out).
    None when ``progress`` is None or no row logs them.

    :param progress: progress.csv rows (:func:`study.load.load_progress`), one row per run and iteration.
    :param title: the figure's title."""
    if progress is None or any(c not in progress.columns for c in TRACKING_CURVES):
        return None
    logged = progress.dropna(subset=list(TRACKING_CURVES))
    if logged.empty:
        return None
    return training_curves(logged, list(TRACKING_CURVES), ncols=4, title=title, seed=seed)


# --------------------------------------------------------------------------------------------- forest plot


def forest_plot(rows: pd.DataFrame, *, title: str | None = None, xlabel: str = "student true success",
                paper_label: str = "paper") -> Figure:
    """One row per arm, top to bottom in the order of ``rows`` (:func:`study.scorecard.forest_rows`: ``label, mean,
    ci_low, ci_high`` and optionally ``paper``): the mean over seeds with its 95% CI as a bar, the paper's number as
    a red cross where the paper has one."""
    rows = rows.reset_index(drop=True)
    n = len(rows)
    longest = max((len(str(t)) for t in rows.get("label", [])), default=0)
    fig = new_figure((6.0 + 0.055 * longest, max(1.8, 0.42 * n + 1.3)))
    ax = fig.add_subplot(1, 1, 1)
    if n == 0:
        ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        return fig
    y = np.arange(n)[::-1]
    m = rows["mean"].to_numpy(dtype=float)
    lo, hi = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
    err = np.vstack([np.where(np.isfinite(lo), m - lo, 0.0), np.where(np.isfinite(hi), hi - m, 0.0)])
    handles = [ax.errorbar(m, y, xerr=err, fmt="o", color=POLICY_COLORS["student"], ecolor="black", capsize=3,
                           lw=1.4, markeredgecolor="black", label="ours: mean over seeds, 95% CI", zorder=3)]
    if "paper" in rows and rows["paper"].notna().any():
        p = rows["paper"].to_numpy(dtype=float)
        ok = np.isfinite(p)
        handles += ax.plot(p[ok], y[ok], "x", color="#c44e52", markersize=9, mew=2, label=paper_label, zorder=4)
    ax.set_yticks(y)
    ax.set_yticklabels([str(t) for t in rows["label"]], fontsize=8)
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(xlabel)
    ax.legend(handles=handles, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    if title:
        ax.set_title(title, fontsize=10, pad=22)
    fig.tight_layout()
    return fig
