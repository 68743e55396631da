"""Run many experiment configs, on this machine or on a Dask cluster, skipping complete runs and continuing past
failures.

:func:`sweep` runs each config with :func:`study.run.run_one` on a backend (:mod:`study.backends`): ``local``
(default: ``jobs`` spawned processes, one torch thread each) or ``dask`` (a ``distributed.LocalCluster`` of ``jobs``
single-threaded workers, or the cluster at ``scheduler``). Complete runs are skipped without launching anything.
A run that fails is recorded (its traceback in ``<run_dir>.failed.txt``, beside the run directory) and the sweep goes
on; the :class:`SweepReport` lists it at the end. Work is ordered in waves: ``kind="sitt"`` runs first (among them
the teachers, e.g. ``without_alignment``), then the BC/DAgger runs that reuse those teachers; a teacher that is
neither complete nor in the sweep is added to the first wave, and a BC/DAgger run whose teacher failed is reported
failed without being launched. A run with the same :meth:`~study.config.ExperimentConfig.training_key` as
an earlier run of the sweep (the same run under another experiment or arm name) goes to the second wave, where it is
copied from the finished original (in the sweep's own process) instead of trained again. Runs of a kind that
reads other runs of the store when it starts (``late_wave``: a fixed teacher that is a stored student) form a third
wave, after every other run (:func:`late_waves`).

Several sweeps can share one store: a run is claimed (:mod:`study.runlock`: ``<run_dir>.claim``, naming host and pid)
just before it is submitted and released when it is done. A run another live sweep has claimed is put aside; at the
end of the wave the sweep waits for it, counts it "trained by another sweep" once that one completes it, and trains
it itself if the other sweep dies or gives it up (its claim is then stale or gone).

Interrupting (Ctrl-C, SIGINT, or SIGTERM): nothing more is submitted, what has not started is cancelled, and running
trainings are stopped (their worker processes are killed: a run has no checkpoint, so a half-trained run is worth
nothing; on an external Dask cluster a running task goes on to its end in its own temporary directory and its result
is dropped). Temporary run directories, this sweep's claims and arm folders left empty are removed; one summary line
is printed and the exit status is 130. Running the same command again resumes: complete runs are skipped.

Command line (exit status 1 when any run failed, 2 on bad input, 130 when interrupted)::

    python -m study.sweep --experiment main --profile default --seeds 0-9 --jobs 2 \\
        [--backend local|dask] [--scheduler tcp://HOST:8786] [--root results/runs] [--arms a,b] [--force]
        [--dry-run] [--set ppo.n_steps=64 ...] [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Sequence

from tqdm.auto import tqdm

from study import runlock, store
from study.backends import BACKENDS, _Pool, make_backend  # noqa: F401 - _Pool: the local pool (tests patch it)
from study.config import ExperimentConfig
from study.params import parse_seeds
from study.plan import plan_configs
from study.presets import experiment_arms, experiment_configs
from study.registry import task_names
from study.run import DEFAULT_ROOT, StaleRunError, check_stored_config, find_equivalent, run_one

POLL_S = 1.0


class SweepInterrupted(Exception):
    """Raised inside :func:`sweep` by its SIGINT/SIGTERM handler."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class SweepReport:
    """What a sweep did: run ids completed (trained now), reused (copied from the same run under another name),
    skipped (already complete), elsewhere (trained meanwhile by another sweep on the same store) and failed
    (id -> one-line reason; ``failure_files`` id -> traceback file when one was written). When the sweep was
    interrupted, ``interrupted`` names the signal and ``stopped`` / ``not_started`` list the runs it stopped while
    they trained and those it never started."""

    completed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    failure_files: dict[str, str] = field(default_factory=dict)
    added_teachers: list[str] = field(default_factory=list)
    run_seconds: dict[str, float] = field(default_factory=dict)
    interrupted: str | None = None
    stopped: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    backend: str = "local"
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and self.interrupted is None

    @property
    def n_runs(self) -> int:
        return (len(self.completed) + len(self.reused) + len(self.skipped) + len(self.elsewhere) + len(self.failed)
                + len(self.stopped) + len(self.not_started))

    def summary(self) -> str:
        counts = (f"{len(self.completed)} trained, {len(self.reused)} copied from the same run under another name, "
                  f"{len(self.skipped)} already complete, ")
        if self.elsewhere:
            counts += f"{len(self.elsewhere)} trained by another sweep, "
        counts += f"{len(self.failed)} failed"
        if self.interrupted is not None:  # one line
            return (f"sweep interrupted ({self.interrupted}) after {self.wall_s:.1f} s: {counts}, "
                    f"{len(self.stopped)} stopped while training, {len(self.not_started)} not started; "
                    "run the same command again to resume")
        lines = [f"sweep: {self.n_runs} runs in {self.wall_s:.1f} s: {counts}"]
        if self.added_teachers:
            lines.append(f"  teacher runs added for bc/dagger: {', '.join(self.added_teachers)}")
        for run_id, reason in self.failed.items():
            where = self.failure_files.get(run_id)
            lines.append(f"  FAILED {run_id}: {reason}" + (f" (traceback: {where})" if where else ""))
        return "\n".join(lines)


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


def _account(result: dict[str, Any], report: SweepReport, bar) -> None:
    run_id = result["run_id"]
    report.run_seconds[run_id] = float(result.get("seconds", 0.0))
    status = result["status"]
    if status == "completed":
        report.completed.append(run_id)
    elif status == "reused":
        report.reused.append(run_id)
    elif status == "elsewhere":
        report.elsewhere.append(run_id)
    elif status == "skipped":
        report.skipped.append(run_id)
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
        (copies if key in keys else second if c.kind_object().needs_teacher else first).append(c)
        keys.add(key)
    second += copies
    ids = {c.run_id for c in configs}
    added = []
    for c in second:
        if not c.kind_object().needs_teacher:
            continue
        teacher = c.teacher_config().validate()
        if teacher.run_id not in ids and not store.is_complete(teacher.run_dir(root)):
            first.append(teacher)
            ids.add(teacher.run_id)
            added.append(teacher.run_id)
    return first, second, added


def late_waves(first: list, second: list) -> tuple[list, list, list]:
    """The waves in the order they run: ``first`` and ``second`` of :func:`plan` less the runs of kinds that read
    other runs of the store when they start (``late_wave = True``, e.g. a fixed teacher that is a stored student),
    which form a third wave after every other run of the sweep."""
    def late(c) -> bool:
        return c.kind_object().late_wave

    return ([c for c in first if not late(c)], [c for c in second if not late(c)],
            [c for c in first + second if late(c)])


class _Wave:
    """One wave's work on a backend: claim each run just before it is submitted, put aside runs another live sweep
    holds, release each claim when its run is done, wait at the end for the runs put aside."""

    def __init__(self, configs, root: str, force: bool, backend, report: SweepReport, bar, poll_s: float):
        self.root, self.force, self.backend = root, force, backend
        self.report, self.bar, self.poll_s = report, bar, poll_s
        self.pending = list(configs)
        self.deferred: dict[str, ExperimentConfig] = {}
        self.claims: dict[str, runlock.Claim] = {}

    def _done_meanwhile(self, config: ExperimentConfig) -> bool:
        return not self.force and store.is_complete(config.run_dir(self.root))

    def _start(self, config: ExperimentConfig) -> None:
        run_dir = config.run_dir(self.root)
        claim = runlock.try_claim(run_dir)
        if not isinstance(claim, runlock.Claim):
            self.deferred[config.run_id] = config
            return
        if self._done_meanwhile(config):  # another sweep finished it between our check and our claim
            claim.release()
            _account(dict(run_id=config.run_id, status="elsewhere"), self.report, self.bar)
            return
        self.claims[config.run_id] = claim
        if not self.force and find_equivalent(config, self.root) is not None:  # a copy: cheap, made here
            try:
                run_one(config, self.root, force=False, threads=1)
                result = dict(run_id=config.run_id, status="reused", seconds=0.0)
            except Exception as exc:  # noqa: BLE001 - reported, the sweep goes on
                result = dict(run_id=config.run_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            self._finish(result)
            return
        self.backend.submit(config)

    def _finish(self, result: dict[str, Any]) -> None:
        claim = self.claims.pop(result["run_id"], None)
        if claim is not None:
            claim.release()
        _account(result, self.report, self.bar)

    def _check_deferred(self) -> None:
        for run_id, config in list(self.deferred.items()):
            if self._done_meanwhile(config):
                del self.deferred[run_id]
                _account(dict(run_id=run_id, status="elsewhere"), self.report, self.bar)
            else:
                owner = runlock.read_claim(config.run_dir(self.root))
                if owner is None or runlock.is_stale(owner, runlock.claim_path(config.run_dir(self.root))):
                    del self.deferred[run_id]
                    self.pending.append(config)

    def run(self) -> None:
        while self.pending or self.claims or self.deferred:
            while self.pending and len(self.backend.running()) < self.backend.slots():
                self._start(self.pending.pop(0))
            if self.backend.running():
                for result in self.backend.wait(timeout=self.poll_s):
                    self._finish(result)
            elif self.deferred and not self.pending:
                time.sleep(self.poll_s)
            self._check_deferred()

    def abandon(self) -> None:
        """After an interrupt (the backend stopped): tidy every run of this wave that was not finished."""
        running = set(self.backend.running()) | set(self.claims)
        self.report.stopped += sorted(running)
        self.report.not_started += sorted(c.run_id for c in self.pending) + sorted(self.deferred)
        for claim in self.claims.values():
            claim.release()
        self.claims.clear()


def _tidy(configs: Iterable[ExperimentConfig], root: str) -> None:
    """Remove the temporary directories of dead processes and the arm/experiment folders left empty."""
    for config in configs:
        run_dir = config.run_dir(root)
        for stale in store.stale_tmp_dirs(run_dir):
            store.remove_tree(stale)
        store.remove_empty_parents(run_dir, root)


def sweep(
    configs: Iterable[ExperimentConfig],
    root: str | Path = DEFAULT_ROOT,
    jobs: int | None = None,
    progress: bool = True,
    force: bool = False,
    backend: str = "local",
    scheduler: str | None = None,
    poll_s: float = POLL_S,
) -> SweepReport:
    """Run every config on ``backend``, skipping complete runs; never stops at a failed run. Every config is
    validated before anything runs (a bad one raises ``ValueError`` naming the field).

    :param configs: the runs (duplicates of the same run are merged; two different configs of one run raise).
    :param root: the run store (on the machine that calls this; Dask workers never touch it).
    :param jobs: local processes, or the workers of the Dask LocalCluster (default ``os.cpu_count()``).
    :param progress: a tqdm bar over runs (stderr); failures are printed as they happen.
    :param force: retrain complete runs too (not their teachers).
    :param backend: ``"local"`` or ``"dask"`` (:mod:`study.backends`).
    :param scheduler: with ``backend="dask"``, the address of a running scheduler (default: start a LocalCluster).
    :param poll_s: how often (s) to look at runs that another sweep holds.
    :return: a :class:`SweepReport`; ``report.ok`` is False when any run failed or the sweep was interrupted
        (SIGINT/SIGTERM, caught only when called from the main thread; ``report.interrupted`` names it).
    """
    t0 = time.perf_counter()
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    root = str(root)
    runner = make_backend(backend, root, jobs, force=force, scheduler=scheduler)
    first, second, added = plan(configs, root)
    report = SweepReport(added_teachers=added, backend=backend)
    bar = None
    if progress:

        bar = tqdm(total=len(first) + len(second), unit="run", desc=f"sweep ({backend})", dynamic_ncols=True)

    def on_signal(signum, frame):
        raise SweepInterrupted(signum)

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    waves, wave = list(late_waves(first, second)), None
    try:
        for i, configs_of_wave in enumerate(waves):
            todo = []
            for config in configs_of_wave:
                run_dir = config.run_dir(root)
                reason = None
                if config.kind_object().needs_teacher and config.teacher_config().run_id in report.failed:
                    reason = f"its teacher run {config.teacher_config().run_id} failed"
                elif not force and store.is_complete(run_dir):
                    try:
                        check_stored_config(config, run_dir)
                    except StaleRunError as exc:
                        reason = str(exc)
                    else:
                        _account(dict(run_id=config.run_id, status="skipped"), report, None)
                        if bar is not None:
                            bar.update(1)
                        continue
                if reason is not None:
                    _account(dict(run_id=config.run_id, status="failed", error=reason), report, bar)
                    continue
                todo.append(config)
            if todo:
                wave = _Wave(todo, root, force, runner, report, bar, poll_s)
                wave.run()
                wave = None
    except SweepInterrupted as exc:
        for sig in handlers:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the tidying short
        report.interrupted = str(exc)
        runner.stop()
        if wave is not None:
            wave.abandon()
        accounted = (set(report.completed) | set(report.reused) | set(report.skipped) | set(report.elsewhere)
                     | set(report.failed) | set(report.stopped) | set(report.not_started))
        report.not_started += [c.run_id for c in first + second if c.run_id not in accounted]
        _tidy(first + second, root)
    except BaseException:
        runner.stop()
        raise
    else:
        runner.close()
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)
        if bar is not None:
            bar.close()
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


def dotted_fields(config: ExperimentConfig) -> list[str]:
    """Every name ``--set`` (:meth:`ExperimentConfig.override`) accepts for ``config``, sorted
    (:meth:`ExperimentConfig.dotted_fields`)."""
    return sorted(config.dotted_fields())


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
    configs = experiment_configs(experiment, profile, list(seeds), arms)
    out = []
    for config in configs:
        if overrides:
            unknown = sorted(set(overrides) - set(dotted_fields(config)))
            if unknown:
                raise ValueError(f"--set {unknown[0]}: unknown field; allowed: {', '.join(dotted_fields(config))}")
            config = config.override(overrides)
        if tag:
            config = config.replace(experiment=f"{config.experiment}-{tag}")
        out.append(config.validate())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m study.sweep", description=__doc__.split("\n\n")[0], epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default=None,
                        help="an experiment of a registered task (study.presets.experiments()), or several, "
                             "comma-separated (run seed by seed)")
    parser.add_argument("--plan", default=None, metavar="TASK",
                        help="instead of --experiment: the sweep plans of a task (study.task.Task.sweeps), "
                             "comma-separated, or 'all' (what make sweep runs); --seeds then replaces the plans' seeds "
                             "only when given")
    parser.add_argument("--profile", default="default", help="smoke, default or release")
    parser.add_argument("--seeds", default=None, help="e.g. 0-9, 3 or 0,2,5 (default 0-9; with --plan: the plans')")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="local: parallel processes; dask without --scheduler: LocalCluster workers "
                             "(default: cores)")
    parser.add_argument("--backend", default="local", choices=BACKENDS,
                        help="local (default): processes on this machine, training straight into the store; "
                             "dask: Dask distributed tasks whose finished runs this process publishes")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="with --backend dask: a running scheduler, e.g. tcp://10.0.0.5:8786 "
                             "(default: start a LocalCluster of --jobs single-threaded workers)")
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
        return _main(args)
    except KeyboardInterrupt:  # before or after the sweep proper (which handles its own)
        print("sweep interrupted (SIGINT) before any run started; nothing to tidy", file=sys.stderr)
        return 130


def _dry_run(configs: list[ExperimentConfig], root: str | Path) -> int:
    """``--dry-run``: print each run of ``configs`` (run id, kind, state: complete, to run, copy of another run),
    train nothing."""
    first, second, added = plan(configs, root)
    originals: dict[str, str] = {}
    for config in first + second:
        key = config.training_key()
        state = "complete" if store.is_complete(config.run_dir(root)) else "to run"
        if state == "to run":
            source = find_equivalent(config, root)
            if source is not None:
                state = f"copy of {source.relative_to(root).as_posix()}"
            elif key in originals:
                state = f"copy of {originals[key]} (once it is done)"
        originals.setdefault(key, config.run_id)
        extra = " (teacher added)" if config.run_id in added else ""
        print(f"{config.run_id}\t{config.kind}\t{state}{extra}")
    return 0


def _main(args: argparse.Namespace) -> int:
    try:
        if args.scheduler is not None and args.backend != "dask":
            raise ValueError(f"--scheduler: got {args.scheduler!r}; allowed: only with --backend dask")
        arms = [a.strip() for a in args.arms.split(",") if a.strip()] if args.arms else None
        if args.plan is not None:
            if args.experiment is not None or arms is not None:
                raise ValueError("plan: got --plan with --experiment/--arms; allowed: one of --plan or --experiment")
            names = list(task_names()) if args.plan == "all" else [t.strip() for t in args.plan.split(",")]
            for name in names:
                if name not in task_names():
                    raise ValueError(f"plan: got {name!r}; allowed: all, {', '.join(task_names())}")
            configs = plan_configs(names, args.profile, args.seeds)
            configs = [c.override(parse_overrides(args.overrides)).validate() if args.overrides else c for c in configs]
            if args.dry_run:
                return _dry_run(configs, args.root)
            report = sweep(configs, args.root, jobs=args.jobs, progress=not args.no_progress, force=args.force,
                           backend=args.backend, scheduler=args.scheduler)
            print(report.summary(), file=sys.stderr)
            if report.interrupted is not None:
                return 130
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
                wanted = [a for a in arms if a in experiment_arms(experiment)] if len(experiments) > 1 else arms
                if not wanted:
                    continue
            configs += build_configs(experiment, args.profile, seeds, wanted, overrides, args.tag)
        configs.sort(key=lambda c: c.seed)  # seed-major across studies: a sweep cut short leaves whole seeds
        if args.dry_run:
            return _dry_run(configs, args.root)
        report = sweep(configs, args.root, jobs=args.jobs, progress=not args.no_progress, force=args.force,
                       backend=args.backend, scheduler=args.scheduler)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary(), file=sys.stderr)
    if report.interrupted is not None:
        return 130
    return 0 if report.ok else 1


_EPILOG = """backends:
  local  (default) --jobs spawned processes on this machine, one torch thread each; each run is built in
         <run_dir>.tmp-<pid> and renamed into place with its marker in.
  dask   Dask distributed: without --scheduler, a LocalCluster of --jobs single-threaded worker processes;
         with --scheduler ADDRESS, the running cluster there (start one with `dask scheduler` and
         `dask worker ADDRESS --nworkers N --nthreads 1`, or on SLURM with dask-jobqueue: README, "Sweeps on a
         cluster"). Workers train in temporary directories of their own and hand the finished run back; this
         process publishes it in --root (no shared filesystem needed; workers need this repository's code).

several sweeps on one store: each run is claimed (<run_dir>.claim: host, pid) before it is trained; a run another
live sweep holds is waited for, not trained twice; a dead sweep's claim is taken over.
Ctrl-C / SIGTERM: stops submitting, cancels what has not started, stops running trainings, removes temporary
directories, prints one summary line and exits 130; the same command resumes.
exit status: 0 all complete, 1 a run failed, 2 bad input, 130 interrupted."""


if __name__ == "__main__":
    from study.sweep import main as _main  # noqa: PLC0415  (the importable module, so workers unpickle its functions)

    sys.exit(_main())
