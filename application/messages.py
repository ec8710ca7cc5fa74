"""What the bot says, in one place so wording stays consistent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

# User-written text (and display names) echoed here goes through safe(): a message that says
# back "[our wiki](https://elsewhere)" or "<at>Boss</at>" must not turn it into a link or a
# mention.
from cards.elements import safe
from handoff.durations import in_words
from handoff.models import AuditEntry, AuditKind
from handoff.notes.template import format_in_zone

WELCOME = (
    "Hi, I'm the handoff bot. I carry support cases from one engineer to the next — "
    "across shifts, regions and time off — so no fact and no promise to a customer is lost.\n\n"
    "Type **help** to see what I can do."
)

GROUP_CHAT_WELCOME = (
    "Hi, I'm the handoff bot. In a long-running case's own chat I post the case's summary, "
    "remind each regional owner near the end of their shift, and **shiftend** <summary> hands "
    "the case to the next region's owner; @mention me with **status** <case> for where it "
    "stands, or **help**."
)

TEAM_WELCOME = (
    "Hi team, I'm the handoff bot. I post handoff cards here so the receiving region can "
    "take cases over, and answer questions about where a case stands. "
    "@mention me with **help** to see what I can do."
)

STATUS_USAGE = "Tell me the case: **status 2311230040001234**."

SETUP_IN_CHANNEL = "Run **setup** as an @mention in the channel where handoff cards should go."


def setup_done(posted: int) -> str:
    waiting = f" Posting the {posted} open handoff(s) that were waiting." if posted else ""
    return f"This channel is now the Case Transfer channel: handoff cards appear here.{waiting}"


def no_handoff_for(number: str) -> str:
    return f"I know no handoff of case {number}. Type **list** to see the open ones."


def unknown_region(word: str, regions: tuple[str, ...]) -> str:
    return f"“{safe(word[:20])}” is not a region; use one of {', '.join(regions)}."


def no_meeting(region: str) -> str:
    return f"{region} has no handoff meeting in the next two weeks."


HANDOFF_IN_PERSONAL_CHAT = (
    "Handoffs are written in a personal chat with me, so your notes stay yours until you "
    "send them. Open a chat with me and type **handoff**."
)

IN_A_HANDOFF = (
    "You are in the middle of a handoff and your answers are kept: carry on with the last "
    "card, type **back** to go one step back, or **cancel** to stop."
)

HANDOFF_RESTARTED = "Starting a new handoff; the one in progress is dropped."

RESTART_CARD_OUTDATED = (
    "That card was about an earlier handoff; the one in progress is kept. Here is where you were."
)


def already_handing_off(number: str) -> str:
    return f"You are handing off case {number} already; here is where you were."


STALE_FORM = (
    "That form belongs to a handoff that has already ended. Type **handoff** to start a new one."
)


def not_a_case_number(text: str) -> str:
    shown = safe(text if len(text) <= 40 else text[:40] + "…")
    return (
        f"“{shown}” is not a case number: use its 6 to 20 digits, "
        "e.g. **handoff 2311230040001234**."
    )


DATABASE_DOWN = (
    "I can't reach my database right now, so nothing was changed; what you gave me before "
    "is kept. Please try again in a minute."
)

SORRY = "Sorry, something went wrong on my side and I could not finish that. Please try again."


def unknown_command(name: str) -> str:
    shown = safe(name if len(name) <= 40 else name[:40] + "…")
    return f"I don't know “{shown}”. Type **help** to see what I can do."


def empty_message() -> str:
    return "I didn't catch a command. Type **help** to see what I can do."


LONG_RUNNING_USAGE = (
    "Tell me the case: **longrunning 2311230040001234**, or flag it with a reason: "
    "**longrunning 2311230040001234 customer works in two time zones**."
)


def not_long_running(number: str, can_be: bool = True) -> str:
    if not can_be:
        return (
            f"Case {number} is not long-running, and cannot be: only Sev A or B cases the "
            "customer works 24x7 can be."
        )
    return (
        f"Case {number} is not long-running: it has not gone round the globe. If the customer "
        f"works in two time zones and transfers keep happening, flag it: **longrunning {number} "
        "<why>**."
    )


def long_running_status(
    number: str, reason: str, owners: dict[str, str], chats_missing: Sequence[str] = ()
) -> str:
    """`owners`: each region's proposed owner as shown (name, and e-mail when known);
    `chats_missing`: the settings group chats still need, if any."""
    listed = "\n".join(f"- {region}: {safe(name)}" for region, name in owners.items())
    proposal = f"\n\nRegional owners, from who owned it:\n{listed}" if owners else ""
    if not owners:
        chat = ""
    elif chats_missing:
        chat = (
            "\n\nTheir group chat cannot be made: group chats are not configured for this bot "
            f"(an admin must set {', '.join(chats_missing)})."
        )
    else:
        chat = f"\n\nType **longrunning {number} chat** to make their group chat."
    return f"Case {number} is long-running: {safe(reason)}.{proposal}{chat}"


def group_chats_not_configured(number: str, missing: Sequence[str]) -> str:
    return (
        f"I cannot make the group chat of case {number}: group chats are not configured for "
        f"this bot. An admin must set {', '.join(missing)}: Microsoft Graph credentials (with "
        "the Graph permissions listed under “Before you deploy” in the bot's README) and "
        "TEAMS_APP_ID, the app's id in your organization's app catalog, then restart the bot. "
        "Nothing was changed."
    )


def chat_exists(number: str, state: str) -> str:
    return f"Case {number} already has its group chat ({state})."


def chat_retried(number: str, names: str) -> str:
    return (
        f"Trying the group chat of case {number} again with {safe(names)}, from where it "
        "stopped. I tell you if it fails again."
    )


def chat_needs_owners(number: str) -> str:
    return (
        f"Case {number} needs owners in at least two regions, known to Teams, before I can make "
        "its group chat."
    )


def chat_planned(number: str, names: str) -> str:
    return (
        f"Making the group chat of case {number} with {safe(names)}. I post the case summary there "
        "once Teams has added me."
    )


def one_regional_engineer(number: str) -> str:
    return (
        f"Then case {number} stays with one engineer in the customer's region, with handoffs "
        "only when that engineer is off; no group chat is made."
    )


SHIFT_END_WHERE = (
    "**shiftend** works in the group chat of a long-running case: it hands the case to the "
    "next region's owner there."
)

SHIFT_END_USAGE = (
    "Add a short summary for the next owner: **shiftend customer applied the fix, waiting for "
    "the overnight job to confirm**."
)


def no_next_owner(number: str) -> str:
    return (
        f"Case {number} has no owner in another region in this chat; transfer it to the queue "
        "and name the target owner in the DM e-mail."
    )


def shift_end_pending(number: str) -> str:
    return (
        f"Case {number} already has an open handoff; finish that one first (**status {number}**)."
    )


def shift_ending(
    who: str, region: str, summary: str, successor: str, successor_region: str, on_shift: bool
) -> str:
    when = "on shift now: hand over warm" if on_shift else "next on shift: handed over directly"
    return (
        f"**Shift ending** — {safe(who)} ({region}): {safe(summary)}\n\n"
        f"Over to {safe(successor)} ({successor_region}), {when}. The notes are updated and the "
        "handoff is on the Case Transfer channel."
    )


def settings_problem(problem: str) -> str:
    return (
        f"{problem}. For example: **settings region EMEA**, **settings zone Europe/Berlin**, "
        "**settings hours 09:00-17:30**, **settings mute**."
    )


def settings_shown(settings: Any, client_zone: str | None = None) -> str:
    zone = settings.timezone or (
        f"{client_zone}, from your Teams client" if client_zone else "from your Teams client"
    )
    hours = (
        f"{settings.start:%H:%M}-{settings.end:%H:%M}"
        if settings.start and settings.end
        else "your region's shift"
    )
    reminders = "muted" if settings.muted else "on"
    return (
        f"**Your settings** — region: {settings.region or 'not set'}; time zone: "
        f"{zone}; working hours: {hours}; "
        f"reminders: {reminders}."
    )


ESCALATE_USAGE = "Tell me the case: **escalate 2311230040001234**."

NO_LEADS = (
    "No Team Leaders are configured (leads in the bot's configuration, with their teams_id), "
    "so nobody can approve an escalation. Ask an admin to list the Team Leaders under "
    "**leads** in the process file (config/handoff.yaml), each with their **teams_id**; nothing "
    "was sent."
)


def no_lead_reachable(number: str, leads: list[str]) -> str:
    named = f" ({safe(', '.join(leads))})" if leads else ""
    return (
        f"I did not ask for the escalation of case {number}: no Team Leader{named} can get its "
        "approval card, because none of them has installed the bot (a personal chat with me). "
        "Ask a Team Leader to install the bot, or an admin to set **leads** with their "
        "**teams_id** in the process file (config/handoff.yaml); then type "
        f"**escalate {number}** again. Nothing is waiting for a decision."
    )


def approval_reached_nobody(number: str, leads: list[str]) -> str:
    named = f" ({safe(', '.join(leads))})" if leads else ""
    return (
        f"The approval card for escalating case {number} reached no Team Leader{named}: "
        "sending it failed for each of them, so nobody can decide it yet. It waits in my dead "
        "letters: a Team Leader or an admin can type **outbox** to see why and send it again "
        "with **outbox retry**."
    )


def stay_reminder(number: str, waited: timedelta) -> str:
    return (
        f"Case {number} has waited {in_words(waited)} and nobody has accepted it yet. It stays "
        "with you until another engineer takes it over."
    )


def stay_smes(number: str, route: str, waited: timedelta) -> str:
    return (
        f"The critical handoff of case {number} ({route}) has waited {in_words(waited)} "
        "without an owner."
    )


def undelivered_line(about: str, who: str, why: str) -> str:
    return f"{about}, for {safe(who)}: {why}"


def undelivered(subject: str, lines: Sequence[str]) -> str:
    listed = "\n".join(f"- {line}" for line in lines)
    return (
        f"Some of my messages about {subject} did not reach the people they were for:\n"
        f"{listed}\n\n"
        "Reach them another way (a Teams chat or a call), so that nobody waits for a message "
        "they never got. Once they have installed the bot, a Team Leader or an admin can send "
        "the messages again with **outbox retry** (**outbox** lists them)."
    )


ONLY_LEADS_DECIDE = "Only the Team Leaders in the bot's configuration decide escalations."

ESCALATION_DECIDED = "Someone decided this escalation first. This is the current card."


def escalation_not_ready(number: str, missing: list[str]) -> str:
    return (
        f"Case {number} is not ready for the vendor: the notes need "
        + " and ".join(missing)
        + ". Keep working with the customer, update the notes (**handoff "
        + number
        + "**), then escalate again."
    )


def escalation_sent(number: str) -> str:
    return f"Asked the Team Leaders to approve escalating case {number} to the vendor."


def escalation_decided(escalation: Any) -> str:
    state = escalation.state.value.replace("-", " ")
    who = safe(escalation.decided_by.name) if escalation.decided_by else "A Team Leader"
    comment = f" “{safe(escalation.comment)}”" if escalation.comment else ""
    return f"{who} decided the escalation of case {escalation.case_number}: {state}.{comment}"


def oof_ta_intro(name: str) -> str:
    return f"{safe(name) or 'An engineer'} is going out of office; here are their cases."


def take_back(numbers: str) -> str:
    return f"Welcome back. Take your cases back from whoever held them: {numbers}."


def oof_summary(
    kind: str,
    teammate: str,
    handed: list[str],
    failed: list[tuple[str, str]],
    listed: int,
    leads: bool,
    auto_reply: str,
    *,
    reminded: bool,
) -> str:
    """`reminded`: a reminder to take cases back waits for the return (only with cases)."""
    parts = [f"**Out of office — {kind.lower()}**"]
    if handed:
        parts.append(
            f"Warm handoff to {safe(teammate)} requested for your critical cases: "
            + ", ".join(handed)
            + ". Talk to your teammate before you go."
        )
    if failed:
        lines = "\n".join(f"- {number}: {safe(why)}" for number, why in failed)
        parts.append(
            f"**Not handed off** — these critical cases are still yours:\n{lines}\n\n"
            "Fix what is said above, then type **oof** again: it hands off only the cases still "
            "yours, so those handed off above are not handed off twice. If it still fails, hand "
            "the case over yourself with **handoff <case>**."
        )
    if listed:
        where = "sent to your Team Leader" if leads else "ready, but no Team Leader is configured"
        parts.append(f"List of {listed} other case(s) {where}.")
    parts.append(f"Your automatic reply:\n\n{auto_reply}")
    if reminded:
        parts.append("I will remind you to take your cases back when you return.")
    return "\n\n".join(parts)


def technical_escalation(number: str, level: str) -> str:
    return (
        f"Case {number} goes up to the {level}. Engage them through the existing case; they "
        "join its conversation. The step is in the case's history (**status " + number + "**)."
    )


def escalation_at_top(number: str) -> str:
    return f"Case {number} has already reached leadership escalation; there is no level above."


CHANGED_MEANWHILE = "Someone changed that handoff at the same moment; please try again."


def not_your_shift(number: str, owner: str) -> str:
    return f"Only {safe(owner)}, who holds case {number} now, ends this shift with **shiftend**."


def escalation_pending(number: str) -> str:
    return f"Case {number} already waits for a Team Leader's decision on its escalation."


# -- Who may act on a card (application/access.py) and from where ---------------------------


FORGED_CARD = "That card is damaged. Use the buttons of the latest card."

BUTTON_NOT_ON_CARD = (
    "That button is not on this handoff's card. Use the buttons of the latest card."
)

OTHER_TENANT = (
    "This bot serves only its own organization, and your message came from another one. "
    "Nothing was done."
)


AUDIT_NOT_ALLOWED = "Only the team leads and the bot's admins may read the audit log."
AUDIT_IN_PERSONAL_CHAT = "Ask me for the audit log in our personal chat."


def audit_trail(entries: Sequence[AuditEntry], zone: str) -> str:
    if not entries:
        return "**Audit log**: nothing yet (the channel binding and settings changes show here)."
    lines = [f"**Audit log**, newest first (times in {zone})", ""]
    for entry in entries:
        who = safe(entry.actor.name or entry.actor.id)
        lines.append(f"- {format_in_zone(entry.at, zone)} · {who} · {_audited(entry)}")
    lines += ["", "A case's own steps, its escalations included, are in **status** <case>."]
    return "\n".join(lines)


_SETTING_LABELS = {"timezone": "time zone", "start": "hours from", "end": "hours until"}


def _audited(entry: AuditEntry) -> str:
    if entry.kind is AuditKind.CHANNEL_BOUND:
        channel = entry.data.get("channel_name")
        team = entry.data.get("team_name") or entry.data.get("team_id") or "its team"
        where = f": {safe(str(channel))} in" if channel else " in"
        before = " (it was another channel)" if entry.data.get("previous_channel") else ""
        return f"bound the Case Transfer channel{where} {safe(str(team))}{before}"
    changed = ", ".join(
        f"{_SETTING_LABELS.get(field, field)} {change.get('from') or 'not set'} → "
        f"{change.get('to') or 'not set'}"
        for field, change in entry.data.items()
        if isinstance(change, dict)
    )
    return f"changed their settings: {changed}"


def answer_recorded(number: str, question: str) -> str:
    return (
        f"Thanks: your answer to “{safe(question)}” is in the notes of case {number}, and its "
        "card asks the receiving engineers again."
    )


def which_question(numbers: Sequence[str]) -> str:
    return (
        f"The handoffs of cases {', '.join(numbers)} each wait for your answer to a question: "
        "answer each with the box on its question's card, so that no answer lands on the "
        "wrong case."
    )


def take_instead(number: str, meant_for: str) -> str:
    return (
        f"Case {number} is meant for {safe(meant_for)}. Take it instead of them? The requester "
        "will be told you took it."
    )
