"""The flow chart of R-24x7-4 and R-NON24x7-3 on the default schedule from config."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff.flowchart import NextStepKind, PathStep, next_step, within_region_step
from handoff.schedule import Schedule, Shift

UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")

# Summer: the EMEA->US meeting (08:30 Los Angeles) is 15:30 UTC, inside EMEA's 08:00-16:00 UTC.
SUMMER_TUESDAY_EMEA = dt.datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
# Winter: the same meeting is 16:30 UTC, after the spec's literal 08:00-16:00 UTC EMEA shift.
WINTER_TUESDAY_EMEA = dt.datetime(2026, 1, 13, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    return load_process_config(DEFAULT_CONFIG_PATH).schedule()


@pytest.fixture(scope="module")
def utc_emea_schedule(schedule: Schedule) -> Schedule:
    """The shipped schedule with EMEA on the spec's literal UTC hours, where the winter
    EMEA->US meeting falls after EMEA's shift."""
    emea = Shift(region="EMEA", timezone="Etc/UTC", start=dt.time(8), end=dt.time(16))
    shifts = [emea, *(s for s in schedule.shifts if s.region != "EMEA")]
    return Schedule(schedule.travel_order, shifts, schedule.meetings)


def test_the_shipped_emea_shift_keeps_the_winter_meeting_in_hours(schedule: Schedule) -> None:
    step = next_step(schedule, "EMEA", "US", WINTER_TUESDAY_EMEA, True, False, False)
    assert step.kind is NextStepKind.ATTEND_MEETING
    assert step.meeting is not None
    assert step.meeting.at == dt.datetime(2026, 1, 13, 16, 30, tzinfo=UTC)


# --- non-24x7 ------------------------------------------------------------------------------------


def test_non_critical_meeting_in_hours_is_attended(schedule: Schedule) -> None:
    step = next_step(schedule, "EMEA", "US", SUMMER_TUESDAY_EMEA, True, False, False)
    assert step.kind is NextStepKind.ATTEND_MEETING
    assert step.path == (PathStep.NON_CRITICAL, PathStep.MEETING, PathStep.OWNER_ATTENDS)
    assert step.meeting is not None
    assert step.meeting.at == dt.datetime(2026, 6, 2, 15, 30, tzinfo=UTC)
    assert step.act_at == step.meeting.at
    assert not step.stay_with_case
    assert not step.mail_dm
    assert step.instruction == (
        "Attend the EMEA->US handoff meeting at Tue Jun 2, 2026, 3:30 PM UTC "
        "and follow the instructions there."
    )


def test_instruction_shows_meeting_in_reader_zone(schedule: Schedule) -> None:
    step = next_step(
        schedule, "EMEA", "US", SUMMER_TUESDAY_EMEA, True, False, False, reader_zone="Europe/Berlin"
    )
    assert "at Tue Jun 2, 2026, 5:30 PM CEST" in step.instruction


def test_non_critical_meeting_after_shift_end_goes_back_to_queue(
    utc_emea_schedule: Schedule,
) -> None:
    step = next_step(utc_emea_schedule, "EMEA", "US", WINTER_TUESDAY_EMEA, True, True, False)
    assert step.kind is NextStepKind.BACK_TO_QUEUE_AND_MAIL
    assert step.mail_dm
    assert step.path == (
        PathStep.NON_CRITICAL,
        PathStep.NO_MEETING_IN_HOURS,
        PathStep.BACK_TO_QUEUE,
    )
    assert step.act_at == dt.datetime(2026, 1, 13, 16, 0, tzinfo=UTC)
    assert step.meeting is None
    assert not step.stay_with_case
    assert step.instruction.startswith("At the end of your shift (Tue Jan 13, 2026, 4:00 PM UTC")


def test_non_critical_owner_outside_hours_goes_back_to_queue_now(schedule: Schedule) -> None:
    evening = dt.datetime(2026, 6, 2, 18, 0, tzinfo=UTC)
    step = next_step(schedule, "EMEA", "US", evening, True, True, False)
    assert step.kind is NextStepKind.BACK_TO_QUEUE_AND_MAIL
    assert step.path[1] is PathStep.NO_MEETING_IN_HOURS
    assert step.act_at == evening
    assert step.instruction.startswith("Now, transfer the case back to the queue and e-mail")


@pytest.mark.parametrize(
    ("teammate", "kind", "last"),
    [
        (True, NextStepKind.TEAMMATE_ATTENDS, PathStep.TEAMMATE_HOLDS),
        (False, NextStepKind.BACK_TO_QUEUE_AND_MAIL, PathStep.BACK_TO_QUEUE),
    ],
)
def test_non_critical_owner_unavailable(
    schedule: Schedule, teammate: bool, kind: NextStepKind, last: PathStep
) -> None:
    step = next_step(schedule, "EMEA", "US", SUMMER_TUESDAY_EMEA, False, teammate, False)
    assert step.kind is kind
    assert step.path[:3] == (PathStep.NON_CRITICAL, PathStep.MEETING, PathStep.OWNER_UNAVAILABLE)
    assert step.path[-1] is last
    # A non-critical case never goes to the SME.
    assert PathStep.CONTACT_SME not in step.path


# --- 24x7 ----------------------------------------------------------------------------------------


def test_critical_meeting_in_hours_is_attended_and_owner_stays(schedule: Schedule) -> None:
    step = next_step(schedule, "EMEA", "US", SUMMER_TUESDAY_EMEA, True, False, True)
    assert step.kind is NextStepKind.ATTEND_MEETING
    assert step.path == (PathStep.CRITICAL, PathStep.MEETING, PathStep.OWNER_ATTENDS)
    assert step.stay_with_case


def test_critical_weekend_goes_straight_back_to_queue(schedule: Schedule) -> None:
    # Friday 16:00 in Los Angeles: the US->APAC meeting at 16:30 is Saturday in Shanghai, so it
    # is not held (R-24x7-4a), and Monday's is beyond the daily cycle: step a jumps to step e.
    friday = dt.datetime(2026, 6, 5, 16, 0, tzinfo=LA)
    step = next_step(schedule, "US", "APAC", friday, True, True, True)
    assert step.kind is NextStepKind.BACK_TO_QUEUE_AND_MAIL
    assert step.path == (
        PathStep.CRITICAL,
        PathStep.NO_MEETING,
        PathStep.BACK_TO_QUEUE,
        PathStep.STAY,
    )
    assert step.act_at == dt.datetime(2026, 6, 5, 17, 0, tzinfo=LA)
    assert step.stay_with_case
    assert step.instruction.endswith("Stay with the case until another engineer has taken it.")


def test_critical_on_saturday_with_owner_off_shift_goes_back_to_queue(schedule: Schedule) -> None:
    saturday = dt.datetime(2026, 6, 6, 10, 0, tzinfo=UTC)
    step = next_step(schedule, "EMEA", "US", saturday, True, True, True)
    assert step.kind is NextStepKind.BACK_TO_QUEUE_AND_MAIL
    assert step.path[:2] == (PathStep.CRITICAL, PathStep.NO_MEETING)
    assert step.act_at == saturday


def test_critical_meeting_outside_hours_teammate_attends(utc_emea_schedule: Schedule) -> None:
    step = next_step(utc_emea_schedule, "EMEA", "US", WINTER_TUESDAY_EMEA, True, True, True)
    assert step.kind is NextStepKind.TEAMMATE_ATTENDS
    assert step.path == (
        PathStep.CRITICAL,
        PathStep.MEETING,
        PathStep.OUTSIDE_HOURS,
        PathStep.TEAMMATE_HOLDS,
    )
    assert step.meeting is not None
    assert step.meeting.at == dt.datetime(2026, 1, 13, 16, 30, tzinfo=UTC)


def test_critical_owner_unavailable_no_teammate_contacts_sme_first(schedule: Schedule) -> None:
    step = next_step(schedule, "EMEA", "US", SUMMER_TUESDAY_EMEA, False, False, True)
    assert step.kind is NextStepKind.CONTACT_SME
    assert step.path == (
        PathStep.CRITICAL,
        PathStep.MEETING,
        PathStep.OWNER_UNAVAILABLE,
        PathStep.NO_TEAMMATE,
        PathStep.CONTACT_SME,
    )
    assert not step.mail_dm
    assert step.stay_with_case


def test_critical_back_to_queue_only_after_sme_alignment(utc_emea_schedule: Schedule) -> None:
    step = next_step(
        utc_emea_schedule, "EMEA", "US", WINTER_TUESDAY_EMEA, True, False, True, sme_aligned=True
    )
    assert step.kind is NextStepKind.BACK_TO_QUEUE_AND_MAIL
    assert step.path == (
        PathStep.CRITICAL,
        PathStep.MEETING,
        PathStep.OUTSIDE_HOURS,
        PathStep.NO_TEAMMATE,
        PathStep.SME_ALIGNED,
        PathStep.BACK_TO_QUEUE,
        PathStep.STAY,
    )
    assert step.act_at == dt.datetime(2026, 1, 13, 16, 0, tzinfo=UTC)


def test_sme_alignment_does_not_skip_an_attendable_meeting(schedule: Schedule) -> None:
    step = next_step(
        schedule, "EMEA", "US", SUMMER_TUESDAY_EMEA, True, False, True, sme_aligned=True
    )
    assert step.kind is NextStepKind.ATTEND_MEETING


def test_target_without_direct_meeting_uses_owner_region_meeting(schedule: Schedule) -> None:
    step = next_step(schedule, "EMEA", "APAC", SUMMER_TUESDAY_EMEA, True, False, True)
    assert step.kind is NextStepKind.ATTEND_MEETING
    assert step.meeting is not None
    assert step.meeting.meeting.from_region == "EMEA"
    assert step.meeting.meeting.to_regions == ("US",)


def test_apac_meeting_to_emea(schedule: Schedule) -> None:
    # 10:00 in Shanghai on a Wednesday; the APAC->IST/EMEA meeting is 15:30 there.
    morning = dt.datetime(2026, 6, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    step = next_step(schedule, "APAC", "EMEA", morning, True, False, False)
    assert step.kind is NextStepKind.ATTEND_MEETING
    assert step.meeting is not None
    assert step.meeting.at == dt.datetime(2026, 6, 3, 7, 30, tzinfo=UTC)


def test_same_region_and_naive_time_are_refused(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="teammate"):
        next_step(schedule, "EMEA", "EMEA", SUMMER_TUESDAY_EMEA, True, True, True)
    with pytest.raises(ValueError, match="aware"):
        next_step(schedule, "EMEA", "US", dt.datetime(2026, 6, 2, 10), True, True, True)


@pytest.mark.parametrize("critical", [True, False])
def test_within_region_transfer_is_reassigned_directly(critical: bool) -> None:
    step = within_region_step("kim@example.invalid", critical)
    assert step.kind is NextStepKind.REASSIGN
    assert step.instruction == "Reassign the case to kim@example.invalid in the case tool."
    assert step.stay_with_case is critical
    assert (PathStep.STAY in step.path) is critical
    assert not step.mail_dm
