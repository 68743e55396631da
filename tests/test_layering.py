"""The layering of the house, read from the code's imports (every ``import``, at module level and inside functions).

* ``sitt/`` (the method) imports neither ``study`` nor any task package;
* a task package imports no other task package, no private ``study`` name (one starting with ``_``), and neither
  ``study.io`` (the notebooks' facade) nor ``study.sweep`` (sweeps start from the CLI and the facade); its env layer
  (modules named :data:`ENV_LAYER`) imports no ``study`` module at all;
* inside ``study/``, only ``study/io.py`` imports ``study.io`` or ``study.sweep`` (``study/__init__.py`` hands
  ``run_sweep`` on through ``importlib``, the CLI's own ``__main__`` block imports itself);
* ``study/`` has no import circle: the graph of its modules (an edge for every import of a study module, at module
  level or in a function) is acyclic. The registry's ``importlib.import_module`` of task and kind modules by name is
  the one late binding and is no edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from setuptools import find_packages

from study.registry import get_task, task_names

REPO = Path(__file__).resolve().parents[1]
#: the task packages: those of the registry's tasks (a new task is its package + one registry line)
TASKS = tuple(sorted({type(get_task(n)).__module__.split(".")[0] for n in task_names()}))
ENV_LAYER = ("env", "config", "generation", "geometry", "render", "scripted", "views", "reference", "quirks", "oracle")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in sorted((REPO / package).rglob("*.py"))}


def imports(path: Path) -> list[tuple[str, tuple[str, ...], int]]:
    """``(module, names, line)`` of every import in a file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, (), node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((base, tuple(a.name for a in node.names), node.lineno))
    return out


def targets(module: str, names: tuple[str, ...], known: set[str]) -> set[str]:
    """The modules of ``known`` an import reaches: ``from study import load`` -> study.load; ``from study.load
    import x`` -> study.load."""
    found = {f"{module}.{n}" for n in names if f"{module}.{n}" in known}
    if module in known and (not names or len(found) < len(names)):
        found.add(module)
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def test_the_method_imports_no_study_and_no_task():
    bad = [f"{name}:{line} imports {mod}" for name, path in modules("sitt").items()
           for mod, _, line in imports(path) if _top(mod) in ("study", *TASKS)]
    assert not bad, bad


@pytest.mark.parametrize("task", TASKS)
def test_a_task_imports_public_study_names_only_and_no_other_task(task):
    bad = []
    for name, path in modules(task).items():
        env_layer = name.split(".")[-1] in ENV_LAYER
        for mod, names, line in imports(path):
            where = f"{path.relative_to(REPO)}:{line}"
            if _top(mod) in TASKS and _top(mod) != task:
                bad.append(f"{where} imports another task: {mod}")
            if _top(mod) != "study":
                continue
            if env_layer:
                bad.append(f"{where}: the env layer imports {mod}")
            private = [n for n in (*mod.split(".")[1:], *names) if n.startswith("_")]
            if private:
                bad.append(f"{where} imports private study name(s) {private} from {mod}")
            if mod in ("study.io", "study.sweep") or (mod == "study" and {"io", "sweep"} & set(names)):
                bad.append(f"{where} imports the notebooks' facade or the sweep ({mod} {names})")
    assert not bad, "\n".join(bad)


def package_graph(package: str) -> dict[str, set[str]]:
    """The import graph inside one package: an edge for every import of one of its modules (module level or in a
    function)."""
    known = set(modules(package))
    graph = {}
    for name, path in modules(package).items():
        edges = set()
        for mod, names, _ in imports(path):
            if _top(mod) == package:
                edges |= targets(mod, names, known)
        graph[name] = edges - {name}
    return graph


def study_graph() -> dict[str, set[str]]:
    return package_graph("study")


def circles_of(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    circles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(trail[trail.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return circles


def test_only_the_facade_imports_the_facade_or_the_sweep():
    bad = sorted(f"{name} imports {target}" for name, edges in study_graph().items() for target in edges
                 if target in ("study.io", "study.sweep") and name != "study.io")
    assert not bad, bad


def test_the_study_has_no_import_circle():
    assert not circles_of(study_graph())


@pytest.mark.parametrize("package", ("sitt", *TASKS))
def test_the_method_and_each_task_have_no_import_circle(package):
    assert not circles_of(package_graph(package))


def test_a_circle_is_found():
    assert circles_of({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a -> b -> c -> a"]
    assert circles_of({"a": {"b"}, "b": set()}) == []


def test_every_package_installs_without_a_list():
    """pyproject.toml finds the packages (no typed list): the method, the study and every registered task's."""
    found = set(find_packages(str(REPO), exclude=["tests*", "notebooks*", "benchmarks*", "results*", "build*"]))
    assert {"sitt", "study", *TASKS} <= found
    assert not {"tests", "notebooks", "benchmarks"} & found
