"""The SQLite database holds customer case notes: its file, its -wal and -shm files and the
folders the bot makes for it are private to the bot's user whatever the umask, and made so
at start-up when they are not; a folder that is not plainly the database's own keeps its
mode (storage/private_files.py has the rule)."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.database import Database, open_database

NOBODY = 65534
COMPANIONS = ("-wal", "-shm")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def with_companions(database: Path) -> list[Path]:
    return [database, *(database.with_name(database.name + s) for s in COMPANIONS)]


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A permissive process umask for the test (0o000 leaves every bit a creator asks for)."""
    value: int = request.param
    old = os.umask(value)
    try:
        yield value
    finally:
        os.umask(old)


@pytest.fixture
def umask022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


async def write_a_note(db: Database) -> None:
    """A write, so that SQLite has its -wal and -shm files open."""
    await db.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
    await db.execute("INSERT INTO notes (text) VALUES (?)", "customer case notes")


def sqlite_database_open_to_others(path: Path) -> sqlite3.Connection:
    """A database made as an older bot made it (0644, in WAL mode), with a connection that
    keeps its -wal and -shm files in place, as after a crash."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE notes (text TEXT)")
    holder.execute("INSERT INTO notes (text) VALUES ('customer case notes')")
    for file in with_companions(path):
        file.chmod(0o644)
    return holder


async def test_a_new_database_its_wal_and_shm_and_the_folders_made_for_it_are_private(
    tmp_path: Path, umask: int
) -> None:
    target = tmp_path / "data" / "bot" / "handoff.db"

    db = await open_database(f"sqlite:///{target}")
    try:
        await write_a_note(db)
        modes = {p.name: mode(p) for p in with_companions(target)}
    finally:
        await db.close()

    assert modes == {"handoff.db": 0o600, "handoff.db-wal": 0o600, "handoff.db-shm": 0o600}
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "bot") == 0o700
    # SQLite removes -wal and -shm at close and makes them again at the next open.
    db = await open_database(f"sqlite:///{target}")
    try:
        await write_a_note(db)
        assert [mode(p) for p in with_companions(target)] == [0o600, 0o600, 0o600]
    finally:
        await db.close()


@pytest.mark.parametrize("database_mode", [0o600, 0o640])
def test_sqlite_gives_its_wal_and_shm_files_the_database_files_mode(
    tmp_path: Path, database_mode: int
) -> None:
    """What the bot relies on for -wal and -shm, checked on the SQLite this runs with: the
    mode is the database file's, not what the umask would give."""
    target = tmp_path / "notes.db"
    old = os.umask(0)
    try:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, database_mode))
        db = sqlite3.connect(target, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("CREATE TABLE notes (text TEXT)")
            modes = [mode(p) for p in with_companions(target)]
        finally:
            db.close()
    finally:
        os.umask(old)
    assert modes == [database_mode] * 3


async def test_an_existing_database_open_to_others_is_made_private_with_a_warning(
    tmp_path: Path, umask022: None, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "common"
    folder.mkdir(mode=0o755)
    (folder / "README").write_text("not the database's")  # so the folder is not its own
    target = folder / "handoff.db"
    holder = sqlite_database_open_to_others(target)
    try:
        with caplog.at_level(logging.WARNING, logger="storage.private_files"):
            db = await open_database(f"sqlite:///{target}")
        try:
            await write_a_note(db)
            modes = [mode(p) for p in with_companions(target)]
        finally:
            await db.close()
    finally:
        holder.close()

    assert modes == [0o600, 0o600, 0o600]
    warnings = [r for r in caplog.records if r.name == "storage.private_files"]
    assert all(r.levelno == logging.WARNING for r in warnings)
    warned = {(getattr(r, "path", None), getattr(r, "old_mode", None)) for r in warnings}
    assert warned == {(str(p), "0644") for p in with_companions(target)}
    assert all(str(target) in r.getMessage() and "0644" in r.getMessage() for r in warnings)
    assert mode(folder) == 0o755


async def test_the_databases_own_folder_is_made_private_with_a_warning(
    tmp_path: Path, umask022: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Owned by the bot's user and holding nothing but the database and its companions: no
    one else loses anything but the sight of the database."""
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    target = folder / "handoff.db"
    sqlite_database_open_to_others(target).close()

    with caplog.at_level(logging.WARNING, logger="storage.private_files"):
        db = await open_database(f"sqlite:///{target}")
    await db.close()

    assert mode(folder) == 0o700
    assert mode(target) == 0o600
    [folder_warning] = [r for r in caplog.records if getattr(r, "path", None) == str(folder)]
    assert folder_warning.levelno == logging.WARNING
    assert getattr(folder_warning, "old_mode", None) == "0755"
    assert str(folder) in folder_warning.getMessage() and "0755" in folder_warning.getMessage()


def _holds_something_else(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "notes.txt").write_text("someone else's")


def _sticky_like_tmp(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder.chmod(0o1777)


def _home_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(folder))


def _another_users(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a folder to another user")
    folder.chmod(0o777)  # so the bot's user can still write there
    os.chown(folder, NOBODY, -1)


@pytest.mark.parametrize(
    "make_it_common",
    [_holds_something_else, _sticky_like_tmp, _home_folder, _another_users],
    ids=["holds-other-files", "sticky-like-tmp", "home-folder", "another-users"],
)
async def test_a_folder_that_is_not_the_databases_own_keeps_its_mode(
    tmp_path: Path,
    umask022: None,
    make_it_common: Callable[[Path, pytest.MonkeyPatch], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir(mode=0o755)
    make_it_common(folder, monkeypatch)
    before = mode(folder)

    db = await open_database(f"sqlite:///{folder / 'handoff.db'}")
    try:
        await write_a_note(db)
        assert [mode(p) for p in with_companions(folder / "handoff.db")] == [0o600] * 3
    finally:
        await db.close()

    assert mode(folder) == before


async def test_a_folder_above_that_exists_keeps_its_mode_and_the_ones_made_below_are_private(
    tmp_path: Path, umask: int
) -> None:
    above = tmp_path / "srv"
    above.mkdir()
    above.chmod(0o755)

    db = await open_database(f"sqlite:///{above / 'handoff' / 'db' / 'handoff.db'}")
    await db.close()

    assert mode(above) == 0o755
    assert mode(above / "handoff") == 0o700
    assert mode(above / "handoff" / "db") == 0o700
