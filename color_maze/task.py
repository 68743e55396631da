"""The color maze as a task of the study (:mod:`study.task`): its configs, held-out mazes, evaluation, metrics,
arms, profiles, experiments and claims.

Everything the study knows about the maze is here; the env itself is :class:`color_maze.ColorMazeEnv`, the
evaluation protocol :func:`color_maze.evaluate.evaluate` and the maze figures :mod:`color_maze.figures`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from study.claims import Claim
from study.config import ImitationConfig, PPOConfig, check_int, fail
from study.presets import COMMON_ARMS, NO_ALIGN_TEACHER, PLAIN, ArmSpec, Profile
from study.task import HeldOut, Metric, SweepPlan, TableMetric, Task

# ------------------------------------------------------------------------------------------------------- configs


@dataclass
class MazeEnvConfig:
    """The training env: ``ColorMazeEnv(n_envs, grid_size, margin_size, seed=<run seed>, quirks=quirks)``.

    ``quirks``: ``"release"`` (every quirk of the authors' release on), ``"fixed"`` (all corrected) or a dict of
    single overrides on top of the release (see :mod:`color_maze.quirks`). The evaluation env uses the same quirks.
    Defaults: the release's 21 x 21 maze with a 3-cell margin and 1000 envs.
    """

    n_envs: int = 1000
    grid_size: int = 21
    margin_size: int = 3
    quirks: Any = "release"

    def validate(self) -> "MazeEnvConfig":
        from color_maze.generation import validate_sizes
        from color_maze.quirks import resolve_quirks

        check_int("env.n_envs", self.n_envs, 1)
        if not isinstance(self.grid_size, int) or isinstance(self.grid_size, bool):
            fail("env.grid_size", self.grid_size, "an integer >= 4")
        try:
            validate_sizes(self.grid_size, 1)
        except ValueError as exc:
            raise ValueError(f"env.grid_size: {exc}") from None
        try:
            validate_sizes(self.grid_size, self.margin_size)
        except ValueError as exc:
            raise ValueError(f"env.margin_size: {exc}") from None
        if isinstance(self.quirks, dict) or isinstance(self.quirks, str):
            try:
                resolve_quirks(self.quirks)
            except ValueError as exc:
                raise ValueError(f"env.quirks: {exc}") from None
        else:
            fail("env.quirks", self.quirks, '"release", "fixed" or a dict of quirk switches (JSON-serialisable)')
        return self


@dataclass
class MazeEvalConfig:
    """The held-out evaluation: ``make_mazes(n_mazes, grid_size, margin_size, seed=maze_seed)``, deterministic actions
    for exactly ``n_steps`` steps (the release's protocol, see :func:`color_maze.evaluate.evaluate`).

    ``maze_seed`` is a seed of its own, the same for every arm and seed of a study, and never a training seed.
    Defaults: the release's 15 mazes and 100 steps.
    """

    n_mazes: int = 15
    maze_seed: int = 20250101
    n_steps: int = 100

    def validate(self) -> "MazeEvalConfig":
        check_int("eval.n_mazes", self.n_mazes, 1)
        check_int("eval.maze_seed", self.maze_seed, 0)
        check_int("eval.n_steps", self.n_steps, 1)
        return self


def eval_grids(config) -> np.ndarray:
    """The held-out evaluation mazes of a run config: ``make_mazes(eval.n_mazes, env.grid_size, env.margin_size,
    seed=eval.maze_seed)``, (n_mazes, G, G) int8. They depend on the evaluation settings and the maze geometry only,
    so every arm and seed of a study is evaluated on the same mazes."""
    from color_maze import make_mazes

    return make_mazes(config.eval.n_mazes, config.env.grid_size, config.env.margin_size, seed=config.eval.maze_seed)


def mazes_sha256(grids: np.ndarray) -> str:
    """A fingerprint of a set of mazes (shape and cell states)."""
    grids = np.ascontiguousarray(np.asarray(grids, dtype=np.int8))
    h = hashlib.sha256(str(grids.shape).encode())
    h.update(grids.tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------- arms

def _lambda1_arms() -> dict[str, ArmSpec]:
    arms = {}
    for coef in (0.5, 1.0, 4.0):  # 1.9 with the release sign is `sitt_release` itself
        arms[f"lambda1_bonus_{coef:g}"] = ArmSpec(
            "sitt", "release", dict(reward_sign=1, reward_coef=coef),
            description=f"release recipe, reward += {coef:g} x KL (the release's sign; 1.9 is sitt_release)",
        )
    for coef in (0.05, 0.5, 1.9):
        arms[f"lambda1_penalty_{coef:g}"] = ArmSpec(
            "sitt", "release", dict(reward_sign=-1, reward_coef=coef),
            description=f"release recipe with the paper's sign: reward -= {coef:g} x KL",
        )
    return arms


ARMS: dict[str, ArmSpec] = {
    # ---- the paper's figure: teachers, baselines, SITT
    "plain_teacher": ArmSpec(
        "sitt", "release", dict(PLAIN),
        description="plain PPO teacher, all three SITT phases off, no student (for completeness)",
    ),
    "without_alignment": ArmSpec(
        "sitt", "release", dict(NO_ALIGN_TEACHER),
        description="teacher trained as plain PPO, student and proxy aligned to it (panels a, e; teacher of bc, dagger)",
    ),
    "bc": ArmSpec(
        "bc", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment",
        description="behaviour cloning of the without_alignment teacher on its own state distribution (panel b)",
    ),
    "dagger": ArmSpec(
        "dagger", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment",
        description="DAgger against the without_alignment teacher (panel c)",
    ),
    "sitt_release": ArmSpec("sitt", "release", {}, description="SITT as released (+1.9 KL bonus, feature-L1 update term)"),
    "sitt_paper": ArmSpec("sitt", "paper", {}, description="SITT as the paper describes it (-1.9 KL penalty, KL update term)"),
    # ---- ablations (on the release recipe, the one that reproduces the figure in the single-seed probes)
    "penalty_only": ArmSpec(
        "sitt", "release", dict(update_term="off"),
        description="roll-out reward term only (policy-update term off)",
    ),
    "kl_gradient_only": ArmSpec(
        "sitt", "release", dict(reward_term=False),
        description="policy-update term only (the release's feature-L1 stand-in for the KL gradient); reward term off",
    ),
    "no_shared_head": ArmSpec("sitt", "release", dict(shared_head=False), description="student and proxy own a head"),
    **_lambda1_arms(),
    "oracle_student": ArmSpec(
        "sitt", "release", dict(kl_source="student"),
        description="the KL uses the true student on the student view instead of the proxy",
    ),
    "quirks_fixed": ArmSpec(
        "sitt", "release", {}, env=dict(quirks="fixed"), description="sitt_release on the env with every quirk corrected",
    ),
    # ---- release vs paper, one difference at a time
    "release_paper_sign": ArmSpec(
        "sitt", "release", dict(reward_sign=-1), description="release recipe with the paper's sign (-1.9 x KL)",
    ),
    "release_kl_update": ArmSpec(
        "sitt", "release", dict(update_term="kl", update_weight=1.0),
        description="release recipe with the paper's KL update term (weight 1.0) instead of feature L1",
    ),
    "without_alignment_quirks_fixed": ArmSpec(
        "sitt", "release", dict(NO_ALIGN_TEACHER), env=dict(quirks="fixed"),
        description="without_alignment on the env with every quirk corrected (does the plain teacher's route change?)",
    ),
}



# the common arms, described with the maze figure's panels
ARMS.update({
    name: ArmSpec(spec.kind, spec.recipe, dict(spec.switches), dict(spec.env), spec.teacher_from, ARMS[name].description)
    for name, spec in COMMON_ARMS.items() if name in ARMS
})
ARMS.update({name: spec for name, spec in COMMON_ARMS.items() if name not in ARMS})  # hlrl, dwbc, cosil

# ------------------------------------------------------------------------------------------------------ profiles


# The default profile is what `make reproduce` runs: the budget search's choice (notebooks/10_budget_search.py).
# The release schedule is kept (1000 envs, full batch: one gradient step per epoch, 10 epochs, 20 align epochs) but
# with 64-step roll-outs (64k samples per iteration, 4x more updates per sample) and 20M steps instead of 1e8. In the
# search, minibatching or 16-step roll-outs changed which route the plain teacher learns, or kept it from learning
# any in 6M steps; 64 x 1000 full batch made the plain teacher take the path (15/15, seeds 2 and 3) by 10M steps.
DEFAULT_PROFILE = Profile(
    env=MazeEnvConfig(n_envs=1000),
    ppo=PPOConfig(n_steps=64, batch_size=None, n_epochs=10),
    total_timesteps=20_000_000,
    switches=dict(align_epochs=20),
    imitation=ImitationConfig(
        bc_n_steps_per_env=64, bc_epochs=20, bc_batch_size=1024, bc_lr=1e-3,
        dagger_iterations=5, dagger_n_steps_per_env=32, dagger_epochs=10, dagger_batch_size=1024, dagger_lr=1e-3,
    ),
    description="reduced budget: 1000 envs x 64 steps, full batch, 10 epochs, 20 align epochs, 2e7 steps",
)

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        env=MazeEnvConfig(n_envs=32),
        ppo=PPOConfig(n_steps=8, batch_size=None, n_epochs=2),
        total_timesteps=3 * 32 * 8,
        switches=dict(align_epochs=2),
        imitation=ImitationConfig(
            bc_n_steps_per_env=8, bc_epochs=2, bc_batch_size=None,
            dagger_iterations=2, dagger_n_steps_per_env=8, dagger_epochs=2, dagger_batch_size=None,
        ),
        description="seconds per run, for CI: 32 envs x 8 steps, 3 iterations, 2 epochs, 2 align epochs",
    ),
    "default": DEFAULT_PROFILE,
    "release": Profile(
        env=MazeEnvConfig(n_envs=1000),
        ppo=PPOConfig(n_steps=250, batch_size=None, n_epochs=10),
        total_timesteps=100_000_000,
        switches=dict(align_epochs=20),
        imitation=ImitationConfig(
            bc_n_steps_per_env=512, bc_epochs=20, bc_batch_size=256,
            dagger_iterations=5, dagger_n_steps_per_env=256, dagger_epochs=10, dagger_batch_size=256,
        ),
        description="the authors' schedule: 1000 envs x 250 steps, full batch, 10 epochs, 20 align epochs, 1e8 steps",
    ),
}



# --------------------------------------------------------------------------------------------------- experiments


EXPERIMENTS: dict[str, tuple[str, ...]] = {
    "main": ("plain_teacher", "without_alignment", "bc", "dagger", "sitt_release", "sitt_paper", "hlrl", "dwbc", "cosil"),
    "ablations": (
        "sitt_release",
        "penalty_only",
        "kl_gradient_only",
        "no_shared_head",
        "lambda1_bonus_0.5",
        "lambda1_bonus_1",
        "lambda1_bonus_4",
        "lambda1_penalty_0.05",
        "lambda1_penalty_0.5",
        "lambda1_penalty_1.9",
        "oracle_student",
        "quirks_fixed",
    ),
    "release_vs_paper": (
        "sitt_release",
        "release_paper_sign",
        "release_kl_update",
        "sitt_paper",
        "quirks_fixed",
        "without_alignment",
        "without_alignment_quirks_fixed",
    ),
}



#: the arms of the main experiment the Makefile's sweep trains: the plain teacher is the without_alignment run's own
#: teacher (no student-informed term reaches it), so the separate `plain_teacher` arm is left out of the sweep
MAIN_SWEEP_ARMS = ("without_alignment", "bc", "dagger", "sitt_release", "sitt_paper", "hlrl", "dwbc", "cosil")

# ------------------------------------------------------------------------------------------------------- claims

METRICS = (
    Metric("release_success", "release metric (any termination)"),
    Metric("path_share", "share of mazes solved through the path"),
    Metric("detour_share", "share of mazes solved by the detour"),
    Metric("failed_share", "share of mazes not solved"),
    Metric("lava_share", "share of first episodes ended on lava"),
    Metric("timeout_share", "share of first episodes ended by the time limit"),
    Metric("n_paths", "path-cell visits per maze"),
    Metric("success_length", "length of the successful first episodes"),
)

CLAIMS: tuple[Claim, ...] = (
    Claim("a", "The teacher trained without alignment reaches the goal through the hidden path",
          "main", ("without_alignment", "plain_teacher"), "teacher", "path_share", source="paper Fig. (maze) a"),
    Claim("b", "The behaviour-cloning student fails", "main", "bc", "student", "success", direction="low",
          source="paper Fig. (maze) b"),
    Claim("c", "The DAgger student fails", "main", "dagger", "student", "success", direction="low",
          source="paper Fig. (maze) c"),
    Claim("d", "The teacher trained with alignment (SITT, release recipe) detours round the maze",
          "main", "sitt_release", "teacher", "detour_share", source="paper Fig. (maze) d"),
    Claim("d'", "The teacher trained with alignment (SITT, paper recipe) detours round the maze",
          "main", "sitt_paper", "teacher", "detour_share", source="paper Fig. (maze) d"),
    Claim("e", "The student of the teacher trained without alignment fails", "main", "without_alignment", "student",
          "success", direction="low", source="paper Fig. (maze) e"),
    Claim("f", "The student trained with alignment (SITT, release recipe) reaches the goal",
          "main", "sitt_release", "student", "success", source="paper Fig. (maze) f"),
    Claim("f'", "The student trained with alignment (SITT, paper recipe) reaches the goal",
          "main", "sitt_paper", "student", "success", source="paper Fig. (maze) f"),
    Claim("g", "SITT's student (release recipe) beats the BC, DAgger and without-alignment students",
          "main", "sitt_release", "student", "success", kind="better", others=("bc", "dagger", "without_alignment"),
          source="paper Sec. 5 (baselines)"),
    Claim("g'", "SITT's student (paper recipe) beats the BC, DAgger and without-alignment students",
          "main", "sitt_paper", "student", "success", kind="better", others=("bc", "dagger", "without_alignment"),
          source="paper Sec. 5 (baselines)"),
    # the paper's other baselines (issue 16), fixed before their runs: SITT's student beats each (PoI CI above 0.5)
    *(Claim(f"g:{arm}", f"SITT's student (release recipe) beats the {arm.upper()} student", "main", "sitt_release",
            "student", "success", kind="better", others=(arm,), source="paper Tables 1-2 (baselines)")
      for arm in ("hlrl", "dwbc", "cosil")),
    Claim("r1", "With only the reward sign switched to the paper's penalty (release recipe otherwise), the student "
          "reaches the goal", "release_vs_paper", "release_paper_sign", "student", "success",
          source="study: release vs paper (reward sign)"),
    Claim("r2", "The release's evaluation metric (any termination) overstates the plain teacher's true success",
          "main", ("without_alignment", "plain_teacher"), "teacher", "release_success", kind="better_metric",
          others=("success",), source="study: release quirk 3"),
    Claim("r3", "The release's evaluation metric (any termination) overstates the behaviour-cloning student's true "
          "success", "main", "bc", "student", "release_success", kind="better_metric", others=("success",),
          source="study: release quirk 3"),
)

#: the arms that remove one component of SITT, as the paper's ablation does (manipulation task)
PAPER_ABLATIONS = ("penalty_only", "kl_gradient_only", "no_shared_head")


# --------------------------------------------------------------------------------------------------------- task


class MazeTask(Task):
    """The color maze (``color_maze.md``): teacher sees the cell states, the student cannot tell lava from path."""

    name = "color_maze"
    env_config = MazeEnvConfig
    eval_config = MazeEvalConfig
    metrics = METRICS
    table_metrics = (
        TableMetric("detour_share", "detour"),
        TableMetric("path_share", "path"),
        TableMetric("release_success", "release_success"),
        TableMetric("lava_share", "lava", ci=False),
    )
    arms = ARMS
    profiles = PROFILES
    experiments = EXPERIMENTS
    claims = CLAIMS
    info_keywords = ("n_paths",)
    episode_column = "maze"
    sweeps = (
        SweepPlan(("main",), MAIN_SWEEP_ARMS, "0-9"),
        # seed by seed over both smaller studies; a run they share with each other or with main (sitt_release,
        # sitt_paper, without_alignment, quirks_fixed, -1.9 x KL) is trained once and copied (reused_from)
        SweepPlan(("release_vs_paper", "ablations"), None, "0-7"),
    )
    main_title = "Main experiment: the paper's maze figure in numbers"
    main_note = ("Shares are over the held-out mazes of each run (path + detour + failed = 1); the release metric counts "
                 "any termination within the evaluation steps as success (lava included).")
    main_labels = {"detour": "detour share", "path": "path share", "release_success": "release metric",
                   "lava": "lava share"}
    notebooks = {"budget_search": "10_budget_search", "main": "20_maze_main", "ablations": "30_ablations",
                 "release_vs_paper": "40_release_vs_paper"}
    student_label = "the target offset and the four neighbours, lava and path both shown as 'maze'"

    def train_env(self, config):
        from color_maze import ColorMazeEnv

        e = config.env
        return ColorMazeEnv(e.n_envs, e.grid_size, e.margin_size, seed=config.seed, quirks=e.quirks)

    def held_out(self, config) -> HeldOut:
        grids = eval_grids(config)
        return HeldOut(grids, len(grids), mazes_sha256(grids))

    def eval_env(self, config):
        """The held-out evaluation env: the held-out mazes with the run's quirks."""
        from color_maze import ColorMazeEnv

        return ColorMazeEnv.from_grids(eval_grids(config), margin_size=config.env.margin_size, quirks=config.env.quirks)

    def evaluate(self, config, act):
        from color_maze.evaluate import evaluate, stack_positions

        df = evaluate(act, self.eval_env(config), n_steps=config.eval.n_steps)
        positions = stack_positions(df).astype(np.int16)
        return df.drop(columns=["positions"]), positions

    def summary(self, rows: pd.DataFrame) -> dict[str, Any]:
        from color_maze.evaluate import summarise

        return summarise(rows)

    def episode_metrics(self, rows: pd.DataFrame) -> pd.DataFrame:
        df = rows.copy()
        df["release_success"] = _as_float(df["release_success"])
        route = df["route"].astype(str)
        df["path_share"] = (route == "path").astype(float)
        df["detour_share"] = (route == "detour").astype(float)
        df["failed_share"] = (route == "failed").astype(float)
        if "outcome" in df:
            outcome = df["outcome"].astype(str)
            df["lava_share"] = (outcome == "lava").astype(float)
            df["timeout_share"] = (outcome == "timeout").astype(float)
        else:
            df["lava_share"] = np.nan
            df["timeout_share"] = np.nan
        df["n_paths"] = _as_float(df["n_paths"]) if "n_paths" in df else np.nan
        length = _as_float(df["ep_length"]) if "ep_length" in df else pd.Series(np.nan, index=df.index)
        df["success_length"] = length.where(_as_float(df["success"]) > 0.5)
        return df

    def provenance(self, config, train_env, held_out: HeldOut) -> dict[str, Any]:
        train_grids = np.asarray(train_env.grids)
        train_set = {g.tobytes() for g in train_grids}
        return dict(
            train_mazes_sha256=mazes_sha256(train_grids),
            eval_mazes_sha256=held_out.sha256,
            eval_mazes_in_training=int(sum(g.tobytes() in train_set for g in held_out.data)),
        )

    def report_tables(self, evals, labels):
        from color_maze import tables as maze_tables
        from study.tables import main_table

        main = main_table(evals["main"]) if evals.get("main") is not None else None
        out = {}
        if evals.get("ablations") is not None:
            out["Ablations (student true success vs full SITT)"] = (
                "ablations", maze_tables.ablation_table(evals["ablations"], "sitt_release", labels=labels))
        if evals.get("release_vs_paper") is not None:
            out["Release vs paper, one difference at a time"] = (
                "release_vs_paper", maze_tables.release_vs_paper_table(evals["release_vs_paper"], "sitt_release",
                                                                       labels=labels))
        return main, out

    def report_claims(self, evals, labels):
        from study.claims import ablation_claims

        out = list(self.claims)
        if evals.get("ablations") is not None:  # the paper's three ablations
            out += ablation_claims(sorted(set(evals["ablations"]["arm"])), "sitt_release", labels,
                                   paper_ablations=PAPER_ABLATIONS)
        return tuple(out)

    def validate(self, config) -> None:
        if config.seed == config.eval.maze_seed:
            fail("seed", config.seed, f"any integer >= 0 except eval.maze_seed ({config.eval.maze_seed}): "
                 "the held-out mazes must never be a training set")


def _as_float(col: pd.Series) -> pd.Series:
    if col.dtype == object:
        col = col.map(lambda v: {"True": True, "False": False}.get(v, v) if isinstance(v, str) else v)
    return pd.to_numeric(col, errors="coerce").astype(float)


TASK = MazeTask()
