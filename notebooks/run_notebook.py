#!/usr/bin/env python
"""Execute the study's notebooks: jupytext source -> papermill execution -> a normalised .ipynb -> HTML.

For each notebook ``notebooks/<name>.py`` (jupytext py:percent, the source of truth):

1. ``jupytext`` converts it to an ``.ipynb`` in a temporary directory;
2. ``papermill`` executes it there with the kernel ``python3`` in the repository root, injecting the parameters
   (``profile`` always; ``-p key value`` for any other);
3. the executed notebook is normalised (:func:`normalise`) and written to ``results/notebooks/<name>.ipynb``
   (``results/smoke/notebooks/`` for the smoke profile), so that the same execution gives the same bytes: the
   default profile's copies under ``results/notebooks/`` are committed (they render on a code host with their
   figures), and ``make figures`` run twice leaves ``git status`` clean;
4. ``nbconvert`` exports the normalised notebook to ``<same name>.html`` (not tracked).

Normalisation (:func:`normalise`, every rule checked in ``tests/test_notebook_determinism.py``):

* cell ids from the cell's index (``cell-000``, ...); execution counts renumbered 1, 2, ... over the executed code
  cells (an ``execute_result`` takes its cell's count);
* cell metadata: nbclient's ``execution`` timestamps, papermill's per-cell ``papermill`` block (times, durations,
  status) and ``ExecuteTime`` dropped, empty ``tags`` dropped;
* notebook metadata: only ``kernelspec`` (fixed: ``python3``), ``language_info`` without its ``version`` and
  papermill's ``parameters`` (no start/end times, duration, input/output paths, papermill version; no jupytext
  pairing, so the copy is not paired with a script);
* outputs: the stream messages of a run of consecutive stream outputs are merged into one ``stdout`` then one
  ``stderr`` output (the kernel cuts streams into messages by time); in every text (streams, ``text/*`` data,
  errors) the repository root becomes relative (``/.../repo/results/x.png`` -> ``results/x.png``), memory
  addresses (``0x7f3a...``) become ``0x...`` and ipykernel's per-process cell files
  (``/tmp/ipykernel_<pid>/<hash>.py``) become ``ipykernel/<hash>.py``. PNG figures are kept as written (Agg
  writes the same bytes for the same figure);
* kernels start with ``PYTHONHASHSEED=0`` (:data:`KERNEL_ENV`), so what a notebook prints in the iteration order of a
  set of strings does not change between executions.

Parameters (``-p NAME VALUE``) are checked against the notebook's ``parameters`` cell before anything runs
(:func:`study.params.check_notebook_parameters`): an unknown name, a wrong type, an unknown profile, experiment or
arm, or a bad ``seeds`` spec exits with status 2 and a message naming the parameter. ``seeds`` is a seed spec as on
the sweep's command line (``0-9``, ``3``, ``0,2,5``). The executed notebook goes to ``<out>/notebooks/`` (``out``:
the notebook's parameter, default ``results``), never over the committed results when ``out`` is changed.

The smoke profile also sets ``root=results/smoke/runs``, ``out=results/smoke`` and ``seeds=0-1`` (unless given), so a
smoke execution never writes over the committed results. ``--sweep`` first trains the missing runs of every
registered task's experiments for the profile and seeds, all in one parallel sweep.

Examples::

    .venv/bin/python notebooks/run_notebook.py 20_maze_main                    # default profile, existing runs
    .venv/bin/python notebooks/run_notebook.py all --profile smoke --sweep     # what `make smoke` does
    .venv/bin/python notebooks/run_notebook.py 30_ablations -p run True -p seeds 0-9 -p jobs 2
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jupytext
import nbformat
import papermill
from jupyter_client.kernelspec import KernelSpecManager
from nbconvert import HTMLExporter

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
#: every notebook, in the order of its number prefix (the file names are the list)
ORDER = tuple(sorted(p.stem for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.py")))
KERNEL = "python3"
KERNELSPEC = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
#: set for every kernel the runner starts: str hashes (so the iteration order of sets of strings) are the same in
#: every execution, as the committed notebooks' bytes must be
KERNEL_ENV = {"PYTHONHASHSEED": "0"}
sys.path.insert(0, str(REPO))


def notebook_names(names: list[str]) -> list[str]:
    """Names as given (``.py`` suffix and ``notebooks/`` prefix allowed); ``all`` = every notebook in order."""
    out: list[str] = []
    for name in names:
        if name == "all":
            out.extend(n for n in ORDER if n not in out)
            continue
        stem = Path(name).name.removesuffix(".py").removesuffix(".ipynb")
        if stem not in ORDER:
            raise SystemExit(f"unknown notebook {name!r}; allowed: all, {', '.join(ORDER)}")
        if stem not in out:
            out.append(stem)
    return out


def parse_value(text: str):
    """papermill-style ``-p`` values: Python literals (numbers, True/False/None, quoted strings), else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


SMOKE_PARAMETERS = {"root": "results/smoke/runs", "out": "results/smoke", "seeds": "0-1"}


def parameters_for(profile: str, given: list[tuple[str, str]]) -> dict:
    """The parameters handed to papermill: ``profile``, the smoke profile's paths and seeds, then ``-p`` values
    (``seeds`` stays a string spec)."""
    params = {"profile": profile}
    if profile == "smoke":
        params.update(SMOKE_PARAMETERS)
    params.update({k: (v if k == "seeds" else parse_value(v)) for k, v in given})
    return params


def parameters_of(name: str, params: dict) -> dict:
    """``params`` restricted to what notebook ``name`` declares, checked (``ValueError`` naming the parameter).
    ``profile`` and the smoke defaults go to every notebook that declares them; a ``-p`` name must be declared by
    every notebook it is given to."""
    from study.params import check_notebook_parameters, notebook_defaults  # noqa: PLC0415  (study imports torch/SB3)

    defaults = notebook_defaults(NOTEBOOK_DIR / f"{name}.py")
    given = {k: v for k, v in params.items() if k in defaults or k not in ("profile", *SMOKE_PARAMETERS)}
    check_notebook_parameters(name, defaults, given)
    return given


def output_dir(params: dict) -> Path:
    """``<out>/notebooks`` (``out`` resolved against the repository root)."""
    from study.paths import DEFAULT_OUT, resolve  # noqa: PLC0415  (study imports torch/SB3)

    return resolve(params.get("out", DEFAULT_OUT)) / "notebooks"


def ensure_kernel() -> None:
    """Register this interpreter's kernel as ``python3`` when no such kernelspec exists (as `make setup` does)."""
    if KERNEL in KernelSpecManager().find_kernel_specs():
        return
    print(f"kernel {KERNEL!r} not found: installing it into {sys.prefix}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL], check=True,
                   stdout=subprocess.DEVNULL)


#: budget probes the smoke sweep adds, so that CI also executes the budget-search notebook on real runs:
#: (experiment, arms, dotted overrides, tag) -> runs under <root>/<experiment>-<tag>/
SMOKE_BUDGET_PROBES = (
    ("main", ("plain_teacher", "sitt_release"), {}, "budget-8x32"),
    ("main", ("plain_teacher", "sitt_release"), {"ppo.n_steps": 16, "ppo.batch_size": 128}, "budget-16x32-mb128"),
)


def run_sweep(profile: str, seeds: str, root: str, jobs: int) -> bool:
    """Train the missing runs of every registered task's experiments in one parallel sweep (for the smoke profile
    also the budget probes of :data:`SMOKE_BUDGET_PROBES`); True when none failed."""
    # study imports torch/SB3, which the runner itself does not need
    from study import experiment_configs, experiments  # noqa: PLC0415  (torch/SB3)
    from study.params import seed_list  # noqa: PLC0415  (torch/SB3)
    from study.paths import resolve  # noqa: PLC0415  (torch/SB3)
    from study.sweep import build_configs, sweep  # noqa: PLC0415  (torch/SB3)

    chosen = seed_list(seeds)
    configs = [c for e in experiments() for c in experiment_configs(e, profile, chosen)]
    if profile == "smoke":
        for experiment, arms, overrides, tag in SMOKE_BUDGET_PROBES:
            configs += build_configs(experiment, profile, chosen, arms, overrides, tag)
    root = str(resolve(root))
    t0 = time.perf_counter()
    report = sweep(configs, root, jobs=jobs, progress=False)
    print(f"[sweep] {report.summary()} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return bool(report.ok)


# ----------------------------------------------------------------------------------------------- normalisation

#: cell metadata written by an execution (timestamps, durations, status), dropped
VOLATILE_CELL_METADATA = ("execution", "papermill", "ExecuteTime")
#: memory addresses in object reprs (``<object at 0x7f3a5c2d1e80>``); not inside base64 (an image embedded in HTML)
ADDRESS = re.compile(r"(?<![\w+/=])0x[0-9a-fA-F]{6,16}(?![\w+/=])")
#: the per-process files ipykernel compiles cells into (warnings name them): ``/tmp/ipykernel_<pid>/<hash>.py``
IPYKERNEL_FILE = re.compile(r"[^\s'\"(]*ipykernel_\d+[/\\](\w+\.py)")


def normalise_text(text: str, repo: Path | str = REPO) -> str:
    """One output text made stable: paths under ``repo`` relative to it (``repo`` itself ``.``), memory addresses
    ``0x...``, ipykernel's cell files ``ipykernel/<hash>.py``."""
    root = re.escape(str(repo))
    text = re.sub(root + r"[/\\]", "", text)
    text = re.sub(root + r"(?![\w.-])", ".", text)
    text = IPYKERNEL_FILE.sub(r"ipykernel/\1", text)
    return ADDRESS.sub("0x...", text)


def _joined(text) -> str:
    return "".join(text) if isinstance(text, list) else str(text)


def _merge_streams(outputs: list, repo) -> list:
    """Outputs with each run of consecutive stream outputs merged into one stdout then one stderr output (texts
    normalised); other outputs in place."""
    merged: list = []
    run: list = []

    def flush() -> None:
        for name in ("stdout", "stderr"):
            text = "".join(_joined(o.get("text", "")) for o in run if o.get("name") == name)
            if text:
                merged.append({"output_type": "stream", "name": name, "text": normalise_text(text, repo)})
        run.clear()

    for out in outputs:
        if out.get("output_type") == "stream":
            run.append(out)
        else:
            flush()
            merged.append(out)
    flush()
    return merged


def _normalise_output(out: dict, count: int | None, repo) -> dict:
    out = dict(out)
    kind = out.get("output_type")
    if kind in ("display_data", "execute_result"):
        data = {}
        for mime, value in out.get("data", {}).items():
            if mime.startswith("text/") or mime == "image/svg+xml":
                value = normalise_text(_joined(value), repo)
            data[mime] = value
        out["data"] = data
        out.setdefault("metadata", {})
        out.pop("transient", None)
        if kind == "execute_result":
            out["execution_count"] = count
    elif kind == "error":
        out["evalue"] = normalise_text(str(out.get("evalue", "")), repo)
        out["traceback"] = [normalise_text(line, repo) for line in out.get("traceback", [])]
    return out


def normalise(nb, repo: Path | str = REPO):
    """A copy of an executed notebook (nbformat v4, a ``NotebookNode`` or a plain dict) with everything that changes
    between two executions of the same notebook removed or made stable (the module doc lists the rules)."""
    nb = nbformat.from_dict(copy.deepcopy(dict(nb)))
    meta = nb.get("metadata", {})
    language = {k: v for k, v in meta.get("language_info", {}).items() if k != "version"}
    new_meta = {"kernelspec": dict(KERNELSPEC)}
    if language:
        new_meta["language_info"] = language
    parameters = meta.get("papermill", {}).get("parameters")
    if parameters:
        new_meta["papermill"] = {"parameters": parameters}
    nb["metadata"] = nbformat.from_dict(new_meta)
    nb["nbformat"], nb["nbformat_minor"] = 4, max(5, int(nb.get("nbformat_minor", 5)))
    count = 0
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        cmeta = {k: v for k, v in cell.get("metadata", {}).items() if k not in VOLATILE_CELL_METADATA}
        if not cmeta.get("tags", True):
            del cmeta["tags"]
        cell["metadata"] = cmeta
        if cell.get("cell_type") != "code":
            continue
        ran = cell.get("execution_count") is not None
        count += ran
        cell["execution_count"] = count if ran else None
        cell["outputs"] = [_normalise_output(o, count if ran else None, repo)
                           for o in _merge_streams(cell.get("outputs", []), repo)]
    return nbformat.from_dict(nb)


def notebook_bytes(nb) -> bytes:
    """The ``.ipynb`` file of a notebook: nbformat's JSON (sorted keys, indent 1), a final newline, UTF-8."""
    text = nbformat.writes(nb, version=4)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")  # *.tmp is gitignored
    tmp.write_bytes(data)
    os.replace(tmp, path)


def execute(name: str, params: dict, out_dir: Path, html: bool = True) -> Path:
    """jupytext -> papermill -> :func:`normalise` -> nbconvert for one notebook; returns the executed .ipynb path.
    A notebook that fails is written all the same (normalised, with its error) before the exception propagates."""
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(KERNEL_ENV)  # the kernel inherits this process's environment
    target = out_dir / f"{name}.ipynb"
    nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    with tempfile.TemporaryDirectory(prefix="sitt-nb-") as tmp:
        source = Path(tmp) / f"{name}.ipynb"
        executed = Path(tmp) / f"{name}.executed.ipynb"
        jupytext.write(nb, source, fmt="ipynb")
        try:
            papermill.execute_notebook(
                str(source), str(executed), parameters=params, kernel_name=KERNEL, cwd=str(REPO),
                progress_bar=False, log_output=False, report_mode=False,
            )
        finally:
            if executed.exists():
                _write_atomic(target, notebook_bytes(normalise(nbformat.read(executed, as_version=4))))
    if html:
        body, _ = HTMLExporter().from_notebook_node(nbformat.read(target, as_version=4),
                                                     resources={"metadata": {"name": name}})
        _write_atomic(target.with_suffix(".html"), body.encode("utf-8"))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+", help=f"notebooks to run, or 'all' ({', '.join(ORDER)})")
    parser.add_argument("--profile", default=os.environ.get("PROFILE", "default"), help="smoke, default or release")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a notebook parameter (repeatable), e.g. -p run True -p seeds 10")
    parser.add_argument("--sweep", action="store_true", help="train the missing runs first (profile, seeds, root)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for --sweep")
    parser.add_argument("--parallel", type=int, default=1, help="notebooks executed side by side (default 1)")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML export")
    args = parser.parse_args(argv)

    names = notebook_names(args.names)
    params = parameters_for(args.profile, args.parameter)
    try:  # every notebook's parameters, checked before any work
        per_notebook = {name: parameters_of(name, params) for name in names}
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out_dir = output_dir(params)
    t_all = time.perf_counter()
    ok = True
    if args.sweep:
        ok = run_sweep(args.profile, str(params.get("seeds", "0-9")), str(params.get("root", "results/runs")),
                       args.jobs)
    ensure_kernel()

    def one(name: str) -> bool:
        t0 = time.perf_counter()
        try:
            target = execute(name, per_notebook[name], out_dir, html=not args.no_html)
        except Exception as exc:  # noqa: BLE001 - report, go on with the others, fail at the end
            last = str(exc).strip().splitlines()[-1:] or [""]
            print(f"[notebook] {name}: FAILED ({type(exc).__name__}: {last[0]})", file=sys.stderr)
            return False
        print(f"[notebook] {name}: {target} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        return True

    # the report collects what the others wrote: it runs after them; the others may run side by side
    first = [n for n in names if n != "90_report"]
    if args.parallel > 1 and len(first) > 1:
        with ThreadPoolExecutor(args.parallel) as pool:  # each papermill run drives its own kernel process
            ok = all(list(pool.map(one, first))) and ok
    else:
        ok = all([one(n) for n in first]) and ok
    if "90_report" in names:
        ok = one("90_report") and ok
    print(f"[notebook] done in {time.perf_counter() - t_all:.0f} s{'' if ok else ' WITH FAILURES'}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
