"""The Case Transfer card (R-CARD), the status timeline (R-STATUS) and compact lists.

Times use Adaptive Cards' DATE/TIME functions, so every reader sees them in their own zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handoff.access import VIEWER_VERBS, Viewer
from handoff.durations import in_words
from handoff.escalation import level_label
from handoff.journey import Journey
from handoff.long_running import why_not_flaggable
from handoff.models import AuditEvent, Handoff, HandoffState, Person
from handoff.schedule import MeetingOccurrence
from handoff.state_machine import Verb, allowed_verbs

from .commitment_card import overdue_lines
from .elements import (
    Json,
    card,
    clip,
    copyable,
    facts,
    heading,
    more_line,
    open_case,
    safe,
    text,
    text_input,
)
from .user_views import placed, refresh_block

ACTION_TITLES = {
    Verb.ACCEPT: "Accept",
    Verb.MORE_INFO: "Need more info",
    Verb.BACK_TO_QUEUE: "Back to queue",
    Verb.ESCALATE: "Escalate to SME",
    Verb.CANCEL: "Cancel",
    Verb.LONG_RUNNING: "Long-running",
    Verb.PROVIDE_INFO: "Answer the question",
}
# Verbs whose button first opens a text box: what the clicker must say with it.
VERB_INPUTS = {
    Verb.MORE_INFO: ("question", "What do you need to know before taking the case?"),
    Verb.BACK_TO_QUEUE: ("reason", "Why does the case go back to the queue?"),
    Verb.LONG_RUNNING: (
        "why",
        "Why is the case long-running? (e.g. the customer works in two zones)",
    ),
    Verb.PROVIDE_INFO: ("answer", "Your answer"),
}
# Answering a question is the requester's alone, so only their copy offers it (besides the
# answer card in their personal chat).
CARD_VERBS = tuple(ACTION_TITLES)

# How much of long texts, lists and histories the cards show: the card is where a case stands,
# the notes hold the rest, and Teams refuses a message much above 28 KB.
SHOWN_CHARS = {"summary": 600, "reason": 400, "question": 800, "long_running": 300}
MAX_LINE_CHARS = 200
MAX_STEPS_SHOWN = 6
MAX_HISTORY_SHOWN = 8
MAX_HOPS_SHOWN = 6
MAX_NAME_CHARS = 60
MAX_DETAIL_CHARS = 200
MAX_LISTED = 20

_STATE_COLOURS = {
    HandoffState.REQUESTED: "Attention",
    HandoffState.MORE_INFO_NEEDED: "Warning",
    HandoffState.BACK_TO_QUEUE: "Warning",
    HandoffState.ESCALATED: "Warning",
    HandoffState.ACCEPTED: "Good",
    HandoffState.CANCELLED: "Default",
}


def local_time(at: datetime) -> str:
    """Rendered by Teams in the reader's own time zone."""
    iso = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({iso}, SHORT)}}}} {{{{TIME({iso})}}}}"


def mention(person: Person) -> tuple[str, Json]:
    name = safe(person.name or person.id)
    tag = f"<at>{name}</at>"
    return tag, {"type": "mention", "text": tag, "mentioned": {"id": person.id, "name": name}}


def _badge(handoff: Handoff) -> str:
    case = handoff.case
    badge = f"Sev {case.severity.value}"
    return f"{badge} · 24x7" if case.is_24x7 else badge


def _state_line(handoff: Handoff) -> Json:
    words = handoff.state.value.replace("-", " ").capitalize()
    if handoff.state is HandoffState.ACCEPTED and handoff.owner:
        words += f" by {safe(handoff.owner.name or handoff.owner.id)}"
    # Since when it is in this state: a change that keeps the state (a technical escalation,
    # a flag, a revision) does not move it.
    words += f" · {local_time(handoff.state_since or handoff.updated_at)}"
    return {
        "type": "TextBlock",
        "text": words,
        "weight": "Bolder",
        "color": _STATE_COLOURS[handoff.state],
        "wrap": True,
    }


def _execute(verb: Verb, handoff: Handoff, *, title: str = "", confirmed: bool = False) -> Json:
    data: Json = {"handoff_id": handoff.id, "version": handoff.version}
    if confirmed:
        data["instead"] = True
    title = title or ACTION_TITLES[verb]
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": data,
        # Clients without Universal Actions send the same data as a message.
        "fallback": {"type": "Action.Submit", "title": title, "data": {"verb": verb, **data}},
    }


def _action(verb: Verb, handoff: Handoff) -> Json:
    if verb not in VERB_INPUTS:
        return _execute(verb, handoff)
    input_id, label = VERB_INPUTS[verb]
    return {
        "type": "Action.ShowCard",
        "title": ACTION_TITLES[verb],
        "card": {
            "type": "AdaptiveCard",
            "body": [text_input(input_id, label, multiline=True, required=True, max_length=1000)],
            "actions": [_execute(verb, handoff)],
        },
    }


def _lines(items: Sequence[str]) -> str:
    shown = [f"- {safe(clip(item, MAX_LINE_CHARS))}" for item in items[:MAX_STEPS_SHOWN]]
    if len(items) > MAX_STEPS_SHOWN:
        shown.append(f"- \u2026 {len(items) - MAX_STEPS_SHOWN} more")
    return "\n".join(shown)


def handoff_summary(handoff: Handoff) -> str:
    """The card in a line, for notifications: the case, where it goes and where it stands."""
    state = handoff.state.value.replace("-", " ")
    if handoff.state is HandoffState.ACCEPTED and handoff.owner:
        state += f" by {handoff.owner.name or handoff.owner.id}"
    route = f"{handoff.from_region} → {handoff.target_region}"
    return f"Case {handoff.case.number} · {_badge(handoff)} · {route}: {state}"


def handoff_card(
    handoff: Handoff,
    *,
    notice: str | None = None,
    history: Sequence[AuditEvent] = (),
    viewer: Viewer = Viewer.TEAM,
    instead_of: str | None = None,
    journey: Journey | None = None,
    refresh_users: Sequence[str] | None = None,
    now: datetime | None = None,
    case_url_template: str | None = None,
) -> Json:
    """The handoff's card as `viewer` gets it: the same facts for everyone, and the buttons
    that reader may press (the team's, in a channel; the requester's or a lead's own, in their
    personal chat), their own first and the rest in the overflow menu, and "Open case" with a
    case system's `case_url_template`. `status` adds the case's journey; `refresh_users` makes
    Teams ask for these people's own copies (cards/user_views.py); `now`, whether the next
    customer contact is overdue."""
    case, notes = handoff.case, handoff.notes
    requester_tag, requester_entity = mention(handoff.requester)
    entities = [requester_entity]
    body: list[Json] = []
    if notice:
        body.append({"type": "Container", "style": "attention", "items": [text(notice)]})
    body += [
        heading(f"Case {case.number} · {_badge(handoff)}"),
        _state_line(handoff),
        text(f"Requested by {requester_tag} · {local_time(handoff.created_at)}"),
        *overdue_lines(handoff, now),
    ]
    if handoff.long_running:
        body.append(
            {
                "type": "TextBlock",
                "text": "Long-running case: "
                + safe(clip(handoff.long_running, SHOWN_CHARS["long_running"])),
                "color": "Warning",
                "weight": "Bolder",
                "wrap": True,
            }
        )
    if handoff.technical_level:
        level = level_label(handoff.technical_level)
        body.append(
            {
                "type": "TextBlock",
                "text": f"Technical escalation: {safe(level)}",
                "color": "Warning",
                "weight": "Bolder",
                "wrap": True,
            }
        )
    if handoff.target_engineer is not None:
        engineer_tag, engineer_entity = mention(handoff.target_engineer)
        entities.append(engineer_entity)
        body.append(text(f"For {engineer_tag}"))
    contact = notes.next_customer_contact
    body.append(
        facts(
            [
                ("Route", f"{handoff.from_region} → {handoff.target_region}"),
                ("Plan", case.plan.value),
                ("Skill", safe(clip(case.product_skill, MAX_LINE_CHARS))),
                ("Reason", safe(clip(handoff.reason, SHOWN_CHARS["reason"]))),
                (
                    "Next contact",
                    f"{local_time(contact.at)} · {safe(clip(contact.who_waits, MAX_LINE_CHARS))}"
                    if contact
                    else "",
                ),
            ]
        )
    )
    if handoff.outputs is not None:
        body.append(copyable("internal_title", "Internal title", handoff.outputs.title))
    if notes.summary:
        summary = clip(notes.summary, SHOWN_CHARS["summary"])
        body += [text("Summary", weight="Bolder"), text(safe(summary))]
    if notes.next_steps_us or notes.next_steps_customer:
        body.append(text("Next steps", weight="Bolder"))
        if notes.next_steps_customer:
            body.append(text("Customer:\n" + _lines(notes.next_steps_customer)))
        if notes.next_steps_us:
            body.append(text("Us:\n" + _lines(notes.next_steps_us)))
    if handoff.open_question:
        body += [
            text("Question to the requester", weight="Bolder"),
            text(safe(clip(handoff.open_question, SHOWN_CHARS["question"]))),
        ]
    if journey is not None and journey.worth_showing:
        body += journey_section(journey)
    if history:
        # The latest steps; the earlier ones are counted (every step is in the audit trail).
        earlier = len(history) - MAX_HISTORY_SHOWN
        body.append(text("History", weight="Bolder"))
        if earlier > 0:
            body.append(more_line(earlier, "earlier steps"))
        body.append(text(timeline(history[-MAX_HISTORY_SHOWN:])))
    actions = [
        placed(
            # Someone the handoff is not meant for confirms they take it instead.
            _execute(verb, handoff, title=f"Take it instead of {safe(instead_of)}", confirmed=True)
            if verb == Verb.ACCEPT and instead_of
            else _action(verb, handoff),
            verb,
            viewer,
        )
        for verb in viewer_verbs(handoff, viewer)
    ]
    actions += open_case(case.number, case_url_template)
    content = card(body, actions, summary=handoff_summary(handoff))
    content["msteams"]["entities"] = entities
    if refresh_users is not None:
        content["refresh"] = refresh_block(handoff, refresh_users)
    return content


def journey_section(journey: Journey) -> list[Json]:
    """The case's hops in a line, the latest last: "EMEA (Ana) 2 hours → US (Bo) 40 minutes
    so far → waiting for APAC since …"; a long journey shows its latest hops and counts the
    earlier ones, as the history does."""
    parts = []
    for hop in journey.hops[-MAX_HOPS_SHOWN:]:
        owner = safe(clip(hop.owner.name or hop.owner.id, MAX_NAME_CHARS))
        spent = in_words(hop.spent) + (" so far" if hop.current else "")
        parts.append(f"**{hop.region}** ({owner}) {spent}")
    waiting = journey.waiting
    if waiting is not None:
        if waiting.back_in_queue:
            parts.append(f"back in the queue since {local_time(waiting.since)}")
        else:
            who = waiting.region
            if waiting.engineer is not None:
                person = waiting.engineer
                who += f" ({safe(clip(person.name or person.id, MAX_NAME_CHARS))})"
            parts.append(f"waiting for {who} since {local_time(waiting.since)}")
    section = [text("Journey", weight="Bolder")]
    earlier = len(journey.hops) - MAX_HOPS_SHOWN
    if earlier > 0:
        section.append(more_line(earlier, "earlier hops"))
    return [*section, text(" → ".join(parts))]


def _possible(handoff: Handoff) -> list[Verb]:
    """What can be done to the handoff now, in the card's order: its state's moves, then
    flagging it long-running (R-LONG by hand) where the case can be."""
    verbs = allowed_verbs(handoff.state)
    if why_not_flaggable(handoff) is None:
        verbs.append(Verb.LONG_RUNNING)
    return verbs


def viewer_verbs(handoff: Handoff, viewer: Viewer) -> list[Verb]:
    """The buttons `viewer`'s copy of this version of the card offers."""
    return [v for v in _possible(handoff) if v in CARD_VERBS and v in VIEWER_VERBS[viewer]]


def offered_verbs(handoff: Handoff) -> list[Verb]:
    """The buttons this version of the handoff's cards offers, whoever's copy (the
    requester's answer card included), so a click on anything else is known to be forged."""
    offered = {verb for viewer in Viewer for verb in viewer_verbs(handoff, viewer)}
    return [v for v in _possible(handoff) if v in offered or v == Verb.PROVIDE_INFO]


# What each kind of event reads as in a history: what the person did, in plain words.
EVENT_WORDS = {
    "requested": "requested",
    "revised": "updated the request",
    "accept": "accepted",
    "more_info": "asked for more information",
    "provide_info": "answered",
    "back_to_queue": "sent it back to the queue",
    "escalate": "escalated to the regional SME",
    "cancel": "cancelled",
    "long_running": "marked it long-running",
    "technical_escalation": "escalated technically",
    "escalation_requested": "asked to escalate to the vendor",
}


def timeline(history: Sequence[AuditEvent]) -> str:
    lines = []
    for event in history:
        who = safe(event.actor.name or event.actor.id)
        what = EVENT_WORDS.get(event.kind, event.kind.replace("_", " "))
        if event.data.get("instead_of"):
            what = f"took it instead of {event.data['instead_of']}"
        # The first words worth reading: not the flowchart path, not an id.
        detail = next(
            iter(
                v
                for k, v in event.data.items()
                if k not in ("path", "instead_of") and not k.endswith("_id") and isinstance(v, str)
            ),
            "",
        )
        suffix = f": {safe(clip(detail, MAX_DETAIL_CHARS))}" if detail else ""
        lines.append(f"- {local_time(event.at)} · {who} · {what}{suffix}")
    return "\n".join(lines)


def handoff_list_card(
    title: str,
    handoffs: Sequence[Handoff],
    empty: str,
    *,
    summary: str = "",
    now: datetime | None = None,
) -> Json:
    body: list[Json] = [heading(title)]
    if not handoffs:
        body.append(text(empty))
    for handoff in handoffs[:MAX_LISTED]:
        state = handoff.state.value.replace("-", " ")
        skill = clip(handoff.case.product_skill, 60)
        body.append(
            text(
                f"**{handoff.case.number}** · {_badge(handoff)} · {handoff.from_region} → "
                f"{handoff.target_region} · {state} · {local_time(handoff.created_at)}\n"
                f"{safe(skill)}: {safe(clip(handoff.notes.summary, 140))}"
            )
        )
        body += overdue_lines(handoff, now)
    if len(handoffs) > MAX_LISTED:
        body.append(more_line(len(handoffs) - MAX_LISTED, "handoffs not shown"))
    count = f"{len(handoffs)} handoff{'s' if len(handoffs) != 1 else ''}" if handoffs else "none"
    return card(body, summary=f"{summary or title}: {count}")


def answer_card(handoff: Handoff, case_url_template: str | None = None) -> Json:
    """Asks the requester, in their personal chat, the receiving side's question."""
    question = safe(clip(handoff.open_question or "", 1500))
    data = {"verb": Verb.PROVIDE_INFO.value, "handoff_id": handoff.id, "version": handoff.version}
    return card(
        [
            heading(f"Case {handoff.case.number}: a question before it is taken"),
            text(question),
            text_input("answer", "Your answer", multiline=True, required=True, max_length=2000),
        ],
        [
            {"type": "Action.Submit", "title": "Send the answer", "data": data},
            *open_case(handoff.case.number, case_url_template),
        ],
    )


def agenda_card(meeting: MeetingOccurrence, handoffs: Sequence[Handoff]) -> Json:
    """What a regional handoff meeting must cover."""
    title = (
        f"Agenda: {meeting.meeting.from_region} → {', '.join(meeting.meeting.to_regions)} "
        f"handoff meeting, {local_time(meeting.at)}"
    )
    route = f"{meeting.meeting.from_region} → {', '.join(meeting.meeting.to_regions)}"
    return handoff_list_card(
        title,
        handoffs,
        "No open handoffs to discuss.",
        summary=f"Agenda of the {route} handoff meeting",
    )


def shift_end_card(cases: Sequence[Handoff], shift_end: datetime) -> Json:
    """Before the end of an engineer's shift: their open critical cases, each with a button
    that starts its handoff."""
    body: list[Json] = [
        heading("Your shift ends soon"),
        text(f"Your shift ends {local_time(shift_end)}. These critical cases are yours:"),
    ]
    actions: list[Json] = []
    for handoff in cases[:MAX_LISTED]:
        number = handoff.case.number
        skill = safe(clip(handoff.case.product_skill, 60))
        body.append(text(f"**{number}** · {_badge(handoff)} · {skill}"))
        actions.append(
            {
                "type": "Action.Submit",
                "title": f"Start handoff {number}",
                # messageBack: the click says "handoff <case>" as if typed.
                "data": {"msteams": {"type": "messageBack", "text": f"handoff {number}"}},
            }
        )
    if len(cases) > MAX_LISTED:
        body.append(more_line(len(cases) - MAX_LISTED, "critical cases: type **mine** for all"))
    return card(body, actions)
