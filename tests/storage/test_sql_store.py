"""The whole store (storage.sql_store): opened, restarted, probed and interrupted, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from handoff.models import Handoff, Person
from handoff.ports import ConversationAddress, ConversationKind
from handoff.state_machine import request_event
from storage.errors import StorageUnavailable
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock


async def test_data_survives_a_restart(
    database_url: str, clock: FakeClock, a_handoff: Callable[..., Handoff], bo: Person
) -> None:
    first = await open_store(database_url, clock)
    handoff = a_handoff("323456789")
    await first.add(handoff, [request_event(handoff)])
    await first.enqueue("send", {"text": "hi"}, "restart-1", clock.now())
    await first.save_conversation(
        ConversationAddress(
            conversation_id="a:personal-1",
            kind=ConversationKind.PERSONAL,
            service_url="https://smba.trafficmanager.net/emea/",
            tenant_id="tenant-1",
            user=bo,
            reference={"conversation": {"id": "a:personal-1"}},
            updated_at=clock.now(),
        )
    )
    await first.close()

    second = await open_store(database_url, clock)
    try:
        assert await second.get(handoff.id) == handoff
        assert [e.kind for e in await second.history(handoff.id)] == ["requested"]
        assert await second.personal_conversation(bo.id) is not None
        assert [
            i.dedupe_key for i in await second.claim(clock.now(), 10, timedelta(seconds=30))
        ] == ["restart-1"]
    finally:
        await second.close()


async def test_ping_answers_while_open_and_fails_clearly_once_closed(
    database_url: str, clock: FakeClock
) -> None:
    opened = await open_store(database_url, clock)
    await opened.ping()
    await opened.close()
    await opened.close()

    with pytest.raises(StorageUnavailable, match="closed"):
        await opened.ping()


async def test_timestamps_come_back_as_aware_utc(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    await store.add(a_handoff("323456790"), [])
    row = await store.database.fetch_one("SELECT created_at, updated_at FROM handoffs")

    assert row is not None
    assert row["created_at"] == clock.now()
    assert row["created_at"].utcoffset() == timedelta(0)


async def test_a_cancelled_transaction_leaves_nothing_and_the_database_usable(
    store: SqlStore, clock: FakeClock
) -> None:
    inside = asyncio.Event()

    async def interrupted_turn() -> None:
        async with store.database.transaction() as tx:
            await tx.execute(
                "INSERT INTO bot_state (key, etag, doc, updated_at) VALUES (?, ?, ?, ?)",
                "cancelled",
                "e1",
                "{}",
                clock.now(),
            )
            inside.set()
            await asyncio.Event().wait()

    in_body = asyncio.create_task(interrupted_turn())
    await inside.wait()
    in_body.cancel()
    with pytest.raises(asyncio.CancelledError):
        await in_body
    # Cancelled while its BEGIN is still on the way to the database (PostgreSQL's; SQLite's
    # statements run on the loop's thread, without a pause: it is written by then).
    at_begin = asyncio.create_task(store.enqueue("send", {}, "cancelled-at-begin", clock.now()))
    await asyncio.sleep(0)
    at_begin.cancel()
    [outcome] = await asyncio.gather(at_begin, return_exceptions=True)
    if store.database.dialect == "sqlite":
        assert outcome is True
    else:
        assert isinstance(outcome, asyncio.CancelledError)

    assert await store.enqueue("send", {}, "after", clock.now()) is True
    assert await store.database.fetch_all("SELECT key FROM bot_state") == []


async def test_a_url_that_names_no_file_is_refused_before_anything_is_created(
    tmp_path: Path, clock: FakeClock
) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        await open_store(f"sqlite:///{tmp_path}/data/", clock)
    assert not (tmp_path / "data").exists()
