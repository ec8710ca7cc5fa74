"""The customer's next contact as the handoff carries it (handoff/notes/commitment.py): who holds
the promise in each state, when its reminder is due — at every hour of the day and across the
changes to and from summer time, in real elapsed minutes — and when it is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handoff.effects import CASE_TRANSFER_LANE, OutboxKind, chat_lane
from handoff.models import Handoff, HandoffNotes, NextContact, Person
from handoff.notes.commitment import (
    DEFAULT_NOTICE,
    holder,
    overdue_since,
    reminder_key,
    reminders,
    why_not_remind,
)
from handoff.request import new_handoff
from handoff.state_machine import (
    Accept,
    Cancel,
    EscalateToSme,
    RequestMoreInfo,
    SendBackToQueue,
    apply,
)

from harness import records

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
CY = Person(id="29:cy", name="Cy Lead", aad_object_id="aad-cy")
CASE = "2311230040001234"
NOTICE = timedelta(minutes=30)


def promising(
    at: datetime | None, created: datetime = T0, zone: str = "America/Chicago"
) -> Handoff:
    contact = NextContact(at=at, who_waits="Customer waits for our log analysis") if at else None
    notes = HandoffNotes(summary="Autoscale stops at 20 nodes.", next_customer_contact=contact)
    answers = records.answers(CASE, "EMEA", "US", notes=notes, customer_timezone=zone)
    return new_handoff(answers, records.PLACEHOLDER_OUTPUTS, ANA, created)


def kinds(handoff: Handoff, at: datetime, **options: bool) -> dict[str, datetime]:
    return {m.kind: m.not_before for m in reminders(handoff, at, NOTICE, **options)}


# --- who holds the promise ------------------------------------------------------------------


def test_the_requester_holds_it_while_the_handoff_waits_and_the_owner_once_accepted() -> None:
    handoff = promising(T0 + timedelta(hours=5))
    assert holder(handoff) == ANA
    asked = apply(handoff, RequestMoreInfo(actor=BO, question="Logs?"), T0).handoff
    escalated = apply(handoff, EscalateToSme(actor=BO), T0).handoff
    queued = apply(handoff, SendBackToQueue(actor=ANA, reason="end of day"), T0).handoff
    for waiting in (asked, escalated, queued):
        assert holder(waiting) == ANA, waiting.state
    assert holder(apply(handoff, Accept(actor=BO), T0).handoff) == BO
    assert holder(apply(handoff, Cancel(actor=ANA), T0).handoff) is None


# --- when the reminder is due ---------------------------------------------------------------


def test_the_reminder_comes_the_notice_before_and_the_card_is_updated_at_the_time() -> None:
    contact = T0 + timedelta(hours=5)
    handoff = promising(contact)
    [reminder, card] = reminders(handoff, T0, NOTICE)
    assert reminder.kind == OutboxKind.COMMITMENT_REMINDER
    assert reminder.not_before == contact - NOTICE
    assert reminder.lane == chat_lane(ANA)
    assert reminder.payload == {
        "handoff_id": handoff.id,
        "person": ANA.model_dump(),
        "contact_at": contact.isoformat(),
    }
    promised = handoff.notes.next_customer_contact
    assert promised is not None
    assert reminder.dedupe_key == reminder_key(handoff, promised, ANA)
    # The channel's card is brought up to date when the time comes: it then says overdue.
    assert (card.kind, card.not_before, card.lane) == (
        OutboxKind.UPDATE_CARD,
        contact,
        CASE_TRANSFER_LANE,
    )
    assert DEFAULT_NOTICE == NOTICE


def test_a_contact_nearer_than_the_notice_is_reminded_at_once() -> None:
    handoff = promising(T0 + timedelta(minutes=10))
    assert kinds(handoff, T0)[OutboxKind.COMMITMENT_REMINDER] == T0


@pytest.mark.parametrize("hour", range(24))
@pytest.mark.parametrize("zone", ["Europe/London", "America/Los_Angeles", "Asia/Kolkata"])
def test_at_every_hour_of_the_day_the_reminder_comes_thirty_real_minutes_before(
    hour: int, zone: str
) -> None:
    # A plain Wednesday, promised on the Tuesday before.
    local = datetime(2026, 11, 25, hour, 15, tzinfo=ZoneInfo(zone))
    handoff = promising(local, zone=zone)
    due = kinds(handoff, T0)[OutboxKind.COMMITMENT_REMINDER]
    assert local - due == NOTICE
    assert due.astimezone(ZoneInfo(zone)).strftime("%H:%M") == ((local - NOTICE).strftime("%H:%M"))


def test_across_the_change_to_summer_time_the_reminder_keeps_thirty_real_minutes() -> None:
    # Los Angeles, Sunday 2026-03-08: 02:00 PST becomes 03:00 PDT. A contact at 03:15 PDT is
    # reminded at 01:45 PST on the wall clock: an hour and a half apart there, thirty minutes
    # apart in time.
    la = ZoneInfo("America/Los_Angeles")
    contact = datetime(2026, 3, 8, 3, 15, tzinfo=la)
    handoff = promising(contact, created=datetime(2026, 3, 7, 12, 0, tzinfo=UTC))
    due = kinds(handoff, datetime(2026, 3, 7, 12, 0, tzinfo=UTC))[OutboxKind.COMMITMENT_REMINDER]
    assert contact - due == NOTICE
    assert due.astimezone(la).strftime("%H:%M %Z") == "01:45 PST"


@pytest.mark.parametrize(
    ("local", "expected_utc", "reminded_local"),
    [
        # London, Sunday 2026-03-29: the clocks go forward at 01:00 GMT, so 01:30 never shows on
        # them; read as the notes form reads it (the offset before the change), it is 01:30
        # UTC, which the clocks call 02:30 BST; the reminder is at 02:00 BST.
        (datetime(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "02:00 BST"),
        # London, Sunday 2026-10-25: 01:30 happens twice; the first (BST) is the one meant.
        (datetime(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "01:00 BST"),
    ],
)
def test_a_contact_at_half_past_one_on_the_night_the_clocks_change(
    local: datetime, expected_utc: datetime, reminded_local: str
) -> None:
    london = ZoneInfo("Europe/London")
    contact = local.replace(tzinfo=london)  # what cards/notes_form.py makes of the form
    created = expected_utc - timedelta(hours=6)
    handoff = promising(contact, created=created, zone="Europe/London")
    assert handoff.notes.next_customer_contact is not None
    assert handoff.notes.next_customer_contact.at == expected_utc
    due = kinds(handoff, created)[OutboxKind.COMMITMENT_REMINDER]
    assert expected_utc - due == NOTICE
    assert due.astimezone(london).strftime("%H:%M %Z") == reminded_local


def test_no_next_contact_or_one_already_past_gets_no_reminder() -> None:
    assert reminders(promising(None), T0, NOTICE) == []
    assert reminders(promising(T0 - timedelta(minutes=1)), T0, NOTICE) == []
    # Exactly now is no longer ahead: there is nothing left to remind before.
    assert reminders(promising(T0), T0, NOTICE) == []


def test_a_new_owner_hears_at_once_of_a_promise_already_past() -> None:
    handoff = promising(T0 + timedelta(minutes=20))
    later = T0 + timedelta(hours=1)
    taken = apply(handoff, Accept(actor=BO), later).handoff
    assert kinds(taken, later, taken=True) == {OutboxKind.COMMITMENT_REMINDER: later}
    [reminder] = reminders(taken, later, NOTICE, taken=True)
    assert reminder.payload["person"]["id"] == BO.id
    assert reminder.lane == chat_lane(BO)


def test_accepted_in_time_the_owner_gets_their_own_reminder_and_the_card_no_update() -> None:
    handoff = promising(T0 + timedelta(hours=5))
    taken = apply(handoff, Accept(actor=BO), T0 + timedelta(minutes=5)).handoff
    [reminder] = reminders(taken, T0 + timedelta(minutes=5), NOTICE, taken=True)
    assert reminder.dedupe_key != reminders(handoff, T0, NOTICE)[0].dedupe_key
    assert reminder.not_before == T0 + timedelta(hours=5) - NOTICE


def test_a_cancelled_handoff_plans_nothing() -> None:
    cancelled = apply(promising(T0 + timedelta(hours=5)), Cancel(actor=ANA), T0).handoff
    assert reminders(cancelled, T0, NOTICE) == []


# --- whether a planned reminder still holds -------------------------------------------------


def test_a_reminder_holds_for_the_same_time_holder_and_latest_handoff_only() -> None:
    contact = T0 + timedelta(hours=5)
    handoff = promising(contact)
    assert why_not_remind(handoff, ANA, contact, handoff.id) is None
    assert why_not_remind(handoff, ANA, contact, None) is None
    moved = contact + timedelta(hours=1)
    assert why_not_remind(handoff, ANA, moved, handoff.id) == (
        "the notes give another next contact now"
    )
    taken = apply(handoff, Accept(actor=BO), T0).handoff
    assert why_not_remind(taken, ANA, contact, taken.id) == "the case changed hands"
    assert why_not_remind(taken, BO, contact, taken.id) is None
    assert why_not_remind(taken, BO, contact, "a-later-handoff") == (
        "a later handoff of the case carries its promise"
    )
    cancelled = apply(handoff, Cancel(actor=ANA), T0).handoff
    assert why_not_remind(cancelled, ANA, contact, cancelled.id) == "the handoff was cancelled"
    unpromised = handoff.model_copy(update={"notes": HandoffNotes(summary="s")})
    assert why_not_remind(unpromised, ANA, contact, handoff.id) is not None
    # The time as it comes back from the outbox's JSON, in another zone: the same instant.
    berlin = contact.astimezone(ZoneInfo("Europe/Berlin"))
    assert why_not_remind(handoff, ANA, berlin, handoff.id) is None


# --- overdue --------------------------------------------------------------------------------


def test_overdue_from_the_promised_time_while_the_handoff_waits() -> None:
    contact = T0 + timedelta(hours=1)
    handoff = promising(contact)
    assert overdue_since(handoff, contact - timedelta(seconds=1)) is None
    assert overdue_since(handoff, contact) == contact
    assert overdue_since(handoff, contact + timedelta(days=3)) == contact
    queued = apply(handoff, SendBackToQueue(actor=ANA, reason="end of day"), T0).handoff
    assert overdue_since(queued, contact + timedelta(minutes=1)) == contact
    assert overdue_since(promising(None), contact) is None


def test_not_overdue_once_someone_took_the_case_or_it_was_cancelled() -> None:
    contact = T0 + timedelta(hours=1)
    handoff = promising(contact)
    taken = apply(handoff, Accept(actor=CY), T0).handoff
    cancelled = apply(handoff, Cancel(actor=ANA), T0).handoff
    assert overdue_since(taken, contact + timedelta(minutes=1)) is None
    assert overdue_since(cancelled, contact + timedelta(minutes=1)) is None
