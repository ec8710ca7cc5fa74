"""PostgreSQL's plan of a statement as it ran (EXPLAIN ANALYZE, as JSON), and its nodes, for
tests that hold a query to what it reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from storage.sql_protocol import SqlValue
from storage.sql_store import SqlStore


async def analyzed_plan(store: SqlStore, sql: str, *params: SqlValue) -> dict[str, Any]:
    """The root node of the plan PostgreSQL ran `sql` by."""
    [row] = await store.database.fetch_all("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *params)
    plan = row["QUERY PLAN"]
    root: dict[str, Any] = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    return root


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)
