"""What the store's SQL runs on: the Session and Database protocols both drivers implement, and
the values that cross them. The drivers and the code that picks one (storage.database) import
this module and not each other, so there is no import circle between them.

SQL uses `?` placeholders on both backends; the PostgreSQL driver renumbers them. Timestamps go
in as aware datetimes and come back as aware UTC datetimes on both backends. JSON documents
are passed as text.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]
SqlValue = str | int | float | bool | datetime | None
Row = dict[str, Any]


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

    async def write_alone(self, sql: str, *params: SqlValue, durable: bool = True) -> list[Row]:
        """One statement that writes, committed by itself in one round trip to the database;
        the rows of its RETURNING clause (none without one). ``durable=False`` as for
        transaction() (on PostgreSQL, a connection of a second pool whose sessions commit
        so: a statement alone cannot SET LOCAL)."""

    async def close(self) -> None: ...
