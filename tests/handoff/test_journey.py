"""A case's journey from its handoffs and their accept events, at hand-checked durations:
elapsed time across daylight saving changes, no hop for a handoff sent back to the queue or
cancelled, the person who took a handoff instead of the one it named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from handoff.journey import Journey, Waiting, accepted_at, case_journey
from handoff.models import AuditEvent, Handoff, Person
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

CASE = "2311230040001234"
ANA = Person(id="29:ana", name="Ana Chen")
BO = Person(id="29:bo", name="Bo Receiver")
CHEN = Person(id="29:chen", name="Chen Wei")
DANA = Person(id="29:dana", name="Dana Named")
BERLIN = ZoneInfo("Europe/Berlin")


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def leg(origin: str, target: str, requester: Person, when: datetime) -> Handoff:
    answers = records.answers(CASE, origin, target)
    return new_handoff(answers, records.PLACEHOLDER_OUTPUTS, requester, when)


def taken(handoff: Handoff, actor: Person, when: datetime) -> tuple[Handoff, list[AuditEvent]]:
    moved = apply(handoff, Accept(actor=actor), when)
    return moved.handoff, list(moved.events)


def summary(journey: Journey) -> list[tuple[str, str, timedelta, bool]]:
    return [(h.region, h.owner.name, h.spent, h.current) for h in journey.hops]


def test_each_accept_starts_a_hop_that_lasts_until_the_next_one_or_now() -> None:
    first, events = taken(leg("EMEA", "US", ANA, at(8)), BO, at(17, 12))
    second, more = taken(leg("US", "APAC", BO, at(19)), CHEN, at(20, 17))
    journey = case_journey([second, first], [*more, *events], at(21, 57))
    assert summary(journey) == [
        ("EMEA", "Ana Chen", timedelta(hours=9, minutes=12), False),
        ("US", "Bo Receiver", timedelta(hours=3, minutes=5), False),
        ("APAC", "Chen Wei", timedelta(hours=1, minutes=40), True),
    ]
    assert [(h.start, h.end) for h in journey.hops] == [
        (at(8), at(17, 12)),
        (at(17, 12), at(20, 17)),
        (at(20, 17), None),
    ]
    assert journey.waiting is None and journey.worth_showing


def test_durations_are_elapsed_time_across_daylight_saving_changes() -> None:
    # Berlin springs forward at 02:00 on 29 March 2026 and falls back at 03:00 on 25 October:
    # 22:00 to 08:00 across the spring night is 9 hours, 01:30 to 04:30 across the autumn
    # one is 4 hours, though the clocks on the wall say 10 and 3.
    spring = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)
    first, events = taken(
        leg("EMEA", "US", ANA, spring), BO, datetime(2026, 3, 29, 8, 0, tzinfo=BERLIN)
    )
    autumn = datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN)
    second, more = taken(leg("US", "EMEA", BO, autumn - timedelta(hours=1)), CHEN, autumn)
    now = datetime(2026, 10, 25, 4, 30, tzinfo=BERLIN)
    journey = case_journey([first, second], [*events, *more], now)
    emea, us, back = journey.hops
    assert emea.spent == timedelta(hours=9)
    assert back.spent == timedelta(hours=4) and back.current
    assert us.start == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert us.spent == autumn - datetime(2026, 3, 29, 8, 0, tzinfo=BERLIN)


def test_a_handoff_sent_back_to_the_queue_and_cancelled_moves_nobody() -> None:
    bounced = leg("EMEA", "US", ANA, at(8))
    back = apply(bounced, SendBackToQueue(actor=ANA, reason="US is at a summit"), at(9))
    cancelled = apply(back.handoff, Cancel(actor=ANA, reason="APAC takes it"), at(9, 30))
    next_leg, events = taken(leg("EMEA", "APAC", ANA, at(10)), CHEN, at(11, 45))
    journey = case_journey(
        [cancelled.handoff, next_leg], [*back.events, *cancelled.events, *events], at(12)
    )
    assert summary(journey) == [
        ("EMEA", "Ana Chen", timedelta(hours=3, minutes=45), False),
        ("APAC", "Chen Wei", timedelta(minutes=15), True),
    ]
    assert journey.waiting is None


def test_a_handoff_back_in_the_queue_is_no_hop_and_says_since_when() -> None:
    first, events = taken(leg("EMEA", "US", ANA, at(8)), BO, at(10))
    bounced = leg("US", "APAC", BO, at(12))
    back = apply(bounced, SendBackToQueue(actor=BO, reason="APAC is short"), at(13, 20))
    journey = case_journey([first, back.handoff], [*events, *back.events], at(14))
    assert summary(journey) == [
        ("EMEA", "Ana Chen", timedelta(hours=2), False),
        ("US", "Bo Receiver", timedelta(hours=4), True),
    ]
    assert journey.waiting == Waiting("APAC", None, at(13, 20), back_in_queue=True)


def test_the_hop_goes_to_whoever_took_the_handoff_instead_of_the_named_engineer() -> None:
    meant = leg("EMEA", "US", ANA, at(8)).model_copy(update={"target_engineer": DANA})
    moved = apply(meant, Accept(actor=BO, instead_of=DANA.name), at(9, 10))
    journey = case_journey([moved.handoff], list(moved.events), at(10))
    assert summary(journey) == [
        ("EMEA", "Ana Chen", timedelta(hours=1, minutes=10), False),
        ("US", "Bo Receiver", timedelta(minutes=50), True),
    ]


def test_a_requested_handoff_is_waiting_for_its_region_since_its_request() -> None:
    first, events = taken(leg("EMEA", "US", ANA, at(8)), BO, at(9))
    meant = leg("US", "APAC", BO, at(15)).model_copy(update={"target_engineer": CHEN})
    asked = apply(meant, RequestMoreInfo(actor=CHEN, question="Which logs?"), at(15, 30))
    for pending in (meant, asked.handoff, apply(meant, EscalateToSme(actor=CHEN), at(16)).handoff):
        journey = case_journey([first, pending], events, at(17))
        assert journey.waiting == Waiting("APAC", CHEN, at(15))
        assert summary(journey)[-1] == ("US", "Bo Receiver", timedelta(hours=8), True)


def test_a_case_that_never_moved_has_no_journey_to_show() -> None:
    assert not case_journey([], [], at(8)).worth_showing
    gone = apply(leg("EMEA", "US", ANA, at(8)), Cancel(actor=ANA), at(9)).handoff
    journey = case_journey([gone], [], at(10))
    assert summary(journey) == [("EMEA", "Ana Chen", timedelta(hours=2), True)]
    assert not journey.worth_showing
    assert case_journey([leg("EMEA", "US", ANA, at(8))], [], at(8, 5)).worth_showing


def test_an_old_record_takes_its_accept_time_from_its_event() -> None:
    # Written before state_since was kept, and changed after the accept (flagged, say): the
    # accept event alone says when it was taken.
    handoff, events = taken(leg("EMEA", "US", ANA, at(8)), BO, at(9, 40))
    old = handoff.model_copy(update={"state_since": None, "updated_at": at(18)})
    assert accepted_at(old, events) == at(9, 40)
    assert accepted_at(old, []) == at(18)
    assert accepted_at(handoff, []) == at(9, 40)
    journey = case_journey([old], events, at(20))
    assert [h.spent for h in journey.hops] == [
        timedelta(hours=1, minutes=40),
        timedelta(hours=10, minutes=20),
    ]
