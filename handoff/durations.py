"""How long something took, in words people read ("6 minutes", "2 hours 10 minutes"), in the
reader's language."""

from __future__ import annotations

from datetime import timedelta

from i18n import _, ngettext


def _days(count: int) -> str:
    return ngettext("{count} day", "{count} days", count).format(count=count)


def _hours(count: int) -> str:
    return ngettext("{count} hour", "{count} hours", count).format(count=count)


def _minutes(count: int) -> str:
    return ngettext("{count} minute", "{count} minutes", count).format(count=count)


def in_words(delta: timedelta) -> str:
    """Whole minutes, hours and days, largest first; past a day the minutes no longer matter
    to anyone waiting, so they are left out."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return _("less than a minute")
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    larger, smaller = (_days(days), _hours(hours)) if days else (_hours(hours), _minutes(minutes))
    amounts = (days, hours) if days else (hours, minutes)
    if amounts[0] and amounts[1]:
        # Translators: a duration in two units, largest first: "2 hours 10 minutes", "3 days 4
        # hours".
        return _("{larger} {smaller}").format(larger=larger, smaller=smaller)
    return larger if amounts[0] else smaller
