"""PostgreSQL through an asyncpg pool: the scale-out backend shared by several bot processes."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from .errors import StorageUnavailable, UniqueViolation
from .sql_protocol import Dialect, Row, Session, SqlValue

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Connections per bot process and pool. A turn holds one only for a statement or a short
# transaction. There are two pools: the second's sessions commit without waiting for the disk,
# for the statements that need not (a delivery's claim and finish, twice a turn).
POOL_MAX_SIZE = 10

# What asyncpg raises when the server is gone, restarting, refusing or too slow, as opposed to
# errors in the SQL itself.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    # A connection the server terminated can surface as a protocol-state error on next use.
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.CannotConnectNowError,
)


@functools.lru_cache(maxsize=1024)
def numbered_placeholders(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1..$n`, leaving quoted text and comments alone.
    Cached: the store's statements are a small fixed set."""
    out: list[str] = []
    count = 0
    i = 0
    while i < len(sql):
        char = sql[i]
        if char in "'\"":
            end = sql.find(char, i + 1)
            end = len(sql) if end < 0 else end + 1
            out.append(sql[i:end])
            i = end
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
            out.append(sql[i:end])
            i = end
            continue
        if char == "?":
            count += 1
            out.append(f"${count}")
        else:
            out.append(char)
        i += 1
    return "".join(out)


# How long a migration script may run (execute_script).
SCRIPT_TIMEOUT_SECONDS = 3600.0


def describe_server(dsn: str) -> str:
    """host:port of a PostgreSQL URL, never its credentials."""
    _, _, rest = dsn.partition("://")
    netloc = rest.split("/", 1)[0].split("?", 1)[0]
    hosts = netloc.rpartition("@")[2] or "localhost"
    return hosts if ":" in hosts.rsplit("]", 1)[-1] else f"{hosts}:5432"


def _checked(params: tuple[SqlValue, ...]) -> tuple[SqlValue, ...]:
    # asyncpg would store a naive datetime as if it were UTC; SQLite's driver refuses it too.
    for value in params:
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise ValueError(f"refusing to store the naive datetime {value!r}: give it a time zone")
    return params


class _PostgresSession:
    def __init__(self, conn: Any, run: _Runner) -> None:
        self._conn = conn
        self._run = run

    async def execute(self, sql: str, *params: SqlValue) -> int:
        params = _checked(params)
        status: str = await self._run(
            lambda: self._conn.execute(numbered_placeholders(sql), *params)
        )
        # asyncpg returns the command tag, e.g. "UPDATE 3" or "INSERT 0 1".
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def fetch_all(self, sql: str, *params: SqlValue) -> list[Row]:
        params = _checked(params)
        records = await self._run(lambda: self._conn.fetch(numbered_placeholders(sql), *params))
        return [dict(record) for record in records]

    async def fetch_one(self, sql: str, *params: SqlValue) -> Row | None:
        params = _checked(params)
        record = await self._run(lambda: self._conn.fetchrow(numbered_placeholders(sql), *params))
        return None if record is None else dict(record)

    async def execute_script(self, script: str) -> None:
        # Without arguments asyncpg uses the simple query protocol, which runs many statements.
        # Scripts are migrations: a backfill over a big table may take minutes, far beyond the
        # few seconds a turn's statement is given.
        await self._run(lambda: self._conn.execute(script, timeout=SCRIPT_TIMEOUT_SECONDS))


class _Runner:
    """Runs one asyncpg call, translating its errors into the storage layer's."""

    def __init__(self, server: str) -> None:
        self.server = server

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except asyncpg.UniqueViolationError as error:
            raise UniqueViolation(str(error)) from error
        except _CONNECTION_ERRORS as error:
            raise StorageUnavailable(
                f"PostgreSQL at {self.server} is unavailable ({type(error).__name__}: {error}); "
                "the operation was not completed. Check that the server is up and reachable."
            ) from error


class PostgresDatabase:
    def __init__(self, pool: Any, server: str, timeout: float, relaxed_pool: Any = None) -> None:
        self._pool = pool
        # Statements alone that need not wait for the disk (write_alone(durable=False)): a
        # statement alone cannot SET LOCAL, and a transaction to do so costs three more trips.
        self._relaxed_pool = relaxed_pool if relaxed_pool is not None else pool
        self._server = server
        self._timeout = timeout
        self._run = _Runner(server)
        self._in_transaction: ContextVar[bool] = ContextVar(
            f"storage.postgres.in_transaction.{id(self)}", default=False
        )

    @property
    def dialect(self) -> Dialect:
        return "postgresql"

    @property
    def server(self) -> str:
        return self._server

    async def execute(self, sql: str, *params: SqlValue) -> int:
        async with self._connection() as session:
            return await session.execute(sql, *params)

    async def fetch_all(self, sql: str, *params: SqlValue) -> list[Row]:
        async with self._connection() as session:
            return await session.fetch_all(sql, *params)

    async def fetch_one(self, sql: str, *params: SqlValue) -> Row | None:
        async with self._connection() as session:
            return await session.fetch_one(sql, *params)

    async def write_alone(self, sql: str, *params: SqlValue, durable: bool = True) -> list[Row]:
        async with self._connection(self._pool if durable else self._relaxed_pool) as session:
            return await session.fetch_all(sql, *params)

    async def execute_script(self, script: str) -> None:
        async with self.transaction() as tx:
            await tx.execute_script(script)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Session]:
        async with self._acquire(self._pool) as conn:
            transaction = conn.transaction()
            await self._run(transaction.start)
            token = self._in_transaction.set(True)
            try:
                session = _PostgresSession(conn, self._run)
                if not durable:
                    # Only this transaction's commit skips the WAL flush; a later synchronous
                    # commit flushes the WAL up to and including it.
                    await session.execute("SET LOCAL synchronous_commit = off")
                yield session
            except BaseException:
                self._in_transaction.reset(token)
                await self._rollback(transaction)
                raise
            self._in_transaction.reset(token)
            await self._run(transaction.commit)

    async def close(self) -> None:
        if self._pool.is_closing():
            return
        await self._pool.close()
        if self._relaxed_pool is not self._pool:
            await self._relaxed_pool.close()
        logger.info("closed the PostgreSQL pool", extra={"server": self._server})

    @asynccontextmanager
    async def _connection(self, pool: Any = None) -> AsyncIterator[_PostgresSession]:
        async with self._acquire(self._pool if pool is None else pool) as conn:
            yield _PostgresSession(conn, self._run)

    @asynccontextmanager
    async def _acquire(self, pool: Any) -> AsyncIterator[Any]:
        if self._in_transaction.get():
            # A second pooled connection would not see the transaction and could wait forever
            # on the rows it has locked.
            raise RuntimeError(
                "PostgreSQL database used directly inside one of its own transactions; run the "
                "statement on the session that transaction() yielded"
            )
        if pool.is_closing():
            raise StorageUnavailable(f"The PostgreSQL pool for {self._server} has been closed.")
        try:
            conn = await self._run(lambda: self._acquired(pool))
        except asyncpg.PostgresError as error:
            # Refused while (re)connecting: the database is closed to connections, being
            # dropped, or starting up. No statement ran, so the caller may simply try again.
            raise StorageUnavailable(
                f"PostgreSQL at {self._server} refuses new connections "
                f"({type(error).__name__}: {error}); try again shortly."
            ) from error
        try:
            yield conn
        finally:
            await pool.release(conn, timeout=self._timeout)

    async def _acquired(self, pool: Any) -> Any:
        # Bounded here rather than by acquire(timeout=...): on Python 3.11 asyncpg bounds it
        # with its own wait_for, a task of its own and a loop turn more for every statement.
        async with asyncio.timeout(self._timeout):
            return await pool.acquire()

    async def _rollback(self, transaction: Any) -> None:
        try:
            await transaction.rollback()
        except _CONNECTION_ERRORS:
            logger.warning(
                "rolling back failed; the connection is dropped", extra={"server": self._server}
            )


async def _nothing_to_reset(_conn: Any) -> None:
    """What a connection keeps once back in the pool. asyncpg's default resets the session
    with one more round trip per statement (advisory locks, cursors, LISTEN, settings); the
    store sets only transaction-scoped things (SET LOCAL, pg_advisory_xact_lock), and asyncpg
    still rolls back a transaction left open before this runs."""


async def open_postgres(dsn: str, *, timeout_seconds: float) -> PostgresDatabase:
    """A connection pool to the server at `dsn`; StorageUnavailable naming host:port when it
    does not answer within `timeout_seconds`."""
    server = describe_server(dsn)
    try:
        async with asyncio.timeout(timeout_seconds + 1):
            pool = await _create_pool(dsn, timeout_seconds, synchronous_commit="on")
        try:
            async with asyncio.timeout(timeout_seconds + 1):
                relaxed = await _create_pool(dsn, timeout_seconds, synchronous_commit="off")
        except BaseException:
            await pool.close()
            raise
    except _CONNECTION_ERRORS as error:
        raise StorageUnavailable(
            f"PostgreSQL at {server} does not answer ({type(error).__name__}: {error}). Start "
            "it, and check the host and port in DATABASE_URL and that this machine may connect "
            "to it."
        ) from error
    except asyncpg.InvalidCatalogNameError as error:
        raise StorageUnavailable(
            f"PostgreSQL at {server} answers but {error}; create the database or fix its name "
            "in DATABASE_URL."
        ) from error
    except asyncpg.InvalidAuthorizationSpecificationError as error:
        raise StorageUnavailable(
            f"PostgreSQL at {server} refused the login ({error}); check the user and password "
            "in DATABASE_URL."
        ) from error
    logger.info("connected to PostgreSQL", extra={"server": server})
    return PostgresDatabase(pool, server, timeout_seconds, relaxed)


async def _create_pool(dsn: str, timeout_seconds: float, *, synchronous_commit: str) -> Any:
    return await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=POOL_MAX_SIZE,
        timeout=timeout_seconds,
        # No statement waits longer, so a server that stops answering (not just refusing) is
        # reported as unavailable instead of hanging the turn.
        command_timeout=timeout_seconds,
        server_settings={
            "application_name": "handoff-bot",
            "synchronous_commit": synchronous_commit,
        },
        reset=_nothing_to_reset,
    )
