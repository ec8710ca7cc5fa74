"""The send journal's reading of a send left in doubt: which step, begun when; what the
worker's rounds log while the database is away; and that its rounds leave the bot's turns
room to run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest

from handoff.ports import OutboxItem, OutboxMessage, OutboxState
from outbox.failures import Paced
from outbox.worker import OutboxWorker, SendJournal
from storage.sql_store import SqlStore, open_store

from conftest import CreateDatabase, FakeClock
from harness.tcp_proxy import TcpProxy

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# A channel post's key holds the channel's id, "@" and all.
KEY = "post:h1:19:case-transfer@thread.tacv2"


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    opened = await open_store(sqlite_url, FakeClock(NOW))
    yield opened
    await opened.close()


def journal(store: SqlStore, sending: str | None) -> SendJournal:
    item = OutboxItem(
        id=1,
        kind="post_card",
        payload={},
        dedupe_key=KEY,
        state=OutboxState.PENDING,
        attempts=2,
        not_before=NOW - timedelta(minutes=5),
        sending=sending,
    )
    return SendJournal(item, store, FakeClock(NOW))


async def test_a_step_begun_and_not_recorded_is_in_doubt_since_it_began(store: SqlStore) -> None:
    began = NOW - timedelta(seconds=7)
    doubt = journal(store, f"{KEY}#0@1@{began.isoformat()}")

    assert doubt.in_doubt_since(f"{KEY}#0") == began
    assert doubt.in_doubt_since(f"{KEY}#1") is None, "another step"


async def test_a_marker_from_before_the_time_was_journaled_counts_from_when_it_was_due(
    store: SqlStore,
) -> None:
    assert journal(store, f"{KEY}#0@1").in_doubt_since(f"{KEY}#0") == NOW - timedelta(minutes=5)


async def test_nothing_is_in_doubt_without_a_marker_or_for_a_longer_step_number(
    store: SqlStore,
) -> None:
    assert journal(store, None).in_doubt_since(f"{KEY}#0") is None
    assert journal(store, f"{KEY}#10@1@{NOW.isoformat()}").in_doubt_since(f"{KEY}#1") is None


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{proxy.port}"))


@contextlib.asynccontextmanager
async def store_behind_proxy(
    create_postgres_database: CreateDatabase, clock: FakeClock
) -> AsyncIterator[tuple[SqlStore, TcpProxy]]:
    """A PostgreSQL store whose connection the test can cut and restore."""
    url = await create_postgres_database()
    with TcpProxy("127.0.0.1", urlsplit(url).port or 5432) as proxy:
        store = await open_store(through(proxy, url), clock, timeout_seconds=2)
        try:
            yield store, proxy
        finally:
            await store.close()


def tell(key: str, lane: str) -> OutboxMessage:
    return OutboxMessage(kind="notify", payload={}, dedupe_key=key, not_before=NOW, lane=lane)


async def test_rounds_without_the_database_log_one_traceback_then_a_count_then_its_end(
    create_postgres_database: CreateDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(NOW)
    async with store_behind_proxy(create_postgres_database, clock) as (store, proxy):
        worker = OutboxWorker(store, {}, clock)
        assert await worker.run_round() == 0
        caplog.set_level(logging.WARNING)

        proxy.cut()
        for _ in range(20):
            assert await worker.run_round() == 0
        [first] = [r for r in caplog.records if r.name == "outbox.worker"]
        assert first.levelno == logging.ERROR and first.exc_info is not None
        assert first.getMessage() == "outbox round failed; trying again shortly"

        clock.advance(timedelta(seconds=30))
        await worker.run_round()
        [_, count] = [r for r in caplog.records if r.name == "outbox.worker"]
        assert count.exc_info is None
        assert count.getMessage() == (
            "database unavailable: 20 more outbox rounds failed in the last 30 s"
        )

        proxy.restore()
        for _ in range(200):  # until the pool has reconnected
            await worker.run_round()
            if any(r.name == "outbox.fault_log" for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        [over] = [r for r in caplog.records if r.name == "outbox.fault_log"]
        assert over.getMessage().startswith(
            "database unavailable: outbox rounds work again after 30 s;"
        )
        assert len([r for r in caplog.records if r.name == "outbox.worker"]) == 2


async def test_a_paced_backlog_never_holds_the_event_loop_from_the_turns(
    store: SqlStore,
) -> None:
    """SQLite's statements run on the loop's thread and a paced item is put back without
    any I/O: rounds over a backlog of chats at their limit must still let the bot's turns
    run between their items, or every turn waits for the whole backlog (seconds)."""
    clock = FakeClock(NOW)
    for n in range(300):
        chat = f"a:chat-{n}"
        await store.enqueue_message(tell(f"tell:{n}", chat))
    paced: list[int] = []

    async def at_the_limit(item: OutboxItem, _journal: SendJournal | None) -> None:
        paced.append(item.id)
        raise Paced(item.lane or "", 20.0)

    worker = OutboxWorker(store, {"notify": at_the_limit}, clock)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    # Counted in items, not milliseconds, so that a slow or busy machine cannot fail it.
    most_between_turns = 0
    try:
        seen = 0
        while len(paced) < 300:
            await asyncio.sleep(0)  # a turn's chance to run
            most_between_turns = max(most_between_turns, len(paced) - seen)
            seen = len(paced)
    finally:
        stop.set()
        await running
    assert len(set(paced)) == 300
    assert most_between_turns == 1, f"{most_between_turns} items went by without a turn"


async def test_an_item_paced_for_a_moment_waits_aside_while_other_chats_go_first(
    store: SqlStore,
) -> None:
    """Set aside in memory with its lease, the item keeps its lane behind it, and nobody
    else's message waits for it."""
    for key, lane in (("a1", "chat:a"), ("a2", "chat:a"), ("b1", "chat:b")):
        await store.enqueue_message(tell(key, lane))
    happened: list[str] = []

    async def send(item: OutboxItem, _journal: SendJournal | None) -> None:
        if item.dedupe_key == "a1" and "a1 paced" not in happened:
            happened.append("a1 paced")
            raise Paced("chat:a", 0.05)
        happened.append(f"{item.dedupe_key} sent")

    worker = OutboxWorker(store, {"notify": send}, FakeClock(NOW))
    await worker.drain()

    assert happened == ["a1 paced", "b1 sent", "a1 sent", "a2 sent"]
    counts = await store.outbox_counts()
    assert (counts["pending"], counts["done"]) == (0, 3)


async def test_an_item_paced_between_its_sends_does_not_send_the_first_again(
    store: SqlStore,
) -> None:
    """A text and then a card to one person, the card paced for a moment: set aside and tried
    again, the item goes on from the card (it started over from the text)."""
    await store.enqueue_message(tell("a1", "chat:a"))
    sent: list[str] = []
    paced: list[str] = []

    async def text_then_card(item: OutboxItem, journal: SendJournal | None) -> None:
        assert journal is not None
        for message in ("text", "card"):
            step, done = journal.next_step()
            if done is not None:
                continue
            if message == "card" and not paced:
                paced.append(message)
                raise Paced("chat:a", 0.05)
            await journal.begin(step)
            sent.append(message)
            await journal.record(f"activity-{message}")

    worker = OutboxWorker(store, {"notify": text_then_card}, FakeClock(NOW))
    await worker.drain()

    assert sent == ["text", "card"]
    assert (await store.outbox_counts())["done"] == 1


async def test_a_stopping_worker_puts_what_it_set_aside_back_for_another_to_send(
    store: SqlStore,
) -> None:
    """Otherwise the item's lease (two minutes) would hold its chat after a restart."""
    await store.enqueue_message(tell("a1", "chat:a"))

    paced = asyncio.Event()

    async def at_the_limit(item: OutboxItem, _journal: SendJournal | None) -> None:
        paced.set()
        raise Paced(item.lane or "", 3.0)

    worker = OutboxWorker(store, {"notify": at_the_limit}, FakeClock(NOW))
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(paced.wait(), 10)
    await asyncio.sleep(0.05)  # the worker has set the item aside and waits
    stop.set()
    await running

    [again] = await store.claim(NOW, 5, timedelta(seconds=120))
    assert again.dedupe_key == "a1"


async def test_an_item_set_aside_survives_a_round_without_the_database(
    create_postgres_database: CreateDatabase,
) -> None:
    """The database away just when the item's time comes: it stays set aside and is sent
    once the database is back, not left to its lease (two minutes)."""
    clock = FakeClock(NOW)
    async with store_behind_proxy(create_postgres_database, clock) as (store, proxy):
        await store.enqueue_message(tell("a1", "chat:a"))
        sent: list[str] = []

        async def send(item: OutboxItem, _journal: SendJournal | None) -> None:
            if not sent:
                sent.append("paced")
                raise Paced("chat:a", 0.05)
            sent.append(item.dedupe_key)

        worker = OutboxWorker(store, {"notify": send}, clock)
        assert await worker.run_round() == 1
        proxy.cut()
        await asyncio.sleep(0.06)  # its time has come
        assert await worker.run_round() == 0
        proxy.restore()
        for _ in range(200):  # until the pool has reconnected
            await worker.run_round()
            if "a1" in sent:
                break
            await asyncio.sleep(0.05)
        assert sent == ["paced", "a1"]
