from datetime import UTC, datetime

import pytest

from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff.schedule import Schedule
from handoff.shifts import overview


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    return load_process_config(DEFAULT_CONFIG_PATH).schedule()


def test_monday_morning_in_europe(schedule: Schedule) -> None:
    # Monday 2026-11-23 10:00 UTC = 02:00 in Los Angeles: EMEA works (09:00-17:00 UTC in winter).
    rows = {
        row.region: row for row in overview(schedule, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    }
    assert rows["EMEA"].current is not None
    assert rows["EMEA"].current.end == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert rows["US"].current is None
    assert rows["US"].next_start is not None
    assert rows["US"].next_start.start == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    meeting = rows["EMEA"].next_meeting
    assert meeting is not None and meeting.at == datetime(2026, 11, 23, 16, 30, tzinfo=UTC)


def test_saturday_nobody_works_and_the_next_meeting_is_monday(schedule: Schedule) -> None:
    rows = overview(schedule, datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert all(row.current is None for row in rows)
    apac = next(row for row in rows if row.region == "APAC")
    assert apac.next_meeting is not None
    assert apac.next_meeting.at == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
