"""Versioned schema migrations, applied when the store opens.

Migrations are the files `storage/migrations/<dialect>/NNNN_name.sql`; both dialects carry the
same versions. Each runs in its own transaction together with its `schema_migrations` row, so a
failed migration leaves nothing half-applied. On PostgreSQL a transaction-scoped advisory lock
makes bot processes starting at the same moment take turns; on SQLite, BEGIN IMMEDIATE does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from handoff.ports import Clock, SystemClock

from .database import open_database
from .sql_protocol import Database, Dialect, Session

logger = logging.getLogger(__name__)

# Any fixed 64-bit number works; it only has to be the same in every process of this app.
MIGRATION_LOCK_KEY = 0x48414E444F4646  # "HANDOFF"

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_SCHEMA_MIGRATIONS: dict[Dialect, str] = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP_TEXT NOT NULL)"
    ),
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
    ),
}


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: Dialect) -> list[Migration]:
    """The dialect's migrations in version order."""
    folder = resources.files("storage").joinpath("migrations", dialect)
    migrations: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise ValueError(f"migration file {entry.name} is not named NNNN_name.sql")
            continue
        migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two {dialect} migrations share a version: {versions}")
    return migrations


async def _serialize(session: Session, dialect: Dialect) -> None:
    if dialect == "postgresql":
        await session.execute("SELECT pg_advisory_xact_lock(?)", MIGRATION_LOCK_KEY)


async def migrate(db: Database, clock: Clock) -> list[int]:
    """Applies the migrations the database lacks; returns the versions it applied."""
    migrations = load_migrations(db.dialect)
    async with db.transaction() as tx:
        # Under the lock: two processes running CREATE TABLE IF NOT EXISTS at the same moment
        # can still collide on PostgreSQL.
        await _serialize(tx, db.dialect)
        await tx.execute(_SCHEMA_MIGRATIONS[db.dialect])
        known = {
            row["version"] for row in await tx.fetch_all("SELECT version FROM schema_migrations")
        }
    newer = sorted(known - {m.version for m in migrations})
    if newer:
        logger.warning(
            "the database has schema versions %s that this release does not know; it was "
            "migrated by a newer release",
            newer,
        )
    applied: list[int] = []
    for migration in migrations:
        if migration.version in known:
            continue
        async with db.transaction() as tx:
            await _serialize(tx, db.dialect)
            # Another process may have applied it while this one waited for the lock.
            done = await tx.fetch_one(
                "SELECT version FROM schema_migrations WHERE version = ?", migration.version
            )
            if done is not None:
                continue
            await tx.execute_script(migration.sql)
            await tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                migration.version,
                migration.name,
                clock.now(),
            )
        logger.info(
            "applied a migration",
            extra={"dialect": db.dialect, "migration": f"{migration.version:04d}_{migration.name}"},
        )
        applied.append(migration.version)
    return applied


async def schema_version(db: Database) -> int:
    """The newest migration the database has (0 for an empty one)."""
    row = await db.fetch_one("SELECT max(version) AS version FROM schema_migrations")
    return int(row["version"]) if row and row["version"] is not None else 0


async def migrate_only(database_url: str, timeout_seconds: float) -> None:
    """`python app.py migrate`: brings the database's schema up to date, for a deploy pipeline
    to run before the new release starts (start-up migrates too)."""
    database = await open_database(database_url, timeout_seconds=timeout_seconds)
    try:
        applied = await migrate(database, SystemClock())
        version = await schema_version(database)
    finally:
        await database.close()
    logger.info(
        "the database schema is up to date",
        extra={"backend": database.dialect, "applied": applied, "schema_version": version},
    )
