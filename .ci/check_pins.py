"""Every pin of pyproject.toml (the method's dependencies and every extra) is exact, and constraints.txt and
environment.yml pin the same version. Usage: python .ci/check_pins.py (from the repository root)."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s#;]+)")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        m = PIN.match(line)
        if m:
            found[norm(m.group(1))] = m.group(3)
    return found


def main() -> int:
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    groups = {"dependencies": project["dependencies"], **project.get("optional-dependencies", {})}
    constraints = pins(Path("constraints.txt").read_text().splitlines())
    conda = pins(Path("environment.yml").read_text().splitlines())
    errors = []
    for group, reqs in groups.items():
        for req in reqs:
            if norm(re.split(r"[\[<>=!~ ;]", req)[0]) == norm(project["name"]):
                continue  # an extra made of other extras: sitt[study,...]
            m = PIN.match(req)
            if not m:
                errors.append(f"pyproject.toml [{group}] {req!r}: not pinned with ==")
                continue
            name, version = norm(m.group(1)), m.group(3)
            for where, table in (("constraints.txt", constraints), ("environment.yml", conda)):
                if table.get(name) != version:
                    errors.append(f"{where}: {name} is {table.get(name)}, pyproject.toml [{group}] pins {version}")
    for e in errors:
        print(e, file=sys.stderr)
    n = sum(len(r) for r in groups.values())
    print(f"pins: {n} requirements in {len(groups)} groups of pyproject.toml, "
          f"{'all' if not errors else 'NOT all'} matched by constraints.txt and environment.yml")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
