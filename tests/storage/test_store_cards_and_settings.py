"""Contract tests of what the Case Transfer channel needs from storage, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from handoff.errors import ConcurrencyConflict
from handoff.models import AuditEntry, AuditKind, Handoff, Person
from handoff.ports import CardRef, OutboxMessage
from handoff.state_machine import Accept, Cancel, apply, request_event
from handoff.user_settings import UserSettings, changes
from storage.sql_store import SqlStore

from conftest import FakeClock


def message(key: str, clock: FakeClock) -> OutboxMessage:
    return OutboxMessage(kind="notify", payload={"k": key}, dedupe_key=key, not_before=clock.now())


async def test_card_reference_is_stored_and_replaced(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    handoff = a_handoff("300000001")
    await store.add(handoff, [request_event(handoff)])
    assert await store.card_of(handoff.id) is None
    await store.set_card(handoff.id, CardRef(conversation_id="19:ct", activity_id="1"))
    await store.set_card(handoff.id, CardRef(conversation_id="19:ct", activity_id="2"))
    assert await store.card_of(handoff.id) == CardRef(conversation_id="19:ct", activity_id="2")


def bound(channel: str, by: Person, clock: FakeClock) -> AuditEntry:
    return AuditEntry(kind=AuditKind.CHANNEL_BOUND, actor=by, at=clock.now(), subject=channel)


async def test_settings_round_trip_with_who_changed_them(
    store: SqlStore, clock: FakeClock, ana: Person, bo: Person
) -> None:
    assert await store.get_setting("case_transfer_channel_id") is None
    await store.set_setting("case_transfer_channel_id", "19:a", bound("19:a", ana, clock))
    clock.advance(timedelta(minutes=5))
    await store.set_setting("case_transfer_channel_id", "19:b", bound("19:b", bo, clock))
    assert await store.get_setting("case_transfer_channel_id") == "19:b"
    entries = await store.audit_entries()
    assert [(e.subject, e.actor, e.at) for e in entries] == [
        ("19:b", bo, clock.now()),
        ("19:a", ana, clock.now() - timedelta(minutes=5)),
    ], "newest first, with who and when"
    assert await store.audit_entries(limit=1) == entries[:1]


async def test_user_settings_are_saved_with_their_audit_entry(
    store: SqlStore, clock: FakeClock, ana: Person
) -> None:
    settings = UserSettings(person=ana, region="EMEA")
    changed = changes(None, settings)
    assert changed == {"region": {"from": "", "to": "EMEA"}}
    entry = AuditEntry(
        kind=AuditKind.SETTINGS_CHANGED, actor=ana, at=clock.now(), subject=ana.id, data=changed
    )
    await store.save_user_settings(settings, entry)
    assert await store.user_settings(ana.id) == settings
    assert await store.audit_entries() == [entry]


async def test_the_audit_log_is_append_only(store: SqlStore, clock: FakeClock, ana: Person) -> None:
    await store.set_setting("case_transfer_channel_id", "19:a", bound("19:a", ana, clock))
    for statement in ("UPDATE audit_log SET actor_id = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            await store.database.execute(statement)
    assert len(await store.audit_entries()) == 1


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
