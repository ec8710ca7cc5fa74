"""Logs a fault that repeats (the database away, and every turn failing on it) once in full,
then as a count, so that an outage leaves a few lines in the log instead of a traceback per
request.

Per fault and per what fails of it ("turns", "outbox rounds"): the first failure is logged
as its caller would (ERROR, with its traceback); the next ones are counted, and a failure
`every` (30 s) or more after the last line logs one ERROR line with the count since then,
without a traceback. `recovered` (one of them succeeded) ends it: one WARNING line saying how
long it lasted and the failures not yet counted in a line; the next failure is logged in
full again. Lines are written when a failure or a success happens, never by a timer:
failures that stop without a success are counted in the next line.

Hand-written rather than taken from PyPI: log-rate-limit 1.4.2 (a logging.Filter) reads
time.time() itself, so it cannot be tested without sleeping, and repeats the traceback every
period; ratelimitingfilter has had no release since 2021. This needs the project's Clock, a
count per fault, and an end to the fault.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from handoff.ports import Clock

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "database unavailable"
SUMMARY_EVERY = timedelta(seconds=30)


@dataclass
class _Streak:
    began: datetime
    last_line: datetime
    uncounted: int = 0


class FaultLog:
    """One per process, shared by whatever may fail on the same fault."""

    def __init__(self, clock: Clock, every: timedelta = SUMMARY_EVERY) -> None:
        self._clock = clock
        self._every = every
        self._streaks: dict[tuple[str, str], _Streak] = {}

    def failed(
        self,
        logger: logging.Logger,
        fault: str,
        what: str,
        message: str,
        error: BaseException,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        """One of `what` (a plural: "turns") failed on `fault`: `message` with the traceback of
        `error` and `extra` on `logger` for the first failure, a count now and then after."""
        now = self._clock.now()
        streak = self._streaks.get((fault, what))
        if streak is None:
            self._streaks[(fault, what)] = _Streak(began=now, last_line=now)
            logger.error(message, exc_info=error, extra={**(extra or {}), "fault": fault})
            return
        streak.uncounted += 1
        elapsed = now - streak.last_line
        if elapsed < self._every:
            return
        seconds = round(elapsed.total_seconds())
        logger.error(
            "%s: %d more %s failed in the last %d s",
            fault,
            streak.uncounted,
            what,
            seconds,
            extra={
                "fault": fault,
                "failed": what,
                "failures": streak.uncounted,
                "seconds": seconds,
                "error": str(error),
            },
        )
        streak.last_line = now
        streak.uncounted = 0

    def recovered(self, fault: str, what: str) -> None:
        """One of `what` succeeded: if they were failing on `fault`, one line says they work
        again; else nothing, so it is cheap to call after every success. Only a success of
        the same thing ends its fault: the outbox's idle reads go on working on an SQLite
        file that another program holds locked for writing, while every turn fails."""
        streak = self._streaks.pop((fault, what), None)
        if streak is None:
            return
        lasted = round((self._clock.now() - streak.began).total_seconds())
        log.warning(
            "%s: %s work again after %d s; %d more failed since the last line",
            fault,
            what,
            lasted,
            streak.uncounted,
            extra={
                "fault": fault,
                "failed": what,
                "seconds": lasted,
                "failures": streak.uncounted,
            },
        )
