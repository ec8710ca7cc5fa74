"""What a click on a Case Transfer card reads and writes (storage.handoff_store), on SQLite and
PostgreSQL: everything the click needs in one read; its change written with its events, its key
and its outbox messages (all of them in one statement) or not at all; a change that lost its
race told how the handoff is now, and whether it lost to its own twin (the same key)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from handoff.errors import NotFound
from handoff.models import Handoff, HandoffState, Person
from handoff.ports import AlreadyHandled, CardRef, ChangedMeanwhile, OutboxMessage
from handoff.state_machine import Accept, Cancel, apply, request_event
from handoff.user_settings import UserSettings
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness import records

KEY = "card:1700:29:bo:accept:1"


async def posted(store: SqlStore, handoff: Handoff, message: str = "1700") -> None:
    await store.add(handoff, [request_event(handoff)])
    await store.set_card(handoff.id, CardRef(conversation_id="19:ct", activity_id=message))


async def test_a_click_reads_the_handoff_its_card_its_key_and_the_clickers_settings(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], bo: Person
) -> None:
    handoff = a_handoff("410000001")
    await posted(store, handoff)
    settings = UserSettings(person=bo, region="US")
    await store.save_user_settings(settings, records.said_by(bo, settings, clock))

    clicked = await store.clicked(handoff.id, "1700", KEY, bo.id)
    assert clicked.handoff == handoff
    assert clicked.card_of_message == handoff.id
    assert not clicked.pressed
    assert clicked.actor_settings == settings
    assert clicked.case == (), "the case only when asked for"

    await store.claim_key(KEY)
    clicked = await store.clicked(handoff.id, "1799", KEY, "29:someone-else")
    assert (clicked.card_of_message, clicked.pressed, clicked.actor_settings) == (
        None,
        True,
        None,
    )
    assert (await store.clicked(handoff.id, None, None, bo.id)).card_of_message is None


async def test_an_accept_reads_the_whole_case_along(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], ana: Person, bo: Person
) -> None:
    first = a_handoff("410000002")
    await posted(store, first, "1701")
    cancelled = apply(first, Cancel(actor=ana), clock.now())
    await store.save(cancelled.handoff, first.version, cancelled.events)
    clock.advance(timedelta(hours=1))
    second = a_handoff("410000002")
    await posted(store, second, "1702")
    await posted(store, a_handoff("410000003"), "1703")

    clicked = await store.clicked(second.id, "1702", KEY, bo.id, whole_case=True)
    assert clicked.handoff == second
    assert clicked.case == (cancelled.handoff, second), "the case's handoffs, oldest first"
    assert clicked.card_of_message == second.id


async def test_a_click_on_an_unknown_handoff_is_not_found(store: SqlStore, bo: Person) -> None:
    for whole_case in (False, True):
        with pytest.raises(NotFound):
            await store.clicked("no-such-handoff", "1700", KEY, bo.id, whole_case=whole_case)


async def test_twenty_clicks_at_once_write_one_change_and_make_its_messages_once(
    store: SqlStore,
    second_store: SqlStore,
    clock: FakeClock,
    a_handoff: Callable[..., Handoff],
) -> None:
    """Each loser learns how the handoff is now from the failed write itself; the messages
    (and the card they carry) are made by the winner alone."""
    handoff = a_handoff("410000004")
    await posted(store, handoff)
    made: list[str] = []

    async def accept(n: int) -> Handoff | None:
        person = Person(id=f"29:clicker-{n}", name=f"Clicker {n}")
        moved = apply(handoff, Accept(actor=person), clock.now())

        def messages() -> list[OutboxMessage]:
            made.append(person.id)
            return [
                OutboxMessage(
                    kind="update_card",
                    payload={"by": person.id},
                    dedupe_key=f"card:{handoff.id}:v2",
                    not_before=clock.now(),
                )
            ]

        repository = store if n % 2 else second_store
        try:
            await repository.save(moved.handoff, handoff.version, moved.events, messages)
        except ChangedMeanwhile as lost:
            return lost.current
        return None

    outcomes = await asyncio.gather(*(accept(n) for n in range(20)))

    stored = await store.get(handoff.id)
    assert stored.state is HandoffState.ACCEPTED and stored.owner is not None
    assert made == [stored.owner.id]
    losers = [current for current in outcomes if current is not None]
    assert len(losers) == 19 and all(current == stored for current in losers)
    [item] = await store.claim(clock.now(), 10, timedelta(seconds=30))
    assert item.payload == {"by": stored.owner.id}


async def test_a_click_that_lost_to_its_own_twin_is_a_repeat(
    store: SqlStore, second_store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    """The same click delivered twice at once: the second finds its key recorded with the
    first's change, so it is the same click done, not someone else's."""
    handoff = a_handoff("410000005")
    await posted(store, handoff)
    bo = Person(id="29:bo", name="Bo")
    first = apply(handoff, Accept(actor=bo), clock.now())
    await store.save(first.handoff, handoff.version, first.events, claim=KEY)
    twin = apply(handoff, Accept(actor=bo), clock.now())
    with pytest.raises(AlreadyHandled) as repeated:
        await second_store.save(twin.handoff, handoff.version, twin.events, claim=KEY)
    assert repeated.value.current == first.handoff
    other = apply(handoff, Accept(actor=Person(id="29:cy", name="Cy")), clock.now())
    with pytest.raises(ChangedMeanwhile) as lost:
        await second_store.save(other.handoff, handoff.version, other.events, claim="cy's")
    assert lost.value.current == first.handoff
    assert not await store.key_claimed("cy's")


async def test_a_changes_messages_go_in_their_order_those_enqueued_before_skipped(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], bo: Person
) -> None:
    """However many (more than one statement's worth here), in the order the change made
    them: the outbox sends a lane's messages in that order."""
    handoff = a_handoff("410000006")
    await posted(store, handoff)
    await store.enqueue_message(
        OutboxMessage(kind="notify", payload={}, dedupe_key="m-007", not_before=clock.now())
    )
    messages = [
        OutboxMessage(
            kind="notify", payload={"n": n}, dedupe_key=f"m-{n:03d}", not_before=clock.now()
        )
        for n in range(250)
    ]
    moved = apply(handoff, Accept(actor=bo), clock.now())
    await store.save(moved.handoff, handoff.version, moved.events, messages)

    items = await store.claim(clock.now(), 300, timedelta(seconds=30))
    assert [item.dedupe_key for item in items] == ["m-007"] + [
        f"m-{n:03d}" for n in range(250) if n != 7
    ]
    assert [item.payload for item in items[1:4]] == [{"n": 0}, {"n": 1}, {"n": 2}]
