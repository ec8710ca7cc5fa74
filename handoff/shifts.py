"""Who is on shift now, and when each region's shift and handoff meeting come next (section 2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .models import Handoff
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


def agenda(open_handoffs: Sequence[Handoff], meeting: MeetingOccurrence) -> list[Handoff]:
    """What a regional handoff meeting must cover: the open handoffs from its region to a
    region it hands to (or staying in it), oldest first."""
    sender = meeting.meeting.from_region
    receivers = {*meeting.meeting.to_regions, sender}
    chosen = [h for h in open_handoffs if h.from_region == sender and h.target_region in receivers]
    return sorted(chosen, key=lambda h: h.created_at)
