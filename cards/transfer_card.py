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
from i18n import _, ngettext

from .commitment_card import overdue_lines
from .elements import (
    ELLIPSIS,
    Json,
    card,
    clip,
    copyable,
    facts,
    heading,
    isolated,
    more_line,
    name_text,
    open_case,
    safe,
    severity_badge,
    text,
    text_input,
)
from .handoff_words import (
    CARD_VERBS,
    VERB_INPUTS,
    action_title,
    reason_words,
    state_inline,
    state_words,
    timeline,
    who_waits_words,
)
from .handoff_words import local_time as local_time
from .user_views import PRIMARY_VERBS, placed, refresh_block

# How much of long texts, lists and histories the cards show: the card is where a case stands,
# the notes hold the rest, and Teams refuses a message much above 28 KB.
SHOWN_CHARS = {"summary": 600, "reason": 400, "question": 800, "long_running": 300}
MAX_LINE_CHARS = 200
MAX_STEPS_SHOWN = 6
MAX_HISTORY_SHOWN = 8
MAX_HOPS_SHOWN = 6
MAX_NAME_CHARS = 60
MAX_LISTED = 20

_STATE_COLOURS = {
    HandoffState.REQUESTED: "Attention",
    HandoffState.MORE_INFO_NEEDED: "Warning",
    HandoffState.BACK_TO_QUEUE: "Warning",
    HandoffState.ESCALATED: "Warning",
    HandoffState.ACCEPTED: "Good",
    HandoffState.CANCELLED: "Default",
}


def mention(person: Person) -> tuple[str, Json]:
    name = safe(person.name or person.id)
    tag = f"<at>{name}</at>"
    return tag, {"type": "mention", "text": tag, "mentioned": {"id": person.id, "name": name}}


def _badge(handoff: Handoff) -> str:
    return severity_badge(handoff.case)


def _state_line(handoff: Handoff) -> Json:
    words = state_words(handoff.state)
    if handoff.state is HandoffState.ACCEPTED and handoff.owner:
        words = _("Accepted by {name}").format(
            name=name_text(handoff.owner.name or handoff.owner.id)
        )
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
    title = title or action_title(verb)
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
        "title": action_title(verb),
        "card": {
            "type": "AdaptiveCard",
            "body": [
                text_input(input_id, _(label), multiline=True, required=True, max_length=1000)
            ],
            "actions": [_execute(verb, handoff)],
        },
    }


def _lines(items: Sequence[str]) -> str:
    shown = [f"- {safe(clip(item, MAX_LINE_CHARS))}" for item in items[:MAX_STEPS_SHOWN]]
    more = len(items) - MAX_STEPS_SHOWN
    if more > 0:
        shown.append(
            f"- {ELLIPSIS} " + ngettext("{count} more", "{count} more", more).format(count=more)
        )
    return "\n".join(shown)


def handoff_summary(handoff: Handoff) -> str:
    """The card in a line, for notifications: the case, where it goes and where it stands."""
    route = f"{handoff.from_region} → {handoff.target_region}"
    return _("Case {number} · {badge} · {route}: {state}").format(
        number=handoff.case.number, badge=_badge(handoff), route=route, state=state_inline(handoff)
    )


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
        heading(_("Case {number} · {badge}").format(number=case.number, badge=_badge(handoff))),
        _state_line(handoff),
        text(
            _("Requested by {name} · {time}").format(
                name=isolated(requester_tag), time=local_time(handoff.created_at)
            )
        ),
        *overdue_lines(handoff, now),
    ]
    if handoff.long_running:
        body.append(
            {
                "type": "TextBlock",
                "text": _("Long-running case: {why}").format(
                    why=safe(clip(handoff.long_running, SHOWN_CHARS["long_running"]))
                ),
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
                "text": _("Technical escalation: {level}").format(level=safe(level)),
                "color": "Warning",
                "weight": "Bolder",
                "wrap": True,
            }
        )
    if handoff.target_engineer is not None:
        engineer_tag, engineer_entity = mention(handoff.target_engineer)
        entities.append(engineer_entity)
        body.append(text(_("For {name}").format(name=isolated(engineer_tag))))
    contact = notes.next_customer_contact
    body.append(
        facts(
            [
                (_("Route"), f"{handoff.from_region} → {handoff.target_region}"),
                (_("Plan"), case.plan.value),
                (_("Skill"), safe(clip(case.product_skill, MAX_LINE_CHARS))),
                (_("Reason"), safe(clip(reason_words(handoff), SHOWN_CHARS["reason"]))),
                (
                    _("Next contact"),
                    f"{local_time(contact.at)} · "
                    f"{safe(clip(who_waits_words(contact.who_waits), MAX_LINE_CHARS))}"
                    if contact
                    else "",
                ),
            ]
        )
    )
    if handoff.outputs is not None:
        body.append(copyable("internal_title", _("Internal title"), handoff.outputs.title))
    if notes.summary:
        summary = clip(notes.summary, SHOWN_CHARS["summary"])
        body += [text(_("Summary"), weight="Bolder"), text(safe(summary))]
    if notes.next_steps_us or notes.next_steps_customer:
        body.append(text(_("Next steps"), weight="Bolder"))
        if notes.next_steps_customer:
            body.append(text(_("Customer:") + "\n" + _lines(notes.next_steps_customer)))
        if notes.next_steps_us:
            body.append(text(_("Us:") + "\n" + _lines(notes.next_steps_us)))
    if handoff.open_question:
        body += [
            text(_("Question to the requester"), weight="Bolder"),
            text(safe(clip(handoff.open_question, SHOWN_CHARS["question"]))),
        ]
    if journey is not None and journey.worth_showing:
        body += journey_section(journey)
    if history:
        # The latest steps; the earlier ones are counted (every step is in the audit trail).
        earlier = len(history) - MAX_HISTORY_SHOWN
        body.append(text(_("History"), weight="Bolder"))
        if earlier > 0:
            body.append(
                more_line(
                    ngettext(
                        "{count} more earlier step", "{count} more earlier steps", earlier
                    ).format(count=earlier)
                )
            )
        body.append(text(timeline(history[-MAX_HISTORY_SHOWN:])))
    actions = [
        placed(
            # Someone the handoff is not meant for confirms they take it instead.
            _execute(
                verb,
                handoff,
                title=_("Take it instead of {name}").format(name=name_text(instead_of)),
                confirmed=True,
            )
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
        owner = name_text(clip(hop.owner.name or hop.owner.id, MAX_NAME_CHARS))
        spent = in_words(hop.spent)
        if hop.current:
            # Translators: {time} is how long the region has had the case, e.g. "2 hours".
            spent = _("{time} so far").format(time=spent)
        parts.append(f"**{hop.region}** ({owner}) {spent}")
    waiting = journey.waiting
    if waiting is not None:
        since = local_time(waiting.since)
        if waiting.back_in_queue:
            parts.append(_("back in the queue since {time}").format(time=since))
        else:
            who = waiting.region
            if waiting.engineer is not None:
                person = waiting.engineer
                who += f" ({name_text(clip(person.name or person.id, MAX_NAME_CHARS))})"
            # Translators: {who} is a region, with the engineer it is meant for in brackets.
            parts.append(_("waiting for {who} since {time}").format(who=who, time=since))
    section = [text(_("Journey"), weight="Bolder")]
    earlier = len(journey.hops) - MAX_HOPS_SHOWN
    if earlier > 0:
        section.append(
            more_line(
                ngettext("{count} more earlier hop", "{count} more earlier hops", earlier).format(
                    count=earlier
                )
            )
        )
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


def same_as_teams(handoff: Handoff, viewer: Viewer) -> bool:
    """Whether `viewer`'s copy of this version of the card is the team's: the same buttons,
    each in the same place."""

    def buttons(of: Viewer) -> list[tuple[Verb, bool]]:
        return [(verb, verb in PRIMARY_VERBS[of]) for verb in viewer_verbs(handoff, of)]

    return viewer is Viewer.TEAM or buttons(viewer) == buttons(Viewer.TEAM)


def offered_verbs(handoff: Handoff) -> list[Verb]:
    """The buttons this version of the handoff's cards offers, whoever's copy (the
    requester's answer card included), so a click on anything else is known to be forged."""
    offered = {verb for viewer in Viewer for verb in viewer_verbs(handoff, viewer)}
    return [v for v in _possible(handoff) if v in offered or v == Verb.PROVIDE_INFO]


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
        state = state_words(handoff.state, inline=True)
        skill = clip(handoff.case.product_skill, 60)
        body.append(
            text(
                f"**{handoff.case.number}** · {_badge(handoff)} · {handoff.from_region} → "
                f"{handoff.target_region} · {state} · {local_time(handoff.created_at)}\n"
                f"{safe(skill)}: {safe(clip(handoff.notes.summary, 140))}"
            )
        )
        body += overdue_lines(handoff, now)
    more = len(handoffs) - MAX_LISTED
    if more > 0:
        body.append(
            more_line(
                ngettext(
                    "{count} more handoff not shown", "{count} more handoffs not shown", more
                ).format(count=more)
            )
        )
    if handoffs:
        count = ngettext("{count} handoff", "{count} handoffs", len(handoffs)).format(
            count=len(handoffs)
        )
    else:
        count = _("none")
    # Translators: the list's notification text: "Open handoffs: 3 handoffs".
    return card(body, summary=_("{title}: {count}").format(title=summary or title, count=count))


def answer_card(handoff: Handoff, case_url_template: str | None = None) -> Json:
    """Asks the requester, in their personal chat, the receiving side's question."""
    question = safe(clip(handoff.open_question or "", 1500))
    data = {"verb": Verb.PROVIDE_INFO.value, "handoff_id": handoff.id, "version": handoff.version}
    return card(
        [
            heading(
                _("Case {number}: a question before it is taken").format(number=handoff.case.number)
            ),
            text(question),
            text_input("answer", _("Your answer"), multiline=True, required=True, max_length=2000),
        ],
        [
            {"type": "Action.Submit", "title": _("Send the answer"), "data": data},
            *open_case(handoff.case.number, case_url_template),
        ],
    )


def agenda_card(meeting: MeetingOccurrence, handoffs: Sequence[Handoff]) -> Json:
    """What a regional handoff meeting must cover."""
    # The regions, written as a route ("EMEA → US, APAC"), not as a sentence.
    route = f"{meeting.meeting.from_region} → {', '.join(meeting.meeting.to_regions)}"
    # Translators: {route} is "EMEA → US, APAC"; {time} the meeting's date and time.
    title = _("Agenda: {route} handoff meeting, {time}").format(
        route=route, time=local_time(meeting.at)
    )
    return handoff_list_card(
        title,
        handoffs,
        _("No open handoffs to discuss."),
        summary=_("Agenda of the {route} handoff meeting").format(route=route),
    )


def shift_end_card(cases: Sequence[Handoff], shift_end: datetime) -> Json:
    """Before the end of an engineer's shift: their open critical cases, each with a button
    that starts its handoff."""
    body: list[Json] = [
        heading(_("Your shift ends soon")),
        text(
            _("Your shift ends {time}. These critical cases are yours:").format(
                time=local_time(shift_end)
            )
        ),
    ]
    actions: list[Json] = []
    for handoff in cases[:MAX_LISTED]:
        number = handoff.case.number
        skill = safe(clip(handoff.case.product_skill, 60))
        body.append(text(f"**{number}** · {_badge(handoff)} · {skill}"))
        actions.append(
            {
                "type": "Action.Submit",
                "title": _("Start handoff {number}").format(number=number),
                # messageBack: the click says "handoff <case>" as if typed.
                "data": {"msteams": {"type": "messageBack", "text": f"handoff {number}"}},
            }
        )
    more = len(cases) - MAX_LISTED
    if more > 0:
        body.append(
            more_line(
                # Translators: **mine** is the command that lists one's cases; write it as the
                # bot understands it.
                ngettext(
                    "{count} more critical case: type **mine** for all",
                    "{count} more critical cases: type **mine** for all",
                    more,
                ).format(count=more)
            )
        )
    return card(body, actions)
