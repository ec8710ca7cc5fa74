"""SQLite: the embedded default for a single bot process.

One connection in WAL mode. Every statement of this process goes through one asyncio.Lock:
with a single connection, a statement run while another coroutine's transaction is open would
otherwise join that transaction and see its uncommitted rows. Writes start with
BEGIN IMMEDIATE so that, across processes, a writer waits (busy_timeout) for the write lock up
front instead of failing half-way when it upgrades from reading to writing.

Statements run on the event loop's thread: most take tens of microseconds, and a trip to
another thread and back cost more than that under load (help at 32 at once, pinned: 0.75
against 1.01 ms of CPU a turn; see docs/performance.md). Only a statement that finds the
database locked by another connection (busy_timeout is 0 here) goes to aiosqlite's thread,
which waits for the lock while the loop serves others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from .errors import StorageUnavailable, UniqueViolation
from .private_files import make_database_file_private, make_database_folder_private
from .sql_protocol import Dialect, Row, Session, SqlValue

logger = logging.getLogger(__name__)

T = TypeVar("T")
# The connection's page cache, resident memory of the bot (SQLite's default is 2,000 KiB).
# Pages beyond it are read again from the OS's file cache: the 1,000,000-handoff bench kept
# every query's p99 within its target, at about 1.5 MB less peak RSS (docs/performance.md).
PAGE_CACHE_KIB = 512

# Declared column type of timestamp columns in the SQLite migrations. It contains "TEXT", so the
# column gets TEXT affinity; the converter below turns its values back into datetimes. The name
# is distinctive because sqlite3's converter registry is process-wide.
TIMESTAMP_TYPE = "TIMESTAMP_TEXT"

_READ_ONLY_VERBS = frozenset({"SELECT", "VALUES", "EXPLAIN"})


def format_timestamp(value: datetime) -> str:
    """Fixed-width ISO-8601 UTC (`2025-03-30T01:00:00.000000Z`), so text order is time order."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing to store the naive datetime {value!r}: give it a time zone")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_timestamp(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode("ascii")).astimezone(UTC)


sqlite3.register_converter(TIMESTAMP_TYPE, parse_timestamp)


def _to_param(value: SqlValue) -> str | int | float | None:
    if isinstance(value, datetime):
        return format_timestamp(value)
    return value


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def _is_read_only(sql: str) -> bool:
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _READ_ONLY_VERBS


def split_script(script: str) -> list[str]:
    """The statements of a migration script, split where SQLite itself would (so trigger
    bodies with inner semicolons stay whole). sqlite3's executescript is not used because it
    commits any open transaction first, and a migration must run inside one."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    leftover = [
        line for line in pending.splitlines() if line.strip() and not line.strip().startswith("--")
    ]
    if leftover:
        raise ValueError(f"the script ends with an unterminated statement: {pending.strip()!r}")
    return statements


class _SqliteErrors:
    """Turns sqlite3 errors into the storage layer's: an unusable file into StorageUnavailable
    (with the path and what to do), a UNIQUE violation into UniqueViolation."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout

    @contextmanager
    def translated(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as error:
            if getattr(error, "sqlite_errorname", "").startswith(
                ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
            ):
                raise UniqueViolation(str(error)) from error
            raise
        except sqlite3.Error as error:
            advice = self.advice(error)
            if advice is None:
                raise
            raise StorageUnavailable(
                f"The SQLite database {self.path} cannot be used ({error}): {advice}"
            ) from error

    def advice(self, error: sqlite3.Error) -> str | None:
        name = getattr(error, "sqlite_errorname", "")
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return (
                f"another process kept it locked for more than {self.timeout:g} s. Stop the "
                "other program using this file; for more than one bot process use PostgreSQL."
            )
        if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
            return self.unwritable()
        if name.startswith("SQLITE_FULL"):
            return f"the disk holding {self.path.parent} is full; free some space."
        if name.startswith("SQLITE_IOERR"):
            return f"the disk holding {self.path.parent} reported an I/O error; check it."
        if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
            return (
                "the file is not a valid SQLite database; restore it from a backup or point "
                "DATABASE_URL at another file."
            )
        return None

    def unwritable(self) -> str:
        return (
            f"the file and its directory {self.path.parent} must exist and be writable by "
            f"the user the bot runs as (uid {os.geteuid()}); fix the permissions or point "
            "DATABASE_URL at a writable location."
        )


def _count_changes(conn: sqlite3.Connection, sql: str, params: list[Any]) -> int:
    cursor = conn.execute(sql, params)
    try:
        return max(cursor.rowcount, 0)
    finally:
        cursor.close()


def _fetch(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[Row]:
    return cast(list[Row], conn.execute(sql, params).fetchall())


def _params(params: tuple[SqlValue, ...]) -> list[Any]:
    return [_to_param(p) for p in params]


def _is_busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorname", "").startswith("SQLITE_BUSY")


class _SqliteSession:
    """Each statement is one call: run at once on the loop's thread, or one trip to the
    connection's thread (aiosqlite's own `execute` takes two: one to run, one to close the
    cursor)."""

    def __init__(self, conn: aiosqlite.Connection, errors: _SqliteErrors) -> None:
        self._conn = conn
        self._errors = errors
        self._wait_ms = round(errors.timeout * 1000)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` here and now; when it finds the database locked by another
        connection, on the connection's thread, waiting for the lock (`fn` did nothing
        here then: a statement that cannot take the lock changes nothing)."""
        with self._errors.translated():
            try:
                return fn(self._conn._conn, *args)
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
        return await self.on_thread(_waiting, self._wait_ms, fn, *args)

    async def on_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` on the connection's thread, as one trip. aiosqlite is that
        thread and a queue; `_execute` is the one primitive its every call is made of (the
        version is pinned, and the driver's tests run every path through here). A caller
        cancelled meanwhile still waits for the trip to end: the connection is not used
        on the loop's thread while it is in use on the other."""
        with self._errors.translated():
            trip = asyncio.ensure_future(
                self._conn._execute(fn, self._conn._conn, *args)  # type: ignore[no-untyped-call]
            )
            try:
                return cast(T, await asyncio.shield(trip))
            except asyncio.CancelledError:
                while not trip.done():
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait([trip])
                raise

    async def execute(self, sql: str, *params: SqlValue) -> int:
        return await self.run(_count_changes, sql, _params(params))

    async def fetch_all(self, sql: str, *params: SqlValue) -> list[Row]:
        # The connection's row_factory (_dict_row) makes every row a dict.
        return await self.run(_fetch, sql, _params(params))

    async def fetch_one(self, sql: str, *params: SqlValue) -> Row | None:
        rows = await self.fetch_all(sql, *params)
        return rows[0] if rows else None

    async def execute_script(self, script: str) -> None:
        for statement in split_script(script):
            await self.execute(statement)


def _waiting(conn: sqlite3.Connection, wait_ms: int, fn: Callable[..., T], *args: Any) -> T:
    # The connection does not wait for a lock on the loop's thread (busy_timeout 0); here
    # it waits as long as the bot's database timeout allows.
    conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("PRAGMA busy_timeout = 0")


def _roll_back(conn: sqlite3.Connection) -> None:
    conn.rollback()


def _begin(conn: sqlite3.Connection, synchronous: str | None) -> None:
    if synchronous is not None:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("BEGIN IMMEDIATE")


def _alone(
    conn: sqlite3.Connection,
    synchronous: str | None,
    run: Callable[[sqlite3.Connection, str, list[Any]], T],
    sql: str,
    params: list[Any],
) -> T:
    # Outside BEGIN, sqlite3 (isolation_level None) commits the statement by itself. A
    # statement that writes takes the write lock when it starts, waiting for it as BEGIN
    # IMMEDIATE would, so it never fails half-way on an upgrade from reading.
    if synchronous is not None:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    return run(conn, sql, params)


class SqliteDatabase:
    def __init__(self, conn: aiosqlite.Connection, path: Path, timeout: float) -> None:
        self._conn = conn
        self._errors = _SqliteErrors(path, timeout)
        self._session = _SqliteSession(conn, self._errors)
        self._lock = asyncio.Lock()
        self._holding_lock: ContextVar[bool] = ContextVar(
            f"storage.sqlite.holding_lock.{id(self)}", default=False
        )
        self._closed = False
        # Whether the connection runs with synchronous = NORMAL (see transaction()).
        self._relaxed = False

    @property
    def dialect(self) -> Dialect:
        return "sqlite"

    @property
    def path(self) -> Path:
        return self._errors.path

    async def execute(self, sql: str, *params: SqlValue) -> int:
        if _is_read_only(sql):
            async with self._exclusive():
                return await self._session.execute(sql, *params)
        async with self._exclusive():
            return await self._committing(True, _alone, _count_changes, sql, _params(params))

    async def fetch_all(self, sql: str, *params: SqlValue) -> list[Row]:
        if _is_read_only(sql):
            async with self._exclusive():
                return await self._session.fetch_all(sql, *params)
        return await self.write_alone(sql, *params)

    async def fetch_one(self, sql: str, *params: SqlValue) -> Row | None:
        rows = await self.fetch_all(sql, *params)
        return rows[0] if rows else None

    async def write_alone(self, sql: str, *params: SqlValue, durable: bool = True) -> list[Row]:
        async with self._exclusive():
            return await self._committing(durable, _alone, _fetch, sql, _params(params))

    async def execute_script(self, script: str) -> None:
        async with self.transaction() as tx:
            await tx.execute_script(script)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Session]:
        async with self._exclusive():
            try:
                await self._committing(durable, _begin)
                yield self._session
                await self._session.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def _committing(self, durable: bool, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, level, *args)`, `level` being the `synchronous` level to set
        before the next commit, or None when it is set already. In WAL mode NORMAL
        skips the WAL's fsync at commit; the next FULL commit's fsync covers those frames too
        (the WAL is appended in order). Set again before each commit that needs it, so a
        switch that a cancellation cut short never leaves later commits without their fsync:
        the flag errs towards "relaxed" while a switch may be under way."""
        level = None
        if durable == self._relaxed:
            level = "FULL" if durable else "NORMAL"
            self._relaxed = True
        result = await self._session.run(fn, level, *args)
        if level is not None:
            self._relaxed = not durable
        return result

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Waits for a transaction in flight rather than cutting it off.
        async with self._lock:
            await self._conn.close()
        logger.info("closed the SQLite database", extra={"path": str(self.path)})

    async def configure(self) -> None:
        """Sets the connection up and proves the file is writable, so a read-only or locked
        file is reported at start-up rather than on the first user's click."""
        async with self._exclusive():
            row = await self._session.fetch_one("PRAGMA journal_mode = WAL")
            mode = str(next(iter(row.values()))) if row else "unknown"
            if mode.lower() != "wal":
                logger.warning(
                    "SQLite database %s runs in journal mode %r, not WAL; readers will wait "
                    "for writers",
                    self.path,
                    mode,
                )
            await self._session.execute("PRAGMA foreign_keys = ON")
            await self._session.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            # WAL's default (NORMAL) can lose the last commits on power loss; handoffs must not.
            await self._session.execute("PRAGMA synchronous = FULL")
            # SQLite opens a file it may not write read-only without a word, and even
            # BEGIN IMMEDIATE succeeds on it; rewriting the header (then rolling back) does not.
            row = await self._session.fetch_one("PRAGMA user_version")
            user_version = int(next(iter(row.values()))) if row else 0
            await self._session.execute("BEGIN IMMEDIATE")
            try:
                await self._session.execute(f"PRAGMA user_version = {user_version}")
            finally:
                await self._rollback()

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        if self._holding_lock.get():
            raise RuntimeError(
                "SQLite database used directly inside one of its own transactions; run the "
                "statement on the session that transaction() yielded"
            )
        if self._closed:
            raise StorageUnavailable(f"The SQLite database {self.path} has been closed.")
        async with self._lock:
            if self._closed:
                raise StorageUnavailable(f"The SQLite database {self.path} has been closed.")
            token = self._holding_lock.set(True)
            try:
                yield
            finally:
                self._holding_lock.reset(token)

    async def _rollback(self) -> None:
        # Unconditional, and sqlite3 makes it a no-op when no transaction is open. Here and
        # now: no trip to the other thread is still under way (on_thread waits for its end).
        try:
            await self._session.run(_roll_back)
        except (sqlite3.Error, StorageUnavailable):
            logger.exception("rolling back a transaction failed", extra={"path": str(self.path)})


def _prepare_path(path: Path) -> Path:
    """The absolute path, its directory created, the file and its directory private (see
    storage.private_files). Blocking, but once at start-up."""
    path = path.absolute()
    try:
        make_database_folder_private(path)
    except OSError as error:
        raise StorageUnavailable(
            f"Cannot create the directory {path.parent} for the SQLite database {path} "
            f"({error.strerror}): create it, writable by the user the bot runs as "
            f"(uid {os.geteuid()}), or point DATABASE_URL at a writable location."
        ) from error
    try:
        make_database_file_private(path)
    except OSError as error:
        raise StorageUnavailable(
            f"The SQLite database {path} cannot be created ({error.strerror}): "
            f"{_SqliteErrors(path, 0).unwritable()}"
        ) from error
    return path


async def open_sqlite(path: Path, *, timeout_seconds: float) -> SqliteDatabase:
    """Opens (creating if needed) the SQLite file at `path`; StorageUnavailable saying the path
    and what to fix if it cannot be opened for writing."""
    path = _prepare_path(path)
    errors = _SqliteErrors(path, timeout_seconds)
    with errors.translated():
        conn = await aiosqlite.connect(
            path,
            # No wait for another connection's lock on the loop's thread: such a statement
            # goes to aiosqlite's thread, which waits up to timeout_seconds (_waiting).
            timeout=0,
            isolation_level=None,  # transactions are begun and ended explicitly
            detect_types=sqlite3.PARSE_DECLTYPES,
            # Used on the loop's thread and on aiosqlite's, never at once (the lock, and
            # _SqliteSession.on_thread's wait).
            check_same_thread=False,
        )
    # aiosqlite annotates row_factory as a type; sqlite3 takes any callable.
    conn.row_factory = _dict_row  # type: ignore[assignment]
    database = SqliteDatabase(conn, path, timeout_seconds)
    try:
        await database.configure()
    except BaseException:
        await conn.close()
        raise
    logger.info("opened the SQLite database", extra={"path": str(path)})
    return database
