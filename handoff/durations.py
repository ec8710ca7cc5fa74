"""How long something took, in words people read ("6 minutes", "2 hours 10 minutes")."""

from __future__ import annotations

from datetime import timedelta


def _count(amount: int, unit: str) -> str:
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


def in_words(delta: timedelta) -> str:
    """Whole minutes, hours and days, largest first; past a day the minutes no longer matter
    to anyone waiting, so they are left out."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour")] + ([] if days else [(minutes, "minute")])
    return " ".join(_count(amount, unit) for amount, unit in parts if amount)
