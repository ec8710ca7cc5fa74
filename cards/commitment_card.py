"""R-CUSTOMER: the reminder of the customer's next contact, sent to whoever has the case, and the
line the Case Transfer card and the lists show once that contact is overdue."""

from __future__ import annotations

from datetime import datetime

from handoff.durations import in_words
from handoff.models import Handoff
from handoff.notes.commitment import overdue_since, waiting
from i18n import _, formats

from .elements import Json, card, clip, facts, heading, safe, severity_badge, text
from .handoff_words import who_waits_words

MAX_STEPS_SHOWN = 3
MAX_LINE_CHARS = 200


def overdue_text(handoff: Handoff, since: datetime) -> str:
    """In the customer's zone, which the promise was made in, and named: one card is read in
    many zones, and this line is not rewritten for each reader."""
    zone = handoff.case.customer_timezone
    return _("Next customer contact overdue since {time} ({zone})").format(
        time=formats.when(since, zone), zone=zone
    )


def overdue_lines(handoff: Handoff, now: datetime | None) -> list[Json]:
    """The overdue line, if the handoff's promise is overdue at `now` (handoff/notes/
    commitment.py says when); none when the caller gives no time."""
    since = overdue_since(handoff, now) if now is not None else None
    if since is None:
        return []
    return [
        {
            "type": "TextBlock",
            "text": overdue_text(handoff, since),
            "color": "Attention",
            "weight": "Bolder",
            "wrap": True,
        }
    ]


def commitment_card(handoff: Handoff, now: datetime, zone: str, zone_note: str = "") -> Json:
    """The reminder, with the promised time in `zone` (the reader's) and the customer's;
    `zone_note` says where `zone` came from when the reader saved none."""
    contact = handoff.notes.next_customer_contact
    if contact is None:
        raise ValueError("a handoff without a next customer contact has nothing to remind")
    case, number = handoff.case, handoff.case.number
    if contact.at > now:
        # Translators: {time} is how long until the contact, e.g. "30 minutes".
        title = _("Customer contact in {time}: case {number}").format(
            time=in_words(contact.at - now), number=number
        )
    else:
        title = _("Customer contact overdue by {time}: case {number}").format(
            time=in_words(now - contact.at), number=number
        )
    skill = safe(clip(case.product_skill, 60))
    body: list[Json] = [
        heading(title),
        facts(
            [
                (_("Case"), f"{number} · {severity_badge(case)} · {skill}"),
                (_("Title"), safe(clip(case.title, MAX_LINE_CHARS))),
                (_("Customer"), f"{case.customer_region} ({case.customer_timezone})"),
                (_("Promised"), safe(clip(who_waits_words(contact.who_waits), MAX_LINE_CHARS))),
                (_("When, for you"), formats.when(contact.at, zone)),
                (_("For the customer"), formats.when(contact.at, case.customer_timezone)),
            ]
        ),
    ]
    steps = handoff.notes.next_steps_us
    if steps:
        shown = [f"- {safe(clip(step, MAX_LINE_CHARS))}" for step in steps[:MAX_STEPS_SHOWN]]
        body += [text(_("Our next steps"), weight="Bolder"), text("\n".join(shown))]
    if waiting(handoff):
        body.append(text(_("Nobody has taken your handoff yet, so this contact is still yours.")))
    if zone_note:
        body.append(text(zone_note, subtle=True))
    show = {
        "type": "Action.Submit",
        "title": _("Show the case"),
        # messageBack: the click says "status <case>" as if typed, and is answered as that.
        "data": {"msteams": {"type": "messageBack", "text": f"status {number}"}},
    }
    summary = _("Customer contact for case {number} at {time} ({zone})").format(
        number=number, time=formats.time_of_day(contact.at, zone), zone=zone
    )
    return card(body, [show], summary=summary)
