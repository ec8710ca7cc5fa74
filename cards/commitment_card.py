"""R-CUSTOMER: the reminder of the customer's next contact, sent to whoever has the case, and the
line the Case Transfer card and the lists show once that contact is overdue."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handoff.durations import in_words
from handoff.models import Handoff
from handoff.notes.commitment import overdue_since, waiting
from handoff.notes.template import format_in_zone

from .elements import Json, card, clip, facts, heading, safe, text

MAX_STEPS_SHOWN = 3
MAX_LINE_CHARS = 200


def overdue_text(handoff: Handoff, since: datetime) -> str:
    """In the customer's zone, which the promise was made in, and named: one card is read in
    many zones, and this line is not rewritten for each reader."""
    zone = handoff.case.customer_timezone
    local = since.astimezone(ZoneInfo(zone))
    return f"Next customer contact overdue since {local:%a %d %b %H:%M} ({zone})"


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
        title = f"Customer contact in {in_words(contact.at - now)}: case {number}"
    else:
        title = f"Customer contact overdue by {in_words(now - contact.at)}: case {number}"
    badge = f"Sev {case.severity.value}" + (" · 24x7" if case.is_24x7 else "")
    body: list[Json] = [
        heading(title),
        facts(
            [
                ("Case", f"{number} · {badge} · {safe(clip(case.product_skill, 60))}"),
                ("Title", safe(clip(case.title, MAX_LINE_CHARS))),
                ("Customer", f"{case.customer_region} ({case.customer_timezone})"),
                ("Promised", safe(clip(contact.who_waits, MAX_LINE_CHARS))),
                ("When, for you", format_in_zone(contact.at, zone)),
                ("For the customer", format_in_zone(contact.at, case.customer_timezone)),
            ]
        ),
    ]
    steps = handoff.notes.next_steps_us
    if steps:
        shown = [f"- {safe(clip(step, MAX_LINE_CHARS))}" for step in steps[:MAX_STEPS_SHOWN]]
        body += [text("Our next steps", weight="Bolder"), text("\n".join(shown))]
    if waiting(handoff):
        body.append(text("Nobody has taken your handoff yet, so this contact is still yours."))
    if zone_note:
        body.append(text(zone_note, subtle=True))
    show = {
        "type": "Action.Submit",
        "title": "Show the case",
        # messageBack: the click says "status <case>" as if typed, and is answered as that.
        "data": {"msteams": {"type": "messageBack", "text": f"status {number}"}},
    }
    at = contact.at.astimezone(ZoneInfo(zone))
    summary = f"Customer contact for case {number} at {at:%H:%M} ({zone})"
    return card(body, [show], summary=summary)
