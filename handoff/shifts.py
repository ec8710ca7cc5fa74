"""Who is on shift now, and when each region's shift and handoff meeting come next (section 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .schedule import MeetingOccurrence, Schedule, ShiftOccurrence


@dataclass(frozen=True)
class RegionNow:
    region: str
    current: ShiftOccurrence | None
    next_start: ShiftOccurrence | None
    next_meeting: MeetingOccurrence | None


def overview(schedule: Schedule, now: datetime) -> list[RegionNow]:
    """Every region in travel order: its shift now (if any), its next one, its next meeting."""
    rows = []
    for region in schedule.travel_order:
        current = schedule.current_shift(region, now)
        try:
            upcoming: ShiftOccurrence | None = schedule.next_shift_start(region, now)
        except LookupError:
            upcoming = None
        rows.append(RegionNow(region, current, upcoming, schedule.next_meeting(region, now)))
    return rows
