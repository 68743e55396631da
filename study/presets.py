"""Named arms, budget profiles and experiments; :func:`preset` turns (experiment, arm, seed, profile) into a config.

Every task (:mod:`study.task`) names its own arms, profiles and experiments (the maze's are in
:mod:`color_maze.task`); this module holds what they share: :class:`ArmSpec`, :class:`Profile`, the arms every task's
main experiment has (:data:`COMMON_ARMS`), and the look-ups over all registered tasks (:func:`experiments`,
:func:`task_of`, :func:`preset`, :func:`experiment_configs`).

Arms: what is trained. ``kind="sitt"`` arms train a :class:`sitt.SITT` model with the given recipe and switches (the
plain and without-alignment teachers are SITT with phases off); ``bc`` and ``dagger`` arms imitate the teacher of the
``without_alignment`` run of the same experiment, seed and profile. The paper's "without alignment" teacher IS a
plain PPO teacher (no reward term, no update term) whose student is aligned alongside, so one training run gives the
plain teacher, the without-alignment student and the teacher that BC and DAgger imitate.

Profiles: how much is trained. ``smoke`` runs in seconds (CI); ``default`` is what ``make reproduce`` runs;
a task may add others (the maze: ``release``, the authors' exact schedule).

Merge order of a preset: the recipe's defaults < the profile's switches (e.g. ``align_epochs``) < the arm's
switches; the env is the profile's with the arm's env overrides (e.g. ``quirks="fixed"``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable

from study.config import ExperimentConfig, ImitationConfig, PPOConfig
from study.registry import DEFAULT_TASK, get_task, task_names
from study.task import base_experiment

# ---------------------------------------------------------------------------------------------------------- arms


@dataclass(frozen=True)
class ArmSpec:
    """What an arm trains: ``kind`` (a training kind of :data:`study.registry.KINDS`), the SITT ``recipe`` and
    ``switches`` (for kinds with a teacher run: those of the teacher run), env overrides (``{"quirks": "fixed"}``),
    for kinds with a teacher run, ``teacher_from``, ``student_view``: None (the task's standard student view) or
    a name of the task's :attr:`~study.task.Task.student_views` (``ExperimentConfig.student_view``), and ``method``:
    the kind's own settings (``ExperimentConfig.method``: fields of its method config, e.g.
    ``{"action_distance": "clipped"}`` for ``bc``, ``dagger`` or ``cosil``; empty: the kind's defaults)."""

    kind: str
    recipe: str
    switches: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    teacher_from: str | None = None
    description: str = ""
    student_view: str | None = None
    method: dict[str, Any] = field(default_factory=dict)


PLAIN = dict(reward_term=False, update_term="off", align=False)
NO_ALIGN_TEACHER = dict(reward_term=False, update_term="off", align=True)


#: the arms of every task's main experiment: the plain teacher, the without-alignment run (plain teacher with its
#: student aligned alongside), BC and DAgger of that teacher, SITT as released and as the paper describes it
COMMON_ARMS: dict[str, ArmSpec] = {
    "plain_teacher": ArmSpec(
        "sitt", "release", dict(PLAIN),
        description="plain PPO teacher, all three SITT phases off, no student (for completeness)",
    ),
    "without_alignment": ArmSpec(
        "sitt", "release", dict(NO_ALIGN_TEACHER),
        description="teacher trained as plain PPO, student and proxy aligned to it (the teacher of bc, dagger)",
    ),
    "bc": ArmSpec(
        "bc", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment",
        description="behaviour cloning of the without_alignment teacher on its own state distribution",
    ),
    "dagger": ArmSpec(
        "dagger", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment",
        description="DAgger against the without_alignment teacher",
    ),
    "sitt_release": ArmSpec("sitt", "release", {}, description="SITT as released (+1.9 KL bonus, feature-L1 update term)"),
    "sitt_paper": ArmSpec("sitt", "paper", {}, description="SITT as the paper describes it (-1.9 KL penalty, KL update term)"),
    "hlrl": ArmSpec(
        "hlrl", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment",
        description="HLRL: the student's own PPO + annealed KL to the without_alignment teacher (asymmetric critic)",
    ),
    "dwbc": ArmSpec(
        "dwbc", "release", {},
        description="DWBC/ROA: privileged and adaptation encoders into one latent, one decoder, latent regularisation",
    ),
    "cosil": ArmSpec(
        "cosil", "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment",
        description="COSIL: the student's PPO on r - alpha * L1(student, teacher actions), alpha by dual descent",
    ),
}

#: the paper's baselines in its robot tables (Table 1), as arms of :data:`COMMON_ARMS`: SITT's student is compared
#: with each one's (one claim per baseline in each task's claims)
PAPER_BASELINES = ("without_alignment", "bc", "dagger", "hlrl", "dwbc", "cosil")

CLIPPED = dict(action_distance="clipped")

#: the imitation students with every teacher-student distance on executed actions (Box means clamped to the action
#: bounds, :func:`sitt.distributions.executed_output`), beside their raw arms of :data:`COMMON_ARMS`: measured on the
#: tuning seeds; a baseline whose student gains from it gets it in its reported arm too (equal effort). BC, DAgger and
#: COSIL imitate the same raw ``without_alignment`` teacher as their raw arms (only the student's loss differs);
#: ``without_alignment_clipped`` is its own run (its alignment loss differs, so its roll-outs drift apart).
CLIPPED_BASELINE_ARMS: dict[str, ArmSpec] = {
    "without_alignment_clipped": ArmSpec(
        "sitt", "release", dict(NO_ALIGN_TEACHER, **CLIPPED),
        description="without_alignment with the alignment's output terms on executed (clipped) actions",
    ),
    **{f"{kind}_clipped": ArmSpec(
        kind, "release", dict(NO_ALIGN_TEACHER), teacher_from="without_alignment", method=dict(CLIPPED),
        description=f"{kind} of the without_alignment teacher, its distance on executed (clipped) actions",
    ) for kind in ("bc", "dagger", "cosil")},
}


@dataclass(frozen=True)
class SITTGrid:
    """A grid of SITT's free coefficients, fixed in a commit before its runs (``fair_comparison.md`` section 2).

    Every point is an arm of ``recipe`` with ``base`` switches and ``reward_coef`` (lambda1), ``update_weight``
    (lambda2) and ``action_distance`` set; :meth:`arms` names them :meth:`arm_name`. Points are ordered lambda1-major
    in the given order (so an interrupted sweep of one seed has covered the first lambda1 values).
    """

    lambda1: tuple[float, ...]
    lambda2: tuple[float, ...]
    action_distance: tuple[str, ...] = ("raw",)
    recipe: str = "paper"
    base: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def arm_name(lambda1: float, lambda2: float, action_distance: str) -> str:
        """``sitt_l1_<lambda1>_l2_<lambda2>_<action_distance>``, numbers in ``%g`` form (``sitt_l1_0.2_l2_0_raw``)."""
        return f"sitt_l1_{lambda1:g}_l2_{lambda2:g}_{action_distance}"

    def points(self) -> list[tuple[float, float, str]]:
        return [(l1, l2, d) for d in self.action_distance for l1 in self.lambda1 for l2 in self.lambda2]

    def arms(self) -> dict[str, ArmSpec]:
        return {
            self.arm_name(l1, l2, d): ArmSpec(
                "sitt", self.recipe, dict(self.base, reward_coef=l1, update_weight=l2, action_distance=d),
                description=f"SITT ({self.recipe} recipe) with lambda1 = {l1:g}, lambda2 = {l2:g}, "
                            f"{d} action distances (coefficient grid, tuning seeds only)",
            )
            for l1, l2, d in self.points()
        }


@dataclass(frozen=True)
class SelectionRule:
    """How a grid's configuration is chosen, fixed with the grid before it runs (``fair_comparison.md`` section 2).

    Admissible: configurations run on at least ``min_seeds`` tuning seeds whose teacher's mean held-out success is at
    least ``teacher_floor`` x the plain teacher's (the ``reference_arm``'s teacher, the same seeds). Chosen: the
    highest mean student success; a tie (within ``tie``) goes to the smaller lambda1, then the smaller lambda2, then
    ``raw`` before ``clipped`` (the simpler set-up). Whether the chosen student beats the ``reference_arm``'s student
    (the without-alignment student) on the tuning seeds is reported beside it, as a finding either way.
    """

    teacher_floor: float = 0.8
    min_seeds: int = 3
    tie: float = 0.01
    reference_arm: str = "without_alignment"


# ------------------------------------------------------------------------------------------------------ profiles


@dataclass(frozen=True)
class Profile:
    """A budget: the task's env config, PPO schedule, SITT switches that scale with it (``align_epochs``), total
    steps, the task's evaluation config (None: its defaults) and imitation settings."""

    env: Any
    ppo: PPOConfig
    total_timesteps: int
    switches: dict[str, Any] = field(default_factory=dict)
    eval: Any = None
    imitation: ImitationConfig = field(default_factory=ImitationConfig)
    description: str = ""


# --------------------------------------------------------------------------------------------------- experiments

def _lookup(table: dict, name: str, what: str) -> Any:
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"{what}: unknown {what} {name!r}; allowed: {', '.join(table)}")
    return table[name]


def experiments() -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{experiment: (task, arms)}`` over every registered task, in registry order."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name in task_names():
        for experiment, arms in get_task(name).experiments.items():
            if experiment in out:
                raise ValueError(f"experiment: {experiment!r} is named by tasks {out[experiment][0]!r} and {name!r}")
            out[experiment] = (name, tuple(arms))
    return out


def task_of(experiment: str) -> str:
    """The task of an experiment name: a named experiment's task; a tagged copy ``<experiment>-<tag>`` is its base
    experiment's. ``ValueError`` naming ``experiment`` for any other name."""
    table = experiments()
    base = experiment if experiment in table else base_experiment(experiment)
    if base not in table:
        raise ValueError(f"experiment: unknown experiment {experiment!r}; allowed: {', '.join(table)} "
                         "(or <experiment>-<tag>)")
    return table[base][0]


def preset(experiment: str, arm: str, seed: int = 0, profile: str = "default", task: str | None = None) -> ExperimentConfig:
    """The config of ``arm`` in ``experiment`` at ``seed`` under ``profile``; validated.

    ``experiment`` is the study's directory name: any experiment a task names, or a tagged copy of one
    (``"main-budget6e6"``), or any other name for arms of ``task`` (default: the task of the named experiment, else
    :data:`study.registry.DEFAULT_TASK`).
    """
    if task is None:
        try:
            task = task_of(experiment)
        except ValueError:
            task = DEFAULT_TASK
    task_name = task
    t = get_task(task_name)
    spec: ArmSpec = _lookup(t.arms, arm, "arm")
    prof: Profile = _lookup(t.profiles, profile, "profile")
    env = dataclasses.replace(prof.env, **spec.env)
    config = ExperimentConfig(
        experiment=experiment,
        arm=arm,
        seed=seed,
        profile=profile,
        task=task_name,
        kind=spec.kind,
        recipe=spec.recipe,
        switches={**prof.switches, **spec.switches},
        env=env,
        ppo=dataclasses.replace(prof.ppo),
        eval=dataclasses.replace(prof.eval) if prof.eval is not None else None,
        imitation=dataclasses.replace(prof.imitation),
        total_timesteps=prof.total_timesteps,
        teacher_from=spec.teacher_from,
        student_view=spec.student_view,
        method=dict(spec.method),
    )
    return t.canonical_config(config).validate()


def experiment_profile(experiment: str, profile: str) -> str:
    """The profile ``experiment``'s runs use when the study runs ``profile``: the task's
    :attr:`~study.task.Task.experiment_profiles` entry in place of ``default`` (``main_release_schedule`` is the
    authors' schedule, ``release``, whatever ``make reproduce`` runs), else ``profile`` itself (``smoke`` stays smoke)."""
    if profile != "default":
        return profile
    return get_task(task_of(experiment)).experiment_profiles.get(base_experiment(experiment), profile)


def experiment_arms(experiment: str) -> tuple[str, ...]:
    return _lookup({k: v[1] for k, v in experiments().items()}, experiment, "experiment")


def profile_names(experiment: str | None = None) -> tuple[str, ...]:
    """The profiles of an experiment's task (of every task when None)."""
    names = [task_of(experiment)] if experiment is not None else list(task_names())
    out: list[str] = []
    for name in names:
        out += [p for p in get_task(name).profiles if p not in out]
    return tuple(out)


def experiment_configs(
    experiment: str, profile: str = "default", seeds: Iterable[int] = range(10), arms: Iterable[str] | None = None
) -> list[ExperimentConfig]:
    """Every run of ``experiment``: ``seeds`` x its arms (or the subset ``arms``, in the experiment's order), seed-major,
    so that a sweep cut short leaves whole seeds (every arm of seed 0, then of seed 1, ...). The profile is
    :func:`experiment_profile` of ``profile``."""
    profile = experiment_profile(experiment, profile)
    names = experiment_arms(experiment)
    if arms is not None:
        wanted = list(arms)
        unknown = [a for a in wanted if a not in names]
        if unknown:
            raise ValueError(f"arms: {unknown[0]!r} is not an arm of experiment {experiment!r}; allowed: {', '.join(names)}")
        names = tuple(a for a in names if a in wanted)
    return [preset(experiment, arm, seed, profile) for seed in seeds for arm in names]
