"""What the bot says about a person's own things: their settings, their time away, and the
audit log of who changed settings and the Case Transfer channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# User-written text (and display names) echoed here goes through safe(): a message that says
# back "[our wiki](https://elsewhere)" or "<at>Boss</at>" must not turn it into a link or a
# mention.
from cards.elements import safe
from handoff.models import AuditEntry, AuditKind
from i18n import _, formats, ngettext, pgettext


def settings_problem(problem: str) -> str:
    # Translators: {problem} says what was wrong with the setting, without a full stop.
    return _(
        "{problem}. For example: **settings region EMEA**, **settings zone Europe/Berlin**, "
        "**settings hours 09:00-17:30**, **settings mute**."
    ).format(problem=problem)


def settings_shown(settings: Any, client_zone: str | None = None) -> str:
    if settings.timezone:
        zone = settings.timezone
    elif client_zone:
        zone = _("{zone}, from your Teams client").format(zone=client_zone)
    else:
        zone = _("from your Teams client")
    hours = (
        f"{settings.start:%H:%M}-{settings.end:%H:%M}"
        if settings.start and settings.end
        else _("your region's shift")
    )
    return _(
        "**Your settings** — region: {region}; time zone: {zone}; working hours: {hours}; "
        "reminders: {reminders}."
    ).format(
        region=settings.region or _("not set"),
        zone=zone,
        hours=hours,
        reminders=_reminders("muted" if settings.muted else "on"),
    )


def _reminders(state: str) -> str:
    """Reminders "muted" or "on", as settings and their audit entries store them."""
    shown = {"muted": pgettext("reminders", "muted"), "on": pgettext("reminders", "on")}
    return shown.get(state, state)


def oof_ta_intro(name: str) -> str:
    if not safe(name):
        return _("An engineer is going out of office; here are their cases.")
    return _("{name} is going out of office; here are their cases.").format(name=safe(name))


def take_back(numbers: str) -> str:
    return _("Welcome back. Take your cases back from whoever held them: {cases}.").format(
        cases=numbers
    )


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
    # Translators: {kind} is the kind of absence, e.g. "planned, one week or less".
    parts = [_("**Out of office — {kind}**").format(kind=kind.lower())]
    if handed:
        parts.append(
            _(
                "Warm handoff to {teammate} requested for your critical cases: {cases}. Talk to "
                "your teammate before you go."
            ).format(teammate=safe(teammate), cases=", ".join(handed))
        )
    if failed:
        lines = "\n".join(f"- {number}: {safe(why)}" for number, why in failed)
        parts.append(
            # Translators: {cases} is one line per case: "- 2311230040001234: why it failed".
            _(
                "**Not handed off** — these critical cases are still yours:\n{cases}\n\n"
                "Fix what is said above, then type **oof** again: it hands off only the cases "
                "still yours, so those handed off above are not handed off twice. If it still "
                "fails, hand the case over yourself with **handoff <case>**."
            ).format(cases=lines)
        )
    if listed and leads:
        parts.append(
            ngettext(
                "List of {count} other case sent to your Team Leader.",
                "List of {count} other cases sent to your Team Leader.",
                listed,
            ).format(count=listed)
        )
    elif listed:
        parts.append(
            ngettext(
                "List of {count} other case ready, but no Team Leader is configured.",
                "List of {count} other cases ready, but no Team Leader is configured.",
                listed,
            ).format(count=listed)
        )
    parts.append(_("Your automatic reply:\n\n{reply}").format(reply=auto_reply))
    if reminded:
        parts.append(_("I will remind you to take your cases back when you return."))
    return "\n\n".join(parts)


def audit_not_allowed() -> str:
    return _("Only the team leads and the bot's admins may read the audit log.")


def audit_in_personal_chat() -> str:
    return _("Ask me for the audit log in our personal chat.")


def audit_trail(entries: Sequence[AuditEntry], zone: str) -> str:
    if not entries:
        return _("**Audit log**: nothing yet (the channel binding and settings changes show here).")
    lines = [_("**Audit log**, newest first (times in {zone})").format(zone=zone), ""]
    for entry in entries:
        who = safe(entry.actor.name or entry.actor.id)
        lines.append(f"- {formats.when(entry.at, zone)} · {who} · {_audited(entry)}")
    lines += ["", _("A case's own steps, its escalations included, are in **status** <case>.")]
    return "\n".join(lines)


# An audit entry's line reads "<when> · <who> · <what they did>"; these are the last part.
def _audited(entry: AuditEntry) -> str:
    if entry.kind is AuditKind.CHANNEL_BOUND:
        channel = entry.data.get("channel_name")
        # Translators: put in for {team} in "bound the Case Transfer channel in {team}" when
        # the team's name is not known.
        team = entry.data.get("team_name") or entry.data.get("team_id") or _("its team")
        moved = bool(entry.data.get("previous_channel"))
        if channel and moved:
            # Translators: an audit log line, after the name of who did it ("Ana Lopez · bound
            # the Case Transfer channel: …"); {team} is the Teams team the channel is in.
            text = _(
                "bound the Case Transfer channel: {channel} in {team} (it was another channel)"
            )
        elif channel:
            text = _("bound the Case Transfer channel: {channel} in {team}")
        elif moved:
            text = _("bound the Case Transfer channel in {team} (it was another channel)")
        else:
            text = _("bound the Case Transfer channel in {team}")
        return text.format(channel=safe(str(channel)), team=safe(str(team)))
    changed = ", ".join(
        # Translators: a setting changed, from its old value to its new one: "region EMEA → US".
        _("{setting} {old} → {new}").format(
            setting=_setting(field),
            old=_setting_value(field, change.get("from")),
            new=_setting_value(field, change.get("to")),
        )
        for field, change in entry.data.items()
        if isinstance(change, dict)
    )
    return _("changed their settings: {changes}").format(changes=changed)


def _setting(field: str) -> str:
    labels = {
        "region": pgettext("setting", "region"),
        "timezone": pgettext("setting", "time zone"),
        "start": pgettext("setting", "hours from"),
        "end": pgettext("setting", "hours until"),
        "muted": pgettext("setting", "muted"),
        "language": pgettext("setting", "language"),
    }
    return labels.get(field, field)


def _setting_value(field: str, value: object) -> str:
    if not value:
        return _("not set")
    return _reminders(str(value)) if field == "muted" else str(value)
