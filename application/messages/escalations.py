"""What the bot says about escalations: to the vendor, approved by the Team Leaders, and one
technical level up."""

from __future__ import annotations

from typing import Any

# User-written text (and display names) echoed here goes through safe(): a message that says
# back "[our wiki](https://elsewhere)" or "<at>Boss</at>" must not turn it into a link or a
# mention.
from cards.elements import safe
from i18n import _, formats, pgettext


def escalate_usage() -> str:
    return _("Tell me the case: **escalate 2311230040001234**.")


def no_leads() -> str:
    return _(
        "No Team Leaders are configured (leads in the bot's configuration, with their teams_id), "
        "so nobody can approve an escalation. Ask an admin to list the Team Leaders under "
        "**leads** in the process file (config/handoff.yaml), each with their **teams_id**; "
        "nothing was sent."
    )


def no_lead_reachable(number: str, leads: list[str]) -> str:
    if not leads:
        text = _(
            "I did not ask for the escalation of case {number}: no Team Leader can get its "
            "approval card, because none of them has installed the bot (a personal chat with "
            "me). Ask a Team Leader to install the bot, or an admin to set **leads** with their "
            "**teams_id** in the process file (config/handoff.yaml); then type **escalate "
            "{number}** again. Nothing is waiting for a decision."
        )
    else:
        text = _(
            "I did not ask for the escalation of case {number}: no Team Leader ({leads}) can get "
            "its approval card, because none of them has installed the bot (a personal chat with "
            "me). Ask a Team Leader to install the bot, or an admin to set **leads** with their "
            "**teams_id** in the process file (config/handoff.yaml); then type **escalate "
            "{number}** again. Nothing is waiting for a decision."
        )
    return text.format(number=number, leads=safe(formats.listing(leads)))


def approval_reached_nobody(number: str, leads: list[str]) -> str:
    if not leads:
        text = _(
            "The approval card for escalating case {number} reached no Team Leader: sending it "
            "failed for each of them, so nobody can decide it yet. It waits in my dead letters: "
            "a Team Leader or an admin can type **outbox** to see why and send it again with "
            "**outbox retry**."
        )
    else:
        text = _(
            "The approval card for escalating case {number} reached no Team Leader ({leads}): "
            "sending it failed for each of them, so nobody can decide it yet. It waits in my "
            "dead letters: a Team Leader or an admin can type **outbox** to see why and send it "
            "again with **outbox retry**."
        )
    return text.format(number=number, leads=safe(formats.listing(leads)))


def only_leads_decide() -> str:
    return _("Only the Team Leaders in the bot's configuration decide escalations.")


def escalation_decided_first() -> str:
    return _("Someone decided this escalation first. This is the current card.")


def escalation_not_ready(number: str, missing: list[str]) -> str:
    # Translators: {missing} lists what the notes lack, e.g. "the L1/L2 steps tried".
    return _(
        "Case {number} is not ready for the vendor: the notes need {missing}. Keep working with "
        "the customer, update the notes (**handoff {number}**), then escalate again."
    ).format(number=number, missing=formats.listing(missing))


def escalation_sent(number: str) -> str:
    return _("Asked the Team Leaders to approve escalating case {number} to the vendor.").format(
        number=number
    )


def _decision(state: str) -> str:
    words = {
        "pending": pgettext("escalation", "pending"),
        "approved": pgettext("escalation", "approved"),
        "more-steps-suggested": pgettext("escalation", "more steps suggested"),
        "rejected": pgettext("escalation", "rejected"),
    }
    return words.get(state, state.replace("-", " "))


def escalation_decided(escalation: Any) -> str:
    if escalation.decided_by:
        # Translators: {decision} is "approved", "rejected" or "more steps suggested".
        text = _("{who} decided the escalation of case {number}: {decision}.")
    else:
        text = _("A Team Leader decided the escalation of case {number}: {decision}.")
    said = text.format(
        who=safe(escalation.decided_by.name) if escalation.decided_by else "",
        number=escalation.case_number,
        decision=_decision(escalation.state.value),
    )
    if escalation.comment:
        # Translators: the Team Leader's comment, quoted.
        said += " " + _("“{comment}”").format(comment=safe(escalation.comment))
    return said


def technical_escalation(number: str, level: str) -> str:
    # Translators: {level} is who the case goes to, e.g. "subject matter expert".
    return _(
        "Case {number} goes up to the {level}. Engage them through the existing case; they "
        "join its conversation. The step is in the case's history (**status {number}**)."
    ).format(number=number, level=level)


def escalation_at_top(number: str) -> str:
    return _(
        "Case {number} has already reached leadership escalation; there is no level above."
    ).format(number=number)


def escalation_pending(number: str) -> str:
    return _("Case {number} already waits for a Team Leader's decision on its escalation.").format(
        number=number
    )
