"""What the shipping files say, read as the tools that use them read them: the Dockerfile's
instructions, .dockerignore's patterns (Docker's rules: last match wins, a pattern matching a
folder matches what is in it), main.bicep through a Bicep parser, and the paths app.py
really serves, asked of the aiohttp application it builds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from pycep import BicepParser

from app import create_app
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
BICEP = ROOT / "infra" / "main.bicep"
BICEP_PARAMETERS = ROOT / "infra" / "main.parameters.json"


@cache
def served_paths() -> frozenset[str]:
    """The paths app.py's application routes (nothing is started or opened)."""
    settings = Settings(DATABASE_URL="sqlite:///never-opened.db", MicrosoftAppId="")
    app = create_app(settings)
    return frozenset(r.resource.canonical for r in app.router.routes() if r.resource)


def settings_aliases() -> frozenset[str]:
    """Every environment variable config.settings.Settings reads."""
    return frozenset(f.alias for f in Settings.model_fields.values() if f.alias)


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int  # 0 for the first FROM's stage, 1 for the next, ...

    def exec_form(self) -> list[str]:
        """The JSON array of CMD ["…"] (after any --flags); ValueError in shell form."""
        start = self.arguments.find("[")
        if start < 0:
            raise ValueError(f"{self.keyword} {self.arguments!r} is in shell form")
        parsed = json.loads(self.arguments[start:])
        if not (isinstance(parsed, list) and all(isinstance(part, str) for part in parsed)):
            raise ValueError(f"{self.keyword}: not a JSON array of strings")
        return parsed


def dockerfile(text: str | None = None) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    source = DOCKERFILE.read_text(encoding="utf-8") if text is None else text
    logical: list[str] = []
    pending = ""
    for line in source.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    instructions = []
    stage = -1
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, " ".join(arguments.split()), stage))
    return instructions


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def in_build_context(path: str, ignore_text: str | None = None) -> bool:
    """Whether .dockerignore lets `path` (relative to the repository root) into the build."""
    text = DOCKERIGNORE.read_text(encoding="utf-8") if ignore_text is None else ignore_text
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    included = True
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/").removeprefix("./")
        regex = _pattern_regex(pattern)
        if any(regex.match(candidate) for candidate in candidates):
            included = negated
    return included


@cache
def bicep() -> dict[str, Any]:
    """main.bicep as the parser's JSON: parameters, variables, resources, outputs."""
    return cast(dict[str, Any], BicepParser(cache=False).parse(file_path=BICEP))


def bicep_parameters_file() -> dict[str, Any]:
    values: dict[str, Any] = json.loads(BICEP_PARAMETERS.read_text(encoding="utf-8"))
    return values["parameters"]  # type: ignore[no-any-return]


def resource(name: str) -> dict[str, Any]:
    """A resource's body by its symbolic name (the body of `= if (...) {}` for a conditional)."""
    config: dict[str, Any] = bicep()["resources"][name]["config"]
    return config.get("config", config) if "condition" in config else config


def resources_of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource(name)
        for name, declared in bicep()["resources"].items()
        if declared["type"] == kind
    }


def resolve(value: Any) -> Any:
    """A variable's value for its name; a parameter's default for its name; else `value`."""
    if isinstance(value, str):
        variables = bicep()["variables"]
        if value in variables:
            return resolve(variables[value]["value"])
        parameters = bicep()["parameters"]
        if value in parameters and parameters[value].get("default") is not None:
            return resolve(parameters[value]["default"])
    return value
