"""Markdown tables of data frames (the report, the README's results, the scorecard)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _fmt(v, floatfmt: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        return format(float(v), floatfmt)
    return str(v).replace("|", "\\|").replace("\n", " ")


def df_to_markdown(df: pd.DataFrame, floatfmt: str = ".2f", columns: Sequence[str] | None = None) -> str:
    """A GitHub markdown table of ``df`` (no index); NaN as empty cells, pipes escaped."""
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    if df.empty and len(df.columns) == 0:
        return "_(empty)_\n"
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_fmt(v, floatfmt) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body]) + "\n"


__all__ = ["df_to_markdown"]
