"""Schema migrations (storage.migrate), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging

import pytest

from storage.migrate import load_migrations, migrate
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock


async def test_migrations_are_idempotent(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    assert await migrate(store.database, clock) == []

    rows = await store.database.fetch_all(
        "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
    )

    known = load_migrations(store.database.dialect)
    assert [(row["version"], row["name"]) for row in rows] == [(m.version, m.name) for m in known]
    assert all(row["applied_at"] == clock.now() for row in rows)


async def test_both_dialects_have_the_same_migrations() -> None:
    sqlite = [(m.version, m.name) for m in load_migrations("sqlite")]
    postgresql = [(m.version, m.name) for m in load_migrations("postgresql")]
    assert sqlite == postgresql and sqlite


async def test_two_processes_opening_a_new_database_at_once_migrate_it_once(
    database_url: str, clock: FakeClock
) -> None:
    stores = await asyncio.gather(open_store(database_url, clock), open_store(database_url, clock))
    try:
        rows = await stores[0].database.fetch_all(
            "SELECT version FROM schema_migrations ORDER BY version"
        )
        known = load_migrations(stores[0].database.dialect)
        assert [row["version"] for row in rows] == [m.version for m in known]
        await stores[1].ping()
    finally:
        for opened in stores:
            await opened.close()


async def test_a_database_migrated_by_a_newer_release_opens_with_a_warning(
    store: SqlStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await store.database.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        9999,
        "from_the_future",
        clock.now(),
    )

    with caplog.at_level(logging.WARNING, logger="storage.migrate"):
        assert await migrate(store.database, clock) == []

    [warning] = [r for r in caplog.records if r.name == "storage.migrate"]
    assert "[9999]" in warning.getMessage() and "newer release" in warning.getMessage()
