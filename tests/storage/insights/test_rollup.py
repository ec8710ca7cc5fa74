"""The SQL rollup behind `insights` against the figures worked out the plain way
(tests/harness/insights_oracle.py), on random histories, on both backends: every period kind,
every receiving region, in zones with half-hour offsets and across the changes to summer time
in Europe and the US. Also the edge cases of the percentiles (ties, one value, 70 values)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from application.insights import region_insights
from handoff.insights import HandoffFact, parse_period
from handoff.models import AuditEntry, AuditKind, HandoffState, Person, Severity
from storage.sql_store import SqlStore

from harness.insights_oracle import figures_from_facts

REGIONS = ("EMEA", "US", "APAC", "IST")
STATES = tuple(HandoffState)
CLOSED = (HandoffState.ACCEPTED, HandoffState.CANCELLED)
# Sunday 8 March 2026 the US clocks went forward, Sunday 29 March the European ones.
NOW = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


def random_history(seed: int, handoffs: int) -> list[HandoffFact]:
    """Cases of one to four handoffs, some of them long before the periods asked about, with
    times to accept that tie often (whole minutes) and sometimes not (odd seconds)."""
    rng = random.Random(seed)
    facts: list[HandoffFact] = []
    case = 3_000_000
    while len(facts) < handoffs:
        case += 1
        at = NOW - timedelta(minutes=rng.randrange(60 * 24 * 45))
        here = rng.choice(REGIONS)
        count = rng.choice((1, 1, 1, 2, 3, 4))
        for n in range(count):
            there = rng.choice(REGIONS)
            # One open handoff per case at most (the store's rule): the last one.
            state = rng.choice(STATES if n == count - 1 else CLOSED)
            seconds = (
                rng.choice((60 * rng.randrange(1, 400), rng.randrange(1, 30_000)))
                if state is HandoffState.ACCEPTED
                else None
            )
            facts.append(
                HandoffFact(
                    handoff_id=f"{case}-{n}",
                    case_number=str(case),
                    severity=rng.choice(tuple(Severity)),
                    is_24x7=rng.random() < 0.5,
                    from_region=here,
                    target_region=there,
                    requested_at=at,
                    state=state,
                    accepted_at=at + timedelta(seconds=seconds) if seconds is not None else None,
                    owner_id="29:owner" if seconds is not None else None,
                    seconds_to_accept=seconds,
                    back_to_queue_rounds=rng.choice((0, 0, 0, 1, 2)),
                    more_info_rounds=rng.choice((0, 0, 1)),
                    long_running=rng.random() < 0.05,
                )
            )
            here = there
            at += timedelta(hours=rng.randrange(1, 30))
    return facts


async def insert(store: SqlStore, facts: list[HandoffFact]) -> None:
    """The rows as the store writes them (a handoff row for each, which the facts refer to,
    and the count of the case's handoffs on each)."""
    per_case = Counter(f.case_number for f in facts)
    async with store.database.transaction() as tx:
        for f in facts:
            await tx.execute(
                """INSERT INTO handoffs (id, case_number, state, target_region, requester_id,
                   owner_id, version, created_at, updated_at, doc)
                   VALUES (?, ?, ?, ?, 'r', ?, 1, ?, ?, '{}')""",
                f.handoff_id,
                f.case_number,
                f.state.value,
                f.target_region,
                f.owner_id,
                f.requested_at,
                f.requested_at,
            )
            await tx.execute(
                """INSERT INTO handoff_facts (handoff_id, case_number, severity, is_24x7,
                   from_region, target_region, requested_at, state, accepted_at, owner_id,
                   seconds_to_accept, back_to_queue_rounds, more_info_rounds, long_running,
                   updated_at, case_handoffs)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                f.handoff_id,
                f.case_number,
                f.severity.value,
                int(f.is_24x7),
                f.from_region,
                f.target_region,
                f.requested_at,
                f.state.value,
                f.accepted_at,
                f.owner_id,
                f.seconds_to_accept,
                f.back_to_queue_rounds,
                f.more_info_rounds,
                int(f.long_running),
                f.requested_at,
                per_case[f.case_number],
            )


async def refuse_notes(store: SqlStore, facts: list[HandoffFact], seed: int) -> None:
    rng = random.Random(seed)
    for f in rng.sample(facts, 40):
        await store.add_audit_entry(
            AuditEntry(
                kind=AuditKind.NOTES_REFUSED,
                actor=Person(id="29:requester"),
                at=f.requested_at - timedelta(minutes=rng.choice((-30, 5, 60))),
                subject=f.case_number,
                data={"fixes": rng.sample(["summary", "next_steps_us", "customer_contact"], 2)},
            )
        )


async def plain_figures(
    store: SqlStore, words: tuple[str, ...], region: str | None, zone: str
) -> object:
    period = parse_period(words, NOW, zone)
    return figures_from_facts(
        period,
        region,
        await store.facts_requested(period.since, period.until, region),
        await store.case_facts(period.since, period.until, region),
        await store.critical_open(region),
        await store.audit_entries_between(AuditKind.NOTES_REFUSED, period.since, period.until),
        NOW,
    )


@pytest.mark.parametrize("seed", [1, 2])
async def test_the_rollup_gives_the_figures_worked_out_row_by_row(
    store: SqlStore, seed: int
) -> None:
    facts = random_history(seed, 700)
    await insert(store, facts)
    await refuse_notes(store, facts, seed)
    compared = 0
    for zone in ("Europe/London", "America/New_York", "Asia/Kolkata", "UTC"):
        for words in ((), ("30d",), ("this", "week"), ("1d",)):
            for region in (None, *REGIONS):
                period = parse_period(words, NOW, zone)
                rolled = await region_insights(store, period, region, NOW)
                assert rolled == await plain_figures(store, words, region, zone), (
                    zone,
                    words,
                    region,
                )
                compared += rolled.requested
    assert compared > 5_000, "the periods held handoffs to compare"


def accepted_in(seconds: list[int]) -> list[HandoffFact]:
    at = NOW - timedelta(days=1)
    return [
        HandoffFact(
            handoff_id=f"h{n}",
            case_number=str(4_000_000 + n),
            severity=Severity.A,
            is_24x7=True,
            from_region="EMEA",
            target_region="US",
            requested_at=at,
            state=HandoffState.ACCEPTED,
            accepted_at=at + timedelta(seconds=value),
            owner_id="29:owner",
            seconds_to_accept=value,
        )
        for n, value in enumerate(seconds)
    ]


@pytest.mark.parametrize(
    ("seconds", "median", "p90"),
    [
        ([42], 42, 42),
        ([10, 20], 15, 20),
        ([60, 60, 60, 120], 60, 120),
        (list(range(1, 71)), 35.5, 63),
        (list(range(1, 11)), 5.5, 9),
    ],
)
async def test_the_median_and_90th_percentile_of_a_group(
    store: SqlStore, seconds: list[int], median: float, p90: float
) -> None:
    await insert(store, accepted_in(seconds))
    figures = await region_insights(store, parse_period(("7d",), NOW, "UTC"), None, NOW)
    for times in (figures.overall, figures.by_route[0], figures.by_severity[0].times):
        assert times is not None
        assert (times.accepted, times.median_seconds, times.p90_seconds) == (
            len(seconds),
            median,
            p90,
        )
