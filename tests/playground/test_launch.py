"""The playground's database is as private as the bot's: its folder (data/playground in a
checkout) and the database's files, with the real bot and playground processes started by
`start` under a permissive umask."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from playground.launch import start

from conftest import free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database_open_to_others(path: Path) -> None:
    """As a playground from before made it: the folders 0755, the database 0644."""
    path.parent.mkdir(parents=True)
    for folder in (path.parent, path.parent.parent):
        folder.chmod(0o755)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (text TEXT)")
    db.close()
    path.chmod(0o644)


def tightened(bot_log: Path) -> set[tuple[str, str]]:
    """(path, old mode) of each file the bot's log says it made private."""
    found = set()
    for line in bot_log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("name") == "storage.private_files":
            found.add((record["path"], record["old_mode"]))
    return found


@pytest.mark.parametrize("earlier", [False, True], ids=["first-start", "after-an-older-start"])
async def test_the_playgrounds_folder_and_database_are_private(
    tmp_path: Path, earlier: bool, caplog: pytest.LogCaptureFixture
) -> None:
    workdir = tmp_path / "data" / "playground"
    database = workdir / "handoff.db"
    if earlier:
        database_open_to_others(database)
    old = os.umask(0)  # the processes started inherit it
    try:
        stack = await asyncio.to_thread(
            start, workdir, bot_port=free_port(), playground_port=0, quiet=True
        )
    finally:
        os.umask(old)
    try:
        # Read while the bot runs: its -wal and -shm files exist only then.
        modes = {
            p.name: mode(p)
            for p in (database, workdir / "handoff.db-wal", workdir / "handoff.db-shm")
        }
    finally:
        await asyncio.to_thread(stack.stop)

    assert modes == {"handoff.db": 0o600, "handoff.db-wal": 0o600, "handoff.db-shm": 0o600}
    assert mode(workdir) == 0o700
    if earlier:
        # The launcher opens the database first (to seed it) and says so in its terminal.
        said = {
            (str(r.__dict__["path"]), str(r.__dict__["old_mode"]))
            for r in caplog.records
            if r.name == "storage.private_files"
        }
        assert (str(database), "0644") in said | tightened(workdir / "bot.log")
        assert mode(tmp_path / "data") == 0o755, "a folder the playground did not make"
    else:
        assert mode(tmp_path / "data") == 0o700
