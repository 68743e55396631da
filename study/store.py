"""The run store: atomic file writes, the completeness marker, provenance records.

A run directory is complete when it holds the marker file :data:`MARKER` (``COMPLETE``), which is written last and
contains a JSON summary of the run. Every file is written to a temporary name in its own directory and then renamed
into place (``os.replace``, atomic on POSIX), and :func:`study.run.run_one` builds a whole run in a
temporary sibling directory that is renamed to the final name only after the marker is in, so a reader never sees a
half-written file or a run directory without its marker.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

MARKER = "COMPLETE"
CONFIG_FILE = "config.json"
PROVENANCE_FILE = "provenance.json"
PROGRESS_FILE = "progress.csv"
EVAL_FILE = "eval.csv"
POSITIONS_FILE = "positions.npz"
MODEL_FILE = "model.zip"
STUDENT_FILE = "student.pt"
IMITATION_CSV = "imitation.csv"
IMITATION_JSON = "imitation.json"
FAILED_SUFFIX = ".failed.txt"
TMP_INFIX = ".tmp-"

PACKAGES = ("torch", "stable-baselines3", "gymnasium", "numpy", "pandas", "sitt")

# Every rename into place goes through this name, so tests can observe the order in which files are published.
_replace = os.replace


# ------------------------------------------------------------------------------------------------ atomic writes


def atomic_write_with(path: str | Path, writer: Callable[[Path], Any], suffix: str = "") -> Path:
    """Publish ``path`` atomically: ``writer(tmp)`` writes a temporary file in the same directory, which is then
    renamed to ``path``. On any error the temporary file is removed and ``path`` is left as it was.

    ``suffix`` is given to the temporary name (for writers that insist on an extension, e.g. ``.zip``, ``.npz``).
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".part{suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        writer(tmp)
        _replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    return atomic_write_with(path, write)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays turned into Python values, tuples into lists and NaN/inf into None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(jsonable(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def publish_file(src: str | Path, dst: str | Path) -> Path:
    """Move a finished file into place atomically (same filesystem)."""
    _replace(src, dst)
    return Path(dst)


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------------- run state


def is_complete(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` is a finished run: a directory holding the marker file."""
    return (Path(run_dir) / MARKER).is_file()


def read_marker(run_dir: str | Path) -> dict[str, Any]:
    """The summary the marker holds."""
    return read_json(Path(run_dir) / MARKER)


def write_marker(run_dir: str | Path, summary: dict[str, Any]) -> Path:
    """Write the marker (LAST, after every other file of the run)."""
    return atomic_write_json(Path(run_dir) / MARKER, summary)


def failed_path(run_dir: str | Path) -> Path:
    """Where a sweep records a failed run's traceback: ``<run_dir>.failed.txt``, beside (not in) the run directory."""
    run_dir = Path(run_dir)
    return run_dir.with_name(run_dir.name + FAILED_SUFFIX)


def tmp_dir_for(run_dir: str | Path, pid: int | None = None) -> Path:
    run_dir = Path(run_dir)
    return run_dir.with_name(f"{run_dir.name}{TMP_INFIX}{os.getpid() if pid is None else pid}")


def pid_alive(pid: int) -> bool:
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


def stale_tmp_dirs(run_dir: str | Path) -> list[Path]:
    """Temporary directories of ``run_dir`` left by runs that were killed: ``<run_dir>.tmp-<pid>`` whose process is
    gone (or is this process: a leftover of an earlier attempt). Those of live processes are not listed."""
    run_dir = Path(run_dir)
    if not run_dir.parent.is_dir():
        return []
    out = []
    for p in run_dir.parent.glob(f"{run_dir.name}{TMP_INFIX}*"):
        suffix = p.name[len(run_dir.name) + len(TMP_INFIX):]
        digits = re.match(r"\d+", suffix)
        pid = int(digits.group()) if digits else -1
        if pid == os.getpid() or not pid_alive(pid):
            out.append(p)
    return sorted(out)


# --------------------------------------------------------------------------------------------------- provenance


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def git_state(path: str | Path | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository holding ``path`` (default: this package).

    ``dirty``: tracked files differ from the commit (untracked files, e.g. run outputs, do not count). Read-only
    (``git --no-optional-locks``: never takes the index lock); ``None`` values when git or the repository is missing.
    """
    cwd = Path(path) if path is not None else Path(__file__).resolve().parents[2]
    commit = _git(["rev-parse", "HEAD"], cwd)
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd) if commit else None
    return {"commit": commit or None, "dirty": None if status is None else bool(status)}


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance() -> dict[str, Any]:
    """Where and with what a run was computed: git commit and dirty flag, package versions (torch, sb3, gymnasium,
    numpy, pandas, sitt), Python, platform, CPU model and count, torch threads, host."""
    from sitt.runtime import torch_threads

    return {
        "git": git_state(),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "python_full": sys.version,
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch_threads(),
        "hostname": platform.node(),
        "pid": os.getpid(),
    }
