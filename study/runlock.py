"""Run claims: a sweep claims a run before it trains it, so that several sweeps can share one run store.

A claim is the file ``<run_dir>.claim`` beside the run directory (like ``<run_dir>.failed.txt``), created atomically
with ``O_CREAT | O_EXCL`` (exactly one of several processes racing for it succeeds, on a local disk and on NFSv3+).
It holds JSON naming its owner: ``host``, ``pid``, the process's start time (``pid_started``, so that a pid reused by
the system is not taken for the owner), ``claimed_at`` and a random ``token``. The owner touches the file every
:data:`HEARTBEAT_S` seconds while it holds it.

A claim is *stale*, and may be taken over, when its owner is gone:

* on the same host: its pid is not alive, or is a process started at another time (pid reuse);
* on another host (a shared filesystem): the file was not touched for :data:`STALE_AFTER_S` seconds;
* an unreadable claim (a writer killed between create and write) older than :data:`STALE_AFTER_S` seconds.

Taking over a stale claim is itself serialised by a second ``O_EXCL`` file, ``<run_dir>.claim.reclaim``: the
reclaimer re-reads the claim under it, removes it only if it is still the stale one it judged, and then races for a
fresh claim like everyone else. A ``.reclaim`` file older than :data:`STALE_AFTER_S` seconds (its writer died in that
window) is removed.

The sweep (:mod:`study.sweep`) takes the claim in the process that drives the sweep, for the local and the Dask
backend alike: the owner is the sweep, not the worker that trains, so a worker that dies and is replaced does not
release the run to another sweep while its own sweep retries it. :func:`study.run.run_one` called on its own takes no
claim.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

CLAIM_SUFFIX = ".claim"
RECLAIM_SUFFIX = ".claim.reclaim"
HEARTBEAT_S = 30.0
STALE_AFTER_S = 600.0


def claim_path(run_dir: str | Path) -> Path:
    """``<run_dir>.claim``: where the claim of ``run_dir`` lives (beside it, not in it)."""
    run_dir = Path(run_dir)
    return run_dir.with_name(run_dir.name + CLAIM_SUFFIX)


def _process_started(pid: int) -> float | None:
    """The start time of process ``pid`` (seconds since the epoch), or None when it cannot be read."""
    try:
        import psutil  # noqa: PLC0415  (optional: a claim is judged by its pid alone without it)

        return round(psutil.Process(pid).create_time(), 2)
    except Exception:  # noqa: BLE001 - psutil missing, process gone or not ours to read
        return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def owner_record() -> dict[str, Any]:
    """What a claim made by this process says about its owner."""
    pid = os.getpid()
    return dict(
        host=platform.node(),
        pid=pid,
        pid_started=_process_started(pid),
        claimed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        token=secrets.token_hex(8),
    )


def read_claim(run_dir: str | Path) -> dict[str, Any] | None:
    """The owner record of ``run_dir``'s claim; None when there is no claim; ``{}`` when it is unreadable."""
    path = claim_path(run_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _age_s(path: Path) -> float | None:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def is_stale(record: dict[str, Any], path: Path, stale_after_s: float = STALE_AFTER_S) -> bool:
    """Whether the claim ``record`` (read from ``path``) has no live owner (see the module docstring)."""
    age = _age_s(path)
    if age is None:
        return True
    if not record.get("pid") or not record.get("host"):
        return age > stale_after_s
    if record["host"] == platform.node():
        pid = int(record["pid"])
        if not _pid_alive(pid):
            return True
        started = record.get("pid_started")
        now_started = _process_started(pid)
        return started is not None and now_started is not None and abs(now_started - float(started)) > 1.0
    return age > stale_after_s


def describe(record: dict[str, Any] | None) -> str:
    """``"host:pid"`` of a claim's owner (for messages)."""
    if not record:
        return "an unknown process"
    return f"{record.get('host', '?')}:{record.get('pid', '?')}"


@dataclass
class Claim:
    """A claim held by this process on ``run_dir``. Release it with :meth:`release` (or use it as a context
    manager); while held, a daemon thread touches the file every ``heartbeat_s`` seconds."""

    run_dir: Path
    record: dict[str, Any]
    heartbeat_s: float = HEARTBEAT_S
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        return claim_path(self.run_dir)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                os.utime(self.path)
            except OSError:
                return

    def start_heartbeat(self) -> Claim:
        if self._thread is None and self.heartbeat_s > 0:
            self._thread = threading.Thread(target=self._beat, name=f"claim {self.run_dir.name}", daemon=True)
            self._thread.start()
        return self

    def held(self) -> bool:
        """Whether the claim file is still ours."""
        current = read_claim(self.run_dir)
        return bool(current) and current.get("token") == self.record["token"]

    def release(self) -> None:
        """Remove the claim file if it is still ours (never someone else's)."""
        self._stop.set()
        if self.held():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _create_exclusive(path: Path, text: str) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _reclaim(run_dir: Path, judged: dict[str, Any], stale_after_s: float) -> None:
    """Remove the stale claim ``judged`` of ``run_dir``, if it is still that one (under the reclaim lock)."""
    path = claim_path(run_dir)
    lock = run_dir.with_name(run_dir.name + RECLAIM_SUFFIX)
    if not _create_exclusive(lock, json.dumps(owner_record())):
        age = _age_s(lock)
        if age is not None and age > stale_after_s:
            lock.unlink(missing_ok=True)
        return
    try:
        current = read_claim(run_dir)
        if current is not None and current == judged and is_stale(current, path, stale_after_s):
            path.unlink(missing_ok=True)
    finally:
        lock.unlink(missing_ok=True)


def try_claim(run_dir: str | Path, heartbeat_s: float = HEARTBEAT_S,
              stale_after_s: float = STALE_AFTER_S) -> Claim | dict[str, Any]:
    """Claim ``run_dir`` for this process: the :class:`Claim` (heartbeat started) when it was free or its claim was
    stale, else the live owner's record (a dict). Creates the parent directory if needed."""
    run_dir = Path(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    path = claim_path(run_dir)
    for _ in range(3):
        record = owner_record()
        if _create_exclusive(path, json.dumps(record, sort_keys=True)):
            return Claim(run_dir, record, heartbeat_s=heartbeat_s).start_heartbeat()
        current = read_claim(run_dir)
        if current is None:  # released between our create and read: race again
            continue
        if not is_stale(current, path, stale_after_s):
            return current
        _reclaim(run_dir, current, stale_after_s)
    current = read_claim(run_dir)
    return current if current is not None else {}
