"""Insights: how well handoffs work, as figures over the rows of handoff facts a period holds
(one row per handoff, kept by the store with every change). Pure: no SQL, no clock, no I/O;
the store reads the rows, the use case asks, the card draws."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from i18n import _, ngettext

from .long_running import round_the_globe
from .models import AuditEntry, AuditEvent, Handoff, HandoffState, Severity, as_utc

DEFAULT_TARGET_MINUTES: Mapping[Severity, int] = {Severity.A: 30, Severity.B: 120, Severity.C: 480}
DEFAULT_DAYS = 7
MAX_DAYS = 365
# How many of a list the figures keep (the card shows them all): the worst or oldest first.
TOP = 5


@dataclass(frozen=True, slots=True)
class HandoffFact:
    """One handoff as the figures see it (the store's handoff_facts row)."""

    handoff_id: str
    case_number: str
    severity: Severity
    is_24x7: bool
    from_region: str
    target_region: str
    requested_at: datetime
    state: HandoffState
    accepted_at: datetime | None = None
    owner_id: str | None = None
    seconds_to_accept: int | None = None
    back_to_queue_rounds: int = 0
    more_info_rounds: int = 0
    long_running: bool = False

    @property
    def route(self) -> str:
        return f"{self.from_region} → {self.target_region}"

    @property
    def is_critical(self) -> bool:
        return self.severity is Severity.A and self.is_24x7


def _moves_into(events: Iterable[AuditEvent], state: HandoffState) -> list[AuditEvent]:
    # An annotation (revised, long-running) repeats the state; only a move into it counts.
    return [e for e in events if e.to_state is state and e.from_state is not state]


def fact_change(handoff: Handoff, events: Sequence[AuditEvent]) -> HandoffFact:
    """The handoff's row as this change leaves it: its fields as they are now, the rounds of
    this change's events only (the store adds them up), and the accept if this change is it."""
    accepts = _moves_into(events, HandoffState.ACCEPTED)
    accepted_at = min((e.at for e in accepts), default=None)
    seconds = round((accepted_at - handoff.created_at).total_seconds()) if accepted_at else None
    return HandoffFact(
        handoff_id=handoff.id,
        case_number=handoff.case.number,
        severity=handoff.case.severity,
        is_24x7=handoff.case.is_24x7,
        from_region=handoff.from_region,
        target_region=handoff.target_region,
        requested_at=handoff.created_at,
        state=handoff.state,
        accepted_at=accepted_at,
        owner_id=handoff.owner.id if handoff.owner else None,
        seconds_to_accept=seconds,
        back_to_queue_rounds=len(_moves_into(events, HandoffState.BACK_TO_QUEUE)),
        more_info_rounds=len(_moves_into(events, HandoffState.MORE_INFO_NEEDED)),
        long_running=handoff.long_running is not None,
    )


class PeriodError(ValueError):
    """The period typed cannot be read; the message says what to write instead."""


@dataclass(frozen=True)
class Period:
    """[since, until) in UTC, and how the reader asked for it."""

    since: datetime
    until: datetime
    label: str
    zone: str

    def days(self) -> list[date]:
        """The reader's calendar days the period touches, first to last."""
        zone = ZoneInfo(self.zone)
        first = self.since.astimezone(zone).date()
        last = (self.until - timedelta(microseconds=1)).astimezone(zone).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def day_bounds(self) -> list[tuple[datetime, datetime]]:
        """Each of days() as [start, end) in UTC, cut to the period: a day of 23 or 25 hours
        where the clocks change."""
        zone = ZoneInfo(self.zone)
        starts = [
            max(as_utc(datetime.combine(day, time(0), tzinfo=zone)), self.since)
            for day in self.days()
        ]
        return list(zip(starts, [*starts[1:], self.until], strict=True))


def period_help() -> str:
    # Translators: keep **7d**, **30d** and **this week** as they are: they are typed.
    return _(
        "Write the period as a number of days up to 365, e.g. **7d** or **30d**, or **this "
        "week** (since Monday 00:00 in your time zone); without one, the last 7 days."
    )


_DAYS = re.compile(r"^(\d{1,4})d$", re.IGNORECASE)


def parse_period(words: Sequence[str], now: datetime, zone: str) -> Period:
    """The period of `insights` from the words after the region: `7d`, `30d`, `Nd` (N up to
    365), `this week`, or nothing (the last 7 days). PeriodError says what to write."""
    now = as_utc(now)
    text = " ".join(words).strip().lower()
    if not text:
        last = _last_days(DEFAULT_DAYS)
        return Period(now - timedelta(days=DEFAULT_DAYS), now, last, zone)
    if text == "this week":
        local = now.astimezone(ZoneInfo(zone))
        monday = local.date() - timedelta(days=local.weekday())
        since = datetime.combine(monday, time(0), tzinfo=ZoneInfo(zone))
        # Translators: a period, as in "Handoffs requested this week".
        return Period(as_utc(since), now, _("this week"), zone)
    match = _DAYS.match(text)
    if match is None:
        problem = _("I cannot read the period {words}.").format(words=repr(" ".join(words)))
        raise PeriodError(f"{problem} {period_help()}")
    days = int(match[1])
    if not 1 <= days <= MAX_DAYS:
        problem = _("The period must be 1 to {most} days, not {days}.").format(
            most=MAX_DAYS, days=days
        )
        raise PeriodError(f"{problem} {period_help()}")
    return Period(now - timedelta(days=days), now, _last_days(days), zone)


def _last_days(days: int) -> str:
    if days == 1:
        return _("the last day")
    # Translators: a period, as in "Handoffs requested the last 7 days".
    return ngettext("the last {count} day", "the last {count} days", days).format(count=days)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], percent: int) -> float:
    """Nearest rank: the smallest value with at least `percent` % of the values at or below it
    (of 10 values, the 90th percentile is the 9th smallest). The rank in whole numbers, as the
    store's SQL has it: 0.9 * 70 is 63.00000000000001 in floating point, and its ceiling 64."""
    ordered = sorted(values)
    rank = max(-(-percent * len(ordered) // 100), 1)
    return float(ordered[rank - 1])


@dataclass(frozen=True)
class AcceptTimes:
    """One severity's accepted handoffs as a histogram of their time to accept (/metrics):
    how many were accepted within each bound (cumulative, in the bounds' order), how many in
    all, and their seconds added up."""

    within: tuple[int, ...]
    count: int
    seconds: int


@dataclass(frozen=True)
class TimeToAccept:
    """Seconds from request to accept of the handoffs accepted, in a group (a route, a
    severity)."""

    label: str
    accepted: int
    median_seconds: float
    p90_seconds: float


@dataclass(frozen=True)
class SeverityFigures:
    severity: Severity
    requested: int
    times: TimeToAccept | None
    target_minutes: int
    within_target: int
    # Accepted, plus still waiting past the target: the handoffs whose verdict is in.
    decided: int

    @property
    def share_within(self) -> float | None:
        return self.within_target / self.decided if self.decided else None


@dataclass(frozen=True)
class Bounces:
    handoffs: int
    back_to_queue: int
    more_info: int
    # (route, back-to-queue rounds, more-info rounds), the most bounced first.
    routes: tuple[tuple[str, int, int], ...]

    def per_handoff(self, rounds: int) -> float:
        return rounds / self.handoffs if self.handoffs else 0.0


@dataclass(frozen=True)
class Journey:
    """A case's accepted handoffs in order: how many, through which regions, the loop round
    the globe it made (if any), and whether it is long-running."""

    case_number: str
    hops: int
    regions: tuple[str, ...]
    loop: str | None
    long_running: bool


@dataclass(frozen=True)
class WaitingCritical:
    case_number: str
    route: str
    state: HandoffState
    requested_at: datetime
    waiting: timedelta


@dataclass(frozen=True)
class NotesRefused:
    refusals: int
    cases: int
    # The refused cases whose handoff then went out, and their refusals before it did.
    passed: int
    refusals_before_passing: int
    # (field of the notes, how often it was to fix), most often first.
    fixes: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Insights:
    period: Period
    region: str | None
    requested: int
    by_day: tuple[tuple[date, int], ...]
    by_region: tuple[tuple[str, int], ...]
    accepted: int
    overall: TimeToAccept | None
    by_route: tuple[TimeToAccept, ...]
    by_severity: tuple[SeverityFigures, ...]
    bounces: Bounces
    cases: int
    hops: int
    round_the_globe: tuple[Journey, ...]
    critical_waiting: tuple[WaitingCritical, ...]
    notes: NotesRefused

    @property
    def hops_per_case(self) -> float:
        return self.hops / self.cases if self.cases else 0.0


@dataclass(frozen=True)
class GroupCounts:
    """The period's handoffs of one route and severity, counted by the store."""

    from_region: str
    target_region: str
    severity: Severity
    requested: int
    # The time to accept of each handoff accepted, in seconds, in no order.
    seconds_to_accept: tuple[int, ...]
    within_target: int
    # Not accepted, still open, and waiting longer than the severity's target.
    late_waiting: int
    back_to_queue: int
    more_info: int

    @property
    def route(self) -> str:
        return f"{self.from_region} → {self.target_region}"

    @property
    def accepted(self) -> int:
        return len(self.seconds_to_accept)


@dataclass(frozen=True)
class RollupQuery:
    """What InsightsReader.rollup adds up: the handoffs requested within [since, until), to
    `region` if given; per day of `day_bounds`; against the targets (minutes) at `now`; and,
    for `refused_cases`, when their latest handoff of the period was requested."""

    since: datetime
    until: datetime
    region: str | None
    day_bounds: tuple[tuple[datetime, datetime], ...]
    targets: Mapping[Severity, int]
    now: datetime
    refused_cases: frozenset[str]


@dataclass(frozen=True)
class PeriodRollup:
    """A period's handoff facts as the store adds them up (InsightsReader.rollup): counts, not
    rows, except for the few cases that need their rows for a journey."""

    groups: tuple[GroupCounts, ...]
    by_day: tuple[int, ...]
    cases: int
    # The period's handoffs of the cases with more than one handoff or flagged long-running,
    # and the other handoffs (outside the period or the region) of all the period's cases.
    travelled: tuple[HandoffFact, ...]
    others: tuple[HandoffFact, ...]
    # Of the refused cases asked about: when their latest handoff of the period was requested.
    last_requested: Mapping[str, datetime]


def rollup_query(
    period: Period,
    region: str | None,
    now: datetime,
    refusals: Sequence[AuditEntry] = (),
    targets: Mapping[Severity, int] = DEFAULT_TARGET_MINUTES,
) -> RollupQuery:
    return RollupQuery(
        since=period.since,
        until=period.until,
        region=region,
        day_bounds=tuple(period.day_bounds()),
        targets={s: targets.get(s, DEFAULT_TARGET_MINUTES[s]) for s in Severity},
        now=now,
        refused_cases=frozenset(entry.subject for entry in refusals),
    )


def journey(case_number: str, facts: Iterable[HandoffFact]) -> Journey:
    accepted = sorted(
        (f for f in facts if f.accepted_at is not None),
        key=lambda f: (f.accepted_at or f.requested_at, f.handoff_id),
    )
    regions: list[str] = [accepted[0].from_region] if accepted else []
    for f in accepted:
        if f.target_region != regions[-1]:
            regions.append(f.target_region)
    return Journey(
        case_number=case_number,
        hops=len(accepted),
        regions=tuple(regions),
        loop=round_the_globe(regions),
        long_running=any(f.long_running for f in facts),
    )


def _times(label: str, groups: Iterable[GroupCounts]) -> TimeToAccept | None:
    seconds = [value for g in groups for value in g.seconds_to_accept]
    if not seconds:
        return None
    return TimeToAccept(label, len(seconds), median(seconds), percentile(seconds, 90))


def _severity(severity: Severity, rollup: PeriodRollup, target_minutes: int) -> SeverityFigures:
    mine = [g for g in rollup.groups if g.severity is severity]
    accepted = sum(g.accepted for g in mine)
    return SeverityFigures(
        severity=severity,
        requested=sum(g.requested for g in mine),
        # Translators: {severity} is a letter, A to C.
        times=_times(_("Sev {severity}").format(severity=severity.value), mine),
        target_minutes=target_minutes,
        within_target=sum(g.within_target for g in mine),
        decided=accepted + sum(g.late_waiting for g in mine),
    )


def _bounces(groups: Sequence[GroupCounts]) -> Bounces:
    per_route: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for g in groups:
        rounds = per_route[g.route]
        rounds[0] += g.back_to_queue
        rounds[1] += g.more_info
    bounced = sorted(
        ((route, btq, more) for route, (btq, more) in per_route.items() if btq + more),
        key=lambda r: (-(r[1] + r[2]), r[0]),
    )
    return Bounces(
        handoffs=sum(g.requested for g in groups),
        back_to_queue=sum(g.back_to_queue for g in groups),
        more_info=sum(g.more_info for g in groups),
        routes=tuple(bounced[:TOP]),
    )


def _travelled(rollup: PeriodRollup) -> tuple[Journey, ...]:
    by_case: dict[str, list[HandoffFact]] = defaultdict(list)
    for f in rollup.travelled:
        by_case[f.case_number].append(f)
    for f in rollup.others:
        if f.case_number in by_case:
            by_case[f.case_number].append(f)
    journeys = (journey(case, facts) for case, facts in by_case.items())
    return tuple(
        sorted(
            (j for j in journeys if j.loop or j.long_running),
            key=lambda j: (-j.hops, j.case_number),
        )
    )


def _notes(refusals: Sequence[AuditEntry], last_requested: Mapping[str, datetime]) -> NotesRefused:
    per_case: Counter[str] = Counter(entry.subject for entry in refusals)
    first_refused: dict[str, datetime] = {}
    for entry in refusals:
        first_refused[entry.subject] = min(entry.at, first_refused.get(entry.subject, entry.at))
    passed = {
        case
        for case, refused in first_refused.items()
        if case in last_requested and last_requested[case] >= refused
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


def compute(
    period: Period,
    region: str | None,
    rollup: PeriodRollup,
    critical_open: Sequence[HandoffFact],
    refusals: Sequence[AuditEntry],
    now: datetime,
    targets: Mapping[Severity, int] = DEFAULT_TARGET_MINUTES,
) -> Insights:
    """Every figure of the card, from the period's rollup (to `region`, if given), the
    critical handoffs open now without an owner, and the notes refused by the quality check
    in the period."""
    groups = rollup.groups
    routes: dict[str, list[GroupCounts]] = defaultdict(list)
    for g in groups:
        routes[g.route].append(g)
    by_route = sorted(
        (t for route, mine in routes.items() if (t := _times(route, mine)) is not None),
        key=lambda t: (-t.median_seconds, t.label),
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
    regions: Counter[str] = Counter()
    for g in groups:
        regions[g.target_region] += g.requested
    accepted = sum(g.accepted for g in groups)
    hops = accepted + sum(1 for f in rollup.others if f.accepted_at is not None)
    return Insights(
        period=period,
        region=region,
        requested=sum(g.requested for g in groups),
        by_day=tuple(zip(period.days(), rollup.by_day, strict=True)),
        by_region=tuple(sorted(regions.items(), key=lambda item: (-item[1], item[0]))),
        accepted=accepted,
        # Translators: the row of all handoffs in a table of times to accept.
        overall=_times(_("All"), groups),
        by_route=tuple(by_route),
        by_severity=tuple(
            _severity(s, rollup, targets.get(s, DEFAULT_TARGET_MINUTES[s])) for s in Severity
        ),
        bounces=_bounces(groups),
        cases=rollup.cases,
        hops=hops,
        round_the_globe=_travelled(rollup),
        critical_waiting=tuple(waiting),
        notes=_notes(refusals, rollup.last_requested),
    )
