"""Run one experiment config into the run store: train, evaluate on the task's held-out set, write every file, mark
done.

:func:`run_one` is idempotent: a complete run is returned at once without any work. It builds the run in a temporary
sibling directory ``<run_dir>.tmp-<pid>``, writes the marker file last, and renames the directory into place, so a
killed run leaves only a ``.tmp-*`` directory (removed by the next ``run_one`` of that run) and never a half result.
The training itself is the config's kind (:mod:`study.kinds`); the evaluation is the config's task
(:meth:`study.task.Task.evaluate`).

Files of a complete run (``<root>/<experiment>/<arm>/seed_<k>/``; names in :mod:`study.store`):

=================  ==========================================================================================
``config.json``    the resolved :class:`ExperimentConfig` (``to_dict``)
``provenance.json`` git commit and dirty flag, package versions, Python, CPU, torch threads, wall time, env-steps/s,
                   the held-out set's fingerprint ``eval_set_sha256`` and the task's own fields (the maze: hashes of
                   the training and held-out mazes), and for kinds with a teacher, the teacher run it used
``progress.csv``   SB3's progress log, one row per iteration (``kind="sitt"`` runs)
``imitation.csv``  BC/DAgger: per iteration and epoch, the loss and the iteration's statistics; ``imitation.json``
                   the rest of their ``info``
``eval.csv``       one row per (policy, held-out episode): ``policy`` in {teacher, student}, then the task's columns
                   (the maze: maze, success (true), release_success (the release's metric), ep_return, ep_length,
                   n_paths, through_path, route, outcome, n_done, n_success)
``positions.npz``  the task's evaluation arrays per policy (the maze: an int16 array (n_mazes, eval.n_steps + 1, 2)
                   of visited (x, y))
``model.zip``      the SITT model (``SITT.save``; for BC/DAgger a copy of the teacher run's)
``student.pt``     BC/DAgger: the student (``StudentPolicy.save``)
``COMPLETE``       the marker, written last: a JSON summary (success rates etc. per policy)
=================  ==========================================================================================
"""

from __future__ import annotations

import io
import shutil
import time
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np
import pandas as pd

from sitt.runtime import configure_threads
from study import load, store
from study.budget import BUDGET, budget_of
from study.config import ExperimentConfig
from study.paths import DEFAULT_ROOT
from study.task import check_rows


class StaleRunError(ValueError):
    """A complete run exists at the config's run directory but was made from a different config."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def config_differences(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names where two config dicts differ."""
    out = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, "<missing>"), b.get(key, "<missing>")
        if isinstance(va, dict) and isinstance(vb, dict) and key != "switches":
            out += config_differences(va, vb, f"{prefix}{key}.")
        elif va != vb:
            out.append(f"{prefix}{key}: stored {va!r}, requested {vb!r}")
    return out


def check_stored_config(config: ExperimentConfig, run_dir: Path) -> None:
    """Raise :class:`StaleRunError` when the complete run at ``run_dir`` was made from another config."""
    stored = load.load_config(run_dir).to_dict()
    diffs = config_differences(stored, config.to_dict())
    if diffs:
        raise StaleRunError(
            f"{run_dir}: a complete run of {config.run_id} exists with another config ({'; '.join(diffs[:5])}); "
            "use another root (or experiment name), or force=True to replace it"
        )


def evaluate_policies(config: ExperimentConfig, policies: dict[str, Callable[[np.ndarray], np.ndarray]], task=None):
    """Evaluate each act function (teacher observations -> actions) on the task's held-out set.

    Returns ``(eval_df, arrays, summaries)``: the rows of every policy (``policy`` first, then the task's columns),
    ``{name: ndarray}`` for ``positions.npz`` (the task's arrays under the policy's name, or ``<policy>_<name>``) and
    ``{policy: task.summary(rows)}``.
    """
    task = task or config.task_object()
    frames, arrays, summaries = [], {}, {}
    for name, act in policies.items():
        df, extra = task.evaluate(config, act)
        check_rows(task, df)
        if isinstance(extra, dict):
            arrays.update({f"{name}_{key}": np.asarray(value) for key, value in extra.items()})
        elif extra is not None:
            arrays[name] = np.asarray(extra)
        summaries[name] = task.summary(df)
        df = df.reset_index(drop=True)
        df.insert(0, "policy", name)
        frames.append(df)
    eval_df = pd.concat(frames, ignore_index=True)
    return eval_df, arrays, summaries


# --------------------------------------------------------------------------------------------------------- run_one


_remove_tree = store.remove_tree


def _build(config: ExperimentConfig, tmp: Path, teacher_dir: Path | None, started: float, started_at: str) -> None:
    """Everything of one run, into ``tmp``; the marker last. The git state is read before training: the code that
    ran, not whatever the checkout holds when the run ends."""
    git = store.git_state()
    task = config.task_object()
    store.atomic_write_json(tmp / store.CONFIG_FILE, config.to_dict())
    result = config.kind_object().train(config, task, tmp, teacher_dir)
    t0 = time.perf_counter()
    eval_df, arrays, summaries = evaluate_policies(config, result.policies, task)
    eval_s = time.perf_counter() - t0
    store.atomic_write_text(tmp / store.EVAL_FILE, eval_df.to_csv(index=False))
    if arrays:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        store.atomic_write_bytes(tmp / store.POSITIONS_FILE, buf.getvalue())

    held_out = task.held_out(config)
    wall_s = time.perf_counter() - started
    record = dict(
        store.provenance(),
        git=git,
        run_id=config.run_id,
        task=config.task,
        started_at=started_at,
        finished_at=_now(),
        wall_s=wall_s,
        train_s=result.train_s,
        eval_s=eval_s,
        env_steps=result.env_steps,
        env_steps_per_s=result.env_steps / result.train_s if result.train_s > 0 else None,
        eval_set_sha256=held_out.sha256,
        **task.provenance(config, result.train_env, held_out),
        **result.record,
    )
    # the run's budget: its own steps plus those of the teacher run it builds on (study.budget)
    record[BUDGET] = budget_of(record, teacher_dir.parents[2] if teacher_dir is not None else None)["total_steps"]
    store.atomic_write_json(tmp / store.PROVENANCE_FILE, record)
    summary = dict(
        run_id=config.run_id,
        experiment=config.experiment,
        arm=config.arm,
        seed=config.seed,
        profile=config.profile,
        task=config.task,
        kind=config.kind,
        finished_at=record["finished_at"],
        wall_s=wall_s,
        env_steps=result.env_steps,
        env_steps_per_s=record["env_steps_per_s"],
        eval_set_sha256=held_out.sha256,
        policies=summaries,
        files=sorted(p.name for p in tmp.iterdir()),
    )
    store.write_marker(tmp, summary)


_publish_run = store.publish_run  # rename the finished tmp into place (study.store: the protocol, defined once)


def find_equivalent(config: ExperimentConfig, root: str | Path = DEFAULT_ROOT) -> Path | None:
    """A complete run under ``root`` made from a config with ``config``'s :meth:`~ExperimentConfig.training_key` (the
    same run under another experiment or arm name), or None. An original run is preferred to a copy of one, and a
    run made from a clean git tree to one whose provenance says ``dirty`` (so that a copy stays traceable to a
    commit); then the first by path."""
    key = config.training_key()
    own = config.run_dir(root)
    found = []
    for marker in sorted(Path(root).glob(f"*/*/seed_{config.seed}/{store.MARKER}")):
        run_dir = marker.parent
        if run_dir == own:
            continue
        try:
            other = load.load_config(run_dir).validate()
            if other.training_key() != key:
                continue
            copied = store.read_marker(run_dir).get("reused_from") is not None
            git = store.read_json(run_dir / store.PROVENANCE_FILE).get("git") or {}
        except (OSError, ValueError, TypeError):  # an unreadable or outdated run is never a source
            continue
        found.append((copied, git.get("dirty") is not False, str(run_dir)))
    return Path(min(found)[-1]) if found else None


def _copy_run(config: ExperimentConfig, source: Path, tmp: Path) -> None:
    """Fill ``tmp`` with the run at ``source`` under ``config``'s name: its files, our config, its provenance and
    marker with ``reused_from`` (the original run's id) and ``reused_at`` added; the marker last."""
    for path in sorted(source.iterdir()):
        if path.is_file() and path.name not in (store.MARKER, store.CONFIG_FILE, store.PROVENANCE_FILE):
            store.atomic_write_with(tmp / path.name, lambda p, src=path: shutil.copyfile(src, p), suffix=path.suffix)
        elif path.is_dir():
            shutil.copytree(path, tmp / path.name)
    store.atomic_write_json(tmp / store.CONFIG_FILE, config.to_dict())
    marker = store.read_marker(source)
    origin = marker.get("reused_from") or marker.get("run_id")
    reused = dict(reused_from=origin, reused_at=_now(), reused_by_git=store.git_state())
    record = dict(store.read_json(source / store.PROVENANCE_FILE), run_id=config.run_id, **reused)
    store.atomic_write_json(tmp / store.PROVENANCE_FILE, record)
    summary = dict(marker, run_id=config.run_id, experiment=config.experiment, arm=config.arm, profile=config.profile,
                   reused_from=origin, files=sorted(p.name for p in tmp.iterdir()))
    store.write_marker(tmp, summary)


def run_one(config: ExperimentConfig, root: str | Path = DEFAULT_ROOT, force: bool = False, threads: int = 1,
            reuse: bool = True) -> Path:
    """Train and evaluate ``config`` into ``<root>/<experiment>/<arm>/seed_<k>``; return that directory.

    * validates first: a bad config raises ``ValueError`` naming the field before anything is created;
    * a complete run is returned at once (no training) when its stored config equals ``config``; a complete run of a
      different config raises :class:`StaleRunError` (``force=True`` retrains and replaces it);
    * sets torch to ``threads`` threads (:func:`sitt.runtime.configure_threads`);
    * BC/DAgger runs first make sure the teacher run (``config.teacher_config()``) is complete, training it if needed
      (``force`` does not propagate to it), then load its teacher;
    * with ``reuse`` (and not ``force``), a complete run of the same :meth:`~ExperimentConfig.training_key` under
      another name (:func:`find_equivalent`, e.g. ``main/sitt_release/seed_3`` for ``ablations/sitt_release/seed_3``)
      is copied instead of trained; its provenance and marker then say ``reused_from``;
    * builds the run in ``<run_dir>.tmp-<pid>``, writes the marker last, renames into place. An exception removes the
      temporary directory; a killed process leaves it, and the next ``run_one`` of the run removes it.
    """
    if not isinstance(config, ExperimentConfig):
        raise ValueError(f"config: got {type(config).__name__}; allowed: an ExperimentConfig")
    config.validate()
    root = Path(root)
    run_dir = config.run_dir(root)
    if (run_dir.exists() or run_dir.is_symlink()) and not run_dir.is_dir():
        raise FileExistsError(f"{run_dir}: exists and is not a directory; remove it to run {config.run_id}")
    if store.is_complete(run_dir) and not force:
        check_stored_config(config, run_dir)
        return run_dir
    configure_threads(threads)
    teacher_dir = None
    if config.kind_object().needs_teacher:
        teacher_dir = run_one(config.teacher_config(), root, force=False, threads=threads, reuse=reuse)
    started, started_at = time.perf_counter(), _now()
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    for stale in store.stale_tmp_dirs(run_dir):
        _remove_tree(stale)
    tmp = store.tmp_dir_for(run_dir)
    tmp.mkdir()
    try:
        source = find_equivalent(config, root) if reuse and not force else None
        if source is not None:
            _copy_run(config, source, tmp)
        else:
            _build(config, tmp, teacher_dir, started, started_at)
        _publish_run(tmp, run_dir, force)
    except BaseException:
        _remove_tree(tmp)
        raise
    store.failed_path(run_dir).unlink(missing_ok=True)
    return run_dir
