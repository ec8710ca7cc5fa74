"""What an engineer tells the bot about themselves (`settings`), and when to remind them."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, ConfigDict

from i18n import _

from .models import Person
from .schedule import Schedule, Shift

# How long before the end of a shift people are reminded to hand over.
SHIFT_END_NOTICE = dt.timedelta(minutes=30)
_HOURS = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-3]):([0-5]\d)$")


class UserSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    person: Person
    region: str | None = None
    timezone: str | None = None
    start: dt.time | None = None
    end: dt.time | None = None
    muted: bool = False
    # The language the bot speaks to the person (a code of i18n.languages.LANGUAGES); None:
    # their Teams client's, else English.
    language: str | None = None


_AUDITED = ("region", "timezone", "start", "end", "muted", "language")


def changes(before: UserSettings | None, after: UserSettings) -> dict[str, dict[str, str]]:
    """What a change of settings changed, for its audit entry: {field: {from, to}} as text
    (a person with no settings yet had the defaults)."""
    base = before or UserSettings(person=after.person)
    changed = {}
    for field in _AUDITED:
        old, new = getattr(base, field), getattr(after, field)
        if old != new:
            changed[field] = {"from": _as_text(old), "to": _as_text(new)}
    return changed


def _as_text(value: object) -> str:
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if isinstance(value, bool):
        return "muted" if value else "on"
    return "" if value is None else str(value)


def parse_hours(text: str) -> tuple[dt.time, dt.time]:
    """`09:00-17:30` as two times; ValueError saying how to write it otherwise."""
    match = _HOURS.match(text.replace(" ", ""))
    if match is None:
        raise ValueError(_("write working hours like 09:00-17:30"))
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    if start == end:
        raise ValueError(_("working hours must not start and end at the same time"))
    return start, end


def own_hours(settings: UserSettings | None) -> Shift | None:
    """The person's own working hours (`settings hours`) as a Monday-to-Friday shift in their
    zone; None unless they set both the hours and a zone."""
    if settings is None or not (settings.start and settings.end and settings.timezone):
        return None
    return Shift(
        region=settings.region or "own hours",
        timezone=settings.timezone,
        start=settings.start,
        end=settings.end,
    )


def shift_end(settings: UserSettings, schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """When the engineer's current (or next) working day ends: their own hours if they set
    them, else their region's shift; None when neither is known."""
    own = own_hours(settings)
    if own is not None:
        today = now.astimezone(own.zone).date()
        for days in range(-1, 8):
            occurrence = own.occurrence_on(today + dt.timedelta(days=days))
            if occurrence is not None and occurrence.end - SHIFT_END_NOTICE > now:
                return occurrence.end
        return None
    if settings.region and settings.region in schedule.travel_order:
        try:
            return schedule.ending_shift(settings.region, now, SHIFT_END_NOTICE).end
        except LookupError:
            return None
    return None
