"""HandoffFinder (handoff.ports) on SQL: the handoffs whose case number holds some digits and
whose titles hold some words, among the open ones and those changed lately.

The two halves of the query each use a partial index of the handoffs (migrations 0001 and
0012): the open ones (handoffs_one_open_per_case, few rows however many handoffs there were)
and the closed ones changed since the cut-off (handoffs_closed_by_age, a range of it). The
digits and words are matched in those rows only, so the cost follows the open and recent
handoffs, not the table. Each half repeats its index's WHERE term as handoff_store spells it,
which SQLite needs to use a partial index."""

from __future__ import annotations

from handoff.models import Handoff, as_utc
from handoff.ports import HandoffSearch

from ..handoff_store import IS_CLOSED, IS_OPEN
from ..sql_protocol import Dialect, SqlValue
from ..store_base import StoreBase

# The case's own title (from the case form) and the handoff's internal title (R-TITLE), in
# lower case: the words are matched in either.
_TITLES: dict[Dialect, str] = {
    "sqlite": (
        "lower(coalesce(json_extract(doc, '$.case.title'), '') || ' ' || "
        "coalesce(json_extract(doc, '$.outputs.title'), ''))"
    ),
    # Read as json, not jsonb: jsonb refuses "\u0000", which free text may hold.
    "postgresql": (
        "lower(coalesce(doc::json -> 'case' ->> 'title', '') || ' ' || "
        "coalesce(doc::json -> 'outputs' ->> 'title', ''))"
    ),
}


def _containing(value: str) -> str:
    """A LIKE pattern (ESCAPE '\\') for text that holds `value`, its wildcards taken as
    written."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlHandoffSearch(StoreBase):
    async def find_handoffs(self, search: HandoffSearch) -> list[Handoff]:
        terms: list[str] = []
        values: list[SqlValue] = []
        if search.case_digits:
            terms.append("case_number LIKE ? ESCAPE '\\'")
            values.append(_containing(search.case_digits))
        for word in search.words:
            terms.append(f"{_TITLES[self._db.dialect]} LIKE ? ESCAPE '\\'")
            values.append(_containing(word.lower()))
        matching = " AND ".join(terms) or "1 = 1"
        rows = await self._db.fetch_all(
            f"""
            SELECT doc FROM (
                SELECT doc, 0 AS closed, updated_at, id FROM handoffs
                WHERE {IS_OPEN} AND {matching}
                UNION ALL
                SELECT doc, 1 AS closed, updated_at, id FROM handoffs
                WHERE {IS_CLOSED} AND updated_at >= ? AND {matching}
            ) AS found
            ORDER BY closed, updated_at DESC, id
            LIMIT ?""",
            *values,
            as_utc(search.changed_since),
            *values,
            search.limit,
        )
        return [Handoff.model_validate_json(row["doc"]) for row in rows]
