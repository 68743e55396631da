"""Run README.md's own-environment examples against an installed `sitt` (CI's wheel check, .ci/wheel_check).

Usage: <python of a venv holding only the wheel> readme_examples.py README.md

Run it from a directory outside the repository, so that the installed wheel, not the checkout, is imported. It
asserts that ``sitt`` comes from site-packages, that importing every module of ``sitt`` pulls in none of the study's
packages (pandas, matplotlib, seaborn, scipy, the study and task packages), then executes every ```python block of
the README section "Using SITT on your own environment" (the extraction of tests/test_readme_examples.py, restricted
to that section) in a temporary directory, with one torch thread.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
import tempfile
import time
from pathlib import Path

import torch as th

import sitt

SECTION = "## Using SITT on your own environment"
# what the method must not import: the study's dependencies and the repository's other packages
FORBIDDEN = ("pandas", "matplotlib", "seaborn", "scipy", "study", "color_maze", "fov_flight", "occluded_drawer",
             "minigrid_lava", "minigrid", "dask", "distributed", "papermill", "IPython")


def section_blocks(readme: str, heading: str = SECTION) -> list[str]:
    """The ```python blocks between ``heading`` and the next level-2 heading of the README."""
    start = readme.index(heading + "\n")
    end = readme.find("\n## ", start + len(heading))
    text = readme[start: end if end >= 0 else len(readme)]
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def main(readme_path: str) -> int:
    blocks = section_blocks(Path(readme_path).read_text())
    assert len(blocks) >= 2, f"expected at least 2 python examples under {SECTION!r}, found {len(blocks)}"

    origin = Path(sitt.__file__).resolve()
    assert "site-packages" in origin.parts, f"sitt imported from {origin}, not from the installed wheel"
    for module in pkgutil.walk_packages(sitt.__path__, "sitt."):
        importlib.import_module(module.name)
    leaked = sorted(m for m in FORBIDDEN if m in sys.modules)
    assert not leaked, f"importing sitt pulled in {leaked}: the method must not need the study's packages"
    print(f"sitt from {origin.parent}: every module imports without {', '.join(FORBIDDEN[:4])}, ...")

    th.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for i, code in enumerate(blocks):
            t0 = time.perf_counter()
            exec(compile(code, f"README.md[{SECTION[3:]}, python block {i}]", "exec"), {"__name__": "__readme__"})
            print(f"README own-environment example {i}: ok ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
