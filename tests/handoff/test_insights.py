"""The figures of `insights` as pure functions: the period read from what people type (in
their time zone, across a change to summer time), the percentiles, and what one change of a
handoff adds to its row of facts."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from handoff.insights import (
    GroupCounts,
    HandoffFact,
    PeriodError,
    PeriodRollup,
    compute,
    fact_change,
    journey,
    median,
    parse_period,
    percentile,
)
from handoff.models import (
    AuditEvent,
    Case,
    Handoff,
    HandoffKind,
    HandoffState,
    Person,
    Severity,
    SupportPlan,
)

# Thursday 2026-04-02 12:00 UTC, 13:00 in London (summer time since Sunday 01:00 UTC).
NOW = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)


def test_no_period_is_the_last_seven_days() -> None:
    period = parse_period((), NOW, "UTC")
    assert (period.since, period.until, period.label) == (
        NOW - timedelta(days=7),
        NOW,
        "the last 7 days",
    )


@pytest.mark.parametrize(("word", "days"), [("7d", 7), ("30D", 30), ("1d", 1), ("365d", 365)])
def test_a_number_of_days(word: str, days: int) -> None:
    period = parse_period((word,), NOW, "UTC")
    assert period.until - period.since == timedelta(days=days)


def test_this_week_starts_on_monday_midnight_in_the_readers_zone() -> None:
    london = parse_period(("this", "week"), NOW, "Europe/London")
    # Monday 2026-03-30 00:00 summer time.
    assert london.since == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    tokyo = parse_period(("This", "Week"), NOW, "Asia/Tokyo")
    assert tokyo.since == datetime(2026, 3, 29, 15, 0, tzinfo=UTC)


def test_the_days_of_a_period_across_the_change_to_summer_time() -> None:
    period = parse_period(("7d",), NOW, "Europe/London")
    days = [d.isoformat() for d in period.days()]
    assert days[0] == "2026-03-26" and days[-1] == "2026-04-02" and len(days) == 8


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (("366d",), "1 to 365 days, not 366"),
        (("0d",), "1 to 365 days, not 0"),
        (("7x",), "cannot read the period '7x'"),
        (("this", "month"), "cannot read the period 'this month'"),
        (("7",), "cannot read the period '7'"),
    ],
)
def test_a_period_that_cannot_be_read_says_what_to_write(words: tuple[str, ...], says: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(words, NOW, "UTC")
    assert says in str(caught.value)
    assert "**7d**" in str(caught.value) and "**this week**" in str(caught.value)


def test_median_and_nearest_rank_percentile() -> None:
    values = [600, 10, 50, 20, 180, 40, 100]
    assert median(values) == 50
    assert percentile(values, 90) == 600  # the 7th of 7
    ten = list(range(1, 11))
    assert (median(ten), percentile(ten, 90)) == (5.5, 9)
    assert percentile([42], 90) == 42
    # 90 % of 70 is 63 exactly: the 63rd, where 0.9 * 70 in floating point would give the 64th.
    assert percentile(list(range(1, 71)), 90) == 63


def a_handoff(state: HandoffState = HandoffState.REQUESTED) -> Handoff:
    at = NOW - timedelta(minutes=90)
    return Handoff(
        case=Case(
            number="1000001",
            severity=Severity.A,
            is_24x7=True,
            plan=SupportPlan.PREMIER,
            product_skill="HDInsight",
            customer_region="US",
            customer_timezone="America/Chicago",
        ),
        kind=HandoffKind.CRITICAL_24X7,
        requester=Person(id="29:a"),
        from_region="EMEA",
        target_region="US",
        reason="continual support",
        created_at=at,
        updated_at=at,
        state=state,
    )


def moved(
    handoff: Handoff, old: HandoffState | None, new: HandoffState, minutes: int
) -> AuditEvent:
    return AuditEvent(
        handoff_id=handoff.id,
        case_number=handoff.case.number,
        kind="x",
        actor=Person(id="29:b"),
        at=handoff.created_at + timedelta(minutes=minutes),
        from_state=old,
        to_state=new,
    )


def test_a_change_counts_moves_not_annotations_and_keeps_the_accept() -> None:
    handoff = a_handoff(HandoffState.ACCEPTED)
    s = HandoffState
    fact = fact_change(
        handoff,
        [
            moved(handoff, s.REQUESTED, s.MORE_INFO_NEEDED, 5),
            # An annotation while waiting for the answer: no second round.
            moved(handoff, s.MORE_INFO_NEEDED, s.MORE_INFO_NEEDED, 6),
            moved(handoff, s.MORE_INFO_NEEDED, s.BACK_TO_QUEUE, 7),
            moved(handoff, s.BACK_TO_QUEUE, s.ACCEPTED, 45),
        ],
    )
    assert (fact.more_info_rounds, fact.back_to_queue_rounds) == (1, 1)
    assert fact.seconds_to_accept == 45 * 60
    assert fact.route == "EMEA → US" and fact.is_critical


def fact(case: str, route: tuple[str, str], accepted_minutes: int | None) -> HandoffFact:
    at = NOW - timedelta(days=1)
    return HandoffFact(
        handoff_id=f"{case}-{route}",
        case_number=case,
        severity=Severity.B,
        is_24x7=True,
        from_region=route[0],
        target_region=route[1],
        requested_at=at,
        state=HandoffState.ACCEPTED if accepted_minutes is not None else HandoffState.CANCELLED,
        accepted_at=at + timedelta(minutes=accepted_minutes)
        if accepted_minutes is not None
        else None,
    )


def test_a_back_and_forth_is_no_trip_round_the_globe() -> None:
    there_and_back = journey("1", [fact("1", ("EMEA", "US"), 10), fact("1", ("US", "EMEA"), 20)])
    assert (there_and_back.hops, there_and_back.loop) == (2, None)
    cancelled = journey("2", [fact("2", ("EMEA", "US"), None)])
    assert (cancelled.hops, cancelled.regions) == (0, ())


def test_the_hops_and_journeys_of_a_period_come_from_its_rollup() -> None:
    """Every accepted handoff of the period's cases is a hop, those outside the period too;
    a journey is shown when it went round the globe or the case is long-running."""
    long_running = dataclasses.replace(fact("5", ("APAC", "EMEA"), 30), long_running=True)
    travelled = [fact("4", ("EMEA", "US"), 10), long_running]
    others = [fact("4", ("US", "APAC"), 20), fact("4", ("APAC", "EMEA"), 40)]
    group = GroupCounts("EMEA", "US", Severity.B, 5, (600, 1200, 60, 60), 4, 0, 0, 0)
    period = parse_period((), NOW, "UTC")
    rollup = PeriodRollup(
        groups=(group,),
        by_day=tuple(0 for _ in period.days()),
        cases=5,
        travelled=tuple(travelled),
        others=tuple(others),
        last_requested={},
    )
    figures = compute(period, None, rollup, [], [], NOW)

    assert (figures.cases, figures.hops) == (5, 4 + 2)
    assert figures.overall is not None
    assert (figures.overall.median_seconds, figures.overall.p90_seconds) == (330, 1200)
    assert [(j.case_number, j.hops, j.loop) for j in figures.round_the_globe] == [
        ("4", 3, "EMEA → US → APAC → EMEA"),
        ("5", 1, None),
    ]
