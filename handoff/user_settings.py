"""What an engineer tells the bot about themselves (`settings`), and when to remind them."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from .models import Person
from .schedule import Schedule

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


_AUDITED = ("region", "timezone", "start", "end", "muted")


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
        raise ValueError("write working hours like 09:00-17:30")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    if start == end:
        raise ValueError("working hours must not start and end at the same time")
    return start, end


def shift_end(settings: UserSettings, schedule: Schedule, now: dt.datetime) -> dt.datetime | None:
    """When the engineer's current (or next) working day ends: their own hours if they set
    them, else their region's shift; None when neither is known."""
    if settings.start and settings.end and settings.timezone:
        zone = ZoneInfo(settings.timezone)
        local = now.astimezone(zone)
        for days in range(0, 8):
            day = local.date() + dt.timedelta(days=days)
            if day.weekday() >= 5:
                continue
            end_day = day if settings.end > settings.start else day + dt.timedelta(days=1)
            end = dt.datetime.combine(end_day, settings.end, zone)
            if end - SHIFT_END_NOTICE > now:
                return end.astimezone(dt.UTC)
        return None
    if settings.region and settings.region in schedule.travel_order:
        try:
            return schedule.ending_shift(settings.region, now, SHIFT_END_NOTICE).end
        except LookupError:
            return None
    return None
