"""Fills a bot database with many handoffs, fast, for the bench.

The rows are the bot's own: a scratch SQLite store makes one handoff of each kind through the
real service (an open one to EMEA, an open one to US with its posted card, an accepted one),
and those rows are copied N times with their ids, case numbers and requesters replaced. So
the documents always match the current models, and nothing here knows their JSON shape.
The insights rollup (handoff_facts) is copied the same way, then spread over three years,
the regions and the severities (``_spread_fact``).

SQLite: ``executemany`` in one transaction. PostgreSQL: ``COPY`` (asyncpg).
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from handoff.models import Person
from handoff.ports import CardRef, SystemClock
from handoff.service import HandoffService
from handoff.state_machine import Accept
from storage.sql_store import open_store

from harness.records import PLACEHOLDER_OUTPUTS, answers

TABLES = ("handoffs", "handoff_events", "handoff_cards", "handoff_facts")
TIMESTAMP_COLUMNS = frozenset({"created_at", "updated_at", "at", "requested_at", "accepted_at"})
# The insights rollup's rows are spread over this many days back from the seeding, so that a
# week holds a realistic share of the million (about 1/150th) and not all of it; a week-old
# cached seed still fills `insights 7d`.
FACT_DAYS = 3 * 365
# Part of the cached seeds' stamp (bench/databases.py): a change of what is seeded
# makes a new one.
SEED_VERSION = 3
_REGIONS = ("EMEA", "US", "APAC", "IST")
_SEVERITIES = ("A", "B", "C")
_CASE_EMEA, _CASE_US, _CASE_DONE = "9000000000000001", "9000000000000002", "9000000000000003"
_REQUESTER = "29:bench-requester-template"
_OWNER = Person(id="29:bench-owner", name="Bench Owner")
_CARD_ACTIVITY = "1799999999999"


@dataclass(frozen=True)
class Layout:
    """Which seeded rows are what: ``open_emea`` open to EMEA (the `list` scenario), then
    ``accept_pool`` open to US (the `Accept` scenario), then accepted. Every open one has its
    card posted in the Case Transfer channel, as in a running deployment (else `setup` would
    post them all, paced, while the bench measures)."""

    total: int
    open_emea: int
    accept_pool: int
    requesters: int
    channel_id: str

    def handoff_id(self, i: int) -> str:
        return f"bench{i:027d}"

    def case_number(self, i: int) -> str:
        return f"1{i:015d}"

    def requester(self, i: int) -> str:
        return f"29:bench-requester-{i % self.requesters}"

    def card_activity(self, i: int) -> str:
        return str(1700000000000 + i)


Rows = dict[str, list[dict[str, Any]]]


async def _templates(layout: Layout) -> dict[str, Rows]:
    """One handoff of each kind, as the real store wrote it (SQLite's raw column values)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "templates.db"
        store = await open_store(f"sqlite:///{path}", SystemClock())
        try:
            service = HandoffService(store, SystemClock())
            requester = Person(id=_REQUESTER, name="Bench Requester")
            ids = {}
            for kind, case, origin, target in (
                ("open_emea", _CASE_EMEA, "US", "EMEA"),
                ("open_us", _CASE_US, "EMEA", "US"),
                ("accepted", _CASE_DONE, "EMEA", "US"),
            ):
                handoff = await service.request(
                    answers(case, origin, target), PLACEHOLDER_OUTPUTS, requester
                )
                ids[kind] = handoff.id
            for kind in ("open_emea", "open_us"):
                await store.set_card(
                    ids[kind],
                    CardRef(conversation_id=layout.channel_id, activity_id=_CARD_ACTIVITY),
                )
            done = await store.get(ids["accepted"])
            await service.act(done.id, Accept(actor=_OWNER), done.version)
        finally:
            await store.close()
        connection = sqlite3.connect(path)
        connection.row_factory = sqlite3.Row
        try:
            templates: dict[str, Rows] = {}
            for kind, handoff_id in ids.items():
                templates[kind] = {
                    table: [
                        dict(row)
                        for row in connection.execute(
                            f"SELECT * FROM {table} WHERE "
                            + ("id" if table == "handoffs" else "handoff_id")
                            + " = ?",
                            (handoff_id,),
                        )
                    ]
                    for table in TABLES
                }
                for row in templates[kind]["handoff_events"]:
                    row.pop("seq", None)  # the database numbers events itself
            return templates
        finally:
            connection.close()


def _kind(layout: Layout, i: int) -> str:
    if i < layout.open_emea:
        return "open_emea"
    if i < layout.open_emea + layout.accept_pool:
        return "open_us"
    return "accepted"


def _template_ids(templates: dict[str, Rows]) -> dict[str, dict[str, str]]:
    return {
        kind: {
            "handoff": rows["handoffs"][0]["id"],
            "events": [e["id"] for e in rows["handoff_events"]],  # type: ignore[dict-item]
        }
        for kind, rows in templates.items()
    }


def _sqlite_time(moment: datetime) -> str:
    # As storage/sqlite_driver.py writes TIMESTAMP_TEXT (and _pg_value reads it back).
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _spread_fact(layout: Layout, i: int, row: dict[str, Any], now: datetime) -> None:
    """The template's handoff_facts row (as storage/insights/facts.py wrote it) moved in time,
    region and severity, so that `insights` reads a period's share of varied handoffs. The open
    ones keep their region and severity (the `list` and Accept scenarios' handoffs)."""
    step = FACT_DAYS * 86400 / max(layout.total, 1)
    requested = now - timedelta(seconds=(layout.total - i) * step)
    row["requested_at"] = _sqlite_time(requested)
    row["updated_at"] = row["requested_at"]
    if row["accepted_at"] is None:
        return
    target = _REGIONS[i % len(_REGIONS)]
    row["target_region"] = target
    row["from_region"] = _REGIONS[(i + 1 + i // 7 % 3) % len(_REGIONS)]
    row["severity"] = _SEVERITIES[i % len(_SEVERITIES)]
    row["is_24x7"] = int(i % 5 != 0)
    # From a minute to about ten hours, scattered (a multiplicative hash of i).
    seconds = 60 + (i * 2654435761) % 36000
    row["seconds_to_accept"] = seconds
    row["accepted_at"] = _sqlite_time(requested + timedelta(seconds=seconds))
    row["updated_at"] = row["accepted_at"]
    row["back_to_queue_rounds"] = int(i % 11 == 0)
    row["more_info_rounds"] = int(i % 13 == 0)


def generate(
    layout: Layout,
    templates: dict[str, Rows],
    tables: tuple[str, ...] = TABLES,
    now: datetime | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) for every seeded row of ``tables``, a handoff before its events."""
    now = now or datetime.now(UTC)
    known = _template_ids(templates)
    cases = {"open_emea": _CASE_EMEA, "open_us": _CASE_US, "accepted": _CASE_DONE}
    for i in range(layout.total):
        kind = _kind(layout, i)
        handoff_id = layout.handoff_id(i)
        swaps = [
            (str(known[kind]["handoff"]), handoff_id),
            (cases[kind], layout.case_number(i)),
            (_REQUESTER, layout.requester(i)),
            (_CARD_ACTIVITY, layout.card_activity(i)),
        ]
        swaps += [(old, f"ev{n}{handoff_id}") for n, old in enumerate(known[kind]["events"])]
        for table in tables:
            for template in templates[kind][table]:
                row = {}
                for column, value in template.items():
                    if isinstance(value, str):
                        for old, new in swaps:
                            if old in value:
                                value = value.replace(old, new)
                    row[column] = value
                if table == "handoff_facts":
                    _spread_fact(layout, i, row, now)
                yield table, row


def seed_sqlite(path: Path, layout: Layout, templates: dict[str, Rows]) -> None:
    """Rows into an already migrated SQLite file, in one transaction."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # A fresh file that is thrown away if seeding fails: no journal, no fsync (a WAL would
        # take the whole gigabytes once more before its checkpoint). The bot turns WAL on.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("BEGIN")
        batches: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
        statements = {
            table: _insert_sql(table, list(templates["open_us"][table][0])) for table in TABLES
        }
        for table, row in generate(layout, templates):
            batches[table].append(tuple(row.values()))
            if len(batches[table]) >= 20_000:
                _flush(connection, statements, batches)
        _flush(connection, statements, batches)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _insert_sql(table: str, columns: list[str]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def _flush(
    connection: sqlite3.Connection,
    statements: dict[str, str],
    batches: dict[str, list[tuple[Any, ...]]],
) -> None:
    for table in TABLES:  # parents first: events, cards and facts reference handoffs
        if batches[table]:
            connection.executemany(statements[table], batches[table])
            batches[table].clear()


async def seed_postgres(url: str, layout: Layout, templates: dict[str, Rows]) -> None:
    """Rows into an already migrated PostgreSQL database with COPY, parents first."""
    connection = await asyncpg.connect(url)
    try:
        for table in TABLES:
            columns = list(templates["open_us"][table][0])
            records = (
                tuple(_pg_value(column, row[column]) for column in columns)
                for _, row in generate(layout, templates, (table,))
            )
            await connection.copy_records_to_table(table, records=records, columns=columns)
        # What autovacuum does soon after a bulk insert (its insert threshold): without the
        # visibility map every index scan reads the table's rows too, which a running
        # deployment does not.
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def _pg_value(column: str, value: Any) -> Any:
    if column in TIMESTAMP_COLUMNS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


async def seed(database_url: str, layout: Layout) -> None:
    """Migrates the database (through the bot's own store) and fills it."""
    store = await open_store(database_url, SystemClock())
    await store.close()
    templates = await _templates(layout)
    if database_url.startswith("sqlite:///"):
        await asyncio.to_thread(
            seed_sqlite, Path(database_url.removeprefix("sqlite:///")), layout, templates
        )
    else:
        await seed_postgres(database_url, layout, templates)
