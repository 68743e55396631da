"""A coefficient grid's table and the configuration its committed selection rule picks (``fair_comparison.md``
section 2).

Input: the per-seed table of a grid experiment (:func:`study.tables.per_seed`: one row per arm, policy and seed, with
``success`` and the task's metrics), the grid's points ``{arm: (lambda1, lambda2, action_distance)}``
(:meth:`study.presets.SITTGrid.points` named by :meth:`~study.presets.SITTGrid.arm_name`) and the
:class:`study.presets.SelectionRule` fixed with the grid. Output: one row per grid point (:func:`grid_table`) and the
chosen row (:func:`select`). Pure functions of DataFrames, tested on hand-made tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from study.presets import CLIPPED_BASELINE_ARMS

DISTANCE_ORDER = ("raw", "clipped")  # the tie-break order of SelectionRule: the simpler set-up first


def grid_points(*grids) -> dict[str, tuple[float, float, str]]:
    """``{arm: (lambda1, lambda2, action_distance)}`` of one or more :class:`study.presets.SITTGrid`, in grid order."""
    out: dict[str, tuple[float, float, str]] = {}
    for grid in grids:
        for l1, l2, d in grid.points():
            out[grid.arm_name(l1, l2, d)] = (float(l1), float(l2), d)
    return out


def grid_table(seeds: pd.DataFrame, points: Mapping[str, tuple[float, float, str]], rule,
               metrics: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per grid point that has runs: its coefficients, seeds, mean teacher and student success, and how it
    stands against the rule's reference arm on the same seeds.

    :param seeds: per-seed rows (columns ``arm, policy, seed, success`` and any of ``metrics``), (R, C).
    :param points: ``{arm: (lambda1, lambda2, action_distance)}``; arms of ``seeds`` not in it are ignored, except
        ``rule.reference_arm``.
    :param rule: a :class:`study.presets.SelectionRule` (``teacher_floor``, ``min_seeds``, ``reference_arm``).
    :param metrics: extra per-seed columns averaged per policy (e.g. the drawer's ``visible_share``), as
        ``teacher_<metric>`` and ``student_<metric>``.
    :return: columns ``arm, lambda1, lambda2, action_distance, n_seeds, seeds, teacher_success, student_success``,
        the metric means, ``reference_teacher_success`` and ``reference_student_success`` (the reference arm's means
        over the SAME seeds as the point's), ``teacher_ratio`` (teacher / reference teacher; NaN when the reference
        teacher never succeeds), ``student_gain`` (student - reference student) and ``admissible``
        (``n_seeds >= rule.min_seeds`` and ``teacher_ratio >= rule.teacher_floor``); in grid order.
    """
    need = {"arm", "policy", "seed", "success"}
    missing = sorted(need - set(seeds.columns))
    if missing:
        raise ValueError(f"seeds: missing column {missing[0]!r}; allowed: a per-seed table with {sorted(need)}")
    ref = seeds[seeds["arm"] == rule.reference_arm]
    ref_by = {p: ref[ref["policy"] == p].set_index("seed")["success"] for p in ("teacher", "student")}
    rows = []
    for arm, (l1, l2, d) in points.items():
        sub = seeds[seeds["arm"] == arm]
        if sub.empty:
            continue
        teacher = sub[sub["policy"] == "teacher"].set_index("seed")
        student = sub[sub["policy"] == "student"].set_index("seed")
        run_seeds = sorted(set(teacher.index) & set(student.index))
        row = dict(arm=arm, lambda1=l1, lambda2=l2, action_distance=d, n_seeds=len(run_seeds),
                   seeds=",".join(str(int(s)) for s in run_seeds))
        row["teacher_success"] = float(teacher.loc[run_seeds, "success"].mean()) if run_seeds else np.nan
        row["student_success"] = float(student.loc[run_seeds, "success"].mean()) if run_seeds else np.nan
        for m in metrics:
            for name, frame in (("teacher", teacher), ("student", student)):
                row[f"{name}_{m}"] = float(frame.loc[run_seeds, m].mean()) if run_seeds and m in frame else np.nan
        shared = [s for s in run_seeds if s in ref_by["teacher"].index and s in ref_by["student"].index]
        ref_t = float(ref_by["teacher"].loc[shared].mean()) if shared and len(shared) == len(run_seeds) else np.nan
        ref_s = float(ref_by["student"].loc[shared].mean()) if shared and len(shared) == len(run_seeds) else np.nan
        row["reference_teacher_success"], row["reference_student_success"] = ref_t, ref_s
        row["teacher_ratio"] = row["teacher_success"] / ref_t if ref_t and ref_t > 0 else np.nan
        row["student_gain"] = row["student_success"] - ref_s
        row["admissible"] = bool(len(run_seeds) >= rule.min_seeds and row["teacher_ratio"] >= rule.teacher_floor)
        rows.append(row)
    return pd.DataFrame(rows)


def select(table: pd.DataFrame, rule) -> pd.Series | None:
    """The configuration the rule picks from :func:`grid_table`'s rows: among the admissible ones the highest mean
    student success; within ``rule.tie`` of it, the smaller lambda1, then the smaller lambda2, then ``raw`` before
    ``clipped``. None when no row is admissible."""
    ok = table[table["admissible"].astype(bool)] if len(table) else table
    if ok.empty:
        return None
    best = ok["student_success"].max()
    near = ok[ok["student_success"] >= best - rule.tie - 1e-12].copy()
    near["_d"] = near["action_distance"].map({d: i for i, d in enumerate(DISTANCE_ORDER)})
    near = near.sort_values(["lambda1", "lambda2", "_d"], kind="stable")
    return near.drop(columns="_d").iloc[0]


def clipped_pairs() -> dict[str, str]:
    """``{raw arm: clipped arm}`` of the imitation baselines measured with executed-action distances
    (:data:`study.presets.CLIPPED_BASELINE_ARMS`)."""
    return {name[: -len("_clipped")]: name for name in CLIPPED_BASELINE_ARMS}


def switch_table(seeds: pd.DataFrame, pairs: Mapping[str, str], threshold: float = 0.02) -> pd.DataFrame:
    """The executed-action switch on the baselines: per ``{raw arm: clipped arm}`` pair, the mean student success of
    each over the seeds both have, the gain, and whether the baseline adopts ``clipped`` (gain > ``threshold``, the
    rule fixed with the grid)."""
    rows = []
    for raw, clipped in pairs.items():
        a = seeds[(seeds["arm"] == raw) & (seeds["policy"] == "student")].set_index("seed")["success"]
        b = seeds[(seeds["arm"] == clipped) & (seeds["policy"] == "student")].set_index("seed")["success"]
        shared = sorted(set(a.index) & set(b.index))
        if not shared:
            continue
        ra, rb = float(a.loc[shared].mean()), float(b.loc[shared].mean())
        rows.append(dict(baseline=raw, n_seeds=len(shared), raw_student_success=ra, clipped_student_success=rb,
                         gain=rb - ra, adopt_clipped=bool(rb - ra > threshold)))
    return pd.DataFrame(rows)


def schedule_table(seeds: pd.DataFrame, schedules, rule) -> pd.DataFrame:
    """The alignment schedules searched for a selected configuration (:class:`study.presets.AlignSchedules`): per
    base arm (the selected SITT arm, then the reference arm) and schedule tag, the mean teacher and student success of
    ``<base>_<tag>`` and of ``<base>`` (the profile's schedule) over the seeds both have, the student's gain, the
    teacher's success as a share of the reference arm's teacher at the profile schedule (same seeds), and whether the
    schedule is adopted: gain > ``schedules.gain``, ``n_seeds >= rule.min_seeds`` and, for the SITT arm, the
    teacher ratio >= ``rule.teacher_floor``; of two adopted schedules for one base only the larger gain is (column
    ``chosen``).

    :param seeds: per-seed rows (columns ``arm, policy, seed, success``), (R, C).
    :return: columns ``base, schedule, arm, n_seeds, teacher_success, student_success, profile_teacher_success,
        profile_student_success, gain, teacher_ratio, adopt, chosen``; empty when no schedule arm has runs.
    """
    by = {(a, p): g.set_index("seed")["success"] for (a, p), g in seeds.groupby(["arm", "policy"])}
    empty = pd.Series(dtype=float)
    ref_teacher = by.get((schedules.reference, "teacher"), empty)
    rows = []
    for base in (schedules.selected, schedules.reference):
        for tag in schedules.schedules:
            arm = schedules.arm_name(base, tag)
            t, st = by.get((arm, "teacher"), empty), by.get((arm, "student"), empty)
            bt, bs = by.get((base, "teacher"), empty), by.get((base, "student"), empty)
            shared = sorted(set(t.index) & set(st.index) & set(bt.index) & set(bs.index) & set(ref_teacher.index))
            if not shared:
                continue
            row = dict(base=base, schedule=tag, arm=arm, n_seeds=len(shared),
                       teacher_success=float(t.loc[shared].mean()), student_success=float(st.loc[shared].mean()),
                       profile_teacher_success=float(bt.loc[shared].mean()),
                       profile_student_success=float(bs.loc[shared].mean()))
            row["gain"] = row["student_success"] - row["profile_student_success"]
            ref = float(ref_teacher.loc[shared].mean())
            row["teacher_ratio"] = row["teacher_success"] / ref if ref > 0 else np.nan
            floor_ok = base == schedules.reference or row["teacher_ratio"] >= rule.teacher_floor
            row["adopt"] = bool(row["gain"] > schedules.gain and len(shared) >= rule.min_seeds and floor_ok)
            rows.append(row)
    table = pd.DataFrame(rows, columns=["base", "schedule", "arm", "n_seeds", "teacher_success", "student_success",
                                        "profile_teacher_success", "profile_student_success", "gain",
                                        "teacher_ratio", "adopt"])
    table["chosen"] = False
    for base, group in table.loc[table["adopt"].astype(bool)].groupby("base", sort=False):
        table.loc[group["gain"].idxmax(), "chosen"] = True
    return table


__all__ = ["DISTANCE_ORDER", "clipped_pairs", "grid_points", "grid_table", "schedule_table", "select",
           "switch_table"]
