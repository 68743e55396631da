"""The ``fixed_teacher`` training kind: a BC or DAgger student of one of the task's FIXED teachers.

SITT's claim is conditional: there is a teacher behaviour that both solves the task and can be imitated from the
student's view (``shared/spec/fair_comparison.md`` section 4, "premises"). A run of this kind shows it apart from
SITT: the study's BC or DAgger student (:class:`sitt.student.StudentPolicy`, the profile's ``imitation`` sizes,
epochs, learning rates and ``student_net_arch``, the task's standard student view unless the arm names another)
imitates a teacher that does not learn: a scripted controller or a stored policy the task names in
:attr:`study.task.Task.fixed_teachers`. No teacher run is trained (``needs_teacher = False``).

The run's settings (``ExperimentConfig.method``, :class:`FixedTeacherMethodConfig`): ``teacher`` (a name of the
task's fixed teachers) and ``algorithm`` (``"bc"`` or ``"dagger"``). The config's own validation checks both fields'
form and the algorithm; the teacher's name is checked against the task when the run starts (the config's validation
does not hand the kind its task) and by :meth:`FixedTeacherKind.check_method` with ``task=``.

How it trains:

* the teacher: ``task.fixed_teachers[teacher](config, config.seed, root)`` -> ``act`` (deterministic, on teacher
  observations), wrapped as :class:`sitt.baselines.imitation.ActionTeacher`: the labels are its ACTIONS, fitted by the
  Gaussian KL with the student's own fixed std (a scaled squared error; the class says why). It always acts
  deterministically in the roll-outs (the profile's ``imitation.deterministic_teacher`` is for a stochastic, learnt
  teacher); ``root`` is the run store the run is built in (a teacher read from a stored run is read from there);
* the student: built as the study's BC/DAgger students build theirs (:func:`sitt.baselines.behaviour_cloning`), from
  an UNTRAINED SB3 policy of the task's env (``task.policy``, ``task.policy_kwargs``, seeded with the run's seed:
  :func:`reference_policy`), which only sizes the encoder and the head and gives the frozen log-std; with the same
  initialisation seed stream as the study's BC (DAgger) student of that seed;
* BC: a teacher-only roll-out of ``imitation.bc_n_steps_per_env`` steps per env, then ``bc_epochs`` of Adam; DAgger:
  ``imitation.dagger_iterations`` mixture roll-outs (``dagger_beta0``, ``dagger_beta_decay``), aggregated and refitted
  (:func:`sitt.baselines.dagger`).

Files: ``student.pt``, ``imitation.csv`` and ``imitation.json`` as :mod:`study.kinds.imitation` writes them (no
``model.zip``: there is no teacher model; :func:`load_student` rebuilds the student from the run's config).
Evaluated policies: ``teacher`` (the fixed teacher's act) and ``student`` (the student on its view). ``env_steps``
as the imitation kinds count them (BC: ``bc_n_steps_per_env * n_envs``; DAgger: ``dagger_iterations *
dagger_n_steps_per_env * n_envs``).

:func:`fixed_teacher_table` is the premise table of a task's fixed-teacher arms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from study import load, store
from study.kinds import Kind, TrainResult
from study.kinds.imitation import imitation_tables
from study.presets import ArmSpec
from study.tables import CONFIDENCE, N_BOOT, per_seed, summarise_metric
from study.task import Claim, student_view_fn

ALGORITHMS = ("bc", "dagger")


@dataclass
class FixedTeacherMethodConfig:
    """A ``fixed_teacher`` run's own settings (``ExperimentConfig.method``).

    :param teacher: the name of one of the task's fixed teachers (:attr:`study.task.Task.fixed_teachers`); required.
    :param algorithm: ``"bc"`` or ``"dagger"``; required.
    """

    teacher: str | None = None
    algorithm: str | None = None

    def validate(self, teachers: Sequence[str] | None = None) -> FixedTeacherMethodConfig:
        """``ValueError`` naming the field (``teacher: got ...; allowed: ...``); ``teachers``: the task's names (None:
        only the form is checked)."""
        if teachers is None:
            if not isinstance(self.teacher, str) or not self.teacher:
                raise ValueError(f"teacher: got {self.teacher!r}; allowed: the name of one of the task's "
                                 "fixed teachers")
        elif not isinstance(self.teacher, str) or self.teacher not in teachers:
            allowed = ", ".join(teachers) if teachers else "none (the task names no fixed teacher)"
            raise ValueError(f"teacher: got {self.teacher!r}; allowed: {allowed}")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm: got {self.algorithm!r}; allowed: {', '.join(ALGORITHMS)}")
        return self


def reference_policy(config, task, env):
    """The untrained SB3 policy of the task's env that sizes a fixed teacher's student: ``task.policy`` (an SB3 policy
    name, resolved as PPO resolves it, or a class) with ``task.policy_kwargs``, built as PPO builds its policy, its
    initialisation seeded with the run's seed in a forked torch RNG (the global one is untouched). It is never
    trained: the student takes its architecture, a fresh copy of its head and its (initial) log-std."""
    import torch as th  # noqa: PLC0415  (torch-heavy: imported when a run trains or a student is read)
    from stable_baselines3 import PPO  # noqa: PLC0415  (the same)
    from stable_baselines3.common.utils import get_device  # noqa: PLC0415  (the same)

    policy_class = PPO.policy_aliases[task.policy] if isinstance(task.policy, str) else task.policy
    with th.random.fork_rng(devices=[]):
        th.manual_seed(int(config.seed))
        policy = policy_class(env.observation_space, env.action_space, lambda _: 0.0, **dict(task.policy_kwargs))
    return policy.to(get_device(config.device))


def run_store_of(tmp: Path) -> Path:
    """The run store a run is being built in: :func:`study.run.run_one` builds ``<root>/<experiment>/<arm>/seed_<k>``
    in ``<root>/<experiment>/<arm>/seed_<k>.tmp-<pid>``."""
    return Path(tmp).resolve().parents[2]


class FixedTeacherKind(Kind):
    """BC or DAgger against one of the task's fixed teachers (module docstring)."""

    name = "fixed_teacher"
    method_config = FixedTeacherMethodConfig
    #: a fixed teacher may be a policy stored by another run of the same sweep (the flight's HLRL student): these
    #: runs start after every other run of a sweep (study.sweep.late_waves)
    late_wave = True

    def validate_method(self, settings: FixedTeacherMethodConfig, task=None) -> FixedTeacherMethodConfig:
        """With ``task``, the teacher must be one of ``task.fixed_teachers``; without, only the form is checked."""
        return settings.validate(None if task is None else tuple(task.fixed_teachers))

    def train(self, config, task, tmp: Path, teacher_dir: Path | None) -> TrainResult:
        from sitt.baselines import behaviour_cloning, dagger  # noqa: PLC0415  (torch-heavy: imported when a run trains)
        from sitt.baselines.imitation import ActionTeacher, seed_streams, student_view  # noqa: PLC0415  (the same)
        from sitt.student import StudentPolicy  # noqa: PLC0415  (the same)

        method = self.check_method(config.method, task)
        env = task.train_env(config)
        student_obs_fn = student_view_fn(task, env, config)
        act = task.fixed_teachers[method.teacher](config, config.seed, run_store_of(tmp))
        reference = reference_policy(config, task, env)
        imitation = config.imitation
        bc = method.algorithm == "bc"
        # the initialisation seed of the study's BC (stream 2 of 4) / DAgger (stream 3 of 5) student of this seed
        init_seed = seed_streams(config.seed, 4)[2] if bc else seed_streams(config.seed, 5)[3]
        space = env.observation_space
        probe = student_view(student_obs_fn, np.zeros((1, *space.shape), space.dtype))
        student = StudentPolicy(reference, student_obs_shape=probe.shape[1:], net_arch=imitation.student_net_arch,
                                seed=init_seed)
        teacher = ActionTeacher(act, env.action_space, student.log_std)
        kwargs = imitation.bc_kwargs() if bc else imitation.dagger_kwargs()
        kwargs.pop("net_arch", None)  # the student is built above, with the profile's student_net_arch
        kwargs["deterministic_teacher"] = True
        t0 = time.perf_counter()
        if bc:
            student, info = behaviour_cloning(teacher, env, student_obs_fn, seed=config.seed, student=student, **kwargs)
            env_steps = int(imitation.bc_n_steps_per_env * config.env.n_envs)
        else:
            student, info = dagger(teacher, env, student_obs_fn, seed=config.seed, student=student, **kwargs)
            env_steps = int(imitation.dagger_iterations * imitation.dagger_n_steps_per_env * config.env.n_envs)
        train_s = time.perf_counter() - t0
        table, rest = imitation_tables(method.algorithm, info)
        store.atomic_write_with(tmp / store.STUDENT_FILE, lambda p: student.save(p), suffix=".pt")
        store.atomic_write_text(tmp / store.IMITATION_CSV, table.to_csv(index=False))
        store.atomic_write_json(tmp / store.IMITATION_JSON, rest)
        policies = {
            "teacher": act,
            "student": lambda obs: student.predict(student_obs_fn(obs), deterministic=True)[0],
        }
        record = {"fixed_teacher": store.jsonable(dict(
            name=method.teacher, algorithm=method.algorithm, deterministic=True,
            labels="actions; loss: Gaussian KL with the student's fixed std (a scaled squared error)",
            label_log_std=[float(v) for v in teacher.log_std.reshape(-1)],
            source=getattr(act, "source", None),
        ))}
        return TrainResult(policies, train_s, env_steps, env, record)


def load_student(run_dir: str | Path, device: str = "cpu"):
    """The student of a complete ``fixed_teacher`` run: its ``student.pt`` on the architecture of
    :func:`reference_policy` of the run's config (rebuilt: the run stores no teacher model)."""
    from sitt.student import StudentPolicy  # noqa: PLC0415  (torch-heavy: imported when a student is read)

    run_dir = Path(run_dir)
    config = load.load_config(run_dir).validate()
    task = config.task_object()
    env = task.train_env(config)
    try:
        return StudentPolicy.load(run_dir / store.STUDENT_FILE, reference_policy(config, task, env), device=device)
    finally:
        env.close()


def fixed_teacher_table(eval_df: pd.DataFrame, arms: Mapping[str, Any], metrics: Sequence[str] = (), *, task=None,
                        n_boot: int | None = None, confidence: float | None = None, seed: int = 0) -> pd.DataFrame:
    """The premise table: per fixed-teacher arm (``arms``: ``{arm: study.presets.ArmSpec}``, in this order; arms
    without rows are left out), the fixed teacher's and its student's success and each of ``metrics`` (per-seed
    metrics of the task: :func:`study.tables.per_seed`), mean over seeds with the seeded bootstrap CI
    (:func:`study.tables.summarise_metric`, as the main tables).

    Columns: ``arm, teacher, algorithm, n_seeds`` (the student's seeds), then for ``policy`` in teacher, student and
    ``m`` in ``success, *metrics``: ``<policy>_<m>_mean``, ``<policy>_<m>_ci_low``, ``<policy>_<m>_ci_high`` (NaN
    where the rows lack the policy). A pure function of the rows."""
    kw = dict(n_boot=N_BOOT if n_boot is None else n_boot, confidence=CONFIDENCE if confidence is None else confidence,
              seed=seed)
    names = ("success", *metrics)
    cols = ["arm", "teacher", "algorithm", "n_seeds"] + [
        f"{p}_{m}_{s}" for p in ("teacher", "student") for m in names for s in ("mean", "ci_low", "ci_high")]
    seeds_df = per_seed(eval_df, task)
    seeds_df = seeds_df[seeds_df["arm"].isin(list(arms))]
    if seeds_df.empty:
        return pd.DataFrame(columns=cols)
    stats = {m: summarise_metric(seeds_df, m, ["arm", "policy"], **kw).set_index(["arm", "policy"]) for m in names}
    rows = []
    for arm, spec in arms.items():
        if arm not in set(seeds_df["arm"]):
            continue
        method = dict(getattr(spec, "method", {}) or {})
        student = seeds_df[(seeds_df["arm"] == arm) & (seeds_df["policy"] == "student")]
        row: dict[str, Any] = dict(arm=arm, teacher=method.get("teacher"), algorithm=method.get("algorithm"),
                                   n_seeds=int(student["seed"].nunique()))
        for policy in ("teacher", "student"):
            for m in names:
                have = (arm, policy) in stats[m].index
                for s, col in (("mean", "mean"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
                    row[f"{policy}_{m}_{s}"] = float(stats[m].loc[(arm, policy), col]) if have else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


#: the words of each algorithm in arm descriptions and claims
ALGORITHM_NAMES = {"bc": "BC", "dagger": "DAgger"}
#: the premise claims' rule in words (study.claims' ``better`` rule), written into each claim
PREMISE_RULE = ("rule: reproduced when the 95% bootstrap CI over seed pairs of the probability of improvement "
                "P(X > Y) + 0.5 P(X = Y) lies above 0.5; not reproduced when its upper end is <= 0.5; else "
                "inconclusive; at least 3 seeds a side")
PREMISE_SOURCE = "study: fair_comparison.md section 4 (the premise)"


def premise_arms(order: Sequence[str], arm_teachers: Mapping[str, str], teacher_words: Mapping[str, str],
                 view_words: str) -> dict:
    """A task's premise arms, named ``premise_<algorithm>_<which>`` (``order``): kind ``fixed_teacher`` with the
    algorithm and the teacher ``arm_teachers[which]``, described as "<BC|DAgger> student (``view_words``) of
    ``teacher_words[teacher]``"."""
    arms = {}
    for name in order:
        alg, which = name.split("_")[1:]
        teacher = arm_teachers[which]
        arms[name] = ArmSpec("fixed_teacher", "release", method=dict(teacher=teacher, algorithm=alg),
                             description=f"{ALGORITHM_NAMES[alg]} student ({view_words}) of {teacher_words[teacher]}")
    return arms


def premise_claims(id_prefix: str, title: str, experiment: str, comparison: str) -> tuple:
    """The premise claims of a task, fixed before its runs: for DAgger and for BC, the student of the view-keeping
    teacher (``premise_<alg>_view``) beats the other's (``premise_<alg>_hidden``) on student success; ids
    ``<id_prefix>premise:<alg>``, text "<title> premise: a <BC|DAgger> student imitates ``comparison`` (...)"."""
    return tuple(
        Claim(f"{id_prefix}premise:{alg}", f"{title} premise: a {ALGORITHM_NAMES[alg]} student imitates {comparison} "
              f"(student success, X = premise_{alg}_view, Y = premise_{alg}_hidden; {PREMISE_RULE})", experiment,
              f"premise_{alg}_view", "student", "success", kind="better", others=(f"premise_{alg}_hidden",),
              source=PREMISE_SOURCE)
        for alg in ("dagger", "bc")
    )


KIND = FixedTeacherKind()

__all__ = ["ALGORITHMS", "ALGORITHM_NAMES", "FixedTeacherKind", "FixedTeacherMethodConfig", "KIND", "PREMISE_RULE",
           "PREMISE_SOURCE", "fixed_teacher_table", "load_student", "premise_arms", "premise_claims",
           "reference_policy", "run_store_of"]
