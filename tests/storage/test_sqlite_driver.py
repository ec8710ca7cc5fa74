"""The SQLite driver (storage.sqlite_driver): clear errors when a file cannot be used,
transactions, and how it stores timestamps and splits migration scripts."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage.database import open_database
from storage.errors import StorageUnavailable, UniqueViolation
from storage.sql_store import open_store
from storage.sqlite_driver import (
    PAGE_CACHE_KIB,
    format_timestamp,
    parse_timestamp,
    split_script,
)

NOBODY = 65534


class FixedClock:
    def now(self) -> datetime:
        return datetime(2025, 3, 28, 9, 0, tzinfo=UTC)


@dataclass
class Outcome:
    opened: bool
    error: str


def open_as_unprivileged(url: str) -> Outcome:
    """Tries to open the store in a child process that cannot write what it does not own. Under
    root (which writes through any permission bits) the child becomes `nobody`."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            try:
                store = asyncio.run(open_store(url, FixedClock(), timeout_seconds=0.5))
                asyncio.run(store.close())
                message = "opened:"
            except StorageUnavailable as error:
                message = f"refused:{error}"
            os.write(write_end, message.encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        answer = reader.read().decode()
    _, status = os.waitpid(pid, 0)
    assert status == 0, f"the child process failed (status {status})"
    verdict, _, message = answer.partition(":")
    return Outcome(opened=verdict == "opened", error=message)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the unprivileged child can reach (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="handoff-storage-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for entry in (path, *path.rglob("*")):
            entry.chmod(0o777 if entry.is_dir() else 0o666)
        shutil.rmtree(path)


def read_only_for_child(path: Path) -> None:
    """Owned by this process and read-only for others: read-only for the child either way."""
    path.chmod(0o555 if path.is_dir() else 0o444)


async def make_database(path: Path) -> None:
    store = await open_store(f"sqlite:///{path}", FixedClock())
    await store.close()


def test_a_new_file_in_a_read_only_directory_is_refused_with_its_path(shared_dir: Path) -> None:
    read_only_for_child(shared_dir)
    target = shared_dir / "handoff.db"

    outcome = open_as_unprivileged(f"sqlite:///{target}")

    assert not outcome.opened
    assert str(target) in outcome.error and "writable" in outcome.error


def test_a_missing_directory_that_cannot_be_created_is_refused(shared_dir: Path) -> None:
    read_only_for_child(shared_dir)
    target = shared_dir / "data" / "handoff.db"

    outcome = open_as_unprivileged(f"sqlite:///{target}")

    assert not outcome.opened
    assert str(shared_dir / "data") in outcome.error and "DATABASE_URL" in outcome.error


def test_an_existing_database_in_a_read_only_directory_is_refused(shared_dir: Path) -> None:
    target = shared_dir / "handoff.db"
    asyncio.run(make_database(target))
    read_only_for_child(target)
    read_only_for_child(shared_dir)

    outcome = open_as_unprivileged(f"sqlite:///{target}")

    assert not outcome.opened
    assert str(target) in outcome.error


def test_a_read_only_database_file_is_refused(shared_dir: Path) -> None:
    target = shared_dir / "handoff.db"
    asyncio.run(make_database(target))
    read_only_for_child(target)
    shared_dir.chmod(0o777)  # the directory is writable: only the file is not

    outcome = open_as_unprivileged(f"sqlite:///{target}")

    assert not outcome.opened
    assert str(target) in outcome.error and "writable" in outcome.error


def test_the_child_process_check_can_open_a_writable_database(shared_dir: Path) -> None:
    shared_dir.chmod(0o777)
    assert open_as_unprivileged(f"sqlite:///{shared_dir / 'handoff.db'}").opened


async def test_a_database_locked_by_another_process_is_refused_quickly(tmp_path: Path) -> None:
    target = tmp_path / "handoff.db"
    await make_database(target)
    holder = sqlite3.connect(target, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="locked") as raised:
            await open_store(f"sqlite:///{target}", FixedClock(), timeout_seconds=0.3)
        assert time.monotonic() - started < 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(target) in str(raised.value)


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "handoff.db"
    target.write_text("these are not the bytes of a SQLite database, " * 20)

    with pytest.raises(StorageUnavailable, match="not a valid SQLite database"):
        await open_store(f"sqlite:///{target}", FixedClock())


async def test_sqlites_page_cache_is_kept_small(tmp_path: Path) -> None:
    """Every KiB of it is resident memory of the bot; a status at 1,000,000 handoffs stays far
    inside its target with 512 (docs/performance.md)."""
    store = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", FixedClock())
    try:
        row = await store.database.fetch_one("PRAGMA cache_size")
    finally:
        await store.close()
    assert row is not None and list(row.values()) == [-PAGE_CACHE_KIB] and PAGE_CACHE_KIB <= 512


async def test_the_sqlite_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "handoff.db"
    store = await open_store(f"sqlite:///{target}", FixedClock())
    await store.close()
    assert target.is_file()


async def test_using_the_database_inside_its_own_transaction_is_refused(tmp_path: Path) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        async with db.transaction():
            with pytest.raises(RuntimeError, match="session that transaction"):
                await db.fetch_one("SELECT 1")
    finally:
        await db.close()


async def test_a_failed_sqlite_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        await db.execute("CREATE TABLE t (v INTEGER)")
        with pytest.raises(ZeroDivisionError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (v) VALUES (?)", 1)
                raise ZeroDivisionError
        assert await db.fetch_all("SELECT v FROM t") == []
    finally:
        await db.close()


async def test_a_transaction_after_a_not_durable_one_waits_for_the_disk_again(
    tmp_path: Path,
) -> None:
    """Delivery claims skip the fsync; the handoffs written after them must not."""
    db = await open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        await db.execute("CREATE TABLE t (v INTEGER)")
        async with db.transaction(durable=False) as tx:
            await tx.execute("INSERT INTO t (v) VALUES (?)", 1)
            relaxed = await tx.fetch_one("PRAGMA synchronous")
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (v) VALUES (?)", 2)
            durable = await tx.fetch_one("PRAGMA synchronous")
        assert relaxed == {"synchronous": 1}  # NORMAL
        assert durable == {"synchronous": 2}  # FULL
        assert await db.fetch_all("SELECT v FROM t ORDER BY v") == [{"v": 1}, {"v": 2}]
    finally:
        await db.close()


def test_sqlite_timestamps_are_fixed_width_and_sort_as_text() -> None:
    times = [
        datetime(999, 1, 1, tzinfo=UTC),
        datetime(2025, 3, 30, 0, 59, 59, 999999, tzinfo=UTC),
        datetime(2025, 3, 30, 3, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(2025, 3, 30, 1, 0, 0, 1, tzinfo=UTC),
    ]
    texts = [format_timestamp(t) for t in times]

    assert len({len(text) for text in texts}) == 1
    assert sorted(texts) == [format_timestamp(t) for t in sorted(times)]
    assert [parse_timestamp(text.encode()) for text in texts] == times
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2025, 1, 1))


def test_sqlite_scripts_split_into_whole_statements() -> None:
    script = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (v TEXT);\n"
        "CREATE TRIGGER no_update BEFORE UPDATE ON t\n"
        "BEGIN\n    SELECT RAISE(ABORT, 'no; never');\nEND;\n"
        "-- trailing comment\n"
    )
    statements = split_script(script)

    assert len(statements) == 2
    assert statements[1].endswith("END;")
    with pytest.raises(ValueError, match="unterminated"):
        split_script("CREATE TABLE t (v TEXT)")


async def test_a_duplicate_key_is_reported_as_a_unique_violation(tmp_path: Path) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        await db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT UNIQUE)")
        await db.execute("INSERT INTO t (k, v) VALUES (?, ?)", "a", "one")
        for duplicate in (("a", "two"), ("b", "one")):
            with pytest.raises(UniqueViolation):
                await db.execute("INSERT INTO t (k, v) VALUES (?, ?)", *duplicate)
        assert await db.fetch_all("SELECT k, v FROM t") == [{"k": "a", "v": "one"}]
    finally:
        await db.close()


async def test_a_read_during_a_transaction_sees_all_of_it_or_none_of_it(tmp_path: Path) -> None:
    """Every coroutine shares the one connection: without the driver's lock a read would join
    the open transaction and see half of a change."""
    db = await open_database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        await db.execute("CREATE TABLE t (v INTEGER)")
        half_written = asyncio.Event()

        async def write_two_rows() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (v) VALUES (?)", 1)
                half_written.set()
                await asyncio.sleep(0.05)
                await tx.execute("INSERT INTO t (v) VALUES (?)", 2)

        writer = asyncio.create_task(write_two_rows())
        await half_written.wait()
        seen = await db.fetch_all("SELECT v FROM t ORDER BY v")
        await writer

        assert seen == [{"v": 1}, {"v": 2}]
    finally:
        await db.close()


async def test_a_closed_database_refuses_work_naming_its_file(tmp_path: Path) -> None:
    target = tmp_path / "x.db"
    db = await open_database(f"sqlite:///{target}")
    await db.close()

    with pytest.raises(StorageUnavailable, match="closed") as raised:
        await db.fetch_one("SELECT 1")
    assert str(target) in str(raised.value)


async def test_a_write_waits_for_another_connections_lock_without_holding_up_the_loop(
    tmp_path: Path,
) -> None:
    """Statements run on the loop's thread, which must never sleep in SQLite's busy handler:
    one that finds the file locked waits on aiosqlite's thread, and the loop goes on."""
    target = tmp_path / "x.db"
    db = await open_database(f"sqlite:///{target}", timeout_seconds=5)
    try:
        await db.execute("CREATE TABLE t (v INTEGER)")
        other = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t (v) VALUES (1)")
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        writing = asyncio.create_task(db.execute("INSERT INTO t (v) VALUES (2)"))
        await asyncio.sleep(0.3)
        assert not writing.done(), "it waits for the lock rather than failing at once"
        assert ticks >= 10, "the loop went on meanwhile"
        await asyncio.to_thread(other.execute, "COMMIT")
        assert await writing == 1
        ticker.cancel()
        other.close()
        assert await db.fetch_all("SELECT v FROM t ORDER BY v") == [{"v": 1}, {"v": 2}]
    finally:
        await db.close()


async def test_a_write_cancelled_while_it_waits_for_the_lock_ends_before_the_next_statement(
    tmp_path: Path,
) -> None:
    """A write waiting on aiosqlite's thread for another connection's lock may have its
    caller cancelled (the request deadline). The statements after it, which run on the
    loop's thread, wait until it has ended: the connection is never used on both at once."""
    target = tmp_path / "x.db"
    db = await open_database(f"sqlite:///{target}", timeout_seconds=5)
    other = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    try:
        await db.execute("CREATE TABLE t (v INTEGER)")
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t (v) VALUES (1)")
        writing = asyncio.create_task(db.execute("INSERT INTO t (v) VALUES (2)"))
        await asyncio.sleep(0.1)
        reading = asyncio.create_task(db.fetch_all("SELECT v FROM t ORDER BY v"))
        writing.cancel()
        await asyncio.sleep(0.1)
        assert not writing.done() and not reading.done(), "both wait for the write's end"
        await asyncio.to_thread(other.execute, "COMMIT")
        with pytest.raises(asyncio.CancelledError):
            await writing
        assert await reading == [{"v": 1}, {"v": 2}], "the write, cancelled late, was made"
    finally:
        other.close()
        await db.close()
