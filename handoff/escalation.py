"""R-ESC: an escalation to the vendor (L3) waits for a Team Leader's decision, once L1/L2
troubleshooting is captured; the decision is recorded with who and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import uuid4

from pydantic import Field

from .errors import IllegalTransition, NotAllowed
from .models import Frozen, HandoffNotes, Person, UtcDatetime, as_utc


class EscalationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    MORE_STEPS = "more-steps-suggested"
    REJECTED = "rejected"


DECISIONS = {
    "esc_approve": EscalationState.APPROVED,
    "esc_more": EscalationState.MORE_STEPS,
    "esc_reject": EscalationState.REJECTED,
}


class Escalation(Frozen):
    id: str = Field(default_factory=lambda: uuid4().hex)
    case_number: str
    requester: Person
    summary: str
    steps_tried: tuple[str, ...]
    research: tuple[str, ...]
    state: EscalationState = EscalationState.PENDING
    decided_by: Person | None = None
    decided_at: UtcDatetime | None = None
    comment: str = ""
    version: int = 1
    created_at: UtcDatetime


def missing_troubleshooting(notes: HandoffNotes) -> list[str]:
    """What L1/L2 must capture before the vendor is asked (R-ESC): the steps tried with their
    outcomes, and the logs or screenshots they produced."""
    missing = []
    if not notes.steps_tried:
        missing.append("the L1/L2 steps tried, each with its outcome")
    if not notes.research:
        missing.append("links to the logs or screenshots collected")
    return missing


def request_escalation(
    notes: HandoffNotes, case_number: str, requester: Person, at: datetime
) -> Escalation:
    return Escalation(
        case_number=case_number,
        requester=requester,
        summary=notes.summary,
        steps_tried=tuple(f"{s.step} -> {s.outcome}" for s in notes.steps_tried),
        research=notes.research,
        created_at=at,
    )


def decide(
    escalation: Escalation, verb: str, actor: Person, comment: str, at: datetime
) -> Escalation:
    """A Team Leader's decision; a requester never decides their own escalation."""
    if actor.id == escalation.requester.id:
        raise NotAllowed("You asked for this escalation, so a Team Leader has to decide it.")
    if escalation.state is not EscalationState.PENDING:
        who = escalation.decided_by.name if escalation.decided_by else "someone"
        raise IllegalTransition(
            f"{who} already decided this escalation: {escalation.state.value.replace('-', ' ')}."
        )
    state = DECISIONS[verb]
    if state is not EscalationState.APPROVED and not comment.strip():
        raise NotAllowed("Say what to do instead in the comment box, then press the button.")
    return escalation.model_copy(
        update={
            "state": state,
            "decided_by": actor,
            "decided_at": as_utc(at),
            "comment": comment.strip()[:2000],
            "version": escalation.version + 1,
        }
    )


# R-ESC: technical escalation climbs one level at a time through the existing case; after
# the Team Manager comes leadership escalation.
TECHNICAL_LEVELS = ("L1", "L2", "SME", "TL", "TM", "leadership")
LEVEL_NAMES = {
    "L1": "L1 engineer",
    "L2": "L2 engineer",
    "SME": "subject matter expert",
    "TL": "Team Leader",
    "TM": "Team Manager",
    "leadership": "leadership (engineer, TL and TM prepare the case details together)",
}


# How the card and `status` name the level a case has reached.
LEVEL_LABELS = {
    "L1": "L1 engineer",
    "L2": "L2 engineer",
    "SME": "subject matter expert (SME)",
    "TL": "Team Leader (TL)",
    "TM": "Team Manager (TM)",
    "leadership": "leadership",
}


def next_level(levels_reached: list[str]) -> str | None:
    """The level after the highest one reached (L1 by default); None past leadership."""
    reached = [
        TECHNICAL_LEVELS.index(level) for level in levels_reached if level in TECHNICAL_LEVELS
    ]
    index = max(reached, default=0) + 1
    return TECHNICAL_LEVELS[index] if index < len(TECHNICAL_LEVELS) else None
