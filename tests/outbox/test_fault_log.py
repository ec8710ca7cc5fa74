"""A fault that repeats is logged once with its traceback, then as a count at most every 30 s
of the clock, and its end in one line; the clock is the tests' FakeClock, never slept on."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from outbox.fault_log import DATABASE_UNAVAILABLE, FaultLog
from storage.errors import StorageUnavailable

from conftest import FakeClock

TURNS = logging.getLogger("test.turns")
ROUNDS = logging.getLogger("test.rounds")


def outage(n: int = 0) -> StorageUnavailable:
    try:
        raise StorageUnavailable(f"PostgreSQL at db:5432 is unavailable (attempt {n})")
    except StorageUnavailable as error:
        return error  # raised, so that it carries a traceback


def fail(faults: FaultLog, times: int, logger: logging.Logger = TURNS, what: str = "turns") -> None:
    for n in range(times):
        faults.failed(
            logger, DATABASE_UNAVAILABLE, what, "turn failed", outage(n), {"activity_id": f"a{n}"}
        )


def lines(caplog: pytest.LogCaptureFixture, name: str = "test.turns") -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


@pytest.fixture(autouse=True)
def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


def test_fifty_failures_log_one_traceback_with_the_first_ones_context(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    fail(FaultLog(clock), 50)

    [first] = lines(caplog)
    assert first.levelno == logging.ERROR and first.getMessage() == "turn failed"
    assert first.exc_info is not None and "attempt 0" in str(first.exc_info[1])
    assert getattr(first, "activity_id", None) == "a0"
    assert getattr(first, "fault", None) == DATABASE_UNAVAILABLE


def test_a_count_at_most_every_30_s_of_the_clock_without_a_traceback(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    faults = FaultLog(clock)
    fail(faults, 50)
    clock.advance(timedelta(seconds=29))
    fail(faults, 1)
    assert len(lines(caplog)) == 1, "not 30 s yet"

    clock.advance(timedelta(seconds=1))
    fail(faults, 1)
    fail(faults, 3)  # just after a line: counted for the next one

    [_, summary] = lines(caplog)
    assert summary.levelno == logging.ERROR and summary.exc_info is None
    # 49 after the first, one at 29 s, one at 30 s
    assert summary.getMessage() == "database unavailable: 51 more turns failed in the last 30 s"
    assert getattr(summary, "failures", None) == 51
    assert "attempt 0" in str(getattr(summary, "error", ""))  # the latest failure's error

    clock.advance(timedelta(seconds=45))
    fail(faults, 1)
    [_, _, later] = lines(caplog)
    assert later.getMessage() == "database unavailable: 4 more turns failed in the last 45 s"


def test_a_success_ends_the_count_in_one_line_and_the_next_failure_is_in_full_again(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    faults = FaultLog(clock)
    faults.recovered(DATABASE_UNAVAILABLE, "turns")
    assert caplog.records == [], "nothing to end"
    fail(faults, 10)
    clock.advance(timedelta(seconds=12))

    faults.recovered(DATABASE_UNAVAILABLE, "turns")
    faults.recovered(DATABASE_UNAVAILABLE, "turns")

    [over] = lines(caplog, "outbox.fault_log")
    assert over.levelno == logging.WARNING and over.exc_info is None
    assert over.getMessage() == (
        "database unavailable: turns work again after 12 s; 9 more failed since the last line"
    )
    fail(faults, 2)
    [_, again] = lines(caplog)
    assert again.getMessage() == "turn failed" and again.exc_info is not None


def test_only_a_success_of_the_same_thing_ends_its_count(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The outbox's idle reads work on an SQLite file locked for writing while every turn
    fails: an outbox round that gets through says nothing of the turns."""
    faults = FaultLog(clock)
    fail(faults, 5)
    fail(faults, 5, ROUNDS, "outbox rounds")

    faults.recovered(DATABASE_UNAVAILABLE, "outbox rounds")
    fail(faults, 5)

    [over] = lines(caplog, "outbox.fault_log")
    assert over.getMessage().startswith("database unavailable: outbox rounds work again")
    assert len(lines(caplog)) == 1, "the turns' failures are still counted"


def test_each_thing_that_fails_logs_its_own_first_traceback(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    faults = FaultLog(clock)
    fail(faults, 5)
    fail(faults, 5, ROUNDS, "outbox rounds")

    assert [r.exc_info is not None for r in lines(caplog)] == [True]
    assert [r.exc_info is not None for r in lines(caplog, "test.rounds")] == [True]
