from datetime import UTC, datetime, timedelta, timezone

import pytest

from handoff.errors import IllegalTransition, NotAllowed
from handoff.models import (
    Case,
    Handoff,
    HandoffKind,
    HandoffState,
    Person,
    Severity,
    SupportPlan,
)
from handoff.state_machine import (
    Accept,
    Cancel,
    EscalateToSme,
    ProvideInfo,
    RequestMoreInfo,
    SendBackToQueue,
    allowed_verbs,
    apply,
    request_event,
)

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
REQUESTER = Person(id="29:requester", name="Ana")
RECEIVER = Person(id="29:receiver", name="Bo")
LEAD = Person(id="29:lead", name="Lee")


def a_handoff(state: HandoffState = HandoffState.REQUESTED) -> Handoff:
    return Handoff(
        case=Case(
            number="2311230040001234",
            severity=Severity.A,
            is_24x7=True,
            plan=SupportPlan.PREMIER,
            product_skill="HDInsight",
            customer_region="EMEA",
            customer_timezone="Europe/Berlin",
        ),
        kind=HandoffKind.CRITICAL_24X7,
        requester=REQUESTER,
        from_region="EMEA",
        target_region="US",
        reason="High-priority case that needs continual support",
        state=state,
        created_at=T0,
        updated_at=T0,
    )


def test_accept_makes_the_clicker_owner_and_bumps_the_version() -> None:
    handoff = a_handoff()
    later = T0 + timedelta(minutes=5)
    result = apply(handoff, Accept(actor=RECEIVER), later, conversation_id="19:channel")
    assert result.handoff.state is HandoffState.ACCEPTED
    assert result.handoff.owner == RECEIVER
    assert result.handoff.version == 2
    assert result.handoff.updated_at == later
    [event] = result.events
    assert (event.kind, event.actor, event.from_state, event.to_state) == (
        "accept",
        RECEIVER,
        HandoffState.REQUESTED,
        HandoffState.ACCEPTED,
    )
    assert event.conversation_id == "19:channel"
    assert handoff.state is HandoffState.REQUESTED, "the original record is unchanged"


def test_times_are_stored_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    result = apply(
        a_handoff(), Accept(actor=RECEIVER), datetime(2026, 11, 23, 17, 0, tzinfo=berlin)
    )
    assert result.handoff.updated_at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert result.handoff.updated_at.tzinfo is UTC


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        apply(a_handoff(), Accept(actor=RECEIVER), datetime(2026, 11, 23, 17, 0))


def test_the_requester_cannot_accept_their_own_handoff() -> None:
    with pytest.raises(NotAllowed, match="someone else"):
        apply(a_handoff(), Accept(actor=REQUESTER), T0)


def test_an_accepted_handoff_cannot_be_accepted_again() -> None:
    accepted = apply(a_handoff(), Accept(actor=RECEIVER), T0).handoff
    with pytest.raises(
        IllegalTransition, match="2311230040001234 is accepted; it cannot be accepted"
    ):
        apply(accepted, Accept(actor=LEAD), T0)


def test_only_the_requester_cancels() -> None:
    with pytest.raises(NotAllowed, match="Only Ana"):
        apply(a_handoff(), Cancel(actor=RECEIVER), T0)
    assert apply(a_handoff(), Cancel(actor=REQUESTER), T0).handoff.state is HandoffState.CANCELLED


def test_more_info_round_trip_returns_to_requested_with_the_texts_in_the_trail() -> None:
    asked = apply(a_handoff(), RequestMoreInfo(actor=RECEIVER, question="Which cluster?"), T0)
    assert asked.handoff.state is HandoffState.MORE_INFO_NEEDED
    assert asked.events[0].data == {"question": "Which cluster?"}
    with pytest.raises(NotAllowed):
        apply(asked.handoff, ProvideInfo(actor=RECEIVER, answer="prod-eu"), T0)
    answered = apply(asked.handoff, ProvideInfo(actor=REQUESTER, answer="prod-eu"), T0)
    assert answered.handoff.state is HandoffState.REQUESTED
    assert answered.handoff.version == 3


def test_a_blank_question_is_refused() -> None:
    with pytest.raises(ValueError, match="question"):
        RequestMoreInfo(actor=RECEIVER, question="   ")


def test_back_to_queue_needs_the_requester_or_a_lead() -> None:
    with pytest.raises(NotAllowed, match="requester or a team lead"):
        apply(a_handoff(), SendBackToQueue(actor=RECEIVER, reason="no SE on shift"), T0)
    by_lead = SendBackToQueue(actor=LEAD, reason="no SE on shift", actor_is_lead=True)
    assert apply(a_handoff(), by_lead, T0).handoff.state is HandoffState.BACK_TO_QUEUE


@pytest.mark.parametrize(
    ("state", "verbs"),
    [
        (HandoffState.REQUESTED, ["accept", "more_info", "back_to_queue", "escalate", "cancel"]),
        (HandoffState.ESCALATED, ["accept", "more_info", "back_to_queue", "cancel"]),
        (HandoffState.ACCEPTED, []),
        (HandoffState.CANCELLED, []),
    ],
)
def test_allowed_verbs_follow_the_table(state: HandoffState, verbs: list[str]) -> None:
    assert allowed_verbs(state) == verbs


def test_escalated_case_can_go_back_to_queue_and_be_escalated_again() -> None:
    escalated = apply(a_handoff(), EscalateToSme(actor=RECEIVER), T0).handoff
    queued = apply(escalated, SendBackToQueue(actor=REQUESTER, reason="SME agreed"), T0).handoff
    assert apply(queued, EscalateToSme(actor=RECEIVER), T0).handoff.state is HandoffState.ESCALATED


def test_the_first_event_says_who_requested_it() -> None:
    handoff = a_handoff()
    event = request_event(handoff, conversation_id="a:personal")
    assert (event.kind, event.actor, event.to_state, event.at) == (
        "requested",
        REQUESTER,
        HandoffState.REQUESTED,
        T0,
    )


def test_case_numbers_must_be_digits() -> None:
    with pytest.raises(ValueError, match="number"):
        Case(
            number="12ab",
            severity=Severity.B,
            is_24x7=False,
            plan=SupportPlan.PROFESSIONAL,
            product_skill="Kafka",
            customer_region="US",
            customer_timezone="America/New_York",
        )
