"""The Journey section of the status card: the hops in a line with the time spent in each, the
handoff it waits on with its time in the reader's zone, a long journey cut to its latest hops,
within the card's size budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cards.elements import ELLIPSIS
from cards.fit import CARD_LIMIT_BYTES, fit_card
from cards.transfer_card import MAX_HOPS_SHOWN, handoff_card, local_time
from handoff.journey import case_journey
from handoff.models import AuditEvent, Handoff, HandoffNotes, Person
from handoff.request import new_handoff
from handoff.state_machine import (
    Accept,
    Cancel,
    ProvideInfo,
    RequestMoreInfo,
    SendBackToQueue,
    apply,
    request_event,
)

from harness import records
from harness.card_schema import assert_valid_card
from harness.chat import all_text

CASE = "2311230040001234"
T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ANA = Person(id="29:ana", name="Ana Chen")
BO = Person(id="29:bo", name="Bo Receiver")
CHEN = Person(id="29:chen", name="Chen Wei")


def leg(
    origin: str, target: str, requester: Person, when: datetime, notes: HandoffNotes | None = None
) -> Handoff:
    answers = records.answers(CASE, origin, target, notes=notes)
    return new_handoff(answers, records.PLACEHOLDER_OUTPUTS, requester, when)


def accepted(handoff: Handoff, actor: Person, when: datetime) -> Handoff:
    return apply(handoff, Accept(actor=actor), when).handoff


def test_the_status_card_shows_each_hop_with_the_time_spent_there() -> None:
    first = accepted(leg("EMEA", "US", ANA, T0), BO, T0 + timedelta(hours=9, minutes=12))
    second = accepted(
        leg("US", "APAC", BO, T0 + timedelta(hours=11)), CHEN, T0 + timedelta(hours=12, minutes=17)
    )
    journey = case_journey([first, second], [], T0 + timedelta(hours=13, minutes=57))
    content = handoff_card(second, journey=journey)
    assert_valid_card(content)
    shown = all_text(content)
    assert (
        "**EMEA** (Ana Chen) 9 hours 12 minutes → **US** (Bo Receiver) 3 hours 5 minutes → "
        "**APAC** (Chen Wei) 1 hour 40 minutes so far"
    ) in shown
    # The section sits before the history, and only where `status` asked for it.
    assert "Journey" in shown
    assert "Journey" not in all_text(handoff_card(second))


def test_a_waiting_handoff_says_for_whom_and_since_when_in_the_readers_zone() -> None:
    first = accepted(leg("EMEA", "US", ANA, T0), BO, T0 + timedelta(hours=1))
    asked_at = T0 + timedelta(hours=5)
    pending = leg("US", "APAC", BO, asked_at).model_copy(update={"target_engineer": CHEN})
    journey = case_journey([first, pending], [], T0 + timedelta(hours=6))
    content = handoff_card(pending, journey=journey)
    assert_valid_card(content)
    assert (
        f"**US** (Bo Receiver) 5 hours so far → waiting for APAC (Chen Wei) since "
        f"{local_time(asked_at)}"
    ) in all_text(content)

    back = apply(pending, SendBackToQueue(actor=BO, reason="APAC is short"), asked_at)
    journey = case_journey([first, back.handoff], [], T0 + timedelta(hours=6))
    assert f"→ back in the queue since {local_time(asked_at)}" in all_text(
        handoff_card(back.handoff, journey=journey)
    )


def test_a_case_that_never_moved_shows_no_journey() -> None:
    gone = leg("EMEA", "US", ANA, T0)
    cancelled = apply(gone, Cancel(actor=ANA, reason="solved"), T0 + timedelta(minutes=5)).handoff
    journey = case_journey([cancelled], [], T0 + timedelta(hours=1))
    assert "Journey" not in all_text(handoff_card(cancelled, journey=journey))


def test_a_long_journey_shows_its_latest_hops_and_the_card_still_fits() -> None:
    # Thirty legs round the globe, every name and text as long as the forms let it be, the
    # history full: the card is sent as built, nothing cut by the size check.
    regions = ("EMEA", "US", "APAC")
    people = [Person(id=f"29:{n}", name=f"Engineer {n} " + "x" * 240) for n in range(31)]
    handoffs = []
    at = T0
    for n in range(30):
        origin, target = regions[n % 3], regions[(n + 1) % 3]
        long = leg(
            origin, target, people[n], at, HandoffNotes(summary="s" * 4000, issue="i" * 4000)
        )
        at += timedelta(hours=8)
        handoffs.append(accepted(long, people[n + 1], at))
    latest = leg("APAC", "EMEA", people[30], at, HandoffNotes(summary="s" * 4000))
    history: list[AuditEvent] = [request_event(latest)]
    for _ in range(20):
        asked = apply(latest, RequestMoreInfo(actor=CHEN, question="q" * 4000), at)
        answered = apply(asked.handoff, ProvideInfo(actor=people[30], answer="a" * 4000), at)
        history += [*asked.events, *answered.events]
        latest = answered.handoff
    handoffs.append(latest)
    journey = case_journey(handoffs, [], at + timedelta(hours=2))
    content = handoff_card(latest, history=history, journey=journey)
    assert_valid_card(content)
    shown = all_text(content)
    assert f"{ELLIPSIS} {31 - MAX_HOPS_SHOWN} more earlier hops" in shown
    assert "Engineer 30" in shown and "2 hours so far → waiting for EMEA since" in shown
    assert "Engineer 24 " not in shown, "the earliest hops are counted, not shown"
    assert shown.count(" → ") >= MAX_HOPS_SHOWN - 1
    fitted = fit_card(content)
    assert fitted.left_out == () and fitted.size <= CARD_LIMIT_BYTES
