"""Dates, times, numbers and lists the way the reader's language writes them (Babel), in the
reader's time zone. The notes template, the internal title and the DM e-mail subject do not
come here: tools read them, so they keep the process's own format."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.dates import format_time as babel_time
from babel.dates import get_timezone_name
from babel.lists import format_list as babel_list
from babel.numbers import format_decimal, format_percent

from .catalogs import current
from .languages import ENGLISH, LANGUAGES


def locale() -> str:
    """The Babel locale of the current language."""
    return LANGUAGES.get(current(), ENGLISH).babel_locale


def _zone(zone_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone_name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def when(at: datetime, zone_name: str) -> str:
    """A moment for people: weekday, date and time in ``zone_name``, and the zone's short name
    (``Thu, Dec 3, 2026, 18:00 GMT`` / ``Do., 3. Dez. 2026, 18:00 GMT``)."""
    local = at.astimezone(_zone(zone_name))
    pattern = _pattern()
    return f"{babel_datetime(local, pattern, locale=locale())} {_abbreviation(local)}"


def time_of_day(at: datetime, zone_name: str) -> str:
    """Just the time, in ``zone_name`` (``18:00`` / ``6:00 PM``)."""
    return babel_time(at.astimezone(_zone(zone_name)), "short", locale=locale())


def day(at: datetime, zone_name: str) -> str:
    """Just the date, in ``zone_name``."""
    return babel_date(at.astimezone(_zone(zone_name)).date(), "medium", locale=locale())


def _pattern() -> str:
    # The locale's own medium date after its short weekday, and its short time (24-hour or
    # 12-hour as the locale prefers), joined as the locale joins a date and a time.
    data = Locale.parse(locale())
    joined: str = data.datetime_formats["medium"]
    date_part = "EEE " + data.date_formats["medium"].pattern
    return joined.replace("{1}", date_part).replace("{0}", data.time_formats["short"].pattern)


def _abbreviation(local: datetime) -> str:
    name = local.tzname() or ""
    # Zones without a letter abbreviation give "+0530"-style names; write them as UTC+05:30.
    if name and (name[0] in "+-"):
        offset = local.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        sign = "+" if minutes >= 0 else "-"
        hours, rest = divmod(abs(minutes), 60)
        return f"UTC{sign}{hours:02d}:{rest:02d}"
    return name or get_timezone_name(local.tzinfo, locale=locale())


def number(value: float | int, digits: int = 0) -> str:
    """A number with the language's separators."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, format=pattern, locale=locale()))


def percent(share: float) -> str:
    """A share (0.5) as a percentage (``50 %`` / ``50%``)."""
    return format_percent(share, locale=locale())


def listing(items: Sequence[str], *, alternatives: bool = False) -> str:
    """Items joined as the language joins them (``a, b and c`` / ``a, b und c`` / ``a、b、c``),
    or as choices (``a, b or c``)."""
    if not items:
        return ""
    return babel_list(list(items), style="or" if alternatives else "standard", locale=locale())


def capitalized(text: str) -> str:
    """``text`` starting a sentence: its first letter upper-case, nothing else changed
    ("letzte Woche", not "Letzte woche" as str.capitalize would write it)."""
    for index, char in enumerate(text):
        if char.isalpha():
            return text[:index] + char.upper() + text[index + 1 :]
    return text
