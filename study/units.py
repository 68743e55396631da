"""What SITT's roll-out term weighs on a task: per-step env reward, per-step KL(teacher || proxy) and lambda1 x KL as a
share of the reward, early, midway and at the end of training (``fair_comparison.md`` section 3).

Read from SB3's progress logs (:func:`study.load.load_progress`) and the runs' configs; nothing is retrained.
Per-step env reward: ``sitt/env_reward_mean`` (logged by SITT each iteration since the executed-action commit: the
mean env reward per roll-out step before the term, timeout bootstraps included) where a run has it, else
``rollout/ep_rew_mean / rollout/ep_len_mean`` (the mean return per step of the last finished episodes; SB3 records the
env's own rewards, before SITT's term). KL: ``sitt/kl_mean``, the roll-out KL(teacher || proxy) as the run measured it
(raw or clipped means). The plain teacher's KL is that of a ``without_alignment`` run: a plain PPO teacher whose proxy
is aligned alongside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from study.load import complete_runs, load_progress

#: the points of training the table reads (fractions of each run's iterations)
FRACTIONS = (0.1, 0.5, 1.0)
#: each point averages the iterations in (fraction - WINDOW, fraction] of the run (at least the nearest one)
WINDOW = 0.05


def reward_per_step(progress: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per-row env reward per step (R,) and its source (``"env_reward_mean"`` or ``"ep_rew/ep_len"``)."""
    column = "sitt/env_reward_mean"
    direct = progress[column] if column in progress else pd.Series(np.nan, progress.index)
    ratio = pd.Series(np.nan, progress.index)
    if {"rollout/ep_rew_mean", "rollout/ep_len_mean"} <= set(progress.columns):
        ratio = progress["rollout/ep_rew_mean"] / progress["rollout/ep_len_mean"]
    value = direct.where(direct.notna(), ratio)
    source = pd.Series(np.where(direct.notna(), "env_reward_mean", "ep_rew/ep_len"), progress.index)
    return value.astype(float), source


def run_points(progress: pd.DataFrame, fractions: Sequence[float] = FRACTIONS, window: float = WINDOW) -> pd.DataFrame:
    """One run's progress rows (``time/iterations`` and the logged columns) -> one row per fraction: ``fraction``,
    ``iteration`` (the last of the window), ``reward_per_step``, ``kl`` (NaN when the run logs no KL) and
    ``reward_source``."""
    if progress.empty:
        return pd.DataFrame(columns=["fraction", "iteration", "reward_per_step", "kl", "reward_source"])
    df = progress.sort_values("time/iterations")
    it = df["time/iterations"].to_numpy(float)
    reward, source = reward_per_step(df)
    kl = df["sitt/kl_mean"].astype(float) if "sitt/kl_mean" in df else pd.Series(np.nan, df.index)
    n = it.max()
    rows = []
    for f in fractions:
        mask = (it > (f - window) * n) & (it <= f * n)
        if not mask.any():
            mask = np.zeros(len(it), bool)
            mask[int(np.argmin(np.abs(it - f * n)))] = True
        rows.append(dict(fraction=f, iteration=int(it[mask].max()), reward_per_step=float(reward[mask].mean()),
                         kl=float(kl[mask].mean()) if kl[mask].notna().any() else np.nan,
                         reward_source=source[mask].iloc[-1]))
    return pd.DataFrame(rows)


def units_table(progress: pd.DataFrame, coefs: Mapping[str, tuple[int, float]], arms: Sequence[str] | None = None,
                fractions: Sequence[float] = FRACTIONS) -> pd.DataFrame:
    """Per arm and fraction of training: mean over seeds of the per-step env reward, of KL(teacher || proxy), and of
    the roll-out term ``sign x lambda1 x KL``, with its share of the reward.

    :param progress: progress rows of one experiment with ``arm``, ``seed``, ``time/iterations`` (R, C).
    :param coefs: ``{arm: (reward_sign, lambda1)}`` of each arm (lambda1 = 0 when the roll-out term is off).
    :param arms: the arms to show, in order (default: those of ``coefs`` present in ``progress``).
    :return: columns ``arm, fraction, n_seeds, reward_per_step, kl, lambda1, term_per_step`` (sign x lambda1 x KL),
        ``term_share`` (|term| / |reward|, the ratio of the seed means) and ``reward_source``.
    """
    arms = [a for a in (arms if arms is not None else coefs) if a in set(progress["arm"])]
    rows = []
    for arm in arms:
        sign, lam = coefs[arm]
        points = [run_points(g, fractions).assign(seed=seed)
                  for seed, g in progress[progress["arm"] == arm].groupby("seed", sort=True)]
        pts = pd.concat(points, ignore_index=True)
        for f, g in pts.groupby("fraction", sort=True):
            reward, kl = float(g["reward_per_step"].mean()), float(g["kl"].mean())
            term = sign * lam * kl
            rows.append(dict(arm=arm, fraction=f, n_seeds=len(g), reward_per_step=reward, kl=kl, lambda1=lam,
                             term_per_step=term, term_share=abs(term) / abs(reward) if reward else np.nan,
                             reward_source=",".join(sorted(set(g["reward_source"])))))
    return pd.DataFrame(rows)


def arm_coefs(configs: Mapping[str, object]) -> dict[str, tuple[int, float]]:
    """``{arm: (reward_sign, lambda1)}`` from ``{arm: ExperimentConfig}`` (lambda1 0 when the roll-out term is off)."""
    out = {}
    for arm, config in configs.items():
        cfg = config.sitt_config()
        out[arm] = (int(cfg.reward_sign), float(cfg.reward_coef) if cfg.reward_term else 0.0)
    return out


__all__ = ["FRACTIONS", "WINDOW", "arm_coefs", "reward_per_step", "run_points", "units_table"]


def experiment_units(root, experiment: str, arms: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`units_table` of the ``kind="sitt"`` arms of ``experiment`` in the store at ``root`` that log a KL (the
    without-alignment teacher, SITT's arms; a plain teacher without a proxy has no KL to show), in ``arms`` order when
    given. Empty when the experiment has no such run."""
    configs = {}
    for _, config in complete_runs(root, experiment):
        if config.kind == "sitt" and config.sitt_config().uses_student and (arms is None or config.arm in arms):
            configs.setdefault(config.arm, config)
    if not configs:
        return pd.DataFrame()
    progress = load_progress(root, experiment)
    progress = progress[progress["arm"].isin(list(configs))]
    order = [a for a in (arms if arms is not None else sorted(configs)) if a in configs]
    return units_table(progress, arm_coefs(configs), order)


__all__ += ["experiment_units"]
