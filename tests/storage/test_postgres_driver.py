"""The PostgreSQL driver (storage.postgres_driver): clear errors when the server does not answer,
and the pure pieces (placeholders, naming the server without its credentials)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from storage.database import Database, open_database
from storage.errors import StorageUnavailable, UniqueViolation
from storage.postgres_driver import POOL_MAX_SIZE, describe_server, numbered_placeholders
from storage.sql_store import open_store

from conftest import CreateDatabase


class FixedClock:
    def now(self) -> datetime:
        return datetime(2025, 3, 28, 9, 0, tzinfo=UTC)


async def test_an_unreachable_postgresql_is_refused_quickly_with_host_and_port() -> None:
    started = time.monotonic()
    with pytest.raises(StorageUnavailable, match=r"127\.0\.0\.1:1\b") as raised:
        await open_store("postgresql://bot:s3cret@127.0.0.1:1/handoff", FixedClock())

    assert time.monotonic() - started < 5
    assert "s3cret" not in str(raised.value)


async def test_a_postgresql_that_accepts_but_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match=f"127.0.0.1:{port}"):
            await open_store(
                f"postgresql://bot@127.0.0.1:{port}/handoff", FixedClock(), timeout_seconds=0.5
            )
        assert time.monotonic() - started < 3
    finally:
        server.close()
        await server.wait_closed()


def test_placeholders_are_numbered_outside_quotes_and_comments() -> None:
    sql = "SELECT '?', \"a?\" FROM t -- why?\nWHERE a = ? AND b = 'it''s ?' AND c IN (?, ?)"
    assert numbered_placeholders(sql) == (
        "SELECT '?', \"a?\" FROM t -- why?\nWHERE a = $1 AND b = 'it''s ?' AND c IN ($2, $3)"
    )


@pytest.mark.parametrize(
    ("dsn", "server"),
    [
        ("postgresql://u:p@db.internal:5433/x", "db.internal:5433"),
        ("postgres://db.internal/x", "db.internal:5432"),
        ("postgresql:///x", "localhost:5432"),
        ("postgresql://u:p@[::1]:6543/x?sslmode=disable", "[::1]:6543"),
    ],
)
def test_the_server_is_described_without_credentials(dsn: str, server: str) -> None:
    assert describe_server(dsn) == server


@pytest.fixture
async def db(create_postgres_database: CreateDatabase) -> AsyncIterator[Database]:
    """An empty PostgreSQL database with a table `t`, opened through the driver."""
    opened = await open_database(await create_postgres_database())
    await opened.execute("CREATE TABLE t (k text PRIMARY KEY, v integer)")
    yield opened
    await opened.close()


async def test_a_duplicate_key_is_reported_as_a_unique_violation(db: Database) -> None:
    await db.execute("INSERT INTO t (k, v) VALUES (?, ?)", "a", 1)
    with pytest.raises(UniqueViolation):
        await db.execute("INSERT INTO t (k, v) VALUES (?, ?)", "a", 2)
    assert await db.fetch_all("SELECT k, v FROM t") == [{"k": "a", "v": 1}]


async def test_a_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (k, v) VALUES (?, ?)", "a", 1)
            raise ZeroDivisionError
    assert await db.fetch_all("SELECT k FROM t") == []


async def test_using_the_database_inside_its_own_transaction_is_refused(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t (k, v) VALUES (?, ?)", "a", 1)
        with pytest.raises(RuntimeError, match="session that transaction"):
            await db.fetch_one("SELECT k FROM t")
    assert await db.fetch_all("SELECT k FROM t") == [{"k": "a"}]


async def test_only_a_not_durable_transaction_skips_waiting_for_the_disk(db: Database) -> None:
    async with db.transaction(durable=False) as tx:
        relaxed = await tx.fetch_one("SHOW synchronous_commit")
    async with db.transaction() as tx:
        durable = await tx.fetch_one("SHOW synchronous_commit")
    assert relaxed == {"synchronous_commit": "off"}
    assert durable == {"synchronous_commit": "on"}


async def test_only_a_not_durable_statement_alone_skips_waiting_for_the_disk(
    db: Database,
) -> None:
    """A delivery's claim and finish need not wait for the disk; everything else must."""
    setting = "SELECT current_setting('synchronous_commit') AS synchronous_commit"
    assert await db.write_alone(setting, durable=False) == [{"synchronous_commit": "off"}]
    assert await db.write_alone(setting) == [{"synchronous_commit": "on"}]
    assert await db.fetch_all(setting) == [{"synchronous_commit": "on"}]
    async with db.transaction() as tx:
        assert await tx.fetch_one(setting) == {"synchronous_commit": "on"}


async def test_a_naive_time_is_refused_before_it_reaches_the_server(db: Database) -> None:
    with pytest.raises(ValueError, match="time zone"):
        await db.execute("SELECT ?::timestamptz", datetime(2025, 1, 1))
    assert await db.fetch_one("SELECT ?::timestamptz AS at", datetime(2025, 1, 1, tzinfo=UTC)) == {
        "at": datetime(2025, 1, 1, tzinfo=UTC)
    }


async def test_a_migration_may_outlast_a_turns_statement_timeout(
    create_postgres_database: CreateDatabase,
) -> None:
    """A backfill over a big table takes longer than the seconds a turn's statement is given;
    the upgrade must not fail half-way as if the server were down."""
    db = await open_database(await create_postgres_database(), timeout_seconds=0.5)
    try:
        with pytest.raises(StorageUnavailable):
            await db.fetch_one("SELECT pg_sleep(1) AS slept")
        await db.execute_script("SELECT pg_sleep(1); CREATE TABLE migrated (id int);")
        assert await db.fetch_all("SELECT id FROM migrated") == []
    finally:
        await db.close()


async def test_a_statement_waits_for_a_free_connection_only_as_long_as_the_timeout(
    create_postgres_database: CreateDatabase,
) -> None:
    """Every pooled connection held by a transaction that does not end: the next statement is
    refused as unavailable after the bot's database timeout, and runs once one is free."""
    db = await open_database(await create_postgres_database(), timeout_seconds=0.5)
    held = asyncio.Event()
    let_go = asyncio.Event()
    holders: list[asyncio.Task[None]] = []

    async def hold() -> None:
        async with db.transaction() as tx:
            await tx.execute("SELECT 1")
            held.set()
            await let_go.wait()

    try:
        for _ in range(POOL_MAX_SIZE):
            held.clear()
            holders.append(asyncio.create_task(hold()))
            await held.wait()
        started = time.perf_counter()
        with pytest.raises(StorageUnavailable, match="unavailable"):
            await db.fetch_one("SELECT 1 AS one")
        waited = time.perf_counter() - started
        assert 0.4 < waited < 2.0
        let_go.set()
        await asyncio.gather(*holders)
        assert await db.fetch_one("SELECT 1 AS one") == {"one": 1}
    finally:
        let_go.set()
        await asyncio.gather(*holders, return_exceptions=True)
        await db.close()
