"""study.budget: a run's budget (env steps of every policy trained for it) from provenance, recorded by new runs, read
from old records, and shown as a column of the main tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from study import load, store
from study.budget import BUDGET, arm_budgets, budget_of, run_budget, steps_label
from study.presets import preset
from study.run import run_one
from study.tables import main_table

ROOT = Path(__file__).resolve().parents[1] / "results" / "runs"


def test_budget_of_records():
    assert budget_of(dict(env_steps=100), None) == dict(own_steps=100.0, teacher_steps=0.0, total_steps=100.0)
    hlrl = budget_of(dict(env_steps=100, teacher_env_steps=300, total_env_steps=400), None)
    assert hlrl == dict(own_steps=100.0, teacher_steps=300.0, total_steps=400.0)
    assert budget_of(dict(env_steps=100, budget_env_steps=999), None)["total_steps"] == 999.0
    assert np.isnan(budget_of({}, None)["total_steps"])


def test_bc_budget_adds_its_teacher_run(tmp_path):
    teacher = tmp_path / "e" / "without_alignment" / "seed_0"
    bc = tmp_path / "e" / "bc" / "seed_0"
    for d in (teacher, bc):
        d.mkdir(parents=True)
    store.atomic_write_json(teacher / store.PROVENANCE_FILE, dict(env_steps=1000))
    store.atomic_write_json(bc / store.PROVENANCE_FILE, dict(env_steps=64, teacher_run=dict(
        run_id="e/without_alignment/seed_0", run_dir="/elsewhere/e/without_alignment/seed_0")))
    assert run_budget(bc) == dict(own_steps=64.0, teacher_steps=1000.0, total_steps=1064.0)
    for d in (teacher, bc):
        (d / store.MARKER).write_text("{}")
    budgets = arm_budgets(tmp_path, "e").set_index("arm")
    assert budgets.loc["bc", "total_steps"] == 1064.0 and budgets.loc["without_alignment", "total_steps"] == 1000.0


def test_steps_label():
    assert [steps_label(x) for x in (6e6, 768000, 768, 2.4576e6)] == ["6M", "768k", "768", "2.46M"]


def test_new_runs_record_their_budget_and_tables_show_it(tmp_path):
    teacher = preset("occluded_drawer_main", "without_alignment", 0, "smoke")
    bc = preset("occluded_drawer_main", "bc", 0, "smoke")
    run_one(teacher, tmp_path)
    run_one(bc, tmp_path)
    t_prov = load.load_provenance(teacher.run_dir(tmp_path))
    b_prov = load.load_provenance(bc.run_dir(tmp_path))
    assert t_prov[BUDGET] == t_prov["env_steps"] == teacher.total_timesteps
    assert b_prov[BUDGET] == b_prov["env_steps"] + t_prov["env_steps"]
    ev = load.load_eval(tmp_path, "occluded_drawer_main")
    assert set(ev.groupby("arm")[BUDGET].first().items()) == {("without_alignment", t_prov[BUDGET]),
                                                            ("bc", b_prov[BUDGET])}
    table = main_table(ev, n_boot=50).set_index(["arm", "policy"])
    assert table.loc[("bc", "student"), BUDGET] == b_prov[BUDGET]


@pytest.mark.skipif(not (ROOT / "fov_flight_main" / "hlrl" / "seed_0").is_dir(), reason="no committed runs")
def test_committed_budgets_hlrl_at_twice_sitt():
    b = arm_budgets(ROOT, "fov_flight_main").set_index("arm")
    assert b.loc["hlrl", "total_steps"] == 2 * b.loc["sitt_paper", "total_steps"] == 2 * 7864320
    assert b.loc["bc", "total_steps"] == 7864320 + 51200
