"""The handoff life cycle as a table: which command may move which state where (R-CARD)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from i18n import _, pgettext

from .errors import IllegalTransition, NotAllowed
from .models import AuditEvent, Frozen, Handoff, HandoffState, Person, as_utc

NonBlank = Annotated[str, Field(min_length=1, max_length=4000, pattern=r"\S")]


class Verb(StrEnum):
    """A handoff card's buttons (and the requester's answer): one word each, everywhere."""

    ACCEPT = "accept"
    MORE_INFO = "more_info"
    PROVIDE_INFO = "provide_info"
    BACK_TO_QUEUE = "back_to_queue"
    ESCALATE = "escalate"
    CANCEL = "cancel"
    LONG_RUNNING = "long_running"


class Accept(Frozen):
    verb: Literal[Verb.ACCEPT] = Verb.ACCEPT
    actor: Person
    # Who the handoff was meant for, when someone else took it instead (they confirmed).
    instead_of: str | None = None


class RequestMoreInfo(Frozen):
    verb: Literal[Verb.MORE_INFO] = Verb.MORE_INFO
    actor: Person
    question: NonBlank


class ProvideInfo(Frozen):
    verb: Literal[Verb.PROVIDE_INFO] = Verb.PROVIDE_INFO
    actor: Person
    answer: NonBlank


class SendBackToQueue(Frozen):
    verb: Literal[Verb.BACK_TO_QUEUE] = Verb.BACK_TO_QUEUE
    actor: Person
    reason: NonBlank
    # Set by the caller after it has checked the configured leads; the domain cannot know them.
    actor_is_lead: bool = False


class EscalateToSme(Frozen):
    verb: Literal[Verb.ESCALATE] = Verb.ESCALATE
    actor: Person
    note: str = ""


class Cancel(Frozen):
    verb: Literal[Verb.CANCEL] = Verb.CANCEL
    actor: Person
    reason: str = ""


Command = Accept | RequestMoreInfo | ProvideInfo | SendBackToQueue | EscalateToSme | Cancel

_S = HandoffState
TRANSITIONS: dict[tuple[HandoffState, type[Command]], HandoffState] = {
    (_S.REQUESTED, Accept): _S.ACCEPTED,
    (_S.MORE_INFO_NEEDED, Accept): _S.ACCEPTED,
    (_S.BACK_TO_QUEUE, Accept): _S.ACCEPTED,
    (_S.ESCALATED, Accept): _S.ACCEPTED,
    (_S.REQUESTED, RequestMoreInfo): _S.MORE_INFO_NEEDED,
    (_S.ESCALATED, RequestMoreInfo): _S.MORE_INFO_NEEDED,
    (_S.MORE_INFO_NEEDED, ProvideInfo): _S.REQUESTED,
    (_S.REQUESTED, SendBackToQueue): _S.BACK_TO_QUEUE,
    (_S.MORE_INFO_NEEDED, SendBackToQueue): _S.BACK_TO_QUEUE,
    (_S.ESCALATED, SendBackToQueue): _S.BACK_TO_QUEUE,
    (_S.REQUESTED, EscalateToSme): _S.ESCALATED,
    (_S.MORE_INFO_NEEDED, EscalateToSme): _S.ESCALATED,
    (_S.BACK_TO_QUEUE, EscalateToSme): _S.ESCALATED,
    (_S.REQUESTED, Cancel): _S.CANCELLED,
    (_S.MORE_INFO_NEEDED, Cancel): _S.CANCELLED,
    (_S.BACK_TO_QUEUE, Cancel): _S.CANCELLED,
    (_S.ESCALATED, Cancel): _S.CANCELLED,
}


def state_in_words(state: HandoffState) -> str:
    """A handoff's state as a sentence says it ("Case 123 is {state}")."""
    words = {
        HandoffState.REQUESTED: pgettext("handoff state", "requested"),
        HandoffState.ACCEPTED: pgettext("handoff state", "accepted"),
        HandoffState.MORE_INFO_NEEDED: pgettext("handoff state", "more info needed"),
        HandoffState.BACK_TO_QUEUE: pgettext("handoff state", "back to queue"),
        HandoffState.ESCALATED: pgettext("handoff state", "escalated"),
        HandoffState.CANCELLED: pgettext("handoff state", "cancelled"),
    }
    return words[state]


def _cannot_now(verb: Verb) -> str:
    """Why a move is refused in the state the handoff is in, one sentence per move."""
    texts = {
        Verb.ACCEPT: _("Case {number} is {state}; it cannot be accepted now."),
        Verb.MORE_INFO: _(
            "Case {number} is {state}; it cannot be asked for more information on now."
        ),
        Verb.PROVIDE_INFO: _("Case {number} is {state}; its question cannot be answered now."),
        Verb.BACK_TO_QUEUE: _("Case {number} is {state}; it cannot be sent back to the queue now."),
        Verb.ESCALATE: _("Case {number} is {state}; it cannot be escalated now."),
        Verb.CANCEL: _("Case {number} is {state}; it cannot be cancelled now."),
    }
    return texts[verb]


@dataclass(frozen=True)
class Transition:
    handoff: Handoff
    events: tuple[AuditEvent, ...]


def allowed_verbs(state: HandoffState) -> list[Verb]:
    """The verbs a card may offer in this state, in table order."""
    return list(_ALLOWED_VERBS[state])


def _verbs_of(state: HandoffState) -> tuple[Verb, ...]:
    verbs: list[Verb] = []
    for from_state, command_type in TRANSITIONS:
        verb = command_type.model_fields["verb"].default
        if from_state is state and verb not in verbs:
            verbs.append(verb)
    return tuple(verbs)


# Worked out once: a card asks for each of its viewers' copies, six times a click.
_ALLOWED_VERBS = {state: _verbs_of(state) for state in HandoffState}


def _check_actor(handoff: Handoff, command: Command) -> None:
    is_requester = command.actor.id == handoff.requester.id
    if isinstance(command, Accept) and is_requester:
        raise NotAllowed(_("You requested this handoff, so someone else has to accept it."))
    if isinstance(command, Cancel | ProvideInfo) and not is_requester:
        who = handoff.requester.name
        raise NotAllowed(
            _("Only {name}, who requested this handoff, can do that.").format(name=who)
            if who
            else _("Only the requester of this handoff can do that.")
        )
    if isinstance(command, SendBackToQueue) and not (is_requester or command.actor_is_lead):
        raise NotAllowed(
            _("Only the requester or a team lead can send this case back to the queue.")
        )


def apply(
    handoff: Handoff, command: Command, at: datetime, conversation_id: str | None = None
) -> Transition:
    """Moves the handoff by one command, or raises a DomainError saying why not."""
    target = TRANSITIONS.get((handoff.state, type(command)))
    if target is None:
        raise IllegalTransition(
            _cannot_now(command.verb).format(
                number=handoff.case.number, state=state_in_words(handoff.state)
            )
        )
    _check_actor(handoff, command)
    at = as_utc(at)
    changes: dict[str, object] = {
        "state": target,
        "version": handoff.version + 1,
        "updated_at": at,
        "state_since": at,
    }
    if isinstance(command, Accept):
        changes["owner"] = command.actor
    updated = handoff.model_copy(update=changes)
    data = command.model_dump(exclude={"verb", "actor"}, exclude_defaults=True)
    event = AuditEvent(
        handoff_id=handoff.id,
        case_number=handoff.case.number,
        kind=command.verb,
        actor=command.actor,
        at=at,
        from_state=handoff.state,
        to_state=target,
        conversation_id=conversation_id,
        data=data,
    )
    return Transition(handoff=updated, events=(event,))


def request_event(handoff: Handoff, conversation_id: str | None = None) -> AuditEvent:
    """The first event of every handoff: it was requested."""
    return AuditEvent(
        handoff_id=handoff.id,
        case_number=handoff.case.number,
        kind="requested",
        actor=handoff.requester,
        at=handoff.created_at,
        to_state=handoff.state,
        conversation_id=conversation_id,
    )
