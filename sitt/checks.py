"""Checks of configuration values, written once for every package of the project (the method's configs, the study's,
and each task's env and evaluation configs).

Every failed check raises ``ValueError("<field>: got <value>; allowed: <what is allowed>")``: the field's dotted name,
the bad value and the allowed values, before any work is done.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NoReturn

import numpy as np

__all__ = ["is_int", "is_number", "fail", "check_int", "check_number", "validate_seed"]


def is_int(x: Any) -> bool:
    """True for Python and numpy integers; False for ``bool`` and ``numpy.bool_`` (which are integers to Python)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def is_number(x: Any) -> bool:
    """True for finite Python and numpy reals (integers included); False for ``bool``, NaN and infinities."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_)) and math.isfinite(float(x))


def fail(name: str, value: Any, allowed: str) -> NoReturn:
    """Raise the project's error for field ``name``: ``"<name>: got <value!r>; allowed: <allowed>"``."""
    raise ValueError(f"{name}: got {value!r}; allowed: {allowed}")


def check_int(name: str, value: Any, lo: int) -> None:
    """``value`` is an integer (:func:`is_int`) ``>= lo``, else :func:`fail`."""
    if not is_int(value) or value < lo:
        fail(name, value, f"an integer >= {lo}")


def check_number(name: str, value: Any, lo: float, hi: float | None = None, lo_open: bool = False) -> None:
    """``value`` is a finite number (:func:`is_number`) ``>= lo`` (``> lo`` with ``lo_open``) and ``<= hi`` when
    ``hi`` is given, else :func:`fail`."""
    if not is_number(value) or (value <= lo if lo_open else value < lo) or (hi is not None and value > hi):
        lo_txt = f"> {lo}" if lo_open else f">= {lo}"
        fail(name, value, f"a finite number {lo_txt}" + (f" and <= {hi}" if hi is not None else ""))


def validate_seed(seed: Any, name: str = "seed") -> Any:
    """A seed for ``numpy.random.default_rng``: ``None`` (fresh OS entropy), an integer >= 0 (returned as ``int``),
    a ``numpy.random.SeedSequence`` or a ``numpy.random.Generator`` (returned as given); else :func:`fail`."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    if is_int(seed) and seed >= 0:
        return int(seed)
    fail(name, seed, "None, an int >= 0, a numpy SeedSequence or a numpy Generator")
