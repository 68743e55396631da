"""Static checks of the study's notebooks (their execution is `make smoke`): each jupytext source parses, has exactly
one cell tagged `parameters` holding only literal assignments, and imports nothing beyond sitt, study, the task
packages and the scientific stack. Also the runner's parameter handling and the Makefile snippet."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import jupytext
import pytest

from study.registry import get_task, task_names

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"
#: the registered task packages (color_maze, fov_flight, ...), from the registry
TASK_PACKAGES = {type(get_task(n)).__module__.split(".")[0] for n in task_names()}
ALLOWED_IMPORTS = TASK_PACKAGES | {
    "sitt", "study", "numpy", "pandas", "matplotlib", "seaborn", "scipy", "torch", "stable_baselines3", "gymnasium",
    "IPython", "pathlib", "json", "os", "sys", "time", "math", "warnings", "dataclasses", "collections", "itertools",
    "functools", "datetime", "textwrap",
}
REQUIRED_PARAMETERS = {"profile", "root", "out"}


def notebook_sources() -> list[Path]:
    return sorted(p for p in NB_DIR.glob("[0-9][0-9]_*.py"))


def code_of(cell) -> str:
    """A code cell's source with IPython magics and shell lines removed."""
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))


def test_the_notebooks_exist():
    """Every notebook a registered task names for its experiments, and the report, has a source."""
    stems = {p.stem for p in notebook_sources()}
    named = {nb for n in task_names() for nb in get_task(n).notebooks.values()} | {"90_report"}
    assert named <= stems, f"no source for {sorted(named - stems)}"


@pytest.mark.parametrize("path", notebook_sources(), ids=lambda p: p.stem)
def test_notebook_parses_with_one_parameters_cell(path):
    nb = jupytext.read(path)
    assert nb.metadata.get("jupytext", {}).get("text_representation", {}).get("format_name") == "percent"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged parameters"
    cell = tagged[0]
    assert cell.cell_type == "code"
    tree = ast.parse(cell.source)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{path.name}: the parameters cell holds only assignments"
        ast.literal_eval(node.value)  # literals only, so papermill can override them
        names.update(t.id for t in node.targets)
    assert REQUIRED_PARAMETERS <= names
    assert nb.cells[0].cell_type == "markdown"  # each notebook says what it shows
    for c in nb.cells:
        if c.cell_type == "code":
            ast.parse(code_of(c))


@pytest.mark.parametrize("path", notebook_sources(), ids=lambda p: p.stem)
def test_notebook_imports_are_allowed(path):
    nb = jupytext.read(path)
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(code_of(cell))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name}: relative import"
                found.add(node.module.split(".")[0])
    assert found <= ALLOWED_IMPORTS, f"{path.name} imports {sorted(found - ALLOWED_IMPORTS)}"


@pytest.mark.parametrize("path", notebook_sources(), ids=lambda p: p.stem)
def test_notebook_defines_no_functions_or_classes(path):
    """Notebooks orchestrate and display; logic lives in sitt where tests reach it."""
    nb = jupytext.read(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            for node in ast.walk(ast.parse(code_of(cell))):
                assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)), \
                    f"{path.name}: define it in sitt"


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebook", NB_DIR / "run_notebook.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_notebook"] = module
    spec.loader.exec_module(module)
    return module


def test_runner_parameters_and_names():
    rn = _runner()
    stems = [p.stem for p in notebook_sources()]
    assert rn.notebook_names(["all"]) == stems
    assert rn.notebook_names(["notebooks/20_maze_main.py", "90_report"]) == ["20_maze_main", "90_report"]
    with pytest.raises(SystemExit):
        rn.notebook_names(["nope"])
    smoke = rn.parameters_for("smoke", [("seeds", "3"), ("run", "True")])
    assert smoke == {"profile": "smoke", "root": "results/smoke/runs", "out": "results/smoke", "seeds": "3",
                     "run": True}
    assert rn.parameters_for("default", [("maze", "2"), ("sitt_arm", "sitt_paper")]) == {
        "profile": "default", "maze": 2, "sitt_arm": "sitt_paper"}
    assert rn.output_dir(smoke) == REPO / "results/smoke/notebooks"
    assert rn.output_dir({"profile": "default"}) == REPO / "results/notebooks"
    assert rn.output_dir({"out": "/tmp/elsewhere"}) == Path("/tmp/elsewhere/notebooks")
    assert tuple(rn.ORDER) == tuple(stems)
    # the report notebook declares no seeds: the smoke profile's seeds are not handed to it
    assert "seeds" not in rn.parameters_of("90_report", rn.parameters_for("smoke", []))


@pytest.mark.parametrize("given, needle", [
    ([("nope", "1")], "unknown parameter 'nope'; allowed: profile, root"),
    ([("seeds", "a-b")], "seeds: got 'a-b'; allowed: a seed spec"),
    ([("maze", "'x'")], "parameter maze: got 'x'"),
    ([("sitt_arm", "no_such_arm")], "parameter sitt_arm: got 'no_such_arm'; allowed:"),
    ([("run", "1")], "parameter run: got 1"),
])
def test_runner_rejects_bad_parameters_before_any_work(given, needle, capsys):
    rn = _runner()
    argv = ["20_maze_main", "--no-html"] + [x for k, v in given for x in ("-p", k, v)]
    assert rn.main(argv) == 2
    assert needle in capsys.readouterr().err


def test_runner_rejects_an_unknown_profile(capsys):
    assert _runner().main(["20_maze_main", "--profile", "fast"]) == 2
    assert "parameter profile: got 'fast'; allowed: smoke, default, release" in capsys.readouterr().err


def test_makefile_snippet():
    text = (NB_DIR / "Makefile.inc").read_text()
    for needle in ("results/notebooks/%.ipynb: notebooks/%.py", "figures:", "smoke:", "--profile smoke", "--sweep"):
        assert needle in text
