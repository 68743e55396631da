"""Where the study's files live, defined once: the repository root and the committed results' folders.

Relative paths handed to notebooks resolve against the repository root (:func:`resolve`), so a kernel started in
``notebooks/`` (``make lab``) reads the same committed runs as ``make figures`` run from the root.
"""

from __future__ import annotations

from pathlib import Path

#: the repository root (the folder holding ``study/``)
REPO = Path(__file__).resolve().parents[1]
#: the run store, relative to the working directory of the CLI (the repository root under ``make``)
DEFAULT_ROOT = "results/runs"
#: where notebooks write tables, figures and executed notebooks (``<out>/tables``, ``<out>/figures``, ...)
DEFAULT_OUT = "results"
#: everything the smoke profile writes (gitignored)
SMOKE_OUT = "results/smoke"
#: hand-written findings, checked against the generated tables (tests/test_findings.py)
FINDINGS = "results/FINDINGS.md"


def resolve(path: str | Path) -> Path:
    """``path`` itself when absolute, else the same path under the repository root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else REPO / path


def display(path: str | Path) -> str:
    """``path`` relative to the repository root when inside it (for messages and reports), else absolute."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)
