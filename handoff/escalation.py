"""R-ESC: an escalation to the vendor (L3) waits for a Team Leader's decision, once L1/L2
troubleshooting is captured; the decision is recorded with who and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import uuid4

from pydantic import Field

from i18n import _, pgettext

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


def decision_in_words(state: EscalationState) -> str:
    """An escalation's state as a sentence says it ("decided: {decision}")."""
    words = {
        EscalationState.PENDING: pgettext("escalation state", "pending"),
        EscalationState.APPROVED: pgettext("escalation state", "approved"),
        EscalationState.MORE_STEPS: pgettext("escalation state", "more steps suggested"),
        EscalationState.REJECTED: pgettext("escalation state", "rejected"),
    }
    return words[state]


def missing_troubleshooting(notes: HandoffNotes) -> list[str]:
    """What L1/L2 must capture before the vendor is asked (R-ESC): the steps tried with their
    outcomes, and the logs or screenshots they produced."""
    missing = []
    if not notes.steps_tried:
        # Translators: an item of a list of what the notes lack before an escalation.
        missing.append(_("the L1/L2 steps tried, each with its outcome"))
    if not notes.research:
        # Translators: an item of a list of what the notes lack before an escalation.
        missing.append(_("links to the logs or screenshots collected"))
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
        raise NotAllowed(_("You asked for this escalation, so a Team Leader has to decide it."))
    if escalation.state is not EscalationState.PENDING:
        decision = decision_in_words(escalation.state)
        who = escalation.decided_by.name if escalation.decided_by else ""
        raise IllegalTransition(
            _("{name} already decided this escalation: {decision}.").format(
                name=who, decision=decision
            )
            if who
            else _("Someone already decided this escalation: {decision}.").format(decision=decision)
        )
    state = DECISIONS[verb]
    if state is not EscalationState.APPROVED and not comment.strip():
        raise NotAllowed(_("Say what to do instead in the comment box, then press the button."))
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


def level_name(level: str) -> str:
    """Who works a case at a technical level (a level of TECHNICAL_LEVELS), as the message
    that the case went up says it."""
    names = {
        "L1": _("L1 engineer"),
        "L2": _("L2 engineer"),
        "SME": _("subject matter expert"),
        "TL": _("Team Leader"),
        "TM": _("Team Manager"),
        "leadership": _("leadership (engineer, TL and TM prepare the case details together)"),
    }
    return names.get(level, level)


def level_label(level: str) -> str:
    """How the card and `status` name the level a case has reached (an unknown level as it
    is stored)."""
    labels = {
        "L1": _("L1 engineer"),
        "L2": _("L2 engineer"),
        "SME": _("subject matter expert (SME)"),
        "TL": _("Team Leader (TL)"),
        "TM": _("Team Manager (TM)"),
        "leadership": _("leadership"),
    }
    return labels.get(level, level)


def next_level(levels_reached: list[str]) -> str | None:
    """The level after the highest one reached (L1 by default); None past leadership."""
    reached = [
        TECHNICAL_LEVELS.index(level) for level in levels_reached if level in TECHNICAL_LEVELS
    ]
    index = max(reached, default=0) + 1
    return TECHNICAL_LEVELS[index] if index < len(TECHNICAL_LEVELS) else None
