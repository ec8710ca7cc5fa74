"""The send journal's reading of a send left in doubt: which step, begun when."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox_worker import SendJournal
from handoff.ports import OutboxItem, OutboxState
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock

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
