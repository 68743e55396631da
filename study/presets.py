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
import math
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable, Mapping

from study.config import ExperimentConfig, ImitationConfig, PPOConfig
from study.kinds import STUDENT_TIMESTEPS
from study.registry import get_kind, get_task, task_names
from study.task import Claim, base_experiment

# ---------------------------------------------------------------------------------------------------------- arms


@dataclass(frozen=True)
class ArmSpec:
    """What an arm trains: ``kind`` (a training kind of :data:`study.registry.KINDS`), the SITT ``recipe`` and
    ``switches`` (for kinds with a teacher run: those of the teacher run), env overrides (``{"quirks": "fixed"}``),
    for kinds with a teacher run, ``teacher_from``, ``student_view``: None (the task's standard student view) or
    a name of the task's :attr:`~study.task.Task.student_views` (``ExperimentConfig.student_view``), and ``method``:
    the kind's own settings (``ExperimentConfig.method``: fields of its method config, e.g.
    ``{"action_distance": "clipped"}`` for ``bc``, ``dagger`` or ``cosil``; empty: the kind's defaults).

    ``budget_share``: the share of the profile's budget the arm's own training gets (``fair_comparison.md`` section
    1), > 0; 1.0 (default, every arm before the field existed) leaves ``total_timesteps`` as the profile's. The budget
    is counted in whole PPO iterations: N = ceil(profile.total_timesteps / (env.n_envs * ppo.n_steps)), the iterations
    a run of the profile makes (SITT's budget), and a share s gets round(s * N) of them (halves rounded up; at least
    one). For a kind with a teacher run the budget :mod:`study.budget` counts is the teacher run's plus the arm's own,
    so it is rounded once: with the teacher arm's share s_t, the teacher gets round(s_t * N) iterations
    (``total_timesteps``, the teacher run's, as :meth:`~study.config.ExperimentConfig.teacher_config` hands it on) and
    the student round((s_t + s) * N) - round(s_t * N) (``method.student_timesteps``, a field of the ``hlrl`` and
    ``cosil`` kinds): shares that add up to 1 are exactly SITT's budget (:func:`equal_budget_arms`). A kind without
    budget of its own (``bc``, ``dagger``: their roll-outs are the imitation settings) takes its teacher's
    ``total_timesteps`` and refuses a share other than 1.0."""

    kind: str
    recipe: str
    switches: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    teacher_from: str | None = None
    description: str = ""
    student_view: str | None = None
    method: dict[str, Any] = field(default_factory=dict)
    budget_share: float = 1.0

    def __post_init__(self) -> None:
        check_budget_share(self.budget_share)


def check_budget_share(share: Any) -> None:
    """``ValueError`` naming ``budget_share`` unless it is a finite number > 0."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not math.isfinite(share) or share <= 0:
        raise ValueError(f"budget_share: got {share!r}; allowed: a finite number > 0 (the arm's share of the "
                         "profile's total_timesteps, 1.0 = all of it)")


def budget_iterations(share: float, n_iterations: int, what: str = "budget_share") -> int:
    """round(share * n_iterations), halves rounded up; ``ValueError`` naming ``what`` when that is no iteration."""
    check_budget_share(share)
    got = math.floor(share * n_iterations + 0.5)
    if got < 1:
        raise ValueError(f"{what}: got {share!r}; allowed: a share that leaves at least one of the profile's "
                         f"{n_iterations} PPO iterations ({share!r} x {n_iterations} rounds to {got})")
    return int(got)


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
    "sitt_release": ArmSpec("sitt", "release", {},
                            description="SITT as released (+1.9 KL bonus, feature-L1 update term)"),
    "sitt_paper": ArmSpec("sitt", "paper", {},
                          description="SITT as the paper describes it (-1.9 KL penalty, KL update term)"),
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

#: the arms of every task's main experiment, in the order of the paper's tables: the plain-teacher student, the
#: imitation students, SITT (paper and release recipes) and the student-RL baselines. A task appends its own controls
#: (``(*MAIN_ARMS, "bc_scan")``); a new baseline reported on every task is one entry here.
MAIN_ARMS = ("without_alignment", "bc", "dagger", "sitt_paper", "sitt_release", "hlrl", "dwbc", "cosil")


def beats_baselines_claims(prefix: str, text: str, experiment: str, sitt_arm: str, source: str,
                           baselines: tuple[str, ...] = PAPER_BASELINES) -> tuple:
    """The paper's table as claims: SITT's student (``sitt_arm``) beats each baseline's student, one claim per
    baseline (``<prefix><baseline>``, kind ``better``, the PoI CI above 0.5).

    :param prefix: the claim ids' prefix (``"fov:g:"``).
    :param text: the claim in words, with ``{arm}`` where the baseline's name goes.
    :param experiment: the experiment whose runs are the evidence.
    :param sitt_arm: SITT's arm.
    :param source: where the claim comes from.
    :param baselines: the arms to beat (default :data:`PAPER_BASELINES`)."""
    return tuple(Claim(f"{prefix}{arm}", text.format(arm=arm), experiment, sitt_arm, "student", "success",
                       kind="better", others=(arm,), source=source) for arm in baselines)

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


#: equal budgets (``fair_comparison.md`` section 1): a method that trains two policies one after the other (HLRL,
#: COSIL: a teacher, then a student by its own PPO) splits SITT's budget between them, the teacher getting this share
#: and the student the rest. Half and half: HLRL's and COSIL's papers train the teacher first and the student after
#: and name no split of a fixed total (``shared/spec/baselines.md`` gives none either).
EQUAL_BUDGET_SPLIT = 0.5


def equal_budget_arms(split: float = EQUAL_BUDGET_SPLIT) -> dict[str, ArmSpec]:
    """The arms at SITT's budget beside the 2x ``hlrl`` and ``cosil`` of :data:`COMMON_ARMS` (whose students train as
    long as their teacher did, on top of it): ``without_alignment_half`` (the plain teacher with its aligned student,
    ``split`` of the budget), ``hlrl_eq`` and ``cosil_eq`` (HLRL's and COSIL's students of that teacher, the rest of
    the budget: :attr:`ArmSpec.budget_share`) and ``student_rl`` (the no-teacher control: PPO on the student's view
    alone with HLRL's asymmetric critic, all of the budget)."""
    check_budget_share(split)
    if not split < 1:
        raise ValueError(f"split: got {split!r}; allowed: a share in (0, 1) of the budget for the teacher")
    rest = 1.0 - split
    return {
        "without_alignment_half": dataclasses.replace(
            COMMON_ARMS["without_alignment"], budget_share=split,
            description=f"without_alignment at {split:g} of the budget: the teacher of hlrl_eq and cosil_eq",
        ),
        **{f"{name}_eq": dataclasses.replace(
            COMMON_ARMS[name], teacher_from="without_alignment_half", budget_share=rest,
            description=f"{name.upper()} at SITT's budget: the without_alignment_half teacher ({split:g} of it), then "
                        f"the student's own PPO for the rest ({rest:g})",
        ) for name in ("hlrl", "cosil")},
        "student_rl": ArmSpec(
            "student_rl", "release", {},
            description="no teacher: PPO on the student's view alone (HLRL's asymmetric critic), at SITT's budget",
        ),
    }


def twice_budget_arms(sitt_arm: ArmSpec) -> dict[str, ArmSpec]:
    """The 2x readings' own arms (``fair_comparison.md`` section 1: "SITT gets the same larger budget beside it"):
    ``sitt_2x`` (the task's SITT arm ``sitt_arm`` at twice its budget, what ``hlrl`` and ``cosil`` spend) and
    ``student_rl_2x`` (the no-teacher control at twice the budget)."""
    return {
        "sitt_2x": dataclasses.replace(sitt_arm, budget_share=2.0,
                                       description=f"{sitt_arm.description}; at twice the budget (hlrl's and cosil's)"),
        "student_rl_2x": ArmSpec(
            "student_rl", "release", {}, budget_share=2.0,
            description="no teacher: PPO on the student's view alone (HLRL's asymmetric critic), at twice the budget",
        ),
    }


def budget_experiment_arms(sitt_arm: str, twice: bool = True) -> tuple[str, ...]:
    """The arms of a task's equal-budget experiment: the task's SITT arm, the 2x baselines as the main experiment
    runs them (``without_alignment`` their teacher, ``hlrl``, ``cosil``: copies of the main runs, trained again only
    where missing), the arms of :func:`equal_budget_arms`, and with ``twice`` those of :func:`twice_budget_arms`."""
    arms = (sitt_arm, "without_alignment", "hlrl", "cosil", *equal_budget_arms())
    return arms + (("sitt_2x", "student_rl_2x") if twice else ())


#: the methods a budget experiment compares at each budget, in table order (SITT first: the one the others are read
#: against)
BUDGET_METHODS = ("SITT", "HLRL", "COSIL", "no teacher")


def budget_readings(sitt_arm: str, twice: bool = True) -> tuple[tuple[str, str, str], ...]:
    """``(budget, method, arm)`` of a task's equal-budget experiment, one per method and budget in
    :data:`BUDGET_METHODS` order: at ``"equal"`` budget ``sitt_arm``, ``hlrl_eq``, ``cosil_eq`` and ``student_rl``
    (:func:`equal_budget_arms`); at ``"2x"`` (HLRL's and COSIL's as the main experiments run them) ``sitt_2x``,
    ``hlrl``, ``cosil`` and ``student_rl_2x`` (:func:`twice_budget_arms`; without ``twice``: ``hlrl`` and ``cosil``
    only)."""
    equal = (sitt_arm, "hlrl_eq", "cosil_eq", "student_rl")
    two = ("sitt_2x" if twice else None, "hlrl", "cosil", "student_rl_2x" if twice else None)
    return tuple((budget, method, arm) for budget, arms in (("equal", equal), ("2x", two))
                 for method, arm in zip(BUDGET_METHODS, arms) if arm is not None)


@dataclass(frozen=True)
class BudgetPlan:
    """A task's equal-budget experiment (``fair_comparison.md`` section 1), the design a task names as
    :attr:`study.task.Task.budget`: its name, the task's SITT arm at its best configuration (``sitt_arm``, fixed before
    the experiment's runs) and whether the 2x readings have their own SITT and no-teacher arms (``twice``)."""

    experiment: str
    sitt_arm: str
    twice: bool = True

    @property
    def arms(self) -> tuple[str, ...]:
        """The experiment's arms (:func:`budget_experiment_arms`)."""
        return budget_experiment_arms(self.sitt_arm, self.twice)

    @property
    def readings(self) -> tuple[tuple[str, str, str], ...]:
        """``(budget, method, arm)`` rows of its table (:func:`budget_readings`)."""
        return budget_readings(self.sitt_arm, self.twice)


def budget_claims(tag: str, experiment: str, sitt_arm: str, what: str, budget: str, twice: bool = True,
                  paper: str = "paper Table 1") -> tuple:
    """The claims of a task's equal-budget experiment, fixed before its runs: SITT's student (``sitt_arm``) beats
    ``hlrl_eq``'s and ``cosil_eq``'s (``<tag>g:hlrl_eq``, ``<tag>g:cosil_eq``); the teacher helps: ``hlrl_eq``'s student
    beats ``student_rl``'s (``<tag>teacher_helps``); with ``twice``, the 2x readings: ``sitt_2x`` beats ``hlrl`` and
    ``cosil`` (``<tag>2x:hlrl``, ``<tag>2x:cosil``) and ``hlrl`` beats ``student_rl_2x`` (``<tag>2x:teacher_helps``).
    ``what``: the claim's opening (``"Flight: "``); ``budget``: SITT's budget in words (``"7.86M env steps"``);
    ``paper``: the source of the task's claims that SITT's student beats HLRL's and COSIL's, read here at equal and at
    twice SITT's budget."""

    def text(words: str) -> str:
        return words[:1].upper() + words[1:]

    split = EQUAL_BUDGET_SPLIT
    eq = (f"at equal budget ({budget} each; HLRL's and COSIL's teacher trains on {split:g} of it, the student on the "
          "rest)")
    claims = [
        *(Claim(f"{tag}g:{arm}_eq", text(f"{what}SITT's student ({sitt_arm}) beats the {arm.upper()} student {eq}"),
                experiment, sitt_arm, "student", "success", kind="better", others=(f"{arm}_eq",),
                source=f"{paper}, read at equal budget")
          for arm in ("hlrl", "cosil")),
        Claim(f"{tag}teacher_helps", text(f"{what}the teacher helps: HLRL's student beats PPO on the student's view "
                                          f"alone (no teacher, HLRL's asymmetric critic) {eq}"),
              experiment, "hlrl_eq", "student", "success", kind="better", others=("student_rl",),
              source="study: the no-teacher control (HLRL's ablation: RL alone is worse than its joint loss)"),
    ]
    if twice:
        two = f"at twice SITT's budget (2 x {budget}: HLRL's and COSIL's teacher + student, SITT trained twice as long)"
        claims += [
            *(Claim(f"{tag}2x:{arm}", text(f"{what}SITT's student beats the {arm.upper()} student {two}"), experiment,
                    "sitt_2x", "student", "success", kind="better", others=(arm,),
                    source=f"{paper}, read at twice SITT's budget")
              for arm in ("hlrl", "cosil")),
            Claim(f"{tag}2x:teacher_helps", text(f"{what}the teacher helps at twice SITT's budget (2 x {budget}): "
                                                 "HLRL's student (teacher + student) beats PPO on the student's view "
                                                 "alone trained as long"),
                  experiment, "hlrl", "student", "success", kind="better", others=("student_rl_2x",),
                  source="study: the no-teacher control, at twice SITT's budget"),
        ]
    return tuple(claims)


#: the kinds of the paper's baselines whose own settings no study grid has searched (BC's and DAgger's imitation
#: settings, HLRL's KL weight and its annealing, DWBC's discriminator weight, COSIL's ...): against a SITT arm whose
#: coefficients were searched on the tuning seeds they had fewer tuning configurations (at most the clipped switch:
#: CLIPPED_BASELINE_ARMS), so a comparison SITT wins against them is held (:func:`hold_untuned`). The plain teacher's
#: aligned student (``without_alignment``, kind ``sitt``) is the grid's lambda = 0 corner and had every schedule search
#: SITT had: it is not held.
UNTUNED_BASELINE_KINDS = ("bc", "dagger", "hlrl", "dwbc", "cosil")


def hold_untuned(claims: Iterable[Claim], arms: Mapping[str, ArmSpec], tuned: Iterable[str]) -> tuple[Claim, ...]:
    """``claims`` with :attr:`study.task.Claim.untuned` set on every comparison whose arm is one of ``tuned`` (SITT
    arms whose coefficients were searched on the tuning seeds): the arms of its ``others`` whose kind (in ``arms``) is
    one of :data:`UNTUNED_BASELINE_KINDS` (``fair_comparison.md`` section 2). Other claims are returned as they are."""
    tuned = set(tuned)
    out = []
    for claim in claims:
        untuned = tuple(o for o in claim.others if o in arms and arms[o].kind in UNTUNED_BASELINE_KINDS)
        if claim.kind == "better" and set(claim.arms()) & tuned and untuned:
            claim = dataclasses.replace(claim, untuned=untuned)
        out.append(claim)
    return tuple(out)


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


#: the alignment schedules searched after a grid's selection (issue: "the alignment schedule for the best
#: configurations"): the release's (20 full-batch epochs on the whole roll-out, ``sitt_release.md``) and the profile's
#: schedule with a 10x alignment learning rate (1e-3; the release's 1e-4, same compute as the profile's)
ALIGN_SCHEDULES: dict[str, dict[str, Any]] = {
    "release_align": dict(align_epochs=20, align_batch_size=None, align_subset=1.0),
    "align_lr_1e-3": dict(align_lr=1e-3),
}


def _schedule_words(tag: str) -> str:
    """``switch=value, ...``: a schedule of :data:`ALIGN_SCHEDULES` in an arm's description."""
    return ", ".join(f"{k}={v}" for k, v in ALIGN_SCHEDULES[tag].items())


def _with_schedule(spec: ArmSpec, tag: str, description: str) -> ArmSpec:
    """``spec`` with :data:`ALIGN_SCHEDULES` ``[tag]``'s switches over its own, described by ``description``."""
    return dataclasses.replace(spec, switches={**spec.switches, **ALIGN_SCHEDULES[tag]}, description=description)


@dataclass(frozen=True)
class AlignSchedules:
    """The alignment schedule searched for a grid's selected configuration, fixed in a commit before its runs
    (``fair_comparison.md`` section 2: the same search for the without-alignment baseline, whose student is aligned by
    the same phase).

    :meth:`arms`: for each schedule tag of ``schedules`` (keys of :data:`ALIGN_SCHEDULES`), ``<selected>_<tag>`` (the
    selected SITT arm's switches with the schedule's) and ``<reference>_<tag>`` (the reference arm's likewise).
    The rule (:func:`study.grid.schedule_table`): a schedule is adopted for an arm when, on the same tuning seeds, its
    student's mean success exceeds the profile schedule's by more than ``gain`` and (for SITT) its teacher keeps the
    selection rule's floor; among adopted schedules the larger gain wins.

    :param selected: the selected grid arm (``sitt_l1_0.05_l2_0.1_clipped``).
    :param schedules: the schedule tags searched.
    :param reference: the baseline aligned by the same phase (the selection rule's reference arm).
    :param gain: the least gain in mean student success that adopts a schedule (the executed-action switch's 0.02).
    """

    selected: str
    schedules: tuple[str, ...] = tuple(ALIGN_SCHEDULES)
    reference: str = "without_alignment"
    gain: float = 0.02

    def __post_init__(self) -> None:
        bad = [t for t in self.schedules if t not in ALIGN_SCHEDULES]
        if bad or not self.schedules:
            raise ValueError(f"AlignSchedules.schedules: got {list(self.schedules)}; allowed: a non-empty subset of "
                             f"{', '.join(ALIGN_SCHEDULES)}")

    @staticmethod
    def arm_name(base: str, tag: str) -> str:
        """``<base>_<tag>`` (``without_alignment_release_align``)."""
        return f"{base}_{tag}"

    def arms(self, arms: Mapping[str, ArmSpec]) -> dict[str, ArmSpec]:
        """The schedule arms of :attr:`selected` and :attr:`reference`, built from their specs in ``arms``."""
        out = {}
        for base in (self.selected, self.reference):
            spec = _lookup(arms, base, "arm")
            for tag in self.schedules:
                out[self.arm_name(base, tag)] = _with_schedule(
                    spec, tag, f"{base} with the alignment schedule {tag} ({_schedule_words(tag)}; tuning seeds only)")
        return out

    #: the suffix of a main-experiment arm run with its adopted schedule (``sitt_tuned_align``)
    ADOPTED_SUFFIX = "_align"

    def adopted_arms(self, arms: Mapping[str, ArmSpec], adopted: Mapping[str, str]) -> dict[str, ArmSpec]:
        """The main experiment's arms with the schedules the rule adopted on the tuning seeds (the ``chosen`` rows of
        :func:`study.grid.schedule_table`, written down in the design commit before their runs): for each
        ``arm: tag`` of ``adopted``, ``<arm>_align`` = ``arms[arm]`` with :data:`ALIGN_SCHEDULES` ``[tag]``'s
        switches. ``ValueError`` naming ``adopted`` for a tag this search did not run or an unknown arm."""
        out = {}
        for base, tag in adopted.items():
            if tag not in self.schedules:
                raise ValueError(f"adopted[{base!r}]: got {tag!r}; allowed: {', '.join(self.schedules)}")
            spec = _lookup(arms, base, "arm")
            out[f"{base}{self.ADOPTED_SUFFIX}"] = _with_schedule(
                spec, tag, f"{spec.description}; with the alignment schedule {tag} ({_schedule_words(tag)}), adopted "
                           f"on the tuning seeds")
        return out

    def adopted_claims(self, tag: str, what: str, experiment: str, adopted: Mapping[str, str],
                       baselines: tuple[str, ...], sitt_arm: str = "sitt_tuned", source: str = "") -> tuple:
        """The tuned comparison read again with the adopted schedules (fixed with :meth:`adopted_arms`, before their
        runs): SITT's student (``<sitt_arm>_align`` where ``adopted`` names ``sitt_arm``, else ``sitt_arm``) beats each
        baseline's (``<baseline>_align`` where adopted names it, else the baseline): ``<tag>tuned_align:g:<arm>``;
        and, when SITT's schedule was adopted, beats ``sitt_arm`` at the profile's schedule
        (``<tag>tuned_align:tuned``). Nothing when ``adopted`` is empty.

        :param what: the claims' opening (``"Drawer: "``).
        :param baselines: the tuned comparison's baselines (the task's ``TUNED_BASELINES``).
        :param source: where the baseline claims come from (the task's tuned claims' source)."""
        if not adopted:
            return ()
        suffix = self.ADOPTED_SUFFIX

        def read(arm: str) -> str:
            return f"{arm}{suffix}" if arm in adopted else arm

        sitt = read(sitt_arm)
        with_schedule = ", ".join(f"{arm}: {t}" for arm, t in adopted.items())
        claims = [Claim(f"{tag}tuned_align:g:{read(arm)}",
                        f"{what}SITT's student (tuned, with the adopted alignment schedules: {with_schedule}) beats "
                        f"the {read(arm)} student", experiment, sitt, "student", "success", kind="better",
                        others=(read(arm),), source=source)
                  for arm in baselines]
        if sitt != sitt_arm:
            claims.append(Claim(f"{tag}tuned_align:tuned",
                                f"{what}the adopted alignment schedule ({adopted[sitt_arm]}) improves SITT's tuned "
                                f"student over the profile's schedule", experiment, sitt, "student", "success",
                                kind="better", others=(sitt_arm,),
                                source="this study (the schedule's adoption on the tuning seeds)"))
        return tuple(claims)


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
                         "(or <experiment>-<tag>; any other name with the task given)")
    return table[base][0]


def preset(experiment: str, arm: str, seed: int = 0, profile: str = "default",
           task: str | None = None) -> ExperimentConfig:
    """The config of ``arm`` in ``experiment`` at ``seed`` under ``profile``; validated.

    ``experiment`` is the study's directory name: any experiment a task names, or a tagged copy of one
    (``"main-budget6e6"``), or any other name for arms of ``task`` (default: the task of the named experiment; a name
    no task knows needs ``task``: ``ValueError`` naming ``experiment`` otherwise).
    """
    task_name = task_of(experiment) if task is None else task
    t = get_task(task_name)
    spec: ArmSpec = _lookup(t.arms, arm, "arm")
    prof: Profile = _lookup(t.profiles, profile, "profile")
    env = dataclasses.replace(prof.env, **spec.env)
    total_timesteps, budget_method = _arm_budget(t, arm, spec, prof, env.n_envs * prof.ppo.n_steps)
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
        total_timesteps=total_timesteps,
        teacher_from=spec.teacher_from,
        student_view=spec.student_view,
        method={**spec.method, **budget_method},
    )
    return t.canonical_config(config).validate()


def _arm_budget(task, arm: str, spec: ArmSpec, prof: Profile, rollout: int) -> tuple[int, dict[str, Any]]:
    """``(total_timesteps, method fields)`` of an arm under a profile: :attr:`ArmSpec.budget_share` applied (its
    docstring has the rule); the profile's ``total_timesteps`` and nothing else when every share is 1.0."""
    teacher_share = 1.0
    if spec.teacher_from is not None and spec.teacher_from in task.arms:
        teacher_share = task.arms[spec.teacher_from].budget_share
    own = spec.budget_share
    if own == 1.0 and teacher_share == 1.0:
        return prof.total_timesteps, {}
    n = -(-prof.total_timesteps // rollout)  # the iterations PPO makes for the profile's budget: SITT's
    if spec.teacher_from is None:
        return budget_iterations(own, n) * rollout, {}
    teacher = budget_iterations(teacher_share, n, f"budget_share of arm {spec.teacher_from!r}")
    total = prof.total_timesteps if teacher_share == 1.0 else teacher * rollout
    if not get_kind(spec.kind).own_budget:
        if own != 1.0:
            raise ValueError(f"budget_share: got {own!r} for arm {arm!r}; allowed: 1.0 (kind {spec.kind!r} has no "
                             "budget of its own to share: it takes its teacher run's total_timesteps)")
        return total, {}
    student = budget_iterations(teacher_share + own, n) - teacher
    if student < 1:
        raise ValueError(f"budget_share: got {own!r} for arm {arm!r}; allowed: a share that leaves the student at "
                         f"least one of the profile's {n} PPO iterations")
    return total, {STUDENT_TIMESTEPS: student * rollout}


def experiment_profile(experiment: str, profile: str) -> str:
    """The profile ``experiment``'s runs use when the study runs ``profile``: the task's
    :attr:`~study.task.Task.experiment_profiles` entry in place of ``default`` (``main_release_schedule`` is the
    authors' schedule, ``release``, whatever ``make reproduce`` runs), else ``profile`` itself (``smoke`` stays
    smoke)."""
    if profile != "default":
        return profile
    return get_task(task_of(experiment)).experiment_profiles.get(base_experiment(experiment), profile)


def study_profile(experiment: str, profile: str | None) -> str | None:
    """The profile of ``experiment``'s runs when the study runs ``profile`` (:func:`experiment_profile`), for
    reading them: ``profile`` itself for a name no task knows (a budget-search copy) and for None (any profile)."""
    if profile is None:
        return None
    try:
        return experiment_profile(experiment, profile)
    except ValueError:
        return profile


def arm_labels(experiment: str | None = None) -> dict[str, str]:
    """arm -> its one-line description (:attr:`ArmSpec.description`): of the experiment's task, or of every task (the
    first task naming an arm gives its words)."""
    names = [task_of(experiment)] if experiment is not None else list(task_names())
    out: dict[str, str] = {}
    for name in names:
        for arm, spec in get_task(name).arms.items():
            out.setdefault(arm, getattr(spec, "description", "") or arm)
    return out


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
    """Every run of ``experiment``: ``seeds`` x its arms (or the subset ``arms``, in the experiment's order),
    seed-major,
    so that a sweep cut short leaves whole seeds (every arm of seed 0, then of seed 1, ...). The profile is
    :func:`experiment_profile` of ``profile``."""
    profile = experiment_profile(experiment, profile)
    names = experiment_arms(experiment)
    if arms is not None:
        wanted = list(arms)
        unknown = [a for a in wanted if a not in names]
        if unknown:
            raise ValueError(f"arms: {unknown[0]!r} is not an arm of experiment {experiment!r}; "
                             f"allowed: {', '.join(names)}")
        names = tuple(a for a in names if a in wanted)
    return [preset(experiment, arm, seed, profile) for seed in seeds for arm in names]
