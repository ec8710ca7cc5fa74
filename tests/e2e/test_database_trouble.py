"""The database goes away under traffic: PostgreSQL cut off behind a TCP proxy (the shared
server itself is never touched), and an SQLite file another program keeps locked."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from application import messages
from handoff.ports import SystemClock
from storage.sql_store import open_store

from conftest import CreateDatabase, FakeClock, StartBot
from harness import activities
from harness.bot_process import BotProcess, bot_environment
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    BotClient,
    accept_invoke,
    handoff_card,
)
from harness.ids import fake_user
from harness.tcp_proxy import TcpProxy

CASE = "2311230040005555"
DEADLINE_SECONDS = 4.0
OUTAGE_SECONDS = 3.0


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")
    auth = netloc[0] + "@" if netloc[1] else ""
    return urlunsplit(parts._replace(netloc=f"{auth}127.0.0.1:{proxy.port}"))


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 5432) as proxy:
        yield proxy


async def test_postgresql_gone_for_a_while_is_reported_and_nothing_is_lost(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    create_postgres_database: CreateDatabase,
    pg_proxy: TcpProxy,
) -> None:
    url = await create_postgres_database()
    bot = await start_bot(
        DATABASE_URL=through(pg_proxy, url),
        DATABASE_TIMEOUT_SECONDS="2",
        REQUEST_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
        OUTBOX_POLL_SECONDS="0.1",
        OUTBOX_BACKOFF_SECONDS="0.1",
        OUTBOX_BACKOFF_CAP_SECONDS="0.5",
    )
    client = BotClient(bot.url, bot.session)
    card, message_id = await handoff_card(client, fake_connector, CASE)
    assert await client.ready() == 200

    pg_proxy.cut()
    loop = asyncio.get_running_loop()
    outage_ends = loop.time() + OUTAGE_SECONDS
    slowest = 0.0
    replies_before = len(fake_connector.activities())
    sent = 0
    while loop.time() < outage_ends:
        started = loop.time()
        status, _ = await client.post(
            activities.personal_message(f"status {CASE}", fake_connector.url)
        )
        slowest = max(slowest, loop.time() - started)
        assert status < 500 or status == 503
        sent += 1
    assert await client.ready() == 503
    clicker = fake_user("During Outage")
    status, body = await client.post(accept_invoke(fake_connector, card, message_id, clicker))
    assert status == 200 and messages.database_down() in str(body)
    told = await fake_connector.wait_for_activities(replies_before + sent, timeout=10)
    assert all(a.get("text") == messages.database_down() for a in told[replies_before:])
    assert slowest < DEADLINE_SECONDS + 0.5, "no request waits past its deadline"

    pg_proxy.restore()
    for _ in range(100):  # the pool reconnects on its own
        if await client.ready() == 200:
            break
        await asyncio.sleep(0.1)
    assert await client.ready() == 200
    winner = fake_user("After Outage")
    status, body = await client.post(accept_invoke(fake_connector, card, message_id, winner))
    assert status == 200 and "Accepted by After Outage" in all_text(body["value"])
    await fake_connector.wait_for_activities(
        predicate=lambda a: "accepted your handoff" in str(a.get("text"))
    )
    store = await open_store(url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None and handoff.owner is not None
        assert handoff.owner.name == "After Outage"
    finally:
        await store.close()
    # A send whose result could not be written while the database was away is not sent
    # again once it is back (the worker kept the result).
    assert sum(fake_connector.resent.values()) == 0


def _errors(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno >= logging.ERROR]


async def _until(condition: Callable[[], object], what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"waited 20 s in vain for {what}")


async def test_an_outage_logs_one_traceback_then_a_count_every_30_s_and_then_its_end(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    create_postgres_database: CreateDatabase,
    pg_proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A traceback per failed request (and per outbox poll) buried the log in an outage:
    now each of them logs its first failure in full, then a count at most every 30 s."""
    clock = FakeClock()
    url = await create_postgres_database()
    bot = await start_bot(
        clock,
        DATABASE_URL=through(pg_proxy, url),
        DATABASE_TIMEOUT_SECONDS="2",
        OUTBOX_POLL_SECONDS="0.05",
    )
    # A handoff whose card the outbox posts: its start-up work is done before the cut.
    await handoff_card(bot.client, fake_connector, CASE)
    caplog.set_level(logging.WARNING)
    before = len(fake_connector.activities())

    def message(n: int) -> dict[str, object]:
        # A chat each, so that the replies do not wait for the per-chat send limit.
        return activities.personal_message(
            "help", fake_connector.url, conversation_id=f"a:outage-{n}"
        )

    pg_proxy.cut()
    for n in range(50):
        status, _ = await bot.client.post(message(n))
        assert status < 500
    told = await fake_connector.wait_for_activities(before + 50)
    assert [a.get("text") for a in told[before:]] == [messages.database_down()] * 50
    await _until(lambda: _errors(caplog, "outbox.worker"), "the outbox's first failure")

    [turns] = _errors(caplog, "teams.middleware")
    assert turns.getMessage() == "turn failed" and turns.exc_info is not None
    [rounds] = _errors(caplog, "outbox.worker")
    assert rounds.exc_info is not None

    clock.advance(timedelta(seconds=30))
    status, _ = await bot.client.post(message(50))
    assert status < 500
    [_, summary] = _errors(caplog, "teams.middleware")
    assert summary.getMessage() == "database unavailable: 50 more turns failed in the last 30 s"
    assert summary.exc_info is None
    await _until(lambda: len(_errors(caplog, "outbox.worker")) == 2, "the outbox's count")
    assert _errors(caplog, "outbox.worker")[1].exc_info is None

    pg_proxy.restore()
    for _ in range(100):  # the pool reconnects on its own
        if await bot.client.ready() == 200:
            break
        await asyncio.sleep(0.1)
    status, _ = await bot.client.post(message(51))
    assert status < 500
    told = await fake_connector.wait_for_activities(before + 52)
    assert told[before + 50].get("text") == messages.database_down(), "told to try again each time"
    assert told[before + 51].get("text") != messages.database_down()
    await _until(lambda: len(_ends(caplog)) == 2, "the outbox's rounds working again")

    assert sorted(r.getMessage().split(" after ")[0] for r in _ends(caplog)) == [
        "database unavailable: outbox rounds work again",
        "database unavailable: turns work again",
    ]
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in _ends(caplog))
    # asyncpg's pool warns with a traceback when it cannot reconnect, backing off to once a
    # minute: not one per request, and not the bot's.
    ours = [r for r in caplog.records if r.exc_info is not None and r.name != "asyncpg.pool"]
    assert sorted(ours, key=lambda r: r.name) == [rounds, turns]


def _ends(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "outbox.fault_log"]


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


async def test_a_locked_sqlite_file_is_a_clear_reply_while_running(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    bot = await start_bot(DATABASE_TIMEOUT_SECONDS="0.5")
    path = Path(urlsplit(sqlite_url).path)
    holder = await asyncio.to_thread(_hold_write_lock, path)
    try:
        await bot.post_activity(activities.personal_message("mine", fake_connector.url))
        [reply] = await fake_connector.wait_for_activities(1)
        assert reply.get("text") == messages.database_down()
    finally:
        await asyncio.to_thread(holder.close)
    await bot.post_activity(activities.personal_message("mine", fake_connector.url))
    [_, after] = await fake_connector.wait_for_activities(2)
    assert after.get("text") != messages.database_down()


@asynccontextmanager
async def _write_locked(path: Path) -> AsyncIterator[None]:
    holder = await asyncio.to_thread(_hold_write_lock, path)
    try:
        yield
    finally:
        await asyncio.to_thread(holder.close)


def _set_immutable(path: Path, immutable: bool) -> None:
    # Tests run as root, whom file modes do not stop; the immutable attribute does.
    subprocess.run(["chattr", "+i" if immutable else "-i", str(path)], check=True)


@asynccontextmanager
async def _immutable(path: Path) -> AsyncIterator[None]:
    await asyncio.to_thread(_set_immutable, path, True)
    try:
        yield
    finally:
        await asyncio.to_thread(_set_immutable, path, False)


async def _failed_start_up_log(
    tmp_path: Path, path: Path, trouble: Callable[[Path], AbstractAsyncContextManager[None]]
) -> str:
    """Starts the bot once to create and migrate the SQLite file at `path`, then again while
    `trouble` holds the file; the second start must stop with exit code 1 and no traceback.
    Returns its log."""
    env = bot_environment(f"sqlite:///{path}", DATABASE_TIMEOUT_SECONDS="0.5")
    first = BotProcess(env, tmp_path / "first.log")
    try:
        await first.start_ready()
    finally:
        first.stop()
    bot = BotProcess(env, tmp_path / "bot.log")
    async with trouble(path):
        try:
            bot.start()
            assert bot.process is not None
            code = await asyncio.to_thread(bot.process.wait, 30)
        finally:
            bot.stop()
    assert code == 1
    log = (tmp_path / "bot.log").read_text()
    assert "cannot start" in log and str(path) in log
    assert "Traceback" not in log
    return log


async def test_a_locked_sqlite_file_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    log = await _failed_start_up_log(tmp_path, tmp_path / "bot.db", _write_locked)
    assert "locked" in log


async def test_a_read_only_sqlite_file_stops_start_up_saying_what_to_fix(tmp_path: Path) -> None:
    log = await _failed_start_up_log(tmp_path, tmp_path / "bot.db", _immutable)
    assert "readonly database" in log and "must exist and be writable" in log
