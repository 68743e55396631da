"""MiniGrid's lava envs as a task of the study (:mod:`study.task`): configs, held-out levels, evaluation, metrics,
arms, profiles, experiments and claims.

The env is MiniGrid's own (the ``minigrid`` package, pinned in ``pyproject.toml``); the teacher sees the full grid
(``FullyObsWrapper``), the student MiniGrid's 7 x 7 egocentric view with occlusion (:mod:`minigrid_lava.views`).
Everything the study knows about it is here; the env wrappers are :mod:`minigrid_lava.env`, the evaluation
:mod:`minigrid_lava.evaluate`, the figures :mod:`minigrid_lava.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from minigrid_lava.env import LAVA_ENVS  # the envs this task accepts: MiniGrid's lava envs
from study.claims import Claim
from study.config import ImitationConfig, PPOConfig, check_int, fail
from study.presets import COMMON_ARMS, Profile
from study.task import HeldOut, Metric, TableMetric, Task, arrays_sha256

DEFAULT_ENV_ID = "MiniGrid-LavaCrossingS9N1-v0"
#: MiniGrid's agent_view_size must be odd and >= 3; 15 covers the largest lava grid (11 x 11) from any cell
VIEW_SIZES = (3, 5, 7, 9, 11, 13, 15)
#: the action spaces a training env may have: MiniGrid's 7 actions, or its first 3 (left, right, forward: the only
#: ones that change anything in a lava env; minigrid_lava.env.NavigationActions)
ACTION_COUNTS = (3, 7)

# ------------------------------------------------------------------------------------------------------- configs


@dataclass
class MiniGridEnvConfig:
    """The training env: ``n_envs`` copies of MiniGrid's ``env_id`` (:func:`minigrid_lava.env.make_vec_env`), in SB3's
    ``DummyVecEnv`` (``vec_env="dummy"``) or ``SubprocVecEnv`` (``"subproc"``); env ``i`` of a run with seed ``k``
    draws its levels from its own stream (:func:`minigrid_lava.env.train_stream_seed`).

    ``view_size``: the student's view, MiniGrid's ``agent_view_size`` (odd, 3 to 15; MiniGrid's default 7). The
    teacher's observation does not depend on it. ``actions``: the policies' action space, MiniGrid's 7 actions or
    its first 3 (left, right, forward; :class:`minigrid_lava.env.NavigationActions`): the other 4 do nothing in a
    lava env. The held-out evaluation runs MiniGrid's own env either way (the 3 kept actions keep their numbers).

    Defaults: ``MiniGrid-LavaCrossingS9N1-v0`` (one lava river with one gap, 9 x 9 grid, MiniGrid's 7 x 7 view):
    of MiniGrid's lava envs, the smallest in which the partial view matters. In the probe
    (``python -m minigrid_lava.probes``; numbers in ``minigrid_lava/README.md``) a perfect memoryless imitator of
    the privileged shortest-path policy succeeds on every LavaGap level, but on 0.89 of the S9N1 levels (the rest
    loop until the step limit), while the larger crossings add coverage problems on top. 16 envs: twice rl-zoo's 8
    for MiniGrid, so that a roll-out of 128 steps holds 2048 samples (SB3's default roll-out size). ``dummy``: the
    study runs one training per core, so sub-processes only add inter-process traffic (measured: 1500 vs 1190
    env-steps/s of random actions, 16 envs, on the loaded machine).
    """

    env_id: str = DEFAULT_ENV_ID
    n_envs: int = 16
    vec_env: str = "dummy"
    view_size: int = 7
    actions: int = 7

    def validate(self) -> "MiniGridEnvConfig":
        from minigrid_lava.env import VEC_ENVS  # noqa: PLC0415

        if self.env_id not in LAVA_ENVS:
            fail("env.env_id", self.env_id, ", ".join(LAVA_ENVS))
        check_int("env.n_envs", self.n_envs, 1)
        if not isinstance(self.view_size, int) or isinstance(self.view_size, bool) or self.view_size not in VIEW_SIZES:
            fail("env.view_size", self.view_size, f"an odd integer in 3-15 ({', '.join(map(str, VIEW_SIZES))})")
        if self.vec_env not in VEC_ENVS:
            fail("env.vec_env", self.vec_env, ", ".join(VEC_ENVS))
        if not isinstance(self.actions, int) or isinstance(self.actions, bool) or self.actions not in ACTION_COUNTS:
            fail("env.actions", self.actions, f"{' or '.join(map(str, ACTION_COUNTS))} (MiniGrid's first actions)")
        return self


@dataclass
class MiniGridEvalConfig:
    """The held-out evaluation: ``n_levels`` level seeds drawn from ``level_seed``
    (:func:`minigrid_lava.env.held_out_level_seeds`, a stream no training env draws from), one first episode per
    level with deterministic actions up to MiniGrid's own step limit (:mod:`minigrid_lava.evaluate`).

    ``level_seed`` is the evaluation's own seed, the same for every arm and seed of a study. ``max_steps``: the
    episode limit, None = MiniGrid's own (``4 * size**2``: 324 on a 9 x 9 grid); a smaller limit ends the episodes
    earlier as timeouts (the smoke profile, whose untrained policies would walk every episode to the limit).
    Defaults: 100 levels (a success share to 0.01) and the seed 20250707 (a date, like the maze's 20250101: no
    meaning beyond being fixed).
    """

    n_levels: int = 100
    level_seed: int = 20250707
    max_steps: int | None = None

    def validate(self) -> "MiniGridEvalConfig":
        check_int("eval.n_levels", self.n_levels, 1)
        check_int("eval.level_seed", self.level_seed, 0)
        if self.max_steps is not None:
            check_int("eval.max_steps", self.max_steps, 1)
        return self


def held_out_seeds(config) -> np.ndarray:
    """The held-out level seeds of a run config (``eval.n_levels`` seeds of ``eval.level_seed``): the same for
    every arm and training seed."""
    from minigrid_lava.env import held_out_level_seeds  # noqa: PLC0415

    return held_out_level_seeds(config.eval.level_seed, config.eval.n_levels)


def levels_sha256(seeds: np.ndarray, layouts: np.ndarray) -> str:
    """The fingerprint of a set of levels: its seeds (int64) and the first observation of each (the full grid with
    the agent, uint8), :func:`study.task.arrays_sha256`."""
    return arrays_sha256(np.asarray(seeds, dtype=np.int64), np.asarray(layouts, dtype=np.uint8))


# ---------------------------------------------------------------------------------------------------------- arms

#: the arms of the main experiment: those every task shares (study.presets.COMMON_ARMS)
ARMS = dict(COMMON_ARMS)
MAIN_ARMS = ("without_alignment", "bc", "dagger", "sitt_release", "sitt_paper", "hlrl", "dwbc", "cosil")
#: the tuning experiment: the probes that choose the default profile, on study.task.TUNING_SEEDS only (never
#: reported); each probe a tagged copy (``python -m study.sweep --experiment minigrid_tuning --seeds 100-104 --tag
#: <probe> --set ...``)
TUNING = "minigrid_tuning"
EXPERIMENTS: dict[str, tuple[str, ...]] = {
    "minigrid_main": MAIN_ARMS,
    TUNING: ("plain_teacher", "without_alignment", "bc", "dagger", "sitt_release", "sitt_paper"),
}

# ------------------------------------------------------------------------------------------------------ profiles

#: PPO for MiniGrid: rl-baselines3-zoo's MiniGrid entries (DoorKey, FourRooms: 128 steps per env, minibatches of
#: 64... here 256 to cut the per-minibatch overhead, 10 epochs, lr 2.5e-4, gamma 0.99, lambda 0.95, clip 0.2) with
#: a small entropy bonus 0.01 (the zoo's 0.0 relies on VecNormalize, which would change the observations the
#: student view is computed from)
MINIGRID_PPO = PPOConfig(n_steps=128, batch_size=256, n_epochs=10, learning_rate=2.5e-4, gamma=0.99, gae_lambda=0.95,
                         clip_range=0.2, ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5)

# PROVISIONAL (not tuned yet; to be tuned on seeds 100-104, minigrid_lava/README.md lists the probes). Sized for the
# 2-hour budget: learn() ran at 970-1180 env-steps per CPU-second for the six arms that train (without_alignment,
# sitt_release, sitt_paper, dwbc, hlrl, cosil; 10240 steps each at seed 100: `python -m minigrid_lava.probes
# throughput`), so a
# 4e5-step training is about 400 CPU-s; 5 seeds x 6 trainings = 12,000 core-s plus evaluations, BC and DAgger
# (about 1,000 core-s) = about 1.8 h on 2 idle cores (the loaded machine ran at half that speed in wall time).
DEFAULT_PROFILE = Profile(
    env=MiniGridEnvConfig(n_envs=16),
    ppo=MINIGRID_PPO,
    total_timesteps=400_000,
    switches=dict(align_epochs=20),
    eval=MiniGridEvalConfig(),
    imitation=ImitationConfig(
        bc_n_steps_per_env=256, bc_epochs=20, bc_batch_size=256, bc_lr=1e-3,
        dagger_iterations=5, dagger_n_steps_per_env=128, dagger_epochs=10, dagger_batch_size=256, dagger_lr=1e-3,
    ),
    description="PROVISIONAL (untuned): 16 envs x 128 steps, minibatch 256, 10 epochs, 20 align epochs, 4e5 steps",
)

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        env=MiniGridEnvConfig(n_envs=4),
        ppo=PPOConfig(n_steps=16, batch_size=32, n_epochs=1, learning_rate=2.5e-4, ent_coef=0.01),
        total_timesteps=2 * 4 * 16,
        switches=dict(align_epochs=2),
        eval=MiniGridEvalConfig(n_levels=4, max_steps=16),
        imitation=ImitationConfig(
            bc_n_steps_per_env=8, bc_epochs=2, bc_batch_size=None,
            dagger_iterations=2, dagger_n_steps_per_env=8, dagger_epochs=2, dagger_batch_size=None,
        ),
        description="seconds per run, for CI: 4 envs x 16 steps, 2 iterations, 1 epoch, 2 align epochs, 4 levels "
                    "of at most 16 steps",
    ),
    "default": DEFAULT_PROFILE,
}

# -------------------------------------------------------------------------------------------------------- claims

METRICS = (
    Metric("lava_share", "share of held-out levels ended in lava"),
    Metric("timeout_share", "share of held-out levels ended by the step limit"),
    Metric("steps", "episode length (steps)"),
    Metric("return", "episode return"),
    Metric("success_steps", "length of the successful episodes"),
)

#: fixed before any run of the task (the maze's claims g and e, asked of MiniGrid); :meth:`MiniGridTask.report_claims`
#: reports them once the task has runs
CLAIMS: tuple[Claim, ...] = (
    Claim("mg:g", "MiniGrid: SITT's student (release recipe) beats the BC, DAgger and without-alignment students",
          "minigrid_main", "sitt_release", "student", "success", kind="better",
          others=("bc", "dagger", "without_alignment"), source="paper Sec. 5 (baselines), asked of MiniGrid"),
    Claim("mg:g'", "MiniGrid: SITT's student (paper recipe) beats the BC, DAgger and without-alignment students",
          "minigrid_main", "sitt_paper", "student", "success", kind="better",
          others=("bc", "dagger", "without_alignment"), source="paper Sec. 5 (baselines), asked of MiniGrid"),
    Claim("mg:teacher", "MiniGrid: the plain teacher (full grid) reaches the goal", "minigrid_main",
          "without_alignment", "teacher", "success", source="study: the task is learnable in the budget"),
)


# --------------------------------------------------------------------------------------------------------- task


class MiniGridTask(Task):
    """MiniGrid's lava envs: the teacher sees the whole grid, the student MiniGrid's own 7 x 7 egocentric view."""

    name = "minigrid_lava"
    env_config = MiniGridEnvConfig
    eval_config = MiniGridEvalConfig
    metrics = METRICS
    table_metrics = (
        TableMetric("lava_share", "lava"),
        TableMetric("steps", "steps"),
        TableMetric("return", "return"),
        TableMetric("timeout_share", "timeout", ci=False),
    )
    arms = ARMS
    profiles = PROFILES
    experiments = EXPERIMENTS
    claims = ()  # CLAIMS are reported once runs exist (report_claims), so that no run leaves the claims table alone
    info_keywords = ("success", "lava")
    episode_column = "episode"
    sweeps = ()  # PROVISIONAL profile: no sweep plan until it is tuned (DEFAULT_PROFILE's comment; README.md)
    tuning_experiments = (TUNING,)
    main_title = "MiniGrid (LavaCrossing): teacher on the full grid, student on MiniGrid's 7 x 7 view"
    main_note = ("Shares are over the held-out levels of each run (success + lava + timeout = 1); steps and return "
                 "are means over all held-out episodes (return: MiniGrid's 1 - 0.9 steps / max_steps on success).")
    main_labels = {"lava": "lava share", "steps": "steps", "return": "return", "timeout": "timeout share"}
    notebooks = {"minigrid_main": "70_minigrid", TUNING: "70_minigrid"}
    student_label = "MiniGrid's 7 x 7 egocentric view (walls occlude), flattened"

    def train_env(self, config):
        from minigrid_lava.env import make_vec_env  # noqa: PLC0415

        e = config.env
        return make_vec_env(e.env_id, e.n_envs, config.seed, e.vec_env, view_size=e.view_size,
                            actions=None if e.actions == 7 else e.actions)

    def held_out(self, config) -> HeldOut:
        from minigrid_lava.evaluate import level_layouts  # noqa: PLC0415

        seeds = held_out_seeds(config)
        layouts = level_layouts(config.env.env_id, seeds)
        return HeldOut(dict(seeds=seeds, layouts=layouts), len(seeds), levels_sha256(seeds, layouts))

    def evaluate(self, config, act):
        from minigrid_lava.evaluate import evaluate  # noqa: PLC0415

        rows, trajectories = evaluate(act, config.env.env_id, held_out_seeds(config), config.env.view_size,
                                      config.eval.max_steps)
        return rows, trajectories

    def summary(self, rows: pd.DataFrame) -> dict[str, Any]:
        from minigrid_lava.evaluate import summarise  # noqa: PLC0415

        return summarise(rows)

    def episode_metrics(self, rows: pd.DataFrame) -> pd.DataFrame:
        from study.tables import as_float  # noqa: PLC0415

        df = rows.copy()
        df["lava_share"] = as_float(df["lava"])
        df["timeout_share"] = as_float(df["timeout"])
        df["steps"] = pd.to_numeric(df["steps"], errors="coerce").astype(float)
        df["return"] = pd.to_numeric(df["return"], errors="coerce").astype(float)
        df["success_steps"] = df["steps"].where(as_float(df["success"]) > 0.5)
        return df

    def provenance(self, config, train_env, held_out: HeldOut) -> dict[str, Any]:
        """The held-out levels' fingerprint and how many distinct layouts they hold, and the training envs' level
        streams (seeds, and the levels each env started)."""
        from minigrid_lava.oracle import layout_of  # noqa: PLC0415
        from minigrid_lava.views import unflatten_full  # noqa: PLC0415

        layouts = held_out.data["layouts"]
        images = unflatten_full(layouts, train_env.width, train_env.height)
        distinct = {layout_of(im).tobytes() for im in images}
        streams = train_env.get_attr("stream_seed")
        started = train_env.get_attr("levels")
        return dict(
            env_id=config.env.env_id,
            eval_levels_sha256=held_out.sha256,
            eval_distinct_layouts=len(distinct),
            train_stream_seeds=[int(s) for s in streams],
            train_levels_started=int(sum(started)),
        )

    def report_claims(self, evals, labels):
        return CLAIMS if evals.get("minigrid_main") is not None else ()


TASK = MiniGridTask()
