"""InsightsReader (handoff.ports) on SQL, and the write that keeps handoff_facts (migration
0014) in step with the handoffs: SqlHandoffRepository calls `record_fact` inside the
transaction of every add and save, and deletes a purged handoff's row with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from handoff.insights import AcceptTimes, HandoffFact, PeriodRollup, RollupQuery, fact_change
from handoff.models import AuditEvent, Handoff, HandoffState, Severity, as_utc

from ..sql_protocol import Row, Session, SqlValue
from ..store_base import StoreBase
from .rollup import period_filter, read_rollup

_COLUMNS = (
    "handoff_id, case_number, severity, is_24x7, from_region, target_region, requested_at, "
    "state, accepted_at, owner_id, seconds_to_accept, back_to_queue_rounds, more_info_rounds, "
    "long_running"
)
# The partial indexes handoff_facts_critical_open and _critical_open_by_region say the same
# (SQLite only uses them when the query repeats their WHERE term).
CRITICAL_OPEN = "severity = 'A' AND is_24x7 = 1 AND state NOT IN ('accepted', 'cancelled')"
# critical_open's query, of all regions or (with "AND target_region = ?") of one: either way a
# walk over one of those partial indexes, which hold the critical open rows only.
CRITICAL_OPEN_QUERY = f"""SELECT {_COLUMNS} FROM handoff_facts WHERE {CRITICAL_OPEN} {{region}}
    ORDER BY requested_at, handoff_id LIMIT ?"""

# The other handoffs of the period's cases: one look-up by case (handoff_facts_by_case) per
# case of the period that has more than one handoff (migration 0016). PostgreSQL's planner
# costs those look-ups above a scan of the whole table and hash-joins (370 ms at a million
# handoffs, against 17 ms); the LATERAL subquery with OFFSET 0, which it cannot flatten, keeps
# it to the look-ups. SQLite does them anyway (and has no LATERAL).
_CASE_FACTS = {
    "sqlite": """
        SELECT {columns} FROM handoff_facts
        WHERE case_number IN (
            SELECT case_number FROM handoff_facts
            WHERE requested_at >= ? AND requested_at < ? {region} AND case_handoffs > 1)
          AND NOT (requested_at >= ? AND requested_at < ? {region})""",
    "postgresql": """
        SELECT other.* FROM (
            SELECT DISTINCT case_number FROM handoff_facts
            WHERE requested_at >= ? AND requested_at < ? {region} AND case_handoffs > 1
            ) AS period
        CROSS JOIN LATERAL (
            SELECT {columns} FROM handoff_facts
            WHERE handoff_facts.case_number = period.case_number
              AND NOT (requested_at >= ? AND requested_at < ? {region})
            OFFSET 0) AS other""",
}

# The owner's name, from the handoff's document (the rollup keeps only the id).
_OWNER_NAME = {
    "sqlite": "json_extract(handoffs.doc, '$.owner.name')",
    "postgresql": "CAST(handoffs.doc AS jsonb) -> 'owner' ->> 'name'",
}


async def record_fact(
    tx: Session,
    handoff: Handoff,
    events: tuple[AuditEvent, ...] | list[AuditEvent],
    *,
    new: bool = False,
) -> None:
    """Writes the handoff's row as this change leaves it: its fields replaced, this change's
    rounds added, its first accept kept; for a `new` handoff, the case's rows count it."""
    fact = fact_change(handoff, events)
    await tx.execute(
        f"""
        INSERT INTO handoff_facts ({_COLUMNS}, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (handoff_id) DO UPDATE SET
            case_number = excluded.case_number,
            severity = excluded.severity,
            is_24x7 = excluded.is_24x7,
            from_region = excluded.from_region,
            target_region = excluded.target_region,
            state = excluded.state,
            accepted_at = COALESCE(handoff_facts.accepted_at, excluded.accepted_at),
            owner_id = excluded.owner_id,
            seconds_to_accept = COALESCE(handoff_facts.seconds_to_accept,
                                         excluded.seconds_to_accept),
            back_to_queue_rounds = handoff_facts.back_to_queue_rounds
                                   + excluded.back_to_queue_rounds,
            more_info_rounds = handoff_facts.more_info_rounds + excluded.more_info_rounds,
            long_running = excluded.long_running,
            updated_at = excluded.updated_at""",
        fact.handoff_id,
        fact.case_number,
        fact.severity.value,
        int(fact.is_24x7),
        fact.from_region,
        fact.target_region,
        fact.requested_at,
        fact.state.value,
        fact.accepted_at,
        fact.owner_id,
        fact.seconds_to_accept,
        fact.back_to_queue_rounds,
        fact.more_info_rounds,
        int(fact.long_running),
        handoff.updated_at,
    )
    if new:
        await tx.execute(
            """UPDATE handoff_facts SET case_handoffs = (
                   SELECT COUNT(*) FROM handoff_facts AS same_case
                   WHERE same_case.case_number = ?)
               WHERE case_number = ?""",
            fact.case_number,
            fact.case_number,
        )


# An insights card reads thousands of rows: these dict look-ups instead of the enums' calls,
# and no conversion of the times that both drivers already give in UTC, take a third off
# the time per row.
_SEVERITY = {severity.value: severity for severity in Severity}
_STATE = {state.value: state for state in HandoffState}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else as_utc(value)


def _fact(row: Row) -> HandoffFact:
    accepted = row["accepted_at"]
    return HandoffFact(
        handoff_id=str(row["handoff_id"]),
        case_number=str(row["case_number"]),
        severity=_SEVERITY[row["severity"]],
        is_24x7=bool(row["is_24x7"]),
        from_region=str(row["from_region"]),
        target_region=str(row["target_region"]),
        requested_at=_utc(row["requested_at"]),
        state=_STATE[row["state"]],
        accepted_at=_utc(accepted) if accepted is not None else None,
        owner_id=row["owner_id"],
        seconds_to_accept=row["seconds_to_accept"],
        back_to_queue_rounds=int(row["back_to_queue_rounds"]),
        more_info_rounds=int(row["more_info_rounds"]),
        long_running=bool(row["long_running"]),
    )


class SqlInsights(StoreBase):
    """InsightsReader (handoff.ports) on SQL: each read one indexed query."""

    async def facts_requested(
        self, since: datetime, until: datetime, target_region: str | None = None
    ) -> list[HandoffFact]:
        period, params = period_filter(since, until, target_region)
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM handoff_facts WHERE {period}", *params
        )
        return [_fact(row) for row in rows]

    async def case_facts(
        self, since: datetime, until: datetime, target_region: str | None = None
    ) -> list[HandoffFact]:
        # The period's own rows are facts_requested's: read once, not twice.
        region = "AND target_region = ?" if target_region is not None else ""
        params: list[SqlValue] = [as_utc(since), as_utc(until)]
        if target_region is not None:
            params.append(target_region)
        rows = await self._db.fetch_all(
            _CASE_FACTS[self._db.dialect].format(columns=_COLUMNS, region=region),
            *params,
            *params,
        )
        return [_fact(row) for row in rows]

    async def critical_open(
        self, target_region: str | None = None, limit: int = 50
    ) -> list[HandoffFact]:
        region = "AND target_region = ?" if target_region is not None else ""
        rows = await self._db.fetch_all(
            CRITICAL_OPEN_QUERY.format(region=region),
            *([target_region] if target_region is not None else []),
            max(limit, 0),
        )
        return [_fact(row) for row in rows]

    async def time_to_accept_buckets(self, bounds: Sequence[int]) -> dict[Severity, AcceptTimes]:
        """Every accepted handoff's time to accept, by severity, counted within each bound
        (seconds, ascending): one query, one pass over the index on
        (severity, seconds_to_accept) of migration 0015, never the rows themselves."""
        within = ", ".join(
            f"SUM(CASE WHEN seconds_to_accept <= ? THEN 1 ELSE 0 END) AS within_{n}"
            for n in range(len(bounds))
        )
        rows = await self._db.fetch_all(
            f"""SELECT severity, {within}, COUNT(*) AS accepted,
                       SUM(seconds_to_accept) AS seconds
                FROM handoff_facts WHERE seconds_to_accept IS NOT NULL
                GROUP BY severity""",
            *(int(bound) for bound in bounds),
        )
        return {
            Severity(row["severity"]): AcceptTimes(
                within=tuple(int(row[f"within_{n}"]) for n in range(len(bounds))),
                count=int(row["accepted"]),
                seconds=int(row["seconds"]),
            )
            for row in rows
        }

    async def owner_names(
        self, since: datetime, until: datetime, target_region: str | None = None
    ) -> dict[str, str]:
        period, params = period_filter(since, until, target_region)
        rows = await self._db.fetch_all(
            f"""SELECT period.handoff_id, {_OWNER_NAME[self._db.dialect]} AS name
                FROM (SELECT handoff_id FROM handoff_facts
                      WHERE {period} AND owner_id IS NOT NULL) AS period
                JOIN handoffs ON handoffs.id = period.handoff_id""",
            *params,
        )
        return {str(row["handoff_id"]): str(row["name"]) for row in rows if row["name"]}

    async def rollup(self, query: RollupQuery) -> PeriodRollup:
        return await read_rollup(self._db, query, _COLUMNS, _fact)
