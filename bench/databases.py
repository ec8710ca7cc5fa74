"""The bench's databases: a seeded SQLite file (cached in bench/.data, copied for each run)
and a PostgreSQL database made for the run and dropped after."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from pathlib import Path

import asyncpg

from bench.processes import DATA, ROOT
from bench.report import log
from bench.seed import SEED_VERSION, Layout, seed

POSTGRES_ADMIN_URL = os.environ.get(
    "HANDOFF_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def sqlite_database(layout: Layout) -> Path:
    """A work copy of the seeded SQLite file; the seeded one is cached in bench/.data."""
    migrations = sorted(p.name for p in (ROOT / "storage" / "migrations" / "sqlite").glob("*.sql"))
    stamp = (
        f"{layout.total}-{layout.accept_pool}-{len(migrations)}-{migrations[-1][:4]}"
        f"-v{SEED_VERSION}"
    )
    cached = DATA / f"seed-{stamp}.sqlite"
    if not cached.exists():
        for old in DATA.glob("seed-*.sqlite*"):
            old.unlink()
        partial = DATA / "seeding.sqlite"
        for leftover in DATA.glob("seeding.sqlite*"):
            leftover.unlink()
        started = time.perf_counter()
        asyncio.run(seed(f"sqlite:///{partial}", layout))
        partial.rename(cached)
        log(
            f"seeded SQLite with {layout.total:,} handoffs in {time.perf_counter() - started:.0f} s"
        )
    work = DATA / "work.sqlite"
    for leftover in DATA.glob("work.sqlite*"):
        leftover.unlink()
    shutil.copyfile(cached, work)
    # Written to disk before the bot starts: the bot's first commit would otherwise wait for
    # gigabytes of the copy to be written back, and count that as its start-up.
    with work.open("rb") as copy:
        os.fsync(copy.fileno())
    return work


async def create_postgres_database() -> tuple[str, str]:
    name = f"handoff_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


async def drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
