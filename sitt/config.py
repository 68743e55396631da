"""Typed, validated configuration of SITT's three phases.

A :class:`SITTConfig` says, for each phase of the method, what is on and how strong it is:

* roll-out (``reward_*``): the term added to the environment reward, ``sign * coef * KL(teacher || proxy)``;
* policy update (``update_*``): the extra term in the PPO loss (``"feature_l1"`` as released, ``"kl"`` as in the
  paper, or ``"off"``);
* alignment (``align_*``): the supervised phase that pulls the student to the teacher and the proxy to the student.

Two recipes give the defaults (:func:`recipe_defaults`); every field can be overridden on its own, which is how the
ablations are expressed. Validation happens in :meth:`SITTConfig.validate`, before any network is built or any step
is taken, and names the offending field and the allowed values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

RECIPES = ("release", "paper")
UPDATE_TERMS = ("off", "feature_l1", "kl")
KL_SOURCES = ("proxy", "student")
ACTIVATIONS = ("tanh", "relu")
ACTION_DISTANCES = ("raw", "clipped")  # sitt.distributions.ACTION_DISTANCES (this module imports no torch)


def recipe_defaults(recipe: str) -> dict[str, Any]:
    """Field values a recipe sets. ``release`` follows the authors' code (``sitt_release.md``), ``paper`` the text.

    ``release``:
        reward += 1.9 x KL(teacher || proxy) on the observation the action was taken from (sign +1, coefficient 1.9,
        both from the release's roll-out loop); PPO loss += 0.01 x L1(teacher features, proxy features detached)
        (weight 0.01 from the release's ``train``); 20 full-batch alignment steps per iteration with Adam at 1e-4.

    ``paper``:
        reward -= lambda1 x KL(teacher || proxy) (the paper's penalty, Sec. 4.1) with ``lambda1 = 1.9``: the release's
        magnitude, so that the sign is the only difference between the two recipes' roll-out terms. The paper gives no
        maze value; its manipulation ablation uses 0.05 and 0.025, which the study's lambda1 sweep covers.
        PPO loss += lambda2 x KL(teacher || proxy) with the proxy frozen (the paper's direct KL gradient) with
        ``lambda2 = 1.0``: the paper's objective E[r] - E[KL] differentiated with unit weight on the KL, next to PPO's
        normalised-advantage surrogate whose gradients are also of order one. Alignment as in the release (the paper
        describes the same L1 losses on features and on the frozen decoder's outputs). For Box actions the KL term's
        gradient reaches the shared log-std (``kl_grad_log_std=True``: the paper's "also enlarges Sigma_T, which
        increases exploration"); the release's maze is Discrete, where the switch changes nothing.
    """
    common = dict(
        reward_term=True,
        align=True,
        align_epochs=20,
        align_batch_size=None,
        align_subset=1.0,
        align_lr=1e-4,
        shared_head=True,
        kl_source="proxy",
        action_distance="raw",
    )
    if recipe == "release":
        return dict(
            common, reward_sign=1, reward_coef=1.9, update_term="feature_l1", update_weight=0.01, kl_grad_log_std=False
        )
    if recipe == "paper":
        return dict(common, reward_sign=-1, reward_coef=1.9, update_term="kl", update_weight=1.0, kl_grad_log_std=True)
    raise ValueError(f"recipe: unknown recipe {recipe!r}; allowed values: {', '.join(RECIPES)}")


@dataclass
class SITTConfig:
    """What SITT adds to PPO, phase by phase. Build it with :meth:`from_recipe`; fields are validated.

    :param recipe: ``"release"`` or ``"paper"``: where the defaults come from (see :func:`recipe_defaults`).
    :param reward_term: roll-out phase on/off: add ``reward_sign * reward_coef * KL(teacher || proxy)`` to each reward.
    :param reward_sign: ``+1`` (release: a bonus) or ``-1`` (paper: a penalty).
    :param reward_coef: the coefficient (lambda1), >= 0.
    :param update_term: policy-update phase term: ``"off"``, ``"feature_l1"`` (release: L1 between the teacher's
        policy features and the proxy's, proxy detached) or ``"kl"`` (paper: KL(teacher || proxy), proxy frozen).
    :param update_weight: its weight (lambda2), >= 0.
    :param kl_grad_log_std: Box actions, ``update_term="kl"``: whether the term's gradient reaches the teacher's
        (shared) log-std (paper: on, the term enlarges Sigma_T; release: off, the log-std is detached). No effect for
        Discrete actions. See :func:`sitt.distributions.kl_divergence` for the gradient.
    :param align: alignment phase on/off (off: the student and proxy are never trained).
    :param align_epochs: passes over the alignment data per iteration (release: 20).
    :param align_batch_size: minibatch size of the alignment phase; ``None`` = full batch (release).
    :param align_subset: fraction in (0, 1] of the roll-out's samples used for alignment (drawn afresh each iteration).
    :param align_lr: Adam learning rate of the student and proxy (release: 1e-4).
    :param shared_head: the student and proxy use the teacher's action head (frozen while aligning). Off: the student
        has its own head (initialised as a copy of the teacher's, trained by the alignment phase) and the proxy uses it.
    :param kl_source: ``"proxy"`` (the method: the proxy estimates the student from the teacher's observation) or
        ``"student"`` (oracle ablation: the true student on the student observation, possible when the student view is
        cheap to compute, as in the maze).
    :param student_net_arch: hidden sizes of the student encoder's MLP (after SB3's features extractor for the student's
        space); ``None`` = a copy of the teacher's policy MLP when the student's flat view has the teacher's size
        (release), else the teacher's hidden sizes (:func:`sitt.networks.student_encoder`). When given, the last size
        must equal the teacher's feature size (the head is shared).
    :param proxy_net_arch: hidden sizes of the proxy encoder's MLP, after SB3's features extractor for the teacher's
        space (release: ``[64, 64]``; left at that default on a teacher whose feature size D is not 64, ``[64, D]``).
    :param proxy_activations: activation after each proxy layer (release: ``["relu", "tanh"]``).
    :param action_distance: how every distance between teacher, proxy and student actions is measured: ``"raw"``
        (both recipes, every committed run: the head outputs as they are) or ``"clipped"`` (Box actions: Gaussian
        means clamped to the action bounds, what the env executes; :func:`sitt.distributions.executed_output` argues
        the choice). It applies to the roll-out KL, the KL update term and the alignment's two output terms (the
        feature terms have no actions); Discrete actions are unaffected.
    """

    recipe: str = "release"
    reward_term: bool = True
    reward_sign: int = 1
    reward_coef: float = 1.9
    update_term: str = "feature_l1"
    update_weight: float = 0.01
    kl_grad_log_std: bool = False
    align: bool = True
    align_epochs: int = 20
    align_batch_size: int | None = None
    align_subset: float = 1.0
    align_lr: float = 1e-4
    shared_head: bool = True
    kl_source: str = "proxy"
    student_net_arch: list[int] | None = None
    proxy_net_arch: list[int] = field(default_factory=lambda: [64, 64])
    proxy_activations: list[str] = field(default_factory=lambda: ["relu", "tanh"])
    action_distance: str = "raw"

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_recipe(cls, recipe: str = "release", **switches: Any) -> SITTConfig:
        """The recipe's defaults with ``switches`` overriding single fields; validated."""
        unknown = sorted(set(switches) - set(cls.field_names()))
        if unknown:
            raise ValueError(
                f"{unknown[0]}: unknown SITT switch; allowed switches: "
                f"{', '.join(n for n in cls.field_names() if n != 'recipe')}"
            )
        values = recipe_defaults(recipe)
        values.update(switches)
        return cls(recipe=recipe, **values).validate()

    @property
    def uses_student(self) -> bool:
        """Whether a student (and proxy) exist at all: needed by any of the three phases."""
        return self.align or self.reward_term or self.update_term != "off"

    @property
    def needs_student_obs(self) -> bool:
        """Whether training needs the student's observation (alignment, or the oracle KL source)."""
        return self.align or (self.kl_source == "student" and (self.reward_term or self.update_term != "off"))

    def validate(self) -> SITTConfig:
        """Raise ``ValueError`` naming the first bad field and its allowed values; return ``self`` when valid."""

        def bad(name: str, allowed: str) -> None:
            raise ValueError(f"{name}: got {getattr(self, name)!r}; allowed: {allowed}")

        if self.recipe not in RECIPES:
            bad("recipe", ", ".join(RECIPES))
        for name in ("reward_term", "align", "shared_head", "kl_grad_log_std"):
            if not isinstance(getattr(self, name), bool):
                bad(name, "True or False")
        if self.reward_sign not in (1, -1) or isinstance(self.reward_sign, bool):
            bad("reward_sign", "+1 (release: bonus) or -1 (paper: penalty)")
        if not _is_number(self.reward_coef) or self.reward_coef < 0:
            bad("reward_coef", "a number >= 0")
        if self.update_term not in UPDATE_TERMS:
            bad("update_term", ", ".join(UPDATE_TERMS))
        if not _is_number(self.update_weight) or self.update_weight < 0:
            bad("update_weight", "a number >= 0")
        if not _is_int(self.align_epochs) or self.align_epochs < 1:
            bad("align_epochs", "an integer >= 1")
        if self.align_batch_size is not None and (not _is_int(self.align_batch_size) or self.align_batch_size < 1):
            bad("align_batch_size", "None (full batch) or an integer >= 1")
        if not _is_number(self.align_subset) or not 0 < self.align_subset <= 1:
            bad("align_subset", "a fraction in (0, 1]")
        if not _is_number(self.align_lr) or self.align_lr <= 0:
            bad("align_lr", "a number > 0")
        if self.kl_source not in KL_SOURCES:
            bad("kl_source", ", ".join(KL_SOURCES))
        if self.action_distance not in ACTION_DISTANCES:
            bad("action_distance", ", ".join(ACTION_DISTANCES))
        if self.student_net_arch is not None and (
            not isinstance(self.student_net_arch, (list, tuple))
            or not self.student_net_arch
            or not all(_is_int(h) and h >= 1 for h in self.student_net_arch)
        ):
            bad("student_net_arch", "None (the default student) or a non-empty list of positive integers")
        if (
            not isinstance(self.proxy_net_arch, (list, tuple))
            or not self.proxy_net_arch
            or not all(_is_int(h) and h >= 1 for h in self.proxy_net_arch)
        ):
            bad("proxy_net_arch", "a non-empty list of positive integers")
        if (
            not isinstance(self.proxy_activations, (list, tuple))
            or len(self.proxy_activations) != len(self.proxy_net_arch)
            or not all(a in ACTIVATIONS for a in self.proxy_activations)
        ):
            bad("proxy_activations", f"one of {', '.join(ACTIVATIONS)} per proxy layer ({len(self.proxy_net_arch)})")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
