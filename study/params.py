"""Parameters given by people (CLI flags, notebook parameters), checked before any work.

* :func:`parse_seeds` / :func:`seed_list`: ``seeds`` means the same everywhere: a seed spec such as ``"0-9"``,
  ``"3"``, ``"0,2,5"`` or ``"0-4,10-14"`` (an int is the one seed it names, a list its seeds);
* :func:`notebook_defaults` reads a notebook's tagged ``parameters`` cell (names, default values, hence types);
* :func:`check_notebook_parameters` checks given parameters against them: unknown names, wrong types and bad values
  of ``profile``, ``seeds``, ``experiment``, ``arm`` raise ``ValueError`` naming the parameter and the allowed values.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

from study.presets import experiments, profile_names
from study.registry import get_task

SEEDS_HELP = "a seed spec, e.g. 0-9, 3, 0,2,5 or 0-4,10-14"


def parse_seeds(text: str) -> list[int]:
    """``"0-9"``, ``"3"``, ``"0,2,5"`` or ``"0-4,10-14"`` -> sorted unique seeds."""
    seeds: set[int] = set()
    try:
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                seeds.update(range(lo, hi + 1))
            else:
                seeds.add(int(part))
    except ValueError:
        raise ValueError(f"seeds: got {text!r}; allowed: {SEEDS_HELP}") from None
    if not seeds or min(seeds) < 0:
        raise ValueError(f"seeds: got {text!r}; allowed: non-negative integers, {SEEDS_HELP}")
    return sorted(seeds)


def seed_list(seeds: str | int | Iterable[int]) -> list[int]:
    """A seed spec (:func:`parse_seeds`), one seed (an int) or an iterable of seeds -> sorted unique seeds."""
    if isinstance(seeds, bool):
        raise ValueError(f"seeds: got {seeds!r}; allowed: {SEEDS_HELP}")
    if isinstance(seeds, str):
        return parse_seeds(seeds)
    if isinstance(seeds, int):
        return parse_seeds(str(seeds))
    try:
        values = list(seeds)
    except TypeError:
        raise ValueError(f"seeds: got {seeds!r}; allowed: {SEEDS_HELP}") from None
    if not values or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in values):
        raise ValueError(f"seeds: got {seeds!r}; allowed: {SEEDS_HELP}")
    return sorted(set(values))


def notebook_defaults(source: str | Path) -> dict[str, Any]:
    """The assignments of a jupytext (py:percent) notebook's cell tagged ``parameters``: ``{name: default}``.
    ``ValueError`` when the notebook has no such cell."""
    text = Path(source).read_text(encoding="utf-8")
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("# %%") and "parameters" in line), None)
    if start is None:
        raise ValueError(f"{source}: no cell tagged 'parameters'")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("# %%")), len(lines))
    tree = ast.parse("\n".join(lines[start + 1:end]))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def _type_ok(default: Any, value: Any) -> bool:
    if default is None or value is None and default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))


def check_notebook_parameters(name: str, defaults: Mapping[str, Any], given: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the first bad parameter of notebook ``name``: unknown names (the allowed names
    listed), values whose type differs from the default's, an unknown ``profile``, ``experiment`` or ``arm``, or a
    bad ``seeds`` spec."""
    for key, value in given.items():
        if key not in defaults:
            raise ValueError(f"{name}: unknown parameter {key!r}; allowed: {', '.join(defaults)}")
        default = defaults[key]
        if key == "seeds":
            seed_list(value)
            continue
        if not _type_ok(default, value):
            raise ValueError(f"{name}: parameter {key}: got {value!r} ({type(value).__name__}); allowed: a "
                             f"{type(default).__name__} like the default {default!r}")
    values = {**defaults, **given}
    table = experiments()
    experiment = values.get("experiment")
    if "experiment" in values and experiment not in table:
        raise ValueError(f"{name}: parameter experiment: got {experiment!r}; allowed: {', '.join(table)}")
    if "profile" in values:
        allowed = profile_names(experiment) if experiment in table else profile_names()
        if values["profile"] not in allowed:
            raise ValueError(f"{name}: parameter profile: got {values['profile']!r}; allowed: {', '.join(allowed)}")
    for key in ("arm", "sitt_arm"):
        if key in values and values[key] is not None:
            task = get_task(table[experiment][0]) if experiment in table else None
            arms = tuple(task.arms) if task is not None else tuple(a for _, arms in table.values() for a in arms)
            if values[key] not in arms:
                raise ValueError(f"{name}: parameter {key}: got {values[key]!r}; "
                                 f"allowed: {', '.join(dict.fromkeys(arms))}")
