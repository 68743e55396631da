"""study.verify: a fresh run re-trains bit for bit; a run recorded on other numerics is judged by its outcome, with
the drift reported; a bit change on the same numerics, or a changed outcome, fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from study import store, verify
from study.presets import preset
from study.registry import get_task, task_names
from study.run import run_one

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / verify.DEFAULT_ROOT
#: a cheap committed run per registered task (BC of its main experiment: seconds on top of the committed teacher)
#: and the task's episode column
TASK_RUNS = {name: (f"{get_task(name).main_experiment}/bc/seed_0", get_task(name).episode_column)
             for name in task_names()}


@pytest.fixture(scope="module")
def fresh_store(tmp_path_factory):
    """One smoke run (4 iterations) made now, in a store of its own."""
    threads = torch.get_num_threads()
    env = {k: os.environ.get(k)
           for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")}
    root = tmp_path_factory.mktemp("runs")
    config = preset("v", "sitt_release", 0, "smoke", task="color_maze")
    config = config.override({"total_timesteps": 4 * config.env.n_envs * config.ppo.n_steps}).validate()
    run_one(config, root, threads=1)
    torch.set_num_threads(threads)
    for k, v in env.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return root, config.run_id


def _copy(root: Path, run_id: str, dest: Path) -> Path:
    shutil.copytree(root / run_id, dest / run_id)
    return dest / run_id


def _another_capability() -> str:
    """A CPU capability other than this machine's (a record "made elsewhere" must differ from here)."""
    import torch as th

    return "AVX512" if th.backends.cpu.get_cpu_capability() != "AVX512" else "AVX2"


def _perturb(run_dir: Path, capability: str | None = None, log_row: int | None = None, ep_length: bool = False,
             success: bool = False) -> None:
    """Fake a record made elsewhere: another CPU capability, a progress log that differs from ``log_row`` (0-based),
    one episode 2 steps longer, or one episode's success flipped."""
    if capability is not None:
        prov = store.read_json(run_dir / store.PROVENANCE_FILE)
        prov["numerics"]["cpu_capability"] = capability
        store.atomic_write_json(run_dir / store.PROVENANCE_FILE, prov)
    if log_row is not None:
        df = pd.read_csv(run_dir / store.PROGRESS_FILE)
        df.loc[log_row:, "train/value_loss"] = df.loc[log_row:, "train/value_loss"].fillna(0) + 1e-7
        df.to_csv(run_dir / store.PROGRESS_FILE, index=False)
    if ep_length or success:
        df = pd.read_csv(run_dir / store.EVAL_FILE)
        if ep_length:
            df.loc[1, "ep_length"] += 2
        if success:
            df.loc[1, "success"] = not df.loc[1, "success"]
        df.to_csv(run_dir / store.EVAL_FILE, index=False)


@pytest.mark.slow  # re-trains in a subprocess
def test_a_fresh_run_is_reproduced_bit_for_bit_at_head(fresh_store):
    root, run_id = fresh_store
    (check,) = verify.verify_run(root / run_id, "head", root)
    assert check.verdict == "bit-exact" and check.passed, check.line()
    assert check.numerics_match is True and all(check.files.values())
    assert set(check.files) == {store.EVAL_FILE, store.POSITIONS_FILE, store.PROGRESS_FILE}


@pytest.mark.slow  # re-trains in a subprocess
def test_a_run_recorded_on_another_cpu_capability_is_judged_by_its_outcome(fresh_store, tmp_path):
    root, run_id = fresh_store
    faked = _copy(root, run_id, tmp_path)
    other = _another_capability()
    _perturb(faked, capability=other, log_row=2, ep_length=True)
    (check,) = verify.verify_run(faked, "head", tmp_path)
    assert check.verdict == "outcome agrees" and check.passed, check.line()
    assert check.numerics_match is False and check.numerics_diff["cpu_capability"][0] == other
    assert check.numerics_diff["cpu_capability"][1] == torch.backends.cpu.get_cpu_capability()
    assert check.drift_from == 3  # SB3's time/iterations of the first differing row
    assert check.files == {store.EVAL_FILE: False, store.POSITIONS_FILE: True, store.PROGRESS_FILE: False}
    assert check.outcome_changed == [] and len(check.length_changed) == 1
    line = check.line()
    assert f"numerics differ: cpu_capability '{other}' ->" in line and "drifts from iteration 3" in line
    assert f"outcome of {check.episodes}/{check.episodes} held-out episodes agrees" in line


def test_bits_that_differ_on_the_same_numerics_or_a_changed_outcome_fail(fresh_store, tmp_path):
    root, run_id = fresh_store
    same = _copy(root, run_id, tmp_path / "a")
    check = verify.compare_runs(same, root / run_id, verify.Check(run_id, "head", None))
    assert check.verdict == "bit-exact" and check.drift_from is None
    drifted = _copy(root, run_id, tmp_path / "b")
    _perturb(drifted, log_row=1)
    check = verify.compare_runs(drifted, root / run_id, verify.Check(run_id, "head", None))
    assert check.verdict == "MISMATCH" and not check.passed and check.drift_from == 2
    flipped = _copy(root, run_id, tmp_path / "c")
    _perturb(flipped, capability=_another_capability(), success=True)
    check = verify.compare_runs(flipped, root / run_id, verify.Check(run_id, "head", None))
    assert check.verdict == "MISMATCH" and len(check.outcome_changed) == 1 and "success" in check.outcome_changed[0]
    old = _copy(root, run_id, tmp_path / "d")  # recorded before numerics existed: unknown, judged by the outcome
    prov = store.read_json(old / store.PROVENANCE_FILE)
    del prov["numerics"]
    store.atomic_write_json(old / store.PROVENANCE_FILE, prov)
    _perturb(old, log_row=0)
    check = verify.compare_runs(old, root / run_id, verify.Check(run_id, "head", None))
    assert check.numerics_match is None and check.verdict == "outcome agrees" and check.drift_from == 1


def _has_commit(commit: str) -> bool:
    found = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPO, capture_output=True)
    return found.returncode == 0


@pytest.mark.skipif(not _has_commit("458b301"), reason="needs the repository's history (a full clone)")
def test_the_recorded_commits_own_entry_point_is_used(tmp_path):
    old = verify.extract_commit("458b301", tmp_path / "old")
    assert verify.entry_module(old) == "sitt.experiments"  # before the study moved out of sitt
    assert not (old / "results").exists() and (old / "sitt" / "experiments" / "run.py").is_file()
    assert verify.entry_module(REPO) == "study"
    with pytest.raises(ValueError, match="^commit:"):
        verify.extract_commit("0" * 40, tmp_path / "none")


@pytest.mark.slow  # re-trains in a subprocess, at the recorded commit
def test_commit_mode_re_trains_with_the_recorded_commits_code(fresh_store, tmp_path):
    root, run_id = fresh_store
    run = _copy(root, run_id, tmp_path)
    prov = store.read_json(run / store.PROVENANCE_FILE)
    if not prov["git"]["commit"] or not _has_commit(prov["git"]["commit"]):
        pytest.skip("the run records no commit of this repository")
    (check,) = verify.verify_run(run, "commit", tmp_path)
    assert check.commit == prov["git"]["commit"] and check.verdict == "bit-exact", check.line()


def test_the_draw_is_seeded_and_skips_copies():
    runs = verify.committed_runs()
    if not runs:
        pytest.skip("no committed runs")
    assert verify.draw(3, 7) == verify.draw(3, 7) and len(set(verify.draw(3, 7))) == 3
    assert all(not store.read_marker(REPO / verify.DEFAULT_ROOT / r).get("reused_from") for r in runs)
    with pytest.raises(ValueError, match="^n:"):
        verify.draw(0, 0)
    assert verify.main(["--run", "nope/arm/seed_0"]) == 2


# ---------------------------------------------------------------------------------------------------- every task


def test_the_episode_column_is_the_tasks():
    for task, (run_id, column) in TASK_RUNS.items():
        assert verify.episode_column({"task": task}) == column
    assert verify.episode_column({}) == "maze"  # configs written before they named their task: the maze's
    with pytest.raises(ValueError, match="^task:"):
        verify.episode_column({"task": "nope"})


def _eval(path: Path, rows: list[tuple]) -> Path:
    pd.DataFrame(rows, columns=["policy", "scene", "success", "steps"]).to_csv(path, index=False)
    return path


def test_episodes_are_keyed_by_the_tasks_column_and_lengths_by_steps(tmp_path):
    rec = _eval(tmp_path / "a.csv", [("teacher", 0, True, 14), ("student", 0, True, 20), ("student", 1, False, 100)])
    same = _eval(tmp_path / "b.csv", [("teacher", 0, True, 14), ("student", 0, True, 20), ("student", 1, False, 100)])
    assert verify.episode_changes(rec, same, "scene") == (3, [], [])
    new = _eval(tmp_path / "c.csv", [("teacher", 0, True, 14), ("student", 0, True, 22), ("student", 1, True, 40)])
    n, outcome, length = verify.episode_changes(rec, new, "scene")
    assert n == 3 and outcome == ["student scene 1: success False -> True"]
    assert length == ["student scene 0: 20 -> 22", "student scene 1: 100 -> 40"]
    with pytest.raises(ValueError, match="^eval.csv:"):
        verify.episode_changes(rec, new, "maze")


def test_arrays_padded_with_nan_compare_equal(tmp_path):
    pos = np.full((2, 5, 2), np.nan, dtype=np.float32)  # two episodes, padded after their last step
    pos[0, :3], pos[1, :5] = 1.5, 2.5
    arrays = {"student_q": pos, "student_steps": np.array([3, 5], dtype=np.int32),
              "student_visible": np.array([[True] * 5, [False] * 5])}
    np.savez(tmp_path / "a.npz", **arrays)
    np.savez(tmp_path / "b.npz", **{k: v.copy() for k, v in arrays.items()})
    assert verify._npz_equal(tmp_path / "a.npz", tmp_path / "b.npz")
    moved = pos.copy()
    moved[0, 1, 0] = 1.25
    np.savez(tmp_path / "c.npz", **dict(arrays, student_q=moved))
    assert not verify._npz_equal(tmp_path / "a.npz", tmp_path / "c.npz")
    ended = pos.copy()
    ended[0, 2] = np.nan  # an episode that ends a step earlier is not equal
    np.savez(tmp_path / "d.npz", **dict(arrays, student_q=ended))
    assert not verify._npz_equal(tmp_path / "a.npz", tmp_path / "d.npz")
    np.savez(tmp_path / "e.npz", **dict(arrays, student_steps=np.array([3, 4], dtype=np.int32)))
    assert not verify._npz_equal(tmp_path / "a.npz", tmp_path / "e.npz")
    drawer = RUNS / TASK_RUNS["occluded_drawer"][0] / store.POSITIONS_FILE  # padded with NaN after each episode
    if drawer.is_file():
        assert verify._npz_equal(drawer, drawer)


@pytest.mark.slow  # re-trains a committed BC run in a subprocess (seconds, on top of its committed teacher)
@pytest.mark.parametrize("mode", ["head", "commit"])
@pytest.mark.parametrize("task", sorted(TASK_RUNS))
def test_a_committed_run_of_every_task_verifies(task, mode):
    run_id, column = TASK_RUNS[task]
    run_dir = RUNS / run_id
    if not store.is_complete(run_dir):
        pytest.skip(f"{run_id} is not committed in this checkout")
    assert verify.episode_column(store.read_json(run_dir / store.CONFIG_FILE)) == column
    commit = (store.read_json(run_dir / store.PROVENANCE_FILE).get("git") or {}).get("commit")
    if mode == "commit" and not (commit and _has_commit(commit)):
        pytest.skip(f"{run_id} records commit {commit}, not in this clone's history")
    (check,) = verify.verify_run(run_dir, mode, RUNS)
    assert check.verdict in ("bit-exact", "outcome agrees") and check.passed, check.line()
    assert set(check.files) == {store.EVAL_FILE, store.POSITIONS_FILE, store.IMITATION_CSV}
    assert check.episodes == len(pd.read_csv(run_dir / store.EVAL_FILE)) and not check.outcome_changed
    if check.numerics_match:  # same numerics: every record equal, NaN-padded positions included
        assert check.verdict == "bit-exact" and all(check.files.values()), check.line()
