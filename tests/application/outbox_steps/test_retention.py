"""RetentionHandlers (application/outbox_steps/retention.py): the daily purge, run by the real
OutboxWorker over a real SQLite file and a real PostgreSQL database, days moved on a fake
clock: what goes after RETENTION_DAYS and AUDIT_RETENTION_DAYS, what stays, and that two
replicas over one database purge once a day."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.outbox_steps.retention import (
    BATCH,
    RUN_BUDGET,
    TABLES,
    RetentionHandlers,
    RetentionPolicy,
    next_run,
)
from handoff.effects import OutboxKind
from handoff.ports import OutboxItem
from outbox.worker import OutboxWorker
from storage.outbox_store import _OUTBOX_COLUMNS, _outbox_item
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness.old_cases import Cases, count, left_of_case, notes_found

# Monday 2026-01-05, 09:00 UTC.
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LOGGER = "application.outbox_steps.retention"
NOTHING_LEFT = {
    "handoffs": 0,
    "handoff_events": 0,
    "handoff_cards": 0,
    "handoff_facts": 0,
    "escalations": 0,
    "escalation_cards": 0,
    "group_chats": 0,
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def store(database_url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(database_url, clock)
    yield opened
    await opened.close()


@pytest.fixture
def cases(store: SqlStore, clock: FakeClock) -> Cases:
    return Cases(store, clock)


def replica(
    store: SqlStore,
    clock: FakeClock,
    retention_days: int = 90,
    audit_retention_days: int = 365,
    *,
    batch: int = BATCH,
    budget: timedelta = RUN_BUDGET,
) -> tuple[RetentionHandlers, OutboxWorker]:
    """A bot process's purge and the outbox worker that runs it."""
    policy = RetentionPolicy(retention_days, audit_retention_days)
    handlers = RetentionHandlers(store, clock, policy, batch=batch, budget=budget)
    return handlers, OutboxWorker(store, handlers.table(), clock, on_start=(handlers.start,))


async def purge_items(store: SqlStore) -> list[OutboxItem]:
    rows = await store.database.fetch_all(
        f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE kind = ? ORDER BY id",
        OutboxKind.PURGE_EXPIRED.value,
    )
    return [_outbox_item(row) for row in rows]


def runs(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """Each run's INFO line, as its structured fields."""
    return [r.__dict__ for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]


def test_a_run_is_due_at_three_o_clock_utc_the_next_time_it_comes() -> None:
    assert next_run(NOW) == datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
    early = datetime(2026, 1, 5, 2, 59, tzinfo=UTC)
    assert next_run(early) == datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    assert next_run(datetime(2026, 1, 5, 3, 0, tzinfo=UTC)) == next_run(NOW)


async def test_every_process_books_the_next_run_and_it_is_booked_once(
    store: SqlStore, clock: FakeClock
) -> None:
    for _ in range(3):  # three replicas starting, or one restarting
        handlers, _worker = replica(store, clock)
        await handlers.start()
    [item] = await purge_items(store)
    assert item.not_before == datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
    assert item.dedupe_key == "purge_expired:2026-01-06"


async def test_a_closed_case_older_than_retention_is_gone_with_its_notes_and_keys(
    store: SqlStore, clock: FakeClock, cases: Cases, caplog: pytest.LogCaptureFixture
) -> None:
    handlers, worker = replica(store, clock)
    await handlers.start()
    old = await cases.accepted("2601050040000001")
    await cases.escalated(old, decided=True)
    await cases.chat_made("2601050040000001")
    await store.claim_key(f"click:{old.id}:accept")
    await cases.draft("a:chat-with-ana")  # a second handoff begun, never sent
    await cases.settle()
    clock.advance(10 * DAY)
    younger = await cases.accepted("2601050040000002")
    await store.claim_key(f"click:{younger.id}:accept")
    await cases.settle()
    clock.advance(81 * DAY)  # the old case closed 91 days ago, the younger one 81

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await worker.drain()

    assert await left_of_case(store, "2601050040000001") == NOTHING_LEFT
    assert await notes_found(store) == {"handoffs": 1}  # the younger case's
    assert not await store.key_claimed(f"click:{old.id}:accept")
    # Its outbox items (the card, the requester told) went too; the younger case's stay.
    assert await count(store, "outbox", "payload LIKE ?", f"%{old.id}%") == 0
    assert await count(store, "outbox", "payload LIKE ?", f"%{younger.id}%") > 0
    kept = await left_of_case(store, "2601050040000002")
    assert (kept["handoffs"], kept["handoff_events"], kept["handoff_cards"]) == (1, 2, 1)
    # The delivery keys' own pruning (a day) is the bot's per turn; the purge keeps its cutoff.
    assert await store.key_claimed(f"click:{younger.id}:accept")
    [run] = runs(caplog)
    purged = {table: run[table] for table in TABLES}
    assert purged | {"outbox": 0} == {
        "handoffs": 1,
        "handoff_events": 3,
        "handoff_cards": 1,
        "handoff_facts": 1,
        "escalations": 1,
        "escalation_cards": 1,
        "group_chats": 1,
        "outbox": 0,
        "handled_keys": 1,
        "bot_state": 1,
        "audit_log": 0,
    }
    assert purged["outbox"] >= 3
    assert (run["finished"], run["retention_days"], run["audit_retention_days"]) == (True, 90, 365)


async def test_an_open_handoff_of_any_age_stays_and_keeps_its_case_whole(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    handlers, worker = replica(store, clock)
    await handlers.start()
    await cases.accepted("2601050040000003")
    clock.advance(DAY)
    still_open = await cases.requested("2601050040000003")
    await cases.escalated(still_open, decided=True)
    await cases.chat_made("2601050040000003")
    await cases.settle()
    before = await left_of_case(store, "2601050040000003")
    clock.advance(3 * 365 * DAY)

    await worker.drain()

    assert await left_of_case(store, "2601050040000003") == before
    assert before["handoffs"] == 2 and before["group_chats"] == 1
    assert await notes_found(store) == {"handoffs": 2, "escalations": 1}


async def test_audit_entries_follow_their_own_setting(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    handlers, worker = replica(store, clock, retention_days=90, audit_retention_days=365)
    await handlers.start()
    bound = await cases.channel_bound("19:case-transfer@thread.tacv2")
    await cases.accepted("2601050040000004")
    await cases.settle()

    clock.advance(100 * DAY)
    await worker.drain()
    assert (await left_of_case(store, "2601050040000004"))["handoffs"] == 0
    assert await store.audit_entries() == [bound]
    moved = await cases.channel_bound("19:moved@thread.tacv2")

    clock.advance(266 * DAY)
    await worker.drain()
    assert await store.audit_entries() == [moved], "the superseded binding is a year old"
    clock.advance(3 * 365 * DAY)
    await worker.drain()
    assert await store.audit_entries() == [moved], "the binding in force stays however old"


async def test_retention_days_zero_keeps_everything(
    store: SqlStore, clock: FakeClock, cases: Cases, caplog: pytest.LogCaptureFixture
) -> None:
    handlers, worker = replica(store, clock, retention_days=0, audit_retention_days=0)
    await handlers.start()
    await cases.channel_bound("19:case-transfer@thread.tacv2")
    handoff = await cases.accepted("2601050040000005")
    await cases.escalated(handoff, decided=True)
    await cases.chat_made("2601050040000005")
    await store.claim_key(f"click:{handoff.id}:accept")
    await cases.draft("a:chat-with-ana")
    await cases.settle()
    before = await left_of_case(store, "2601050040000005")
    outbox = await count(store, "outbox", "kind <> ?", OutboxKind.PURGE_EXPIRED.value)
    clock.advance(10 * 365 * DAY)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await worker.drain()

    assert await left_of_case(store, "2601050040000005") == before
    assert await count(store, "outbox", "kind <> ?", OutboxKind.PURGE_EXPIRED.value) == outbox
    assert await store.key_claimed(f"click:{handoff.id}:accept")
    assert await notes_found(store) == {"handoffs": 1, "escalations": 1, "bot_state": 1}
    assert len(await store.audit_entries()) == 1
    [run] = runs(caplog)
    assert {table: run[table] for table in TABLES} == dict.fromkeys(TABLES, 0)
    assert (run["retention_days"], run["audit_retention_days"]) == (0, 0)


async def test_two_replicas_over_one_database_purge_once_a_day(
    database_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = await open_store(database_url, clock)
    second = await open_store(database_url, clock)
    try:
        replicas = [
            replica(s, clock, retention_days=1, audit_retention_days=1) for s in (first, second)
        ]
        for handlers, _worker in replicas:
            await handlers.start()
        cases = Cases(first, clock)
        await cases.accepted("2601050040000006")  # closed Monday 09:00
        await cases.settle()
        with caplog.at_level(logging.INFO, logger=LOGGER):
            for _day in range(3):
                clock.advance(next_run(clock.now()) + timedelta(minutes=1) - clock.now())
                # Both workers poll at once, and again, as replicas do.
                for _ in range(3):
                    await asyncio.gather(*(worker.run_once() for _h, worker in replicas))

        items = await purge_items(first)
    finally:
        await first.close()
        await second.close()

    # Tuesday's, Wednesday's and Thursday's runs, each once, and Friday's booked. (Tuesday's
    # item, done more than a day ago, went with Thursday's purge of the outbox.)
    done = runs(caplog)
    assert [r["day"] for r in done] == ["2026-01-06", "2026-01-07", "2026-01-08"]
    assert [(i.dedupe_key, i.state.value, i.attempts) for i in items] == [
        ("purge_expired:2026-01-07", "done", 1),
        ("purge_expired:2026-01-08", "done", 1),
        ("purge_expired:2026-01-09", "pending", 0),
    ]
    # Closed on Monday at 09:00: one day later is Tuesday 09:00, so Wednesday's run took it.
    assert [r["handoffs"] for r in done] == [0, 1, 0]


async def test_a_long_run_hands_over_to_its_next_part_and_finishes_there(
    store: SqlStore, clock: FakeClock, cases: Cases, caplog: pytest.LogCaptureFixture
) -> None:
    # A budget of nothing: every part stops after its first full batch of two.
    handlers, worker = replica(store, clock, batch=2, budget=timedelta(0))
    await handlers.start()
    numbers = [f"260105004000010{n}" for n in range(5)]
    for number in numbers:
        await cases.accepted(number)
    await cases.settle()
    clock.advance(91 * DAY)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await worker.drain()

    for number in numbers:
        assert await left_of_case(store, number) == NOTHING_LEFT
    parts = runs(caplog)
    assert [r["part"] for r in parts] == list(range(len(parts))) and len(parts) > 2
    assert [r["finished"] for r in parts] == [False] * (len(parts) - 1) + [True]
    assert sum(r["handoffs"] for r in parts) == 5
    assert all(r["handoffs"] <= 2 for r in parts)
    items = await purge_items(store)
    done = [(i.dedupe_key, i.attempts) for i in items if i.state.value == "done"]
    first = "purge_expired:2026-01-06"
    assert done == [(first, 1)] + [(f"{first}:{n}", 1) for n in range(1, len(parts))]
    # Only the first part booked the next day's run.
    assert [i.dedupe_key for i in items if i.state.value == "pending"] == [
        "purge_expired:2026-04-07"
    ]
