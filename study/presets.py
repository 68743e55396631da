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
    for kinds with a teacher run, ``teacher_from``, and ``student_view``: None (the task's standard student view) or
    a name of the task's :attr:`~study.task.Task.student_views` (``ExperimentConfig.student_view``)."""

    kind: str
    recipe: str
    switches: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    teacher_from: str | None = None
    description: str = ""
    student_view: str | None = None


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
