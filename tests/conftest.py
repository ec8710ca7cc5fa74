"""Fixtures shared across the suite: the bot served over real HTTP, and the fake connector."""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from app import create_app
from config.settings import Settings

from harness import pseudo_locale
from harness.fake_connector import FakeConnector
from harness.handoff_flow import BotClient


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pseudo-localize",
        action="store_true",
        help="show every catalog text bracketed and fail on any text of the code shown outside "
        "the brackets (a text not in a catalog); bots started as processes do the same",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_catalogs: reads the real translations (left out of --pseudo-localize)"
    )
    if config.getoption("--pseudo-localize"):
        os.environ["PSEUDO_LOCALIZE"] = "1"
        pseudo_locale.activate()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The pseudo-localized run leaves out the tests of the real translations, which it
    would replace; they run in the ordinary run."""
    if not config.getoption("--pseudo-localize"):
        return
    kept = [item for item in items if item.get_closest_marker("real_catalogs") is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


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
            raw = await response.read()
            if pseudo_locale.active() and response.content_type == "application/json" and raw:
                # (Only a 200 is for people: 4xx/5xx bodies name fields for the Bot Service.)
                # An invoke's answer, read as sent; the test then reads it without brackets.
                body = json.loads(raw)
                if isinstance(body, dict) and response.status == 200:
                    said = [body["value"]] if isinstance(body.get("value"), str) else []
                    pseudo_locale.assert_translated(said, "an invoke's answer")
                response._body = json.dumps(pseudo_locale.unmarked(body)).encode()
            return response

    @property
    def client(self) -> BotClient:
        """Posts activities and answers (status, JSON body): see BotClient."""
        return BotClient(self.url, self.session)

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


# Every test that takes `database_url` runs on SQLite (a real file) and on PostgreSQL (a fresh
# database on the local server). PostgreSQL tests never skip: without a server they fail and
# say how to start one.
POSTGRES_URL_ENV = "HANDOFF_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", "postgresql"]


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime = datetime(2025, 3, 28, 9, 0, tzinfo=UTC)) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _admin_url() -> str:
    return os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)


def _url_for_database(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


async def _connect_admin() -> asyncpg.Connection:
    url = _admin_url()
    try:
        return await asyncpg.connect(url, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        server = urlsplit(url).netloc.rpartition("@")[2]
        pytest.fail(
            f"PostgreSQL does not answer at {server} ({type(error).__name__}: {error}). The "
            f"storage tests need it: run `make postgres`, or set {POSTGRES_URL_ENV} to a "
            "server where the user may create databases.",
            pytrace=False,
        )


CreateDatabase = Callable[[], Awaitable[str]]


@pytest.fixture
async def create_postgres_database() -> AsyncIterator[CreateDatabase]:
    """Creates empty `handoff_test_<hex>` databases on demand, drops them afterwards."""
    created: list[str] = []

    async def create() -> str:
        name = f"handoff_test_{secrets.token_hex(6)}"
        admin = await _connect_admin()
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            await admin.close()
        created.append(name)
        return _url_for_database(_admin_url(), name)

    yield create
    if created:
        admin = await _connect_admin()
        try:
            for name in created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend the `store` (and `database_url`) of this test run on."""
    param: str = request.param
    return param


@pytest.fixture
async def database_url(
    backend: str, tmp_path: Path, create_postgres_database: CreateDatabase
) -> str:
    """DATABASE_URL of an empty database on this test's backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'handoff.db'}"
    return await create_postgres_database()


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def start_bot(sqlite_url: str, fake_connector: FakeConnector) -> AsyncIterator[StartBot]:
    """Starts the bot in this process (call again after stop() for a restart). It depends on
    the fake connector so that the connector outlives it: the bot stops first."""
    running: list[RunningBot] = []
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def start(clock: Any = None, **settings: Any) -> RunningBot:
        values: dict[str, Any] = {"DATABASE_URL": sqlite_url, **settings}
        if values.get("MicrosoftAppId"):
            # With an app id the bot serves /metrics on METRICS_PORT of HOST: here a free
            # port on loopback, never the default one another test (or bot) may hold.
            values.setdefault("METRICS_PORT", free_port())
            values.setdefault("HOST", "127.0.0.1")
        app = create_app(Settings(**values), clock)
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
