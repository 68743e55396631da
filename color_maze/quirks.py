"""Switches for the quirks of the authors' release (see ``shared/spec/color_maze.md``, "Quirks").

Each field of :class:`Quirks` is one quirk of the release; ``True`` keeps the
release's behaviour, ``False`` gives the corrected behaviour.

==========================  ==============================================================
field                       release (``True``)  ->  corrected (``False``)
==========================  ==============================================================
``last_cell_two_step``      (spec quirk 1) observation entries 8-9 are
                            ``pos(t+1) - (last + 1)`` where ``last`` is the position
                            *before* the previous step, i.e. a two-step displacement minus
                            one; right after an auto-reset ``last`` is the pre-step
                            position of the terminal step of the old episode.
                            Corrected: entries 8-9 are ``pos - last_pos`` where
                            ``last_pos`` is the position before the step just taken (the
                            one-step displacement, each entry in {-1, 0, 1}; (0, 0) after
                            bumping into the outer wall). At the start of an episode (after
                            ``reset()`` or an auto-reset) ``last_pos`` is the start cell, so
                            the first observation of every episode has (0, 0) there and the
                            first step's observation has ``pos - start``.
``terminal_obs_after_reset`` (quirk 2) ``info["terminal_observation"]`` is the observation
                            after the auto-reset (the start state of the next episode).
                            Corrected: it is the true last observation of the finished
                            episode (at the terminal cell, computed before the reset).
``any_termination_success`` (quirk 3) evaluation counts an env as successful if it
                            terminated in any way (fail cell included) within the
                            evaluation horizon. Corrected: success means reaching the
                            target. The env only carries this flag; the evaluation helper
                            reads it.
``float64_obs``             (quirk 4) observations are float64. Corrected: float32.
``render_bgr``              (quirk 5) renders swap the red and blue channels (fail area
                            red, path blue, as in the paper figure). Corrected: RGB
                            colours as intended (fail blue, path red). Carried for the
                            renderer.
``episode_length_minus_one`` (quirk 6) ``info["episode"]["l"]`` is one less than the
                            number of steps the episode took. Corrected: it equals the
                            number of steps.
==========================  ==============================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any
from collections.abc import Mapping

import numpy as np

__all__ = ["Quirks", "QuirksLike", "resolve_quirks", "QUIRK_NAMES", "QUIRK_PRESETS"]


@dataclass(frozen=True)
class Quirks:
    """One switch per quirk of the release: ``True`` = release behaviour, ``False`` = corrected."""

    last_cell_two_step: bool = True
    terminal_obs_after_reset: bool = True
    any_termination_success: bool = True
    float64_obs: bool = True
    render_bgr: bool = True
    episode_length_minus_one: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(
                    f"quirks: field {f.name!r} must be a bool, got {value!r} ({type(value).__name__})"
                )
            object.__setattr__(self, f.name, bool(value))

    @classmethod
    def release(cls) -> Quirks:
        """Every quirk on: behaves exactly like the authors' release."""
        return cls(**{name: True for name in QUIRK_NAMES})

    @classmethod
    def fixed(cls) -> Quirks:
        """Every quirk off: the corrected behaviour everywhere."""
        return cls(**{name: False for name in QUIRK_NAMES})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return QUIRK_NAMES

    def replace(self, **changes: bool) -> Quirks:
        """A copy with some switches changed (unknown names raise ValueError)."""
        return resolve_quirks({**self.as_dict(), **changes})

    def as_dict(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def is_release(self) -> bool:
        return all(self.as_dict().values())

    @property
    def is_fixed(self) -> bool:
        return not any(self.as_dict().values())


QUIRK_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Quirks))
QUIRK_PRESETS: tuple[str, ...] = ("release", "fixed")

QuirksLike = str | Quirks | Mapping[str, bool]


def resolve_quirks(quirks: Any = "release") -> Quirks:
    """Turn ``"release"``, ``"fixed"``, a :class:`Quirks` or a dict of overrides into a ``Quirks``.

    A dict overrides single switches on top of the release preset, e.g.
    ``{"float64_obs": False}`` is the release with float32 observations.
    Anything else raises ``ValueError`` naming the argument ``quirks``.
    """
    if isinstance(quirks, Quirks):
        return quirks
    if isinstance(quirks, str):
        if quirks == "release":
            return Quirks.release()
        if quirks == "fixed":
            return Quirks.fixed()
        raise ValueError(
            f"quirks must be one of {list(QUIRK_PRESETS)}, a Quirks instance or a dict of "
            f"overrides with keys in {list(QUIRK_NAMES)}; got the string {quirks!r}"
        )
    if isinstance(quirks, Mapping):
        unknown = [k for k in quirks if k not in QUIRK_NAMES]
        if unknown:
            raise ValueError(
                f"quirks: unknown quirk name(s) {unknown}; allowed names are {list(QUIRK_NAMES)}"
            )
        bad = {k: v for k, v in quirks.items() if not isinstance(v, (bool, np.bool_))}
        if bad:
            raise ValueError(
                f"quirks: values must be bools (True = release behaviour), got {bad}; "
                f"allowed names are {list(QUIRK_NAMES)}"
            )
        return dataclasses.replace(Quirks.release(), **{k: bool(v) for k, v in quirks.items()})
    raise ValueError(
        f"quirks must be one of {list(QUIRK_PRESETS)}, a Quirks instance or a dict of overrides "
        f"with keys in {list(QUIRK_NAMES)}; got {quirks!r} ({type(quirks).__name__})"
    )
