"""Run claims (study.runlock), the packed-run hand-over (study.store), the numerics record and the --set message."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import pytest
import torch

from study import runlock, store
from study import sweep as sweep_mod
from study.presets import preset


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_claim(run_dir, **record):
    path = runlock.claim_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def test_a_claim_is_exclusive_and_released_only_by_its_owner(tmp_path):
    run_dir = tmp_path / "e" / "arm" / "seed_0"
    claim = runlock.try_claim(run_dir, heartbeat_s=0)
    assert isinstance(claim, runlock.Claim)
    record = json.loads(runlock.claim_path(run_dir).read_text())
    assert record["host"] == platform.node() and record["pid"] == os.getpid()
    again = runlock.try_claim(run_dir, heartbeat_s=0)  # live owner (this process): refused, the owner is named
    assert not isinstance(again, runlock.Claim) and again["token"] == record["token"]
    # someone else's claim replaced ours (e.g. after a takeover): releasing ours must not remove theirs
    _write_claim(run_dir, host="elsewhere", pid=1, token="theirs")
    claim.release()
    assert runlock.read_claim(run_dir)["token"] == "theirs"
    runlock.claim_path(run_dir).unlink()
    claim = runlock.try_claim(run_dir, heartbeat_s=0)
    claim.release()
    assert not runlock.claim_path(run_dir).exists()


def test_stale_claims_are_taken_over_and_live_ones_are_not(tmp_path):
    dead = tmp_path / "dead"
    _write_claim(dead, host=platform.node(), pid=_dead_pid(), token="dead")
    claim = runlock.try_claim(dead, heartbeat_s=0)
    assert isinstance(claim, runlock.Claim) and runlock.read_claim(dead)["pid"] == os.getpid()
    claim.release()

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / "live"
        _write_claim(live, host=platform.node(), pid=sleeper.pid, token="live")
        assert runlock.try_claim(live, heartbeat_s=0)["token"] == "live"
        # the same pid but another start time: the pid was reused by a process that is not the owner
        _write_claim(live, host=platform.node(), pid=sleeper.pid, pid_started=1.0, token="reused")
        assert isinstance(runlock.try_claim(live, heartbeat_s=0), runlock.Claim)
    finally:
        sleeper.kill()
        sleeper.wait()

    remote = tmp_path / "remote"
    path = _write_claim(remote, host="another-host", pid=123, token="remote")
    assert runlock.try_claim(remote, heartbeat_s=0)["token"] == "remote"  # fresh: its owner is presumed alive
    old = time.time() - runlock.STALE_AFTER_S - 5
    os.utime(path, (old, old))
    assert isinstance(runlock.try_claim(remote, heartbeat_s=0), runlock.Claim)  # no heartbeat for too long


def test_the_heartbeat_keeps_a_claim_fresh(tmp_path):
    run_dir = tmp_path / "r"
    claim = runlock.try_claim(run_dir, heartbeat_s=0.05)
    old = time.time() - 1000
    os.utime(claim.path, (old, old))
    time.sleep(0.3)
    assert time.time() - claim.path.stat().st_mtime < 5
    claim.release()


def test_pack_and_unpack_publish_a_run_atomically(tmp_path):
    src = tmp_path / "src"
    (src / "tensorboard").mkdir(parents=True)
    (src / "eval.csv").write_text("a,b\n1,2\n")
    (src / "tensorboard" / "events").write_bytes(b"\x00\x01")
    (src / store.MARKER).write_text("{}")
    files = store.pack_run(src)
    assert files == {"COMPLETE": b"{}", "eval.csv": b"a,b\n1,2\n", "tensorboard/events": b"\x00\x01"}
    order = []
    real = store._replace
    store._replace = lambda a, b: (order.append(os.path.basename(b)), real(a, b))
    try:
        dst = tmp_path / "root" / "e" / "arm" / "seed_0"
        assert store.unpack_run(files, dst)
    finally:
        store._replace = real
    assert order[-1] == store.MARKER  # the marker last, then one directory rename
    assert store.pack_run(dst) == files
    assert not list(dst.parent.glob("*.tmp-*"))
    assert not store.unpack_run(dict(files, **{"eval.csv": b"other"}), dst)  # a complete run is kept
    assert (dst / "eval.csv").read_bytes() == b"a,b\n1,2\n"
    with pytest.raises(ValueError, match="^files:"):
        store.unpack_run({"../escape": b"", store.MARKER: b"{}"}, tmp_path / "x")
    with pytest.raises(ValueError, match="^files:"):
        store.unpack_run({"eval.csv": b""}, tmp_path / "y")


def test_provenance_records_what_decides_the_bits():
    record = store.provenance()
    numerics = record["numerics"]
    assert numerics["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert numerics["torch"] == torch.__version__
    assert numerics["blas"] and numerics["blas"] in torch.__config__.show()
    assert numerics["torch_threads"] == {"intra_op": torch.get_num_threads(),
                                         "inter_op": torch.get_num_interop_threads()}
    assert set(numerics["kernel_flags"]) <= set(numerics["cpu_flags"])
    assert set(store.BIT_DECIDING) <= set(numerics)
    if sys.platform.startswith("linux"):
        assert numerics["cpu_flags"] and numerics["cpu_model"]
    assert record["git"]["commit"]  # the repository holding the study package (not its parent folder)


def test_set_errors_list_the_valid_dotted_names(tmp_path, capsys):
    assert sweep_mod.main(["--experiment", "main", "--profile", "smoke", "--seeds", "0", "--set", "nonexistent=3",
                           "--root", str(tmp_path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "--set nonexistent: unknown field; allowed:" in err
    for name in ("ppo.n_steps", "env.n_envs", "eval.n_mazes", "imitation.dagger_iterations", "total_timesteps",
                 "switches.reward_coef", "switches.align_epochs"):
        assert name in err
    names = sweep_mod.dotted_fields(preset("main", "sitt_release", 0, "smoke"))
    assert "switches.recipe" not in names and "ppo" not in names
    config = preset("main", "sitt_release", 0, "smoke")
    resolved = config.sitt_config()
    cosil = preset("main", "cosil", 0, "smoke")
    assert {"method.alpha_init", "method.target_divergence"} <= set(sweep_mod.dotted_fields(cosil))
    assert not any(name.startswith("method.") for name in names)  # SITT has no method config
    assert cosil.override({"method.target_divergence": 0.25}).validate().method == {"target_divergence": 0.25}
    for name in names:  # every listed name is accepted by override, with its current value
        node = config.to_dict()
        if name.startswith("switches."):
            value = getattr(resolved, name.split(".", 1)[1])
        else:
            for part in name.split("."):
                node = node[part]
            value = node
        assert config.override({name: value}).validate() is not None, name
    assert sweep_mod.main(["--experiment", "main", "--profile", "smoke", "--seeds", "0", "--set", "switches.nope=1",
                           "--root", str(tmp_path), "--dry-run"]) == 2
    assert "switches.nope: unknown field" in capsys.readouterr().err


def test_scheduler_needs_the_dask_backend(tmp_path, capsys):
    assert sweep_mod.main(["--experiment", "main", "--profile", "smoke", "--seeds", "0", "--root", str(tmp_path),
                           "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler" in capsys.readouterr().err
    with pytest.raises(ValueError, match="^backend:"):
        sweep_mod.sweep([], tmp_path, backend="slurm")


def test_help_documents_both_backends():
    proc = subprocess.run([sys.executable, "-m", "study.sweep", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for needle in ("--backend {local,dask}", "--scheduler ADDRESS", "LocalCluster", "dask scheduler", "dask worker",
                   "dask-jobqueue", "<run_dir>.claim", "exits 130"):
        assert needle in proc.stdout, needle
