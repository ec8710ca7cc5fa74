"""Opening a database (storage.database): which DATABASE_URL forms are accepted, and that each
opens on its own driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.database import PostgresTarget, SqliteTarget, open_database, parse_database_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/handoff.db", SqliteTarget(Path("data/handoff.db"))),
        ("sqlite:////var/lib/handoff.db", SqliteTarget(Path("/var/lib/handoff.db"))),
        ("SQLITE:///bot.db", SqliteTarget(Path("bot.db"))),
        ("postgresql://bot:s3cret@db.internal:5433/handoff", PostgresTarget(
            "postgresql://bot:s3cret@db.internal:5433/handoff")),
        ("postgres://localhost/handoff", PostgresTarget("postgres://localhost/handoff")),
    ],
)  # fmt: skip
def test_accepted_database_urls(url: str, expected: SqliteTarget | PostgresTarget) -> None:
    assert parse_database_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "handoff.db",
        "sqlite://handoff.db",
        "sqlite:///",
        "sqlite:///data/",
        "sqlite:///handoff.db?mode=ro",
        "mysql://root:hunter2@db/handoff",
        "postgresql://",
        "https://example.org/db",
    ],
)
async def test_malformed_database_urls_are_refused_naming_database_url(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as raised:
        await open_database(url)

    message = str(raised.value)
    assert "sqlite:///relative/path.db" in message and "postgresql://" in message
    assert "hunter2" not in message


async def test_each_database_url_opens_on_its_own_driver(database_url: str, backend: str) -> None:
    db = await open_database(database_url)
    try:
        assert db.dialect == backend
        assert await db.fetch_one("SELECT 1 AS answer") == {"answer": 1}
    finally:
        await db.close()
