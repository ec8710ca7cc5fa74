"""The customer's committed next contact (the notes' NEXT CUSTOMER CONTACT, R-CUSTOMER): who keeps
the promise while the case moves between engineers, when they are reminded of it, and when it
is overdue.

Who keeps it (`holder`): whoever has the case. While its handoff waits for someone to take it
(requested, more information asked, escalated to the SME, back in the queue) that is still the
requester: nobody else has the case yet, and the customer will not wait for the handoff. Once
accepted, it is the new owner. A cancelled handoff carries no promise: the case never moved,
and its engineer keeps their own plans.

The reminder is written with the change that sets it up, in the same transaction (like R-STAY's
reminders), one outbox item per handoff, promised time and holder: a revision with a new time
and an accept by a new owner each make their own, and the item of a time or a holder no longer
in force finds that out when it comes due and sends nothing (`why_not_remind`). A promise
already past when the handoff is written gets no reminder (the card says it is overdue), except
for a new owner, who hears at once what they took on.

Overdue (`overdue_since`) is flagged while the handoff still waits for an owner: that is when
the case is between engineers and the customer may be forgotten. Once accepted, the owner was
reminded; the bot does not see the contacts made in the case tool, so a flag there would stay
wrong after the call.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..effects import CASE_TRANSFER_LANE, OutboxKind, chat_lane
from ..models import Handoff, HandoffState, NextContact, Person, as_utc
from ..ports import OutboxMessage

# How long before the promised time its holder is reminded, unless the process file says.
DEFAULT_NOTICE = timedelta(minutes=30)


def holder(handoff: Handoff) -> Person | None:
    """Who keeps the handoff's promise to the customer now (see the module's doc)."""
    if handoff.state is HandoffState.CANCELLED:
        return None
    if handoff.state is HandoffState.ACCEPTED:
        return handoff.owner
    return handoff.requester


def waiting(handoff: Handoff) -> bool:
    """Whether the handoff still waits for someone to take the case."""
    return handoff.state.is_open


def overdue_since(handoff: Handoff, now: datetime) -> datetime | None:
    """The promised time, once it has passed while the handoff waits for an owner; else None."""
    contact = handoff.notes.next_customer_contact
    if contact is None or contact.at > now or not waiting(handoff):
        return None
    return contact.at


def reminder_key(handoff: Handoff, contact: NextContact, person: Person) -> str:
    return f"{OutboxKind.COMMITMENT_REMINDER}:{handoff.id}:{contact.at.isoformat()}:{person.id}"


def reminders(
    handoff: Handoff, at: datetime, notice: timedelta, *, taken: bool = False
) -> list[OutboxMessage]:
    """What the handoff's promise needs after a change made at `at`: its holder's reminder,
    `notice` before the promised time (at once when that is nearer), and, while the handoff
    waits, its card brought up to date when the time comes (it then says overdue). `taken`:
    the change gave the case a new owner, who hears at once of a promise already past."""
    contact = handoff.notes.next_customer_contact
    person = holder(handoff)
    if contact is None or person is None:
        return []
    at = as_utc(at)
    ahead = contact.at > at
    if not (ahead or taken):
        return []
    messages = [
        OutboxMessage(
            kind=OutboxKind.COMMITMENT_REMINDER,
            payload={
                "handoff_id": handoff.id,
                "person": person.model_dump(),
                "contact_at": contact.at.isoformat(),
            },
            dedupe_key=reminder_key(handoff, contact, person),
            not_before=max(contact.at - notice, at),
            lane=chat_lane(person),
        )
    ]
    if ahead and waiting(handoff):
        messages.append(
            OutboxMessage(
                kind=OutboxKind.UPDATE_CARD,
                payload={"handoff_id": handoff.id},
                dedupe_key=f"card:{handoff.id}:due:{contact.at.isoformat()}",
                not_before=contact.at,
                lane=CASE_TRANSFER_LANE,
            )
        )
    return messages


def why_not_remind(
    handoff: Handoff, person: Person, promised_at: datetime, latest_id: str | None
) -> str | None:
    """Why a reminder planned for `person` about the promise at `promised_at` must not go out
    now (None: it must): the handoff as it is now, and the id of its case's latest handoff."""
    contact = handoff.notes.next_customer_contact
    if handoff.state is HandoffState.CANCELLED:
        return "the handoff was cancelled"
    if contact is None or contact.at != as_utc(promised_at):
        return "the notes give another next contact now"
    now_holding = holder(handoff)
    if now_holding is None or now_holding.id != person.id:
        return "the case changed hands"
    if latest_id is not None and latest_id != handoff.id:
        return "a later handoff of the case carries its promise"
    return None
