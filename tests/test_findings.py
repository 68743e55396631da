"""results/FINDINGS.md is written by hand; its measured numbers must come from the generated tables, so that the
findings cannot silently go stale when the tables change (make figures regenerates them from the runs).

Rule: every number written with two or more decimals (the tables' statistics: means, CI ends, probabilities of
improvement, e.g. ``0.70 [0.40, 1.00]``) equals, at the digits shown, some cell of ``results/tables/*.csv`` (a number,
or a number written in a text cell such as the claims' evidence).
Integers, one-decimal and exponent numbers are design facts and counts (``1.9 x KL``, ``15 mazes``, ``2e7 steps``,
``10 seeds``) and are not checked here; measured times are not written in FINDINGS (the README's timing table is
generated from the runs).

For a reader: after the opening paragraph, every paragraph opens with its verdict, one bold sentence; the text names
no internal issue numbers ("issue 15").
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
FINDINGS = REPO / "results" / "FINDINGS.md"
TABLES = REPO / "results" / "tables"
STAT = re.compile(r"(?<![\w.])(\d+\.\d{2,})(?![\w.])")


def table_values() -> np.ndarray:
    values = []
    for path in sorted(TABLES.glob("*.csv")):
        df = pd.read_csv(path)
        for col in df.columns:
            values.append(pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float))
            # text cells (the claims' evidence) carry formatted numbers too
            if not pd.api.types.is_numeric_dtype(df[col]):
                found = [float(x) for cell in df[col].dropna().astype(str) for x in STAT.findall(cell)]
                values.append(np.asarray(found, dtype=float))
    out = np.concatenate(values) if values else np.zeros(0)
    return out[np.isfinite(out)]


def stale_numbers(text: str, values: np.ndarray) -> list[str]:
    """The two-or-more-decimal numbers of ``text`` that no table value rounds to."""
    missing = []
    for token in STAT.findall(text):
        digits = len(token.split(".")[1])
        if not np.any(np.abs(np.round(values, digits) - float(token)) < 0.5 * 10 ** -digits):
            missing.append(token)
    return missing


def test_stale_numbers_are_found():
    values = np.array([0.7, 0.4, 1.0, 0.875])
    assert stale_numbers("0.70 [0.40, 1.00], PoI 0.88", values) == []
    assert stale_numbers("0.71 [0.40, 1.00] and 0.33", values) == ["0.71", "0.33"]
    assert stale_numbers("1.9 x KL, 2e7 steps, 10 seeds", values) == []


@pytest.mark.skipif(not FINDINGS.is_file(), reason="no findings written")
def test_every_number_in_the_findings_is_in_a_table():
    missing = stale_numbers(FINDINGS.read_text(encoding="utf-8"), table_values())
    assert not missing, f"numbers in {FINDINGS.name} found in no table of {TABLES}: {missing}"


ISSUE = re.compile(r"\bissues? #?\d+", re.IGNORECASE)


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def verdict_problems(text: str) -> list[str]:
    """The paragraphs (after the first, which says what the numbers are) that do not open with one bold sentence
    ending in a full stop: their first 60 characters."""
    bad = []
    for para in paragraphs(text)[1:]:
        m = re.match(r"\*\*(.+?)\*\*", para, flags=re.S)
        if m is None or not m.group(1).endswith(".") or re.search(r"[.!?]\s+[A-Z]", m.group(1)[:-1]):
            bad.append(para[:60])
    return bad


def test_verdict_problems_are_found():
    good = "What the numbers are.\n\n**It works.** Because.\n\n**It fails, mostly.** More."
    assert verdict_problems(good) == []
    assert verdict_problems("Intro.\n\nNo verdict first.") == ["No verdict first."]
    assert verdict_problems("Intro.\n\n**Two. Sentences.** Text.") == ["**Two. Sentences.** Text."]
    assert verdict_problems("Intro.\n\n**No full stop** Text.") == ["**No full stop** Text."]


@pytest.mark.skipif(not FINDINGS.is_file(), reason="no findings written")
def test_every_paragraph_opens_with_its_verdict_and_no_issue_numbers():
    text = FINDINGS.read_text(encoding="utf-8")
    assert not ISSUE.findall(text), f"{FINDINGS.name} names internal issues: {ISSUE.findall(text)}"
    assert not verdict_problems(text), f"paragraphs of {FINDINGS.name} without a one-sentence verdict first"
