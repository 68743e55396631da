"""Writers of what notebooks and the report produce: tables (CSV) and figures (PNG) under an output folder.

Run files are written by :mod:`study.store` (atomic writes, the marker); these write ``<out>/tables/<name>.csv`` and
``<out>/figures/<name>.png``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: floats of a saved table keep 10 significant digits: the same runs give the same file on any machine (the last
#: digits of a float sum depend on the CPU's summation order; every committed table was seen to move there between
#: two machines), and no table reports more than 4
TABLE_FLOAT_FORMAT = "%.10g"


def save_table(df: pd.DataFrame, out: str | Path, name: str) -> Path:
    """Write ``<out>/tables/<name>.csv`` (directories created; floats as :data:`TABLE_FLOAT_FORMAT`); returns the
    path."""
    path = Path(out) / "tables" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format=TABLE_FLOAT_FORMAT)
    return path


def save_figure(fig, out: str | Path, name: str, dpi: int = 150) -> Path:
    """Write ``<out>/figures/<name>.png`` (directories created); returns the path. The figure is left open, so a
    notebook can still display it."""
    path = Path(out) / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, facecolor="white", bbox_inches="tight")
    return path


__all__ = ["TABLE_FLOAT_FORMAT", "save_figure", "save_table"]
