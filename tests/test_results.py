"""Tests of study on synthetic eval frames and run stores (no training): table numbers on a hand-made example,
seeded CIs, the verdict rules, figures saved as PNG, the report, the walkthrough helpers."""

from __future__ import annotations

import dataclasses
import json
import shutil

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from study import claims, figures, io, report, tables  # noqa: E402
from color_maze import figures as maze_figures, tables as maze_tables, walkthrough  # noqa: E402
from color_maze.budget_search import load_budget_search  # noqa: E402
from color_maze.design import CLAIMS, PAPER_ABLATIONS  # noqa: E402

N_MAZES = 4


def rows(arm, seed, policy, outcomes):
    """Eval rows of one run: ``outcomes`` is a string, one letter per maze: p (through the path), d (detour),
    l (lava), t (timeout)."""
    out = []
    for maze, o in enumerate(outcomes):
        ok = o in "pd"
        out.append(dict(
            experiment="main", arm=arm, seed=seed, profile="smoke", recipe="release", kind="sitt", policy=policy,
            maze=maze, success=ok, release_success=o != "t", ep_return=10.0 if ok else -0.1,
            ep_length=20.0 if o == "p" else 33.0 if o == "d" else 5.0 if o == "l" else np.nan,
            n_paths=3 if o in "pl" else 0, through_path=o in "pl", route={"p": "path", "d": "detour"}.get(o, "failed"),
            outcome={"p": "success", "d": "success", "l": "lava", "t": "timeout"}[o],
        ))
    return out


def hand_example() -> pd.DataFrame:
    """Two arms x three seeds, four mazes each.

    plain: teacher takes the path on 4/4, 3/4, 4/4 mazes (third seed: one lava), student always falls in lava.
    sitt: teacher detours on 4/4, 4/4, 2/4 (two timeouts); student detours on 2/4, 3/4, 4/4.
    """
    r = []
    r += rows("plain_teacher", 0, "teacher", "pppp") + rows("plain_teacher", 1, "teacher", "pppl")
    r += rows("plain_teacher", 2, "teacher", "pppp")
    r += rows("plain_teacher", 0, "student", "llll") + rows("plain_teacher", 1, "student", "llll")
    r += rows("plain_teacher", 2, "student", "llll")
    r += rows("sitt_release", 0, "teacher", "dddd") + rows("sitt_release", 1, "teacher", "dddd")
    r += rows("sitt_release", 2, "teacher", "ddtt")
    r += rows("sitt_release", 0, "student", "ddll") + rows("sitt_release", 1, "student", "dddl")
    r += rows("sitt_release", 2, "student", "dddd")
    return pd.DataFrame(r)


def main_example(n_seeds=5) -> pd.DataFrame:
    """The paper's story, clear-cut, over ``n_seeds`` seeds (for the claims)."""
    r = []
    for s in range(n_seeds):
        r += rows("without_alignment", s, "teacher", "pppp") + rows("without_alignment", s, "student", "llll")
        r += rows("bc", s, "teacher", "pppp") + rows("bc", s, "student", "lllt")
        r += rows("dagger", s, "teacher", "pppp") + rows("dagger", s, "student", "tttl")
        r += rows("sitt_release", s, "teacher", "dddd") + rows("sitt_release", s, "student", "ddd" + "dl"[s % 2])
        r += rows("sitt_paper", s, "teacher", "tttt") + rows("sitt_paper", s, "student", "tttt")
    return pd.DataFrame(r)


# ------------------------------------------------------------------------------------------------------- tables


def test_per_seed_hand_numbers():
    ps = tables.per_seed(hand_example()).set_index(["arm", "policy", "seed"])
    assert ps.loc[("plain_teacher", "teacher", 1), "success"] == 0.75
    assert ps.loc[("plain_teacher", "teacher", 1), "path_share"] == 0.75
    assert ps.loc[("plain_teacher", "teacher", 1), "lava_share"] == 0.25
    assert ps.loc[("sitt_release", "teacher", 2), "detour_share"] == 0.5
    assert ps.loc[("sitt_release", "teacher", 2), "release_success"] == 0.5  # timeouts do not terminate in 100 steps
    assert ps.loc[("sitt_release", "student", 0), "success_length"] == 33.0
    assert np.isnan(ps.loc[("plain_teacher", "student", 0), "success_length"])
    shares = ps[["path_share", "detour_share", "failed_share"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert (ps["n_episodes"] == N_MAZES).all()


def test_per_seed_reads_csv_style_booleans():
    df = hand_example()
    df["success"] = df["success"].map({True: "True", False: "False"})
    assert tables.per_seed(df)["success"].equals(tables.per_seed(hand_example())["success"])


def test_main_table_hand_numbers():
    t = tables.main_table(hand_example()).set_index(["arm", "policy"])
    assert list(t.index) == [("plain_teacher", "teacher"), ("plain_teacher", "student"),
                             ("sitt_release", "teacher"), ("sitt_release", "student")]
    row = t.loc[("plain_teacher", "teacher")]
    assert row["n_seeds"] == 3
    assert row["success_mean"] == pytest.approx((1 + 0.75 + 1) / 3)
    assert row["path_mean"] == pytest.approx((1 + 0.75 + 1) / 3)
    assert row["detour_mean"] == 0.0
    assert 0.75 <= row["success_ci_low"] <= row["success_mean"] <= row["success_ci_high"] <= 1.0
    row = t.loc[("sitt_release", "student")]
    assert row["success_mean"] == pytest.approx(0.75)
    assert row["detour_mean"] == pytest.approx(0.75)
    assert row["success_ci_low"] >= 0.5 and row["success_ci_high"] <= 1.0
    assert row["success_iqm"] == pytest.approx(0.75)  # three seeds: int(0.25 * 3) = 0 cut, IQM = mean
    assert t.loc[("plain_teacher", "student"), "success_ci_high"] == 0.0  # all seeds 0: the CI collapses
    assert t.loc[("plain_teacher", "student"), "release_success_mean"] == 1.0
    assert t.loc[("plain_teacher", "student"), "lava_mean"] == 1.0


def test_main_table_is_seeded():
    df = hand_example()
    a = tables.main_table(df, seed=3)
    b = tables.main_table(df, seed=3)
    pd.testing.assert_frame_equal(a, b)
    c = tables.main_table(df, seed=4, n_boot=200)
    d = tables.main_table(df, seed=4, n_boot=200)
    pd.testing.assert_frame_equal(c, d)
    assert not np.allclose(a["success_ci_low"], tables.main_table(df, seed=5, n_boot=50)["success_ci_low"])


def test_main_table_does_not_depend_on_other_arms():
    df = hand_example()
    alone = tables.main_table(df[df["arm"] == "sitt_release"]).reset_index(drop=True)
    both = tables.main_table(df)
    both = both[both["arm"] == "sitt_release"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, both)


def test_route_share_table():
    t = maze_tables.route_share_table(hand_example(), "teacher").set_index("arm")
    assert t.loc["plain_teacher", "path_mean"] == pytest.approx(11 / 12)
    assert t.loc["sitt_release", "detour_mean"] == pytest.approx(10 / 12)
    assert t.loc["sitt_release", "failed_mean"] == pytest.approx(2 / 12)


def test_comparison_table_reference_and_poi():
    c = tables.comparison_table(hand_example(), "plain_teacher", policy="student").set_index("arm")
    assert c.loc["plain_teacher", "diff"] == 0.0 and c.loc["plain_teacher", "poi"] == 0.5
    assert c.loc["sitt_release", "diff"] == pytest.approx(0.75)
    assert c.loc["sitt_release", "poi"] == 1.0  # every sitt seed beats every plain seed
    assert c.loc["sitt_release", "poi_ci_low"] == 1.0
    assert c.loc["sitt_release", "diff_ci_low"] > 0
    with pytest.raises(ValueError, match="reference arm"):
        tables.comparison_table(hand_example(), "nope")


def test_release_vs_paper_table_metric_rows():
    t = maze_tables.release_vs_paper_table(hand_example(), "sitt_release")
    metric = t[t["kind"] == "metric"].set_index("arm")
    # plain_teacher student: lava everywhere -> release metric 1.0, true success 0.0
    assert metric.loc["plain_teacher", "diff"] == pytest.approx(1.0)
    assert metric.loc["plain_teacher", "mean"] == pytest.approx(1.0)
    # sitt student: release metric 1.0 everywhere (lava or target), true success 0.75
    assert metric.loc["sitt_release", "diff"] == pytest.approx(0.25)
    assert set(t[t["kind"] == "arm"]["arm"]) == {"plain_teacher", "sitt_release"}


def test_ablation_table_and_lambda1_table():
    df = hand_example()
    extra = pd.DataFrame(rows("lambda1_penalty_0.05", 0, "student", "llll")
                         + rows("lambda1_bonus_4", 0, "student", "dddd"))
    df = pd.concat([df, extra], ignore_index=True)
    a = maze_tables.ablation_table(df, "sitt_release")
    assert a.attrs["reference"] == "sitt_release"
    assert a.set_index("arm").loc["sitt_release", "teacher_detour_mean"] == pytest.approx(10 / 12)
    lam = maze_tables.lambda1_table(df)
    assert list(zip(lam["sign"], lam["coef"])) == [("bonus", 1.9), ("bonus", 4.0), ("penalty", 0.05)]
    assert lam.set_index("arm").loc["lambda1_bonus_4", "mean"] == 1.0


def test_format_ci():
    assert tables.format_ci(0.5, 0.25, 0.75) == "0.50 [0.25, 0.75]"
    assert tables.format_ci(np.nan, 0, 1) == "n/a"
    assert tables.format_ci(0.5, np.nan, np.nan) == "0.50"


# ------------------------------------------------------------------------------------------------------- claims


@pytest.mark.parametrize(
    "lo, hi, direction, n, verdict",
    [
        (0.6, 0.9, "high", 5, "reproduced"),
        (0.1, 0.4, "high", 5, "not reproduced"),
        (0.4, 0.7, "high", 5, "inconclusive"),
        (0.1, 0.4, "low", 5, "reproduced"),
        (0.6, 0.9, "low", 5, "not reproduced"),
        (0.5, 0.5, "low", 5, "inconclusive"),
        (0.6, 0.9, "high", 2, "inconclusive"),
        (np.nan, np.nan, "high", 5, "inconclusive"),
    ],
)
def test_level_verdict(lo, hi, direction, n, verdict):
    assert claims.level_verdict(lo, hi, 0.5, direction, n) == verdict


def test_better_verdict():
    assert claims.better_verdict([(0.7, 1.0), (0.55, 0.9)], [(5, 5), (5, 5)]) == "reproduced"
    assert claims.better_verdict([(0.7, 1.0), (0.2, 0.5)], [(5, 5), (5, 5)]) == "not reproduced"
    assert claims.better_verdict([(0.7, 1.0), (0.4, 0.8)], [(5, 5), (5, 5)]) == "inconclusive"
    assert claims.better_verdict([(0.7, 1.0)], [(2, 5)]) == "inconclusive"
    assert claims.better_verdict([], []) == "inconclusive"


def test_claims_table_verdicts():
    table = claims.claims_table({"main": main_example()}).set_index("id")
    assert set(table["verdict"]) <= set(claims.VERDICTS)
    assert table.loc["a", "verdict"] == "reproduced"  # teacher without alignment: path on every maze
    assert table.loc["b", "verdict"] == "reproduced"  # BC student fails
    assert table.loc["c", "verdict"] == "reproduced"
    assert table.loc["d", "verdict"] == "reproduced"  # SITT teacher detours
    assert table.loc["d'", "verdict"] == "not reproduced"  # paper recipe teacher stands still
    assert table.loc["e", "verdict"] == "reproduced"
    assert table.loc["f", "verdict"] == "reproduced"
    assert table.loc["f'", "verdict"] == "not reproduced"
    assert table.loc["g", "verdict"] == "reproduced"
    assert table.loc["g'", "verdict"] == "not reproduced"  # ties with the failing baselines: PoI 0.5
    assert table.loc["r1", "verdict"] == "inconclusive" and "no runs" in table.loc["r1", "evidence"]
    assert table.loc["r2", "verdict"] == "not reproduced"  # teacher reaches the target: both metrics 1
    assert table.loc["r3", "verdict"] == "reproduced"  # BC student: lava counts as a termination, 0.75 vs 0
    assert "0.90 [" in table.loc["f", "evidence"] and "5 seeds" in table.loc["f", "evidence"]
    assert table.loc["a", "arm"] == "without_alignment"


def test_claims_fall_back_and_need_seeds():
    df = main_example(n_seeds=2)
    table = claims.claims_table({"main": df}).set_index("id")
    assert (table["verdict"] == "inconclusive").all()
    assert "rule needs 3" in table.loc["b", "evidence"]
    plain = pd.DataFrame(rows("plain_teacher", 0, "teacher", "pppp"))
    row = claims.evaluate_claim(CLAIMS[0], plain)
    assert row["arm"] == "plain_teacher"  # (a) falls back to the plain teacher


def test_verdict_changes_compare_the_earlier_seeds_with_all_of_them():
    df = main_example(n_seeds=5)
    changes = claims.verdict_changes({"main": df}, CLAIMS, before_seeds=[0, 1]).set_index("id")
    assert list(changes.columns) == ["claim", "experiment", "n_seeds_before", "verdict_before", "n_seeds", "verdict",
                                     "changed"]
    # on two seeds every rule says inconclusive (it needs 3); on five the clear-cut story decides
    assert changes.loc["b", ["n_seeds_before", "verdict_before", "n_seeds", "verdict"]].tolist() == [
        2, "inconclusive", 5, "reproduced"]
    assert changes.loc["b", "changed"] and not changes.loc["r1", "changed"]  # r1: no runs either way
    full = claims.claims_table({"main": df}, CLAIMS).set_index("id")
    assert (changes["verdict"] == full["verdict"]).all()
    early = claims.claims_table({"main": df[df.seed < 2]}, CLAIMS).set_index("id")
    assert (changes["verdict_before"] == early["verdict"]).all()


def test_ablation_claims_only_paper_components():
    made = claims.ablation_claims(["sitt_release", "penalty_only", "lambda1_bonus_4", "no_shared_head"],
                                  paper_ablations=PAPER_ABLATIONS)
    assert [c.others for c in made] == [("penalty_only",), ("no_shared_head",)]


# ------------------------------------------------------------------------------------------------------- io


def test_resolve_paths_confines_smoke(tmp_path):
    repo = io.paths.REPO  # relative paths resolve against the repository root, wherever the kernel started
    root, out = io.resolve_paths("smoke", "results/runs", "results")
    assert (root, out) == (repo / "results/smoke/runs", repo / "results/smoke")
    root, out = io.resolve_paths("smoke", "results/smoke/runs", "results/smoke/x")
    assert (root, out) == (repo / "results/smoke/runs", repo / "results/smoke/x")
    root, out = io.resolve_paths("default", "results/runs", "results")
    assert (root, out) == (repo / "results/runs", repo / "results")
    assert io.resolve_paths("default", tmp_path, tmp_path / "o") == (tmp_path, tmp_path / "o")


def test_steps_label():
    assert [io.steps_label(n) for n in (6_000_000, 16_800_000, 768_000, 768, 1e8)] == [
        "6M", "16.8M", "768k", "768", "100M"]


def test_load_eval_missing_says_so(tmp_path):
    df, msg = io.eval_table(tmp_path, "main")
    assert df is None and msg.startswith("NO RUNS")
    df, schedules, msg = load_budget_search(tmp_path)
    assert df is None and "NO RUNS" in msg


def write_store(root, arms=("without_alignment", "bc", "dagger", "sitt_release"), seeds=(0, 1)):
    """A fake run store (no training): config.json, eval.csv, positions.npz, COMPLETE per run."""
    from color_maze.design import eval_grids
    from study import preset

    rng = np.random.default_rng(0)
    for arm in arms:
        for seed in seeds:
            cfg = preset("main", arm, seed, "smoke")
            run = root / "main" / arm / f"seed_{seed}"
            run.mkdir(parents=True)
            (run / "config.json").write_text(json.dumps(cfg.to_dict()))
            n = cfg.eval.n_mazes
            pols = ("teacher", "student")
            ev = pd.DataFrame(r for p in pols for r in rows(arm, seed, p, "dl" * (n // 2) + "d" * (n % 2)))
            ev = ev.drop(columns=["experiment", "arm", "seed", "profile", "recipe", "kind"])
            ev.to_csv(run / "eval.csv", index=False)
            start = np.array([10, 19])
            walk = start + np.cumsum(rng.choice([[0, -1], [1, 0], [-1, 0]], size=(n, 12)), axis=1)
            pos = np.concatenate([np.broadcast_to(start, (n, 1, 2)), np.clip(walk, 0, 20)], axis=1)
            np.savez(run / "positions.npz", teacher=pos.astype(np.int16), student=pos.astype(np.int16))
            pd.DataFrame({"time/total_timesteps": [256, 512], "rollout/ep_rew_mean": [0.1, 0.2 + seed]}).to_csv(
                run / "progress.csv", index=False)
            (run / "COMPLETE").write_text("{}")
    assert eval_grids(cfg).shape == (cfg.eval.n_mazes, 21, 21)


def test_store_loaders(tmp_path):
    write_store(tmp_path)
    df, msg = io.eval_table(tmp_path, "main", "smoke")
    assert df is not None and "8 runs" in msg
    assert set(df["arm"]) == {"without_alignment", "bc", "dagger", "sitt_release"}
    assert io.eval_table(tmp_path, "main", "default")[0] is None
    progress, _ = io.progress_table(tmp_path, "main")
    assert len(progress) == 16
    sched = io.run_configs_table(tmp_path, "main")
    assert set(sched["n_seeds"]) == {2} and sched["schedule"].str.contains("full").all()


# ------------------------------------------------------------------------------------------------------- figures


def _saved(fig, tmp_path, name):
    path = io.save_figure(fig, tmp_path, name)
    assert path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_paper_maze_figure(tmp_path):
    write_store(tmp_path / "runs")
    fig = maze_figures.paper_maze_figure(tmp_path / "runs", "main")
    info = fig.sitt_info
    assert info["seed"] == 0 and info["missing"] == []
    assert info["arms"]["Teacher with Alignment"] == "sitt_release"
    panels, _ = maze_figures.paper_maze_panels(tmp_path / "runs", "main", seed=1, maze=1)
    grid, traj, pos = panels["Student with Alignment"]
    assert grid.shape == (21, 21) and pos.shape == (15, 13, 2)
    assert len(traj) == 6  # maze 1 ends in lava after 5 steps: the start and five cells
    _saved(fig, tmp_path, "paper_maze")


def test_typical_seed_follows_the_majority(tmp_path):
    root = tmp_path / "runs"
    assert maze_figures.typical_seed(root) is None
    write_store(root, seeds=(0, 1, 2))
    # SITT's student fails at seed 0 and solves every maze at seeds 1 and 2: seed 1 stands for the seeds, not seed 0
    for seed, success in ((0, False), (1, True), (2, True)):
        path = root / "main" / "sitt_release" / f"seed_{seed}" / "eval.csv"
        ev = pd.read_csv(path)
        ev.loc[ev["policy"] == "student", "success"] = success
        ev.to_csv(path, index=False)
    assert maze_figures.typical_seed(root) == 1
    assert maze_figures.paper_maze_figure(root, "main", seed="typical").sitt_info["seed"] == 1
    assert maze_figures.paper_maze_figure(root, "main").sitt_info["seed"] == 0  # the default stays the smallest seed
    shutil.rmtree(root / "main" / "bc" / "seed_1")  # seed 1 now lacks a panel: seed 2 is the typical seed
    assert maze_figures.typical_seed(root) == 2
    with pytest.raises(ValueError, match="^seed:"):
        maze_figures.paper_maze_panels(root, "main", seed="median")


def test_paper_maze_figure_partial_store(tmp_path):
    write_store(tmp_path, arms=("sitt_release",), seeds=(3,))
    fig = maze_figures.paper_maze_figure(tmp_path, "main")
    assert fig.sitt_info["seed"] == 3
    assert fig.sitt_info["missing"] == ["Teacher without Alignment", "Behavior Cloning", "DAgger",
                                        "Student without Alignment"]


def test_paper_maze_figure_without_runs(tmp_path):
    fig = maze_figures.paper_maze_figure(tmp_path, "main")
    assert len(fig.sitt_info["missing"]) == 6
    _saved(fig, tmp_path, "empty")


def test_plots_save_png(tmp_path):
    df = hand_example()
    _saved(figures.metric_plot(df, "success", title="t"), tmp_path, "success")
    _saved(figures.metric_plot(tables.per_seed(df), "detour_share", policies=("student",)), tmp_path, "detour")
    routes = maze_figures.route_share_plot(maze_tables.route_share_table(df, "teacher"), title="routes")
    _saved(routes, tmp_path, "routes")
    comp = tables.comparison_table(df, "plain_teacher")
    _saved(figures.comparison_plot(comp, value="diff"), tmp_path, "diff")
    _saved(figures.comparison_plot(comp, value="poi"), tmp_path, "poi")
    lam = pd.DataFrame(dict(arm=["a", "b"], sign=["bonus", "penalty"], coef=[1.0, 0.5], n_seeds=[3, 3],
                            mean=[0.2, 0.4], ci_low=[0.1, 0.3], ci_high=[0.3, 0.5]))
    _saved(figures.lambda1_plot(lam), tmp_path, "lambda1")
    _saved(figures.metric_plot(df.iloc[:0], "success"), tmp_path, "nothing")


def test_training_curves(tmp_path):
    prog = pd.DataFrame([dict(arm=a, seed=s, **{"time/total_timesteps": t, "rollout/ep_rew_mean": t * (s + 1),
                                                 "sitt/kl_mean": 0.1})
                         for a in ("plain_teacher", "sitt_release") for s in range(3) for t in (1, 2, 3)])
    assert figures.available_curves(prog) == ["rollout/ep_rew_mean", "sitt/kl_mean"]
    _saved(figures.training_curves(prog, title="curves"), tmp_path, "curves")
    with pytest.raises(ValueError, match="no column"):
        figures.training_curves(prog, "rollout/success_rate")


def test_value_map_figure(tmp_path):
    from color_maze import make_mazes

    grid = make_mazes(1, 21, 3, seed=1)[0]
    values = np.random.default_rng(0).random((21, 21))
    values[0, 0] = np.nan
    _saved(maze_figures.value_map_figure(grid, {"a": values, "b": values / 2}, colorbar_label="KL"), tmp_path, "map")


# ------------------------------------------------------------------------------------------------------- report


def test_write_report(tmp_path):
    df = main_example()
    claims_df = claims.claims_table({"main": df})
    fig_path = _saved(figures.metric_plot(df), tmp_path, "main_success")
    path = report.write_report(
        tmp_path, claims=claims_df, main=tables.main_table(df),
        comparisons={"Versus plain": tables.comparison_table(df, "without_alignment")},
        figures=[fig_path], command_lines=report.commands("default"), profile="default",
        findings="# Findings\n\nThe release's sign reproduces the figure.\n\n## Sign\n\nMore.",
    )
    text = path.read_text()
    # the findings come before the claims, their headings demoted below the report's sections
    assert text.index("## Findings\n\nThe release's sign reproduces the figure.") < text.index("## Claims")
    assert "\n### Findings\n" in text and "\n### Sign\n" in text and "\n# Findings" not in text
    assert path.name == "REPORT.md" and (tmp_path / "REPORT.html").is_file()
    assert "| id | claim | experiment | evidence | verdict |" in text
    assert "| f | The student trained with alignment (SITT, release recipe) reaches the goal | main |" in text
    assert "reproduced" in text and "## What was easy, what was hard" in text
    assert "![main_success](figures/main_success.png)" in text
    from color_maze.design import MAIN_SWEEP_ARMS

    assert ("python -m study.sweep --profile default --jobs 2 --root results/runs --experiment main "
            f"--arms {','.join(MAIN_SWEEP_ARMS)} --seeds 0-9") in text
    assert {"hlrl", "dwbc", "cosil"} <= set(MAIN_SWEEP_ARMS)
    assert "--experiment release_vs_paper,ablations --seeds 0-9" in text  # the maze plan's seeds (issue 15: 10)
    assert "<table>" in (tmp_path / "REPORT.html").read_text()
    assert not list(tmp_path.glob(".*.part*"))  # atomic writes leave no temporary file
    empty = report.write_report(tmp_path / "bare", claims=claims_df, html_too=False).read_text()
    assert "## Findings" not in empty and not (tmp_path / "bare" / "REPORT.html").exists()


def test_demote_headings():
    text = "# a\n\ntext # not a heading\n### b\n##### c\n#no space"
    assert report.demote_headings(text, 3) == "### a\n\ntext # not a heading\n### b\n##### c\n#no space"


def test_df_to_markdown_escapes():
    md = report.df_to_markdown(pd.DataFrame({"a": ["x|y", None], "b": [0.123, np.nan]}))
    assert md.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 0.12 |", "|  |  |"]


# ------------------------------------------------------------------------------------------------------- walkthrough


@pytest.mark.parametrize("quirks", ["release", "fixed"])
def test_cell_observations_match_env(quirks):
    from color_maze import ColorMazeEnv

    env = ColorMazeEnv(4, seed=3, quirks=quirks)
    obs = env.reset()
    cells = walkthrough.cell_observations(env.grids[1], 3, quirks)
    sx, sy = env.start
    assert np.allclose(cells[sx * 21 + sy], obs[1])
    obs, *_ = env.step(np.full(4, 0))  # right: the first 7 entries depend on the cell only
    x, y = env.agent_pos[1]
    assert np.allclose(cells[x * 21 + y][:7], obs[1][:7])


def test_walkthrough_one_iteration_by_hand():
    from color_maze import ColorMazeEnv
    from sitt import SITT

    env = ColorMazeEnv(8, seed=0)
    model = SITT("MlpPolicy", env, n_steps=8, batch_size=64, n_epochs=1, seed=0, align_epochs=2)
    callback = walkthrough.start_learning(model, 64)
    assert walkthrough.raw_rollout(model, callback)
    before = model.rollout_buffer.rewards.copy()
    model.rollout_reward_term(model.rollout_buffer)
    assert (model.rollout_buffer.rewards >= before).all()  # release sign: a bonus
    assert "sitt/kl_mean" in walkthrough.logged(model, clear=True)
    model.policy_update()
    logs = walkthrough.logged(model, clear=True)
    assert "train/policy_gradient_loss" in logs and "sitt/update_term" in logs and "sitt/kl_mean" not in logs
    model.align()
    assert "sitt/align_student_feat" in walkthrough.logged(model)
    kl = walkthrough.kl_map(model, env.grids[0])
    assert kl.shape == (21, 21) and (kl >= -1e-6).all()
    assert walkthrough.kl_map(model, env.grids[0], against="student").shape == (21, 21)
    mean, counts = walkthrough.rollout_kl_by_cell(model, 21)
    assert counts.sum() == 64 and np.isfinite(mean[counts > 0]).all()
    assert list(walkthrough.observation_table(env.reset()[0])["student"])[2:7] == [0.0] * 5


def test_open_experiment_resolves_loads_and_reports_missing_runs(tmp_path, capsys):
    root, out, df = io.open_experiment("main", "default", tmp_path / "runs", tmp_path / "out")
    assert df is None and root == tmp_path / "runs" and out == tmp_path / "out"
    printed = capsys.readouterr().out
    assert "profile=default" in printed and "NO RUNS" in printed


def test_settle_steps_finds_where_the_curve_stays_up():
    steps = np.arange(1, 13) * 100
    learned = [0, 0.1, 0.9, 0.2, 0.5, 0.85, 0.9, 1, 1, 1, 1, 1]  # last value below 0.8 at step 500: settles at 600
    never = [0, 0, 0.1, 0, 0, 0, 0.05, 0, 0, 0, 0, 0]
    nan_early = [np.nan, np.nan] + [1.0] * 10
    rows = []
    for arm, seed, curve in (("sitt_release", 0, learned), ("sitt_release", 1, never),
                             ("without_alignment", 0, nan_early)):
        rows += [{"arm": arm, "seed": seed, "time/total_timesteps": t, "rollout/success_rate": v}
                 for t, v in zip(steps, curve)]
    out = tables.settle_steps(pd.DataFrame(rows).sample(frac=1.0, random_state=0), tail=5)
    assert list(zip(out["arm"], out["seed"])) == [("without_alignment", 0), ("sitt_release", 0), ("sitt_release", 1)]
    got = out.set_index(["arm", "seed"])
    assert got.loc[("sitt_release", 0), "final"] == 1.0 and got.loc[("sitt_release", 0), "settle_step"] == 600
    assert got.loc[("sitt_release", 0), "settle_share"] == pytest.approx(600 / 1200)
    assert np.isnan(got.loc[("sitt_release", 1), "settle_step"])  # final 0 < min_final: nothing learned
    assert got.loc[("without_alignment", 0), "settle_step"] == 300  # NaN = no finished episode = 0
    with pytest.raises(ValueError, match="progress: missing column 'rollout/success_rate'"):
        tables.settle_steps(pd.DataFrame(rows).drop(columns="rollout/success_rate"))


def test_saved_tables_do_not_depend_on_the_last_float_digits(tmp_path):
    """Two machines summing in another order differ in the last bits; the saved table must not."""
    from study import io

    a = pd.DataFrame(dict(arm=["x"], value=[1.0394131632218664], n=[3]))
    b = pd.DataFrame(dict(arm=["x"], value=[1.0394131632218662], n=[3]))
    text_a = io.save_table(a, tmp_path / "a", "t").read_text()
    text_b = io.save_table(b, tmp_path / "b", "t").read_text()
    assert text_a == text_b == "arm,value,n\nx,1.039413163,3\n"
    assert pd.read_csv(tmp_path / "a" / "tables" / "t.csv")["value"].iloc[0] == pytest.approx(a["value"].iloc[0])


def test_a_comparison_won_against_an_untuned_baseline_is_held():
    g = next(c for c in CLAIMS if c.id == "g")  # the SITT student beats every baseline: reproduced on main_example
    df = main_example()
    assert claims.evaluate_claim(g, df)["verdict"] == "reproduced"
    held = dataclasses.replace(g, untuned=(g.others[0],))
    row = claims.evaluate_claim(held, df)
    assert row["verdict"] == claims.HELD and claims.HELD in claims.VERDICTS
    assert f"held until {g.others[0]} get(s) the tuning effort" in row["evidence"]
    # only a reproduced verdict is held: the same hold on a comparison that is not reproduced changes nothing
    lost = next(c for c in CLAIMS if c.id == "g'")
    assert claims.evaluate_claim(dataclasses.replace(lost, untuned=lost.others), df)["verdict"] == "not reproduced"
    # an untuned arm that the claim does not compare holds nothing
    assert claims.evaluate_claim(dataclasses.replace(g, untuned=("no_such_arm",)), df)["verdict"] == "reproduced"


def test_hold_untuned_marks_the_tuned_arms_comparisons_with_the_baseline_kinds():
    from study.presets import COMMON_ARMS, UNTUNED_BASELINE_KINDS, hold_untuned
    from study.task import Claim

    def better(cid, arm, others):
        return Claim(cid, cid, "x", arm, "student", kind="better", others=others)

    given = (better("t", "sitt_tuned", ("without_alignment", "bc", "hlrl", "dwbc")),
             better("p", "sitt_paper", ("bc",)),  # the paper's coefficients: not tuned, not held
             Claim("l", "l", "x", "sitt_tuned", "student", kind="level"),
             better("c", "sitt_tuned", ("student_rl",)))  # an arm of no baseline kind
    arms = dict(COMMON_ARMS, sitt_tuned=COMMON_ARMS["sitt_paper"], student_rl=COMMON_ARMS["without_alignment"])
    out = hold_untuned(given, arms, ("sitt_tuned",))
    assert [c.untuned for c in out] == [("bc", "hlrl", "dwbc"), (), (), ()]
    assert out[1:] == given[1:] and set(UNTUNED_BASELINE_KINDS) == {"bc", "dagger", "hlrl", "dwbc", "cosil"}
