"""What the bot says about long-running cases: whether a case is one, its regional owners'
group chat, and the end of a shift in that chat."""

from __future__ import annotations

from collections.abc import Sequence

# User-written text (and display names) echoed here goes through safe(): a message that says
# back "[our wiki](https://elsewhere)" or "<at>Boss</at>" must not turn it into a link or a
# mention.
from cards.elements import safe
from i18n import _, formats


def long_running_usage() -> str:
    return _(
        "Tell me the case: **longrunning 2311230040001234**, or flag it with a reason: "
        "**longrunning 2311230040001234 customer works in two time zones**."
    )


def not_long_running(number: str, can_be: bool = True) -> str:
    if not can_be:
        return _(
            "Case {number} is not long-running, and cannot be: only Sev A or B cases the "
            "customer works 24x7 can be."
        ).format(number=number)
    return _(
        "Case {number} is not long-running: it has not gone round the globe. If the customer "
        "works in two time zones and transfers keep happening, flag it: **longrunning {number} "
        "<why>**."
    ).format(number=number)


def long_running_status(
    number: str, reason: str, owners: dict[str, str], chats_missing: Sequence[str] = ()
) -> str:
    """`owners`: each region's proposed owner as shown (name, and e-mail when known);
    `chats_missing`: the settings group chats still need, if any."""
    # Translators: {reason} says why, e.g. "it has gone round the globe: EMEA → US → EMEA".
    said = _("Case {number} is long-running: {reason}.").format(number=number, reason=safe(reason))
    if not owners:
        return said
    listed = "\n".join(f"- {region}: {safe(name)}" for region, name in owners.items())
    # Translators: {owners} is one line per region: "- EMEA: Ana Lopez".
    proposal = _("Regional owners, from who owned it:\n{owners}").format(owners=listed)
    if chats_missing:
        # Translators: {settings} are the names of configuration settings, e.g. TEAMS_APP_ID.
        chat = _(
            "Their group chat cannot be made: group chats are not configured for this bot "
            "(an admin must set {settings})."
        ).format(settings=formats.listing(chats_missing))
    else:
        chat = _("Type **longrunning {number} chat** to make their group chat.").format(
            number=number
        )
    return f"{said}\n\n{proposal}\n\n{chat}"


def group_chats_not_configured(number: str, missing: Sequence[str]) -> str:
    # Translators: {settings} are the names of configuration settings, e.g. TEAMS_APP_ID.
    return _(
        "I cannot make the group chat of case {number}: group chats are not configured for "
        "this bot. An admin must set {settings}: Microsoft Graph credentials (with "
        "the Graph permissions listed under “Before you deploy” in the bot's README) and "
        "TEAMS_APP_ID, the app's id in your organization's app catalog, then restart the bot. "
        "Nothing was changed."
    ).format(number=number, settings=formats.listing(missing))


def chat_exists(number: str, state: str) -> str:
    # Translators: {state} is how far the group chat is, e.g. "requested" or "ready".
    return _("Case {number} already has its group chat ({state}).").format(
        number=number, state=state
    )


def chat_retried(number: str, names: str) -> str:
    # Translators: {people} are the members of the chat: "Ana Lopez (EMEA), Bo Receiver (US)".
    return _(
        "Trying the group chat of case {number} again with {people}, from where it "
        "stopped. I tell you if it fails again."
    ).format(number=number, people=safe(names))


def chat_needs_owners(number: str) -> str:
    return _(
        "Case {number} needs owners in at least two regions, known to Teams, before I can make "
        "its group chat."
    ).format(number=number)


def chat_planned(number: str, names: str) -> str:
    # Translators: {people} are the members of the chat: "Ana Lopez (EMEA), Bo Receiver (US)".
    return _(
        "Making the group chat of case {number} with {people}. I post the case summary there "
        "once Teams has added me."
    ).format(number=number, people=safe(names))


def one_regional_engineer(number: str) -> str:
    return _(
        "Then case {number} stays with one engineer in the customer's region, with handoffs "
        "only when that engineer is off; no group chat is made."
    ).format(number=number)


def shift_end_where() -> str:
    return _(
        "**shiftend** works in the group chat of a long-running case: it hands the case to the "
        "next region's owner there."
    )


def shift_end_usage() -> str:
    return _(
        "Add a short summary for the next owner: **shiftend customer applied the fix, waiting "
        "for the overnight job to confirm**."
    )


def no_next_owner(number: str) -> str:
    return _(
        "Case {number} has no owner in another region in this chat; transfer it to the queue "
        "and name the target owner in the DM e-mail."
    ).format(number=number)


def shift_end_pending(number: str) -> str:
    return _(
        "Case {number} already has an open handoff; finish that one first (**status {number}**)."
    ).format(number=number)


def shift_ending(
    who: str, region: str, summary: str, successor: str, successor_region: str, on_shift: bool
) -> str:
    if on_shift:
        text = _(
            "**Shift ending** — {who} ({region}): {summary}\n\nOver to {successor} "
            "({successor_region}), on shift now: hand over warm. The notes are updated and the "
            "handoff is on the Case Transfer channel."
        )
    else:
        text = _(
            "**Shift ending** — {who} ({region}): {summary}\n\nOver to {successor} "
            "({successor_region}), next on shift: handed over directly. The notes are updated "
            "and the handoff is on the Case Transfer channel."
        )
    return text.format(
        who=safe(who),
        region=region,
        summary=safe(summary),
        successor=safe(successor),
        successor_region=successor_region,
    )


def not_your_shift(number: str, owner: str) -> str:
    return _(
        "Only {owner}, who holds case {number} now, ends this shift with **shiftend**."
    ).format(owner=safe(owner), number=number)
