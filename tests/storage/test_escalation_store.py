"""Escalations and their approval cards (storage.escalation_store), on SQLite and PostgreSQL:
an escalation is added and decided together with its messages, its idempotency key and the
event in its case's history, or not at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from handoff.errors import ConcurrencyConflict, NotFound
from handoff.escalation import Escalation, EscalationState, decide, request_escalation
from handoff.models import AuditEvent, Handoff, HandoffNotes, Person
from handoff.ports import AlreadyHandled, CardRef, OutboxMessage
from handoff.state_machine import request_event
from storage.sql_store import SqlStore

from conftest import FakeClock

LEASE = timedelta(seconds=30)


def message(key: str, clock: FakeClock) -> OutboxMessage:
    return OutboxMessage(kind="notify", payload={}, dedupe_key=key, not_before=clock.now())


def escalated(clock: FakeClock, requester: Person, case_number: str) -> Escalation:
    notes = HandoffNotes(summary="Autoscale stops at 20 nodes since the upgrade.")
    return request_escalation(notes, case_number, requester, clock.now())


def event(handoff: Handoff, actor: Person, kind: str, clock: FakeClock) -> AuditEvent:
    return AuditEvent(
        handoff_id=handoff.id,
        case_number=handoff.case.number,
        kind=kind,
        actor=actor,
        at=clock.now(),
    )


async def sent(store: SqlStore, clock: FakeClock) -> list[str]:
    """The keys of the messages due now, which are then marked sent."""
    items = await store.claim(clock.now(), 10, LEASE)
    for item in items:
        await store.complete(item.id)
    return sorted(item.dedupe_key for item in items)


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


async def test_an_escalation_is_pending_with_its_cards_and_event_until_a_lead_decides(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], ana: Person, bo: Person
) -> None:
    handoff = a_handoff("320000001")
    await store.add(handoff, [request_event(handoff)])
    escalation = escalated(clock, ana, "320000001")
    asked = event(handoff, ana, "escalation_requested", clock)

    await store.add_escalation(escalation, [message("card-to-bo", clock)], [asked])

    assert await store.get_escalation(escalation.id) == escalation
    assert await store.pending_escalation("320000001") == escalation
    assert await sent(store, clock) == ["card-to-bo"]
    assert [e.kind for e in await store.history(handoff.id)] == [
        "requested",
        "escalation_requested",
    ]

    clock.advance(timedelta(minutes=5))
    approved = decide(escalation, "esc_approve", bo, "", clock.now())
    decided = event(handoff, bo, "escalation_approved", clock)
    await store.save_escalation(
        approved, escalation.version, [message("tell-ana", clock)], "card:bo:approve", [decided]
    )

    assert await store.pending_escalation("320000001") is None
    assert (await store.get_escalation(escalation.id)).state is EscalationState.APPROVED
    assert await store.key_claimed("card:bo:approve")
    assert await sent(store, clock) == ["tell-ana"]
    assert [e.kind for e in await store.history(handoff.id)][-1] == "escalation_approved"


async def test_a_second_decision_on_the_same_version_is_refused_and_writes_nothing(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], ana: Person, bo: Person
) -> None:
    handoff = a_handoff("320000002")
    await store.add(handoff, [request_event(handoff)])
    escalation = escalated(clock, ana, "320000002")
    await store.add_escalation(escalation)
    carol = Person(id="29:carol", name="Carol")
    approved = decide(escalation, "esc_approve", bo, "", clock.now())
    await store.save_escalation(approved, escalation.version)

    rejected = decide(escalation, "esc_reject", carol, "Try the quota first.", clock.now())
    late = event(handoff, carol, "escalation_rejected", clock)
    with pytest.raises(ConcurrencyConflict, match="320000002"):
        await store.save_escalation(
            rejected, escalation.version, [message("tell-ana", clock)], "card:carol", [late]
        )

    assert await store.get_escalation(escalation.id) == approved
    assert not await store.key_claimed("card:carol")
    assert await sent(store, clock) == []
    assert [e.kind for e in await store.history(handoff.id)] == ["requested"]


async def test_a_decision_whose_click_was_handled_before_writes_nothing(
    store: SqlStore, clock: FakeClock, ana: Person, bo: Person
) -> None:
    escalation = escalated(clock, ana, "320000003")
    await store.add_escalation(escalation)
    await store.claim_key("card:bo:approve")

    approved = decide(escalation, "esc_approve", bo, "", clock.now())
    with pytest.raises(AlreadyHandled):
        await store.save_escalation(
            approved, escalation.version, [message("tell-ana", clock)], "card:bo:approve"
        )

    assert await store.pending_escalation("320000003") == escalation
    assert await sent(store, clock) == []


async def test_an_unknown_escalation_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound, match="no-such-escalation"):
        await store.get_escalation("no-such-escalation")


async def test_each_leads_card_is_kept_once_and_replaced_when_sent_again(
    store: SqlStore, clock: FakeClock, ana: Person
) -> None:
    escalation = escalated(clock, ana, "320000004")
    await store.add_escalation(escalation)
    for card in (
        CardRef(conversation_id="a:tara", activity_id="1"),
        CardRef(conversation_id="a:uma", activity_id="2"),
        CardRef(conversation_id="a:tara", activity_id="3"),
    ):
        await store.add_escalation_card(escalation.id, card)

    cards = await store.escalation_cards(escalation.id)

    assert sorted(cards, key=lambda c: c.conversation_id) == [
        CardRef(conversation_id="a:tara", activity_id="3"),
        CardRef(conversation_id="a:uma", activity_id="2"),
    ]
    assert await store.escalation_of_card("1") is None
    assert await store.escalation_cards("no-such-escalation") == []
