"""Which deliveries are repeats (teams/deliveries.py), on a real SQLite store."""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from botbuilder.schema import Activity

from storage.sql_store import SqlStore, open_store
from teams.deliveries import KEEP_KEYS, NO_CLAIM, Deliveries, DeliveryInProgress, delivery_keys

from conftest import FakeClock
from harness import activities

SERVICE_URL = "http://127.0.0.1:1/"
# How long a turn may hold a delivery's keys unfinished (Settings.delivery_abandoned_after).
BOUND = timedelta(seconds=15)


def activity(body: dict[str, Any]) -> Activity:
    read: Activity = Activity().deserialize(body)
    return read


@pytest.fixture
async def store(sqlite_url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(sqlite_url, clock)
    yield opened
    await opened.close()


def test_a_redelivery_shares_a_key_with_the_first_delivery_and_a_new_message_does_not() -> None:
    first = activities.personal_message("list", SERVICE_URL)
    same_id = copy.deepcopy(first)
    new_id = {**copy.deepcopy(first), "id": "f:another"}
    typed_again = activities.personal_message("list", SERVICE_URL)
    typed_again["localTimestamp"] = "2026-11-24T10:00:01.000+00:00"

    keys = set(delivery_keys(activity(first)))
    assert len(keys) == 2
    assert set(delivery_keys(activity(same_id))) == keys
    assert len(keys & set(delivery_keys(activity(new_id)))) == 1, "the content key"
    assert not keys & set(delivery_keys(activity(typed_again)))


def test_invokes_are_left_to_the_card_keys() -> None:
    invoke = activities.card_action_invoke("accept", {"handoff_id": "h"}, SERVICE_URL, "1")
    assert delivery_keys(activity(invoke)) == []


async def test_a_repeat_is_refused_and_a_released_delivery_is_handled_again(
    store: SqlStore, clock: FakeClock
) -> None:
    deliveries = Deliveries(store, clock, BOUND)
    message = activity(activities.personal_message("list", SERVICE_URL))
    claim = await deliveries.claim(message)
    assert claim is not None and len(claim.keys) == 2
    with pytest.raises(DeliveryInProgress) as in_progress:
        await deliveries.claim(message)
    assert in_progress.value.retry_after == BOUND.total_seconds(), "come back after the bound"
    await deliveries.release(claim)
    claim = await deliveries.claim(message)
    assert claim is not None
    deliveries.finish(claim)
    await deliveries.finishes_written()
    assert await deliveries.claim(message) is None, "done: a repeat for good"


async def test_an_invoke_claims_nothing(store: SqlStore, clock: FakeClock) -> None:
    deliveries = Deliveries(store, clock, BOUND)
    invoke = activities.card_action_invoke("accept", {"handoff_id": "h"}, SERVICE_URL, "1")
    assert await deliveries.claim(activity(invoke)) == NO_CLAIM
    assert await deliveries.claim(activity(invoke)) == NO_CLAIM, "every click is answered"


async def test_a_delivery_whose_process_died_mid_turn_is_handled_after_the_bound(
    store: SqlStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    died = Deliveries(store, clock, BOUND, process="died")
    restarted = Deliveries(store, clock, BOUND, process="restarted")
    message = activity(activities.personal_message("list", SERVICE_URL))
    assert await died.claim(message) is not None  # ...and the process is killed mid-turn

    clock.advance(BOUND)
    with pytest.raises(DeliveryInProgress):  # the first turn may still be running
        await restarted.claim(message)
    clock.advance(timedelta(milliseconds=1))
    with caplog.at_level(logging.WARNING, logger="teams.deliveries"):
        claim = await restarted.claim(message)
    assert claim is not None and claim.claimant.startswith("restarted#")
    assert "delivery handled again" in caplog.text
    restarted.finish(claim)
    await restarted.finishes_written()
    clock.advance(BOUND * 10)
    assert await restarted.claim(message) is None, "a finished delivery is a repeat for good"


async def test_a_finish_the_database_cannot_take_leaves_the_claim_to_be_taken_over(
    sqlite_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The person was answered; the turn does not fail for the bookkeeping. Only a redelivery
    after the bound (Teams had no answer) runs it again."""
    first = await open_store(sqlite_url, clock)
    deliveries = Deliveries(first, clock, BOUND)
    message = activity(activities.personal_message("list", SERVICE_URL))
    claim = await deliveries.claim(message)
    assert claim is not None
    await first.close()
    with caplog.at_level(logging.WARNING, logger="teams.deliveries"):
        deliveries.finish(claim)
        await deliveries.finishes_written()
    assert "delivery keys left pending" in caplog.text

    second = await open_store(sqlite_url, clock)
    try:
        other = Deliveries(second, clock, BOUND)
        with pytest.raises(DeliveryInProgress):
            await other.claim(message)
        clock.advance(BOUND + timedelta(milliseconds=1))
        assert await other.claim(message) is not None
    finally:
        await second.close()


async def test_keys_older_than_a_day_are_pruned_as_deliveries_come(
    store: SqlStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    deliveries = Deliveries(store, clock, BOUND, prune_every=2)
    old = activity(activities.personal_message("old", SERVICE_URL))
    claim = await deliveries.claim(old)
    assert claim is not None
    deliveries.finish(claim)
    await deliveries.finishes_written()
    clock.advance(KEEP_KEYS + timedelta(minutes=1))
    with caplog.at_level(logging.INFO, logger="teams.deliveries"):
        await deliveries.claim(activity(activities.personal_message("new", SERVICE_URL)))
        assert await deliveries.claim(old) is not None, "its keys were forgotten"
        for text in ("newer", "newest"):  # a prune that finds nothing says nothing
            await deliveries.claim(activity(activities.personal_message(text, SERVICE_URL)))
    pruned = [r for r in caplog.records if r.getMessage() == "old delivery keys pruned"]
    assert [r.count for r in pruned] == [2]  # type: ignore[attr-defined]


class CountedFinishes:
    """The store, counting the statements that finish claims."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self.finishes: list[list[str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def finish_claims(self, claims: Sequence[tuple[Sequence[str], str]]) -> None:
        self.finishes.append([claimant for _keys, claimant in claims])
        await self._store.finish_claims(claims)


async def test_turns_that_end_together_finish_in_one_statement_and_block_repeats(
    store: SqlStore, clock: FakeClock
) -> None:
    counted = CountedFinishes(store)
    deliveries = Deliveries(counted, clock, BOUND)
    messages = [activity(activities.personal_message(f"m{n}", SERVICE_URL)) for n in range(3)]
    for message in messages:
        message.id = f"f:{message.text}"
    claims = [await deliveries.claim(message) for message in messages]
    for claim in claims:
        assert claim is not None
        deliveries.finish(claim)
    # Not written yet, and a redelivery to this process is a repeat all the same.
    assert counted.finishes == []
    assert await deliveries.claim(messages[0]) is None

    await deliveries.finishes_written()
    assert counted.finishes == [[claim.claimant for claim in claims if claim is not None]]
    other = Deliveries(store, clock, BOUND, process="other")
    clock.advance(BOUND * 2)
    for message in messages:
        assert await other.claim(message) is None, "done for every replica, after the bound too"
