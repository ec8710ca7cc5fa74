"""The bench's databases: a seeded SQLite file (cached in bench/.data, copied for each run)
and a PostgreSQL database made for the run and dropped after, cloned from a seeded template
database (``handoff_bench_seed_1m`` for a million handoffs) that is kept between runs.

Both caches are named by :func:`seed_stamp` (the layout, the schema's migrations and the
seed's version): a cache of another stamp is thrown away and seeded again."""

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


def seed_stamp(layout: Layout, backend: str) -> str:
    """What a cached seed holds: a change of any part makes a new one."""
    folder = ROOT / "storage" / "migrations" / backend
    migrations = sorted(p.name for p in folder.glob("*.sql"))
    return (
        f"{layout.total}-{layout.accept_pool}-{len(migrations)}-{migrations[-1][:4]}"
        f"-v{SEED_VERSION}"
    )


def sqlite_database(layout: Layout) -> Path:
    """A work copy of the seeded SQLite file; the seeded one is cached in bench/.data."""
    cached = DATA / f"seed-{seed_stamp(layout, 'sqlite')}.sqlite"
    if not cached.exists():
        # Older seeds of this size go; another size's stays (bench/profile_turn.py's 100,000).
        for old in DATA.glob(f"seed-{layout.total}-*.sqlite*"):
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
    started = time.perf_counter()
    shutil.copyfile(cached, work)
    # Written to disk before the bot starts: the bot's first commit would otherwise wait for
    # gigabytes of the copy to be written back, and count that as its start-up.
    with work.open("rb") as copy:
        os.fsync(copy.fileno())
    log(f"copied the SQLite seed {cached.name} in {time.perf_counter() - started:.0f} s")
    return work


def _url(name: str) -> str:
    return f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def template_name(layout: Layout) -> str:
    total = layout.total
    size = f"{total // 1_000_000}m" if total % 1_000_000 == 0 else f"{total // 1000}k"
    return f"handoff_bench_seed_{size if total >= 1000 else total}"


async def create_postgres_database(template: str | None = None) -> tuple[str, str]:
    """A database for this run, empty or a copy of ``template``."""
    name = f"handoff_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    # FILE_COPY: the template's files copied as they are (a checkpoint, then a copy of
    # gigabytes); the default WAL_LOG would write every page of them to the WAL once more.
    clone = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{clone}')
    finally:
        await admin.close()
    return name, _url(name)


async def seeded_postgres_database(layout: Layout) -> tuple[str, str]:
    """A database for this run, a copy of the seeded template (seeded first if it is missing
    or of another stamp: minutes at a million handoffs, once)."""
    template, stamp = template_name(layout), seed_stamp(layout, "postgresql")
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        kept = await admin.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            template,
        )
    finally:
        await admin.close()
    if kept != stamp:
        await _seed_template(layout, template, stamp)
    started = time.perf_counter()
    made = await create_postgres_database(template)
    log(f"copied the PostgreSQL seed {template} in {time.perf_counter() - started:.0f} s")
    return made


async def _seed_template(layout: Layout, template: str, stamp: str) -> None:
    partial = f"{template}_seeding"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        for old in (template, partial):
            await admin.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{partial}"')
    finally:
        await admin.close()
    log(f"seeding the PostgreSQL template {template} with COPY (kept for later runs)")
    started = time.perf_counter()
    await seed(_url(partial), layout)
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        # Named and stamped only once whole: a seeding cut short is never taken for a seed.
        await admin.execute(f'ALTER DATABASE "{partial}" RENAME TO "{template}"')
        await admin.execute(f"COMMENT ON DATABASE \"{template}\" IS '{stamp}'")
    finally:
        await admin.close()
    took = time.perf_counter() - started
    log(f"seeded PostgreSQL with {layout.total:,} handoffs in {took:.0f} s")


async def drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
