"""The rollup behind `insights` on both backends: the known week of tests/harness/
insights_history.py, its figures checked against numbers worked out by hand; the same figures
from a database whose handoffs were made before migration 0014 and backfilled by it; the rows
of a purged case gone with it. How long the figures take is `make bench`'s (bench/run.py
--only insights), over a million handoffs."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.insights import region_insights
from handoff.insights import HandoffFact, Insights, parse_period
from handoff.models import HandoffState, Severity
from storage.database import open_database
from storage.insights.facts import CRITICAL_OPEN
from storage.migrate import _SCHEMA_MIGRATIONS, load_migrations
from storage.sql_store import SqlStore, open_store

from conftest import CreateDatabase, FakeClock
from harness.insights_history import END, make_history

FACTS_MIGRATION = 14
log = logging.getLogger(__name__)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))


async def figures(
    store: SqlStore, words: tuple[str, ...] = (), region: str | None = None, zone: str = "UTC"
) -> Insights:
    return await region_insights(store, parse_period(words, END, zone), region, END)


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


async def test_the_known_week_gives_the_figures_worked_out_by_hand(
    store: SqlStore, clock: FakeClock
) -> None:
    await make_history(store, clock)
    week = await figures(store, zone="Europe/London")

    assert week.requested == 8 and week.accepted == 7
    # London days: 03-29 23:30 UTC is already Monday 00:30 summer time; 03-29 00:30 UTC is
    # still Sunday (the clocks went forward at 01:00 UTC).
    assert [(d.isoformat(), n) for d, n in week.by_day] == [
        ("2026-03-26", 0),
        ("2026-03-27", 0),
        ("2026-03-28", 1),
        ("2026-03-29", 1),
        ("2026-03-30", 3),
        ("2026-03-31", 1),
        ("2026-04-01", 2),
        ("2026-04-02", 0),
    ]
    assert week.by_region == (("EMEA", 3), ("US", 3), ("APAC", 2))
    # 10, 20, 40, 50, 100, 180, 600 minutes: median the 4th, 90th percentile the 7th.
    assert week.overall is not None
    assert (minutes(week.overall.median_seconds), minutes(week.overall.p90_seconds)) == (50, 600)
    assert [
        (t.label, t.accepted, minutes(t.median_seconds), minutes(t.p90_seconds))
        for t in week.by_route
    ] == [
        ("IST → EMEA", 1, 600, 600),
        ("US → APAC", 2, 110, 180),
        ("APAC → EMEA", 1, 100, 100),
        ("EMEA → US", 3, 20, 50),
    ]
    sev = {s.severity: s for s in week.by_severity}
    a, b, c = sev[Severity.A], sev[Severity.B], sev[Severity.C]
    assert a.times is not None and b.times is not None and c.times is not None
    # A: 20 and 50 accepted, the open one waiting 26 hours is past 30 minutes: 1 of 3.
    assert (a.requested, minutes(a.times.median_seconds), minutes(a.times.p90_seconds)) == (
        3,
        35,
        50,
    )
    assert (a.within_target, a.decided) == (1, 3)
    # B: 10, 40, 100, 180: 3 within 120 minutes.
    assert (b.requested, minutes(b.times.median_seconds), minutes(b.times.p90_seconds)) == (
        4,
        70,
        180,
    )
    assert (b.within_target, b.decided, b.share_within) == (3, 4, 0.75)
    assert (c.within_target, c.decided, minutes(c.times.median_seconds)) == (0, 1, 600)

    assert (week.bounces.back_to_queue, week.bounces.more_info, week.bounces.handoffs) == (1, 1, 8)
    assert week.bounces.routes == (("EMEA → US", 0, 1), ("US → APAC", 1, 0))

    assert (week.cases, week.hops) == (6, 7)
    [globe] = week.round_the_globe
    assert globe.case_number == "1000004" and globe.hops == 3
    assert globe.loop == "EMEA → US → APAC → EMEA" and globe.long_running

    [waiting] = week.critical_waiting
    assert (waiting.case_number, waiting.route, waiting.state) == (
        "1000005",
        "APAC → EMEA",
        HandoffState.REQUESTED,
    )
    assert waiting.waiting == timedelta(hours=26)

    notes = week.notes
    assert (notes.refusals, notes.cases, notes.passed, notes.refusals_before_passing) == (
        2,
        1,
        1,
        2,
    )
    assert notes.fixes == (("summary", 2), ("next_steps_us", 1))


async def test_days_are_counted_in_the_readers_zone(store: SqlStore, clock: FakeClock) -> None:
    await make_history(store, clock)
    utc = await figures(store, zone="UTC")
    counted = {d.isoformat(): n for d, n in utc.by_day if n}
    assert counted == {
        "2026-03-28": 1,
        "2026-03-29": 2,
        "2026-03-30": 2,
        "2026-03-31": 1,
        "2026-04-01": 2,
    }


async def test_a_receiving_region_and_this_week(store: SqlStore, clock: FakeClock) -> None:
    await make_history(store, clock)
    us = await figures(store, region="US")
    assert (us.requested, us.accepted, [t.label for t in us.by_route]) == (3, 3, ["EMEA → US"])
    assert us.critical_waiting == (), "the waiting one goes to EMEA"
    # Cases 1000001, 1000002 and 1000004, the last with all three of its hops.
    assert (us.cases, us.hops) == (3, 5)

    # Monday 2026-03-30 00:00 in London is 03-29 23:00 UTC: case 1000003 (23:30) is in.
    week = await figures(store, ("this", "week"), zone="Europe/London")
    assert week.period.since == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    assert week.requested == 6


async def migrated_before_facts(url: str, clock: FakeClock) -> None:
    db = await open_database(url)
    try:
        for migration in load_migrations(db.dialect):
            if migration.version >= FACTS_MIGRATION:
                break
            async with db.transaction() as tx:
                await tx.execute(_SCHEMA_MIGRATIONS[db.dialect])
                await tx.execute_script(migration.sql)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    migration.version,
                    migration.name,
                    clock.now(),
                )
    finally:
        await db.close()


async def copy_rows(source: SqlStore, url: str, table: str, order: str) -> None:
    """The table's rows as the previous release would have written them (`seq` left to the
    target database, in the same order)."""
    db = await open_database(url)
    try:
        rows = await source.database.fetch_all(f"SELECT * FROM {table} ORDER BY {order}")
        for row in rows:
            row.pop("seq", None)
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            await db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", *row.values())
    finally:
        await db.close()


@pytest.fixture
async def old_database_url(
    backend: str, tmp_path: Path, create_postgres_database: CreateDatabase
) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'old' / 'handoff.db'}"
    return await create_postgres_database()


def by_id(facts: list[HandoffFact]) -> list[HandoffFact]:
    return sorted(facts, key=lambda f: f.handoff_id)


async def test_the_backfill_of_migration_0014_gives_the_live_figures(
    store: SqlStore, clock: FakeClock, old_database_url: str
) -> None:
    await make_history(store, clock)
    await migrated_before_facts(old_database_url, clock)
    for table, order in (("handoffs", "created_at, id"), ("handoff_events", "seq")):
        await copy_rows(store, old_database_url, table, order)
    await copy_rows(store, old_database_url, "audit_log", "seq")

    upgraded = await open_store(old_database_url, clock)
    try:
        since, until = datetime(2026, 1, 1, tzinfo=UTC), END + timedelta(days=1)
        backfilled = by_id(await upgraded.facts_requested(since, until))
        live = by_id(await store.facts_requested(since, until))
        assert len(live) == 9
        assert backfilled == live
        for zone in ("Europe/London", "UTC"):
            assert await figures(upgraded, zone=zone) == await figures(store, zone=zone)
    finally:
        await upgraded.close()


async def test_a_purged_case_takes_its_facts_along(store: SqlStore, clock: FakeClock) -> None:
    await make_history(store, clock)
    clock.advance(timedelta(days=200))
    purged = await store.purge_closed_cases(clock.now() - timedelta(days=90), 100)
    # Every case but the one still open (1000005) went, each handoff with its row.
    assert purged["handoff_facts"] == purged["handoffs"] == 8
    left = await store.facts_requested(datetime(2026, 1, 1, tzinfo=UTC), clock.now())
    assert [f.case_number for f in left] == ["1000005"]


def test_the_critical_open_index_says_what_the_query_asks() -> None:
    """SQLite uses a partial index only when the query repeats its WHERE term."""
    migrations = Path(__file__).resolve().parents[3] / "storage" / "migrations"
    for sql in sorted(migrations.glob("*/0014_handoff_facts.sql")):
        text = " ".join(sql.read_text(encoding="utf-8").split())
        assert f"ON handoff_facts (requested_at) WHERE {CRITICAL_OPEN};" in text, sql


async def test_the_owners_names_for_the_export(store: SqlStore, clock: FakeClock) -> None:
    await make_history(store, clock)
    since, until = datetime(2026, 1, 1, tzinfo=UTC), END + timedelta(days=1)
    owned = {f.handoff_id for f in await store.facts_requested(since, until) if f.owner_id}
    names = await store.owner_names(since, until)
    assert set(names) == owned and set(names.values()) == {"Bo Receiver"}
    assert await store.owner_names(since, until, "APAC") == {
        f.handoff_id: "Bo Receiver"
        for f in await store.facts_requested(since, until, "APAC")
        if f.owner_id
    }


async def test_each_row_counts_the_handoffs_of_its_case(store: SqlStore, clock: FakeClock) -> None:
    """A new handoff of a case counts itself on every row of the case (migration 0016), so the
    figures look up other handoffs only for the cases that have any."""
    await make_history(store, clock)
    rows = await store.database.fetch_all(
        "SELECT case_number, case_handoffs FROM handoff_facts ORDER BY case_number"
    )
    per_case = Counter(str(row["case_number"]) for row in rows)
    assert {str(r["case_number"]): int(r["case_handoffs"]) for r in rows} == dict(per_case)
    assert per_case["1000004"] == 3
