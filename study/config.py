"""Experiments as data: a typed, validated, JSON-serialisable description of one training run.

An :class:`ExperimentConfig` is everything that decides what one run computes: which task (environment, see
:mod:`study.task`), which arm (a SITT variant or a baseline), its training kind, the SITT recipe and switches, the
task's env and evaluation configs, PPO's hyper-parameters, the budget, the seed and the imitation settings.
:mod:`study.presets` builds them by name; :func:`study.run_one`
executes one; its run directory is ``<root>/<experiment>/<arm>/seed_<k>`` (:attr:`ExperimentConfig.run_id`).

A config is inert data: building one imports no task. The task is resolved where it is needed:
:meth:`ExperimentConfig.resolve` (the task's env and eval dataclasses, looked up through :mod:`study.registry`), which
:meth:`~ExperimentConfig.from_dict` (reading a config), :meth:`~ExperimentConfig.to_dict` (its identity) and
:meth:`~ExperimentConfig.validate` call. Validation runs before any work (:func:`study.run.run_one`,
:func:`study.sweep.sweep` and :func:`study.presets.preset` call it) and raises ``ValueError`` whose message starts with
the dotted name of the offending field (``"ppo.batch_size: ..."``, ``"switches.reward_coef: ..."``).

Seeds: ``seed`` seeds PPO (network initialisation, action sampling, minibatch order) and the run's training env
(for the maze: its training mazes); the held-out set comes from the evaluation config's own seed, the same for every
arm and seed of a study, which the task checks never equals a training seed.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitt.checks import check_int, check_number, fail, is_int
from sitt.config import RECIPES, SITTConfig
from study.registry import get_kind, get_task, kind_names
from study.task import check_tuning_seeds

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+=-]*$")


def from_mapping(cls: type, data: Any, prefix: str) -> Any:
    """Build dataclass ``cls`` from a mapping, naming unknown keys by their dotted path."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ValueError(f"{prefix.rstrip('.')}: got {data!r}; allowed: a mapping of {cls.__name__} fields")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{prefix}{unknown[0]}: unknown field; allowed: {', '.join(sorted(names))}")
    return cls(**data)


@dataclass
class PPOConfig:
    """PPO's hyper-parameters (SB3 names). ``batch_size=None`` means one full-batch minibatch (as released)."""

    n_steps: int = 16
    batch_size: int | None = None
    n_epochs: int = 10
    learning_rate: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.3
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5

    def validate(self, n_envs: int) -> PPOConfig:
        check_int("ppo.n_steps", self.n_steps, 1)
        rollout = n_envs * self.n_steps
        if rollout < 2:
            fail("ppo.n_steps", self.n_steps, "n_steps * env.n_envs >= 2 (SB3 needs two samples per roll-out)")
        if self.batch_size is not None and (not is_int(self.batch_size) or not 2 <= self.batch_size <= rollout):
            fail("ppo.batch_size", self.batch_size,
                 f"None (full batch) or an integer in [2, n_steps * n_envs = {rollout}]")
        check_int("ppo.n_epochs", self.n_epochs, 1)
        check_number("ppo.learning_rate", self.learning_rate, 0.0, lo_open=True)
        check_number("ppo.gamma", self.gamma, 0.0, 1.0)
        check_number("ppo.gae_lambda", self.gae_lambda, 0.0, 1.0)
        check_number("ppo.clip_range", self.clip_range, 0.0, lo_open=True)
        check_number("ppo.ent_coef", self.ent_coef, 0.0)
        check_number("ppo.vf_coef", self.vf_coef, 0.0)
        check_number("ppo.max_grad_norm", self.max_grad_norm, 0.0, lo_open=True)
        return self

    def full_batch_size(self, n_envs: int) -> int:
        """The minibatch size handed to SB3: ``batch_size``, or the whole roll-out when it is None."""
        return self.n_steps * n_envs if self.batch_size is None else self.batch_size

    def sb3_kwargs(self, n_envs: int) -> dict[str, Any]:
        kwargs = dataclasses.asdict(self)
        kwargs["batch_size"] = self.full_batch_size(n_envs)
        return kwargs


@dataclass
class ImitationConfig:
    """Settings of the BC and DAgger baselines (:func:`sitt.baselines.behaviour_cloning`,
    :func:`sitt.baselines.dagger`).

    Both roll out on the run's training mazes (``env.n_envs`` envs, the teacher's own training set), so each BC
    roll-out collects ``bc_n_steps_per_env * n_envs`` states and each DAgger iteration ``dagger_n_steps_per_env *
    n_envs``. ``*_batch_size=None`` means full batch.

    ``student_net_arch``: hidden sizes of the student's encoder, a fresh MLP (the last size must be the teacher's
    feature size); None (default) = the study's student (:func:`sitt.networks.student_encoder`): a copy of the
    teacher's policy MLP when the student's view has the teacher's size (the release's maze student), else a fresh MLP
    with the teacher's hidden sizes. A task whose control view IS the teacher's observation sets it, so that that
    student learns from scratch like the others instead of starting as the teacher.
    """

    bc_n_steps_per_env: int = 64
    bc_epochs: int = 20
    bc_batch_size: int | None = 1024
    bc_lr: float = 1e-3
    dagger_iterations: int = 5
    dagger_n_steps_per_env: int = 32
    dagger_beta0: float = 1.0
    dagger_beta_decay: float = 0.5
    dagger_epochs: int = 10
    dagger_batch_size: int | None = 1024
    dagger_lr: float = 1e-3
    deterministic_teacher: bool = False
    student_net_arch: list[int] | None = None

    def validate(self) -> ImitationConfig:
        check_int("imitation.bc_n_steps_per_env", self.bc_n_steps_per_env, 1)
        check_int("imitation.bc_epochs", self.bc_epochs, 1)
        if self.bc_batch_size is not None:
            check_int("imitation.bc_batch_size", self.bc_batch_size, 1)
        check_number("imitation.bc_lr", self.bc_lr, 0.0, lo_open=True)
        check_int("imitation.dagger_iterations", self.dagger_iterations, 1)
        check_int("imitation.dagger_n_steps_per_env", self.dagger_n_steps_per_env, 1)
        check_number("imitation.dagger_beta0", self.dagger_beta0, 0.0, 1.0)
        check_number("imitation.dagger_beta_decay", self.dagger_beta_decay, 0.0, 1.0)
        check_int("imitation.dagger_epochs", self.dagger_epochs, 1)
        if self.dagger_batch_size is not None:
            check_int("imitation.dagger_batch_size", self.dagger_batch_size, 1)
        check_number("imitation.dagger_lr", self.dagger_lr, 0.0, lo_open=True)
        if not isinstance(self.deterministic_teacher, bool):
            fail("imitation.deterministic_teacher", self.deterministic_teacher, "True or False")
        if self.student_net_arch is not None and (
                not isinstance(self.student_net_arch, (list, tuple)) or not self.student_net_arch
                or not all(is_int(h) and h >= 1 for h in self.student_net_arch)):
            fail("imitation.student_net_arch", self.student_net_arch,
                 "None (the study's student) or a non-empty list of positive integers")
        return self

    def _net_arch(self) -> dict[str, Any]:
        return {} if self.student_net_arch is None else {"net_arch": list(self.student_net_arch)}

    def bc_kwargs(self) -> dict[str, Any]:
        return dict(
            n_steps_per_env=self.bc_n_steps_per_env,
            epochs=self.bc_epochs,
            batch_size=self.bc_batch_size,
            lr=self.bc_lr,
            deterministic_teacher=self.deterministic_teacher,
            **self._net_arch(),
        )

    def dagger_kwargs(self) -> dict[str, Any]:
        return dict(
            iterations=self.dagger_iterations,
            n_steps_per_env=self.dagger_n_steps_per_env,
            beta0=self.dagger_beta0,
            beta_decay=self.dagger_beta_decay,
            epochs=self.dagger_epochs,
            batch_size=self.dagger_batch_size,
            lr=self.dagger_lr,
            deterministic_teacher=self.deterministic_teacher,
            **self._net_arch(),
        )


@dataclass
class ExperimentConfig:
    """One run: task, arm, training kind, recipe and switches, env, PPO, budget, seed, evaluation and imitation.

    :param experiment: name of the study the run belongs to (a directory name, e.g. ``"main"``).
    :param arm: name of the arm (a directory name, e.g. ``"sitt_release"``).
    :param seed: training seed (PPO and the training env), an integer >= 0 that the task checks against the held-out
        set's seed.
    :param profile: name of the budget profile it was built from (``smoke``, ``default``, ``release``); recorded only.
    :param task: the task (environment) of :data:`study.registry.TASKS`; required (a stored config written before
        this field existed is read by :func:`study.load.load_config`, which knows whose it is).
    :param kind: the training kind of :data:`study.registry.KINDS`: ``"sitt"`` (a SITT model is trained: SITT, its
        ablations, the plain and without-alignment teachers), ``"bc"`` or ``"dagger"`` (a student imitates the teacher
        of the run ``teacher_from``), and the other baselines.
    :param recipe: the SITT recipe (``"release"`` or ``"paper"``); for a kind with a teacher run, that run's.
    :param switches: :class:`sitt.config.SITTConfig` fields overriding the recipe; for BC/DAgger, those of the teacher.
    :param env: the task's env config (``task.env_config``; a dict is converted); None: the task's defaults.
    :param eval: the task's evaluation config (``task.eval_config``); None: the task's defaults.
    :param method: the hyper-parameters of a kind with its own config (``hlrl``, ``cosil``, ``dwbc``: fields of its
        config dataclass, see :mod:`study.kinds.student_rl`); empty: the method's defaults.
    :param total_timesteps: PPO's budget in env steps (for BC/DAgger: the teacher's; for HLRL/COSIL: the student's).
    :param teacher_from: for kinds that imitate a teacher, the arm whose teacher they use (same experiment, seed and
        settings).
    :param student_view: which view the run's student gets: None (default) = the task's standard view (its env's
        ``student_obs``; every config written before this field existed means that), or a name of the task's
        :attr:`~study.task.Task.student_views` (e.g. a control view: the flight task's 360-degree scan). For a kind
        with a teacher run it is this run's student's view; the teacher run itself keeps the standard view.
    :param device: torch device (``"cpu"``: the study's MLPs are fastest there).
    :param tensorboard: also write SB3's tensorboard logs into ``<run_dir>/tensorboard``.
    """

    experiment: str
    arm: str
    seed: int = 0
    profile: str = "custom"
    task: str | None = None
    kind: str = "sitt"
    recipe: str = "release"
    switches: dict[str, Any] = field(default_factory=dict)
    env: Any = None
    ppo: PPOConfig = field(default_factory=PPOConfig)
    eval: Any = None
    imitation: ImitationConfig = field(default_factory=ImitationConfig)
    method: dict[str, Any] = field(default_factory=dict)
    total_timesteps: int = 3_000_000
    teacher_from: str | None = None
    student_view: str | None = None
    device: str = "cpu"
    tensorboard: bool = False

    def resolve(self) -> ExperimentConfig:
        """The task's own configs in place: ``env`` and ``eval`` None become the task's defaults, dicts its dataclasses
        (unknown keys named: ``env.nope: unknown field; allowed: ...``); returns ``self``. ``ValueError`` naming
        ``task`` and the registered tasks for an unknown task. The one step that looks the task up."""
        task = get_task(self.task)
        if self.env is None:
            self.env = task.env_config()
        elif isinstance(self.env, dict):
            self.env = from_mapping(task.env_config, self.env, "env.")
        if self.eval is None:
            self.eval = task.eval_config()
        elif isinstance(self.eval, dict):
            self.eval = from_mapping(task.eval_config, self.eval, "eval.")
        return self

    # ------------------------------------------------------------------ identity

    @property
    def run_id(self) -> str:
        """``<experiment>/<arm>/seed_<k>``: the run's identity and its directory relative to the store root."""
        return f"{self.experiment}/{self.arm}/seed_{self.seed}"

    @property
    def relative_dir(self) -> Path:
        """The run directory relative to the store root: ``Path(experiment, arm, f"seed_{seed}")``."""
        return Path(self.experiment, self.arm, f"seed_{self.seed}")

    def run_dir(self, root: str | Path) -> Path:
        return Path(root) / self.relative_dir

    # ------------------------------------------------------------------ derived

    def task_object(self):
        """The registered :class:`study.task.Task` of this config."""
        return get_task(self.task)

    def kind_object(self):
        """The registered :class:`study.kinds.Kind` of this config."""
        return get_kind(self.kind)

    def sitt_config(self) -> SITTConfig:
        """The resolved :class:`SITTConfig` (recipe defaults overridden by ``switches``), validated."""
        return SITTConfig.from_recipe(self.recipe, **self.switches)

    def teacher_config(self) -> ExperimentConfig:
        """For a kind that imitates a teacher: the config of the run whose teacher it uses (same everything, arm
        ``teacher_from``, kind ``"sitt"``, the task's standard student view)."""
        if not self.kind_object().needs_teacher:
            raise ValueError(f"kind: {self.arm!r} is a {self.kind!r} run; "
                             "only runs of kinds with a teacher run have one")
        return self.replace(arm=self.teacher_from, kind="sitt", teacher_from=None, method={}, student_view=None)

    def training_key(self) -> str:
        """What decides the trained model and its evaluation, as canonical JSON: every field except the names
        (``experiment``, ``arm``, ``profile``) and ``tensorboard``; the recipe and switches enter as the resolved
        :class:`SITTConfig` less its recipe label (``{"reward_sign": -1}`` and ``{"reward_sign": -1, "reward_coef":
        1.9}`` on the release recipe are one run); a run with a teacher run enters with that run's key instead of
        the teacher's arm name. Two configs with one key are the same run under two names (``sitt_release`` of the
        main study and of the ablations), which :func:`study.run.run_one` copies instead of retraining.
        """
        data = self.to_dict()
        for name in ("experiment", "arm", "profile", "tensorboard", "recipe", "switches", "teacher_from"):
            data.pop(name)
        sitt = dataclasses.asdict(self.sitt_config())
        sitt.pop("recipe")
        data["sitt"] = sitt
        if self.kind_object().needs_teacher:
            data["teacher"] = json.loads(self.teacher_config().training_key())
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @property
    def rollout_size(self) -> int:
        return self.env.n_envs * self.ppo.n_steps

    # ------------------------------------------------------------------ validation

    def validate(self) -> ExperimentConfig:
        """Raise ``ValueError`` naming the first bad field (dotted: ``ppo.batch_size``); return ``self`` when valid."""
        for name in ("experiment", "arm", "profile"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _NAME.match(value) or ".." in value:
                fail(name, value, "a non-empty name of letters, digits and _ . + = - (a directory name)")
        check_int("seed", self.seed, 0)
        self.resolve()
        task = get_task(self.task)
        if self.kind not in kind_names():
            fail("kind", self.kind, ", ".join(kind_names()))
        kind = get_kind(self.kind)
        for name, cls in (("env", task.env_config), ("ppo", PPOConfig), ("eval", task.eval_config),
                          ("imitation", ImitationConfig)):
            if not isinstance(getattr(self, name), cls):
                fail(name, getattr(self, name), f"a {cls.__name__} (task {self.task!r})")
        self.env.validate()
        self.ppo.validate(self.env.n_envs)
        self.eval.validate()
        self.imitation.validate()
        check_tuning_seeds(task, self)
        task.validate(self)
        if not is_int(self.total_timesteps) or self.total_timesteps < self.rollout_size:
            fail("total_timesteps", self.total_timesteps,
                 f"an integer >= one roll-out (env.n_envs * ppo.n_steps = {self.rollout_size})")
        if self.recipe not in RECIPES:
            fail("recipe", self.recipe, ", ".join(RECIPES))
        if not isinstance(self.switches, dict):
            fail("switches", self.switches, "a dict of SITTConfig fields")
        if "recipe" in self.switches:
            fail("switches.recipe", self.switches["recipe"], "no such switch: set the recipe with the `recipe` field")
        try:
            SITTConfig.from_recipe(self.recipe, **self.switches)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"switches.{exc}") from None
        if not isinstance(self.method, dict):
            fail("method", self.method, "a dict of the kind's config fields")
        kind.check_method(self.method)
        if not kind.needs_teacher:
            if self.teacher_from is not None:
                fail("teacher_from", self.teacher_from, f"None for a {self.kind} run (it trains its own teacher)")
        else:
            name = self.teacher_from
            if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
                fail("teacher_from", self.teacher_from, f"the arm name of the teacher run a {self.kind} run imitates")
            if self.teacher_from == self.arm:
                fail("teacher_from", self.teacher_from, "an arm other than the run's own")
        views = tuple(task.student_views)
        if self.student_view is not None and self.student_view not in views:
            fail("student_view", self.student_view,
                 "None (the task's standard view)" + (f" or one of {', '.join(views)}" if views else
                                                      f": task {self.task!r} names no other student view"))
        if not isinstance(self.device, str) or not self.device:
            fail("device", self.device, 'a torch device name ("cpu", "cuda", "auto")')
        if not isinstance(self.tensorboard, bool):
            fail("tensorboard", self.tensorboard, "True or False")
        try:
            json.dumps(self.to_dict(), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"switches: not JSON-serialisable ({exc}); allowed: JSON values") from None
        return self

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (nested dicts for env, ppo, eval, imitation) of the resolved config (:meth:`resolve`);
        :meth:`from_dict` inverts it."""
        return json.loads(json.dumps(dataclasses.asdict(self.resolve())))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentConfig:
        """Inverse of :meth:`to_dict`, resolved (:meth:`resolve`: the task's env and eval dataclasses); unknown keys
        raise ``ValueError`` naming them. Not validated (call :meth:`validate`); missing keys take their defaults (so
        configs written before a field was added still load), except ``task``, which is required (``ValueError``
        naming it; a stored config older than the field: :func:`study.load.load_config`)."""
        if not isinstance(data, dict):
            raise ValueError(f"config: got {type(data).__name__}; allowed: a mapping")
        top = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - top)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown field; allowed: {', '.join(sorted(top))}")
        values = dict(data)
        for name, sub in (("ppo", PPOConfig), ("imitation", ImitationConfig)):
            if name in values:
                values[name] = from_mapping(sub, values[name], f"{name}.")
        for name in ("experiment", "arm"):
            if name not in values:
                raise ValueError(f"{name}: missing; allowed: a name")
        for name in ("switches", "method"):
            if name in values and isinstance(values[name], dict):
                values[name] = dict(values[name])
        return cls(**values).resolve()

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExperimentConfig:
        return cls.from_dict(json.loads(text))

    def replace(self, **changes: Any) -> ExperimentConfig:
        """A copy with top-level fields changed (``dataclasses.replace``); nested configs are copied, not shared."""
        return dataclasses.replace(copy.deepcopy(self), **changes)

    def dotted_fields(self) -> list[str]:
        """Every field name :meth:`override` accepts, dotted (``ppo.n_steps``, ``env.n_envs``, ``switches.<name>``)."""
        out = []
        for key, value in self.to_dict().items():
            if key == "switches":
                out += [f"switches.{name}" for name in SITTConfig.field_names() if name != "recipe"]
            elif key == "method":
                out += [f"method.{name}" for name in get_kind(self.kind).method_fields()]
            elif isinstance(value, dict):
                out += [f"{key}.{sub}" for sub in value]
            else:
                out.append(key)
        return out

    def override(self, dotted: dict[str, Any]) -> ExperimentConfig:
        """A copy with fields set by dotted name: ``{"ppo.n_steps": 64, "switches.reward_coef": 0.5, "seed": 3}``.

        Unknown names raise ``ValueError`` naming them and listing the valid ones; the result is not validated (call
        :meth:`validate`).
        """
        data = self.to_dict()
        for key, value in dotted.items():
            parts = key.split(".")
            if parts[0] in ("switches", "method") and len(parts) == 2:
                data[parts[0]][parts[1]] = value
                continue
            node = data
            for part in parts[:-1]:
                if not isinstance(node.get(part), dict):
                    raise ValueError(f"{key}: unknown field; allowed: {', '.join(self.dotted_fields())}")
                node = node[part]
            if parts[-1] not in node or isinstance(node[parts[-1]], dict):
                raise ValueError(f"{key}: unknown field; allowed: {', '.join(self.dotted_fields())}")
            node[parts[-1]] = value
        return ExperimentConfig.from_dict(data)
