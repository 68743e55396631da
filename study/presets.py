"""Named arms, budget profiles and experiments; :func:`preset` turns (experiment, arm, seed, profile) into a config.

Arms (:data:`ARMS`): what is trained. ``kind="sitt"`` arms train a :class:`sitt.SITT` model with the given recipe and
switches (the plain and without-alignment teachers are SITT with phases off); ``bc`` and ``dagger`` arms imitate the
teacher of the ``without_alignment`` run of the same experiment, seed and profile. The paper's "without alignment"
teacher IS a plain PPO teacher (no reward term, no update term) whose student is aligned alongside, so one training
run gives panels (a) and (e) of the paper's maze figure and the teacher for (b) BC and (c) DAgger.

Profiles (:data:`PROFILES`): how much is trained. ``smoke`` runs in seconds (CI); ``default`` is what
``make reproduce`` runs (see :data:`DEFAULT_PROFILE`); ``release`` is the authors' exact schedule.

Experiments (:data:`EXPERIMENTS`): which arms make up a study.

Merge order of a preset: the recipe's defaults < the profile's switches (e.g. ``align_epochs``) < the arm's
switches; the env is the profile's with the arm's env overrides (e.g. ``quirks="fixed"``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable

from study.config import EnvConfig, EvalConfig, ExperimentConfig, ImitationConfig, PPOConfig

# ---------------------------------------------------------------------------------------------------------- arms


@dataclass(frozen=True)
class ArmSpec:
    """What an arm trains: ``kind`` ("sitt" | "bc" | "dagger"), the SITT ``recipe`` and ``switches`` (for bc/dagger:
    those of the teacher run), env overrides (``{"quirks": "fixed"}``) and, for bc/dagger, ``teacher_from``."""

    kind: str
    recipe: str
    switches: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    teacher_from: str | None = None
    description: str = ""


_PLAIN = dict(reward_term=False, update_term="off", align=False)
_NO_ALIGN_TEACHER = dict(reward_term=False, update_term="off", align=True)


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
        "sitt", "release", dict(_PLAIN),
        description="plain PPO teacher, all three SITT phases off, no student (for completeness)",
    ),
    "without_alignment": ArmSpec(
        "sitt", "release", dict(_NO_ALIGN_TEACHER),
        description="teacher trained as plain PPO, student and proxy aligned to it (panels a, e; teacher of bc, dagger)",
    ),
    "bc": ArmSpec(
        "bc", "release", dict(_NO_ALIGN_TEACHER), teacher_from="without_alignment",
        description="behaviour cloning of the without_alignment teacher on its own state distribution (panel b)",
    ),
    "dagger": ArmSpec(
        "dagger", "release", dict(_NO_ALIGN_TEACHER), teacher_from="without_alignment",
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
        "sitt", "release", dict(_NO_ALIGN_TEACHER), env=dict(quirks="fixed"),
        description="without_alignment on the env with every quirk corrected (does the plain teacher's route change?)",
    ),
}

# ------------------------------------------------------------------------------------------------------ profiles


@dataclass(frozen=True)
class Profile:
    """A budget: env size, PPO schedule, SITT switches that scale with it (``align_epochs``), total steps, evaluation
    and imitation settings."""

    env: EnvConfig
    ppo: PPOConfig
    total_timesteps: int
    switches: dict[str, Any] = field(default_factory=dict)
    eval: EvalConfig = field(default_factory=EvalConfig)
    imitation: ImitationConfig = field(default_factory=ImitationConfig)
    description: str = ""


# The default profile is what `make reproduce` runs: the budget search's choice (notebooks/10_budget_search.py).
# The release schedule is kept (1000 envs, full batch: one gradient step per epoch, 10 epochs, 20 align epochs) but
# with 64-step roll-outs (64k samples per iteration, 4x more updates per sample) and 20M steps instead of 1e8. In the
# search, minibatching or 16-step roll-outs changed which route the plain teacher learns, or kept it from learning
# any in 6M steps; 64 x 1000 full batch made the plain teacher take the path (15/15, seeds 2 and 3) by 10M steps.
DEFAULT_PROFILE = Profile(
    env=EnvConfig(n_envs=1000),
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
        env=EnvConfig(n_envs=32),
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
        env=EnvConfig(n_envs=1000),
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
    "main": ("plain_teacher", "without_alignment", "bc", "dagger", "sitt_release", "sitt_paper"),
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


def _lookup(table: dict, name: str, what: str) -> Any:
    if name not in table:
        raise ValueError(f"{what}: unknown {what} {name!r}; allowed: {', '.join(table)}")
    return table[name]


def preset(experiment: str, arm: str, seed: int = 0, profile: str = "default") -> ExperimentConfig:
    """The config of ``arm`` in ``experiment`` at ``seed`` under ``profile``; validated.

    ``experiment`` is the study's directory name: any name in :data:`EXPERIMENTS`, or another one (e.g. a tagged copy
    ``"main-budget6e6"``) for arms used outside the named studies.
    """
    spec: ArmSpec = _lookup(ARMS, arm, "arm")
    prof: Profile = _lookup(PROFILES, profile, "profile")
    env = dataclasses.replace(prof.env, **spec.env)
    config = ExperimentConfig(
        experiment=experiment,
        arm=arm,
        seed=seed,
        profile=profile,
        kind=spec.kind,
        recipe=spec.recipe,
        switches={**prof.switches, **spec.switches},
        env=env,
        ppo=dataclasses.replace(prof.ppo),
        eval=dataclasses.replace(prof.eval),
        imitation=dataclasses.replace(prof.imitation),
        total_timesteps=prof.total_timesteps,
        teacher_from=spec.teacher_from,
    )
    return config.validate()


def experiment_arms(experiment: str) -> tuple[str, ...]:
    return _lookup(EXPERIMENTS, experiment, "experiment")


def experiment_configs(
    experiment: str, profile: str = "default", seeds: Iterable[int] = range(10), arms: Iterable[str] | None = None
) -> list[ExperimentConfig]:
    """Every run of ``experiment``: ``seeds`` x its arms (or the subset ``arms``, in the experiment's order), seed-major,
    so that a sweep cut short leaves whole seeds (every arm of seed 0, then of seed 1, ...)."""
    names = experiment_arms(experiment)
    if arms is not None:
        wanted = list(arms)
        unknown = [a for a in wanted if a not in names]
        if unknown:
            raise ValueError(f"arms: {unknown[0]!r} is not an arm of experiment {experiment!r}; allowed: {', '.join(names)}")
        names = tuple(a for a in names if a in wanted)
    return [preset(experiment, arm, seed, profile) for seed in seeds for arm in names]
