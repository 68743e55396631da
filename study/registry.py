"""The two registries of the study: tasks (environments) and training kinds. One line each.

* :data:`TASKS`: task name -> ``"module:attribute"`` of its :class:`study.task.Task` (imported on first use, so the
  study does not import every environment);
* :data:`KINDS`: training kind -> ``"module:attribute"`` of its :class:`study.kinds.Kind`.

Adding a task = its package (with a ``task.py``) + one line in :data:`TASKS`; adding a training kind = its module +
one line in :data:`KINDS`. Tests and notebooks may also :func:`register_task` an object directly.
"""

from __future__ import annotations

import importlib
from typing import Any

TASKS: dict[str, Any] = {
    "color_maze": "color_maze.task:TASK",
    "fov_flight": "fov_flight.task:TASK",
    "occluded_drawer": "occluded_drawer.task:TASK",
    "minigrid_lava": "minigrid_lava.task:TASK",
}

KINDS: dict[str, Any] = {
    "sitt": "study.kinds.sitt:KIND",
    "bc": "study.kinds.imitation:BC",
    "dagger": "study.kinds.imitation:DAGGER",
    "hlrl": "study.kinds.student_rl:HLRL",
    "cosil": "study.kinds.student_rl:COSIL",
    "dwbc": "study.kinds.student_rl:DWBC",
    "student_rl": "study.kinds.student_rl:STUDENT_RL",
    "fixed_teacher": "study.kinds.fixed_teacher:KIND",
}

def _resolve(table: dict[str, Any], name: str, what: str) -> Any:
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"{what}: got {name!r}; allowed: {', '.join(table)}")
    entry = table[name]
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        entry = getattr(importlib.import_module(module), attr)
        table[name] = entry
    return entry


def get_task(name: str):
    """The :class:`study.task.Task` registered as ``name``; ``ValueError`` naming ``task`` and the allowed names."""
    return _resolve(TASKS, name, "task")


def get_kind(name: str):
    """The :class:`study.kinds.Kind` registered as ``name``; ``ValueError`` naming ``kind`` and the allowed names."""
    return _resolve(KINDS, name, "kind")


#: what was registered at run time (not in the tables above): handed to sweep workers (:func:`runtime_entries`)
_RUNTIME: dict[str, dict[str, Any]] = {"tasks": {}, "kinds": {}}


def register_task(task: Any, name: str | None = None) -> Any:
    """Register a task object (or ``"module:attribute"``) under ``name`` (default: ``task.name``); returns it. Sweep
    workers get it too (it must pickle: a task class defined at a module's top level)."""
    name = name or task.name
    TASKS[name] = _RUNTIME["tasks"][name] = task
    return task


def unregister_task(name: str) -> None:
    TASKS.pop(name, None)
    _RUNTIME["tasks"].pop(name, None)


def register_kind(name: str, kind: Any) -> Any:
    """Register a :class:`study.kinds.Kind` object (or ``"module:attribute"``) under ``name``; returns it. Sweep
    workers get it too (it must pickle: an instance of a class defined at a module's top level)."""
    KINDS[name] = _RUNTIME["kinds"][name] = kind
    return kind


def unregister_kind(name: str) -> None:
    KINDS.pop(name, None)
    _RUNTIME["kinds"].pop(name, None)


def runtime_entries() -> dict[str, dict[str, Any]]:
    """The tasks and kinds registered at run time, for :func:`install` in another process."""
    return {k: dict(v) for k, v in _RUNTIME.items()}


def install(entries: dict[str, dict[str, Any]]) -> None:
    """Register what :func:`runtime_entries` returned in another process."""
    for name, task in entries.get("tasks", {}).items():
        register_task(task, name)
    for name, kind in entries.get("kinds", {}).items():
        register_kind(name, kind)


def task_names() -> tuple[str, ...]:
    return tuple(TASKS)


def kind_names() -> tuple[str, ...]:
    return tuple(KINDS)
