"""InsightsReader.rollup: a period's handoff facts added up in SQL, so that the figures cost a few
aggregate queries and a few dozen rows read, not a row per handoff (a month of a busy team is
thousands). Rows are read only for the cases that made a journey (more than one handoff, or
long-running) and the refused cases of the notes figure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import datetime, timedelta

from handoff.insights import GroupCounts, HandoffFact, PeriodRollup, RollupQuery
from handoff.models import HandoffState, Severity, as_utc

from ..sql_protocol import Database, Row, SqlValue

# Case numbers go into IN lists this many at a time (well under both backends' parameter
# limits), and days into one UNION ALL (under SQLite's 500 compound SELECTs).
CHUNK = 400
_CLOSED = tuple(state.value for state in HandoffState if not state.is_open)

Others = Callable[[datetime, datetime, str | None], Awaitable[list[HandoffFact]]]
ToFact = Callable[[Row], HandoffFact]
# The times to accept of a group, in one text: a row per group, not per handoff.
_JOINED = {
    "sqlite": "group_concat(seconds_to_accept, ',')",
    "postgresql": "string_agg(CAST(seconds_to_accept AS TEXT), ',')",
}


def _period(query: RollupQuery) -> tuple[str, list[SqlValue]]:
    params: list[SqlValue] = [as_utc(query.since), as_utc(query.until)]
    if query.region is None:
        return "requested_at >= ? AND requested_at < ?", params
    return "target_region = ? AND requested_at >= ? AND requested_at < ?", [query.region, *params]


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
    """How many cases the period's handoffs belong to, and which of them made a journey in
    it (more than one handoff, or long-running)."""
    period, params = _period(query)
    rows = await db.fetch_all(
        f"""WITH per_case AS (
                SELECT case_number, COUNT(*) AS handoffs, MAX(long_running) AS long_running
                FROM handoff_facts WHERE {period} GROUP BY case_number)
            SELECT NULL AS case_number, COUNT(*) AS cases FROM per_case
            UNION ALL
            SELECT case_number, 0 FROM per_case WHERE handoffs > 1 OR long_running = 1""",
        *params,
    )
    cases = next(int(row["cases"]) for row in rows if row["case_number"] is None)
    return cases, {str(row["case_number"]) for row in rows if row["case_number"] is not None}


async def _period_rows(
    db: Database, query: RollupQuery, columns: str, cases: Iterable[str]
) -> list[Row]:
    period, params = _period(query)
    rows: list[Row] = []
    for chunk in _chunks(cases):
        marks = ", ".join("?" for _ in chunk)
        rows += await db.fetch_all(
            f"SELECT {columns} FROM handoff_facts WHERE {period} AND case_number IN ({marks})",
            *params,
            *chunk,
        )
    return rows


async def read_rollup(
    db: Database, query: RollupQuery, columns: str, to_fact: ToFact, others: Others
) -> PeriodRollup:
    """The rollup of `query` (InsightsReader.rollup); `others` reads the other handoffs of the
    period's cases (InsightsReader.case_facts), `to_fact` makes a row a HandoffFact."""
    cases, journeys = await _cases(db, query)
    other_facts = await others(query.since, query.until, query.region)
    travelled = journeys | {f.case_number for f in other_facts}
    refused = await _period_rows(db, query, "case_number, requested_at", query.refused_cases)
    last: dict[str, datetime] = {}
    for row in refused:
        at = as_utc(row["requested_at"])
        last[str(row["case_number"])] = max(at, last.get(str(row["case_number"]), at))
    return PeriodRollup(
        groups=await _groups(db, query),
        by_day=await _by_day(db, query),
        cases=cases,
        travelled=tuple(to_fact(row) for row in await _period_rows(db, query, columns, travelled)),
        others=tuple(other_facts),
        last_requested=last,
    )
