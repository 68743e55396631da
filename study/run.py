"""Run one experiment config into the run store: train, evaluate on the held-out mazes, write every file, mark done.

:func:`run_one` is idempotent: a complete run is returned at once without any work. It builds the run in a temporary
sibling directory ``<run_dir>.tmp-<pid>``, writes the marker file last, and renames the directory into place, so a
killed run leaves only a ``.tmp-*`` directory (removed by the next ``run_one`` of that run) and never a half result.

Files of a complete run (``<root>/<experiment>/<arm>/seed_<k>/``):

=================  ==========================================================================================
``config.json``    the resolved :class:`ExperimentConfig` (``to_dict``)
``provenance.json`` git commit and dirty flag, package versions, Python, CPU, torch threads, wall time, env-steps/s,
                   hashes of the training and held-out mazes (and, for BC/DAgger, the teacher run it used)
``progress.csv``   SB3's progress log, one row per iteration (``kind="sitt"`` runs)
``imitation.csv``  BC/DAgger: per iteration and epoch, the loss and the iteration's statistics; ``imitation.json``
                   the rest of their ``info``
``eval.csv``       one row per (policy, maze): policy in {teacher, student}, maze, success (true), release_success
                   (the release's metric), ep_return, ep_length, n_paths, through_path, route, outcome, n_done,
                   n_success
``positions.npz``  per policy an int16 array (n_mazes, eval.n_steps + 1, 2) of visited (x, y)
``model.zip``      the SITT model (``SITT.save``; for BC/DAgger a copy of the teacher run's)
``student.pt``     BC/DAgger: the student (``StudentPolicy.save``)
``COMPLETE``       the marker, written last: a JSON summary (success rates etc. per policy)
=================  ==========================================================================================
"""

from __future__ import annotations

import io
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from study import store
from study.config import ExperimentConfig
from study.load import eval_grids, mazes_sha256
from sitt.runtime import configure_threads

DEFAULT_ROOT = "results/runs"
EVAL_COLUMNS = [
    "policy", "maze", "success", "release_success", "ep_return", "ep_length", "n_paths", "through_path", "route",
    "outcome", "n_done", "n_success",
]


class StaleRunError(ValueError):
    """A complete run exists at the config's run directory but was made from a different config."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
    stored = ExperimentConfig.from_dict(store.read_json(run_dir / store.CONFIG_FILE)).to_dict()
    diffs = config_differences(stored, config.to_dict())
    if diffs:
        raise StaleRunError(
            f"{run_dir}: a complete run of {config.run_id} exists with another config ({'; '.join(diffs[:5])}); "
            "use another root (or experiment name), or force=True to replace it"
        )


def make_train_env(config: ExperimentConfig):
    """The run's training env: ``config.env.n_envs`` mazes drawn from the run's seed."""
    from color_maze import ColorMazeEnv

    e = config.env
    return ColorMazeEnv(e.n_envs, e.grid_size, e.margin_size, seed=config.seed, quirks=e.quirks)


def make_eval_env(config: ExperimentConfig):
    """The held-out evaluation env: :func:`eval_grids` (the same for every arm and seed) with the run's quirks."""
    from color_maze import ColorMazeEnv

    return ColorMazeEnv.from_grids(eval_grids(config), margin_size=config.env.margin_size, quirks=config.env.quirks)


def make_sitt(config: ExperimentConfig, env):
    """The untrained SITT model of a ``kind="sitt"`` config on ``env``."""
    from sitt.algorithm import SITT

    return SITT(
        "MlpPolicy",
        env,
        recipe=config.recipe,
        **config.switches,
        **config.ppo.sb3_kwargs(config.env.n_envs),
        seed=config.seed,
        device=config.device,
        verbose=0,
    )


def _sb3_logger(log_dir: Path, tensorboard_dir: Path | None):
    from stable_baselines3.common.logger import Logger, make_output_format

    formats = [make_output_format("csv", str(log_dir))]
    if tensorboard_dir is not None:
        formats.append(make_output_format("tensorboard", str(tensorboard_dir)))
    return Logger(folder=str(log_dir), output_formats=formats)


def evaluate_policies(config: ExperimentConfig, policies: dict[str, Callable[[np.ndarray], np.ndarray]]):
    """Evaluate each act function (teacher observations -> actions) on the held-out mazes.

    Returns ``(eval_df, positions, summaries)``: the rows of every policy (``EVAL_COLUMNS``), ``{policy: int16 array
    (n_mazes, n_steps + 1, 2)}`` and ``{policy: color_maze.evaluate.summarise(rows)}``.
    """
    from color_maze.evaluate import stack_positions, summarise
    from color_maze.evaluate import evaluate as evaluate_on_mazes

    frames, positions, summaries = [], {}, {}
    for name, act in policies.items():
        env = make_eval_env(config)
        df = evaluate_on_mazes(act, env, n_steps=config.eval.n_steps)
        positions[name] = stack_positions(df).astype(np.int16)
        summaries[name] = summarise(df)
        df = df.drop(columns=["positions"])
        df.insert(0, "policy", name)
        frames.append(df)
    eval_df = pd.concat(frames, ignore_index=True)[EVAL_COLUMNS]
    return eval_df, positions, summaries


def _teacher_act(model) -> Callable[[np.ndarray], np.ndarray]:
    return lambda obs: model.predict(obs, deterministic=True)[0]


def _sitt_student_act(model, student_obs_fn) -> Callable[[np.ndarray], np.ndarray]:
    return lambda obs: model.predict_student(student_obs_fn(obs), deterministic=True)[0]


# --------------------------------------------------------------------------------------------- the two run kinds


def _train_sitt(config: ExperimentConfig, tmp: Path) -> dict[str, Any]:
    """Train a SITT model in ``tmp``; write progress.csv and model.zip; return what evaluation and records need."""
    env = make_train_env(config)
    model = make_sitt(config, env)
    log_dir = tmp / "_log"
    logger = _sb3_logger(log_dir, tmp / "tensorboard" if config.tensorboard else None)
    model.set_logger(logger)
    t0 = time.perf_counter()
    model.learn(total_timesteps=config.total_timesteps, progress_bar=False)
    train_s = time.perf_counter() - t0
    logger.close()
    progress = log_dir / "progress.csv"
    if not progress.exists():  # no iteration was logged (cannot happen with a validated budget); keep the schema
        progress.write_text("")
    store.publish_file(progress, tmp / store.PROGRESS_FILE)
    shutil.rmtree(log_dir, ignore_errors=True)
    store.atomic_write_with(tmp / store.MODEL_FILE, lambda p: model.save(p), suffix=".zip")
    policies = {"teacher": _teacher_act(model)}
    if model.nets is not None:
        policies["student"] = _sitt_student_act(model, env.student_obs)
    return dict(
        policies=policies,
        train_s=train_s,
        env_steps=int(model.num_timesteps),
        train_grids=env.grids,
    )


def _imitation_tables(kind: str, info: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """BC/DAgger ``info`` -> (rows per iteration and epoch, the JSON-able rest)."""
    rows = []
    if kind == "bc":
        for epoch, loss in enumerate(info["losses"]):
            rows.append(dict(iteration=0, epoch=epoch, loss=float(loss), dataset_size=info["dataset_size"]))
        rest = {k: v for k, v in info.items() if k != "losses"}
    else:
        per_iter = ("betas", "dataset_sizes", "student_share", "new_state_agreement", "final_loss", "agreement",
                    "mean_reward")
        for i, losses in enumerate(info["losses"]):
            extra = {k: info[k][i] for k in per_iter if k in info}
            for epoch, loss in enumerate(losses):
                rows.append(dict(iteration=i, epoch=epoch, loss=float(loss), **extra))
        arrays = ("teacher_obs", "iteration", "student_acted")
        rest = {k: v for k, v in info.items() if k not in arrays}
        if "student_acted" in info:
            rest["student_acted_share"] = float(np.mean(info["student_acted"]))
    return pd.DataFrame(rows), store.jsonable(rest)


def _train_imitation(config: ExperimentConfig, tmp: Path, teacher_dir: Path) -> dict[str, Any]:
    """BC or DAgger against the teacher of the run at ``teacher_dir``; write model.zip (a copy of the teacher's),
    student.pt, imitation.csv and imitation.json."""
    from sitt.algorithm import SITT
    from sitt.baselines import behaviour_cloning, dagger

    teacher = SITT.load(teacher_dir / store.MODEL_FILE, device=config.device)
    env = make_train_env(config)
    t0 = time.perf_counter()
    if config.kind == "bc":
        student, info = behaviour_cloning(teacher, env, env.student_obs, seed=config.seed, **config.imitation.bc_kwargs())
        env_steps = int(config.imitation.bc_n_steps_per_env * config.env.n_envs)
    else:
        student, info = dagger(teacher, env, env.student_obs, seed=config.seed, **config.imitation.dagger_kwargs())
        env_steps = int(config.imitation.dagger_iterations * config.imitation.dagger_n_steps_per_env * config.env.n_envs)
    train_s = time.perf_counter() - t0
    table, rest = _imitation_tables(config.kind, info)
    store.atomic_write_with(
        tmp / store.MODEL_FILE, lambda p: shutil.copyfile(teacher_dir / store.MODEL_FILE, p), suffix=".zip"
    )
    store.atomic_write_with(tmp / store.STUDENT_FILE, lambda p: student.save(p), suffix=".pt")
    store.atomic_write_text(tmp / store.IMITATION_CSV, table.to_csv(index=False))
    store.atomic_write_json(tmp / store.IMITATION_JSON, rest)
    student_obs_fn = env.student_obs
    policies = {
        "teacher": _teacher_act(teacher),
        "student": lambda obs: student.predict(student_obs_fn(obs), deterministic=True)[0],
    }
    teacher_record = {
        "run_dir": str(teacher_dir),
        "run_id": config.teacher_config().run_id,
        "marker": store.read_marker(teacher_dir),
    }
    return dict(policies=policies, train_s=train_s, env_steps=env_steps, train_grids=env.grids, teacher_run=teacher_record)


# --------------------------------------------------------------------------------------------------------- run_one


_remove_tree = store.remove_tree


def _build(config: ExperimentConfig, tmp: Path, teacher_dir: Path | None, started: float, started_at: str) -> None:
    """Everything of one run, into ``tmp``; the marker last."""
    store.atomic_write_json(tmp / store.CONFIG_FILE, config.to_dict())
    if config.kind == "sitt":
        result = _train_sitt(config, tmp)
    else:
        result = _train_imitation(config, tmp, teacher_dir)
    t0 = time.perf_counter()
    eval_df, positions, summaries = evaluate_policies(config, result["policies"])
    eval_s = time.perf_counter() - t0
    store.atomic_write_text(tmp / store.EVAL_FILE, eval_df.to_csv(index=False))
    buf = io.BytesIO()
    np.savez_compressed(buf, **positions)
    store.atomic_write_bytes(tmp / store.POSITIONS_FILE, buf.getvalue())

    held_out = eval_grids(config)
    train_grids = np.asarray(result["train_grids"])
    train_set = {g.tobytes() for g in train_grids}
    wall_s = time.perf_counter() - started
    record = dict(
        store.provenance(),
        run_id=config.run_id,
        started_at=started_at,
        finished_at=_now(),
        wall_s=wall_s,
        train_s=result["train_s"],
        eval_s=eval_s,
        env_steps=result["env_steps"],
        env_steps_per_s=result["env_steps"] / result["train_s"] if result["train_s"] > 0 else None,
        train_mazes_sha256=mazes_sha256(train_grids),
        eval_mazes_sha256=mazes_sha256(held_out),
        eval_mazes_in_training=int(sum(g.tobytes() in train_set for g in held_out)),
    )
    if "teacher_run" in result:
        record["teacher_run"] = {k: v for k, v in result["teacher_run"].items() if k != "marker"}
    store.atomic_write_json(tmp / store.PROVENANCE_FILE, record)
    summary = dict(
        run_id=config.run_id,
        experiment=config.experiment,
        arm=config.arm,
        seed=config.seed,
        profile=config.profile,
        kind=config.kind,
        finished_at=record["finished_at"],
        wall_s=wall_s,
        env_steps=result["env_steps"],
        env_steps_per_s=record["env_steps_per_s"],
        eval_mazes_sha256=record["eval_mazes_sha256"],
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
            other = ExperimentConfig.from_dict(store.read_json(run_dir / store.CONFIG_FILE)).validate()
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
    if config.kind != "sitt":
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
