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
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any
from collections.abc import Callable

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
#: a derived reading kept beside a run (:func:`study.policy_modes.policy_modes_table` with ``cache=True``): not part of
#: the training record; rewritten whenever its key (the run's config and the sampling seed) no longer matches
MODES_FILE = "policy_modes.csv"
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


def remove_tree(path: str | Path) -> None:
    """Remove a directory tree (or a file or link) if present."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def publish_run(tmp: str | Path, run_dir: str | Path, force: bool = False) -> bool:
    """Rename the finished run directory ``tmp`` (marker in) to ``run_dir``; return whether ours was published.

    An incomplete old ``run_dir`` is removed first, a complete one only with ``force``; a run another process
    finished meanwhile is kept and ``tmp`` dropped (returns False)."""
    tmp, run_dir = Path(tmp), Path(run_dir)
    if not is_complete(tmp):
        raise ValueError(f"tmp: got {tmp} without its marker {MARKER}; allowed: a finished run directory")
    old = None
    if run_dir.exists() or run_dir.is_symlink():
        if is_complete(run_dir) and not force:
            remove_tree(tmp)
            return False
        old = run_dir.with_name(f"{tmp.name}.old")
        run_dir.rename(old)
    try:
        tmp.rename(run_dir)
    except OSError:
        if is_complete(run_dir):  # someone else published it between our checks
            remove_tree(tmp)
            return False
        raise
    if old is not None:
        remove_tree(old)
    return True


# ------------------------------------------------------------------------------ runs handed over between machines


def pack_run(run_dir: str | Path) -> dict[str, bytes]:
    """Every file of a run directory as ``{relative posix path: bytes}`` (subdirectories included), to hand a run
    from a worker to the client that owns the store (see :func:`unpack_run`)."""
    run_dir = Path(run_dir)
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def unpack_run(files: dict[str, bytes], run_dir: str | Path, force: bool = False) -> bool:
    """Publish a packed run (:func:`pack_run`) at ``run_dir`` with the store's protocol: every file into
    ``<run_dir>.tmp-<pid>``, the marker last, then one rename (:func:`publish_run`). Returns whether it was published
    (False: a complete run was already there and ``force`` is off)."""
    run_dir = Path(run_dir)
    names = sorted(files)
    if MARKER not in names:
        raise ValueError(f"files: got {names}; allowed: a packed run holding its marker {MARKER}")
    for name in names:
        if name.startswith("/") or ".." in Path(name).parts:
            raise ValueError(f"files: got the path {name!r}; allowed: paths inside the run directory")
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir_for(run_dir)
    remove_tree(tmp)
    tmp.mkdir()
    try:
        for name in [n for n in names if n != MARKER] + [MARKER]:
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(target, files[name])
        return publish_run(tmp, run_dir, force)
    except BaseException:
        remove_tree(tmp)
        raise


def remove_empty_parents(path: str | Path, root: str | Path) -> None:
    """Remove ``path``'s parent directories that are empty, up to (not including) ``root``."""
    path, root = Path(path).resolve(), Path(root).resolve()
    for parent in path.parents:
        if parent == root or root not in parent.parents:
            return
        try:
            parent.rmdir()
        except OSError:  # not empty (or gone)
            return


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
    cwd = Path(path) if path is not None else Path(__file__).resolve().parents[1]
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


# Flags of /proc/cpuinfo that decide which kernels torch, MKL and oneDNN dispatch to (vector ISA extensions).
KERNEL_FLAG_PREFIXES = ("sse", "ssse", "avx", "fma", "f16c", "amx", "vnni", "bmi", "sha", "aes", "pclmul", "popcnt")
# The entries of numerics() that must agree for two machines to compute the same bits (study.verify).
BIT_DECIDING = ("torch", "cpu_capability", "kernel_flags", "blas", "mkl", "mkldnn", "torch_threads")


def cpu_flags() -> list[str]:
    """The CPU's feature flags (``/proc/cpuinfo`` on Linux; an empty list elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("flags", "features")):
                return sorted(set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return []


def _torch_build_info(text: str) -> dict[str, str | None]:
    """BLAS, LAPACK, MKL and oneDNN (MKL-DNN) of ``torch.__config__.show()``."""
    settings = dict(re.findall(r"(\w+)=([^,\s]*)", text))
    mkl = re.search(r"Math Kernel Library Version ([^\n]+)", text)
    mkldnn = re.search(r"MKL-DNN (v[\d.]+)", text)
    openblas = re.search(r"OpenBLAS ([^\n]+)", text)
    return {
        "blas": settings.get("BLAS_INFO"),
        "lapack": settings.get("LAPACK_INFO"),
        "mkl": mkl.group(1).strip() if mkl else (openblas.group(1).strip() if openblas else None),
        "mkldnn": mkldnn.group(1) if mkldnn else None,
        "torch_commit": settings.get("COMMIT_SHA"),
    }


def numerics() -> dict[str, Any]:
    """What decides the bits a CPU training computes: torch's version and CPU capability (the kernel set ATen
    dispatches to: ``torch.backends.cpu.get_cpu_capability()``, e.g. ``AVX512``, ``AVX2``, ``DEFAULT``), the CPU model
    and its vector-ISA flags (MKL and oneDNN pick kernels by them), the BLAS torch was built with
    (``torch.__config__.show()``), torch's thread counts and the thread variables of the environment. The entries
    named in :data:`BIT_DECIDING` are compared by :mod:`study.verify`."""
    import torch  # noqa: PLC0415  (torch-heavy: read when a run's provenance is written)

    from sitt.runtime import torch_threads  # noqa: PLC0415  (the same)

    flags = cpu_flags()
    return {
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_model": cpu_model(),
        "kernel_flags": [f for f in flags if f.startswith(KERNEL_FLAG_PREFIXES)],
        "cpu_flags": flags,
        **_torch_build_info(torch.__config__.show()),
        "torch_threads": torch_threads(),
        "thread_env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
    }


def provenance() -> dict[str, Any]:
    """Where and with what a run was computed: git commit and dirty flag, package versions (torch, sb3, gymnasium,
    numpy, pandas, sitt), Python, platform, CPU model and count, torch threads, host, and :func:`numerics` (what
    decides the bits: CPU capability, CPU flags, BLAS, thread counts)."""
    from sitt.runtime import torch_threads  # noqa: PLC0415  (sitt.runtime imports torch: read when a run is written)

    return {
        "numerics": numerics(),
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
