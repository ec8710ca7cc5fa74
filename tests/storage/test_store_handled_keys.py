"""Contract of the idempotency keys (HandledKeys of handoff.ports) on SQLite and PostgreSQL:
one claim wins however many callers, on however many stores, and a key given with a change
is recorded with it or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from handoff.errors import ConcurrencyConflict
from handoff.escalation import request_escalation
from handoff.models import Handoff, HandoffNotes, Person
from handoff.ports import AlreadyHandled, CardRef, OutboxMessage
from handoff.state_machine import Accept, apply, request_event
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock


@pytest.fixture
async def second_store(database_url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    """Another store on the same database: a second bot replica."""
    other = await open_store(database_url, clock)
    yield other
    await other.close()


async def test_a_key_is_claimed_once_across_replicas(
    store: SqlStore, second_store: SqlStore
) -> None:
    stores = [store, second_store] * 10
    won = await asyncio.gather(*(s.claim_key("delivery:abc") for s in stores))
    assert won.count(True) == 1
    assert await second_store.key_claimed("delivery:abc")
    assert not await store.key_claimed("delivery:other")


async def test_a_deliverys_keys_are_claimed_together_or_not_at_all(
    store: SqlStore, second_store: SqlStore
) -> None:
    assert await store.claim_keys(["delivery:1", "content:1"]) is None
    assert await second_store.key_claimed("delivery:1")
    assert await second_store.key_claimed("content:1")
    # A redelivery with a new id but the same content: the repeat is named, nothing recorded.
    assert await second_store.claim_keys(["delivery:2", "content:1"]) == "content:1"
    assert not await store.key_claimed("delivery:2")


async def test_a_released_key_can_be_claimed_again(store: SqlStore) -> None:
    assert await store.claim_key("k")
    await store.release_key("k")
    assert not await store.key_claimed("k")
    assert await store.claim_key("k")


async def test_old_keys_are_forgotten(store: SqlStore, clock: FakeClock) -> None:
    await store.claim_key("old")
    clock.advance(timedelta(days=2))
    await store.claim_key("new")
    assert await store.forget_keys_before(clock.now() - timedelta(days=1)) == 1
    assert not await store.key_claimed("old")
    assert await store.key_claimed("new")


async def test_a_change_with_a_key_handled_before_writes_nothing(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], bo: Person
) -> None:
    handoff = a_handoff("310000001")
    await store.add(handoff, [request_event(handoff)])
    await store.claim_key("card:1:bo:accept:1")
    accepted = apply(handoff, Accept(actor=bo), clock.now())
    with pytest.raises(AlreadyHandled):
        await store.save(
            accepted.handoff,
            handoff.version,
            accepted.events,
            [
                OutboxMessage(
                    kind="notify", payload={}, dedupe_key="told-bo", not_before=clock.now()
                )
            ],
            claim="card:1:bo:accept:1",
        )
    assert (await store.get(handoff.id)).version == handoff.version
    assert [e.kind for e in await store.history(handoff.id)] == ["requested"]
    assert await store.claim(clock.now(), 10, timedelta(minutes=1)) == []


async def test_a_key_is_recorded_only_with_the_change_it_came_with(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], bo: Person
) -> None:
    handoff = a_handoff("310000002")
    await store.add(handoff, [request_event(handoff)])
    accepted = apply(handoff, Accept(actor=bo), clock.now())
    await store.save(accepted.handoff, handoff.version, accepted.events, claim="first")
    assert await store.key_claimed("first")
    again = apply(handoff, Accept(actor=bo), clock.now())
    with pytest.raises(ConcurrencyConflict):
        await store.save(again.handoff, handoff.version, again.events, claim="stale")
    assert not await store.key_claimed("stale"), "a refused change leaves no key behind"


async def test_the_handoff_of_a_posted_card_is_found_by_its_message(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    handoff = a_handoff("310000003")
    await store.add(handoff, [request_event(handoff)])
    await store.set_card(handoff.id, CardRef(conversation_id="19:ct", activity_id="1700"))
    assert await store.handoff_of_card("1700") == handoff.id
    assert await store.handoff_of_card("1701") is None


async def test_the_escalation_of_an_approval_card_is_found_by_its_message(
    store: SqlStore, clock: FakeClock, ana: Person
) -> None:
    escalation = request_escalation(
        HandoffNotes(summary="Autoscale stops at 20 nodes since the upgrade."),
        "310000004",
        ana,
        clock.now(),
    )
    await store.add_escalation(escalation)
    await store.add_escalation_card(
        escalation.id, CardRef(conversation_id="a:lead", activity_id="1800")
    )
    assert await store.escalation_of_card("1800") == escalation.id
    assert await store.escalation_of_card("1801") is None
