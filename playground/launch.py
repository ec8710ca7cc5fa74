"""Start the bot on SQLite and the Microsoft 365 Agents Playground beside it.

`make playground` runs `main`; the playground end-to-end tests use `start` and `Stack.stop`.
The playground is a Teams-like web client that also plays the Bot Connector, so the bot can
be tried with no tenant. It is told to make no outbound calls (no telemetry, no browser).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from playground.seed import Seeded, seed
from storage.private_files import create_private_folders, tighten

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
PLAYGROUND_CLI = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
PLAYGROUND_CONFIG = ROOT / ".m365agentsplayground.yml"
PROCESS_CONFIG = ROOT / "config" / "handoff.yaml"
DEFAULT_PLAYGROUND_PORT = 56150
DEFAULT_BOT_PORT = 3978
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
# Team Leaders in the playground: the current user (so the one person driving the web client
# can bind the channel with `setup`) and the made-up Team Leader (who approves escalations).
PLAYGROUND_LEAD_IDS = ("user-emea", "user-lead")
_LISTENING = re.compile(r"Listening on (\d+)")


class LaunchError(Exception):
    """Something the person starting the playground must fix; the message says what."""


@dataclass
class Stack:
    bot: subprocess.Popen[bytes]
    playground: subprocess.Popen[bytes]
    bot_url: str
    playground_url: str
    workdir: Path
    waiting: Seeded

    def stop(self) -> None:
        """Stops both processes by PID: SIGTERM, then SIGKILL for one that lingers."""
        for process in (self.playground, self.bot):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.playground, self.bot):
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def playground_people() -> dict[str, Any]:
    loaded: Any = yaml.safe_load(PLAYGROUND_CONFIG.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise LaunchError(f"{PLAYGROUND_CONFIG} is not a mapping")
    return loaded


def write_process_config(workdir: Path) -> Path:
    """The team's process file with the playground's Team Leaders added, so escalations and
    `setup` work there as in a real team; the people stay in one file, the playground's."""
    people = playground_people()
    everyone = [people["currentUser"], *people["users"]]
    process: Any = yaml.safe_load(PROCESS_CONFIG.read_text(encoding="utf-8"))
    process["leads"] = [
        {"name": user["name"], "email": user["email"], "teams_id": user["aadObjectId"]}
        for user in everyone
        if user["id"] in PLAYGROUND_LEAD_IDS
    ]
    path = workdir / "handoff.yaml"
    path.write_text(yaml.safe_dump(process, sort_keys=False), encoding="utf-8")
    return path


def make_workdir_private(workdir: Path) -> None:
    """The playground's folder holds its database (case notes), its logs and the process file
    with people's names: created 0700 with its missing parents, or made private if it is
    there already (it is the playground's own), by the code that does the same for the bot's
    database folder. The bot, started on it, makes the database file private itself."""
    if not create_private_folders(workdir):
        tighten(workdir)


def _wait_for(description: str, ready: Any, processes: list[subprocess.Popen[bytes]]) -> Any:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise LaunchError(f"{description}: process {process.pid} exited early")
        value = ready()
        if value:
            return value
        time.sleep(0.1)
    raise LaunchError(f"{description}: not ready after {START_TIMEOUT_SECONDS:.0f} s")


def _bot_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _listening_port(log_file: Path) -> int | None:
    if not log_file.exists():
        return None
    match = _LISTENING.search(log_file.read_text(encoding="utf-8", errors="replace"))
    return int(match.group(1)) if match else None


def start(
    workdir: Path,
    *,
    bot_port: int = DEFAULT_BOT_PORT,
    playground_port: int = DEFAULT_PLAYGROUND_PORT,
    quiet: bool = True,
) -> Stack:
    """Starts the bot (SQLite under `workdir`) and the playground pointed at it.

    The playground writes to `workdir`/playground.log (its port is read from there: it takes
    another when the one asked for is busy); the bot too with `quiet`, else to this terminal.
    """
    if not PLAYGROUND_CLI.exists():
        raise LaunchError(
            f"{PLAYGROUND_CLI.relative_to(ROOT)} is missing; run `npm ci` in {ROOT} first "
            "(`make playground` does)"
        )
    make_workdir_private(workdir)
    database_url = f"sqlite:///{workdir / 'handoff.db'}"
    process_file = write_process_config(workdir)
    # Before the bot starts, so that its first turn already finds the waiting handoff.
    waiting = seed(database_url, process_file, playground_people())
    bot_env = {
        **os.environ,
        "PORT": str(bot_port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": database_url,
        "HANDOFF_CONFIG": str(process_file),
    }
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType"):
        bot_env.pop(name, None)  # the playground does not authenticate
    bot_log = workdir / "bot.log"
    playground_log = workdir / "playground.log"
    bot_out: Any = bot_log.open("wb") if quiet else None
    playground_out = playground_log.open("wb")
    bot = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=ROOT,
        env=bot_env,
        stdout=bot_out,
        stderr=bot_out,
    )
    bot_url = f"http://127.0.0.1:{bot_port}"
    try:
        _wait_for("the bot", lambda: _bot_ready(bot_url), [bot])
        playground = subprocess.Popen(
            [
                "node",
                str(PLAYGROUND_CLI),
                "start",
                "--app-endpoint",
                f"{bot_url}/api/messages",
                "--channel-id",
                "msteams",
                "--port",
                str(playground_port),
                "--disable-telemetry",
            ],
            cwd=workdir,
            env={
                **os.environ,
                "APPLICATION_INSIGHTS_NO_STATSBEAT": "true",
                "TEAMSAPPTESTER_BROWSER": "none",
                "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(PLAYGROUND_CONFIG),
                "M365_AGENTS_PLAYGROUND_LOGFILE": str(workdir / "playground-events.log"),
            },
            stdout=playground_out,
            stderr=playground_out,
        )
    except BaseException:
        bot.kill()
        bot.wait(timeout=STOP_TIMEOUT_SECONDS)
        raise
    stack = Stack(bot, playground, bot_url, "", workdir, waiting)
    try:
        port = _wait_for(
            "the playground", lambda: _listening_port(playground_log), [bot, playground]
        )
        stack.playground_url = f"http://localhost:{port}"
        _wait_for("the playground", lambda: _answers(f"{stack.playground_url}/"), [bot, playground])
    except BaseException:
        stack.stop()
        raise
    return stack


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    bot_port = int(os.environ.get("PORT", DEFAULT_BOT_PORT))
    try:
        stack = start(ROOT / "data" / "playground", bot_port=bot_port, quiet=False)
    except LaunchError as error:
        log.error("cannot start the playground: %s", error)
        return 2
    # A plain `kill` must stop both children too, as Ctrl-C does: SystemExit runs `finally`.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    log.info(
        "The playground is at %s (the bot at %s/api/messages). Ctrl-C stops both.",
        stack.playground_url,
        stack.bot_url,
    )
    log.info(
        "%s has asked for a handoff of case %s, waiting for you: open Case Transfer, post "
        "'@Handoff Bot setup' there, and press Accept on its card.",
        stack.waiting.requester,
        stack.waiting.case,
    )
    try:
        while stack.bot.poll() is None and stack.playground.poll() is None:
            time.sleep(0.5)
        log.error(
            "a process stopped (bot %s, playground %s)", stack.bot.poll(), stack.playground.poll()
        )
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
