"""Which database a DATABASE_URL names, and opening it with the driver for it.

The SQL the store runs is written once against storage.sql_protocol; this module only picks
the driver. The protocol and value types are re-exported here for the callers that have always
imported them from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .sql_protocol import Database, Dialect, Row, Session, SqlValue

__all__ = [
    "ACCEPTED_URL_FORMS",
    "DEFAULT_TIMEOUT_SECONDS",
    "Database",
    "Dialect",
    "PostgresTarget",
    "Row",
    "Session",
    "SqlValue",
    "SqliteTarget",
    "open_database",
    "parse_database_url",
]

DEFAULT_TIMEOUT_SECONDS = 5.0

ACCEPTED_URL_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user:password@host:5432/dbname (or postgres://...)"
)


@dataclass(frozen=True)
class SqliteTarget:
    path: Path


@dataclass(frozen=True)
class PostgresTarget:
    dsn: str


def parse_database_url(url: str) -> SqliteTarget | PostgresTarget:
    """Which database a DATABASE_URL points at; ValueError saying the accepted forms if it
    is none of them."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres") and rest:
        return PostgresTarget(dsn=url)
    if scheme == "sqlite" and rest.startswith("/"):
        parts = urlsplit(url)
        path = rest[1:]
        if parts.query or parts.fragment or not path or path.endswith("/"):
            raise ValueError(_bad_url_message(f"the sqlite URL {url!r} does not name a file"))
        return SqliteTarget(path=Path(path))
    if scheme == "sqlite":
        raise ValueError(_bad_url_message(f"the sqlite URL {url!r} needs three slashes"))
    # Only the scheme is echoed: an unsupported URL may still carry a password.
    shown = f"a {scheme}:// URL" if scheme and rest else "a value that is not a database URL"
    raise ValueError(_bad_url_message(f"got {shown}"))


def _bad_url_message(problem: str) -> str:
    return f"DATABASE_URL is not usable: {problem}. Accepted forms: {ACCEPTED_URL_FORMS}."


async def open_database(url: str, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> Database:
    """Connects to the database at `url` (see ACCEPTED_URL_FORMS).

    `timeout_seconds` bounds how long opening waits: the PostgreSQL connect timeout, and SQLite's
    busy timeout (how long a write waits for another process's write lock). Raises ValueError
    for a URL of the wrong form and StorageUnavailable when the database cannot be used."""
    target = parse_database_url(url)
    # Only the driver of the database in use is imported: asyncpg alone is ~3 MB and ~15 ms of
    # every SQLite bot's start-up, aiosqlite a little of a PostgreSQL bot's.
    if isinstance(target, SqliteTarget):
        from .sqlite_driver import open_sqlite

        return await open_sqlite(target.path, timeout_seconds=timeout_seconds)
    from .postgres_driver import open_postgres

    return await open_postgres(target.dsn, timeout_seconds=timeout_seconds)
