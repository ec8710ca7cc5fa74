"""Which deliveries are repeats (bot/deliveries.py), on a real SQLite store."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from botbuilder.schema import Activity

from bot.deliveries import KEEP_KEYS, Deliveries, delivery_keys
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness import activities

SERVICE_URL = "http://127.0.0.1:1/"


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
    deliveries = Deliveries(store, clock)
    message = activity(activities.personal_message("list", SERVICE_URL))
    claimed = await deliveries.claim(message)
    assert claimed is not None and len(claimed) == 2
    assert await deliveries.claim(message) is None
    await deliveries.release(claimed)
    assert await deliveries.claim(message) is not None


async def test_keys_older_than_a_day_are_pruned_as_deliveries_come(
    store: SqlStore, clock: FakeClock
) -> None:
    deliveries = Deliveries(store, clock, prune_every=2)
    old = activity(activities.personal_message("old", SERVICE_URL))
    await deliveries.claim(old)
    clock.advance(KEEP_KEYS + timedelta(minutes=1))
    await deliveries.claim(activity(activities.personal_message("new", SERVICE_URL)))
    assert await deliveries.claim(old) is not None, "its keys were forgotten"
