"""Every ```python block of README.md runs as written (issue 13: the own-environment examples cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch as th

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    threads = th.get_num_threads()
    th.set_num_threads(1)
    try:
        exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {"__name__": "__readme__"})
    finally:
        th.set_num_threads(threads)
