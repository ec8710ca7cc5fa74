"""Shifts, regions on shift and handoff meetings across DST changes (spec section 2)."""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff.schedule import HandoffMeeting, MeetingOccurrence, Schedule, Shift, ShiftOccurrence

UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")

READER_ZONES = ["Europe/Berlin", "Asia/Singapore", "America/Los_Angeles"]
US_DST_DATES = ["2026-03-08", "2026-11-01", "2027-03-14", "2027-11-07"]
EU_DST_DATES = ["2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"]
ONE_US = dt.timedelta(microseconds=1)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def as_reader(instant: dt.datetime, reader_zone: str) -> dt.datetime:
    """The same instant as a user in ``reader_zone`` would pass it in."""
    return instant.astimezone(ZoneInfo(reader_zone))


def assert_utc(value: dt.datetime, expected: dt.datetime) -> None:
    assert value == expected
    assert value.utcoffset() == dt.timedelta(0)


@pytest.fixture
def default_schedule() -> Schedule:
    """The spec's defaults; IST 09:00-18:00 Asia/Kolkata is the documented default."""
    return Schedule(
        travel_order=["EMEA", "US", "APAC", "IST"],
        shifts=[
            Shift(region="EMEA", timezone="Etc/UTC", start=dt.time(8), end=dt.time(16)),
            Shift(region="US", timezone="Etc/UTC", start=dt.time(16), end=dt.time(0)),
            Shift(region="APAC", timezone="Asia/Shanghai", start=dt.time(7), end=dt.time(16)),
            Shift(region="IST", timezone="Asia/Kolkata", start=dt.time(9), end=dt.time(18)),
        ],
        meetings=[
            HandoffMeeting(
                from_region="APAC",
                to_regions=("IST", "EMEA"),
                time=dt.time(15, 30),
                timezone="Asia/Shanghai",
            ),
            HandoffMeeting(
                from_region="US",
                to_regions=("APAC",),
                time=dt.time(16, 30),
                timezone="America/Los_Angeles",
            ),
            HandoffMeeting(
                from_region="EMEA",
                to_regions=("US",),
                time=dt.time(8, 30),
                timezone="America/Los_Angeles",
            ),
        ],
    )


# --- meetings across DST changes -------------------------------------------------------------

# US DST change (a Sunday) -> the EMEA->US meeting on the Friday before and the Monday after.
# 08:30 PST is 16:30 UTC, 08:30 PDT is 15:30 UTC.
EMEA_US_AROUND_US_DST = {
    "2026-03-08": ("2026-03-06 16:30", "2026-03-09 15:30"),
    "2026-11-01": ("2026-10-30 15:30", "2026-11-02 16:30"),
    "2027-03-14": ("2027-03-12 16:30", "2027-03-15 15:30"),
    "2027-11-07": ("2027-11-05 15:30", "2027-11-08 16:30"),
}


@pytest.mark.parametrize("reader_zone", READER_ZONES)
@pytest.mark.parametrize("dst_date", US_DST_DATES)
def test_emea_to_us_meeting_stays_at_0830_los_angeles_across_us_dst(
    default_schedule: Schedule, dst_date: str, reader_zone: str
) -> None:
    friday, monday = (utc(text) for text in EMEA_US_AROUND_US_DST[dst_date])
    after = as_reader(friday.replace(hour=12, minute=0), reader_zone)

    before_change = default_schedule.next_meeting("EMEA", after)
    assert before_change is not None
    assert_utc(before_change.at, friday)
    assert before_change.meeting.to_regions == ("US",)

    # The weekend in between has no meeting, so the next one is Monday's, on the other side.
    after_change = default_schedule.next_meeting("EMEA", as_reader(friday, reader_zone))
    assert after_change is not None
    assert_utc(after_change.at, monday)

    for occurrence in (before_change, after_change):
        local = occurrence.at.astimezone(LA)
        assert (local.hour, local.minute) == (8, 30)
    assert before_change.at.astimezone(LA).utcoffset() != after_change.at.astimezone(LA).utcoffset()


# EU DST change -> the EMEA->US meeting on the Friday before and the Monday after, in UTC and
# as a Berlin reader sees it: Los Angeles is on PDT on both sides, Berlin is not.
EMEA_US_AROUND_EU_DST = {
    "2026-03-29": ("2026-03-27 15:30", "16:30", "2026-03-30 15:30", "17:30"),
    "2026-10-25": ("2026-10-23 15:30", "17:30", "2026-10-26 15:30", "16:30"),
    "2027-03-28": ("2027-03-26 15:30", "16:30", "2027-03-29 15:30", "17:30"),
    "2027-10-31": ("2027-10-29 15:30", "17:30", "2027-11-01 15:30", "16:30"),
}


@pytest.mark.parametrize("reader_zone", READER_ZONES)
@pytest.mark.parametrize("dst_date", EU_DST_DATES)
def test_emea_to_us_meeting_across_eu_dst(
    default_schedule: Schedule, dst_date: str, reader_zone: str
) -> None:
    friday_text, friday_berlin, monday_text, monday_berlin = EMEA_US_AROUND_EU_DST[dst_date]
    friday, monday = utc(friday_text), utc(monday_text)

    first = default_schedule.next_meeting(
        "EMEA", as_reader(friday.replace(hour=12, minute=0), reader_zone), to_region="US"
    )
    second = default_schedule.next_meeting("EMEA", as_reader(friday, reader_zone))

    assert first is not None and second is not None
    assert_utc(first.at, friday)
    assert_utc(second.at, monday)
    assert first.at.astimezone(BERLIN).strftime("%H:%M") == friday_berlin
    assert second.at.astimezone(BERLIN).strftime("%H:%M") == monday_berlin


# --- who is on shift at the boundaries -------------------------------------------------------

# Offsets from 00:00 UTC on the Monday after a DST change, and who works then. APAC's shift
# (07:00-16:00 Shanghai) starts the evening before in UTC; IST's (09:00-18:00 Kolkata) is
# 03:30-12:30 UTC.
BOUNDARIES: list[tuple[dt.timedelta, list[str]]] = [
    (dt.timedelta(hours=-1) - ONE_US, []),  # Sunday 22:59:59.999999: weekend for everyone
    (dt.timedelta(hours=-1), ["APAC"]),  # APAC's Monday starts Sunday 23:00 UTC
    (dt.timedelta(0), ["APAC"]),  # no US shift started on Sunday
    (dt.timedelta(hours=3, minutes=30) - ONE_US, ["APAC"]),
    (dt.timedelta(hours=3, minutes=30), ["APAC", "IST"]),
    (dt.timedelta(hours=8) - ONE_US, ["APAC", "IST"]),
    (dt.timedelta(hours=8), ["EMEA", "IST"]),  # APAC ends, EMEA starts
    (dt.timedelta(hours=12, minutes=30) - ONE_US, ["EMEA", "IST"]),
    (dt.timedelta(hours=12, minutes=30), ["EMEA"]),
    (dt.timedelta(hours=16) - ONE_US, ["EMEA"]),
    (dt.timedelta(hours=16), ["US"]),  # EMEA ends, US starts
    (dt.timedelta(hours=23) - ONE_US, ["US"]),
    (dt.timedelta(hours=23), ["US", "APAC"]),  # APAC's Tuesday overlaps US's Monday
    (dt.timedelta(hours=24) - ONE_US, ["US", "APAC"]),
    (dt.timedelta(hours=24), ["APAC"]),  # US's overnight-to-midnight shift has ended
]


@pytest.mark.parametrize("reader_zone", READER_ZONES)
@pytest.mark.parametrize("dst_date", US_DST_DATES + EU_DST_DATES)
def test_regions_on_shift_at_each_boundary(
    default_schedule: Schedule, dst_date: str, reader_zone: str
) -> None:
    monday = utc(dst_date) + dt.timedelta(days=1)
    assert monday.weekday() == 0
    for offset, expected in BOUNDARIES:
        at = as_reader(monday + offset, reader_zone)
        assert default_schedule.regions_on_shift(at) == expected, (monday + offset).isoformat()


@pytest.mark.parametrize("reader_zone", READER_ZONES)
@pytest.mark.parametrize("dst_date", US_DST_DATES + EU_DST_DATES)
def test_apac_occurrence_spans_midnight_utc(
    default_schedule: Schedule, dst_date: str, reader_zone: str
) -> None:
    sunday = utc(dst_date)
    start = sunday + dt.timedelta(hours=23)
    expected = ShiftOccurrence(region="APAC", start=start, end=start + dt.timedelta(hours=9))

    assert default_schedule.current_shift("APAC", as_reader(start, reader_zone)) == expected
    last = as_reader(expected.end - ONE_US, reader_zone)
    assert default_schedule.current_shift("APAC", last) == expected
    assert default_schedule.current_shift("APAC", as_reader(expected.end, reader_zone)) is None
    assert default_schedule.current_shift("APAC", as_reader(start - ONE_US, reader_zone)) is None


def test_current_shift_returns_utc_occurrence(default_schedule: Schedule) -> None:
    at = dt.datetime(2026, 3, 11, 10, 0, tzinfo=BERLIN)  # 09:00 UTC, a Wednesday
    occurrence = default_schedule.current_shift("EMEA", at)
    assert occurrence == ShiftOccurrence(
        region="EMEA", start=utc("2026-03-11 08:00"), end=utc("2026-03-11 16:00")
    )
    assert occurrence.start.utcoffset() == dt.timedelta(0)
    assert occurrence.end.utcoffset() == dt.timedelta(0)


# --- overnight shifts and weekends -----------------------------------------------------------


def night_schedule(workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})) -> Schedule:
    return Schedule(
        travel_order=["NIGHT", "DAY"],
        shifts=[
            Shift(
                region="NIGHT",
                timezone="America/Los_Angeles",
                start=dt.time(20),
                end=dt.time(4),
                workdays=workdays,
            )
        ],
        meetings=[],
    )


def test_overnight_shift_started_friday_runs_into_saturday() -> None:
    schedule = night_schedule()
    # Friday 2026-03-06 20:00 PST (04:00 UTC Saturday) to Saturday 04:00 PST (12:00 UTC).
    friday_night = ShiftOccurrence(
        region="NIGHT", start=utc("2026-03-07 04:00"), end=utc("2026-03-07 12:00")
    )
    saturday_3am = dt.datetime(2026, 3, 7, 3, 0, tzinfo=LA)
    assert schedule.current_shift("NIGHT", saturday_3am) == friday_night
    assert schedule.regions_on_shift(saturday_3am) == ["NIGHT"]
    assert schedule.current_shift("NIGHT", dt.datetime(2026, 3, 7, 4, 0, tzinfo=LA)) is None
    # Saturday is not a workday, so no shift starts Saturday night.
    assert schedule.current_shift("NIGHT", dt.datetime(2026, 3, 7, 22, 0, tzinfo=LA)) is None
    assert schedule.current_shift("NIGHT", dt.datetime(2026, 3, 8, 3, 0, tzinfo=LA)) is None
    # The next start is Monday 20:00, now PDT (UTC-7).
    assert schedule.next_shift_start("NIGHT", saturday_3am) == ShiftOccurrence(
        region="NIGHT", start=utc("2026-03-10 03:00"), end=utc("2026-03-10 11:00")
    )


def test_default_us_shift_ends_at_midnight_utc_on_friday(default_schedule: Schedule) -> None:
    friday_night = utc("2026-03-13 23:59:59.999999")
    assert default_schedule.current_shift("US", friday_night) == ShiftOccurrence(
        region="US", start=utc("2026-03-13 16:00"), end=utc("2026-03-14 00:00")
    )
    assert default_schedule.current_shift("US", utc("2026-03-14 00:00")) is None
    assert default_schedule.regions_on_shift(utc("2026-03-14 12:00")) == []


@pytest.mark.parametrize(
    ("saturday", "start", "end"),
    [
        # 22:00 PST -> 06:00 PDT: the clocks skip an hour, so the night is 7 hours long.
        ("2026-03-07", "2026-03-08 06:00", "2026-03-08 13:00"),
        # 22:00 PDT -> 06:00 PST: the clocks repeat an hour, so the night is 9 hours long.
        ("2026-10-31", "2026-11-01 05:00", "2026-11-01 14:00"),
        ("2027-03-13", "2027-03-14 06:00", "2027-03-14 13:00"),
        ("2027-11-06", "2027-11-07 05:00", "2027-11-07 14:00"),
    ],
)
def test_overnight_shift_across_dst_change_keeps_wall_clock_hours(
    saturday: str, start: str, end: str
) -> None:
    schedule = Schedule(
        travel_order=["NIGHT"],
        shifts=[
            Shift(
                region="NIGHT",
                timezone="America/Los_Angeles",
                start=dt.time(22),
                end=dt.time(6),
                workdays=frozenset(range(7)),
            )
        ],
        meetings=[],
    )
    expected = ShiftOccurrence(region="NIGHT", start=utc(start), end=utc(end))
    assert schedule.next_shift_start("NIGHT", utc(f"{saturday} 12:00")) == expected
    assert schedule.current_shift("NIGHT", utc(end) - ONE_US) == expected
    assert schedule.current_shift("NIGHT", utc(end)) is None


def test_shift_ending_when_it_starts_runs_24_hours() -> None:
    schedule = Schedule(
        travel_order=["ALL"],
        shifts=[Shift(region="ALL", timezone="Etc/UTC", start=dt.time(6), end=dt.time(6))],
        meetings=[],
    )
    # Wednesday 06:00 to Thursday 06:00; Thursday's shift takes over at its start.
    wednesday = ShiftOccurrence(
        region="ALL", start=utc("2026-03-11 06:00"), end=utc("2026-03-12 06:00")
    )
    assert schedule.current_shift("ALL", utc("2026-03-11 23:00")) == wednesday
    assert schedule.current_shift("ALL", utc("2026-03-12 05:00")) == wednesday
    thursday = schedule.current_shift("ALL", utc("2026-03-12 06:00"))
    assert thursday is not None
    assert thursday.start == utc("2026-03-12 06:00")
    # Friday's shift runs into Saturday morning; none starts on Saturday.
    assert schedule.regions_on_shift(utc("2026-03-14 05:59")) == ["ALL"]
    assert schedule.regions_on_shift(utc("2026-03-14 06:00")) == []


@pytest.mark.parametrize("reader_zone", READER_ZONES)
@pytest.mark.parametrize(
    ("region", "after", "start", "end"),
    [
        # Strictly after: at APAC's start the next one is the following day's.
        ("APAC", "2026-03-15 23:00", "2026-03-16 23:00", "2026-03-17 08:00"),
        # Friday after APAC's shift: Saturday and Sunday (Shanghai) have none.
        ("APAC", "2026-03-13 09:00", "2026-03-15 23:00", "2026-03-16 08:00"),
        ("US", "2026-03-13 16:00", "2026-03-16 16:00", "2026-03-17 00:00"),
        ("IST", "2026-03-11 03:29", "2026-03-11 03:30", "2026-03-11 12:30"),
        ("EMEA", "2026-03-29 00:00", "2026-03-30 08:00", "2026-03-30 16:00"),
    ],
)
def test_next_shift_start(
    default_schedule: Schedule, region: str, after: str, start: str, end: str, reader_zone: str
) -> None:
    occurrence = default_schedule.next_shift_start(region, as_reader(utc(after), reader_zone))
    assert occurrence == ShiftOccurrence(region=region, start=utc(start), end=utc(end))
    assert occurrence.start.utcoffset() == dt.timedelta(0)


# --- no meetings on weekends -----------------------------------------------------------------


@pytest.mark.parametrize("reader_zone", READER_ZONES)
def test_us_to_apac_meeting_skips_the_weekend(default_schedule: Schedule, reader_zone: str) -> None:
    # Thursday 16:30 PDT = 23:30 UTC Thursday = 07:30 Friday in Shanghai: held.
    thursday = default_schedule.next_meeting("US", as_reader(utc("2026-03-12 12:00"), reader_zone))
    assert thursday is not None
    assert_utc(thursday.at, utc("2026-03-12 23:30"))

    # Friday 16:30 PDT is Saturday 07:30 in Shanghai: APAC's weekend.
    friday_meeting = utc("2026-03-13 23:30")
    assert default_schedule.is_workday("US", friday_meeting)
    assert not default_schedule.is_workday("APAC", friday_meeting)
    # Sunday 16:30 PDT is Monday 07:30 in Shanghai, but US is off on Sunday.
    sunday_meeting = utc("2026-03-15 23:30")
    assert default_schedule.is_workday("APAC", sunday_meeting)
    assert not default_schedule.is_workday("US", sunday_meeting)

    following = default_schedule.next_meeting(
        "US", as_reader(utc("2026-03-13 12:00"), reader_zone), to_region="APAC"
    )
    assert following is not None
    assert_utc(following.at, utc("2026-03-16 23:30"))  # Monday 16:30 PDT
    local = following.at.astimezone(LA)
    assert (local.weekday(), local.hour, local.minute) == (0, 16, 30)


def test_meeting_skipped_when_sender_is_on_weekend_in_its_own_zone() -> None:
    # With US hours in Los Angeles, a winter Sunday 16:30 PST (Monday 00:30 UTC, Monday 08:30
    # in Shanghai) is the US weekend, so the next meeting after Friday is Monday's.
    schedule = Schedule(
        travel_order=["US", "APAC"],
        shifts=[
            Shift(region="US", timezone="America/Los_Angeles", start=dt.time(8), end=dt.time(17)),
            Shift(region="APAC", timezone="Asia/Shanghai", start=dt.time(7), end=dt.time(16)),
        ],
        meetings=[
            HandoffMeeting(
                from_region="US",
                to_regions=("APAC",),
                time=dt.time(16, 30),
                timezone="America/Los_Angeles",
            )
        ],
    )
    assert not schedule.is_workday("US", utc("2026-01-12 00:30"))
    meeting = schedule.next_meeting("US", utc("2026-01-09 12:00"))
    assert meeting is not None
    assert_utc(meeting.at, utc("2026-01-13 00:30"))


@pytest.mark.parametrize("reader_zone", READER_ZONES)
def test_apac_meeting_skips_the_weekend_and_filters_by_receiver(
    default_schedule: Schedule, reader_zone: str
) -> None:
    friday = default_schedule.next_meeting("APAC", as_reader(utc("2026-03-13 00:00"), reader_zone))
    assert friday is not None
    assert_utc(friday.at, utc("2026-03-13 07:30"))
    assert friday.meeting.to_regions == ("IST", "EMEA")

    after_friday = as_reader(utc("2026-03-13 07:30"), reader_zone)
    for to_region in (None, "IST", "EMEA"):
        monday = default_schedule.next_meeting("APAC", after_friday, to_region=to_region)
        assert monday == MeetingOccurrence(meeting=friday.meeting, at=utc("2026-03-16 07:30"))
    assert default_schedule.next_meeting("APAC", after_friday, to_region="US") is None


def test_no_meeting_within_window_returns_none() -> None:
    schedule = Schedule(
        travel_order=["A", "B"],
        shifts=[
            Shift(
                region="B",
                timezone="Etc/UTC",
                start=dt.time(9),
                end=dt.time(17),
                workdays=frozenset(),
            )
        ],
        meetings=[
            HandoffMeeting(from_region="A", to_regions=("B",), time=dt.time(9), timezone="Etc/UTC")
        ],
    )
    assert schedule.next_meeting("A", utc("2026-03-11 00:00")) is None
    with pytest.raises(LookupError, match="no shift starting within 14 days"):
        schedule.next_shift_start("B", utc("2026-03-11 00:00"))


def test_earliest_of_several_meetings_from_one_region_wins() -> None:
    morning = HandoffMeeting(
        from_region="A", to_regions=("B",), time=dt.time(9), timezone="Etc/UTC"
    )
    evening = HandoffMeeting(
        from_region="A", to_regions=("B", "C"), time=dt.time(17), timezone="Etc/UTC"
    )
    schedule = Schedule(travel_order=["A", "B", "C"], shifts=[], meetings=[morning, evening])
    after = utc("2026-03-11 08:00")
    assert schedule.next_meeting("A", after) == MeetingOccurrence(
        meeting=morning, at=utc("2026-03-11 09:00")
    )
    assert schedule.next_meeting("A", utc("2026-03-11 09:00")) == MeetingOccurrence(
        meeting=evening, at=utc("2026-03-11 17:00")
    )
    assert schedule.next_meeting("A", after, to_region="C") == MeetingOccurrence(
        meeting=evening, at=utc("2026-03-11 17:00")
    )


# --- wall-clock times that do not exist or exist twice ---------------------------------------


def daily_meeting_schedule(at: dt.time) -> Schedule:
    # Regions without shifts work every day, so the meeting is held daily.
    return Schedule(
        travel_order=["A", "B"],
        shifts=[],
        meetings=[
            HandoffMeeting(
                from_region="A", to_regions=("B",), time=at, timezone="America/Los_Angeles"
            )
        ],
    )


def test_meeting_in_spring_forward_gap_uses_pre_change_offset() -> None:
    schedule = daily_meeting_schedule(dt.time(2, 30))
    gap_day = schedule.next_meeting("A", utc("2026-03-08 00:00"))
    assert gap_day is not None
    # 02:30 does not exist on 2026-03-08; read with PST (UTC-8) it is 10:30 UTC = 03:30 PDT.
    assert_utc(gap_day.at, utc("2026-03-08 10:30"))
    assert gap_day.at.astimezone(LA).strftime("%H:%M") == "03:30"
    next_day = schedule.next_meeting("A", gap_day.at)
    assert next_day is not None
    assert_utc(next_day.at, utc("2026-03-09 09:30"))


def test_meeting_in_fall_back_overlap_is_held_once_at_first_occurrence() -> None:
    schedule = daily_meeting_schedule(dt.time(1, 30))
    first = schedule.next_meeting("A", utc("2026-11-01 00:00"))
    assert first is not None
    assert_utc(first.at, utc("2026-11-01 08:30"))  # 01:30 PDT, the first 01:30
    # The second 01:30 (PST, 09:30 UTC) is not another meeting.
    following = schedule.next_meeting("A", first.at)
    assert following is not None
    assert_utc(following.at, utc("2026-11-02 09:30"))


# --- travel order ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "expected"),
    [("EMEA", "US"), ("US", "APAC"), ("APAC", "IST"), ("IST", "EMEA")],
)
def test_next_region_follows_the_sun_and_wraps(
    default_schedule: Schedule, region: str, expected: str
) -> None:
    assert default_schedule.next_region(region) == expected


def test_travel_order_is_exposed(default_schedule: Schedule) -> None:
    assert default_schedule.travel_order == ("EMEA", "US", "APAC", "IST")


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda s, naive: s.current_shift("EMEA", naive),
        lambda s, naive: s.regions_on_shift(naive),
        lambda s, naive: s.next_shift_start("EMEA", naive),
        lambda s, naive: s.next_meeting("EMEA", naive),
        lambda s, naive: s.is_workday("EMEA", naive),
    ],
    ids=["current_shift", "regions_on_shift", "next_shift_start", "next_meeting", "is_workday"],
)
def test_naive_datetimes_are_refused(
    default_schedule: Schedule, call: Callable[[Schedule, dt.datetime], object]
) -> None:
    naive = dt.datetime(2026, 3, 11, 9, 0)
    with pytest.raises(ValueError, match=r"timezone-aware.*naive 2026-03-11T09:00:00"):
        call(default_schedule, naive)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America", "", "../etc/passwd", "Etc/UTC "])
def test_unknown_shift_zone_is_refused(zone: str) -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone") as caught:
        Shift(region="EMEA", timezone=zone, start=dt.time(8), end=dt.time(16))
    assert repr(zone) in str(caught.value)


def test_unknown_meeting_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown IANA time zone 'PST'"):
        HandoffMeeting(from_region="US", to_regions=("APAC",), time=dt.time(16, 30), timezone="PST")


def test_times_with_an_offset_are_refused() -> None:
    with pytest.raises(ValueError, match="wall-clock time without an offset"):
        Shift(
            region="EMEA",
            timezone="Etc/UTC",
            start=dt.time(8, tzinfo=dt.UTC),
            end=dt.time(16),
        )


def test_workdays_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match=r"0 \(Monday\) to 6 \(Sunday\), got \[7\]"):
        Shift(
            region="EMEA",
            timezone="Etc/UTC",
            start=dt.time(8),
            end=dt.time(16),
            workdays=frozenset({0, 7}),
        )


def test_meeting_without_receivers_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one receiving region"):
        HandoffMeeting(from_region="US", to_regions=(), time=dt.time(16, 30), timezone="Etc/UTC")


def test_shift_region_outside_travel_order_is_refused() -> None:
    with pytest.raises(ValueError, match="shift region 'LATAM' is not in travel_order"):
        Schedule(
            travel_order=["EMEA", "US"],
            shifts=[Shift(region="LATAM", timezone="Etc/UTC", start=dt.time(8), end=dt.time(16))],
            meetings=[],
        )


@pytest.mark.parametrize(
    ("from_region", "to_regions"), [("LATAM", ("US",)), ("EMEA", ("US", "LATAM"))]
)
def test_meeting_region_outside_travel_order_is_refused(
    from_region: str, to_regions: tuple[str, ...]
) -> None:
    meeting = HandoffMeeting(
        from_region=from_region, to_regions=to_regions, time=dt.time(9), timezone="Etc/UTC"
    )
    with pytest.raises(ValueError, match="meeting region 'LATAM' is not in travel_order"):
        Schedule(travel_order=["EMEA", "US"], shifts=[], meetings=[meeting])


def test_two_shifts_for_one_region_are_refused() -> None:
    shift = Shift(region="EMEA", timezone="Etc/UTC", start=dt.time(8), end=dt.time(16))
    with pytest.raises(ValueError, match="region 'EMEA' has more than one shift"):
        Schedule(travel_order=["EMEA"], shifts=[shift, shift], meetings=[])


@pytest.mark.parametrize(
    ("order", "message"),
    [([], "at least one region"), (["EMEA", "US", "EMEA"], r"\['EMEA'\] more than once")],
)
def test_bad_travel_order_is_refused(order: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Schedule(travel_order=order, shifts=[], meetings=[])


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.current_shift("LATAM", utc("2026-03-11 09:00")),
        lambda s: s.next_shift_start("LATAM", utc("2026-03-11 09:00")),
        lambda s: s.next_region("LATAM"),
        lambda s: s.is_workday("LATAM", utc("2026-03-11 09:00")),
        lambda s: s.next_meeting("LATAM", utc("2026-03-11 09:00")),
        lambda s: s.next_meeting("EMEA", utc("2026-03-11 09:00"), to_region="LATAM"),
    ],
)
def test_unknown_regions_are_refused(
    default_schedule: Schedule, call: Callable[[Schedule], object]
) -> None:
    with pytest.raises(ValueError, match=r"unknown region 'LATAM'; known regions: \['EMEA'"):
        call(default_schedule)


def test_region_without_shift() -> None:
    schedule = Schedule(travel_order=["EMEA", "IST"], shifts=[], meetings=[])
    saturday = utc("2026-03-14 12:00")
    assert schedule.current_shift("IST", saturday) is None
    assert schedule.regions_on_shift(saturday) == []
    assert schedule.is_workday("IST", saturday)
    with pytest.raises(LookupError, match="region 'IST' has no shift configured"):
        schedule.next_shift_start("IST", saturday)


# --- the region a Teams client's zone points to ----------------------------------------------

CLIENT_ZONES = {
    "Europe/Berlin": "EMEA",
    "Europe/London": "EMEA",
    "Africa/Johannesburg": "EMEA",
    "America/Chicago": "US",
    "America/Sao_Paulo": "US",  # the Americas, though London is nearer on the clock
    "Pacific/Honolulu": "US",
    "Asia/Tokyo": "APAC",
    "Australia/Sydney": "APAC",
    "Pacific/Auckland": "APAC",  # not US, though nearer round the date line
    "Asia/Kolkata": "IST",
    "Asia/Colombo": "IST",
}
# A winter day, the day the US changes its clocks, the day Europe does: every hour of each.
REGION_MOMENTS = [
    day + dt.timedelta(hours=hour)
    for day in (utc("2026-11-24 00:00"), utc("2026-03-08 00:00"), utc("2026-03-29 00:00"))
    for hour in range(24)
]


@pytest.mark.parametrize(("zone", "region"), CLIENT_ZONES.items())
def test_a_client_zone_points_to_its_region_at_every_hour_and_across_dst(
    zone: str, region: str
) -> None:
    schedule = load_process_config(DEFAULT_CONFIG_PATH).schedule()
    found = {at.isoformat(): schedule.region_nearest(zone, at) for at in REGION_MOMENTS}
    assert set(found.values()) == {region}, found


def test_a_zone_that_does_not_exist_points_nowhere(default_schedule: Schedule) -> None:
    assert default_schedule.region_nearest("Mars/Olympus_Mons", utc("2026-11-24 10:00")) is None
