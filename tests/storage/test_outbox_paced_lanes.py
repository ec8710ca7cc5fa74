"""A lane whose head was put back for its conversation's pace (the Case Transfer channel past
Teams' 60 sends in 30 seconds at a shift change): on both backends what comes later waits
behind the head, and a claim costs no more for the hundreds of card updates waiting there."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from handoff.ports import OutboxMessage
from storage.outbox_store import _DUE, enqueue_all_in
from storage.sql_store import SqlStore
from storage.sqlite_driver import SqliteDatabase, format_timestamp

from conftest import FakeClock
from harness.query_plans import analyzed_plan, plan_nodes

LEASE = timedelta(seconds=30)
PACED_FOR = timedelta(seconds=25)


def update(key: str, clock: FakeClock, lane: str) -> OutboxMessage:
    return OutboxMessage(
        kind="update_card", payload={}, dedupe_key=key, not_before=clock.now(), lane=lane
    )


async def _waiting(store: SqlStore, clock: FakeClock, lane: str, count: int) -> None:
    """`count` card updates for one channel, enqueued in one transaction, its head then
    claimed and put back for its pace."""
    async with store.database.transaction() as tx:
        messages = [update(f"{lane}-{n}", clock, lane) for n in range(count)]
        await enqueue_all_in(tx, messages, clock)
    [head] = await store.claim(clock.now(), 1, LEASE)
    assert head.dedupe_key == f"{lane}-0"
    await store.defer(head.id, clock.now() + PACED_FOR)


async def test_an_update_enqueued_behind_a_paced_head_waits_for_it(
    store: SqlStore, clock: FakeClock
) -> None:
    await _waiting(store, clock, "19:channel", 2)
    # Another Accept while the channel is paced: its update must not overtake the others
    # (another replica, whose own count of the channel's sends has room, would send it).
    await store.enqueue_message(update("19:channel-later", clock, "19:channel"))

    assert await store.claim(clock.now(), 10, LEASE) == []
    clock.advance(PACED_FOR)
    sent = []
    while items := await store.claim(clock.now(), 10, LEASE):
        for item in items:
            sent.append(item.dedupe_key)
            await store.complete(item.id)
    assert sent == ["19:channel-0", "19:channel-1", "19:channel-later"]


async def test_a_claim_costs_no_more_for_a_paced_channels_backlog(
    store: SqlStore, clock: FakeClock
) -> None:
    await _waiting(store, clock, "19:quiet-channel", 5)
    few = await _work_of_a_look(store, clock)
    await _waiting(store, clock, "19:busy-channel", 1500)
    many = await _work_of_a_look(store, clock)

    assert await store.claim(clock.now(), 10, LEASE) == []
    # Two lanes walked instead of one; before, every update waiting was read (19 times the
    # steps on SQLite).
    assert many <= 3 * few, (few, many)


async def _work_of_a_look(store: SqlStore, clock: FakeClock) -> int:
    """What finding the due items reads: SQLite's virtual-machine steps (in tens), or the
    rows PostgreSQL's plan went through."""
    now = clock.now()
    db = store.database
    if db.dialect == "postgresql":
        await db.execute("ANALYZE outbox")
        root = await analyzed_plan(store, _DUE[db.dialect], now, now)
        return sum(
            (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0))
            * node.get("Actual Loops", 1)
            for node in plan_nodes(root)
        )
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    assert isinstance(db, SqliteDatabase)
    connection = sqlite3.connect(db.path)
    try:
        connection.set_progress_handler(count, 10)
        stamp = format_timestamp(now)
        connection.execute(_DUE[db.dialect], (stamp, stamp)).fetchall()
    finally:
        connection.close()
    return steps
