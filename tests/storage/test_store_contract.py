"""The contract of SqlStore (HandoffRepository, ConversationStore, Outbox of handoff.ports),
run identically on SQLite and PostgreSQL through the parametrized `store` fixture."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest

from handoff.errors import ConcurrencyConflict, NotFound
from handoff.long_running import ChatMember, GroupChat, GroupChatState
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
)
from handoff.ports import (
    ConversationAddress,
    ConversationKind,
    DuplicateOpenHandoff,
    OutboxItem,
    OutboxState,
)
from handoff.state_machine import Accept, Cancel, RequestMoreInfo, apply, request_event
from storage.errors import StorageUnavailable
from storage.migrate import load_migrations, migrate
from storage.sql_store import SqlStore, open_store


class SteerableClock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> None: ...


REQUESTER = Person(id="29:requester", name="Ana Requester", aad_object_id="aad-requester")
ENGINEER = Person(id="29:engineer", name="Eli Engineer", aad_object_id="aad-engineer")

_case_numbers = iter(range(120_000_000_000_000, 130_000_000_000_000))


def make_handoff(
    clock: SteerableClock,
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


def full_notes(clock: SteerableClock) -> HandoffNotes:
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


async def add_new(store: SqlStore, clock: SteerableClock, **kwargs: Any) -> Handoff:
    handoff = make_handoff(clock, **kwargs)
    await store.add(handoff, [request_event(handoff)])
    return handoff


@pytest.fixture
async def second_store(database_url: str, clock: SteerableClock) -> AsyncIterator[SqlStore]:
    """Another store on the same database: what a second bot process would hold."""
    other = await open_store(database_url, clock)
    yield other
    await other.close()


# -- HandoffRepository ----------------------------------------------------------------------


async def test_add_then_get_returns_the_same_handoff(
    store: SqlStore, clock: SteerableClock
) -> None:
    handoff = make_handoff(clock, notes=full_notes(clock))
    await store.add(handoff, [request_event(handoff, conversation_id="19:channel")])

    loaded = await store.get(handoff.id)

    assert loaded == handoff
    assert loaded.notes.steps_tried[1].outcome == "No change"
    assert loaded.notes.next_customer_contact is not None
    assert loaded.notes.next_customer_contact.at.tzinfo is not None


async def test_text_with_control_characters_round_trips(
    store: SqlStore, clock: SteerableClock
) -> None:
    pasted = "line one\r\nline\ttwo \x00 NUL, emoji \U0001f680, quote ' and \" and ?"
    handoff = make_handoff(clock, notes=HandoffNotes(summary=pasted, issue="?, $1 and --"))
    await store.add(handoff, [request_event(handoff)])

    assert (await store.get(handoff.id)).notes.summary == pasted


async def test_get_of_an_unknown_id_raises_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound, match="no-such-id"):
        await store.get("no-such-id")


async def test_a_case_cannot_have_two_open_handoffs(store: SqlStore, clock: SteerableClock) -> None:
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
    store: SqlStore, clock: SteerableClock, closing: str
) -> None:
    first = await add_new(store, clock, case_number="223456789")
    command = Accept(actor=ENGINEER) if closing == "accept" else Cancel(actor=REQUESTER)
    closed = apply(first, command, clock.now())
    await store.save(closed.handoff, first.version, closed.events)

    clock.advance(timedelta(days=1))
    second = await add_new(store, clock, case_number="223456789")

    assert await store.open_for_case("223456789") == second
    assert (await store.get(first.id)).state is closed.handoff.state


async def test_adding_the_same_handoff_twice_is_refused(
    store: SqlStore, clock: SteerableClock
) -> None:
    handoff = await add_new(store, clock)
    with pytest.raises(ValueError, match=handoff.id):
        await store.add(handoff, [])


async def test_open_for_case_is_none_without_an_open_handoff(store: SqlStore) -> None:
    assert await store.open_for_case("999999999") is None


async def test_save_with_a_stale_version_conflicts_and_writes_nothing(
    store: SqlStore, clock: SteerableClock
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
    store: SqlStore, clock: SteerableClock
) -> None:
    never_added = make_handoff(clock)
    accepted = apply(never_added, Accept(actor=ENGINEER), clock.now())
    with pytest.raises(NotFound):
        await store.save(accepted.handoff, never_added.version, accepted.events)


async def test_save_refuses_a_version_that_does_not_move_forward(
    store: SqlStore, clock: SteerableClock
) -> None:
    handoff = await add_new(store, clock)
    with pytest.raises(ValueError, match="version"):
        await store.save(handoff, handoff.version, [])


async def test_twenty_people_accepting_at_once_give_exactly_one_owner(
    store: SqlStore, second_store: SqlStore, clock: SteerableClock
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
    store: SqlStore, clock: SteerableClock
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


async def test_events_cannot_be_changed_or_deleted(store: SqlStore, clock: SteerableClock) -> None:
    handoff = await add_new(store, clock)
    for statement in ("UPDATE handoff_events SET kind = 'x'", "DELETE FROM handoff_events"):
        with pytest.raises(Exception, match="append-only"):
            await store.database.execute(statement)
    assert len(await store.history(handoff.id)) == 1


async def test_list_open_filters_by_region_oldest_first_and_skips_closed(
    store: SqlStore, clock: SteerableClock
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


@pytest.mark.parametrize("state", list(HandoffState))
async def test_list_open_agrees_with_the_domain_on_what_is_open(
    store: SqlStore, clock: SteerableClock, state: HandoffState
) -> None:
    handoff = make_handoff(clock).model_copy(update={"state": state})
    await store.add(handoff, [])

    listed = [h.id for h in await store.list_open()]
    found = await store.open_for_case(handoff.case.number)

    assert (handoff.id in listed) is state.is_open
    assert (found is not None) is state.is_open


# -- ConversationStore ----------------------------------------------------------------------


def address(
    clock: SteerableClock,
    conversation_id: str,
    kind: ConversationKind,
    *,
    user: Person | None = None,
    channel_id: str | None = None,
    service_url: str = "https://smba.trafficmanager.net/emea/",
) -> ConversationAddress:
    return ConversationAddress(
        conversation_id=conversation_id,
        kind=kind,
        service_url=service_url,
        tenant_id="tenant-1",
        user=user,
        team_id="19:team@thread.tacv2" if channel_id else None,
        channel_id=channel_id,
        reference={"conversation": {"id": conversation_id}, "bot": {"id": "28:bot"}},
        updated_at=clock.now(),
    )


async def test_conversations_are_found_by_user_id_aad_id_and_channel(
    store: SqlStore, clock: SteerableClock
) -> None:
    personal = address(clock, "a:personal-1", ConversationKind.PERSONAL, user=ENGINEER)
    channel = address(clock, "19:transfer@thread.tacv2", ConversationKind.CHANNEL,
                      channel_id="19:transfer@thread.tacv2")  # fmt: skip
    group = address(clock, "19:group@thread.v2", ConversationKind.GROUP_CHAT, user=ENGINEER)
    for conversation in (personal, channel, group):
        await store.save_conversation(conversation)

    assert await store.get_conversation("a:personal-1") == personal
    assert await store.personal_conversation(ENGINEER.id) == personal
    assert await store.personal_conversation("aad-engineer") == personal
    assert await store.personal_conversation(REQUESTER.id) is None
    assert await store.channel_conversation("19:transfer@thread.tacv2") == channel
    assert await store.channel_conversation("19:other@thread.tacv2") is None
    assert await store.get_conversation("unknown") is None


async def test_saving_a_conversation_again_replaces_it(
    store: SqlStore, clock: SteerableClock
) -> None:
    await store.save_conversation(
        address(clock, "a:personal-1", ConversationKind.PERSONAL, user=ENGINEER)
    )
    clock.advance(timedelta(hours=1))
    moved_user = ENGINEER.model_copy(update={"aad_object_id": "aad-engineer-new"})
    newer = address(
        clock,
        "a:personal-1",
        ConversationKind.PERSONAL,
        user=moved_user,
        service_url="https://smba.trafficmanager.net/amer/",
    )
    await store.save_conversation(newer)

    assert await store.get_conversation("a:personal-1") == newer
    assert await store.personal_conversation("aad-engineer-new") == newer
    assert await store.personal_conversation("aad-engineer") is None


async def test_the_channel_itself_is_preferred_over_a_reply_thread(
    store: SqlStore, clock: SteerableClock
) -> None:
    channel_id = "19:transfer@thread.tacv2"
    root = address(clock, channel_id, ConversationKind.CHANNEL, channel_id=channel_id)
    await store.save_conversation(root)
    clock.advance(timedelta(minutes=1))
    thread = address(
        clock, f"{channel_id};messageid=1711", ConversationKind.CHANNEL, channel_id=channel_id
    )
    await store.save_conversation(thread)

    assert await store.channel_conversation(channel_id) == root


# -- Outbox ---------------------------------------------------------------------------------

LEASE = timedelta(seconds=30)


async def test_enqueue_ignores_a_repeated_dedupe_key(
    store: SqlStore, clock: SteerableClock
) -> None:
    payload = {"conversation_id": "19:x", "text": "Case 123456 was accepted", "n": [1, 2.5]}
    assert await store.enqueue("send", payload, "accept:msg-1:v2", clock.now()) is True
    assert await store.enqueue("send", {"other": True}, "accept:msg-1:v2", clock.now()) is False

    claimed = await store.claim(clock.now(), 10, LEASE)

    assert [(item.kind, item.payload, item.attempts) for item in claimed] == [("send", payload, 1)]
    assert claimed[0].state is OutboxState.PENDING
    assert claimed[0].dedupe_key == "accept:msg-1:v2"


async def test_claim_takes_only_due_items_oldest_first(
    store: SqlStore, clock: SteerableClock
) -> None:
    now = clock.now()
    await store.enqueue("send", {"n": 2}, "later", now + timedelta(minutes=5))
    await store.enqueue("send", {"n": 1}, "due-second", now - timedelta(seconds=1))
    await store.enqueue("send", {"n": 0}, "due-first", now - timedelta(minutes=1))

    first = await store.claim(now, 1, LEASE)
    rest = await store.claim(now, 10, LEASE)
    for item in first + rest:
        await store.complete(item.id)
    later = await store.claim(now + timedelta(minutes=5), 10, LEASE)

    assert [item.dedupe_key for item in first] == ["due-first"]
    assert [item.dedupe_key for item in rest] == ["due-second"]
    assert [item.dedupe_key for item in later] == ["later"]
    assert await store.claim(now, 0, LEASE) == []


async def test_an_item_whose_lease_ran_out_is_claimed_again(
    store: SqlStore, clock: SteerableClock
) -> None:
    now = clock.now()
    await store.enqueue("graph.create_chat", {"case": "123456"}, "chat:123456", now)
    (first,) = await store.claim(now, 10, LEASE)

    assert await store.claim(now + LEASE - timedelta(seconds=1), 10, LEASE) == []
    (again,) = await store.claim(now + LEASE, 10, LEASE)

    assert again.id == first.id
    assert (first.attempts, again.attempts) == (1, 2)


async def test_two_workers_never_claim_the_same_item(
    store: SqlStore, second_store: SqlStore, clock: SteerableClock
) -> None:
    now = clock.now()
    for i in range(40):
        await store.enqueue("send", {"i": i}, f"item-{i}", now - timedelta(seconds=i))

    async def drain(worker: SqlStore) -> list[int]:
        taken: list[int] = []
        while batch := await worker.claim(now, 3, LEASE):
            taken.extend(item.id for item in batch)
            await asyncio.sleep(0)
        return taken

    per_worker = await asyncio.gather(
        drain(store), drain(second_store), drain(store), drain(second_store)
    )

    everything = [item_id for taken in per_worker for item_id in taken]
    assert len(everything) == len(set(everything)) == 40


async def test_retry_later_complete_and_give_up(store: SqlStore, clock: SteerableClock) -> None:
    now = clock.now()
    for key in ("to-retry", "to-complete", "to-give-up"):
        await store.enqueue("send", {"key": key}, key, now)
    items = {item.dedupe_key: item for item in await store.claim(now, 10, LEASE)}

    retry_at = now + timedelta(minutes=2)
    await store.retry_later(items["to-retry"].id, retry_at, "429 Too Many Requests")
    await store.complete(items["to-complete"].id)
    await store.give_up(items["to-give-up"].id, "403 Forbidden: the bot was removed")

    after_leases = now + LEASE + timedelta(seconds=1)
    assert await store.claim(after_leases, 10, LEASE) == []
    (retried,) = await store.claim(retry_at, 10, LEASE)
    assert (retried.dedupe_key, retried.attempts) == ("to-retry", 2)
    assert retried.last_error == "429 Too Many Requests"
    assert retried.not_before == retry_at

    dead = await store.dead_letters()
    assert [(d.dedupe_key, d.state, d.last_error) for d in dead] == [
        ("to-give-up", OutboxState.DEAD, "403 Forbidden: the bot was removed")
    ]


async def test_a_worker_whose_lease_ran_out_cannot_undo_the_next_workers_result(
    store: SqlStore, clock: SteerableClock
) -> None:
    now = clock.now()
    await store.enqueue("send", {}, "slow", now)
    (slow,) = await store.claim(now, 1, LEASE)
    (fast,) = await store.claim(now + LEASE, 1, LEASE)
    await store.complete(fast.id)

    await store.retry_later(slow.id, now + LEASE, "timed out")
    await store.give_up(slow.id, "timed out")

    assert await store.claim(now + timedelta(hours=1), 10, LEASE) == []
    assert await store.dead_letters() == []


async def test_dead_letters_list_the_latest_first(store: SqlStore, clock: SteerableClock) -> None:
    for key in ("a", "b", "c"):
        await store.enqueue("send", {}, key, clock.now())
    items: list[OutboxItem] = await store.claim(clock.now(), 10, LEASE)
    for item in items:
        clock.advance(timedelta(seconds=1))
        await store.give_up(item.id, f"gave up on {item.dedupe_key}")

    assert [d.dedupe_key for d in await store.dead_letters()] == ["c", "b", "a"]
    assert [d.dedupe_key for d in await store.dead_letters(limit=1)] == ["c"]


async def test_enqueue_refuses_a_naive_time(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="time zone"):
        await store.enqueue("send", {}, "naive", datetime(2025, 1, 1))


# -- Migrations, restarts, readiness ---------------------------------------------------------


async def test_migrations_are_idempotent(
    store: SqlStore, second_store: SqlStore, clock: SteerableClock
) -> None:
    assert await migrate(store.database, clock) == []

    rows = await store.database.fetch_all(
        "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
    )

    known = load_migrations(store.database.dialect)
    assert [(row["version"], row["name"]) for row in rows] == [(m.version, m.name) for m in known]
    assert all(row["applied_at"] == clock.now() for row in rows)


async def test_both_dialects_have_the_same_migrations() -> None:
    sqlite = [(m.version, m.name) for m in load_migrations("sqlite")]
    postgresql = [(m.version, m.name) for m in load_migrations("postgresql")]
    assert sqlite == postgresql and sqlite


async def test_data_survives_a_restart(database_url: str, clock: SteerableClock) -> None:
    first = await open_store(database_url, clock)
    handoff = await add_new(first, clock, case_number="323456789")
    await first.enqueue("send", {"text": "hi"}, "restart-1", clock.now())
    await first.save_conversation(
        address(clock, "a:personal-1", ConversationKind.PERSONAL, user=ENGINEER)
    )
    await first.close()

    second = await open_store(database_url, clock)
    try:
        assert await second.get(handoff.id) == handoff
        assert [e.kind for e in await second.history(handoff.id)] == ["requested"]
        assert await second.personal_conversation(ENGINEER.id) is not None
        assert [i.dedupe_key for i in await second.claim(clock.now(), 10, LEASE)] == ["restart-1"]
    finally:
        await second.close()


async def test_ping_answers_while_open_and_fails_clearly_once_closed(
    database_url: str, clock: SteerableClock
) -> None:
    opened = await open_store(database_url, clock)
    await opened.ping()
    await opened.close()
    await opened.close()

    with pytest.raises(StorageUnavailable, match="closed"):
        await opened.ping()


async def test_timestamps_come_back_as_aware_utc(store: SqlStore, clock: SteerableClock) -> None:
    await add_new(store, clock)
    row = await store.database.fetch_one("SELECT created_at, updated_at FROM handoffs")

    assert row is not None
    assert row["created_at"] == clock.now()
    assert row["created_at"].utcoffset() == timedelta(0)


async def test_a_cancelled_transaction_leaves_nothing_and_the_database_usable(
    store: SqlStore, clock: SteerableClock
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
    # Cancelled while its BEGIN is still on the way to the database.
    at_begin = asyncio.create_task(store.enqueue("send", {}, "cancelled-at-begin", clock.now()))
    await asyncio.sleep(0)
    at_begin.cancel()
    with pytest.raises(asyncio.CancelledError):
        await at_begin

    assert await store.enqueue("send", {}, "after", clock.now()) is True
    assert await store.database.fetch_all("SELECT key FROM bot_state") == []


async def test_a_failed_group_chat_is_retried_once_from_where_it_stopped(store: SqlStore) -> None:
    member = ChatMember(aad_object_id="aad-1", name="Ana", region="EMEA")
    for case, chat_id, resumes_at in (
        ("1", None, GroupChatState.REQUESTED),
        ("2", "chat-2", GroupChatState.CREATED),
    ):
        await store.plan_group_chat(GroupChat(case_number=case, topic="t", members=(member,)))
        if chat_id:
            await store.update_group_chat(case, GroupChatState.CREATED, chat_id=chat_id)
        assert await store.retry_group_chat(case) is None, "only a failed chat is retried"
        await store.update_group_chat(case, GroupChatState.FAILED, error="403")
        retried = await store.retry_group_chat(case)
        assert retried is not None
        assert (retried.state, retried.chat_id, retried.last_error) == (resumes_at, chat_id, None)
        assert await store.retry_group_chat(case) is None, "a second retry at once loses"
