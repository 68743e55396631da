"""Executed notebooks are committed (results/notebooks/<name>.ipynb), so the runner writes them deterministically:
:func:`run_notebook.normalise` on hand-made notebooks carrying every kind of volatile content (random cell ids,
timestamps, papermill's run metadata, stream messages cut differently, memory addresses, absolute paths, ipykernel's
per-process files, shifted execution counts), and one cheap notebook executed twice on the smoke profile through the
runner, byte for byte."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebook", NB_DIR / "run_notebook.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_notebook"] = module
    spec.loader.exec_module(module)
    return module


def _stamp(rng: random.Random) -> str:
    day, hour, minute, second, micro = (rng.randint(1, 9), rng.randint(0, 9), rng.randint(10, 59),
                                        rng.randint(10, 59), rng.randint(0, 999999))
    return f"2026-12-0{day}T0{hour}:{minute}:{second}.{micro:06d}Z"


def _pieces(text: str, rng: random.Random) -> list[str]:
    """``text`` cut at random places, as the kernel cuts a stream into messages by time."""
    cuts = sorted(rng.sample(range(1, len(text)), rng.randint(0, 3)))
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]


def volatile_notebook(seed: int, repo: Path = REPO) -> dict:
    """A notebook as papermill writes it, with everything that changes between two executions drawn from ``seed``."""
    rng = random.Random(seed)
    pid, address = rng.randint(1000, 99999), f"0x7f{rng.getrandbits(40):010x}"
    start = rng.randint(1, 40)  # execution counts of a kernel that ran cells before

    def cell_meta(tags=()):
        return {"execution": {"iopub.execute_input": _stamp(rng), "iopub.status.busy": _stamp(rng),
                              "iopub.status.idle": _stamp(rng), "shell.execute_reply": _stamp(rng)},
                "papermill": {"duration": rng.random(), "end_time": _stamp(rng), "exception": False,
                              "start_time": _stamp(rng), "status": "completed"},
                "ExecuteTime": {"end_time": _stamp(rng)},
                "tags": list(tags)}

    stdout = f"profile=smoke  outputs={repo}/results/smoke\nsaved {repo}/results/smoke/figures/a.png\nroot is {repo}\n"
    stderr = f"/tmp/ipykernel_{pid}/2911460381.py:3: UserWarning: careful\n  warnings.warn('careful')\n"
    out = [{"output_type": "stream", "name": "stdout", "text": t} for t in _pieces(stdout, rng)]
    err = [{"output_type": "stream", "name": "stderr", "text": t} for t in _pieces(stderr, rng)]
    streams = []
    while out or err:  # each stream in its own order; how they interleave depends on timing
        streams.append((out if out and (not err or rng.random() < 0.5) else err).pop(0))
    cells = [
        {"cell_type": "markdown", "id": f"{rng.getrandbits(32):08x}", "metadata": cell_meta(), "source": "# Title"},
        {"cell_type": "code", "id": f"{rng.getrandbits(32):08x}", "metadata": cell_meta(["parameters"]),
         "execution_count": start, "outputs": [], "source": "profile = 'default'"},
        {"cell_type": "code", "id": "injected-parameters-x", "metadata": cell_meta(["injected-parameters"]),
         "execution_count": start + 2, "outputs": [], "source": "# Parameters\nprofile = 'smoke'\n"},
        {"cell_type": "code", "id": f"{rng.getrandbits(32):08x}", "metadata": cell_meta(), "execution_count": start + 5,
         "source": "run()",
         "outputs": streams + [
             {"output_type": "display_data", "metadata": {"image/png": {"width": 10}},
              "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 100x100 with 1 Axes>"}},
             {"output_type": "stream", "name": "stdout", "text": "after the figure\n"},
             {"output_type": "execute_result", "execution_count": start + 5, "metadata": {},
              "data": {"text/html": f"<div>&lt;Model object at {address}&gt;</div>",
                       "text/plain": f"<Model object at {address}>"}},
         ]},
        {"cell_type": "code", "id": f"{rng.getrandbits(32):08x}", "metadata": cell_meta(), "execution_count": None,
         "outputs": [], "source": "not run"},
    ]
    metadata = {
        "jupytext": {"formats": "py:percent"},
        "kernelspec": {"display_name": f"Python 3 (ipykernel {seed})", "language": "python", "name": "python3"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3", "version": f"3.11.{seed}"},
        "papermill": {"default_parameters": {}, "duration": rng.random() * 100, "end_time": _stamp(rng),
                      "environment_variables": {}, "exception": None,
                      "input_path": f"/tmp/sitt-nb-{rng.getrandbits(32):08x}/x.ipynb",
                      "output_path": f"{repo}/results/notebooks/x.ipynb", "parameters": {"profile": "smoke"},
                      "start_time": _stamp(rng), "version": "2.7.0"},
    }
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 4}


def test_volatile_content_normalises_to_the_same_bytes():
    rn = _runner()
    a, b = (rn.notebook_bytes(rn.normalise(volatile_notebook(seed))) for seed in (1, 2))
    assert volatile_notebook(1) != volatile_notebook(2)
    assert a == b
    assert rn.notebook_bytes(rn.normalise(nbformat.reads(a.decode(), as_version=4))) == a  # idempotent
    nbformat.validate(nbformat.reads(a.decode(), as_version=4))
    # a real difference still shows
    other = volatile_notebook(1)
    other["cells"][3]["outputs"][-2]["text"] = "something else\n"
    assert rn.notebook_bytes(rn.normalise(other)) != a


def test_each_rule():
    rn = _runner()
    nb = json.loads(rn.notebook_bytes(rn.normalise(volatile_notebook(7))))
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] >= 5
    assert nb["metadata"] == {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3"},
        "papermill": {"parameters": {"profile": "smoke"}},
    }
    cells = nb["cells"]
    assert [c["id"] for c in cells] == ["cell-000", "cell-001", "cell-002", "cell-003", "cell-004"]
    assert [c["metadata"] for c in cells] == [{}, {"tags": ["parameters"]}, {"tags": ["injected-parameters"]}, {}, {}]
    assert [c.get("execution_count") for c in cells] == [None, 1, 2, 3, None]
    outputs = cells[3]["outputs"]
    assert [(o["output_type"], o.get("name")) for o in outputs] == [
        ("stream", "stdout"), ("stream", "stderr"), ("display_data", None), ("stream", "stdout"),
        ("execute_result", None)]
    text = lambda o: "".join(o["text"])  # noqa: E731
    assert text(outputs[0]) == "profile=smoke  outputs=results/smoke\nsaved results/smoke/figures/a.png\nroot is .\n"
    assert text(outputs[1]) == "ipykernel/2911460381.py:3: UserWarning: careful\n  warnings.warn('careful')\n"
    assert outputs[2]["data"]["image/png"] == "iVBORw0KGgo=" and outputs[2]["metadata"] == {"image/png": {"width": 10}}
    assert text(outputs[3]) == "after the figure\n"  # a stream after a display stays after it
    assert outputs[4]["execution_count"] == 3
    assert "".join(outputs[4]["data"]["text/plain"]) == "<Model object at 0x...>"
    assert "".join(outputs[4]["data"]["text/html"]) == "<div>&lt;Model object at 0x...&gt;</div>"


def test_paths_outside_the_repository_are_kept(tmp_path):
    rn = _runner()
    repo = tmp_path / "repo"
    assert rn.normalise_text(f"{repo}/a.png {repo}2/b.png {repo}.bak {repo}", repo) == \
        f"a.png {repo}2/b.png {repo}.bak ."
    assert rn.normalise_text("0x1f is a number, 0x7f3a5c2d1e80 an address", repo) == \
        "0x1f is a number, 0x... an address"
    embedded = '<img src="data:image/png;base64,iVBOR/0x8c5bafA+0x1234567/w==">'
    assert rn.normalise_text(embedded, repo) == embedded  # base64 is left alone


@pytest.mark.slow  # two kernels, a tiny SITT model each: about 20 s each on a loaded 2-core machine
def test_a_notebook_executed_twice_is_byte_identical(tmp_path):
    """The walkthrough (figures, tables, logs, 'saved <path>' lines) on the smoke profile, twice through the runner."""
    rn = _runner()
    rn.ensure_kernel()
    name = "00_walkthrough"
    params = rn.parameters_of(name, rn.parameters_for("smoke", []))
    first = rn.execute(name, params, tmp_path / "a")
    second = rn.execute(name, params, tmp_path / "b")
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert first.with_suffix(".html").read_bytes() == second.with_suffix(".html").read_bytes()
    text = data.decode("utf-8")
    assert str(REPO) not in text and "0x7f" not in text and "ipykernel_" not in text
    assert "saved results/smoke/figures/walkthrough_mazes.png" in text
    nb = json.loads(text)
    assert "image/png" in json.dumps([o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", [])])
    assert set(nb["metadata"]) == {"kernelspec", "language_info", "papermill"}
    assert all("execution" not in c["metadata"] and "papermill" not in c["metadata"] for c in nb["cells"])
