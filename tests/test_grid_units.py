"""study.grid (a coefficient grid's table and selection) and study.units (the roll-out term in the task's units), on
hand-made tables with values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from study.grid import grid_points, grid_table, schedule_table, select, switch_table
from study.presets import ALIGN_SCHEDULES, AlignSchedules, ArmSpec, SelectionRule, SITTGrid
from study.units import run_points, units_table

RULE = SelectionRule(teacher_floor=0.8, min_seeds=3, tie=0.01, reference_arm="without_alignment")


def _seeds(rows):
    """rows: (arm, seed, teacher success, student success) -> a per-seed table."""
    out = []
    for arm, seed, t, s in rows:
        out.append(dict(arm=arm, policy="teacher", seed=seed, success=t, visible_share=t / 2))
        out.append(dict(arm=arm, policy="student", seed=seed, success=s, visible_share=s / 2))
    return pd.DataFrame(out)


A, B, C, D = (SITTGrid.arm_name(*p) for p in [(0.1, 0.0, "clipped"), (0.2, 0.0, "clipped"), (0.05, 0.1, "raw"),
                                               (2.0, 0.1, "clipped")])
POINTS = {A: (0.1, 0.0, "clipped"), B: (0.2, 0.0, "clipped"), C: (0.05, 0.1, "raw"), D: (2.0, 0.1, "clipped")}


def _table():
    rows = [("without_alignment", s, 1.0, 0.3) for s in (100, 101, 102)]
    rows += [(A, 100, 1.0, 0.5), (A, 101, 0.9, 0.4), (A, 102, 0.8, 0.6)]  # teacher 0.9, student 0.5
    rows += [(B, 100, 1.0, 0.5), (B, 101, 1.0, 0.5), (B, 102, 1.0, 0.505)]  # student 0.50167: tie with A
    rows += [(C, 100, 1.0, 0.2), (C, 101, 1.0, 0.3)]  # two seeds only: not admissible
    rows += [(D, 100, 0.0, 0.9), (D, 101, 0.0, 0.9), (D, 102, 0.6, 0.9)]  # teacher 0.2 < 0.8 x 1.0
    return grid_table(_seeds(rows), POINTS, RULE, metrics=("visible_share",))


def test_grid_points_names_and_order():
    g1 = SITTGrid(lambda1=(0.05, 0.2), lambda2=(0.0, 0.1), action_distance=("clipped",))
    g2 = SITTGrid(lambda1=(0.3,), lambda2=(0.01,))
    pts = grid_points(g1, g2)
    assert list(pts) == ["sitt_l1_0.05_l2_0_clipped", "sitt_l1_0.05_l2_0.1_clipped", "sitt_l1_0.2_l2_0_clipped",
                         "sitt_l1_0.2_l2_0.1_clipped", "sitt_l1_0.3_l2_0.01_raw"]
    assert pts["sitt_l1_0.3_l2_0.01_raw"] == (0.3, 0.01, "raw")
    spec = g1.arms()["sitt_l1_0.2_l2_0.1_clipped"]
    assert spec.switches == dict(reward_coef=0.2, update_weight=0.1, action_distance="clipped")


def test_grid_table_values():
    t = _table().set_index("arm")
    assert t.loc[A, "teacher_success"] == pytest.approx(0.9)
    assert t.loc[A, "student_success"] == pytest.approx(0.5)
    assert t.loc[A, "teacher_ratio"] == pytest.approx(0.9)
    assert t.loc[A, "student_gain"] == pytest.approx(0.2)
    assert t.loc[A, "teacher_visible_share"] == pytest.approx(0.45)
    assert t.loc[A, "seeds"] == "100,101,102"
    assert t.loc[C, "n_seeds"] == 2 and not t.loc[C, "admissible"]
    assert t.loc[C, "reference_student_success"] == pytest.approx(0.3)  # the reference on the same two seeds
    assert t.loc[D, "teacher_ratio"] == pytest.approx(0.2) and not t.loc[D, "admissible"]
    assert bool(t.loc[A, "admissible"]) and bool(t.loc[B, "admissible"])
    assert list(_table()["arm"]) == [A, B, C, D]


def test_select_prefers_the_smaller_lambda1_within_the_tie():
    chosen = select(_table(), RULE)
    assert chosen["arm"] == A  # B is 0.0017 better: within the tie of 0.01, A has the smaller lambda1
    strict = SelectionRule(tie=0.0)
    assert select(_table(), strict)["arm"] == B


def test_select_none_when_nothing_is_admissible():
    t = _table()
    t["admissible"] = False
    assert select(t, RULE) is None


def test_select_raw_before_clipped_on_equal_coefficients():
    t = pd.DataFrame([dict(arm="x", lambda1=0.1, lambda2=0.0, action_distance="clipped", student_success=0.5,
                           admissible=True),
                      dict(arm="y", lambda1=0.1, lambda2=0.0, action_distance="raw", student_success=0.5,
                           admissible=True)])
    assert select(t, RULE)["arm"] == "y"


def test_switch_table_adopts_only_above_the_threshold():
    seeds = _seeds([("bc", 100, 1, 0.30), ("bc", 101, 1, 0.40), ("bc_clipped", 100, 1, 0.35),
                    ("bc_clipped", 101, 1, 0.40), ("cosil", 100, 1, 0.2), ("cosil_clipped", 100, 1, 0.21)])
    t = switch_table(seeds, {"bc": "bc_clipped", "cosil": "cosil_clipped"}).set_index("baseline")
    assert t.loc["bc", "gain"] == pytest.approx(0.025) and bool(t.loc["bc", "adopt_clipped"])
    assert t.loc["cosil", "gain"] == pytest.approx(0.01) and not bool(t.loc["cosil", "adopt_clipped"])


def test_grid_table_names_a_missing_column():
    with pytest.raises(ValueError, match="seeds: missing column 'success'"):
        grid_table(pd.DataFrame(dict(arm=[], policy=[], seed=[])), POINTS, RULE)


def _progress(seed, n=20, kl0=2.0, with_env=True):
    it = np.arange(1, n + 1)
    df = pd.DataFrame({"time/iterations": it, "sitt/kl_mean": kl0 / it, "rollout/ep_rew_mean": 2.0 * it,
                       "rollout/ep_len_mean": np.full(n, 10.0)})
    if with_env:
        df["sitt/env_reward_mean"] = 0.1 * it
    return df.assign(arm="a", seed=seed)


def test_run_points_windows():
    pts = run_points(_progress(0, n=20)).set_index("fraction")
    # 10%: iterations (1, 2] -> 2 ; 50%: (9, 10] -> 10 ; 100%: (19, 20] -> 20
    assert pts.loc[0.1, "iteration"] == 2 and pts.loc[0.1, "reward_per_step"] == pytest.approx(0.2)
    assert pts.loc[0.5, "kl"] == pytest.approx(0.2)
    assert pts.loc[1.0, "reward_per_step"] == pytest.approx(2.0)
    assert pts.loc[1.0, "reward_source"] == "env_reward_mean"
    old = run_points(_progress(0, n=20, with_env=False)).set_index("fraction")  # a run logged before the column
    assert old.loc[1.0, "reward_per_step"] == pytest.approx(4.0) and old.loc[1.0, "reward_source"] == "ep_rew/ep_len"
    many = run_points(_progress(0, n=100)).set_index("fraction")  # 10%: iterations 6..10 averaged
    assert many.loc[0.1, "reward_per_step"] == pytest.approx(0.1 * np.mean([6, 7, 8, 9, 10]))


def test_units_table_term_and_share():
    progress = pd.concat([_progress(0), _progress(1, kl0=4.0)], ignore_index=True)
    t = units_table(progress, {"a": (-1, 0.5)}).set_index("fraction")
    # at 100%: KL 2/20 and 4/20 -> mean 0.15; term -0.5 x 0.15; reward 2.0
    assert t.loc[1.0, "kl"] == pytest.approx(0.15)
    assert t.loc[1.0, "term_per_step"] == pytest.approx(-0.075)
    assert t.loc[1.0, "term_share"] == pytest.approx(0.075 / 2.0)
    assert t.loc[1.0, "n_seeds"] == 2
    assert units_table(progress, {"a": (1, 0.0)}).set_index("fraction").loc[0.5, "term_share"] == 0.0


def test_tracking_curves_plot_each_logged_column_and_no_other():
    """The proxy-tracking panels: one per TRACKING_CURVES column, each line the arm's mean over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    from study.figures import TRACKING_CURVES, training_curves

    rows = []
    for arm, gap in (("sitt_tuned", 0.1), ("sitt_paper", 0.3)):
        for seed in (0, 1):
            for it in range(5):
                kl = 2.0 / (1 + it)
                rows.append({"arm": arm, "seed": seed, "time/total_timesteps": 1000 * (it + 1),
                             "sitt/kl_mean": kl, "sitt/kl_student_mean": kl + gap,
                             "sitt/proxy_tracking_mae": gap + 0.01 * seed, "sitt/proxy_tracking_corr": 0.9})
    fig = training_curves(pd.DataFrame(rows), list(TRACKING_CURVES))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == list(TRACKING_CURVES)
    mae = shown[2]
    means = sorted(round(float(line.get_ydata()[0]), 6) for line in mae.get_lines() if len(line.get_ydata()) == 5)
    assert means == [0.105, 0.305]  # the two arms' means over seeds 0 and 1
    with pytest.raises(ValueError, match="sitt/proxy_tracking_corr"):
        training_curves(pd.DataFrame(rows).drop(columns="sitt/proxy_tracking_corr"), list(TRACKING_CURVES))


def test_tracking_figure_keeps_only_the_runs_that_log_the_tracking():
    """tracking_curves: None without the columns or without a logged row; otherwise the logged runs' arms only."""
    import matplotlib

    matplotlib.use("Agg")
    from study.figures import TRACKING_CURVES, tracking_curves

    rows = [{"arm": "sitt_tuned", "seed": 0, "time/total_timesteps": 1000 * (it + 1), "sitt/kl_mean": 1.0,
             "sitt/kl_student_mean": 1.2, "sitt/proxy_tracking_mae": 0.2, "sitt/proxy_tracking_corr": 0.9}
            for it in range(3)]
    rows += [{"arm": "sitt_paper", "seed": 0, "time/total_timesteps": 1000 * (it + 1), "sitt/kl_mean": 1.0}
             for it in range(3)]
    progress = pd.DataFrame(rows)
    assert tracking_curves(None) is None
    assert tracking_curves(progress.drop(columns="sitt/proxy_tracking_mae")) is None
    assert tracking_curves(progress[progress["arm"] == "sitt_paper"]) is None
    fig = tracking_curves(progress, title="t")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == list(TRACKING_CURVES)
    labels = [t.get_text() for t in shown[0].get_legend().get_texts()]
    assert labels == ["sitt_tuned"]


def test_align_schedule_arms_take_the_base_arms_switches_and_the_schedule():
    arms = {A: ArmSpec("sitt", "paper", dict(reward_coef=0.1, align_epochs=5, align_subset=0.25)),
            "without_alignment": ArmSpec("sitt", "release", dict(reward_term=False, align_epochs=5))}
    out = AlignSchedules(A).arms(arms)
    assert list(out) == [f"{A}_release_align", f"{A}_align_lr_1e-3", "without_alignment_release_align",
                         "without_alignment_align_lr_1e-3"]
    assert out[f"{A}_release_align"].switches == dict(reward_coef=0.1, align_epochs=20, align_subset=1.0,
                                                      align_batch_size=None)
    assert out[f"{A}_align_lr_1e-3"].switches == dict(reward_coef=0.1, align_epochs=5, align_subset=0.25,
                                                      align_lr=1e-3)
    assert out["without_alignment_align_lr_1e-3"].recipe == "release"
    assert arms[A].switches["align_epochs"] == 5  # the base arm is left as it was
    assert set(ALIGN_SCHEDULES) == {"release_align", "align_lr_1e-3"}
    with pytest.raises(ValueError, match=r"^AlignSchedules.schedules: got \['fast'\]; allowed: .*release_align"):
        AlignSchedules(A, schedules=("fast",))
    with pytest.raises(ValueError, match="arm"):
        AlignSchedules("nope").arms(arms)



def test_adopted_schedule_arms_are_the_main_arms_with_the_schedule_switches():
    arms = {"sitt_tuned": ArmSpec("sitt", "paper", dict(reward_coef=0.1, align_epochs=5), description="tuned"),
            "without_alignment": ArmSpec("sitt", "release", dict(reward_term=False, align_epochs=5))}
    sched = AlignSchedules(A)
    out = sched.adopted_arms(arms, {"sitt_tuned": "align_lr_1e-3", "without_alignment": "release_align"})
    assert list(out) == ["sitt_tuned_align", "without_alignment_align"]
    assert out["sitt_tuned_align"].switches == dict(reward_coef=0.1, align_epochs=5, align_lr=1e-3)
    assert out["sitt_tuned_align"].recipe == "paper" and out["sitt_tuned_align"].description.startswith("tuned; ")
    assert out["without_alignment_align"].switches == dict(reward_term=False, align_epochs=20, align_subset=1.0,
                                                           align_batch_size=None)
    assert arms["sitt_tuned"].switches == dict(reward_coef=0.1, align_epochs=5)  # the main arm is left as it was
    assert sched.adopted_arms(arms, {}) == {}
    with pytest.raises(ValueError, match=r"^adopted\['sitt_tuned'\]: got 'fast'; allowed: release_align, "
                                         r"align_lr_1e-3$"):
        sched.adopted_arms(arms, {"sitt_tuned": "fast"})
    with pytest.raises(ValueError, match=r"^adopted\['sitt_tuned'\]: got 'release_align'; allowed: align_lr_1e-3$"):
        AlignSchedules(A, schedules=("align_lr_1e-3",)).adopted_arms(arms, {"sitt_tuned": "release_align"})
    with pytest.raises(ValueError, match="^arm: unknown arm 'nope'"):
        sched.adopted_arms(arms, {"nope": "release_align"})


def test_adopted_schedule_claims_read_each_arm_at_its_adopted_schedule():
    sched = AlignSchedules(A)
    base = ("without_alignment", "bc_clipped", "hlrl")
    both = sched.adopted_claims("od:", "Drawer: ", "od_main", {"sitt_tuned": "align_lr_1e-3",
                                                               "without_alignment": "release_align"}, base,
                                source="paper")
    assert [(c.id, c.arm, c.others) for c in both] == [
        ("od:tuned_align:g:without_alignment_align", "sitt_tuned_align", ("without_alignment_align",)),
        ("od:tuned_align:g:bc_clipped", "sitt_tuned_align", ("bc_clipped",)),
        ("od:tuned_align:g:hlrl", "sitt_tuned_align", ("hlrl",)),
        ("od:tuned_align:tuned", "sitt_tuned_align", ("sitt_tuned",))]
    assert {(c.experiment, c.policy, c.metric, c.kind) for c in both} == {("od_main", "student", "success", "better")}
    assert both[0].claim.startswith("Drawer: SITT's student (tuned, with the adopted alignment schedules: sitt_tuned: "
                                   "align_lr_1e-3, without_alignment: release_align) beats")
    assert both[1].source == "paper" and both[-1].source.startswith("this study")
    # only the reference adopted one: SITT at the profile's schedule against it, and no claim against sitt_tuned
    ref = sched.adopted_claims("fov:", "Flight: ", "fov_main", {"without_alignment": "release_align"}, base)
    assert [(c.id, c.arm, c.others) for c in ref] == [
        ("fov:tuned_align:g:without_alignment_align", "sitt_tuned", ("without_alignment_align",)),
        ("fov:tuned_align:g:bc_clipped", "sitt_tuned", ("bc_clipped",)),
        ("fov:tuned_align:g:hlrl", "sitt_tuned", ("hlrl",))]
    assert sched.adopted_claims("mg:", "MiniGrid: ", "mg_main", {}, base) == ()

def test_schedule_table_gain_floor_and_choice():
    sched = AlignSchedules(A)
    rows = [("without_alignment", s, 1.0, 0.30) for s in (100, 101, 102)]
    rows += [(A, s, 1.0, 0.40) for s in (100, 101, 102)]
    rows += [(f"{A}_release_align", s, 1.0, 0.45) for s in (100, 101, 102)]  # gain 0.05, teacher kept: adopted
    rows += [(f"{A}_align_lr_1e-3", s, 0.5, 0.60) for s in (100, 101, 102)]  # gain 0.2 but teacher 0.5 < 0.8
    rows += [("without_alignment_release_align", s, 0.5, 0.33) for s in (100, 101, 102)]  # reference: no floor
    rows += [("without_alignment_align_lr_1e-3", s, 1.0, 0.315) for s in (100, 101, 102)]  # gain 0.015 <= 0.02
    t = schedule_table(_seeds(rows), sched, RULE).set_index("arm")
    r = t.loc[f"{A}_release_align"]
    assert (r["n_seeds"], r["gain"], r["teacher_ratio"], bool(r["adopt"]), bool(r["chosen"])) == (
        3, pytest.approx(0.05), 1.0, True, True)
    assert not t.loc[f"{A}_align_lr_1e-3", "adopt"] and t.loc[f"{A}_align_lr_1e-3", "teacher_ratio"] == 0.5
    assert bool(t.loc["without_alignment_release_align", "adopt"])
    assert not t.loc["without_alignment_align_lr_1e-3", "adopt"]
    assert t["chosen"].sum() == 2
    # two seeds only: never adopted; the larger of two adopted gains is the one chosen
    two = schedule_table(_seeds([r for r in rows if r[1] != 102]), sched, RULE)
    assert not two["adopt"].any()
    both = [r if r[0] != f"{A}_align_lr_1e-3" else (r[0], r[1], 1.0, 0.60) for r in rows]
    t2 = schedule_table(_seeds(both), sched, RULE).set_index("arm")
    assert bool(t2.loc[f"{A}_release_align", "adopt"]) and not t2.loc[f"{A}_release_align", "chosen"]
    assert bool(t2.loc[f"{A}_align_lr_1e-3", "chosen"])
    assert schedule_table(_seeds(rows[:6]), sched, RULE).empty


@pytest.mark.parametrize("task", ["occluded_drawer", "fov_flight", "minigrid_lava"])
def test_each_task_adopts_exactly_the_schedules_its_committed_table_chooses(task):
    """The design's ADOPTED_SCHEDULES (written down before the main runs) are the chosen rows of the committed
    schedule table (made from the grid's runs by `make figures`), the selected grid arm read as sitt_tuned."""
    import importlib  # noqa: PLC0415

    from study.paths import REPO  # noqa: PLC0415

    design = importlib.import_module(f"{task}.design")
    path = REPO / "results" / "tables" / f"{design.GRID_EXPERIMENT}_schedules.csv"
    table = pd.read_csv(path) if path.is_file() else pd.DataFrame()
    if table.empty:
        pytest.skip(f"no committed {path.name}")
    assert set(table["base"]) == {design.SCHEDULES.selected, design.SCHEDULES.reference}
    chosen = table[table["chosen"].astype(bool)]
    main_arm = {design.SCHEDULES.selected: "sitt_tuned", design.SCHEDULES.reference: design.SCHEDULES.reference}
    assert {main_arm[b]: tag for b, tag in zip(chosen["base"], chosen["schedule"])} == design.ADOPTED_SCHEDULES
    assert (table["n_seeds"] >= design.SELECTION.min_seeds).all()
