"""The scorecard (study/scorecard.py): claims table -> the paper's claims by task; the per-task forest data; and what
a reader meets first (REPORT, README) names no machine's paths and no internal issue numbers."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from study import figures, io, report, scorecard
from study.claims import all_claims
from study.readme import BEGIN, END
from study.registry import get_task, task_names

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results"
TABLES = RESULTS / "tables"

#: experiment -> task, for every registered task's experiments
TASKS = {experiment: name for name in task_names() for experiment in get_task(name).experiments}
PAPER = {("fov_flight_main", "sitt_paper"): 0.46, ("fov_flight_main", "bc"): 0.05,
         ("fov_flight_main", "without_alignment"): 0.38}


def _claim(id, experiment, evidence, verdict, arm, mean, lo, hi):
    return dict(id=id, claim=f"claim {id}", experiment=experiment, evidence=evidence, verdict=verdict, source="",
                arm=arm, n_seeds=10, mean=mean, ci_low=lo, ci_high=hi)


def hand_claims() -> pd.DataFrame:
    return pd.DataFrame([
        _claim("a", "main", "without_alignment teacher share of mazes solved through the path 1.00 [1.00, 1.00] over "
               "10 seeds (claim: > 0.5)", "reproduced", "without_alignment", 1.0, 1.0, 1.0),
        _claim("g", "main", "sitt_release student true success 0.70 [0.40, 1.00] (10 seeds) vs bc 0.00 [0.00, 0.00], "
               "PoI 0.85 [0.70, 1.00]; dagger 0.10 [0.00, 0.30], PoI 0.80 [0.60, 0.95]; without_alignment 0.00 "
               "[0.00, 0.00], PoI 0.85 [0.70, 1.00]", "reproduced", "sitt_release", 0.7, 0.4, 1.0),
        _claim("h:a", "main_release_schedule", "without_alignment teacher share of mazes solved through the path 1.00 "
               "[1.00, 1.00] over 5 seeds (claim: > 0.5)", "reproduced", "without_alignment", 1.0, 1.0, 1.0),
        _claim("zz", "main", "sitt_release student true success 0.70 [0.40, 1.00] over 10 seeds (claim: > 0.9)",
               "not reproduced", "sitt_release", 0.7, 0.4, 1.0),
        _claim("fov:g:bc", "fov_flight_main", "sitt_paper student true success 0.26 [0.24, 0.28] (10 seeds) vs bc 0.28 "
               "[0.25, 0.30], PoI 0.40 [0.17, 0.68]", "inconclusive", "sitt_paper", 0.2605, 0.243, 0.2765),
        _claim("fov:p1", "fov_flight_main", "sitt_paper teacher mean angle between heading and velocity (degrees) "
               "90.62 [88.83, 92.47] (10 seeds) vs without_alignment 79.86 [65.30, 97.67], PoI (lower is better) 0.20 "
               "[0.00, 0.46]", "not reproduced", "sitt_paper", 90.62158234, 88.8265, 92.4654),
        _claim("mg:g'", "minigrid_main", "sitt_paper student true success 0.20 [0.20, 0.20] (5 seeds) vs bc 0.33 "
               "[0.16, 0.44], PoI 0.20 [0.00, 0.60]; dagger 0.22 [0.11, 0.31], PoI 0.40 [0.00, 0.80]",
               "inconclusive", "sitt_paper", 0.2, 0.2, 0.2),
    ])


def test_the_scorecard_of_a_hand_made_claims_table():
    cells = scorecard.scorecard_cells(hand_claims(), tasks=TASKS, paper=PAPER)
    got = scorecard.scorecard_table(cells)
    expected = pd.DataFrame([
        ["The plain teacher takes a shortcut its student cannot see",
         "reproduced: 1.00 [1.00, 1.00] (needs > 0.5) (a)", "", ""],
        ["SITT's teacher adapts its behaviour to its student (maze: detours; flight: smaller velocity angle; drawer: "
         "handle kept in view)", "", "not reproduced: PoI 0.20 [0.00, 0.46], 90.62 vs 79.86 (fov:p1)", ""],
        ["SITT's student beats BC's", "reproduced: PoI 0.85 [0.70, 1.00], 0.70 vs 0.00 (g)",
         "inconclusive: PoI 0.40 [0.17, 0.68], 0.26 vs 0.28, paper 0.46 vs 0.05 (fov:g:bc)", ""],
        ["SITT's student beats DAgger's", "reproduced: PoI 0.80 [0.60, 0.95], 0.70 vs 0.10 (g)", "", ""],
        ["SITT's student beats the student aligned without SITT's terms",
         "reproduced: PoI 0.85 [0.70, 1.00], 0.70 vs 0.00 (g)", "", ""],
        ["The other recipe's student beats BC's, DAgger's and the without-alignment student's", "", "",
         "inconclusive: PoI 0.20 [0.00, 0.60] (vs bc, the lowest of 2), 0.20 vs 0.33 (mg:g')"],
    ], columns=["claim", "maze", "flight", "MiniGrid"])
    pd.testing.assert_frame_equal(got, expected)

    md = scorecard.scorecard_markdown(cells)
    assert md.splitlines()[0] == "| the paper's claim | maze | flight | MiniGrid |"
    assert ("| SITT's student beats DAgger's | **reproduced** PoI 0.80 [0.60, 0.95], 0.70 vs 0.10 `g` | – | – |"
            in md.splitlines())
    notes = scorecard.scorecard_notes(cells, hand_claims())
    assert "`sitt_release` on maze; `sitt_paper` on flight" in notes
    assert "One claim against several arms (`g`)" in notes
    assert f"`h:a`: {scorecard.LEFT_OUT['h:*']}" in notes and "`zz`: not placed in a row" in notes


def test_the_notes_name_sitts_arm_and_not_the_no_teacher_controls():
    """The no-teacher rows read HLRL's student against PPO alone: their arm (hlrl_eq, hlrl) is not SITT's."""
    claims = pd.DataFrame([
        _claim("fov:g:hlrl_eq", "fov_flight_budget", "sitt_tuned student true success 0.25 [0.23, 0.26] (10 seeds) vs "
               "hlrl_eq 0.97 [0.93, 0.99], PoI 0.00 [0.00, 0.00]", "not reproduced", "sitt_tuned", 0.25, 0.23, 0.26),
        _claim("fov:teacher_helps", "fov_flight_budget", "hlrl_eq student true success 0.97 [0.93, 0.99] (10 seeds) "
               "vs student_rl 0.97 [0.95, 0.98], PoI 0.61 [0.35, 0.84]", "inconclusive", "hlrl_eq", 0.97, 0.93, 0.99),
        _claim("fov:2x:teacher_helps", "fov_flight_budget", "hlrl student true success 0.99 [0.98, 1.00] (10 seeds) "
               "vs student_rl_2x 0.97 [0.96, 0.99], PoI 0.76 [0.52, 0.96]", "reproduced", "hlrl", 0.99, 0.98, 1.0),
    ])
    cells = scorecard.scorecard_cells(claims, tasks=TASKS, paper=PAPER)
    assert len(cells) == 3  # every claim has its cell ...
    notes = scorecard.scorecard_notes(cells, claims)
    assert "SITT's arm in the comparison rows: `sitt_tuned` on flight." in notes  # ... but only SITT's arm is named
    assert "hlrl" not in notes
    assert [r.sitt for r in scorecard.row_of("fov:teacher_helps") + scorecard.row_of("od:2x:teacher_helps")] == [
        False, False]


def test_claim_stems_rows_and_reasons():
    assert scorecard.claim_stem("fov:g:hlrl") == "g:hlrl" and scorecard.claim_stem("g:hlrl") == "g:hlrl"
    assert scorecard.claim_stem("mg:g'") == "g'" and scorecard.claim_stem("od:abl:penalty_only") == "abl:penalty_only"
    assert [r.versus for r in scorecard.row_of("g")] == ["bc", "dagger", "without_alignment"]
    assert [r.versus for r in scorecard.row_of("od:g:hlrl")] == ["hlrl"]
    assert scorecard.row_of("h:f'") == [] and scorecard.left_out_reason("h:f'") == scorecard.LEFT_OUT["h:*"]
    assert scorecard.left_out_reason("od:g:bc") is None and scorecard.left_out_reason("unknown") is None


def _every_claim() -> dict[str, str]:
    """id -> experiment of every registered task's claims and of the committed claims table (which adds the claims a
    task makes from its runs, the maze's ablations)."""
    out = {c.id: c.experiment for c in all_claims()}
    if (TABLES / "claims.csv").is_file():
        committed = pd.read_csv(TABLES / "claims.csv")
        out.update(zip(committed["id"], committed["experiment"]))
    return out


def test_every_claim_of_every_task_has_a_cell_or_a_reason():
    tasks = set(task_names())
    for claim_id, experiment in _every_claim().items():
        rows, why = scorecard.row_of(claim_id), scorecard.left_out_reason(claim_id)
        assert rows or why, f"claim {claim_id!r} is in no scorecard row and not in scorecard.LEFT_OUT"
        assert not (rows and any(fnmatch.fnmatchcase(scorecard.claim_stem(claim_id), p)
                                 for p in scorecard.LEFT_OUT)), f"claim {claim_id!r} is both in a row and left out"
        assert scorecard.task_of(experiment) in tasks, f"claim {claim_id!r}: experiment {experiment!r} has no task"
    for task in tasks:  # every task with claims has its column heading
        assert not get_task(task).claims or task in scorecard.TASK_LABELS, f"task {task!r}: no scorecard.TASK_LABELS"


def test_one_cell_per_task_and_row_in_the_committed_claims():
    """Two claims of one task in one row must be meant (the maze's b, c, e): a row's ids never match two claims that
    differ only by their task's tag."""
    path = TABLES / "claims.csv"
    if not path.is_file():
        pytest.skip("no committed claims table")
    cells = scorecard.scorecard_cells(pd.read_csv(path))
    stems = cells.assign(stem=[scorecard.claim_stem(i) for i in cells["id"]])
    assert not stems.duplicated(["row", "task", "stem"]).any()


@pytest.mark.skipif(not (TABLES / "scorecard.csv").is_file(), reason="no scorecard written")
def test_the_committed_scorecard_is_the_committed_claims_table_s():
    claims = pd.read_csv(TABLES / "claims.csv")
    fresh = scorecard.scorecard_table(scorecard.scorecard_cells(claims, paper=scorecard.paper_numbers(TABLES)))
    committed = pd.read_csv(TABLES / "scorecard.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(committed, fresh, check_dtype=False)


def _prov(root: Path, run_id: str, **prov):
    d = root / run_id
    d.mkdir(parents=True)
    (d / "provenance.json").write_text(json.dumps(prov))
    (d / "COMPLETE").write_text("{}")


def test_budgets_count_the_teacher_a_student_learns_from(tmp_path):
    root = tmp_path / "runs"
    for seed in (0, 1):
        _prov(root, f"x/without_alignment/seed_{seed}", env_steps=1_000_000)
        _prov(root, f"x/bc/seed_{seed}", env_steps=64_000, teacher_run={"run_id": f"x/without_alignment/seed_{seed}"})
        _prov(root, f"x/hlrl/seed_{seed}", env_steps=1_000_000, teacher_env_steps=1_000_000,
              teacher_run={"run_id": f"x/without_alignment/seed_{seed}"})  # counted once: teacher_env_steps
    (root / "x" / "bc" / "seed_2").mkdir()  # incomplete: ignored
    b = scorecard.arm_budgets(root, "x").set_index("arm")
    assert b.loc["bc", "n_runs"] == 2 and b.loc["bc", "total_steps"] == 1_064_000
    assert b.loc["hlrl", "total_steps"] == 2_000_000 and b.loc["without_alignment", "teacher_steps"] == 0
    assert scorecard.budget_label(64_000, 1_000_000) == "1.06M steps (1M teacher + 64k own)"
    assert scorecard.budget_label(1_000_000) == "1M steps"

    main = pd.DataFrame([
        dict(arm="without_alignment", policy="teacher", success_mean=1.0, success_ci_low=1.0, success_ci_high=1.0),
        dict(arm="without_alignment", policy="student", success_mean=0.2, success_ci_low=0.1, success_ci_high=0.3),
        dict(arm="bc", policy="student", success_mean=0.4, success_ci_low=0.3, success_ci_high=0.5),
        dict(arm="sitt_paper", policy="student", success_mean=0.5, success_ci_low=0.4, success_ci_high=0.6),
    ])
    rows = scorecard.forest_rows(main, {"bc": 0.05}, scorecard.arm_budgets(root, "x"))
    assert list(rows["arm"]) == ["without_alignment", "bc", "sitt_paper"]
    assert list(rows["label"]) == ["without_alignment: 1M steps", "bc: 1.06M steps (1M teacher + 64k own)",
                                   "sitt_paper"]
    assert rows["paper"].iloc[1] == 0.05 and np.isnan(rows["paper"].iloc[0]) and np.isnan(rows["total_steps"].iloc[2])
    path = io.save_figure(figures.forest_plot(rows, title="x"), tmp_path, "forest_x")
    assert path.stat().st_size > 1000
    again = io.save_figure(figures.forest_plot(rows, title="x"), tmp_path / "again", "forest_x")
    assert again.read_bytes() == path.read_bytes()  # deterministic bytes


def test_the_report_opens_with_the_scorecard_and_the_forest_plots(tmp_path):
    claims = hand_claims()
    cells = scorecard.scorecard_cells(claims, tasks=TASKS, paper=PAPER)
    fig = io.save_figure(figures.forest_plot(pd.DataFrame(columns=["label", "mean", "ci_low", "ci_high"])), tmp_path,
                         "forest_toy")
    card = scorecard.scorecard_markdown(cells) + "\n" + scorecard.scorecard_notes(cells, claims)
    text = report.write_report(tmp_path, claims=claims, scorecard=card, lead_figures=[fig], html_too=False,
                               findings="**It works.** Because.").read_text()
    order = [text.index(s) for s in ("## Scorecard", f"## {report.LEAD_FIGURES_TITLE}", "](figures/forest_toy.png)",
                                     "## Findings", "## Claims")]
    assert order == sorted(order)


# ------------------------------------------------------------------------------------ what a reader meets first

ABSOLUTE = re.compile(r"(?<![\w.~:/])/(?:home|Users|work|tmp|root|mnt|opt|var|private|srv|data|scratch)/")
ISSUE = re.compile(r"\bissues? #?\d+", re.IGNORECASE)


def _generated_texts() -> dict[str, str]:
    out = {}
    for name in ("REPORT.md", "REPORT.html"):
        if (RESULTS / name).is_file():
            out[name] = (RESULTS / name).read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    if BEGIN in readme:
        out["README results section"] = readme[readme.index(BEGIN): readme.index(END)]
    if (TABLES / "scorecard.csv").is_file():
        out["scorecard.csv"] = (TABLES / "scorecard.csv").read_text(encoding="utf-8")
    return out


def test_the_checks_find_paths_and_issue_numbers():
    assert ABSOLUTE.search("runs: /work/main/results/runs.") and ABSOLUTE.search("--root /home/me/runs")
    assert not ABSOLUTE.search("runs: results/runs; https://example.org/tmp/x and figures/forest_x.png")
    assert ISSUE.findall("(issue 15, from the logs) and Issue #16") == ["issue 15", "Issue #16"]
    assert not ISSUE.search("the issue is the sign")


@pytest.mark.parametrize("name", list(_generated_texts()))
def test_generated_text_names_no_machine_path_and_no_issue_number(name):
    text = _generated_texts()[name]
    assert str(REPO) not in text, f"{name} names this machine's checkout"
    assert not ABSOLUTE.search(text), f"{name}: absolute path {ABSOLUTE.search(text).group(0)!r}"
    assert not ISSUE.findall(text), f"{name} names internal issues: {ISSUE.findall(text)}"


def test_forest_figures_carry_no_machine_path():
    from PIL import Image

    found = sorted((RESULTS / "figures").glob(f"{report.FOREST_PREFIX}*.png"))
    for path in found:
        meta = " ".join(f"{k}={v}" for k, v in Image.open(path).text.items())
        assert str(REPO) not in meta and not ABSOLUTE.search(meta), f"{path.name}: {meta}"
