"""Prints the bot's runtime requirements, one a line: pyproject.toml's [project] dependencies,
never its dev extras. The container image's builder stage pip-installs exactly these
(`python scripts/runtime_requirements.py pyproject.toml > requirements.txt`).

Stdlib only: it runs in the bare python image, before anything is installed.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


class UnpinnedRequirement(ValueError):
    """A runtime dependency without an exact version: the image would not be reproducible."""


def runtime_requirements(pyproject: Path) -> list[str]:
    with pyproject.open("rb") as file:
        project = tomllib.load(file)["project"]
    requirements: list[str] = list(project["dependencies"])
    unpinned = [requirement for requirement in requirements if "==" not in requirement]
    if unpinned:
        raise UnpinnedRequirement(
            f"{pyproject}: pin these runtime dependencies exactly (name==x.y.z) so that the "
            f"container image installs what the tests ran on: {', '.join(unpinned)}"
        )
    return requirements


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else Path("pyproject.toml")
    try:
        requirements = runtime_requirements(pyproject)
    except UnpinnedRequirement as error:
        sys.stderr.write(f"{error}\n")
        return 2
    sys.stdout.write("".join(f"{requirement}\n" for requirement in requirements))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
