"""time_to_accept_buckets, what /metrics' handoff_time_to_accept_seconds reads at each scrape:
the known history of tests/harness/insights_history.py counted into the metric's buckets by
hand, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handoff.insights import AcceptTimes
from handoff.models import Severity
from storage.sql_store import SqlStore
from teams.metrics import ACCEPT_BUCKETS

from conftest import FakeClock
from harness.insights_history import make_history


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))


async def test_nothing_accepted_counts_nothing(store: SqlStore) -> None:
    assert await store.time_to_accept_buckets(ACCEPT_BUCKETS) == {}


async def test_the_known_history_falls_into_the_buckets_worked_out_by_hand(
    store: SqlStore, clock: FakeClock
) -> None:
    await make_history(store, clock)

    times = await store.time_to_accept_buckets(ACCEPT_BUCKETS)

    assert ACCEPT_BUCKETS == (300, 900, 1800, 3600, 7200, 14400, 28800, 86400)
    # Accepted after (minutes) A: 20, 50; B: 15 (the week before), 180 (after a bounce back
    # to the queue), 10, 40, 100; C: 600. The open Sev A handoff has no time yet. 15 minutes
    # is 900 s exactly: in the 900 s bucket (a bound counts what equals it).
    assert times == {
        Severity.A: AcceptTimes(within=(0, 0, 1, 2, 2, 2, 2, 2), count=2, seconds=4200),
        Severity.B: AcceptTimes(within=(0, 2, 2, 3, 4, 5, 5, 5), count=5, seconds=20700),
        Severity.C: AcceptTimes(within=(0, 0, 0, 0, 0, 0, 0, 1), count=1, seconds=36000),
    }


async def test_other_bounds_count_the_same_history_anew(store: SqlStore, clock: FakeClock) -> None:
    await make_history(store, clock)

    times = await store.time_to_accept_buckets((1200, 36000))

    # 20 minutes is 1200 s, 600 minutes 36000 s: each on its bound.
    assert {s: t.within for s, t in times.items()} == {
        Severity.A: (1, 2),
        Severity.B: (2, 5),
        Severity.C: (0, 1),
    }
