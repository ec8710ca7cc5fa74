"""What a test's requests left in the bot's database, SQLite or PostgreSQL, read through the
storage layer's own connection (see sqlite_rows.py for the SQLite-only, synchronous twin)."""

from __future__ import annotations

from handoff.ports import SystemClock
from storage.sql_store import open_store

from .sqlite_rows import BOOKKEEPING

_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    "postgresql": "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()",
}


async def rows_written_to(database_url: str) -> dict[str, int]:
    """Rows per table, leaving out the bot's own bookkeeping; tables with none are left out."""
    store = await open_store(database_url, SystemClock())
    try:
        database = store.database
        counts: dict[str, int] = {}
        for row in await database.fetch_all(_TABLES[database.dialect]):
            table = row["name"]
            skip = BOOKKEEPING.get(table, "1 = 0")
            found = await database.fetch_one(
                f'SELECT COUNT(*) AS n FROM "{table}" WHERE NOT ({skip})'
            )
            if found and found["n"]:
                counts[table] = int(found["n"])
        return counts
    finally:
        await store.close()
