"""The flight task's design (data, no adapter code): its env and evaluation configs, student views, arms, profiles,
experiments, metrics and claims, the premise's arms and claims, and the design comments that record how each was
chosen; :mod:`fov_flight.task` is the adapter that points :class:`~fov_flight.task.FlightTask` at them.

The analogue of the paper's quadrotor experiment (``shared/spec/robot_analogues.md`` section 1): the teacher sees the
K nearest pillars, the student only a depth scan over a 90-degree field of view centred on its heading; translation
does not depend on the heading, so the plain teacher need not point the camera where it flies.

Actions are continuous (a ``Box`` of 3: world-frame acceleration and yaw rate), so the teacher's PPO is a diagonal
Gaussian policy (SB3's ``MlpPolicy``) and SITT's Gaussian switches apply (the paper recipe's KL update term reaching
the shared log-std, ``kl_grad_log_std``, see :mod:`sitt.config`).

The default profile (:data:`DEFAULT_PROFILE`: 8 pillars, top speed 2 m/s, 7.86M steps, 5 PPO epochs, SITT's KL
update weight 0.1) was chosen on the tuning seeds 100-104; its comment records the search.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from fov_flight.config import FlightConfig
from sitt.checks import check_int, fail, is_int, is_number
from study.task import Claim
from study.config import ImitationConfig, PPOConfig
from study.kinds.fixed_teacher import premise_arms, premise_claims
from study.presets import (
    CLIPPED_BASELINE_ARMS, COMMON_ARMS, MAIN_ARMS as PAPER_MAIN_ARMS, NO_ALIGN_TEACHER, AlignSchedules, ArmSpec,
    Profile, SelectionRule, SITTGrid, beats_baselines_claims, budget_claims, BudgetPlan, hold_untuned,
    equal_budget_arms, twice_budget_arms,
)
from study.task import Metric, SweepPlan, TableMetric

__all__ = ["NAME", "MAIN", "TUNING", "GRID_EXPERIMENT", "BUDGET_EXPERIMENT", "BUDGET", "PREMISE_EXPERIMENT",
           "FlightEnvConfig",
           "FlightEvalConfig", "STUDENT_VIEWS", "ARMS", "DEFAULT_PROFILE", "PROFILES", "GRID", "SELECTION",
           "SITT_TUNED_FROM", "TUNED_BASELINES", "SCHEDULES", "ADOPTED_SCHEDULES", "BUDGET_SITT_ARM",
           "MAIN_ARMS", "EXPERIMENTS", "METRICS", "TABLE_METRICS", "CLAIMS", "SWEEPS", "TUNING_EXPERIMENTS",
           "PREMISE_ARMS", "PREMISE_ARMS_ORDER", "PREMISE_CLAIMS", "PREMISE_METRICS", "HLRL_RUN", "POLICY_KWARGS",
           "STUDENT_LABEL", "MAIN_TITLE", "MAIN_NOTE", "MAIN_LABELS", "NOTEBOOKS"]

#: the task's registered name (``study.registry.TASKS``)
NAME = "fov_flight"
#: the main experiment's name (experiment names are unique over all tasks)
MAIN = "fov_flight_main"
#: the tuning experiment: the probes that choose the default profile, on study.task.TUNING_SEEDS only (never
#: reported); each probe a tagged copy (``python -m study.sweep --experiment fov_flight_tuning --seeds 100-104 --tag
#: <probe> --set ...``)
TUNING = "fov_flight_tuning"
GRID_EXPERIMENT = "fov_flight_grid"

# ------------------------------------------------------------------------------------------------------- configs


@dataclass(frozen=True)
class FlightEnvConfig(FlightConfig):
    """The training env: ``FovFlightEnv(n_envs, flight, seed=<run seed>, pool_size=pool_size)``.

    Every field of :class:`fov_flight.config.FlightConfig` (world, body, views, reward; defaults and their sources
    there) plus the two of the training env, so that each is one dotted name (``env.fov_deg``, ``env.n_envs``) for
    presets and ``--set``. The training worlds are a pool of ``pool_size`` worlds drawn from the run's seed
    (``SeedSequence(seed).spawn(2)[0]``, :mod:`fov_flight.env`); the held-out worlds come from the evaluation
    config's own seed (:class:`FlightEvalConfig`) with the same world geometry.

    :param n_envs: flights stepped together (default 256: the issue's probe).
    :param pool_size: training worlds of a run; None = ``max(1000, n_envs)`` (the env's default,
        :data:`fov_flight.env.DEFAULT_POOL_SIZE`).
    """

    n_envs: int = 256
    pool_size: int | None = None

    @property
    def flight(self) -> FlightConfig:
        """The task itself (world, body, views, reward) without the training-env fields."""
        return FlightConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(FlightConfig)})

    def validate(self, prefix: str = "env.") -> FlightEnvConfig:
        check_int(f"{prefix}n_envs", self.n_envs, 1)
        if self.pool_size is not None:
            check_int(f"{prefix}pool_size", self.pool_size, 1)
        super().validate(prefix)
        return self


@dataclass
class FlightEvalConfig:
    """The held-out evaluation: ``generate_worlds(n_worlds, flight, seed=world_seed)`` (the run's world geometry), one
    deterministic episode per world (:func:`fov_flight.evaluate.evaluate`, at most ``time_limit`` steps).

    :param n_worlds: held-out worlds (default 200: the issue asks for at least 100; 200 halves the per-seed sampling
        error of a success rate near 0.5 to about 0.035).
    :param world_seed: their own seed, the same for every arm and seed of a study and never a training seed (checked by
        :meth:`fov_flight.task.FlightTask.validate`). Default 20250311, an arbitrary fixed number.
    :param n_trajectories: how many of the held-out flights (worlds ``0 .. n_trajectories - 1``) a run stores
        (positions and headings, float32, in ``positions.npz``) for the figures; the rows cover every world.
        Default 16 keeps a run's arrays near 100 kB (200 x 201 x 3 floats per policy would be about 1 MB).
    :param min_speed: the velocity angle counts only steps faster than this (m/s); default
        :data:`fov_flight.evaluate.MIN_SPEED` (0.5, a sixth of the top speed).
    """

    n_worlds: int = 200
    world_seed: int = 20250311
    n_trajectories: int = 16
    min_speed: float = 0.5

    def validate(self) -> FlightEvalConfig:
        check_int("eval.n_worlds", self.n_worlds, 1)
        check_int("eval.world_seed", self.world_seed, 0)
        if not is_int(self.n_trajectories) or not 0 <= self.n_trajectories <= self.n_worlds:
            fail("eval.n_trajectories", self.n_trajectories, f"an integer in [0, eval.n_worlds = {self.n_worlds}]")
        if not is_number(self.min_speed) or self.min_speed < 0:
            fail("eval.min_speed", self.min_speed, "a finite number >= 0 (m/s)")
        return self


# -------------------------------------------------------------------------------------------------- student views

#: the control views that bound the effect of the field of view (the task's design: most of the probe's gap came from
#: the scan representation, not the field of view; these two say which part is which)
STUDENT_VIEWS = {
    "scan360": "own state and a depth scan all round (360 degrees, the standard scan's angular spacing)",
    "teacher": "the teacher's own observation (own state and the K nearest pillars)",
}

# ---------------------------------------------------------------------------------------------------------- arms

ARMS: dict[str, ArmSpec] = dict(COMMON_ARMS)
ARMS.update({
    # the paper's recipe as the paper runs it on its robot tasks: a reward PENALTY with lambda1 = 0.05 (the full
    # method's value in the paper's ablation table; robot_analogues.md section 2), the KL update term with lambda2 =
    # 0.1 (chosen on the tuning seeds, DEFAULT_PROFILE's comment; our default 1.0 is not the paper's), its gradient
    # reaching the shared log-std (kl_grad_log_std, the paper recipe's default)
    "sitt_paper": ArmSpec(
        "sitt", "paper", dict(reward_coef=0.05, update_weight=0.1),
        description="SITT as the paper describes it on its robot tasks (-0.05 KL penalty, KL update term of weight "
                    "0.1 whose Gaussian gradient reaches the log-std)",
    ),
    "bc_scan360": ArmSpec(
        "bc", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment", student_view="scan360",
        description="control: BC of the without_alignment teacher with a 360-degree scan (no field-of-view limit)",
    ),
    "bc_teacher_obs": ArmSpec(
        "bc", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment", student_view="teacher",
        description="control: BC of the without_alignment teacher on the teacher's own observation",
    ),
})

# ------------------------------------------------------------------------------------------------------ profiles

#: Flight PPO settings shared by every profile: SB3's defaults for continuous control (ent_coef 0, not the maze
#: release's 0.3 for a Discrete policy), gamma/gae/clip/grad-norm as SB3; lr 5e-4 from the issue's probe.
_PPO = dict(learning_rate=5e-4, ent_coef=0.0, gamma=0.99, gae_lambda=0.95, clip_range=0.2, vf_coef=0.5,
            max_grad_norm=0.5)

#: every imitation student's encoder: a fresh MLP with the teacher's hidden sizes (SB3's MlpPolicy: [64, 64]), the
#: network SITT's student has on the scan views; also for the `teacher` control view, whose student would otherwise
#: start as a copy of the teacher (sitt.networks.student_encoder) and so measure nothing
_STUDENT_NET_ARCH = (64, 64)

#: the world and body of every profile (the tuning search below): 8 pillars, all of them in the teacher's view
#: (k_nearest 8), top speed 2 m/s; the rest as :class:`fov_flight.config.FlightConfig`'s defaults
_WORLD = dict(n_pillars=8, k_nearest=8, max_speed=2.0)

# The default profile, fixed by the tuning search on seeds 100-104 (experiment fov_flight_tuning and its tagged copies,
# records under results/runs/fov_flight_tuning*, table results/tables/fov_flight_tuning.csv, notebook 50), before any
# run of fov_flight_main. Held-out teacher success of the plain teacher (plain_teacher arm) unless said otherwise.
# 1. FlightConfig's defaults (12 pillars, K 12, 3 m/s), 256 envs x 128 steps, minibatch 8192, 10 epochs, lr 5e-4,
#    1.97M steps, seeds 100-104: 0.21, 0.14, 0.14, 0.17, 0.14 (collisions end most flights); 4x steps (7.86M),
#    seed 100: 0.195; 4x steps at 5 epochs, seeds 100-101: 0.255, 0.215.
# 2. One change at a time, seed 100, 1.97M steps: k_nearest 8 0.175, min_passage_width 1.5 0.165, lr 1e-3 0.20,
#    collision_penalty 25 0.01 (it learns to stop), gamma 0.995 0.15, max_speed 2 0.27, 8 pillars (K 8) 0.34; the
#    last two together 0.415. Diagnosis of the 7.86M-step default teacher: it flies at 2.6 m/s and crashes into
#    pillars at x ~ 12 m (149 of 200 flights), never into a wall.
# 3. 8 pillars, K 8, 2 m/s (_WORLD), 7.86M steps, 10 epochs, seeds 100-104: 0.91, 0.92, 0.845, 0.87, 0.925 (161-175
#    s a run, 2 jobs). Seed 100 with every tuning arm: without_alignment teacher 0.93 / student 0.185, bc 0.265,
#    bc_scan360 0.38, bc_teacher_obs 0.60 (the field of view costs BC 0.12 of the 360-degree scan's success),
#    sitt_paper (lambda2 1.0) teacher 0.635 / student 0.25, sitt_release teacher 0.00 / student 0.00 (the release's
#    +1.9 x KL bonus outweighs the flight's reward: ~0.2 a step of progress); 255-293 s a long run.
# 4. The budget: at 10 epochs the main table (6 long arms x 10 seeds at ~250-290 s, 2 jobs) takes ~2.3 h, over the
#    issue's 2 hours; PPO's update dominates a step, so 5 epochs: seeds 100-101: 0.87, 0.82 (96-105 s a run);
#    seed 100: without_alignment teacher 0.885 / student 0.19 (174 s), bc 0.30, bc_scan360 0.33; sitt_paper with
#    lambda2 1.0: teacher 0.335 / student 0.195 (197 s); lambda2 0.1: teacher 0.765 / student 0.265 (193 s).
# Chosen: _WORLD, 5 epochs, 240 iterations (7,864,320 steps: the issue probe's order, 7M), SITT's KL update weight
# lambda2 = 0.1 for the paper recipe (sitt_paper; its 1.0 left the teacher at 0.335), the alignment schedule of every
# SITT arm 5 full-batch epochs on a quarter of each roll-out (align_subset 0.25, not probed further). The release
# recipe is run as released (its feature-L1 update weight 0.01, its +1.9 bonus): its failure at seed 100 is a result,
# not a reason to change it. Budget: per seed ~6 long runs of 175-200 s plus ~20 s of imitation, ~96 min for 10
# seeds on 2 cores.
#
# Throughput behind the early budget (env steps per CPU second, torch 1 thread, 2 PPO iterations = 65,536 steps per
# arm, 10 epochs, the machine shared with another sweep): plain PPO 13.3k, without_alignment 10.2k, sitt_paper 9.6k,
# sitt_release 8.9k, hlrl 9.0k, dwbc 9.1k; PPO's update (10 epochs x 4 minibatches) took 3.7 of plain PPO's 4.5 CPU
# s, the roll-outs 0.8. Measured with `m = study.kinds.sitt.make_sitt(c, TASK.train_env(c)); m.learn(2 *
# c.rollout_size)` for `c = preset("fov_flight_main", arm, 0, "default")`, timing `time.process_time()`. Since then a
# run's provenance records its own env_steps_per_s (plain PPO 46-50k at 10 epochs, 77-82k at 5, on 2 busy cores).
DEFAULT_PROFILE = Profile(
    env=FlightEnvConfig(n_envs=256, **_WORLD),
    ppo=PPOConfig(n_steps=128, batch_size=8192, n_epochs=5, **_PPO),
    total_timesteps=240 * 256 * 128,
    switches=dict(align_epochs=5, align_subset=0.25),
    eval=FlightEvalConfig(),
    imitation=ImitationConfig(
        bc_n_steps_per_env=200, bc_epochs=20, bc_batch_size=1024, bc_lr=1e-3,
        dagger_iterations=5, dagger_n_steps_per_env=64, dagger_epochs=10, dagger_batch_size=1024, dagger_lr=1e-3,
        student_net_arch=list(_STUDENT_NET_ARCH),
    ),
    description="8 pillars, top speed 2 m/s; 256 envs x 128 steps, minibatch 8192, 5 epochs, lr 5e-4, 5 align "
                "epochs on 25% of each roll-out, 240 iterations (7,864,320 steps); tuned on seeds 100-104",
)

PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        env=FlightEnvConfig(n_envs=16, pool_size=32, **_WORLD),
        ppo=PPOConfig(n_steps=8, batch_size=None, n_epochs=2, **_PPO),
        total_timesteps=3 * 16 * 8,
        switches=dict(align_epochs=2),
        eval=FlightEvalConfig(n_worlds=8, n_trajectories=2),
        imitation=ImitationConfig(
            bc_n_steps_per_env=8, bc_epochs=2, bc_batch_size=None,
            dagger_iterations=2, dagger_n_steps_per_env=8, dagger_epochs=2, dagger_batch_size=None,
            student_net_arch=list(_STUDENT_NET_ARCH),
        ),
        description="seconds per run, for CI: 16 envs x 8 steps, 3 iterations, 2 epochs, 8 held-out worlds",
    ),
    "default": DEFAULT_PROFILE,
}

# --------------------------------------------------------------------------------------------------- experiments

# SITT's coefficients searched, not assumed: the flight grid, fixed in this commit before any of its runs
# (fair_comparison.md section 2; the drawer's grid and its reasons are in occluded_drawer/design.py). Units: the plain
# teacher's per-step env reward is about 0.10 / 0.16 / 0.23 at 10 / 50 / 100% of training and its KL to the proxy
# about 0.2 / 1.1 / 2.7; the paper-recipe SITT teacher pulls its KL to 0.03-0.07, where 0.05 x KL is 1-2% of its
# reward (results/tables/fov_flight_main_units.csv). A hint on tuning seed 100 (raw means, lambda2 0.1): lambda1 0.5
# kept the teacher at 0.78 success, lambda1 2 dropped it to 0.19.
#   python -m study.sweep --experiment fov_flight_grid --profile default --seeds 100-102 --jobs 2
# SITT (paper recipe, the profile's alignment schedule) with executed-action distances at lambda1 x lambda2 (15
# configurations) and the executed-action switch on the imitation baselines (CLIPPED_BASELINE_ARMS), seeds 100-102.
# Cost estimate (the main sweep's timings: SITT and cosil about 230 s a run, BC/DAgger seconds): 45 + 3 + 6 trainings
# at 2 jobs, about 105 minutes of wall time on 2 idle cores. Selection: SELECTION, the same rule as the drawer's; the
# chosen configuration becomes sitt_tuned of fov_flight_main (seeds 0-9); a baseline adopts the clipped distance when
# its student gains more than 0.02 on the tuning seeds.
GRID = SITTGrid(lambda1=(0.05, 0.2, 0.5, 1.0, 2.0), lambda2=(0.0, 0.01, 0.1), action_distance=("clipped",))
SELECTION = SelectionRule(teacher_floor=0.8, min_seeds=3, tie=0.01, reference_arm="without_alignment")
ARMS.update(CLIPPED_BASELINE_ARMS)
ARMS.update(GRID.arms())

#: the main table's arms: the eight of the paper's table (study.presets.MAIN_ARMS) and the two view controls
MAIN_ARMS = (*PAPER_MAIN_ARMS, "bc_scan360", "bc_teacher_obs")
EXPERIMENTS: dict[str, tuple[str, ...]] = {
    MAIN: MAIN_ARMS,
    # the tuning probes: the plain teacher (the PPO schedule), without_alignment (the alignment), the two SITT arms,
    # and BC with each view (whether the field of view, not the scan representation, is what limits the student)
    TUNING: ("plain_teacher", "without_alignment", "sitt_paper", "sitt_release", "bc", "bc_scan360", "bc_teacher_obs"),
    # the coefficient grid and the executed-action switch on the baselines (the design above), tuning seeds only
    GRID_EXPERIMENT: ("without_alignment", "without_alignment_clipped", "bc", "bc_clipped", "dagger", "dagger_clipped",
                      "cosil", "cosil_clipped", *GRID.arms()),
}

# ------------------------------------------------------------------------------------------------------- metrics

METRICS = (
    Metric("collision", "share of held-out flights ended by a collision"),
    Metric("timeout", "share of held-out flights ended by the time limit"),
    Metric("velocity_angle_deg", "mean angle between heading and velocity (degrees)"),
    Metric("pillars_in_view", "mean pillars in the field of view and range"),
    Metric("path_length", "path length per flight (m)"),
    Metric("steps", "flight length (steps)"),
    Metric("success_steps", "length of the successful flights (steps)"),
    Metric("ep_return", "return per flight"),
)

# -------------------------------------------------------------------------------------------------------- claims

_SOURCE = "paper Table 1 (quadrotor)"

CLAIMS: tuple[Claim, ...] = (
    # the paper's table: SITT's student beats each baseline's (PoI CI above 0.5), one claim per baseline
    *beats_baselines_claims("fov:g:", "Flight: SITT's student (paper recipe) beats the {arm} student", MAIN,
                            "sitt_paper", _SOURCE),
    # the paper's perception metrics: the SITT teacher points the camera where it flies and keeps pillars in view
    Claim("fov:p1", "Flight: SITT's teacher (paper recipe) flies with a smaller velocity angle than the plain teacher",
          MAIN, "sitt_paper", "teacher", "velocity_angle_deg", kind="better", direction="low",
          others=("without_alignment",), source="paper Sec. 5 (quadrotor: velocity angle)"),
    Claim("fov:p2", "Flight: SITT's teacher (paper recipe) keeps more pillars in view than the plain teacher",
          MAIN, "sitt_paper", "teacher", "pillars_in_view", kind="better", others=("without_alignment",),
          source="paper Sec. 5 (quadrotor: obstacles in view)"),
    # the release's recipe transported (the maze's headline arm): the same comparison against the imitation baselines
    Claim("fov:g'", "Flight: SITT's student (release recipe) beats the BC, DAgger and without-alignment students",
          MAIN, "sitt_release", "student", "success", kind="better", others=("bc", "dagger", "without_alignment"),
          source="study: the release recipe on the flight task"),
    # the analogue's design: the field of view, not only the scan representation, limits the student
    Claim("fov:v1", "Flight: a BC student with a 360-degree scan beats the BC student with the 90-degree view",
          MAIN, "bc_scan360", "student", "success", kind="better", others=("bc",),
          source="study: view controls (a BC student with a 360-degree scan)"),
)

# ------------------------------------------------------------------------------------------------------- premise

# The premise (fair_comparison.md section 4), shown apart from SITT: can a student imitate, from its 90-degree scan, a
# FIXED teacher that keeps the pillars in view better than one that does not? BC/DAgger students of the fixed teachers
# (fov_flight/premise.py: FIXED_TEACHERS, the factories), seeds 0-9 (reported: nothing is tuned here).
PREMISE_EXPERIMENT = "fov_flight_premise"
#: the run whose student is the ``hlrl_student`` teacher: ``<root>/<experiment>/<arm>/seed_<seed>``
HLRL_RUN = ("fov_flight_main", "hlrl")

_TEACHER_WORDS = {
    "scripted_along_velocity": "the scripted pilot with its heading turned along the velocity (view-keeping)",
    "scripted_fixed": "the scripted pilot with its start heading held (the camera often sideways; same trajectories)",
    "hlrl_student": "the trained HLRL student of fov_flight_main/hlrl (same seed), acting on its own view",
}
_ARM_TEACHERS = {"view": "scripted_along_velocity", "hidden": "scripted_fixed", "hlrl": "hlrl_student"}

#: the premise arms: <algorithm> x <teacher>, the scripted pair first, the HLRL teacher (needs its run) last
PREMISE_ARMS_ORDER = ("premise_bc_view", "premise_bc_hidden", "premise_dagger_view", "premise_dagger_hidden",
                      "premise_bc_hlrl", "premise_dagger_hlrl")
PREMISE_ARMS = premise_arms(PREMISE_ARMS_ORDER, _ARM_TEACHERS, _TEACHER_WORDS, "90-degree scan")

#: fixed before the premise runs: the view-keeping pilot's student beats the heading-held pilot's, by DAgger and by BC
PREMISE_CLAIMS = premise_claims("fov:", "Flight", PREMISE_EXPERIMENT, "the view-keeping scripted pilot (heading along "
                                "the velocity) better than the heading-held one")

#: the per-seed metrics the premise table shows beside success (the task's perception metrics)
PREMISE_METRICS = ("velocity_angle_deg", "pillars_in_view")


ARMS.update(PREMISE_ARMS)
EXPERIMENTS[PREMISE_EXPERIMENT] = PREMISE_ARMS_ORDER
CLAIMS = CLAIMS + PREMISE_CLAIMS


# SITT at its selected coefficients (fixed in this commit, before any of its reported runs). SELECTION applied to the
# grid's runs on the tuning seeds 100-102 (study.grid.select over GRID; the table: results/tables/fov_flight_grid.csv).
# Seed 100 ran every configuration; seeds 101-102 ran the five whose teacher kept >= 0.8 of the plain teacher's
# success on seed 100 (the others kept <= 0.40 of it: each would need its teacher at >= 0.875 on both remaining seeds
# to reach the floor; their seeds 101-102 ran last, after this selection: on all three seeds their teachers keep at
# most 0.50 of the plain teacher's success and their students reach 0.07-0.25, so the selection stands):
#   lambda1 0.05, lambda2 0     teacher 0.72, student 0.20     lambda1 0.2, lambda2 0.1   teacher 0.80, student 0.27
#   lambda1 0.05, lambda2 0.01  teacher 0.85, student 0.29     lambda1 0.5, lambda2 0.1   teacher 0.81, student 0.25
#   lambda1 0.05, lambda2 0.1   teacher 0.78, student 0.28
# against the plain (without-alignment) teacher 0.88 and student 0.20 on the same seeds. The chosen configuration is
# lambda1 0.05, lambda2 0.01, executed-action (clipped) distances (lambda2 0.1 is within the 0.01 tie; the smaller
# lambda2 wins). The baselines keep raw distances (the switch changed none of their students by more than 0.02 on the
# tuning seeds: results/tables/fov_flight_grid_switch.csv). Seeds 0-9 of fov_flight_main:
#   python -m study.sweep --experiment fov_flight_main --profile default --seeds 0-9 --jobs 2 --arms sitt_tuned
SITT_TUNED_FROM = "sitt_l1_0.05_l2_0.01_clipped"
ARMS["sitt_tuned"] = dataclasses.replace(
    ARMS[SITT_TUNED_FROM], description="SITT (paper recipe) at the flight's selected coefficients: lambda1 = 0.05, "
    "lambda2 = 0.01, executed-action distances (the grid's selection on the tuning seeds)")
#: each baseline's reported arm for the tuned comparison (raw distances: the switch helped none on the tuning seeds)
TUNED_BASELINES = ("without_alignment", "bc", "dagger", "hlrl", "dwbc", "cosil")
EXPERIMENTS[MAIN] = EXPERIMENTS[MAIN] + ("sitt_tuned",)
_TUNED_SOURCE = _SOURCE + "; coefficients tuned on seeds 100-102"
CLAIMS = CLAIMS + (
    *beats_baselines_claims("fov:tuned:g:", "Flight: SITT's student (tuned coefficients) beats the {arm} student", MAIN,
                            "sitt_tuned", _TUNED_SOURCE, baselines=TUNED_BASELINES),
    Claim("fov:tuned:paper", "Flight: SITT's student at the tuned coefficients beats SITT's student at the paper's",
          MAIN, "sitt_tuned", "student", "success", kind="better", others=("sitt_paper",),
          source="this study (the grid's selection)"),
    Claim("fov:tuned:p1", "Flight: the tuned SITT teacher flies with a smaller velocity angle than the plain teacher",
          MAIN, "sitt_tuned", "teacher", "velocity_angle_deg", kind="better", direction="low",
          others=("without_alignment",), source="paper Sec. 5 (quadrotor: velocity angle)"),
    Claim("fov:tuned:p2", "Flight: the tuned SITT teacher keeps more pillars in view than the plain teacher",
          MAIN, "sitt_tuned", "teacher", "pillars_in_view", kind="better", others=("without_alignment",),
          source="paper Sec. 5 (quadrotor: obstacles in view)"),
)

# The alignment schedule for the selected configuration (fixed in this commit, before any of its runs; issue: "then
# the alignment schedule for the best configurations"): the profile's schedule (5 epochs on a quarter of each
# roll-out, Adam 1e-4) against the same with a 10x learning rate (1e-3), for sitt_tuned's configuration and for the
# without-alignment student, which the same phase aligns (equal effort). The release's 20 full-batch epochs on the
# whole roll-out are 16x the alignment's compute on this profile (32,768 samples a roll-out), too costly for a probe
# here. Tuning seeds 100-102 of GRID_EXPERIMENT:
#   python -m study.sweep --experiment fov_flight_grid --profile default --seeds 100-102 --jobs 2 --arms
#   <SCHEDULES' arms>
# Cost estimate: 6 trainings at about 250 s a run at 2 jobs: about 13 minutes of wall time on the 2 cores. Rule: the
# drawer's (study.grid.schedule_table; adopted above a 0.02 gain with the teacher floor kept; an adopted schedule adds
# a main arm run at seeds 0-9: sitt_tuned_align, without_alignment_align).
SCHEDULES = AlignSchedules(SITT_TUNED_FROM, schedules=("align_lr_1e-3",))
_SCHEDULE_ARMS = SCHEDULES.arms(ARMS)
ARMS.update(_SCHEDULE_ARMS)
EXPERIMENTS[GRID_EXPERIMENT] = EXPERIMENTS[GRID_EXPERIMENT] + tuple(_SCHEDULE_ARMS)
# The rule's reading on seeds 100-102 (results/tables/fov_flight_grid_schedules.csv): at align_lr 1e-3 sitt_tuned's
# configuration's student falls from 0.29 to 0.22 (teacher 0.85 -> 0.87) and the without-alignment student stays at
# 0.20 (+0.003): neither is adopted, so the flight's main experiment keeps the profile's schedule (no *_align arm).
ADOPTED_SCHEDULES: dict[str, str] = {}

# Every comparison at an equal budget (fair_comparison.md section 1), fixed before any of its runs. HLRL and COSIL as
# fov_flight_main runs them train their student as long as their teacher, on top of it: 15.7M env steps against
# SITT's 7.86M. BUDGET_EXPERIMENT puts them at SITT's budget (hlrl_eq, cosil_eq: the without_alignment_half teacher on
# 120 of the profile's 240 PPO iterations, the student's own PPO on the other 120; study.presets.equal_budget_arms),
# adds the no-teacher control (student_rl: PPO on the student's view alone, HLRL's asymmetric critic, 240 iterations)
# and, beside the 2x hlrl and cosil, SITT and the control at the same 2x (sitt_2x: BUDGET_SITT_ARM on 480 iterations,
# student_rl_2x). BUDGET_SITT_ARM, without_alignment, hlrl and cosil are fov_flight_main's runs, copied by the run
# store (same training). Seeds 0-9, as the main experiment. SITT's arm here is its best configuration, sitt_tuned (the
# grid's selection on the tuning seeds; no alignment schedule adopted), fixed before any run of this experiment
# (issue: "its best configuration if the calibration issue has landed"); sitt_paper stays in fov_flight_main.
#   python -m study.sweep --experiment fov_flight_budget --profile default --seeds 0-9 --jobs 2
# Cost estimate from fov_flight_main's provenance (train_s medians at 2 jobs: without_alignment 203 s, sitt_paper 221
# s, hlrl 222 s, cosil 232 s): per seed without_alignment_half ~100 s, hlrl_eq ~110 s, cosil_eq ~115 s, student_rl ~220
# s (hlrl's PPO less its KL term), sitt_2x ~440 s, student_rl_2x ~445 s: 6 trainings and ~1,430 run-seconds a seed,
# 60 trainings (and 40 copies) for 10 seeds, about 2 hours of wall time at 2 jobs on the 2 cores.
BUDGET_EXPERIMENT = "fov_flight_budget"
ARMS.update(equal_budget_arms())
BUDGET_SITT_ARM = "sitt_tuned"
ARMS.update(twice_budget_arms(ARMS[BUDGET_SITT_ARM]))
#: the design of BUDGET_EXPERIMENT (:attr:`study.task.Task.budget`: its table in the report and README)
BUDGET = BudgetPlan(BUDGET_EXPERIMENT, BUDGET_SITT_ARM)
EXPERIMENTS[BUDGET_EXPERIMENT] = BUDGET.arms
CLAIMS = CLAIMS + budget_claims("fov:", BUDGET_EXPERIMENT, BUDGET_SITT_ARM, "Flight: ", "7.86M env steps",
                                paper=_SOURCE)

# Equal tuning effort (fair_comparison.md section 2): SITT's coefficients were searched on the tuning seeds (the grid
# and its alignment schedule), the baselines' own settings were not, so a comparison the tuned SITT wins against BC,
# DAgger, HLRL, DWBC or COSIL reads "held (baseline untuned)" until that baseline gets the same number of tuning
# configurations (study.presets.hold_untuned; study.claims.HELD).
CLAIMS = hold_untuned(CLAIMS, ARMS, ("sitt_tuned", "sitt_2x"))

# ---------------------------------------------------------------------------------------------- the study's view

#: the main table's per-seed metrics beside success (:attr:`study.task.Task.table_metrics`)
TABLE_METRICS = (
    TableMetric("velocity_angle_deg", "velocity_angle"),
    TableMetric("pillars_in_view", "pillars_in_view"),
    TableMetric("collision", "collision", ci=False),
    TableMetric("path_length", "path_length", ci=False),
)
#: the design fixed before the main sweep: every main arm, seeds 0-9 (tuning: 100-104, DEFAULT_PROFILE's comment)
SWEEPS = (SweepPlan((MAIN,), None, "0-9"), SweepPlan((PREMISE_EXPERIMENT,), None, "0-9"),
          SweepPlan((BUDGET_EXPERIMENT,), None, "0-9"))
TUNING_EXPERIMENTS = (TUNING, GRID_EXPERIMENT)
#: the issue's probe: initial log-std -0.5 (std 0.61 on actions in [-1, 1]); SB3's MlpPolicy otherwise
POLICY_KWARGS = {"log_std_init": -0.5}
STUDENT_LABEL = "own state and a 16-ray depth scan over 90 degrees around the heading (pillars and walls)"
MAIN_TITLE = "Flight through pillars with a limited field of view (the paper's quadrotor analogue)"
MAIN_NOTE = ("Per run, shares and means over its held-out worlds (one flight each); velocity angle: the angle "
             "between heading and velocity over steps faster than 0.5 m/s; pillars in view: pillar centres "
             "within the field of view and range. bc_scan360 and bc_teacher_obs are view controls.")
MAIN_LABELS = {"velocity_angle": "velocity angle (deg)", "pillars_in_view": "pillars in view",
               "collision": "collision share", "path_length": "path length (m)"}
NOTEBOOKS = {MAIN: "50_fov_flight", TUNING: "50_fov_flight", BUDGET_EXPERIMENT: "50_fov_flight"}
