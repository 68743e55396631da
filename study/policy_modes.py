"""Stored runs re-evaluated with the arg-max and with sampled actions, on any task's held-out set.

Every reported evaluation takes the arg-max action (``deterministic=True``). A memoryless policy whose view is the same
in two places can then repeat one action for ever where a sample would have broken the loop; this reading tells such a
policy (it fails by the arg-max where its samples succeed) from one that does not know the way (it fails both ways).

* :func:`stored_policies`: ``policy -> act(obs, deterministic)`` of a complete run, from its stored files (its
  kind reads them back: :meth:`study.kinds.Kind.stored_policies`).
* :func:`policy_modes_table`: every complete run of an experiment, each policy, each of :data:`MODES`, through the
  task's own :meth:`study.task.Task.evaluate`; the deterministic rows are the run's reported evaluation, recomputed.
  With ``cache=True`` each run's rows are kept beside it (``policy_modes.csv``, :data:`study.store.MODES_FILE`) and
  read back while the run's config and the sampling seed are unchanged, so a report re-reads committed runs in
  seconds instead of evaluating every policy again.
* :func:`policy_modes_summary`: that table averaged over seeds.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from study import load, store
from study.kinds import PolicyAct
from study.registry import get_kind, kind_names
from study.tables import as_float
from study.task import student_view_fn

__all__ = ["MODES", "cache_key", "stored_policies", "stored_policy_kinds", "policy_modes_table", "policy_modes_summary"]

#: how actions are picked: the arg-max (what every reported evaluation does) or a sample of the policy's distribution
MODES = ("deterministic", "stochastic")


def stored_policy_kinds() -> tuple[str, ...]:
    """The registered training kinds whose runs give back their policies (:attr:`study.kinds.Kind.stores_policies`):
    a SITT run's teacher and student, the student of a run that trains only a student on top of a teacher run."""
    return tuple(name for name in kind_names() if get_kind(name).stores_policies)


def stored_policies(run_dir: str | Path, config, student_obs: Callable[[np.ndarray], np.ndarray]
                    ) -> dict[str, PolicyAct]:
    """``{policy: act(obs, deterministic)}`` of a complete run, read back by its kind
    (:meth:`study.kinds.Kind.stored_policies`). ``obs``: a batch of teacher observations ``(N, *obs)``;
    ``student_obs`` maps it to the run's student view. ``ValueError`` naming the run's kind for a kind that stores
    none (:func:`stored_policy_kinds`)."""
    kind = get_kind(config.kind)
    if not kind.stores_policies:
        raise ValueError(f"run {run_dir}: kind {config.kind!r} has no stored policy this reading loads; allowed: "
                         f"{', '.join(stored_policy_kinds())}")
    return kind.stored_policies(Path(run_dir), config, student_obs)


def cache_key(config, seed: int) -> str:
    """The key a run's cached readings are stored under: a digest of its whole config (env, evaluation set, arm) and
    the sampling ``seed``; a copied run (same training, another config) or another seed gets another key."""
    text = json.dumps(dict(config=config.to_dict(), seed=int(seed)), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _run_rows(task, run_dir: Path, config, seed: int) -> list[dict]:
    """One run's rows: each stored policy, each of :data:`MODES` (see :func:`policy_modes_table`)."""
    import torch  # noqa: PLC0415  (torch-heavy; its generator seeds the sampled actions)

    records = []
    train_env = task.train_env(config)  # the student view may read the env's geometry
    try:
        acts = stored_policies(run_dir, config, student_view_fn(task, train_env, config))
        for policy, act in acts.items():
            for mode in MODES:
                torch.manual_seed(seed)
                det = mode == "deterministic"
                rows, _ = task.evaluate(config, lambda obs, act=act, det=det: act(obs, det))
                metrics = task.episode_metrics(rows)
                record = dict(arm=config.arm, seed=config.seed, policy=policy, mode=mode, n_episodes=len(rows),
                              success=float(as_float(rows["success"]).mean()))
                record.update({m.name: float(metrics[m.name].mean()) for m in task.metrics if m.name in metrics})
                records.append(record)
    finally:
        train_env.close()
    return records


def _cached_rows(task, run_dir: Path, config, seed: int) -> list[dict]:
    """:func:`_run_rows`, read from the run's :data:`~study.store.MODES_FILE` when its key (:func:`cache_key`)
    matches, else computed and written there atomically (the file replaced whole or not at all)."""
    path = run_dir / store.MODES_FILE
    key = cache_key(config, seed)
    if path.is_file():
        cached = pd.read_csv(path)
        if "cache_key" in cached and len(cached) and (cached["cache_key"].astype(str) == key).all():
            cached = cached.drop(columns="cache_key").assign(arm=config.arm, seed=config.seed)
            return cached.to_dict("records")
    records = _run_rows(task, run_dir, config, seed)
    if records:
        frame = pd.DataFrame(records).assign(cache_key=key)
        store.atomic_write_text(path, frame.to_csv(index=False))
    return records


def policy_modes_table(task, root: str | Path, experiment: str, profile: str | None = None,
                       arms: Sequence[str] | None = None, seeds: Sequence[int] | None = None,
                       seed: int = 0, cache: bool = False) -> pd.DataFrame:
    """Every complete run of ``experiment`` under ``root`` (of ``profile``, ``arms`` and ``seeds`` when given), each
    stored policy re-evaluated with each of :data:`MODES` by ``task.evaluate`` on the run's held-out set. Sampled
    actions draw from torch's generator seeded with ``seed`` before each evaluation, so the table is the same on every
    call. With ``arms`` None, runs of kinds outside :func:`stored_policy_kinds` are left out; named, they raise.
    With ``cache``, each run's rows are read from (or written to) its :data:`study.store.MODES_FILE` under
    :func:`cache_key`; the table is the same either way.

    Columns ``arm, seed, policy, mode, n_episodes, success`` and the mean of each of the task's metrics
    (:attr:`study.task.Task.metrics`) that :meth:`~study.task.Task.episode_metrics` gives, one row per run, policy
    and mode, ordered by arm, seed, policy, mode."""
    records = []
    for run_dir, config in load.complete_runs(root, experiment, profile, arms, seeds):
        if arms is None and not get_kind(config.kind).stores_policies:
            continue
        rows = _cached_rows if cache else _run_rows  # a kind with no stored policy raises in stored_policies
        records.extend(rows(task, run_dir, config, seed))
    cols = ["arm", "seed", "policy", "mode", "n_episodes", "success"]
    if not records:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(records)
    return out.sort_values(["arm", "seed", "policy", "mode"]).reset_index(drop=True)


def policy_modes_summary(modes: pd.DataFrame, value: str = "success",
                         keys: Sequence[str] = ("arm", "policy")) -> pd.DataFrame:
    """:func:`policy_modes_table` (columns ``keys``, ``seed``, ``mode``, ``value``) averaged over seeds: one row per
    ``keys``, the number of seeds (``n``) and the mean ``value`` of each mode (columns named as :data:`MODES`)."""
    keys = list(keys)
    if modes.empty:
        return pd.DataFrame(columns=[*keys, "n", *MODES])
    wide = modes.pivot_table(index=keys, columns="mode", values=value, aggfunc="mean")
    n = modes.groupby(keys)["seed"].nunique().rename("n")
    out = wide.join(n).reset_index()
    out.columns.name = None
    return out[[*keys, "n", *[m for m in MODES if m in out]]]
