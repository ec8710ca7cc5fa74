"""`python app.py` as a real process on an ephemeral port, for tests and scripts/chaos.py.

Its logs go to a file (a pipe nobody reads would fill up and stall the bot); it is stopped
by its own PID, with SIGTERM (a clean stop) or SIGKILL (a crash).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import IO

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
# The Dockerfile's PYTHONOPTIMIZE: the bot under test runs as the image runs it (docstrings
# and asserts left out; tests/ship/test_dockerfile.py checks the two agree).
IMAGE_PYTHONOPTIMIZE = "2"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bot_environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a local-mode bot on `database_url` (no Bot Framework credentials)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(
        {"DATABASE_URL": database_url, "LOG_LEVEL": "INFO", "PYTHONOPTIMIZE": IMAGE_PYTHONOPTIMIZE}
    )
    env.update(extra)
    return env


class BotProcess:
    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the bot is not started")
        return self.process.pid

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"the bot is already running (pid {self.process.pid})")
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )

    async def wait_ready(self, timeout: float = START_TIMEOUT_SECONDS) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while loop.time() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise AssertionError(f"the bot exited early; its log: {self.log_tail()}")
                try:
                    async with session.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the bot was not ready within {timeout} s: {self.log_tail()}")

    async def start_ready(self) -> None:
        self.start()
        await self.wait_ready()

    def kill(self) -> None:
        """SIGKILL: the crash the outbox must survive."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time; safe to call when stopped."""
        self._signal(signal.SIGTERM)

    def _signal(self, sig: signal.Signals) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, sig)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
