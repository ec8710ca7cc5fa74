"""`insights [region] [period]`: how well handoffs work, per period and receiving region (time
to accept, bounces, hops, load, critical cases waiting, notes refused), as one card. Under the
read policy of `list`: members of the Case Transfer team and leads."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from cards.insights_card import insights_card
from handoff.insights import (
    DEFAULT_TARGET_MINUTES,
    Insights,
    Period,
    PeriodError,
    compute,
    parse_period,
)
from handoff.models import AuditKind, Severity
from handoff.ports import AuditLog, Clock, InsightsReader, UserSettingsStore
from handoff.schedule import Schedule

from . import messages
from .access import RequestAccess
from .reader import reader_zone
from .request import Card, Reply, Request

log = logging.getLogger(__name__)


class FiguresStore(InsightsReader, AuditLog, Protocol):
    pass


class Store(FiguresStore, UserSettingsStore, Protocol):
    pass


async def region_insights(
    store: FiguresStore,
    period: Period,
    region: str | None,
    now: datetime,
    targets: Mapping[Severity, int] = DEFAULT_TARGET_MINUTES,
) -> Insights:
    """The figures of the handoffs received by `region` (all, with None) within `period`: what
    `insights` shows, and the weekly digest (application/outbox_steps/digest.py) posts."""
    started = time.perf_counter()
    facts = await store.facts_requested(period.since, period.until, region)
    case_facts = await store.case_facts(period.since, period.until, region)
    critical = await store.critical_open(region)
    refusals = await store.audit_entries_between(
        AuditKind.NOTES_REFUSED, period.since, period.until
    )
    figures = compute(period, region, facts, case_facts, critical, refusals, now, targets)
    log.info(
        "insights computed",
        extra={
            "region": region or "all",
            "days": len(period.days()),
            "handoffs": len(facts),
            "milliseconds": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return figures


class InsightsView:
    def __init__(
        self,
        store: Store,
        schedule: Schedule,
        clock: Clock,
        access: RequestAccess,
        targets: Mapping[Severity, int] = DEFAULT_TARGET_MINUTES,
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self._access = access
        self._targets = dict(targets)

    async def insights(self, request: Request) -> Reply:
        # Asked first: a stranger learns nothing, not even which words would have worked.
        refusal = await self._access.see_open(request)
        if refusal is not None:
            return [refusal]
        args = list(request.args)
        region: str | None = None
        if args and args[0].upper() in self._schedule.travel_order:
            region = args.pop(0).upper()
        elif args and args[0].isalpha() and args[0].lower() != "this":
            return [messages.unknown_region(args[0], self._schedule.travel_order)]
        zone = await reader_zone(self._store, request)
        now = self._clock.now()
        try:
            period = parse_period(args, now, zone)
        except PeriodError as error:
            return [f"{error} For example: **insights EMEA 30d** or **insights this week**."]
        figures = await region_insights(self._store, period, region, now, self._targets)
        return [Card(insights_card(figures))]
