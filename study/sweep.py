"""Run many experiment configs in parallel processes, skipping complete runs and continuing past failures.

:func:`sweep` runs each config with :func:`study.run.run_one` in a pool of spawned processes (one torch
thread each; ``jobs`` processes, default: the number of cores). Complete runs are skipped without launching anything.
A run that fails is recorded (its traceback in ``<run_dir>.failed.txt``, beside the run directory) and the sweep goes
on; the :class:`SweepReport` lists it at the end. Work is ordered in two waves: ``kind="sitt"`` runs first (among them
the teachers, e.g. ``without_alignment``), then the BC/DAgger runs that reuse those teachers; a teacher that is
neither complete nor in the sweep is added to the first wave, and a BC/DAgger run whose teacher failed is reported
failed without being launched. A run with the same :meth:`~study.config.ExperimentConfig.training_key` as
an earlier run of the sweep (the same run under another experiment or arm name) goes to the second wave, where
:func:`~study.run.run_one` copies the finished original instead of training it again.

Command line (exit status 1 when any run failed)::

    python -m study.sweep --experiment main --profile default --seeds 0-9 --jobs 2 \\
        [--root results/runs] [--arms a,b] [--force] [--dry-run] [--set ppo.n_steps=64 ...] [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from study import registry, store
from study.params import parse_seeds  # noqa: F401 - the CLI's --seeds (re-exported)
from study.config import ExperimentConfig
from study.run import DEFAULT_ROOT, StaleRunError, check_stored_config, find_equivalent, run_one
from sitt.runtime import configure_threads


@dataclass
class SweepReport:
    """What a sweep did: run ids completed (trained now), skipped (already complete) and failed (id -> one-line
    reason; ``failure_files`` id -> traceback file when one was written)."""

    completed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    failure_files: dict[str, str] = field(default_factory=dict)
    added_teachers: list[str] = field(default_factory=list)
    run_seconds: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def n_runs(self) -> int:
        return len(self.completed) + len(self.reused) + len(self.skipped) + len(self.failed)

    def summary(self) -> str:
        lines = [
            f"sweep: {self.n_runs} runs in {self.wall_s:.1f} s: {len(self.completed)} trained, "
            f"{len(self.reused)} copied from the same run under another name, "
            f"{len(self.skipped)} already complete, {len(self.failed)} failed"
        ]
        if self.added_teachers:
            lines.append(f"  teacher runs added for bc/dagger: {', '.join(self.added_teachers)}")
        for run_id, reason in self.failed.items():
            where = self.failure_files.get(run_id)
            lines.append(f"  FAILED {run_id}: {reason}" + (f" (traceback: {where})" if where else ""))
        return "\n".join(lines)


def _record_failure(run_dir: Path, text: str) -> str | None:
    path = store.failed_path(run_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store.atomic_write_text(path, text)
    except OSError:
        return None
    return str(path)


def _worker(config_dict: dict[str, Any], root: str, force: bool, threads: int) -> dict[str, Any]:
    """Run one config in a pool process; never raises (a failure is returned, with its traceback file)."""
    t0 = time.perf_counter()
    run_id, run_dir = "?", Path(root)
    try:
        configure_threads(threads)
        config = ExperimentConfig.from_dict(config_dict)
        run_id, run_dir = config.run_id, config.run_dir(root)
        run_dir = run_one(config, root, force=force, threads=threads)
        status = "reused" if store.read_marker(run_dir).get("reused_from") else "completed"
        return dict(run_id=run_id, status=status, seconds=time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - reported, the sweep goes on
        text = f"run {run_id} failed at {time.strftime('%Y-%m-%d %H:%M:%S')} (pid {os.getpid()})\n\n{traceback.format_exc()}"
        return dict(
            run_id=run_id,
            status="failed",
            error=f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            failure_file=_record_failure(run_dir, text),
            seconds=time.perf_counter() - t0,
        )


def _dedupe(configs: Iterable[ExperimentConfig]) -> list[ExperimentConfig]:
    seen: dict[str, ExperimentConfig] = {}
    for config in configs:
        if not isinstance(config, ExperimentConfig):
            raise ValueError(f"configs: got {type(config).__name__}; allowed: ExperimentConfig objects")
        config.validate()
        other = seen.get(config.run_id)
        if other is None:
            seen[config.run_id] = config
        elif other.to_dict() != config.to_dict():
            raise ValueError(f"configs: two different configs for the run {config.run_id}")
    return list(seen.values())


def _init_worker(entries: dict) -> None:
    """A worker's set-up: one torch thread, and the tasks and kinds registered at run time in the parent (e.g. a
    notebook's or a test's own task), so that the worker reads their configs."""
    configure_threads(1)
    registry.install(entries)


class _Pool:
    """A lazily started spawn-context process pool that can be restarted after a worker died."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(registry.runtime_entries(),),
            )
        return self.executor

    def restart(self) -> None:
        self.close(cancel=True)

    def close(self, cancel: bool = False) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=cancel)
            self.executor = None


def _run_wave(configs: list[ExperimentConfig], root: str, force: bool, pool: _Pool, report: SweepReport, bar) -> None:
    """Run ``configs`` in the pool; a run whose worker process died is retried once in a fresh pool."""
    attempts = {c.run_id: 0 for c in configs}
    queue = list(configs)
    while queue:
        executor = pool.get()
        futures = {executor.submit(_worker, c.to_dict(), root, force, 1): c for c in queue}
        queue = []
        broken = False
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                config = futures[fut]
                try:
                    result = fut.result()
                except BrokenProcessPool:
                    broken = True
                    attempts[config.run_id] += 1
                    if attempts[config.run_id] < 2:
                        queue.append(config)
                        continue
                    result = dict(run_id=config.run_id, status="failed", seconds=0.0,
                                  error="its worker process died (killed, e.g. out of memory?)",
                                  failure_file=_record_failure(config.run_dir(root), "worker process died\n"))
                _account(result, report, bar)
        if broken:
            pool.restart()


def _account(result: dict[str, Any], report: SweepReport, bar) -> None:
    run_id = result["run_id"]
    report.run_seconds[run_id] = float(result.get("seconds", 0.0))
    if result["status"] == "completed":
        report.completed.append(run_id)
    elif result["status"] == "reused":
        report.reused.append(run_id)
    else:
        report.failed[run_id] = result.get("error", "failed")
        if result.get("failure_file"):
            report.failure_files[run_id] = result["failure_file"]
        if bar is not None:
            bar.write(f"FAILED {run_id}: {report.failed[run_id]}", file=sys.stderr)
    if bar is not None:
        bar.update(1)
        bar.set_postfix(failed=len(report.failed), refresh=False)


def plan(configs: Iterable[ExperimentConfig], root: str | Path = DEFAULT_ROOT) -> tuple[list, list, list[str]]:
    """The two waves of a sweep: ``(first, second, added_teacher_ids)``; ``first`` = kind "sitt" runs plus the
    missing teachers of the BC/DAgger runs in ``second``; a run with the training key of an earlier one goes to
    ``second`` (it is copied once the original is done)."""
    configs = _dedupe(configs)
    keys: set[str] = set()
    first, second, copies = [], [], []
    for c in configs:
        key = c.training_key()
        (copies if key in keys else first if c.kind == "sitt" else second).append(c)
        keys.add(key)
    second += copies
    ids = {c.run_id for c in configs}
    added = []
    for c in second:
        if c.kind == "sitt":
            continue
        teacher = c.teacher_config().validate()
        if teacher.run_id not in ids and not store.is_complete(teacher.run_dir(root)):
            first.append(teacher)
            ids.add(teacher.run_id)
            added.append(teacher.run_id)
    return first, second, added


def sweep(
    configs: Iterable[ExperimentConfig],
    root: str | Path = DEFAULT_ROOT,
    jobs: int | None = None,
    progress: bool = True,
    force: bool = False,
) -> SweepReport:
    """Run every config (in parallel processes, one torch thread each), skipping complete runs; never stops at a
    failed run. Every config is validated before anything runs (a bad one raises ``ValueError`` naming the field).

    :param configs: the runs (duplicates of the same run are merged; two different configs of one run raise).
    :param root: the run store.
    :param jobs: processes (default ``os.cpu_count()``).
    :param progress: a tqdm bar over runs (stderr); failures are printed as they happen.
    :param force: retrain complete runs too (not their teachers).
    :return: a :class:`SweepReport`; ``report.ok`` is False when any run failed.
    """
    t0 = time.perf_counter()
    jobs = (os.cpu_count() or 1) if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs: got {jobs}; allowed: an integer >= 1")
    root = str(root)
    first, second, added = plan(configs, root)
    report = SweepReport(added_teachers=added)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(first) + len(second), unit="run", desc="sweep", dynamic_ncols=True)
    pool = _Pool(jobs)
    try:
        for wave in (first, second):
            todo = []
            for config in wave:
                run_dir = config.run_dir(root)
                reason = None
                if config.kind != "sitt" and config.teacher_config().run_id in report.failed:
                    reason = f"its teacher run {config.teacher_config().run_id} failed"
                elif not force and store.is_complete(run_dir):
                    try:
                        check_stored_config(config, run_dir)
                    except StaleRunError as exc:
                        reason = str(exc)
                    else:
                        report.skipped.append(config.run_id)
                        if bar is not None:
                            bar.update(1)
                        continue
                if reason is not None:
                    _account(dict(run_id=config.run_id, status="failed", error=reason), report, bar)
                    continue
                todo.append(config)
            if todo:
                _run_wave(todo, root, force, pool, report, bar)
    except BaseException:
        pool.close(cancel=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    pool.close()
    report.wall_s = time.perf_counter() - t0
    return report


# ------------------------------------------------------------------------------------------------------------ CLI


def _parse_value(text: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    if isinstance(value, float) and value.is_integer() and ("e" in text.lower() or "." not in text):
        return int(value)
    return value


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["ppo.n_steps=64", "switches.reward_coef=0.5", "total_timesteps=6e6"]`` -> dotted overrides (JSON values;
    whole numbers written as ``6e6`` become ints)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set: got {item!r}; allowed: KEY=VALUE, e.g. ppo.n_steps=64")
        key, value = item.split("=", 1)
        out[key.strip()] = _parse_value(value.strip())
    return out


def build_configs(
    experiment: str,
    profile: str,
    seeds: Iterable[int],
    arms: Iterable[str] | None = None,
    overrides: dict[str, Any] | None = None,
    tag: str | None = None,
) -> list[ExperimentConfig]:
    """The configs the CLI runs: the experiment's presets, with dotted ``overrides`` and an optional ``tag``
    (the runs then go to ``<root>/<experiment>-<tag>/``, beside the untagged study)."""
    from study.presets import experiment_configs

    configs = experiment_configs(experiment, profile, list(seeds), arms)
    out = []
    for config in configs:
        if overrides:
            config = config.override(overrides)
        if tag:
            config = config.replace(experiment=f"{config.experiment}-{tag}")
        out.append(config.validate())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m study.sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default=None,
                        help="an experiment of a registered task (study.presets.experiments()), or several, "
                             "comma-separated (run seed by seed)")
    parser.add_argument("--plan", default=None, metavar="TASK",
                        help="instead of --experiment: the sweep plans of a task (study.task.Task.sweeps), "
                             "comma-separated, or 'all' (what make sweep runs); --seeds then replaces the plans' seeds "
                             "only when given")
    parser.add_argument("--profile", default="default", help="smoke, default or release")
    parser.add_argument("--seeds", default=None, help="e.g. 0-9, 3 or 0,2,5 (default 0-9)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes (default: cores)")
    parser.add_argument("--root", default=DEFAULT_ROOT, help=f"run store (default {DEFAULT_ROOT})")
    parser.add_argument("--arms", default=None, help="comma-separated subset of the experiment's arms")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field by dotted name (repeatable), e.g. total_timesteps=6e6")
    parser.add_argument("--tag", default=None, help="write to <root>/<experiment>-<tag> (e.g. for budget probes)")
    parser.add_argument("--force", action="store_true", help="retrain complete runs")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and their state, run nothing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms else None
        if args.plan is not None:
            if args.experiment is not None or arms is not None:
                raise ValueError("plan: got --plan with --experiment/--arms; allowed: one of --plan or --experiment")
            from study.registry import task_names
            from study.task import plan_configs

            names = list(task_names()) if args.plan == "all" else [t.strip() for t in args.plan.split(",")]
            for name in names:
                if name not in task_names():
                    raise ValueError(f"plan: got {name!r}; allowed: all, {', '.join(task_names())}")
            configs = plan_configs(names, args.profile, args.seeds)
            configs = [c.override(parse_overrides(args.overrides)).validate() if args.overrides else c for c in configs]
            report = sweep(configs, args.root, jobs=args.jobs, progress=not args.no_progress, force=args.force)
            print(report.summary(), file=sys.stderr)
            return 0 if report.ok else 1
        if args.experiment is None:
            raise ValueError("experiment: missing; allowed: --experiment NAME[,NAME] or --plan TASK|all")
        args.seeds = args.seeds or "0-9"
        experiments = [e.strip() for e in args.experiment.split(",") if e.strip()]
        if not experiments:
            raise ValueError(f"experiment: got {args.experiment!r}; allowed: one or more comma-separated study names")
        seeds, overrides = parse_seeds(args.seeds), parse_overrides(args.overrides)
        configs = []
        for experiment in experiments:
            wanted = None
            if arms is not None:
                from study.presets import experiment_arms

                wanted = [a for a in arms if a in experiment_arms(experiment)] if len(experiments) > 1 else arms
                if not wanted:
                    continue
            configs += build_configs(experiment, args.profile, seeds, wanted, overrides, args.tag)
        configs.sort(key=lambda c: c.seed)  # seed-major across studies: a sweep cut short leaves whole seeds
        if args.dry_run:
            first, second, added = plan(configs, args.root)
            originals: dict[str, str] = {}
            for config in first + second:
                key = config.training_key()
                state = "complete" if store.is_complete(config.run_dir(args.root)) else "to run"
                if state == "to run":
                    source = find_equivalent(config, args.root)
                    if source is not None:
                        state = f"copy of {source.relative_to(args.root).as_posix()}"
                    elif key in originals:
                        state = f"copy of {originals[key]} (once it is done)"
                originals.setdefault(key, config.run_id)
                extra = " (teacher added)" if config.run_id in added else ""
                print(f"{config.run_id}\t{config.kind}\t{state}{extra}")
            return 0
        report = sweep(configs, args.root, jobs=args.jobs, progress=not args.no_progress, force=args.force)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    from study.sweep import main as _main  # the importable module, so workers unpickle its functions

    sys.exit(_main())
