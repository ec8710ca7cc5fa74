from datetime import UTC, datetime

import pytest

from handoff.errors import IllegalTransition, NotAllowed
from handoff.escalation import (
    EscalationState,
    decide,
    missing_troubleshooting,
    next_level,
    request_escalation,
)
from handoff.models import HandoffNotes, Person, StepTried

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ENGINEER = Person(id="29:eng", name="Eng")
LEAD = Person(id="29:lead", name="Lee")
NOTES = HandoffNotes(
    summary="Autoscale stops at 20 nodes since the upgrade.",
    steps_tried=(StepTried(step="Raised the quota", outcome="same failure"),),
    research=("https://example.invalid/logs/1",),
)


def test_l1_l2_work_must_be_captured_before_the_vendor() -> None:
    assert missing_troubleshooting(HandoffNotes(summary="x")) == [
        "the L1/L2 steps tried, each with its outcome",
        "links to the logs or screenshots collected",
    ]
    assert missing_troubleshooting(NOTES) == []


def test_a_lead_decides_once_and_never_their_own() -> None:
    pending = request_escalation(NOTES, "2311230040001234", ENGINEER, T0)
    with pytest.raises(NotAllowed, match="a Team Leader has to decide"):
        decide(pending, "esc_approve", ENGINEER, "", T0)
    with pytest.raises(NotAllowed, match="comment box"):
        decide(pending, "esc_reject", LEAD, " ", T0)
    approved = decide(pending, "esc_approve", LEAD, "", T0)
    assert (approved.state, approved.decided_by, approved.version) == (
        EscalationState.APPROVED,
        LEAD,
        2,
    )
    with pytest.raises(IllegalTransition, match="Lee already decided"):
        decide(approved, "esc_reject", LEAD, "no", T0)


def test_technical_levels_climb_in_order() -> None:
    assert next_level([]) == "L2"
    assert next_level(["L2", "SME"]) == "TL"
    assert next_level(["leadership"]) is None
