"""What a test's requests left in the bot's SQLite file, read with the standard library."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from handoff.effects import OutboxKind

# Written by the bot for itself from start-up on, on its own schedule, whatever anyone sends.
BOOKKEEPING = {
    "schema_migrations": "1 = 1",
    "outbox": (
        f"kind IN ('{OutboxKind.PLAN_REMINDERS}', '{OutboxKind.MEETING_AGENDA}', "
        f"'{OutboxKind.PURGE_EXPIRED}', '{OutboxKind.WEEKLY_DIGEST}')"
    ),
}


def rows_written(sqlite_url: str) -> dict[str, int]:
    """Rows per table, leaving out the bot's own bookkeeping; tables with none are left out.

    Synchronous: call it through ``asyncio.to_thread`` from a test that serves the bot."""
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    counts: dict[str, int] = {}
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not name.startswith("sqlite_")
        ]
        for table in tables:
            skip = BOOKKEEPING.get(table, "1 = 0")
            (count,) = connection.execute(
                f'SELECT COUNT(*) FROM "{table}" WHERE NOT ({skip})'
            ).fetchone()
            if count:
                counts[table] = count
    return counts
