"""The figures of `insights` worked out the plain way, from every row of the period in Python:
the reference the store's SQL rollup (storage/insights/rollup.py) is checked against on
random histories (tests/storage/insights/test_rollup.py), and the card tests' way to make
figures from a few handoffs."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handoff.insights import (
    DEFAULT_TARGET_MINUTES,
    TOP,
    Bounces,
    HandoffFact,
    Insights,
    NotesRefused,
    Period,
    SeverityFigures,
    TimeToAccept,
    WaitingCritical,
    journey,
    median,
    percentile,
)
from handoff.models import AuditEntry, Severity


def _times(label: str, facts: Iterable[HandoffFact]) -> TimeToAccept | None:
    seconds = [f.seconds_to_accept for f in facts if f.seconds_to_accept is not None]
    if not seconds:
        return None
    return TimeToAccept(label, len(seconds), median(seconds), percentile(seconds, 90))


def _by_day(period: Period, facts: Sequence[HandoffFact]) -> tuple[tuple[date, int], ...]:
    zone = ZoneInfo(period.zone)
    counts = Counter(f.requested_at.astimezone(zone).date() for f in facts)
    return tuple((day, counts.get(day, 0)) for day in period.days())


def _severity(
    severity: Severity, facts: Sequence[HandoffFact], target_minutes: int, now: datetime
) -> SeverityFigures:
    target = timedelta(minutes=target_minutes)
    mine = [f for f in facts if f.severity is severity]
    accepted = [f for f in mine if f.seconds_to_accept is not None]
    within = sum(1 for f in accepted if (f.seconds_to_accept or 0) <= target.total_seconds())
    late_waiting = sum(
        1
        for f in mine
        if f.accepted_at is None and f.state.is_open and now - f.requested_at > target
    )
    return SeverityFigures(
        severity=severity,
        requested=len(mine),
        times=_times(f"Sev {severity.value}", accepted),
        target_minutes=target_minutes,
        within_target=within,
        decided=len(accepted) + late_waiting,
    )


def _bounces(facts: Sequence[HandoffFact]) -> Bounces:
    per_route: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        rounds = per_route[f.route]
        rounds[0] += f.back_to_queue_rounds
        rounds[1] += f.more_info_rounds
    bounced = sorted(
        ((route, btq, more) for route, (btq, more) in per_route.items() if btq + more),
        key=lambda r: (-(r[1] + r[2]), r[0]),
    )
    return Bounces(
        handoffs=len(facts),
        back_to_queue=sum(f.back_to_queue_rounds for f in facts),
        more_info=sum(f.more_info_rounds for f in facts),
        routes=tuple(bounced[:TOP]),
    )


def _notes(refusals: Sequence[AuditEntry], facts: Sequence[HandoffFact]) -> NotesRefused:
    per_case: Counter[str] = Counter(entry.subject for entry in refusals)
    first_refused: dict[str, datetime] = {}
    for entry in refusals:
        first_refused[entry.subject] = min(entry.at, first_refused.get(entry.subject, entry.at))
    passed = {
        f.case_number
        for f in facts
        if f.case_number in first_refused and f.requested_at >= first_refused[f.case_number]
    }
    fixes: Counter[str] = Counter(
        str(fix) for entry in refusals for fix in entry.data.get("fixes", [])
    )
    return NotesRefused(
        refusals=len(refusals),
        cases=len(per_case),
        passed=len(passed),
        refusals_before_passing=sum(per_case[case] for case in passed),
        fixes=tuple(sorted(fixes.items(), key=lambda item: (-item[1], item[0]))),
    )


def figures_from_facts(
    period: Period,
    region: str | None,
    facts: Sequence[HandoffFact],
    case_facts: Sequence[HandoffFact],
    critical_open: Sequence[HandoffFact],
    refusals: Sequence[AuditEntry],
    now: datetime,
    targets: Mapping[Severity, int] = DEFAULT_TARGET_MINUTES,
) -> Insights:
    """Every figure of the card, the plain way. `facts`: the handoffs requested in the
    period (to `region`, if given); `case_facts`: the other handoffs of their cases, for
    their journeys; `critical_open`: the critical handoffs open now without an owner;
    `refusals`: the notes refused by the quality check in the period."""
    accepted = [f for f in facts if f.seconds_to_accept is not None]
    routes: dict[str, list[HandoffFact]] = defaultdict(list)
    for f in accepted:
        routes[f.route].append(f)
    by_route = sorted(
        (t for route, group in routes.items() if (t := _times(route, group)) is not None),
        key=lambda t: (-t.median_seconds, t.label),
    )
    by_case: dict[str, list[HandoffFact]] = defaultdict(list)
    for f in (*facts, *case_facts):
        by_case[f.case_number].append(f)
    cases = sorted({f.case_number for f in facts})
    journeys = [journey(case, by_case[case]) for case in cases]
    travelled = sorted(
        (j for j in journeys if j.loop or j.long_running), key=lambda j: (-j.hops, j.case_number)
    )
    waiting = sorted(
        (
            WaitingCritical(f.case_number, f.route, f.state, f.requested_at, now - f.requested_at)
            for f in critical_open
            if f.owner_id is None
            and f.state.is_open
            and (region is None or f.target_region == region)
        ),
        key=lambda w: (w.requested_at, w.case_number),
    )
    regions = Counter(f.target_region for f in facts)
    return Insights(
        period=period,
        region=region,
        requested=len(facts),
        by_day=_by_day(period, facts),
        by_region=tuple(sorted(regions.items(), key=lambda item: (-item[1], item[0]))),
        accepted=len(accepted),
        overall=_times("All", accepted),
        by_route=tuple(by_route),
        by_severity=tuple(
            _severity(s, facts, targets.get(s, DEFAULT_TARGET_MINUTES[s]), now) for s in Severity
        ),
        bounces=_bounces(facts),
        cases=len(cases),
        hops=sum(j.hops for j in journeys),
        round_the_globe=tuple(travelled),
        critical_waiting=tuple(waiting),
        notes=_notes(refusals, facts),
    )
