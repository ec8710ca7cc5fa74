"""The words the handoff's cards share: where a handoff stands, its buttons' titles, and its
history in lines. Times use Adaptive Cards' DATE/TIME functions, so every reader sees them in
their own zone and their own client's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handoff.models import AuditEvent, Handoff, HandoffState
from handoff.policy import TransferReason
from handoff.state_machine import Verb, state_in_words
from i18n import N_, _, in_english, pgettext

from .elements import clip, isolated, name_text, safe

MAX_DETAIL_CHARS = 200

# Verbs whose button first opens a text box: what the clicker must say with it (the box's id,
# and its label, translated where shown).
VERB_INPUTS = {
    Verb.MORE_INFO: ("question", N_("What do you need to know before taking the case?")),
    Verb.BACK_TO_QUEUE: ("reason", N_("Why does the case go back to the queue?")),
    Verb.LONG_RUNNING: (
        "why",
        N_("Why is the case long-running? (e.g. the customer works in two zones)"),
    ),
    Verb.PROVIDE_INFO: ("answer", N_("Your answer")),
}
# The buttons of the Case Transfer card, in its order. Answering a question is the
# requester's alone, so only their copy offers it (besides the answer card in their chat).
CARD_VERBS = (
    Verb.ACCEPT,
    Verb.MORE_INFO,
    Verb.BACK_TO_QUEUE,
    Verb.ESCALATE,
    Verb.CANCEL,
    Verb.LONG_RUNNING,
    Verb.PROVIDE_INFO,
)


def action_title(verb: Verb) -> str:
    """The title of the button that does ``verb``."""
    titles = {
        Verb.ACCEPT: pgettext("button", "Accept"),
        Verb.MORE_INFO: pgettext("button", "Need more info"),
        Verb.BACK_TO_QUEUE: pgettext("button", "Back to queue"),
        Verb.ESCALATE: pgettext("button", "Escalate to SME"),
        Verb.CANCEL: pgettext("button", "Cancel"),
        Verb.LONG_RUNNING: pgettext("button", "Long-running"),
        Verb.PROVIDE_INFO: pgettext("button", "Answer the question"),
    }
    return titles[verb]


def state_words(state: HandoffState, *, inline: bool = False) -> str:
    """Where a handoff stands, in words: "More info needed", or "more info needed" within a
    sentence."""
    if inline:
        return state_in_words(state)
    words = {
        HandoffState.REQUESTED: pgettext("state", "Requested"),
        HandoffState.ACCEPTED: pgettext("state", "Accepted"),
        HandoffState.MORE_INFO_NEEDED: pgettext("state", "More info needed"),
        HandoffState.BACK_TO_QUEUE: pgettext("state", "Back to queue"),
        HandoffState.ESCALATED: pgettext("state", "Escalated"),
        HandoffState.CANCELLED: pgettext("state", "Cancelled"),
    }
    return words[state]


def local_time(at: datetime) -> str:
    """Rendered by Teams in the reader's own time zone."""
    iso = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({iso}, SHORT)}}}} {{{{TIME({iso})}}}}"


def state_inline(handoff: Handoff) -> str:
    """Where the handoff stands, within a line: "more info needed", "accepted by Bo"."""
    if handoff.state is HandoffState.ACCEPTED and handoff.owner:
        owner = isolated(handoff.owner.name or handoff.owner.id)
        return _("accepted by {name}").format(name=owner)
    return state_words(handoff.state, inline=True)


# What each kind of event reads as in a history: what the person did, in plain words
# (translated where shown).
EVENT_WORDS = {
    "requested": N_("requested"),
    "revised": N_("updated the request"),
    "accept": N_("accepted"),
    "more_info": N_("asked for more information"),
    "provide_info": N_("answered"),
    "back_to_queue": N_("sent it back to the queue"),
    "escalate": N_("escalated to the regional SME"),
    "cancel": N_("cancelled"),
    "long_running": N_("marked it long-running"),
    "technical_escalation": N_("escalated technically"),
    "escalation_requested": N_("asked to escalate to the vendor"),
}


def timeline(history: Sequence[AuditEvent]) -> str:
    lines = []
    for event in history:
        who = name_text(event.actor.name or event.actor.id)
        known = EVENT_WORDS.get(event.kind)
        what = _(known) if known else event.kind.replace("_", " ")
        if event.data.get("instead_of"):
            what = _("took it instead of {name}").format(
                name=name_text(str(event.data["instead_of"]))
            )
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


# Who waits for whom, as the notes keep it (English, for tools) and as a card says it.
WHO_WAITS_WORDS = {
    "Customer waits for us": N_("The customer waits for us"),
    "We wait for the customer": N_("We wait for the customer"),
}


def who_waits_words(kept: str) -> str:
    """Who waits for whom in the reader's language; typed words as they were typed."""
    known = WHO_WAITS_WORDS.get(kept)
    return _(known) if known else kept


def reason_words(handoff: Handoff) -> str:
    """Why the handoff was made, in the reader's language: the record keeps the reason's label
    in English (it goes into the notes) with the engineer's own words after it."""
    try:
        reason = TransferReason(handoff.reason_code or TransferReason.OTHER.value)
    except ValueError:
        return handoff.reason
    if reason is TransferReason.OTHER:
        return handoff.reason
    with in_english():
        english = reason.label
    if not handoff.reason.startswith(english):
        return handoff.reason
    detail = handoff.reason.removeprefix(english).removeprefix(".").strip()
    return f"{reason.label}. {detail}" if detail else reason.label
