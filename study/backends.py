"""Where a sweep's trainings run: processes on this machine (``local``) or a Dask cluster (``dask``).

Both backends have one interface, used by :func:`study.sweep.sweep`: :meth:`~LocalBackend.slots` (how many runs can
train at once), :meth:`~LocalBackend.submit` (start one config), :meth:`~LocalBackend.wait` (the results of the runs
that finished, published in the store), :meth:`~LocalBackend.stop` (cancel what has not started and stop what is
running: for an interrupted sweep) and :meth:`~LocalBackend.close`. A result is a dict ``run_id``, ``status``
(``completed``, ``reused`` or ``failed``), ``seconds`` and, for a failure, ``error`` and ``failure_file``. Nothing is
started before the first :meth:`submit`, so a sweep whose runs are all complete launches no process.

How each keeps the run store consistent:

* ``local``: spawned worker processes (one torch thread each) call :func:`study.run.run_one` on the store directly:
  each run is built in ``<run_dir>.tmp-<pid>`` and renamed into place with its marker in (the store's atomic
  protocol; the store is on this machine's filesystem). A worker process that dies takes its pool down; its runs are
  retried once in a fresh pool.
* ``dask``: a worker trains into a temporary directory of its own (``$TMPDIR/sitt-sweep-<pid>-*``, removed after the
  task; a dead worker's is removed by the next task on that host), packs the finished run (its files as bytes) and
  returns it; the client, which owns the store, publishes it with the same protocol (:func:`study.store.unpack_run`).
  No shared filesystem is needed: a worker never reads or writes the store, a BC/DAgger task is sent its teacher's
  files, and the copies of one run under another name (``reused_from``) are made by the client. A worker that dies
  (killed, out of memory, a pre-empted node) is replaced by Dask and its task runs again on another worker; after
  ``distributed.scheduler.allowed-failures`` (Dask's default: 3) deaths the run is reported failed (``KilledWorker``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import secrets
import signal
import tempfile
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from sitt.runtime import configure_threads
from study import registry, store
from study.config import ExperimentConfig
from study.run import run_one

BACKENDS = ("local", "dask")
WORKER_PREFIX = "sitt-sweep-"
TEACHER_FILES = (store.CONFIG_FILE, store.PROVENANCE_FILE, store.MODEL_FILE, store.MARKER)


def _failure_text(run_id: str) -> str:
    return (f"run {run_id} failed at {time.strftime('%Y-%m-%d %H:%M:%S')} (pid {os.getpid()})\n\n"
            f"{traceback.format_exc()}")


def _one_line(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}".splitlines() or [type(exc).__name__])[0][:500]


def record_failure(run_dir: Path, text: str) -> str | None:
    """Write a failed run's traceback to ``<run_dir>.failed.txt`` (beside the run); its path, or None."""
    path = store.failed_path(run_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        store.atomic_write_text(path, text)
    except OSError:
        return None
    return str(path)


# ---------------------------------------------------------------------------------------------------------- local


def _init_local_worker(entries: dict | None = None) -> None:
    """Pool process start: one torch thread; Ctrl-C at the terminal goes to the sweep, which stops the workers; the
    tasks and kinds registered at run time in the sweep's process (a notebook's or a test's own task) are registered
    here too (:func:`study.registry.runtime_entries`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_threads(1)
    registry.install(entries or {})


def local_task(config_dict: dict[str, Any], root: str, force: bool, threads: int = 1) -> dict[str, Any]:
    """Run one config into the store at ``root`` (in a pool process); never raises (a failure is returned, with its
    traceback file)."""
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
        return dict(run_id=run_id, status="failed", error=_one_line(exc),
                    failure_file=record_failure(run_dir, _failure_text(run_id)), seconds=time.perf_counter() - t0)


def _runtime_entries() -> dict:
    return registry.runtime_entries()


class _Pool:
    """A lazily started spawn-context process pool that can be restarted after a worker died, or stopped at once."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_local_worker,
                initargs=(_runtime_entries(),),
            )
        return self.executor

    def restart(self) -> None:
        self.close(cancel=True)

    def kill(self) -> None:
        """Stop every worker process now (SIGTERM, then SIGKILL after 5 s) and forget the pool."""
        executor, self.executor = self.executor, None
        if executor is None:
            return
        processes = list(getattr(executor, "_processes", {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)

    def close(self, cancel: bool = False) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=cancel)
            self.executor = None


class LocalBackend:
    """``jobs`` spawned processes on this machine, one torch thread each, training straight into the store."""

    name = "local"

    def __init__(self, root: str | Path, jobs: int, force: bool = False):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs: got {jobs!r}; allowed: an integer >= 1")
        self.root, self.jobs, self.force = str(root), jobs, force
        self.pool = _Pool(jobs)
        self.futures: dict[Any, ExperimentConfig] = {}
        self.attempts: dict[str, int] = {}

    def slots(self) -> int:
        return self.jobs

    def submit(self, config: ExperimentConfig) -> None:
        self.attempts.setdefault(config.run_id, 0)
        fut = self.pool.get().submit(local_task, config.to_dict(), self.root, self.force, 1)
        self.futures[fut] = config

    def running(self) -> list[str]:
        return [c.run_id for c in self.futures.values()]

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        if not self.futures:
            return []
        done, _ = wait_futures(list(self.futures), timeout=timeout, return_when=FIRST_COMPLETED)
        results, retry = [], []
        for fut in done:
            config = self.futures.pop(fut)
            try:
                results.append(fut.result())
            except BrokenProcessPool:
                retry.append(config)
        if retry:  # a worker died: the pool is gone; every run still in it fails the same way, then is retried
            for fut in list(self.futures):
                wait_futures([fut])
                retry.append(self.futures.pop(fut))
            self.pool.restart()
            for config in retry:
                self.attempts[config.run_id] += 1
                if self.attempts[config.run_id] < 2:
                    self.submit(config)
                else:
                    results.append(dict(
                        run_id=config.run_id, status="failed", seconds=0.0,
                        error="its worker process died (killed, e.g. out of memory?)",
                        failure_file=record_failure(config.run_dir(self.root), "worker process died\n")))
        return results

    def stop(self) -> None:
        self.pool.kill()
        self.futures.clear()

    def close(self) -> None:
        self.pool.close()


# ----------------------------------------------------------------------------------------------------------- dask


def worker_roots(base: str | Path | None = None) -> list[Path]:
    """Temporary roots of Dask tasks on this host whose process is gone (left by a killed worker)."""
    base = Path(base or tempfile.gettempdir())
    out = []
    for p in base.glob(f"{WORKER_PREFIX}*"):
        m = re.match(rf"{re.escape(WORKER_PREFIX)}(\d+)-", p.name)
        if m and int(m.group(1)) != os.getpid() and not store.pid_alive(int(m.group(1))):
            out.append(p)
    return sorted(out)


def dask_task(config_dict: dict[str, Any], teacher: dict[str, bytes] | None, root: str) -> dict[str, Any]:
    """Train one config on a Dask worker, in a temporary root of its own, and return the finished run packed
    (``files``: :func:`study.store.pack_run`); never raises (a failure is returned with its traceback text).

    :param teacher: for BC/DAgger, the teacher run's files (:data:`TEACHER_FILES`), placed in the temporary root.
    :param root: the client's store root, only to record the teacher's path as the local backend would.
    """
    t0 = time.perf_counter()
    run_id = config_dict.get("experiment", "?") if isinstance(config_dict, dict) else "?"
    for stale in worker_roots():
        store.remove_tree(stale)
    tmp_root = Path(tempfile.mkdtemp(prefix=f"{WORKER_PREFIX}{os.getpid()}-"))
    try:
        configure_threads(1)
        config = ExperimentConfig.from_dict(config_dict)
        run_id = config.run_id
        if config.kind_object().needs_teacher:
            if not teacher:
                raise ValueError(f"teacher: got nothing for the {config.kind} run {run_id}; "
                                 "allowed: its teacher's files")
            store.unpack_run(teacher, config.teacher_config().run_dir(tmp_root))
        run_dir = run_one(config, tmp_root, force=False, threads=1, reuse=False)
        # record the teacher where the client's store has it, as the local backend does
        if config.kind_object().needs_teacher:
            record = store.read_json(run_dir / store.PROVENANCE_FILE)
            record["teacher_run"]["run_dir"] = str(config.teacher_config().run_dir(root))
            store.atomic_write_json(run_dir / store.PROVENANCE_FILE, record)
        return dict(run_id=run_id, status="completed", files=store.pack_run(run_dir),
                    seconds=time.perf_counter() - t0, worker_pid=os.getpid())
    except Exception as exc:  # noqa: BLE001 - reported, the sweep goes on
        return dict(run_id=run_id, status="failed", error=_one_line(exc), traceback=_failure_text(run_id),
                    seconds=time.perf_counter() - t0)
    finally:
        store.remove_tree(tmp_root)


class DaskBackend:
    """Dask distributed: ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) submits to a running cluster;
    without it a :class:`distributed.LocalCluster` of ``jobs`` single-threaded worker processes is started (and
    closed at the end). Runs are Dask tasks (:func:`dask_task`); the client publishes what they return."""

    name = "dask"

    def __init__(self, root: str | Path, jobs: int, force: bool = False, scheduler: str | None = None):
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs: got {jobs!r}; allowed: an integer >= 1")
        if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
            raise ValueError(f"scheduler: got {scheduler!r}; allowed: an address such as tcp://127.0.0.1:8786")
        self.root, self.jobs, self.force, self.scheduler = str(root), jobs, force, scheduler
        self.client = None
        self.cluster = None
        self.futures: dict[Any, ExperimentConfig] = {}

    def _connect(self):
        if self.client is None:
            from distributed import Client, LocalCluster  # noqa: PLC0415  (dask: optional, only this backend)

            if self.scheduler:
                self.client = Client(self.scheduler, timeout="30s")
            else:
                self.cluster = LocalCluster(n_workers=self.jobs, threads_per_worker=1, processes=True,
                                            dashboard_address=":0", silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        return self.client

    def slots(self) -> int:
        if self.client is None:
            return self.jobs if self.scheduler is None else 1
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, config: ExperimentConfig) -> None:
        client = self._connect()
        teacher = None
        if config.kind_object().needs_teacher:
            teacher_dir = config.teacher_config().run_dir(self.root)
            teacher = {name: (teacher_dir / name).read_bytes() for name in TEACHER_FILES}
        key = f"train-{config.run_id.replace('/', '-')}-{secrets.token_hex(4)}"
        fut = client.submit(dask_task, config.to_dict(), teacher, self.root, key=key, pure=False)
        self.futures[fut] = config

    def running(self) -> list[str]:
        return [c.run_id for c in self.futures.values()]

    def _result(self, fut, config: ExperimentConfig) -> dict[str, Any]:
        run_dir = config.run_dir(self.root)
        if fut.status != "finished":
            exc = fut.exception() if fut.status == "error" else None
            reason = _one_line(exc) if exc is not None else f"its task was {fut.status}"
            if type(exc).__name__ == "KilledWorker":
                reason = f"its Dask workers died while running it ({reason})"
            elif "deserializ" in reason:
                reason += (" (the scheduler and the workers must import this repository's code: start them from the"
                           " repository root with PYTHONPATH=., or pip install -e . there)")
            return dict(run_id=config.run_id, status="failed", error=reason, seconds=0.0,
                        failure_file=record_failure(run_dir, f"run {config.run_id}: {reason}\n"))
        result = fut.result()
        fut.release()
        if result["status"] != "completed":
            text = result.pop("traceback", result.get("error", "failed"))
            return dict(result, failure_file=record_failure(run_dir, text))
        try:
            store.unpack_run(result.pop("files"), run_dir, force=self.force)
        except Exception as exc:  # noqa: BLE001 - e.g. a file where the run directory must go
            text = f"run {config.run_id}: publishing the finished run failed\n\n{traceback.format_exc()}"
            return dict(run_id=config.run_id, status="failed", error=_one_line(exc), seconds=result["seconds"],
                        failure_file=record_failure(run_dir, text))
        store.failed_path(run_dir).unlink(missing_ok=True)
        return result

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        if not self.futures:
            return []
        from distributed import wait as dask_wait  # noqa: PLC0415  (dask: optional, only this backend)

        try:
            done, _ = dask_wait(list(self.futures), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        return [self._result(fut, self.futures.pop(fut)) for fut in done]

    def stop(self) -> None:
        """Cancel every task; a LocalCluster is closed (its workers, and so the running trainings, are stopped); on an
        external cluster a running task goes on to its end in its own temporary directory and its result is
        dropped (the store is not touched)."""
        if self.client is not None and self.futures:
            try:
                self.client.cancel(list(self.futures), force=True)
            except Exception:  # noqa: BLE001 - the scheduler may already be gone
                pass
        self.futures.clear()
        self.close()

    def close(self) -> None:
        client, cluster, self.client, self.cluster = self.client, self.cluster, None, None
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - closing a cluster whose workers were killed may complain
                    pass
        if cluster is not None:
            for stale in worker_roots():
                store.remove_tree(stale)


def make_backend(name: str, root: str | Path, jobs: int, force: bool = False, scheduler: str | None = None):
    """The backend called ``name`` (one of :data:`BACKENDS`)."""
    if name == "local":
        if scheduler is not None:
            raise ValueError(f"scheduler: got {scheduler!r}; allowed: only with backend 'dask'")
        return LocalBackend(root, jobs, force)
    if name == "dask":
        return DaskBackend(root, jobs, force, scheduler)
    raise ValueError(f"backend: got {name!r}; allowed: {', '.join(BACKENDS)}")
