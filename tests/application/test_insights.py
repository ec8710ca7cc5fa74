"""region_insights (application/insights.py), what `insights` shows and the weekly digest posts,
read from the known week of tests/harness/insights_history.py on a real SQLite file and a real
PostgreSQL database: the region is the receiving one, the period is [since, until)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from application.insights import region_insights
from handoff.insights import Period
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness.insights_history import END, make_history

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
