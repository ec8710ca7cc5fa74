"""Fixtures shared across the suite: the bot served over real HTTP, and the fake connector."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app import create_app
from config.settings import Settings


@dataclass
class RunningBot:
    """The bot's aiohttp application served on an ephemeral loopback port."""

    url: str
    runner: web.AppRunner
    session: aiohttp.ClientSession

    async def post_activity(
        self, activity: dict[str, Any], headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        async with self.session.post(
            f"{self.url}/api/messages", json=activity, headers=headers or {}
        ) as response:
            await response.read()
            return response

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(f"{self.url}{path}") as response:
            return response.status, await response.json()

    async def stop(self) -> None:
        await self.runner.cleanup()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def start_bot(sqlite_url: str) -> AsyncIterator[StartBot]:
    """Starts the bot in this process (call again after stop() for a restart)."""
    running: list[RunningBot] = []
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def start(**settings: Any) -> RunningBot:
        values: dict[str, Any] = {"DATABASE_URL": sqlite_url, **settings}
        app = create_app(Settings(**values))
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        bot = RunningBot(url=f"http://127.0.0.1:{port}", runner=runner, session=session)
        running.append(bot)
        return bot

    yield start
    for bot in running:
        await bot.stop()
    await session.close()
