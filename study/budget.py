"""A run's budget: the total environment steps of every policy trained for it (``fair_comparison.md`` section 1).

teacher RL + student RL + imitation roll-outs: a SITT run (and the plain teacher, DWBC) trains teacher and student in
one budget, its ``env_steps``; BC and DAgger add their roll-outs to the teacher run they imitate; HLRL and COSIL add
their student's own PPO to their teacher's. Runs record it in provenance as ``budget_env_steps`` (since this module
exists); older records are read from what they hold (:func:`run_budget`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from study import store

#: the provenance field (and the eval/table column) holding a run's budget
BUDGET = "budget_env_steps"


def steps_label(n: float) -> str:
    """6000000 -> "6M", 768000 -> "768k", 768 -> "768"."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:g}"


def _provenance(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / store.PROVENANCE_FILE
    return store.read_json(path) if path.is_file() else {}


def budget_of(record: dict[str, Any], root: str | Path | None) -> dict[str, float]:
    """``{"own_steps", "teacher_steps", "total_steps"}`` of a run's provenance ``record``.

    ``own_steps``: its ``env_steps``; ``teacher_steps``: its ``teacher_env_steps`` (HLRL, COSIL), else the budget of the
    run named by ``teacher_run`` under ``root`` (BC, DAgger and other kinds with a teacher run), else 0;
    ``total_steps``: the recorded ``budget_env_steps`` when present, else their sum. NaN when ``env_steps`` is missing.
    """
    own = record.get("env_steps")
    if own is None:
        return dict(own_steps=np.nan, teacher_steps=np.nan, total_steps=np.nan)
    own = float(own)
    if record.get("teacher_env_steps") is not None:
        teacher = float(record["teacher_env_steps"])
    elif (record.get("teacher_run") or {}).get("run_id") and root is not None:
        teacher = float(budget_of(_provenance(Path(root) / record["teacher_run"]["run_id"]), root)["total_steps"])
    else:
        teacher = 0.0
    total = float(record[BUDGET]) if record.get(BUDGET) is not None else own + teacher
    return dict(own_steps=own, teacher_steps=teacher, total_steps=total)


def run_budget(run_dir: str | Path, root: str | Path | None = None) -> dict[str, float]:
    """:func:`budget_of` a run directory's provenance; ``root`` (default: three levels up, the store) finds the
    teacher run of BC/DAgger records."""
    run_dir = Path(run_dir)
    return budget_of(_provenance(run_dir), root if root is not None else run_dir.parents[2])


def arm_budgets(root: str | Path, experiment: str) -> pd.DataFrame:
    """Per arm of ``experiment``'s complete runs under ``root``: ``arm, n_runs, own_steps, teacher_steps,
    total_steps`` (medians over the runs; the runs of an arm share one profile, so the median is their budget)."""
    rows = []
    for marker in sorted(Path(root).glob(f"{experiment}/*/seed_*/{store.MARKER}")):
        b = run_budget(marker.parent, root)
        if np.isnan(b["own_steps"]):
            continue
        rows.append(dict(arm=marker.parent.parent.name, **b))
    cols = ["arm", "n_runs", "own_steps", "teacher_steps", "total_steps"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    out = df.groupby("arm", sort=True).agg(n_runs=("own_steps", "size"), own_steps=("own_steps", "median"),
                                           teacher_steps=("teacher_steps", "median"),
                                           total_steps=("total_steps", "median"))
    return out.reset_index()[cols]


__all__ = ["BUDGET", "arm_budgets", "budget_of", "run_budget", "steps_label"]
