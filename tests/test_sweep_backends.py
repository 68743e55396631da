"""Sweeps on both backends: the Dask backend gives the local backend's bits, survives a killed worker, several sweeps
share one store (each run trained once), and Ctrl-C stops cleanly and resumes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from study import backends, runlock, store
from study import sweep as sweep_mod
from study.presets import preset
from study.verify import log_drift

REPO = Path(__file__).resolve().parents[1]
RECORDS = (store.CONFIG_FILE, store.EVAL_FILE, store.POSITIONS_FILE, store.PROGRESS_FILE, store.IMITATION_CSV,
           store.IMITATION_JSON)


def smoke(arm: str = "sitt_release", seed: int = 0, iterations: int = 3):
    config = preset("s", arm, seed, "smoke", task="color_maze")
    return config.override({"total_timesteps": iterations * config.env.n_envs * config.ppo.n_steps}).validate()


@pytest.fixture(autouse=True)
def _restore_threads():
    threads = torch.get_num_threads()
    env = {k: os.environ.get(k)
           for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")}
    yield
    torch.set_num_threads(threads)
    for k, v in env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _child_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _leftovers(root: Path) -> list[str]:
    """Anything of a half-done run: temporary directories, claims, failure files, empty folders."""
    out = [p.name for p in root.rglob("*") if store.TMP_INFIX in p.name or p.name.endswith(runlock.CLAIM_SUFFIX)]
    out += [str(p) for p in root.rglob("*") if p.is_dir() and not any(p.iterdir())]
    return out


def _same_records(a: Path, b: Path) -> None:
    for name in RECORDS:
        if not (a / name).exists():
            assert not (b / name).exists(), name
            continue
        if name == store.PROGRESS_FILE:  # without SB3's wall-clock columns
            assert log_drift(a / name, b / name)[0], name
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.slow  # starts a LocalCluster and process pools
def test_dask_localcluster_gives_the_local_backends_bits(tmp_path):
    configs = [smoke("sitt_release", 0), smoke("bc", 0)]  # + the bc teacher, added by the sweep
    local = sweep_mod.sweep(configs, tmp_path / "local", jobs=2, progress=False)
    dask = sweep_mod.sweep(configs, tmp_path / "dask", jobs=2, progress=False, backend="dask")
    assert local.ok and dask.ok, (local.summary(), dask.summary())
    assert sorted(local.completed) == sorted(dask.completed) == ["s/bc/seed_0", "s/sitt_release/seed_0",
                                                                 "s/without_alignment/seed_0"]
    for run_id in local.completed:
        _same_records(tmp_path / "local" / run_id, tmp_path / "dask" / run_id)
        assert (store.read_marker(tmp_path / "dask" / run_id)["files"]
                == store.read_marker(tmp_path / "local" / run_id)["files"])
    teacher = store.read_json(tmp_path / "dask" / "s/bc/seed_0" / store.PROVENANCE_FILE)["teacher_run"]
    assert teacher["run_dir"] == str(tmp_path / "dask" / "s/without_alignment/seed_0")  # the store's, not the worker's
    assert _leftovers(tmp_path / "dask") == [] and backends.worker_roots() == []
    again = sweep_mod.sweep(configs, tmp_path / "dask", jobs=2, progress=False, backend="dask")
    assert again.ok and sorted(again.skipped) == ["s/bc/seed_0", "s/sitt_release/seed_0"] and again.completed == []


@pytest.mark.slow  # starts a LocalCluster
def test_a_killed_dask_worker_is_replaced_and_every_run_completes_once(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    configs = [smoke("sitt_release", seed, iterations=12) for seed in range(4)]
    published = []
    real_publish = store.publish_run
    monkeypatch.setattr(store, "publish_run", lambda tmp, run_dir, force=False: (
        published.append(Path(run_dir).relative_to(tmp_path).as_posix()), real_publish(tmp, run_dir, force))[1])
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        result = {}
        thread = threading.Thread(target=lambda: result.update(report=sweep_mod.sweep(
            configs, tmp_path, progress=False, backend="dask", scheduler=cluster.scheduler_address, poll_s=0.2)))
        thread.start()
        victim = None
        deadline = time.time() + 120
        while victim is None and time.time() < deadline:
            busy = [addr for addr, keys in client.processing().items() if keys]
            if busy:
                victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            time.sleep(0.05)
        assert victim is not None, "no task started"
        time.sleep(0.5)  # inside the task (importing torch or training)
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=300)
        assert not thread.is_alive()
        assert victim not in client.run(os.getpid).values()  # the killed worker is gone (its nanny started another)
    report = result["report"]
    assert report.ok, report.summary()
    assert sorted(report.completed) == sorted(c.run_id for c in configs)
    assert sorted(published) == sorted(c.run_id for c in configs)  # each run published exactly once
    for config in configs:
        run_dir = config.run_dir(tmp_path)
        assert store.is_complete(run_dir)
        assert set(store.read_marker(run_dir)["files"]) <= {p.name for p in run_dir.iterdir()}
    assert _leftovers(tmp_path) == []


@pytest.mark.slow  # two sweeps in subprocesses
def test_two_local_sweeps_at_once_on_one_store_train_each_run_once(tmp_path):
    cmd = [sys.executable, "-m", "study.sweep", "--experiment", "main", "--arms", "sitt_release,sitt_paper",
           "--profile", "smoke", "--seeds", "0-1", "--jobs", "1", "--root", str(tmp_path), "--no-progress",
           "--set", "total_timesteps=2048"]
    procs = [subprocess.Popen(cmd, env=_child_env(), stderr=subprocess.PIPE, text=True, cwd=tmp_path) for _ in range(2)]
    errs = [p.communicate(timeout=600)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    trained = [int(re.search(r"(\d+) trained,", e).group(1)) for e in errs]
    assert sum(trained) == 4, errs  # 4 runs: each trained by exactly one of the two sweeps
    others = [int(m.group(1)) if (m := re.search(r"(\d+) trained by another sweep", e)) else 0 for e in errs]
    complete = [int(re.search(r"(\d+) already complete", e).group(1)) for e in errs]
    assert [t + o + c for t, o, c in zip(trained, others, complete)] == [4, 4], errs
    provs = [store.read_json(p) for p in tmp_path.glob(f"main/*/seed_*/{store.PROVENANCE_FILE}")]
    assert len(provs) == 4 and len({p["run_id"] for p in provs}) == 4
    assert _leftovers(tmp_path) == []


@pytest.mark.slow  # a sweep in a subprocess, interrupted, then resumed
def test_sigint_mid_sweep_stops_cleanly_and_the_restart_finishes(tmp_path):
    cmd = [sys.executable, "-m", "study.sweep", "--experiment", "main", "--arms", "sitt_release",
           "--profile", "smoke", "--seeds", "0-3", "--jobs", "1", "--root", str(tmp_path), "--no-progress",
           "--set", "total_timesteps=4096"]
    proc = subprocess.Popen(cmd, env=_child_env(), stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.time() + 180
    while time.time() < deadline and not list(tmp_path.glob(f"main/sitt_release/seed_*/{store.MARKER}")):
        time.sleep(0.05)
    while time.time() < deadline and not list(tmp_path.glob(f"main/sitt_release/seed_*{store.TMP_INFIX}*")):
        time.sleep(0.02)  # the next run is training
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sweep interrupted (SIGINT)"), err
    assert "1 stopped while training" in lines[0], err
    assert _leftovers(tmp_path) == []
    done = len(list(tmp_path.glob(f"main/sitt_release/seed_*/{store.MARKER}")))
    assert 1 <= done < 4
    again = subprocess.run(cmd, env=_child_env(), capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"{4 - done} trained" in again.stderr and f"{done} already complete" in again.stderr
    assert len(list(tmp_path.glob(f"main/sitt_release/seed_*/{store.MARKER}"))) == 4
    assert _leftovers(tmp_path) == []
