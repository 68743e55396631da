"""Check a committed result: re-train a run into a temporary store and compare it with the committed record.

``make verify`` (``python -m study.verify``) re-trains a few runs of the store, named (``--run
<experiment>/<arm>/seed_<k>``, repeatable) or drawn by a seeded draw (``--n N --seed S``, among the committed runs
that are not copies), each into a temporary store, and compares the records: ``eval.csv`` byte for byte,
``positions.npz`` array by array (equal values; NaN equals NaN in float arrays, which pad trajectories after an
episode ends), and the progress logs (``progress.csv`` for SITT runs, ``imitation.csv`` for BC/DAgger) value for value
except SB3's wall-clock columns (``time/fps``, ``time/time_elapsed``). BC and DAgger runs are re-trained against the
committed teacher run (copied into the temporary store), so only their own training is checked.

Two modes (``--mode``, default ``both``):

* ``commit``: the code of the run's recorded commit (``provenance.json``: ``git.commit``), extracted from git into a
  temporary directory (``git archive``, without ``results/``) and run there with its own entry point: ``study.run``
  for today's layout, ``sitt.experiments.run`` for runs made before the study moved out of ``sitt`` (e.g. commit
  458b301 and earlier). It answers: does this machine reproduce what that code computed?
* ``head``: today's code (this checkout). It answers: does today's code still compute the same bits?

Bits are expected to match only where what decides them matches: :func:`study.store.numerics` of the committed run
and of the re-trained one agree on every entry of :data:`study.store.BIT_DECIDING` (torch version, CPU capability,
the CPU's vector-ISA flags, BLAS/MKL, oneDNN, torch threads). Runs recorded before these fields existed have unknown
numerics. Verdicts per run and mode:

* ``bit-exact``: every record equal (pass);
* ``outcome agrees``: numerics differ or are unknown, the bits differ, and every held-out episode (policy and the
  task's :attr:`study.task.Task.episode_column`: the maze's ``maze``, the flight's ``world``, the drawer's ``scene``,
  MiniGrid's ``episode``) has the same :data:`OUTCOME_COLUMNS` that its ``eval.csv`` has (success; the maze's
  release metric, route, outcome, path counts; the flight's collision and timeout; MiniGrid's lava and timeout);
  reported with the iteration from which the progress log drifts and the episode lengths (:data:`LENGTH_COLUMNS`)
  that changed (pass);
* ``MISMATCH``: the bits differ although the numerics match (a real change in what the code computes), or the
  outcome of an episode differs (fail).

Exit status 0 when every check passed, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Sequence

import numpy as np
import pandas as pd

from study import registry, store
from study.load import LEGACY_TASK

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = "results/runs"
MODES = ("commit", "head", "both")
TIME_COLUMNS = ("time/fps", "time/time_elapsed")
OUTCOME_COLUMNS = ("success", "release_success", "route", "outcome", "through_path", "n_paths", "n_done", "n_success",
                   "collision", "timeout", "lava")
LENGTH_COLUMNS = ("ep_length", "steps")  # an episode's length: the maze's ep_length, the other tasks' steps

_TRAIN_SCRIPT = """
import json, sys
from {module}.config import ExperimentConfig
from {module}.run import run_one
import sitt
code = sys.argv[3]
if not sitt.__file__.startswith(code):
    raise SystemExit(f"sitt imported from {{sitt.__file__}}, not from the code under test at {{code}}")
data = json.load(open(sys.argv[1]))
try:  # code that requires the task field reads a config older than it by the legacy rule (study.load.LEGACY_TASK)
    from {module}.load import LEGACY_TASK
    data.setdefault("task", LEGACY_TASK)
except ImportError:  # code from before the rule: such a config is the maze's by its own default
    pass
config = ExperimentConfig.from_dict(data)
print(run_one(config, sys.argv[2], threads=1))
"""


@dataclass
class Check:
    """The outcome of one re-training: ``verdict`` (``bit-exact``, ``outcome agrees``, ``MISMATCH`` or ``ERROR``),
    ``passed``, and what was compared (``files``: file -> equal?), the numerics that differ, the first iteration of
    the progress log that differs (``drift_from``, None: none), the episodes whose outcome or length changed."""

    run_id: str
    mode: str
    commit: str | None
    verdict: str = "ERROR"
    passed: bool = False
    seconds: float = 0.0
    files: dict[str, bool] = field(default_factory=dict)
    numerics_match: bool | None = None
    numerics_diff: dict[str, list[Any]] = field(default_factory=dict)
    drift_from: Any = None
    log_rows: tuple[int, int] | None = None
    episodes: int = 0
    outcome_changed: list[str] = field(default_factory=list)
    length_changed: list[str] = field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        where = f"at commit {self.commit[:7]}" if self.mode == "commit" and self.commit else "at HEAD"
        out = f"{self.run_id} {where}: {self.verdict} [{self.seconds:.0f} s]"
        if self.verdict == "ERROR":
            return out + f": {self.note}"
        nums = ("numerics match" if self.numerics_match else
                "numerics unknown (recorded before they were)" if self.numerics_match is None else
                "numerics differ: " + "; ".join(f"{k} {v[0]!r} -> {v[1]!r}" for k, v in self.numerics_diff.items()))
        out += f"; {nums}"
        if self.verdict != "bit-exact":
            unequal = [name for name, same in self.files.items() if not same]
            out += f"; differ: {', '.join(unequal)}"
            if self.log_rows is not None:
                drift = "no row differs" if self.drift_from is None else f"drifts from iteration {self.drift_from}"
                out += f"; progress log ({self.log_rows[0]} vs {self.log_rows[1]} rows) {drift}"
            out += f"; outcome of {self.episodes - len(self.outcome_changed)}/{self.episodes} held-out episodes agrees"
            if self.outcome_changed:
                out += f" (changed: {', '.join(self.outcome_changed[:5])})"
            if self.length_changed:
                out += f"; episode length changed: {', '.join(self.length_changed[:5])}"
        if self.note:
            out += f"; {self.note}"
        return out


# ---------------------------------------------------------------------------------------------------- comparing


def compare_numerics(recorded: dict[str, Any], fresh: dict[str, Any]) -> tuple[bool | None, dict[str, list[Any]]]:
    """``(match, {entry: [recorded, now]})`` over :data:`study.store.BIT_DECIDING`; ``match`` None when the recorded
    run has no numerics (made before they were recorded)."""
    rec, now = recorded.get("numerics"), fresh.get("numerics") or {}
    if not rec:
        return None, {}
    diff = {k: [rec.get(k), now.get(k)] for k in store.BIT_DECIDING if rec.get(k) != now.get(k)}
    return not diff, diff


def _read_log(path: Path) -> pd.DataFrame:
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df[sorted(c for c in df.columns if c not in TIME_COLUMNS)]
    return df.apply(lambda col: col.map(_exact_value))  # the logged values, exactly (Python's float(), not pandas')


def _exact_value(text: str) -> Any:
    if text == "":
        return np.nan
    try:
        return float(text)
    except ValueError:
        return text


def log_drift(recorded: Path, fresh: Path) -> tuple[bool, Any, tuple[int, int]]:
    """Compare two progress logs (SB3's ``progress.csv`` or ``imitation.csv``) without the wall-clock columns:
    ``(equal, first differing iteration or None, (rows recorded, rows fresh))``. The iteration is SB3's
    ``time/iterations`` (1-based) or ``iteration.epoch`` for imitation logs; a log that only ends early or late
    drifts from its first extra row."""
    a, b = _read_log(recorded), _read_log(fresh)
    rows = (len(a), len(b))
    if list(a.columns) != list(b.columns):
        return False, "the first (the columns differ)", rows
    n = min(len(a), len(b))
    x, y = a.iloc[:n].reset_index(drop=True), b.iloc[:n].reset_index(drop=True)
    same = ((x == y) | (x.isna() & y.isna())).all(axis=1)
    bad = np.flatnonzero(~same.to_numpy())
    first = int(bad[0]) if len(bad) else (n if len(a) != len(b) else None)
    if first is None:
        return True, None, rows
    src = a if first < len(a) else b
    if "time/iterations" in src.columns:
        label: Any = int(src["time/iterations"].iloc[first])
    elif {"iteration", "epoch"} <= set(src.columns):
        label = f"{int(src['iteration'].iloc[first])} (epoch {int(src['epoch'].iloc[first])})"
    else:
        label = first + 1
    return False, label, rows


def episode_column(config: dict[str, Any]) -> str:
    """The eval rows' column naming the held-out episode for a run's ``config`` (its dict, as stored): the task's
    :attr:`study.task.Task.episode_column` (configs written before they named their task are the maze's,
    :data:`study.load.LEGACY_TASK`)."""
    return registry.get_task(config.get("task") or LEGACY_TASK).episode_column


def episode_changes(recorded: Path, fresh: Path, column: str) -> tuple[int, list[str], list[str]]:
    """Per held-out episode (``policy`` and the task's episode ``column``, :func:`episode_column`) of two
    ``eval.csv``: ``(n episodes, outcome changed, length changed)``, each change as ``"student maze 4: success True
    -> False"``."""
    a, b = pd.read_csv(recorded), pd.read_csv(fresh)
    key = ["policy", column]
    missing = [c for c in key if c not in a.columns or c not in b.columns]
    if missing:
        raise ValueError(f"eval.csv: got columns {list(a.columns)} (committed) and {list(b.columns)} (new); "
                         f"allowed: both with {', '.join(key)} (the task's episode column)")
    merged = a.merge(b, on=key, how="outer", suffixes=("_rec", "_new"), indicator=True)
    outcome, length = [], []
    for _, row in merged.iterrows():
        name = f"{row['policy']} {column} {row[column]}"
        if row["_merge"] != "both":
            outcome.append(f"{name}: only in the {'committed' if row['_merge'] == 'left_only' else 'new'} run")
            continue
        for col in OUTCOME_COLUMNS:
            if f"{col}_rec" in row and str(row[f"{col}_rec"]) != str(row[f"{col}_new"]):
                outcome.append(f"{name}: {col} {row[f'{col}_rec']} -> {row[f'{col}_new']}")
        for col in LENGTH_COLUMNS:
            if f"{col}_rec" in row and str(row[f"{col}_rec"]) != str(row[f"{col}_new"]):
                length.append(f"{name}: {row[f'{col}_rec']:g} -> {row[f'{col}_new']:g}")
    return len(merged), outcome, length


def arrays_equal(x: np.ndarray, y: np.ndarray) -> bool:
    """Equal shape and values; in float (or complex) arrays NaN equals NaN (trajectories padded after an episode
    ends), in any other array (ints, bools, strings, objects) the values compare as they are."""
    nan_ok = x.dtype.kind in "fc" and y.dtype.kind in "fc"
    return bool(np.array_equal(x, y, equal_nan=nan_ok))


def _npz_equal(a: Path, b: Path) -> bool:
    with np.load(a) as x, np.load(b) as y:
        return sorted(x.files) == sorted(y.files) and all(arrays_equal(x[k], y[k]) for k in x.files)


def compare_runs(recorded: Path, fresh: Path, check: Check) -> Check:
    """Fill ``check`` with the comparison of the run at ``recorded`` and its re-training at ``fresh``."""
    rec_prov = store.read_json(recorded / store.PROVENANCE_FILE)
    new_prov = store.read_json(fresh / store.PROVENANCE_FILE)
    if not new_prov.get("numerics"):  # re-trained by code older than the numerics record: this machine's, as it ran
        new_prov["numerics"] = dict(store.numerics(), torch_threads=new_prov.get("torch_threads"))
    check.numerics_match, check.numerics_diff = compare_numerics(rec_prov, new_prov)
    log_name = store.PROGRESS_FILE if (recorded / store.PROGRESS_FILE).exists() else store.IMITATION_CSV
    check.files[store.EVAL_FILE] = (recorded / store.EVAL_FILE).read_bytes() == (fresh / store.EVAL_FILE).read_bytes()
    check.files[store.POSITIONS_FILE] = _npz_equal(recorded / store.POSITIONS_FILE, fresh / store.POSITIONS_FILE)
    equal, check.drift_from, check.log_rows = log_drift(recorded / log_name, fresh / log_name)
    check.files[log_name] = equal
    column = episode_column(store.read_json(recorded / store.CONFIG_FILE))
    check.episodes, check.outcome_changed, check.length_changed = episode_changes(
        recorded / store.EVAL_FILE, fresh / store.EVAL_FILE, column)
    if all(check.files.values()):
        check.verdict, check.passed = "bit-exact", True
    elif check.numerics_match:
        check.verdict, check.passed = "MISMATCH", False
        check.note = "the numerics match, so the bits should have: what the code computes has changed"
    elif check.outcome_changed:
        check.verdict, check.passed = "MISMATCH", False
        check.note = "the outcome of held-out episodes changed"
    else:
        check.verdict, check.passed = "outcome agrees", True
    return check


# ---------------------------------------------------------------------------------------------------- re-training


def _git(args: list[str], cwd: Path = REPO) -> str:
    return subprocess.run(["git", "--no-optional-locks", *args], cwd=cwd, capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip()


def extract_commit(commit: str, dest: Path, repo: Path = REPO) -> Path:
    """The files of ``commit`` (without ``results/``) in ``dest`` (``git archive``: a detached copy of that commit's
    code, nothing of the repository's state touched)."""
    try:
        _git(["cat-file", "-e", f"{commit}^{{commit}}"], repo)
    except subprocess.CalledProcessError:
        raise ValueError(f"commit: got {commit!r}; allowed: a commit of the repository at {repo}") from None
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit, "--", ".", ":(exclude)results"], cwd=repo,
                             capture_output=True, check=True, timeout=300).stdout

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def entry_module(code: Path) -> str:
    """The study package of the code at ``code``: ``study`` (today's layout) or ``sitt.experiments`` (before the
    study moved out of ``sitt``)."""
    if (code / "study" / "run.py").is_file():
        return "study"
    if (code / "sitt" / "experiments" / "run.py").is_file():
        return "sitt.experiments"
    raise ValueError(f"code: got {code}; allowed: a checkout holding study/run.py or sitt/experiments/run.py")


def retrain(recorded: Path, root: Path, code: Path, run_id: str, python: str = sys.executable,
            timeout_s: float = 3600) -> Path:
    """Re-train the run at ``recorded`` with the code at ``code`` into the store ``root`` (a subprocess with
    ``code`` first on its path, one torch thread); BC/DAgger get the committed teacher run copied in first."""
    config = store.read_json(recorded / store.CONFIG_FILE)
    root.mkdir(parents=True, exist_ok=True)
    if registry.get_kind(config.get("kind", "sitt")).needs_teacher:
        teacher_id = f"{config['experiment']}/{config['teacher_from']}/seed_{config['seed']}"
        teacher = recorded.parents[2] / teacher_id
        if not store.is_complete(teacher):
            raise ValueError(f"run: {run_id} imitates {teacher_id}, which is not complete in {recorded.parents[2]}")
        shutil.copytree(teacher, root / teacher_id)
    config_file = root / "_config.json"
    config_file.write_text(json.dumps(config))
    env = dict(os.environ, PYTHONPATH=str(code) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    script = _TRAIN_SCRIPT.format(module=entry_module(code))
    proc = subprocess.run([python, "-c", script, str(config_file), str(root), str(code.resolve())], cwd=code, env=env,
                          capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        raise RuntimeError(f"re-training failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def verify_run(run_dir: str | Path, mode: str = "both", root: str | Path = DEFAULT_ROOT,
               repo: Path = REPO, keep: Path | None = None) -> list[Check]:
    """Verify one complete run (``run_dir``, in the store ``root``) in ``mode``; one :class:`Check` per mode run."""
    if mode not in MODES:
        raise ValueError(f"mode: got {mode!r}; allowed: {', '.join(MODES)}")
    run_dir, root = Path(run_dir), Path(root)
    if not store.is_complete(run_dir):
        raise ValueError(f"run: got {run_dir}; allowed: a complete run directory (holding {store.MARKER})")
    run_id = run_dir.resolve().relative_to(root.resolve()).as_posix()
    prov = store.read_json(run_dir / store.PROVENANCE_FILE)
    commit = (prov.get("git") or {}).get("commit")
    checks = []
    for m in (("commit", "head") if mode == "both" else (mode,)):
        check = Check(run_id=run_id, mode=m, commit=commit if m == "commit" else store.git_state(repo)["commit"])
        t0 = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix="sitt-verify-"))
        try:
            if m == "commit":
                if not commit:
                    raise ValueError("the run records no git commit")
                code = extract_commit(commit, work / "code", repo)
                if (prov.get("git") or {}).get("dirty"):
                    check.note = "recorded from a dirty tree: the commit is not exactly the code that ran"
            else:
                code = repo
            fresh = retrain(run_dir, work / "runs", code, run_id)
            compare_runs(run_dir, fresh, check)
            if keep is not None:
                shutil.copytree(fresh, Path(keep) / m / run_id, dirs_exist_ok=True)
        except (ValueError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
            check.verdict, check.passed, check.note = "ERROR", False, f"{type(exc).__name__}: {exc}"[:3000]
        finally:
            shutil.rmtree(work, ignore_errors=True)
            check.seconds = time.perf_counter() - t0
        checks.append(check)
    return checks


def committed_runs(root: str | Path = DEFAULT_ROOT, repo: Path = REPO) -> list[str]:
    """Run ids of the complete runs committed under ``root`` that are not copies of another run."""
    root = Path(root)
    rel = os.path.relpath(root.resolve(), repo.resolve())
    listed = _git(["ls-files", "--", f"{rel}/*/*/seed_*/{store.MARKER}"], repo).splitlines()
    out = []
    for path in listed:
        run_dir = repo / Path(path).parent
        if store.is_complete(run_dir) and not store.read_marker(run_dir).get("reused_from"):
            out.append(run_dir.resolve().relative_to(root.resolve()).as_posix())
    return sorted(out)


def draw(n: int, seed: int, root: str | Path = DEFAULT_ROOT, repo: Path = REPO) -> list[str]:
    """``n`` committed runs drawn with ``random.Random(seed)`` (the same draw on every machine)."""
    runs = committed_runs(root, repo)
    if not 1 <= n <= len(runs):
        raise ValueError(f"n: got {n}; allowed: 1 to {len(runs)} (the committed runs under {root})")
    return sorted(random.Random(seed).sample(runs, n))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m study.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="append", default=[], metavar="EXPERIMENT/ARM/seed_K",
                        help="a run of the store to verify (repeatable); default: a seeded draw")
    parser.add_argument("--n", type=int, default=1, help="how many committed runs to draw (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw (default 0)")
    parser.add_argument("--mode", default="both", choices=MODES, help="commit, head or both (default)")
    parser.add_argument("--root", default=DEFAULT_ROOT, help=f"the run store (default {DEFAULT_ROOT})")
    parser.add_argument("--keep", default=None, help="copy the re-trained runs here (default: discard them)")
    parser.add_argument("--json", default=None, help="also write the checks as JSON to this file")
    args = parser.parse_args(argv)
    try:
        run_ids = args.run or draw(args.n, args.seed, args.root)
        for run_id in run_ids:
            if not store.is_complete(Path(args.root) / run_id):
                raise ValueError(f"run: got {run_id!r}; allowed: a complete run under {args.root}, e.g. main/bc/seed_0")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    checks = []
    for run_id in run_ids:
        for check in verify_run(Path(args.root) / run_id, args.mode, args.root,
                                keep=Path(args.keep) if args.keep else None):
            print(check.line(), flush=True)
            checks.append(check)
    if args.json:
        store.atomic_write_json(args.json, [asdict(c) for c in checks])
    passed = sum(c.passed for c in checks)
    print(f"verify: {passed}/{len(checks)} checks passed "
          f"({sum(c.verdict == 'bit-exact' for c in checks)} bit-exact, "
          f"{sum(c.verdict == 'outcome agrees' for c in checks)} outcome agrees)")
    return 0 if passed == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
