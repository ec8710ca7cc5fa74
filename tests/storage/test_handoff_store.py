"""HandoffRepository (storage.handoff_store) on SQLite and PostgreSQL through the parametrized
`store` fixture: handoffs, their history, their cards, and the outbox messages and idempotency
key written in the same transaction as each change."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.errors import ConcurrencyConflict, NotFound
from handoff.models import (
    Case,
    Checklist,
    Handoff,
    HandoffKind,
    HandoffNotes,
    HandoffState,
    NextContact,
    PendingOn,
    Person,
    Severity,
    StepTried,
    SupportPlan,
    latest_of,
)
from handoff.ports import AlreadyHandled, CardRef, DuplicateOpenHandoff, OutboxMessage
from handoff.state_machine import Accept, Cancel, RequestMoreInfo, apply, request_event
from storage.handoff_store import IS_OPEN
from storage.sql_store import SqlStore

from conftest import FakeClock

REQUESTER = Person(id="29:requester", name="Ana Requester", aad_object_id="aad-requester")


ENGINEER = Person(id="29:engineer", name="Eli Engineer", aad_object_id="aad-engineer")


_case_numbers = iter(range(120_000_000_000_000, 130_000_000_000_000))


def make_handoff(
    clock: FakeClock,
    *,
    case_number: str | None = None,
    target_region: str = "EMEA",
    notes: HandoffNotes | None = None,
) -> Handoff:
    now = clock.now()
    return Handoff(
        case=Case(
            number=case_number or str(next(_case_numbers)),
            severity=Severity.A,
            is_24x7=True,
            plan=SupportPlan.PREMIER,
            product_skill="Azure Data Explorer",
            customer_region="US",
            customer_timezone="America/Los_Angeles",
            pending_on=PendingOn.CSS,
        ),
        kind=HandoffKind.CRITICAL_24X7,
        requester=REQUESTER,
        from_region="US",
        target_region=target_region,
        reason="End of shift; the customer needs continuous work.",
        notes=notes or HandoffNotes(summary="Cluster ingestion stalls."),
        created_at=now,
        updated_at=now,
    )


def full_notes(clock: FakeClock) -> HandoffNotes:
    return HandoffNotes(
        summary="Ingestion into the cluster stalls every hour.",
        issue="Queued ingestion backs up after the hourly export.",
        steps_tried=(
            StepTried(step="Restarted the ingestion service", outcome="Stalled again at :00"),
            StepTried(step="Raised the queue limit", outcome="No change"),
        ),
        next_steps_customer=("Send the export job's schedule",),
        next_steps_us=("Check the capacity policy", "Ask PG about the hourly spike"),
        icm_or_partner_ticket="ICM-123456",
        research=("https://learn.microsoft.com/ingestion", "Known issue 42"),
        checklist=Checklist(
            customer_reachable=True,
            waiting_for_rca=False,
            accepts_english=True,
            pending_on=PendingOn.PG,
            icm_id="123456",
            critsit_reason="Production down",
        ),
        next_customer_contact=NextContact(
            at=clock.now() + timedelta(hours=3), who_waits="the customer waits for our update"
        ),
        root_cause=None,
        blockers="Waiting for PG",
        sla_urgency="Sev A, 1 h update cadence",
    )


async def add_new(store: SqlStore, clock: FakeClock, **kwargs: Any) -> Handoff:
    handoff = make_handoff(clock, **kwargs)
    await store.add(handoff, [request_event(handoff)])
    return handoff


async def test_add_then_get_returns_the_same_handoff(store: SqlStore, clock: FakeClock) -> None:
    handoff = make_handoff(clock, notes=full_notes(clock))
    await store.add(handoff, [request_event(handoff, conversation_id="19:channel")])

    loaded = await store.get(handoff.id)

    assert loaded == handoff
    assert loaded.notes.steps_tried[1].outcome == "No change"
    assert loaded.notes.next_customer_contact is not None
    assert loaded.notes.next_customer_contact.at.tzinfo is not None


async def test_text_with_control_characters_round_trips(store: SqlStore, clock: FakeClock) -> None:
    pasted = "line one\r\nline\ttwo \x00 NUL, emoji \U0001f680, quote ' and \" and ?"
    handoff = make_handoff(clock, notes=HandoffNotes(summary=pasted, issue="?, $1 and --"))
    await store.add(handoff, [request_event(handoff)])

    assert (await store.get(handoff.id)).notes.summary == pasted


async def test_get_of_an_unknown_id_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound, match="no-such-id"):
        await store.get("no-such-id")


async def test_a_case_cannot_have_two_open_handoffs(store: SqlStore, clock: FakeClock) -> None:
    first = await add_new(store, clock, case_number="123456789")
    second = make_handoff(clock, case_number="123456789")

    with pytest.raises(DuplicateOpenHandoff, match="123456789"):
        await store.add(second, [request_event(second)])

    with pytest.raises(NotFound):
        await store.get(second.id)
    assert await store.history(second.id) == []
    assert await store.open_for_case("123456789") == first


@pytest.mark.parametrize("closing", ["accept", "cancel"])
async def test_a_new_handoff_is_allowed_once_the_first_is_closed(
    store: SqlStore, clock: FakeClock, closing: str
) -> None:
    first = await add_new(store, clock, case_number="223456789")
    command = Accept(actor=ENGINEER) if closing == "accept" else Cancel(actor=REQUESTER)
    closed = apply(first, command, clock.now())
    await store.save(closed.handoff, first.version, closed.events)

    clock.advance(timedelta(days=1))
    second = await add_new(store, clock, case_number="223456789")

    assert await store.open_for_case("223456789") == second
    assert (await store.get(first.id)).state is closed.handoff.state


async def test_adding_the_same_handoff_twice_is_refused(store: SqlStore, clock: FakeClock) -> None:
    handoff = await add_new(store, clock)
    with pytest.raises(ValueError, match=handoff.id):
        await store.add(handoff, [])


async def test_open_for_case_is_none_without_an_open_handoff(store: SqlStore) -> None:
    assert await store.open_for_case("999999999") is None


async def test_save_with_a_stale_version_conflicts_and_writes_nothing(
    store: SqlStore, clock: FakeClock
) -> None:
    original = await add_new(store, clock)
    clock.advance(timedelta(minutes=5))
    asked = apply(original, RequestMoreInfo(actor=ENGINEER, question="Which export?"), clock.now())
    await store.save(asked.handoff, original.version, asked.events)
    after_first_save = await store.get(original.id)

    clock.advance(timedelta(minutes=5))
    stale = apply(original, Accept(actor=ENGINEER), clock.now())
    with pytest.raises(ConcurrencyConflict, match=original.case.number) as raised:
        await store.save(stale.handoff, original.version, stale.events)

    assert "reload" in str(raised.value)
    assert await store.get(original.id) == after_first_save == asked.handoff
    history = await store.history(original.id)
    assert [event.kind for event in history] == ["requested", "more_info"]


async def test_save_of_an_unknown_handoff_raises_not_found(
    store: SqlStore, clock: FakeClock
) -> None:
    never_added = make_handoff(clock)
    accepted = apply(never_added, Accept(actor=ENGINEER), clock.now())
    with pytest.raises(NotFound):
        await store.save(accepted.handoff, never_added.version, accepted.events)


async def test_save_refuses_a_version_that_does_not_move_forward(
    store: SqlStore, clock: FakeClock
) -> None:
    handoff = await add_new(store, clock)
    with pytest.raises(ValueError, match="version"):
        await store.save(handoff, handoff.version, [])


async def test_twenty_people_accepting_at_once_give_exactly_one_owner(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    handoff = await add_new(store, clock)
    loaded = await store.get(handoff.id)

    async def accept(i: int) -> str | None:
        # Alternating between two stores is two bot processes sharing the database.
        repository = store if i % 2 else second_store
        person = Person(id=f"29:engineer-{i}", name=f"Engineer {i}")
        transition = apply(loaded, Accept(actor=person), clock.now())
        try:
            await repository.save(transition.handoff, loaded.version, transition.events)
        except ConcurrencyConflict:
            return None
        return person.id

    outcomes = await asyncio.gather(*(accept(i) for i in range(20)))

    winners = [who for who in outcomes if who is not None]
    assert len(winners) == 1
    stored = await second_store.get(handoff.id)
    assert stored.owner is not None and stored.owner.id == winners[0]
    assert stored.state is HandoffState.ACCEPTED and stored.version == loaded.version + 1
    history = await store.history(handoff.id)
    assert [event.kind for event in history] == ["requested", "accept"]
    assert history[1].actor.id == winners[0]


async def test_history_lists_events_in_the_order_they_happened(
    store: SqlStore, clock: FakeClock
) -> None:
    handoff = await add_new(store, clock)
    current = handoff
    for command in (
        RequestMoreInfo(actor=ENGINEER, question="Which export job?"),
        Cancel(actor=REQUESTER, reason="Customer closed the case"),
    ):
        clock.advance(timedelta(minutes=1))
        transition = apply(current, command, clock.now())
        await store.save(transition.handoff, current.version, transition.events)
        current = transition.handoff

    history = await store.history(handoff.id)

    assert [event.kind for event in history] == ["requested", "more_info", "cancel"]
    assert [event.at for event in history] == sorted(event.at for event in history)
    assert history[1].data == {"question": "Which export job?"}
    assert await store.history("unknown") == []


async def test_events_cannot_be_changed_or_deleted(store: SqlStore, clock: FakeClock) -> None:
    handoff = await add_new(store, clock)
    for statement in ("UPDATE handoff_events SET kind = 'x'", "DELETE FROM handoff_events"):
        with pytest.raises(Exception, match="append-only"):
            await store.database.execute(statement)
    assert len(await store.history(handoff.id)) == 1


async def test_list_open_filters_by_region_oldest_first_and_skips_closed(
    store: SqlStore, clock: FakeClock
) -> None:
    newer_emea = await add_new(store, clock, target_region="EMEA")
    clock.advance(timedelta(minutes=1))
    apac = await add_new(store, clock, target_region="APAC")
    clock.advance(timedelta(minutes=1))
    accepted = await add_new(store, clock, target_region="EMEA")
    done = apply(accepted, Accept(actor=ENGINEER), clock.now())
    await store.save(done.handoff, accepted.version, done.events)
    clock.advance(timedelta(minutes=1))
    newest_emea = await add_new(store, clock, target_region="EMEA")
    oldest_emea = make_handoff(clock, target_region="EMEA").model_copy(
        update={"created_at": datetime(2025, 3, 1, tzinfo=UTC)}
    )
    await store.add(oldest_emea, [request_event(oldest_emea)])

    emea = await store.list_open("EMEA")
    everything = await store.list_open()

    assert [h.id for h in emea] == [oldest_emea.id, newer_emea.id, newest_emea.id]
    assert [h.id for h in everything] == [oldest_emea.id, newer_emea.id, apac.id, newest_emea.id]
    assert [h.id for h in await store.list_open("EMEA", limit=2)] == [
        oldest_emea.id,
        newer_emea.id,
    ]
    assert await store.list_open("US") == []


async def test_list_open_pages_after_a_handoff_each_once_ties_broken_by_id(
    store: SqlStore, clock: FakeClock
) -> None:
    same_instant = [await add_new(store, clock, target_region="EMEA") for _ in range(3)]
    clock.advance(timedelta(minutes=1))
    later = [await add_new(store, clock, target_region="APAC") for _ in range(2)]
    expected = sorted(same_instant, key=lambda h: h.id) + sorted(later, key=lambda h: h.id)

    pages: list[list[str]] = []
    after: Handoff | None = None
    while page := await store.list_open(None, limit=2, after=after):
        pages.append([h.id for h in page])
        after = page[-1]

    assert pages == [[h.id for h in expected[i : i + 2]] for i in range(0, 5, 2)]
    assert [h.id for h in await store.list_open("EMEA", after=same_instant[0])] == [
        h.id for h in sorted(same_instant, key=lambda h: h.id) if h.id > same_instant[0].id
    ]


@pytest.mark.parametrize("state", list(HandoffState))
async def test_list_open_agrees_with_the_domain_on_what_is_open(
    store: SqlStore, clock: FakeClock, state: HandoffState
) -> None:
    handoff = make_handoff(clock).model_copy(update={"state": state})
    await store.add(handoff, [])

    listed = [h.id for h in await store.list_open()]
    found = await store.open_for_case(handoff.case.number)

    assert (handoff.id in listed) is state.is_open
    assert (found is not None) is state.is_open


async def test_latest_for_case_prefers_the_open_handoff(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], bo: Person
) -> None:
    first = a_handoff("300000003")
    await store.add(first, [request_event(first)])
    done = apply(first, Accept(actor=bo), clock.now())
    await store.save(done.handoff, first.version, done.events)
    clock.advance(timedelta(hours=1))
    second = a_handoff("300000003")
    await store.add(second, [request_event(second)])
    latest = await store.latest_for_case("300000003")
    assert latest is not None and latest.id == second.id
    assert await store.latest_for_case("399999999") is None


async def test_the_latest_handoff_is_the_same_read_alone_or_picked_from_the_case(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    """`status` picks it from all of the case's handoffs (latest_of); the rest of the bot
    asks the database (latest_for_case): an open handoff wins over a newer closed one, and
    with none open the newest wins."""
    case = "300000009"
    older = a_handoff(case)
    newer = a_handoff(case).model_copy(
        update={"state": HandoffState.CANCELLED, "created_at": clock.now() + timedelta(hours=1)}
    )
    for handoff in (newer, older):
        await store.add(handoff, [request_event(handoff)])

    async def both() -> list[str | None]:
        alone = await store.latest_for_case(case)
        picked = latest_of(await store.for_case(case))
        return [alone.id if alone else None, picked.id if picked else None]

    assert await both() == [older.id, older.id]
    cancelled = older.model_copy(update={"state": HandoffState.CANCELLED, "version": 2})
    await store.save(cancelled, older.version, [])
    assert await both() == [newer.id, newer.id]
    assert latest_of([]) is None


async def test_involving_lists_what_someone_requested_or_took(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], ana: Person, bo: Person
) -> None:
    mine = a_handoff("300000004", requester=ana)
    theirs = a_handoff("300000005", requester=bo)
    for handoff in (mine, theirs):
        await store.add(handoff, [request_event(handoff)])
    clock.advance(timedelta(minutes=5))
    taken = apply(theirs, Accept(actor=ana), clock.now())
    await store.save(taken.handoff, theirs.version, taken.events)
    assert [h.case.number for h in await store.involving(ana.id)] == ["300000005", "300000004"]
    assert [h.case.number for h in await store.involving(bo.id)] == ["300000005"]


async def test_involving_merges_requested_and_taken_newest_first(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], ana: Person, bo: Person
) -> None:
    # Ana asks for three and takes two of Bo's, changes a minute apart, alternating between
    # what she asked for and what she took.
    for number in ("300000010", "300000011", "300000012", "300000013", "300000014"):
        requester = bo if number in ("300000011", "300000013") else ana
        handoff = a_handoff(number, requester=requester)
        await store.add(handoff, [request_event(handoff)])
        clock.advance(timedelta(minutes=1))
        if requester is bo:
            taken = apply(handoff, Accept(actor=ana), clock.now())
            await store.save(taken.handoff, handoff.version, taken.events)
            clock.advance(timedelta(minutes=1))
    newest_first = ["300000014", "300000013", "300000012", "300000011", "300000010"]
    assert [h.case.number for h in await store.involving(ana.id)] == newest_first
    for limit in (0, 1, 3):
        shown = await store.involving(ana.id, limit=limit)
        assert [h.case.number for h in shown] == newest_first[:limit]


async def test_card_reference_is_stored_and_replaced(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    handoff = a_handoff("300000001")
    await store.add(handoff, [request_event(handoff)])
    assert await store.card_of(handoff.id) is None
    await store.set_card(handoff.id, CardRef(conversation_id="19:ct", activity_id="1"))
    await store.set_card(handoff.id, CardRef(conversation_id="19:ct", activity_id="2"))
    assert await store.card_of(handoff.id) == CardRef(conversation_id="19:ct", activity_id="2")


async def test_the_handoff_of_a_posted_card_is_found_by_its_message(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    handoff = a_handoff("310000003")
    await store.add(handoff, [request_event(handoff)])
    await store.set_card(handoff.id, CardRef(conversation_id="19:ct", activity_id="1700"))
    assert await store.handoff_of_card("1700") == handoff.id
    assert await store.handoff_of_card("1701") is None


async def test_a_handoff_is_read_with_its_card_in_one_go(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    handoff = a_handoff("310000004")
    await store.add(handoff, [request_event(handoff)])
    assert await store.with_card(handoff.id) == (handoff, None)
    card = CardRef(conversation_id="19:ct", activity_id="1800")
    await store.set_card(handoff.id, card)
    assert await store.with_card(handoff.id) == (handoff, card)
    with pytest.raises(NotFound):
        await store.with_card("no-such-handoff")


def message(key: str, clock: FakeClock) -> OutboxMessage:
    return OutboxMessage(kind="notify", payload={"k": key}, dedupe_key=key, not_before=clock.now())


async def test_outbox_messages_are_written_with_the_change_or_not_at_all(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], ana: Person, bo: Person
) -> None:
    handoff = a_handoff("300000002")
    await store.add(handoff, [request_event(handoff)], [message("post-1", clock)])
    moved = apply(handoff, Accept(actor=bo), clock.now())
    await store.save(moved.handoff, handoff.version, moved.events, [message("card-2", clock)])
    stale = apply(handoff, Cancel(actor=ana), clock.now())
    try:
        await store.save(stale.handoff, handoff.version, stale.events, [message("card-x", clock)])
    except ConcurrencyConflict:
        pass
    else:
        raise AssertionError("a stale save must conflict")
    claimed = await store.claim(clock.now(), 10, timedelta(seconds=30))
    assert sorted(item.dedupe_key for item in claimed) == ["card-2", "post-1"]


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


async def test_a_refused_add_writes_neither_its_events_nor_its_messages(
    store: SqlStore, clock: FakeClock
) -> None:
    await add_new(store, clock, case_number="423456789")
    second = make_handoff(clock, case_number="423456789")

    with pytest.raises(DuplicateOpenHandoff):
        await store.add(second, [request_event(second)], [message("told-twice", clock)])

    assert await store.history(second.id) == []
    assert await store.claim(clock.now(), 10, timedelta(seconds=30)) == []


async def test_reopening_a_handoff_while_its_case_has_another_open_one_is_refused(
    store: SqlStore, clock: FakeClock
) -> None:
    first = await add_new(store, clock, case_number="523456789")
    closed = apply(first, Cancel(actor=REQUESTER), clock.now())
    await store.save(closed.handoff, first.version, closed.events)
    await add_new(store, clock, case_number="523456789")
    reopened = closed.handoff.model_copy(
        update={"state": HandoffState.REQUESTED, "version": closed.handoff.version + 1}
    )

    with pytest.raises(DuplicateOpenHandoff, match="523456789"):
        await store.save(reopened, closed.handoff.version, [])

    assert await store.get(first.id) == closed.handoff


async def test_for_case_lists_every_handoff_of_the_case_oldest_first(
    store: SqlStore, clock: FakeClock
) -> None:
    first = await add_new(store, clock, case_number="623456789")
    accepted = apply(first, Accept(actor=ENGINEER), clock.now())
    await store.save(accepted.handoff, first.version, accepted.events)
    clock.advance(timedelta(hours=2))
    second = await add_new(store, clock, case_number="623456789")
    await add_new(store, clock, case_number="723456789")

    assert [h.id for h in await store.for_case("623456789")] == [first.id, second.id]
    assert await store.for_case("999999998") == []


async def test_list_open_refuses_a_negative_limit(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.list_open(limit=-1)


def test_the_open_states_in_sql_are_the_domains() -> None:
    """Which states are open is stated once (HandoffState.is_open); the store's queries and the
    migrations' partial indexes must say the same, or queries stop using the indexes."""
    assert IS_OPEN == "state NOT IN ('accepted', 'cancelled')"
    migrations = Path(__file__).resolve().parents[2] / "storage" / "migrations"
    for sql in sorted(migrations.glob("*/0001_init.sql")):
        predicates = re.findall(r"WHERE (state NOT IN \([^)]*\))", sql.read_text())
        assert predicates and set(predicates) == {IS_OPEN}, sql
