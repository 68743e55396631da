"""The README's results section: timing from provenance, tables from the CSVs, the markers respected."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from study import readme


def _run(root: Path, experiment: str, arm: str, seed: int, wall: float, rate: float | None, copied: bool = False):
    d = root / experiment / arm / f"seed_{seed}"
    d.mkdir(parents=True)
    prov = dict(wall_s=wall, train_s=wall - 1, env_steps_per_s=rate, started_at=f"2026-01-0{seed + 1}T10:00:00+00:00",
                finished_at=f"2026-01-0{seed + 1}T10:05:00+00:00", cpu="CPU X", cpu_count=2,
                git=dict(commit="abc", dirty=False))
    if copied:
        prov["reused_from"] = f"main/{arm}/seed_{seed}"
    (d / "provenance.json").write_text(json.dumps(prov))
    (d / "COMPLETE").write_text("{}")


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    _run(root, "main", "sitt_release", 0, 300.0, 60_000.0)
    _run(root, "main", "sitt_release", 1, 240.0, 80_000.0)
    _run(root, "main", "bc", 0, 60.0, 5_000.0)
    _run(root, "ablations", "sitt_release", 0, 300.0, 60_000.0, copied=True)
    _run(root, "ablations", "penalty_only", 0, 120.0, 90_000.0)
    (root / "ablations" / "penalty_only" / "seed_1").mkdir(parents=True)  # incomplete: ignored
    return root


def test_timing_counts_trained_runs_only(runs):
    records = readme.run_records(runs)
    assert len(records) == 5 and records["copied"].sum() == 1
    t = readme.timing_summary(records, jobs=2).set_index("experiment")
    assert t.loc["main", "trained"] == 3 and t.loc["main", "seeds"] == 2
    assert t.loc["main", "run_minutes"] == pytest.approx(600 / 60)
    assert t.loc["main", "wall_minutes_on_jobs"] == pytest.approx(600 / 60 / 2)
    assert t.loc["main", "steps_per_s_min"] == 60_000.0 and t.loc["main", "steps_per_s_max"] == 80_000.0  # bc left out
    assert t.loc["ablations", "copied"] == 1 and t.loc["ablations", "run_minutes"] == pytest.approx(2.0)
    assert t.loc["all", "runs"] == 5 and t.loc["all", "run_minutes"] == pytest.approx(12.0)


def _tables(tmp_path: Path) -> Path:
    tables = tmp_path / "tables"
    tables.mkdir()
    pd.DataFrame([dict(arm="sitt_release", policy="student", n_seeds=2, success_mean=0.75, success_ci_low=0.5,
                       success_ci_high=1.0, success_iqm=1.0, detour_mean=0.75, detour_ci_low=0.5, detour_ci_high=1.0,
                       path_mean=0.0, release_success_mean=0.75)]).to_csv(tables / "main.csv", index=False)
    return tables


def test_section_and_update_keep_the_rest_of_the_readme(tmp_path, runs, monkeypatch):
    from color_maze.task import TASK as MAZE

    # a task's figure under its main table (the maze's paper figure; the task sets readme_figure)
    monkeypatch.setattr(type(MAZE), "readme_figure", ("paper_maze", "The paper's maze figure", "Its six panels."))
    section = readme.readme_section(_tables(tmp_path), runs, jobs=2, extra="Findings in words.\n\n# Sign\n\nMore.")
    assert section.startswith(readme.BEGIN) and section.rstrip().endswith(readme.END)
    assert "| main | 0-1 | 3 | 3 | 0 | 10 | 5 | 60k-80k |" in section
    assert "| ablations | 0 | 2 | 1 | 1 | 2 | 1 | 90k-90k |" in section
    assert "| sitt_release | student | 2 | 0.75 [0.50, 1.00] |" in section and "Findings in words." in section
    assert "2 cores (CPU X)" in section
    assert "\n### Findings\n\nFindings in words.\n\n#### Sign\n\nMore." in section  # nested under the section
    assert "### Findings" not in readme.readme_section(tmp_path / "tables", runs, jobs=2)
    assert "paper_maze.png" not in section
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "paper_maze.png").write_bytes(b"png")
    with_figure = readme.readme_section(tmp_path / "tables", runs, jobs=2)
    assert f"]({(tmp_path / 'figures' / 'paper_maze.png').as_posix()})" in with_figure
    path = tmp_path / "README.md"
    path.write_text(f"# title\n\nintro\n\n{readme.BEGIN}\nold\n{readme.END}\n\n## after\n")
    readme.update_readme(path, section)
    text = path.read_text()
    assert text.startswith("# title\n\nintro\n\n") and text.endswith(f"{readme.END}\n\n## after\n")
    assert "old" not in text and text.count(readme.BEGIN) == 1
    readme.update_readme(path, section)  # idempotent
    assert path.read_text() == text


def test_missing_markers_or_runs_are_named(tmp_path, runs):
    path = tmp_path / "README.md"
    path.write_text("no markers\n")
    with pytest.raises(ValueError, match="^readme:"):
        readme.update_readme(path, readme.readme_section(_tables(tmp_path), runs))
    assert path.read_text() == "no markers\n"
    with pytest.raises(ValueError, match="^runs_root:"):
        readme.readme_section(tmp_path / "tables", tmp_path / "empty")
    assert readme.main(["--readme", str(path), "--tables", str(tmp_path / "tables"), "--runs", str(runs)]) == 2


def test_a_task_with_a_sweep_plan_and_a_main_table_gets_its_section(tmp_path, runs):
    from fov_flight.task import TASK as FLIGHT

    MAIN = FLIGHT.main_experiment

    tables = _tables(tmp_path)
    assert FLIGHT.main_title not in readme.readme_section(tables, runs)  # no table written: no section
    pd.DataFrame([dict(arm="sitt_paper", policy="student", n_seeds=3, success_mean=0.25, success_ci_low=0.2,
                       success_ci_high=0.3, success_iqm=0.25, velocity_angle_mean=91.0, velocity_angle_ci_low=89.0,
                       velocity_angle_ci_high=93.0)]).to_csv(tables / f"{MAIN}.csv", index=False)
    section = readme.readme_section(tables, runs)
    assert f"### {FLIGHT.main_title}" in section and FLIGHT.main_note in section
    assert "| sitt_paper | student | 3 | 0.25 [0.20, 0.30] | 0.25 | 91.00 [89.00, 93.00] |" in section
    assert section.index(FLIGHT.main_title) > section.index("### Main experiment")


def test_the_machine_line_names_every_cpu_of_the_store(tmp_path, runs):
    prov = runs / "main" / "bc" / "seed_0" / "provenance.json"
    data = json.loads(prov.read_text())
    prov.write_text(json.dumps(dict(data, cpu="CPU Y")))
    assert "Machine: 2 cores (CPU X, CPU Y)," in readme.readme_section(_tables(tmp_path), runs)
