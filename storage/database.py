"""A thin async database abstraction so the repository SQL is written once.

SQL uses `?` placeholders on both backends; the PostgreSQL driver renumbers them. Timestamps go
in as aware datetimes and come back as aware UTC datetimes on both backends. JSON documents
are passed as text.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

Dialect = Literal["sqlite", "postgresql"]
SqlValue = str | int | float | bool | datetime | None
Row = dict[str, Any]

DEFAULT_TIMEOUT_SECONDS = 5.0

ACCEPTED_URL_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user:password@host:5432/dbname (or postgres://...)"
)


class Session(Protocol):
    """Something SQL can be run on: the database itself (each statement on its own) or an
    open transaction."""

    async def execute(self, sql: str, *params: SqlValue) -> int:
        """Runs one statement; returns the number of rows it changed."""

    async def fetch_all(self, sql: str, *params: SqlValue) -> list[Row]: ...

    async def fetch_one(self, sql: str, *params: SqlValue) -> Row | None:
        """The first row, or None."""

    async def execute_script(self, script: str) -> None:
        """Runs several `;`-separated statements without parameters (migrations)."""


class Database(Session, Protocol):
    @property
    def dialect(self) -> Dialect: ...

    def transaction(self, *, durable: bool = True) -> AbstractAsyncContextManager[Session]:
        """A transaction: statements run on the yielded session are committed together when
        the block ends, or rolled back if it raises. Do not use the Database itself inside
        the block (it would not see the transaction; the SQLite driver refuses it).

        ``durable=False`` commits without waiting for the disk (no fsync): the commit is as
        atomic and as visible to every other connection as any, and survives the bot process
        dying, but an operating-system crash or power loss right after it may undo it —
        unless a durable commit followed, which flushes the log up to and including it.
        Only for rows whose loss costs nothing worse than doing the work again."""

    async def close(self) -> None: ...


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
    # The drivers are imported here because they import this module's types.
    if isinstance(target, SqliteTarget):
        from .sqlite_driver import open_sqlite

        return await open_sqlite(target.path, timeout_seconds=timeout_seconds)
    from .postgres_driver import open_postgres

    return await open_postgres(target.dsn, timeout_seconds=timeout_seconds)
