"""Regions, their shifts and the regional handoff meetings (spec section 2, R-24x7-4a, R-LONG).

Shifts and meetings are stored as local wall-clock times in an IANA zone, because the seeds'
fixed UTC offsets are DST-naive: "08:30 in Los Angeles" is a different UTC instant in summer
and winter. Every occurrence is computed from the wall-clock time on one calendar date in its
own zone and only then converted to UTC, so DST changes move the UTC instant, never the local
time.

A wall-clock time can be missing (the spring-forward gap) or repeated (the fall-back overlap)
on a DST-change date. Both are resolved with ``fold=0`` and a round trip through UTC, which is
what PEP 495 prescribes for ``fold=0``: a missing time is read with the offset in force before
the change (02:30 in a 02:00 -> 03:00 gap becomes 03:30 after the change), a repeated time means
its first occurrence. Either way each date yields exactly one instant, so a DST change neither
doubles a meeting nor loses it.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator

from i18n import _

# How far ahead the "next ..." look-ups search; two weeks covers any weekly pattern with room
# for a DST change, so finding nothing means the configuration can never produce an occurrence.
SEARCH_WINDOW = dt.timedelta(days=14)

_ONE_DAY = dt.timedelta(days=1)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    # ZoneInfo refuses malformed keys with ValueError and keys that name a folder of the zone
    # database (such as "America") with OSError; all of them mean "not a zone".
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # Shown to whoever typed the zone (`settings zone`, the case form); the other errors
        # here are the configuration's, read by its admins in the log.
        raise ValueError(
            _(
                "unknown IANA time zone {zone}; use a name such as 'Europe/Berlin' or 'Etc/UTC'"
            ).format(zone=repr(name))
        ) from exc


def check_zone(name: str) -> str:
    """The name, if it is an IANA time zone; ValueError saying so otherwise."""
    _zone(name)
    return name


def _check_wall_time(value: dt.time) -> dt.time:
    # The zone is a separate field; an offset on the time itself would contradict it.
    if value.tzinfo is not None:
        raise ValueError(
            f"time {value.isoformat()} must be a wall-clock time without an offset; "
            "the zone is given by the 'timezone' field"
        )
    return value


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")


def _local_instant(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of ``wall`` on ``day`` in ``zone`` (gaps and overlaps: see module doc)."""
    return dt.datetime.combine(day, wall, tzinfo=zone).replace(fold=0).astimezone(dt.UTC)


def _days_from(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY


@dataclass(frozen=True)
class ShiftOccurrence:
    """One worked shift; ``start`` and ``end`` are aware UTC, ``end`` exclusive."""

    region: str
    start: dt.datetime
    end: dt.datetime


class Shift(BaseModel):
    """One region's working hours."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    timezone: str
    start: dt.time
    end: dt.time
    # Counted by the local date the shift starts on, so a Friday-night shift still runs into
    # Saturday morning while no shift starts on a Saturday.
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})

    @field_validator("region")
    @classmethod
    def _region_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("region must not be blank")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("start", "end")
    @classmethod
    def _wall_clock(cls, value: dt.time) -> dt.time:
        return _check_wall_time(value)

    @field_validator("workdays")
    @classmethod
    def _weekday_numbers(cls, value: frozenset[int]) -> frozenset[int]:
        wrong = sorted(day for day in value if not 0 <= day <= 6)
        if wrong:
            raise ValueError(f"workdays must be 0 (Monday) to 6 (Sunday), got {wrong}")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def overnight(self) -> bool:
        """Whether the shift ends on the day after it starts (``end == start`` means 24 hours)."""
        return self.end <= self.start

    def occurrence_on(self, day: dt.date) -> ShiftOccurrence | None:
        """The shift starting on local date ``day``, or None if ``day`` is not a workday."""
        if day.weekday() not in self.workdays:
            return None
        zone = self.zone
        start = _local_instant(day, self.start, zone)
        end = _local_instant(day + _ONE_DAY if self.overnight else day, self.end, zone)
        # Only a shift of at most an hour that starts inside a spring-forward gap can collapse;
        # such a shift does not happen that day rather than run backwards.
        if end <= start:
            return None
        return ShiftOccurrence(region=self.region, start=start, end=end)

    def todays(self, at: dt.datetime) -> ShiftOccurrence | None:
        """The shift someone is in at ``at``, or else the one still to begin on that local day
        (an engineer before their shift starts works today's shift, not none)."""
        _require_aware(at, "at")
        today = at.astimezone(self.zone).date()
        # Two days back covers an overnight shift still running; newest first so that, if a DST
        # change stretches a 24-hour shift into the next one, the shift that just began wins.
        for back in range(3):
            occurrence = self.occurrence_on(today - back * _ONE_DAY)
            if occurrence is not None and occurrence.start <= at < occurrence.end:
                return occurrence
        later = self.occurrence_on(today)
        return later if later is not None and at < later.start else None


class HandoffMeeting(BaseModel):
    """A regional handoff meeting, held daily at a local wall-clock time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_region: str
    to_regions: tuple[str, ...]
    time: dt.time
    timezone: str

    @field_validator("to_regions")
    @classmethod
    def _has_receivers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("a handoff meeting needs at least one receiving region")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("time")
    @classmethod
    def _wall_clock(cls, value: dt.time) -> dt.time:
        return _check_wall_time(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def instant_on(self, day: dt.date) -> dt.datetime:
        """The UTC instant of the meeting on local date ``day``, weekends included."""
        return _local_instant(day, self.time, self.zone)


@dataclass(frozen=True)
class MeetingOccurrence:
    """One held meeting; ``at`` is aware UTC."""

    meeting: HandoffMeeting
    at: dt.datetime


class Schedule:
    """Who works when, who follows whom, and when regions meet to hand cases over."""

    def __init__(
        self,
        travel_order: Sequence[str],
        shifts: Sequence[Shift],
        meetings: Sequence[HandoffMeeting],
    ) -> None:
        order = tuple(travel_order)
        if not order:
            raise ValueError("travel_order must name at least one region")
        repeated = sorted({region for region in order if order.count(region) > 1})
        if repeated:
            raise ValueError(f"travel_order names {repeated} more than once")
        known = set(order)

        by_region: dict[str, Shift] = {}
        for shift in shifts:
            if shift.region not in known:
                raise ValueError(
                    f"shift region {shift.region!r} is not in travel_order {list(order)}"
                )
            if shift.region in by_region:
                raise ValueError(f"region {shift.region!r} has more than one shift")
            by_region[shift.region] = shift

        for meeting in meetings:
            for region in (meeting.from_region, *meeting.to_regions):
                if region not in known:
                    raise ValueError(
                        f"handoff meeting region {region!r} is not in travel_order {list(order)}"
                    )

        self._order = order
        self._shifts = by_region
        self._meetings = tuple(meetings)

    @property
    def travel_order(self) -> tuple[str, ...]:
        return self._order

    @property
    def shifts(self) -> tuple[Shift, ...]:
        return tuple(self._shifts.values())

    @property
    def meetings(self) -> tuple[HandoffMeeting, ...]:
        return self._meetings

    def _check_region(self, region: str) -> None:
        if region not in self._order:
            raise ValueError(f"unknown region {region!r}; known regions: {list(self._order)}")

    def current_shift(self, region: str, at: dt.datetime) -> ShiftOccurrence | None:
        """The occurrence of ``region``'s shift containing ``at`` (start inclusive, end not)."""
        shift = self.todays_shift(region, at)
        return shift if shift is not None and shift.start <= at else None

    def todays_shift(self, region: str, at: dt.datetime) -> ShiftOccurrence | None:
        """``region``'s shift under way at ``at``, or else the one still to begin that day."""
        _require_aware(at, "at")
        self._check_region(region)
        shift = self._shifts.get(region)
        return shift.todays(at) if shift is not None else None

    def shift_of(self, region: str) -> Shift | None:
        return self._shifts.get(region)

    def regions_on_shift(self, at: dt.datetime) -> list[str]:
        """The regions working at ``at``, in travel order."""
        _require_aware(at, "at")
        return [region for region in self._order if self.current_shift(region, at) is not None]

    def region_nearest(self, timezone: str, at: dt.datetime) -> str | None:
        """Where someone whose Teams client is set to ``timezone`` most likely works: among
        the regions whose shift is kept in a zone of the same area ("America/…", "Asia/…";
        all regions if none is), the one nearest in UTC offset at ``at``, the first in travel
        order on a tie. None for a zone that does not exist."""
        _require_aware(at, "at")
        try:
            offset = at.astimezone(_zone(timezone)).utcoffset() or dt.timedelta()
        except ValueError:
            return None
        area = timezone.split("/", 1)[0]
        regions = [region for region in self._order if region in self._shifts]
        same_area = [r for r in regions if self._shifts[r].timezone.split("/", 1)[0] == area]

        def distance(region: str) -> float:
            # Not wrapped round the date line: Auckland's engineers work with Asia, not with
            # Los Angeles, though UTC+13 and UTC-8 are three hours apart on the clock.
            theirs = at.astimezone(self._shifts[region].zone).utcoffset() or dt.timedelta()
            return abs((theirs - offset).total_seconds())

        candidates = same_area or regions
        return min(candidates, key=distance) if candidates else None

    def next_shift_start(self, region: str, after: dt.datetime) -> ShiftOccurrence:
        """The first occurrence of ``region``'s shift starting strictly after ``after``."""
        _require_aware(after, "after")
        self._check_region(region)
        shift = self._shifts.get(region)
        if shift is None:
            raise LookupError(f"region {region!r} has no shift configured")
        limit = after + SEARCH_WINDOW
        zone = shift.zone
        # Starting a day early is cheap insurance against a DST gap pushing the previous day's
        # start past midnight; the start check below drops everything not after `after`.
        first = after.astimezone(zone).date() - _ONE_DAY
        for day in _days_from(first, limit.astimezone(zone).date()):
            occurrence = shift.occurrence_on(day)
            if occurrence is not None and after < occurrence.start <= limit:
                return occurrence
        raise LookupError(
            f"region {region!r} has no shift starting within {SEARCH_WINDOW.days} days "
            f"after {after.isoformat()} (workdays {sorted(shift.workdays)})"
        )

    def ending_shift(self, region: str, now: dt.datetime, notice: dt.timedelta) -> ShiftOccurrence:
        """The shift of ``region`` whose end, less ``notice``, is still ahead of ``now``: the
        current one, or else the next. LookupError when the region has no shift."""
        shift = self.current_shift(region, now)
        if shift is None or shift.end - notice <= now:
            shift = self.next_shift_start(region, now)
        return shift

    def next_region(self, region: str) -> str:
        """The region a case travels to after ``region`` (R-LONG), wrapping round the globe."""
        self._check_region(region)
        return self._order[(self._order.index(region) + 1) % len(self._order)]

    def is_workday(self, region: str, at: dt.datetime) -> bool:
        """Whether ``at`` falls on a workday of ``region``, judged in its shift's zone."""
        _require_aware(at, "at")
        self._check_region(region)
        shift = self._shifts.get(region)
        # Without configured hours the schedule knows of no weekend, so it must not hide
        # meetings from such a region.
        if shift is None:
            return True
        return at.astimezone(shift.zone).weekday() in shift.workdays

    def next_meeting(
        self, from_region: str, after: dt.datetime, to_region: str | None = None
    ) -> MeetingOccurrence | None:
        """The next held meeting from ``from_region`` (to ``to_region``) strictly after ``after``.

        Searches ``SEARCH_WINDOW`` ahead; None when no meeting is held in that window.
        """
        _require_aware(after, "after")
        self._check_region(from_region)
        if to_region is not None:
            self._check_region(to_region)
        limit = after + SEARCH_WINDOW
        best: MeetingOccurrence | None = None
        for meeting in self._meetings:
            if meeting.from_region != from_region:
                continue
            if to_region is not None and to_region not in meeting.to_regions:
                continue
            zone = meeting.zone
            first = after.astimezone(zone).date() - _ONE_DAY
            for day in _days_from(first, limit.astimezone(zone).date()):
                at = meeting.instant_on(day)
                if not after < at <= limit:
                    continue
                if self._meeting_held(meeting, at):
                    if best is None or at < best.at:
                        best = MeetingOccurrence(meeting=meeting, at=at)
                    break
        return best

    def _meeting_held(self, meeting: HandoffMeeting, at: dt.datetime) -> bool:
        # R-24x7-4a cancels the meeting when the receiving SMEs are on their weekend; a handoff
        # also needs someone to hand over, so a sending region on its weekend cancels it too.
        # Every region judges the meeting instant by its own calendar, since the meeting may
        # fall on a Friday for the sender and a Saturday for the receiver.
        return all(
            self.is_workday(region, at) for region in (meeting.from_region, *meeting.to_regions)
        )
