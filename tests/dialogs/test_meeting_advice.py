"""The meeting advice at every hour of the day, on an ordinary Tuesday and in the weeks when
only one side of the meeting keeps daylight time: an engineer is told to attend the handoff
meeting when it falls within their shift of the day (the one they are in, or before it begins
the one they start later that day), and to send the case back to the queue only when it does
not. The expectation is worked out here from the process file with zoneinfo, apart from the
bot's schedule code."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.process import ProcessConfig

from conftest import FakeClock
from harness.chat import Chat, all_text, cards, form_of, input_ids
from harness.dialog_user import CASE, CRITICAL_CASE, CRITICAL_NOTES, Recorder

DAYS = [
    datetime(2026, 11, 24, tzinfo=UTC),  # both sides on standard time
    datetime(2026, 3, 10, tzinfo=UTC),  # Los Angeles on daylight time, London not yet
    datetime(2026, 3, 31, tzinfo=UTC),  # both on daylight time
]
MOMENTS = [day + timedelta(hours=hour, minutes=15) for day in DAYS for hour in range(24)]


def meeting_in_shift(process: ProcessConfig, now: datetime) -> bool:
    """Whether the next EMEA → US meeting falls within EMEA's shift of the day at `now`."""
    [shift] = [s for s in process.shifts if s.region == "EMEA"]
    [meeting] = [m for m in process.meetings if m.from_region == "EMEA"]
    shift_zone, meeting_zone = ZoneInfo(shift.timezone), ZoneInfo(meeting.timezone)
    today = now.astimezone(shift_zone).date()
    start = datetime.combine(today, shift.start, shift_zone)
    end = datetime.combine(today, shift.end, shift_zone)
    if now >= end:
        return False  # today's hours are over
    day = now.astimezone(meeting_zone).date()
    at = datetime.combine(day, time(meeting.time.hour, meeting.time.minute), meeting_zone)
    if at <= now:
        at += timedelta(days=1)
    return start <= at < end


@pytest.mark.parametrize("now", MOMENTS, ids=[f"{m:%m-%d %H:%M}Z" for m in MOMENTS])
async def test_the_meeting_advice_follows_the_owners_shift_of_the_day(
    now: datetime, user: Recorder, clock: FakeClock, process: ProcessConfig
) -> None:
    clock._now = now
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    replies = await user.submit("notes", **CRITICAL_NOTES)
    [meeting] = cards(replies)
    assert form_of(meeting) == "meeting"
    shown = all_text(meeting)
    in_shift = meeting_in_shift(process, now)
    assert ("can_attend" in input_ids(meeting)) is in_shift, shown
    assert ("after your shift ends" in shown) is not in_shift, shown
    answer = {"can_attend": "yes"} if in_shift else {"teammate_can_hold": "yes", "teammate": "Sam"}
    [review] = cards(await user.submit("meeting", **answer))
    told = all_text(review)
    assert "transfer the case back to the queue" not in told, told
    expected = "Attend the EMEA->US handoff meeting" if in_shift else "Transfer the case to Sam"
    assert expected in told, told


async def test_the_persons_saved_settings_come_before_their_clients_and_their_regions(
    adapter: Any, clock: FakeClock
) -> None:
    """`settings` says where and when the person works: the case form proposes their saved
    region (not the region on shift), times are shown in their saved zone (not the Teams
    client's), and their own hours decide whether they can attend the meeting."""
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # EMEA on shift, US not
    user = Recorder(Chat(adapter, timezone="America/Los_Angeles"))
    await user.say("settings region US")
    await user.say("settings zone Asia/Singapore")
    [case_form] = cards(await user.say(f"handoff {CASE}"))
    assert form_of(case_form) == "case"
    assert prefilled(case_form)["owner_region"] == "US"

    await user.say("cancel")
    await user.say("settings region EMEA")
    await user.say("settings hours 06:00-14:00")  # in Singapore: 22:00-06:00 UTC
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    [meeting] = cards(await user.submit("notes", **CRITICAL_NOTES))
    shown = all_text(meeting)
    assert "Wed Nov 25, 2026, 12:30 AM UTC+08:00" in shown, shown
    assert "after your shift ends" in shown, "16:30 UTC is outside 06:00-14:00 Singapore"


@pytest.mark.parametrize(
    ("client_zone", "proposed"),
    [("America/Chicago", "US"), ("Asia/Tokyo", "APAC"), ("Asia/Kolkata", "IST"), ("", "EMEA")],
)
async def test_without_saved_settings_the_form_proposes_the_region_of_the_clients_zone(
    adapter: Any, clock: FakeClock, client_zone: str, proposed: str
) -> None:
    """At 10:00 UTC EMEA is on shift; an engineer in Chicago handing off then is still a US
    engineer. Without a client zone, the region on shift is the best guess."""
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    user = Recorder(Chat(adapter, timezone=client_zone))
    [case_form] = cards(await user.say(f"handoff {CASE}"))
    assert form_of(case_form) == "case"
    assert prefilled(case_form)["owner_region"] == proposed


def prefilled(card: dict[str, Any]) -> dict[str, str]:
    """The values a form comes with, by input id."""
    values: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "id" in node and "value" in node:
                values[str(node["id"])] = str(node["value"])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card)
    return values


@pytest.mark.parametrize(
    ("hours", "said"),
    [
        ("17:00-23:00", "It is before your shift starts"),  # the meeting is at 16:30 UTC
        ("07:00-15:00", "It is after your shift ends"),
    ],
)
async def test_why_the_owner_cannot_attend_is_said_from_where_the_meeting_falls(
    hours: str, said: str, user: Recorder, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    await user.say("settings zone Europe/London")
    await user.say(f"settings hours {hours}")
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    [meeting] = cards(await user.submit("notes", **CRITICAL_NOTES))
    assert f"{said}, so you cannot attend it yourself." in all_text(meeting)
