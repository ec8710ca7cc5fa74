"""application/insights.py: region_insights, what `insights` shows and the weekly digest
posts, read from the known week of tests/harness/insights_history.py on a real SQLite file and
a real PostgreSQL database (the region is the receiving one, the period is [since, until)); and
the file `insights export` sends: its rows, its header, its name (the use case over HTTP is in
tests/e2e/test_insights_export.py and tests/e2e/test_insights.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from application.insights import CSV_HEADER, export_csv, export_name, region_insights
from handoff.insights import HandoffFact, Period, parse_period
from handoff.models import HandoffState, Severity
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness.insights_history import END, make_history

START = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def fact(number: str, minutes: float | None, **fields: object) -> HandoffFact:
    accepted = START + timedelta(minutes=minutes) if minutes is not None else None
    values: dict[str, object] = {
        "handoff_id": f"h-{number}-{fields.get('target_region', 'US')}",
        "case_number": number,
        "severity": Severity.A,
        "is_24x7": True,
        "from_region": "EMEA",
        "target_region": "US",
        "requested_at": START,
        "state": HandoffState.ACCEPTED if accepted else HandoffState.REQUESTED,
        "accepted_at": accepted,
        "owner_id": "29:owner" if accepted else None,
        "seconds_to_accept": round(minutes * 60) if minutes is not None else None,
        **fields,
    }
    return HandoffFact(**values)  # type: ignore[arg-type]


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_the_header_says_times_are_utc_and_no_rows_is_a_header_alone() -> None:
    assert rows(export_csv([])) == [list(CSV_HEADER)]
    assert "requested at (UTC)" in CSV_HEADER and "minutes to accept" in CSV_HEADER


def test_rows_come_oldest_first_with_minutes_hops_and_bounces() -> None:
    later = fact(
        "1000002",
        None,
        requested_at=START + timedelta(hours=1),
        back_to_queue_rounds=1,
        more_info_rounds=2,
        is_24x7=False,
        severity=Severity.B,
    )
    first = fact("1000001", 1.5)
    second_hop = fact(
        "1000001",
        20,
        from_region="US",
        target_region="APAC",
        requested_at=START + timedelta(minutes=30),
    )
    # The owner by name; by Teams id where the bot never learnt the name.
    table = rows(export_csv([later, second_hop, first], owner_names={first.handoff_id: "Bo"}))
    assert table[1:] == [
        [
            "1000001", "A", "yes", "EMEA -> US", "2026-03-30T08:00:00Z",
            "2026-03-30T08:01:30Z", "Bo", "1.5", "2", "0", "accepted",
        ],
        [
            "1000001", "A", "yes", "US -> APAC", "2026-03-30T08:30:00Z",
            "2026-03-30T08:20:00Z", "29:owner", "20", "2", "0", "accepted",
        ],
        [
            "1000002", "B", "no", "EMEA -> US", "2026-03-30T09:00:00Z",
            "", "", "", "0", "3", "requested",
        ],
    ]  # fmt: skip


def test_hops_count_the_whole_journey_like_the_card() -> None:
    earlier = fact("1000001", 5, requested_at=START - timedelta(days=40), target_region="IST")
    table = rows(export_csv([fact("1000001", 10)], journeys=[earlier]))
    assert [row[8] for row in table[1:]] == ["2"]


def test_a_cell_with_a_comma_or_quote_stays_one_cell() -> None:
    table = rows(export_csv([fact('10,"3"', 5)]))
    assert table[1][0] == '10,"3"' and len(table[1]) == len(CSV_HEADER)


def test_the_name_says_region_and_days() -> None:
    period = parse_period(["7d"], datetime(2026, 4, 2, 12, 0, tzinfo=UTC), "UTC")
    assert export_name(period, None) == "handoffs-all-20260326-20260402.csv"
    assert export_name(period, "EMEA") == "handoffs-emea-20260326-20260402.csv"


# Monday 03-30 00:00 to Thursday 04-02 12:00, London time (summer time, UTC+1).
SINCE = datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
PERIOD = Period(SINCE, END, "this week", "Europe/London")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))


@pytest.fixture
async def store(database_url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(database_url, clock)
    await make_history(opened, clock)
    yield opened
    await opened.close()


async def test_a_region_counts_the_handoffs_it_received_within_the_period(
    store: SqlStore,
) -> None:
    emea = await region_insights(store, PERIOD, "EMEA", END)
    # 1000004's last hop (APAC → EMEA, 100 minutes), 1000006 (IST → EMEA, 600) and 1000005
    # (APAC → EMEA, open); 1000004's hops to US and APAC went to other regions.
    assert (emea.requested, emea.accepted) == (3, 2)
    assert emea.overall is not None and emea.overall.median_seconds == 350 * 60
    assert [w.case_number for w in emea.critical_waiting] == ["1000005"]

    everyone = await region_insights(store, PERIOD, None, END)
    # And 1000004's first two hops (Monday 08:00 and 16:00 UTC) and 1000003 (Sunday 23:30
    # UTC, Monday 00:30 in London); not 1000002 (Sunday 00:30 UTC).
    assert everyone.requested == 6
    assert dict(everyone.by_region) == {"EMEA": 3, "US": 1, "APAC": 2}
