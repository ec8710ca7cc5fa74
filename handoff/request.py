"""A handoff request put together from the engineer's answers, with what it produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from i18n import _, speaking

from .flowchart import NextStep
from .models import (
    Case,
    Handoff,
    HandoffKind,
    HandoffNotes,
    HandoffOutputs,
    Person,
    as_utc,
)
from .notes.outputs import customer_message, internal_title, reassignment_mail
from .notes.template import render_notes
from .policy import qualifies_as_24x7


@dataclass(frozen=True)
class Queue:
    """The duty manager's queue (config): where reassignment e-mails go (R-MAIL)."""

    address: str
    subject_prefix: str


@dataclass(frozen=True)
class HandoffAnswers:
    """Everything the handoff dialog asked, validated."""

    case: Case
    owner_region: str
    target_region: str
    kind_choice: str  # "between", "within" or "collab"
    reason: str
    notes: HandoffNotes
    target_engineer: str = ""
    target_engineer_name: str = ""
    reason_code: str | None = None
    customer_asked: bool = False

    @property
    def kind(self) -> HandoffKind:
        if self.kind_choice == "within":
            return HandoffKind.WITHIN_REGION
        if self.kind_choice == "collab":
            return HandoffKind.COLLABORATION
        return HandoffKind.CRITICAL_24X7 if qualifies_as_24x7(self.case) else HandoffKind.NON_24X7


def who_continues(answers: HandoffAnswers) -> str:
    """Who the customer is told continues: the named engineer by their name when it is known,
    else a colleague of the receiving region's team. A name typed as an e-mail address (the
    transfer form asks for one) is no name: the customer never sees a raw address. Written in
    the customer's language, as the message it goes into."""
    with speaking(answers.case.customer_language):
        if not answers.target_engineer:
            # Translators: who continues with the case, in the message to the customer; {region}
            # is a region code such as US.
            return _("Our {region} support engineer").format(region=answers.target_region)
        name = " ".join(answers.target_engineer_name.split())
        if name and "@" not in name:
            return name
        # Translators: who continues with the case, in the message to the customer.
        return _("A colleague from our {region} team").format(region=answers.target_region)


def compose_outputs(answers: HandoffAnswers, step: NextStep, queue: Queue) -> HandoffOutputs:
    """R-TITLE, R-MAIL (as text and a mailto: link), the notes text and R-CUSTOMER's draft,
    which promises the customer only the next contact the notes give."""
    case = answers.case
    notes_text = render_notes(
        answers.notes,
        case,
        zone_name=case.customer_timezone,
        pass_to=answers.target_region,
        reason=answers.reason,
    )
    mail = reassignment_mail(
        case, answers.target_region, queue.address, queue.subject_prefix, notes_text
    )
    contact = answers.notes.next_customer_contact
    return HandoffOutputs(
        title=internal_title(case.title, answers.target_region),
        mail_to=mail.to,
        mail_subject=mail.subject,
        mail_body=mail.body,
        mailto_url=mail.mailto_url,
        notes_text=notes_text,
        customer_message=customer_message(
            case,
            who_continues=who_continues(answers),
            customer_actions=list(answers.notes.next_steps_customer),
            next_update_at=contact.at if contact is not None else None,
            zone_name=case.customer_timezone,
        ),
        next_step=step.instruction,
        path=tuple(str(box) for box in step.path),
        send_mail_now=step.mail_dm,
    )


def new_handoff(
    answers: HandoffAnswers, outputs: HandoffOutputs, requester: Person, at: datetime
) -> Handoff:
    at = as_utc(at)
    return Handoff(
        case=answers.case,
        kind=answers.kind,
        requester=requester,
        from_region=answers.owner_region,
        target_region=answers.target_region,
        target_engineer=Person(
            id=answers.target_engineer,
            name=answers.target_engineer_name or answers.target_engineer,
        )
        if answers.target_engineer
        else None,
        reason=answers.reason,
        reason_code=answers.reason_code,
        customer_asked=answers.customer_asked,
        notes=answers.notes,
        outputs=outputs,
        created_at=at,
        state_since=at,
        updated_at=at,
    )
