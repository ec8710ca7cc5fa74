"""InsightsReader.rollup: a period's handoff facts added up in SQL, so that the figures cost a few
aggregate queries and a few dozen rows read, not a row per handoff (a month of a busy team is
thousands). Rows are read only for the cases that made a journey (more than one handoff, or
long-running) and the refused cases of the notes figure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from handoff.insights import GroupCounts, HandoffFact, PeriodRollup, RollupQuery
from handoff.models import HandoffState, Severity, as_utc

from ..sql_protocol import Database, Row, SqlValue

# Case numbers go into IN lists this many at a time (well under both backends' parameter
# limits), and days into one UNION ALL (under SQLite's 500 compound SELECTs).
CHUNK = 400
_CLOSED = tuple(state.value for state in HandoffState if not state.is_open)

ToFact = Callable[[Row], HandoffFact]
# The times to accept of a group, in one text: a row per group, not per handoff.
_JOINED = {
    "sqlite": "group_concat(seconds_to_accept, ',')",
    "postgresql": "string_agg(CAST(seconds_to_accept AS TEXT), ',')",
}


def period_filter(
    since: datetime, until: datetime, region: str | None
) -> tuple[str, list[SqlValue]]:
    """The WHERE terms (and their values) of the handoffs requested within [since, until), to
    `region` if given: an index range of handoff_facts_by_requested or _by_region."""
    params: list[SqlValue] = [as_utc(since), as_utc(until)]
    if region is None:
        return "requested_at >= ? AND requested_at < ?", params
    return "target_region = ? AND requested_at >= ? AND requested_at < ?", [region, *params]


def _period(query: RollupQuery) -> tuple[str, list[SqlValue]]:
    return period_filter(query.since, query.until, query.region)


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


async def _groups(db: Database, query: RollupQuery) -> tuple[GroupCounts, ...]:
    period, params = _period(query)
    within = " OR ".join("(severity = ? AND seconds_to_accept <= ?)" for _ in Severity)
    late = " OR ".join("(severity = ? AND requested_at < ?)" for _ in Severity)
    closed = ", ".join("?" for _ in _CLOSED)
    rows = await db.fetch_all(
        f"""SELECT from_region, target_region, severity, COUNT(*) AS requested,
                   {_JOINED[db.dialect]} AS seconds_to_accept,
                   SUM(CASE WHEN {within} THEN 1 ELSE 0 END) AS within_target,
                   SUM(CASE WHEN accepted_at IS NULL AND state NOT IN ({closed}) AND ({late})
                            THEN 1 ELSE 0 END) AS late_waiting,
                   SUM(back_to_queue_rounds) AS back_to_queue,
                   SUM(more_info_rounds) AS more_info
            FROM handoff_facts WHERE {period}
            GROUP BY from_region, target_region, severity""",
        *(v for s in Severity for v in (s.value, query.targets[s] * 60)),
        *_CLOSED,
        *(v for s in Severity for v in (s.value, query.now - timedelta(minutes=query.targets[s]))),
        *params,
    )
    return tuple(
        GroupCounts(
            from_region=str(row["from_region"]),
            target_region=str(row["target_region"]),
            severity=Severity(row["severity"]),
            seconds_to_accept=_seconds(row["seconds_to_accept"]),
            **{
                name: int(row[name])
                for name in (
                    "requested",
                    "within_target",
                    "late_waiting",
                    "back_to_queue",
                    "more_info",
                )
            },
        )
        for row in rows
    )


def _seconds(joined: str | None) -> tuple[int, ...]:
    return tuple(int(value) for value in joined.split(",")) if joined else ()


async def _by_day(db: Database, query: RollupQuery) -> tuple[int, ...]:
    region = " AND target_region = ?" if query.region is not None else ""
    counts: list[int] = []
    for start in range(0, len(query.day_bounds), CHUNK):
        days = query.day_bounds[start : start + CHUNK]
        parts: list[str] = []
        params: list[SqlValue] = []
        for n, (since, until) in enumerate(days):
            parts.append(
                f"SELECT {n} AS day, COUNT(*) AS handoffs FROM handoff_facts "
                f"WHERE requested_at >= ? AND requested_at < ?{region}"
            )
            params += [as_utc(since), as_utc(until)]
            params += [query.region] if query.region is not None else []
        rows = await db.fetch_all(" UNION ALL ".join(parts), *params)
        by_day = {int(row["day"]): int(row["handoffs"]) for row in rows}
        counts += [by_day[n] for n in range(len(days))]
    return tuple(counts)


async def _cases(db: Database, query: RollupQuery) -> tuple[int, set[str]]:
    """How many cases the period's handoffs belong to, and which of them made a journey
    (more than one handoff in all, or long-running)."""
    period, params = _period(query)
    rows = await db.fetch_all(
        f"""WITH per_case AS (
                SELECT case_number, MAX(case_handoffs) AS handoffs,
                       MAX(long_running) AS long_running
                FROM handoff_facts WHERE {period} GROUP BY case_number)
            SELECT NULL AS case_number, COUNT(*) AS cases FROM per_case
            UNION ALL
            SELECT case_number, 0 FROM per_case WHERE handoffs > 1 OR long_running = 1""",
        *params,
    )
    cases = next(int(row["cases"]) for row in rows if row["case_number"] is None)
    return cases, {str(row["case_number"]) for row in rows if row["case_number"] is not None}


async def _case_rows(
    db: Database, columns: str, cases: Iterable[str], where: str = "", *params: SqlValue
) -> list[Row]:
    """The rows of `cases` (one look-up each on handoff_facts_by_case), within `where`."""
    rows: list[Row] = []
    for chunk in _chunks(cases):
        marks = ", ".join("?" for _ in chunk)
        rows += await db.fetch_all(
            f"SELECT {columns} FROM handoff_facts WHERE case_number IN ({marks}) {where}",
            *chunk,
            *params,
        )
    return rows


def _in_period(fact: HandoffFact, query: RollupQuery) -> bool:
    return query.since <= fact.requested_at < query.until and query.region in (
        None,
        fact.target_region,
    )


async def read_rollup(
    db: Database, query: RollupQuery, columns: str, to_fact: ToFact
) -> PeriodRollup:
    """The rollup of `query` (InsightsReader.rollup); `to_fact` makes a row a HandoffFact."""
    cases, journeys = await _cases(db, query)
    # Every handoff of the cases that made a journey, in the period and out of it.
    travelled = [to_fact(row) for row in await _case_rows(db, columns, journeys)]
    period, params = _period(query)
    refused = await _case_rows(
        db, "case_number, requested_at", query.refused_cases, f"AND {period}", *params
    )
    last: dict[str, datetime] = {}
    for row in refused:
        at = as_utc(row["requested_at"])
        last[str(row["case_number"])] = max(at, last.get(str(row["case_number"]), at))
    return PeriodRollup(
        groups=await _groups(db, query),
        by_day=await _by_day(db, query),
        cases=cases,
        travelled=tuple(f for f in travelled if _in_period(f, query)),
        others=tuple(f for f in travelled if not _in_period(f, query)),
        last_requested=last,
    )
