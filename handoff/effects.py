"""What has to happen after a handoff changes, as outbox messages the bot carries out later:
the Case Transfer card posted or updated, people told (R-CARD, R-STAY)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from i18n import _

from .models import AuditEvent, Handoff, HandoffState, Person, as_utc
from .ports import OutboxMessage


class OutboxKind(StrEnum):
    """What an outbox item asks the bot to do; each has one handler (the worker checks at
    start-up that every kind has one)."""

    POST_CARD = "post_card"
    UPDATE_CARD = "update_card"
    NOTIFY = "notify"
    STAY_REMINDER = "stay_reminder"
    CREATE_GROUP_CHAT = "create_group_chat"
    INSTALL_CHAT_APP = "install_chat_app"
    POST_CHAT_SUMMARY = "post_chat_summary"
    CHAT_SHIFT_REMINDER = "chat_shift_reminder"
    PLAN_REMINDERS = "plan_reminders"
    SEND_APPROVAL_CARD = "send_approval_card"
    UPDATE_APPROVAL_CARD = "update_approval_card"
    # One item for every lead, as enqueued before each lead's card became its own item: an item
    # of these kinds still waiting after an upgrade is turned into the per-lead ones.
    SEND_APPROVAL_CARDS = "send_approval_cards"
    UPDATE_APPROVAL_CARDS = "update_approval_cards"
    SHIFT_END_REMINDER = "shift_end_reminder"
    MEETING_AGENDA = "meeting_agenda"
    REPORT_UNDELIVERED = "report_undelivered"
    REPORT_DEAD_LETTERS = "report_dead_letters"
    PURGE_EXPIRED = "purge_expired"
    WEEKLY_DIGEST = "weekly_digest"
    # The customer's next contact, before it is due (handoff/notes/commitment.py).
    COMMITMENT_REMINDER = "commitment_reminder"
    # A handoff someone started from a message (the compose box): its dialog begun in their
    # personal chat, with the message's notes filled in.
    OPEN_HANDOFF = "open_handoff"


# The payload key of a message meant for a person that names who hears of it should it never
# reach them (see if_undelivered).
IF_UNDELIVERED = "if_undelivered"
# A storm of dead letters about one subject is told once per person in this window.
UNDELIVERED_WINDOW = timedelta(hours=1)

# How often, at most, each admin hears that outbox items became dead letters.
DEAD_LETTER_WINDOW = timedelta(hours=1)

# How often the reminders are planned ahead; any process may plan, the keys make it once.
PLANNING_INTERVAL = timedelta(minutes=10)

# Outbox lanes are keyed by the conversation a message goes to, whatever feature decided
# it: what goes to one conversation goes out in the order it was decided.
CASE_TRANSFER_LANE = "case-transfer"


def chat_lane(person: Person) -> str:
    """The lane of a person's personal chat with the bot. Named by the Azure AD object id
    where known: a person met in Teams (id "29:...") and the same person listed as a lead in
    the config (id = object id) have one chat, so one lane."""
    if person.aad_object_id:
        return f"chat:{person.aad_object_id.lower()}"  # a GUID, whatever case it was typed in
    return f"chat:{person.id}"


def group_chat_lane(case_number: str) -> str:
    """The lane of a long-running case's group chat: the steps that make it (Graph calls)
    come before anything posted in it."""
    return f"groupchat:{case_number}"


def if_undelivered(
    tell: Person, about: str, subject: str, topic: str, batch: Sequence[str]
) -> dict[str, Any]:
    """What a message meant for a person carries so that, should it become a dead letter,
    `tell` (the requester it was sent for) hears that it did not arrive: `about` names the
    message ("the approval card for escalating case 123"), `subject` what it concerned in
    words ("case 123"), `topic` the same as a key (one report per person and topic in a
    window), `batch` the keys of the messages decided with it (the report waits for them
    all, so that one failure and its siblings are told together)."""
    return {
        "tell": tell.model_dump(),
        "about": about,
        "subject": subject,
        "topic": topic,
        "batch": list(batch),
    }


def _notify_key(handoff: Handoff, person: Person) -> str:
    return f"notify:{handoff.id}:v{handoff.version}:{person.id}"


def _notify(
    handoff: Handoff,
    person: Person,
    text: str,
    at: datetime,
    *,
    ask: bool = False,
    undelivered: dict[str, Any] | None = None,
) -> OutboxMessage:
    payload: dict[str, Any] = {
        "person": person.model_dump(),
        "text": text,
        "handoff_id": handoff.id,
        "version": handoff.version,
        "ask_answer": ask,
    }
    if undelivered is not None:
        payload[IF_UNDELIVERED] = undelivered
    return OutboxMessage(
        kind=OutboxKind.NOTIFY,
        payload=payload,
        dedupe_key=_notify_key(handoff, person),
        not_before=at,
        lane=chat_lane(person),
    )


def _case_topic(number: str) -> tuple[str, str]:
    """A case's subject in words and as a key."""
    # Translators: what some messages were about, in "Some of my messages about {subject} did
    # not reach the people they were for".
    return _("case {number}").format(number=number), f"case:{number}"


def stay_reminder(handoff: Handoff, at: datetime, number: int) -> OutboxMessage:
    return OutboxMessage(
        kind=OutboxKind.STAY_REMINDER,
        payload={"handoff_id": handoff.id, "number": number},
        dedupe_key=f"stay:{handoff.id}:{number}",
        not_before=at,
        lane=chat_lane(handoff.requester),
    )


def _to_channel(kind: str, payload: dict[str, Any], key: str, at: datetime) -> OutboxMessage:
    return OutboxMessage(
        kind=kind, payload=payload, dedupe_key=key, not_before=at, lane=CASE_TRANSFER_LANE
    )


def post_card(handoff: Handoff, at: datetime, channel_id: str = "") -> OutboxMessage:
    """The handoff's card to the Case Transfer channel; once per channel it is bound to."""
    key = f"post:{handoff.id}:{channel_id}" if channel_id else f"post:{handoff.id}"
    return _to_channel(OutboxKind.POST_CARD, {"handoff_id": handoff.id}, key, at)


def card_update(after: Handoff, at: datetime, card: dict[str, Any] | None = None) -> OutboxMessage:
    """The channel card brought up to this version; `card`, built for it, is sent as it is."""
    payload = {"handoff_id": after.id, "version": after.version, **({"card": card} if card else {})}
    return _to_channel(OutboxKind.UPDATE_CARD, payload, f"card:{after.id}:v{after.version}", at)


def on_request(handoff: Handoff, stay_interval: timedelta) -> list[OutboxMessage]:
    """A new handoff goes to the Case Transfer channel; a critical one starts R-STAY."""
    at = handoff.created_at
    messages = [post_card(handoff, at)]
    if handoff.case.is_critical:
        messages.append(stay_reminder(handoff, at + stay_interval, 1))
    return messages


def _who(person: Person) -> str:
    # Translators: a person whose name is unknown, at the start of a sentence.
    return person.name or _("Someone")


def on_change(
    after: Handoff, event: AuditEvent, smes: tuple[Person, ...] = ()
) -> list[OutboxMessage]:
    """The card follows every change; the requester hears of what others did."""
    at = event.at
    messages = [card_update(after, at)]
    number, actor = after.case.number, event.actor
    # Only a move of the state is news for the requester; a revision or a flag is not.
    if actor.id == after.requester.id or event.from_state == event.to_state:
        return messages
    # In the language of the person who acted (the turn's): the requester's is not known here.
    said = {"who": _who(actor), "number": number}
    if after.state is HandoffState.ACCEPTED:
        text = _("{who} accepted your handoff of case {number} and owns it now.").format(**said)
        instead_of = event.data.get("instead_of")
        if instead_of:
            # Translators: {meant_for} is who the handoff was meant for: a name or "the US team".
            text = _(
                "{who} took your handoff of case {number} instead of {meant_for}, and owns it now."
            ).format(**said, meant_for=instead_of)
        messages.append(_notify(after, after.requester, text, at))
    elif after.state is HandoffState.MORE_INFO_NEEDED:
        text = _(
            "{who} needs more information before taking case {number}: “{question}”. Answer "
            "with the card below, or just type your answer here; it is added to the notes."
        ).format(**said, question=event.data.get("question", ""))
        messages.append(_notify(after, after.requester, text, at, ask=True))
    elif after.state is HandoffState.BACK_TO_QUEUE:
        text = _("{who} sent case {number} back to the queue: {reason}").format(
            **said, reason=event.data.get("reason", "")
        )
        messages.append(_notify(after, after.requester, text, at))
    elif after.state is HandoffState.ESCALATED:
        text = _("{who} escalated case {number} to the regional handoff SME.").format(**said)
        if not smes:
            text += " " + no_sme_reachable()
        messages.append(_notify(after, after.requester, text, at))
        subject, topic = _case_topic(number)
        batch = [_notify_key(after, sme) for sme in smes]
        # Translators: a message that did not arrive, in a list of them.
        about = _("the notice that the handoff of case {number} was escalated to them")
        about = about.format(number=number)
        route = f"{after.from_region} → {after.target_region}"
        for sme in smes:
            sme_text = _(
                "{who} escalated the handoff of case {number} ({route}) to you. Its card is in "
                "the Case Transfer channel."
            ).format(**said, route=route)
            undelivered = if_undelivered(after.requester, about, subject, topic, batch)
            messages.append(_notify(after, sme, sme_text, at, undelivered=undelivered))
    return messages


def no_sme_reachable() -> str:
    # Translators: keep teams_id as it is: it is the name of a setting.
    return _(
        "I can message none of the regional handoff SMEs (their Teams ids are not in my "
        "configuration): contact your regional handoff SME yourself, and ask an admin to add "
        "their teams_id to the process file."
    )


def stay_sme_notices(
    handoff: Handoff, smes: Sequence[Person], text: str, at: datetime
) -> list[OutboxMessage]:
    """R-STAY: the regional SMEs hear that a critical handoff still has no owner, once per
    handoff; the requester hears if that reaches none of them."""
    keys = [f"stay-sme:{handoff.id}:{sme.id}" for sme in smes]
    subject, topic = _case_topic(handoff.case.number)
    # Translators: a message that did not arrive, in a list of them.
    about = _("the notice that the critical handoff of case {number} has no owner").format(
        number=handoff.case.number
    )
    return [
        OutboxMessage(
            kind=OutboxKind.NOTIFY,
            payload={
                "person": sme.model_dump(),
                "text": text,
                "handoff_id": handoff.id,
                IF_UNDELIVERED: if_undelivered(handoff.requester, about, subject, topic, keys),
            },
            dedupe_key=key,
            not_before=at,
            lane=chat_lane(sme),
        )
        for sme, key in zip(smes, keys, strict=True)
    ]


def on_long_running(handoff: Handoff, event: AuditEvent) -> list[OutboxMessage]:
    """R-LONG: the owner and the requester hear that the case is now long-running."""
    # Translators: {reason} is why, e.g. "it has gone round the globe: EMEA → US → APAC →
    # EMEA"; keep **longrunning** as it is: it is the command typed.
    text = _(
        "Case {number} is now long-running: {reason}. It should get one owner per region and a "
        "group chat; type **longrunning {number}** to see where it stands."
    ).format(number=handoff.case.number, reason=handoff.long_running)
    people = [p for p in (handoff.owner, handoff.requester) if p is not None]
    subject, topic = _case_topic(handoff.case.number)
    # Translators: a message that did not arrive, in a list of them.
    about = _("the notice that case {number} is now long-running").format(
        number=handoff.case.number
    )
    messages = []
    for person in people:
        key = f"long:{handoff.id}:{person.id}"
        payload: dict[str, Any] = {
            "person": person.model_dump(),
            "text": text,
            "handoff_id": handoff.id,
        }
        if person.id != handoff.requester.id:
            payload[IF_UNDELIVERED] = if_undelivered(
                handoff.requester, about, subject, topic, [key]
            )
        messages.append(
            OutboxMessage(
                kind=OutboxKind.NOTIFY,
                payload=payload,
                dedupe_key=key,
                not_before=event.at,
                lane=chat_lane(person),
            )
        )
    return messages


def group_chat_step(kind: str, case_number: str, at: datetime, attempt: str = "") -> OutboxMessage:
    """One step of making a long-running case's group chat; each runs once per case and
    attempt (the first has none; a retry after a permanent failure names its own)."""
    retry = f":retry:{attempt}" if attempt else ""
    return OutboxMessage(
        kind=kind,
        payload={"case_number": case_number, "attempt": attempt},
        dedupe_key=f"{kind}:{case_number}{retry}",
        not_before=at,
        lane=group_chat_lane(case_number),
    )


def chat_shift_reminder(case_number: str, region: str, at: datetime) -> OutboxMessage:
    """R-LONG: tell `region`'s owner in the case's chat that their shift is ending."""
    return OutboxMessage(
        kind=OutboxKind.CHAT_SHIFT_REMINDER,
        payload={"case_number": case_number, "region": region},
        dedupe_key=f"{OutboxKind.CHAT_SHIFT_REMINDER}:{case_number}:{region}:{at.isoformat()}",
        not_before=at,
        lane=group_chat_lane(case_number),
    )


def plan_reminders(at: datetime) -> OutboxMessage:
    """The next planning round, keyed by its time slot so that replicas plan it once."""
    slot = int(at.timestamp() // PLANNING_INTERVAL.total_seconds())
    return OutboxMessage(
        kind=OutboxKind.PLAN_REMINDERS,
        payload={},
        dedupe_key=f"{OutboxKind.PLAN_REMINDERS}:{slot}",
        not_before=at,
    )


def purge_expired(at: datetime, part: int = 0, day: str = "") -> OutboxMessage:
    """The retention purge of the day `at` falls on (application/outbox_steps/retention.py),
    keyed by that day so that every replica books it once; `part` > 0 goes on with a run that
    stopped to let other work through."""
    day = day or f"{as_utc(at):%Y-%m-%d}"
    return OutboxMessage(
        kind=OutboxKind.PURGE_EXPIRED,
        payload={"day": day, "part": part},
        dedupe_key=f"{OutboxKind.PURGE_EXPIRED}:{day}" + (f":{part}" if part else ""),
        not_before=at,
    )


def shift_end_reminder(person: Person, shift_end: datetime, at: datetime) -> OutboxMessage:
    return OutboxMessage(
        kind=OutboxKind.SHIFT_END_REMINDER,
        payload={"person": person.model_dump(), "shift_end": shift_end.isoformat()},
        dedupe_key=f"{OutboxKind.SHIFT_END_REMINDER}:{person.id}:{shift_end.isoformat()}",
        not_before=at,
        lane=chat_lane(person),
    )


def meeting_agenda(from_region: str, meeting_at: datetime, at: datetime) -> OutboxMessage:
    return OutboxMessage(
        kind=OutboxKind.MEETING_AGENDA,
        payload={"from_region": from_region, "meeting_at": meeting_at.isoformat()},
        dedupe_key=f"{OutboxKind.MEETING_AGENDA}:{from_region}:{meeting_at.isoformat()}",
        not_before=at,
        lane=CASE_TRANSFER_LANE,
    )


def weekly_digest(
    region: str, week: str, since: datetime, until: datetime, zone: str, at: datetime
) -> OutboxMessage:
    """`region`'s insights over [since, until) (the week before, in `zone`) to the Case
    Transfer channel at `at`; keyed by region and ISO week ("2027-W13"), so posted once."""
    return OutboxMessage(
        kind=OutboxKind.WEEKLY_DIGEST,
        payload={
            "region": region,
            "week": week,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "zone": zone,
        },
        dedupe_key=f"digest:{region}:{week}",
        not_before=at,
        lane=CASE_TRANSFER_LANE,
    )


def approval_card_key(kind: str, escalation_id: str, version: int, lead_id: str) -> str:
    return f"{kind}:{escalation_id}:v{version}:{lead_id}"


def approval_cards(
    escalation_id: str,
    version: int,
    leads: Sequence[Person],
    at: datetime,
    *,
    update: bool,
    requester: Person | None = None,
    case_number: str = "",
) -> list[OutboxMessage]:
    """R-ESC: each Team Leader's approval card, sent once or brought up to date after a
    decision, as an item of its own in that lead's chat lane: it goes out in order with
    everything else to that lead, and a lead whose chat is throttled or failing holds up
    no other lead. Each item names all the leads asked together (`asked`), so that the last
    one to fail for good can tell that the card reached nobody."""
    kind = OutboxKind.UPDATE_APPROVAL_CARD if update else OutboxKind.SEND_APPROVAL_CARD
    asked = [lead.model_dump() for lead in leads]
    keys = [approval_card_key(kind, escalation_id, version, lead.id) for lead in leads]
    payload: dict[str, Any] = {"escalation_id": escalation_id, "asked": asked}
    if requester is not None and not update:
        # A card that never arrives is told to the engineer who asked (an update of one
        # that did arrive is not news to them).
        subject, topic = _case_topic(case_number)
        # Translators: a message that did not arrive, in a list of them.
        about = _("the approval card for escalating case {number} to the vendor").format(
            number=case_number
        )
        payload[IF_UNDELIVERED] = if_undelivered(requester, about, subject, topic, keys)
    return [
        OutboxMessage(
            kind=kind,
            payload={**payload, "lead": lead.model_dump()},
            dedupe_key=key,
            not_before=at,
            lane=chat_lane(lead),
        )
        for lead, key in zip(leads, keys, strict=True)
    ]


def tell(
    person: Person,
    text: str,
    key: str,
    at: datetime,
    card: dict[str, Any] | None = None,
    undelivered: dict[str, Any] | None = None,
) -> OutboxMessage:
    """A personal message (with a card, if given), once per `key`; `undelivered` (from
    if_undelivered): who hears of it should it never arrive."""
    payload: dict[str, Any] = {"person": person.model_dump(), "text": text, "handoff_id": ""}
    if card is not None:
        payload["card"] = card
    if undelivered is not None:
        payload[IF_UNDELIVERED] = undelivered
    return OutboxMessage(
        kind=OutboxKind.NOTIFY,
        payload=payload,
        dedupe_key=f"tell:{key}:{person.id}",
        not_before=at,
        lane=chat_lane(person),
    )


def open_handoff(person: Person, draft: dict[str, Any], key: str, at: datetime) -> OutboxMessage:
    """Begins the handoff dialog of `draft` (its case, the message's text) in `person`'s
    personal chat, after what the bot already has to say there."""
    return OutboxMessage(
        kind=OutboxKind.OPEN_HANDOFF,
        payload={"person": person.model_dump(), **draft},
        dedupe_key=f"{OutboxKind.OPEN_HANDOFF}:{key}",
        not_before=at,
        lane=chat_lane(person),
    )


def undelivered_report(tell: Person, topic: str, subject: str, at: datetime) -> OutboxMessage:
    """Tells `tell` which of the messages about `topic` never reached their person: one item
    per person, topic and window, however many dead letters it covers."""
    window = int(at.timestamp() // UNDELIVERED_WINDOW.total_seconds())
    return OutboxMessage(
        kind=OutboxKind.REPORT_UNDELIVERED,
        payload={"tell": tell.model_dump(), "topic": topic, "subject": subject},
        dedupe_key=f"{OutboxKind.REPORT_UNDELIVERED}:{topic}:{tell.id}:{window}",
        not_before=at,
        lane=chat_lane(tell),
    )


def dead_letter_report(admin: Person, at: datetime) -> OutboxMessage:
    """Tells an admin what is in the dead letters: one item per admin and window, sent from
    `at`, however many items died in that window."""
    window = int(at.timestamp() // DEAD_LETTER_WINDOW.total_seconds())
    return OutboxMessage(
        kind=OutboxKind.REPORT_DEAD_LETTERS,
        payload={"person": admin.model_dump()},
        dedupe_key=f"{OutboxKind.REPORT_DEAD_LETTERS}:{admin.id}:{window}",
        not_before=at,
        lane=chat_lane(admin),
    )
