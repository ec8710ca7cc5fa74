"""`mine` and `insights <region>` at scale: what they read does not grow with the handoffs a
person or a region ever had. On both backends `mine` of a lead who took thousands of handoffs
answers the newest first; PostgreSQL (its planner weighing real statistics, after ANALYZE) then
reads no more rows than it shows, and SQLite (which the bot never ANALYZEs) reads each half of
the query from its index in order. The region's critical open handoffs come from their own
partial index on SQLite, which otherwise walked all of a region's rows when it had none."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from handoff.models import Handoff, Person
from handoff.state_machine import Accept, apply, request_event
from storage.handoff_store import INVOLVING
from storage.insights.facts import CRITICAL_OPEN_QUERY
from storage.migrate import load_migrations
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness.query_plans import analyzed_plan, plan_nodes

SHOWN = 25
# Enough rows that PostgreSQL's planner, knowing them, would rather scan the table than walk an
# index for a share of them; far fewer than a real deployment's, which only makes it surer.
TAKEN = 3000
LEAD = Person(id="29:lead", name="Lee Lead")


async def _lead_took_thousands(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], requester: Person
) -> list[str]:
    """TAKEN handoffs `requester` asked for and LEAD accepted, one changed a minute after the
    other, copied from a real one in one transaction; their ids, newest change first."""
    template = a_handoff("500000000", requester=requester)
    await store.add(template, [request_event(template)])
    accepted = apply(template, Accept(actor=LEAD), clock.now()).handoff
    doc = accepted.model_dump_json()
    rows = []
    for n in range(TAKEN):
        handoff_id = f"{n:032x}"
        changed = clock.now() + timedelta(minutes=n)
        rows.append((handoff_id, f"6{n:09d}", changed, doc.replace(template.id, handoff_id)))
    async with store.database.transaction() as tx:
        for handoff_id, case, changed, copy in rows:
            await tx.execute(
                """INSERT INTO handoffs (id, case_number, state, target_region, requester_id,
                                         owner_id, version, created_at, updated_at, doc)
                   VALUES (?, ?, 'accepted', 'US', ?, ?, 2, ?, ?, ?)""",
                handoff_id,
                case,
                accepted.requester.id,
                LEAD.id,
                clock.now(),
                changed,
                copy,
            )
    return [row[0] for row in reversed(rows)]


async def test_mine_of_people_with_thousands_of_handoffs_reads_only_what_it_shows(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff], bo: Person
) -> None:
    newest_first = await _lead_took_thousands(store, clock, a_handoff, requester=bo)
    db = store.database
    if db.dialect == "postgresql":
        await db.execute("ANALYZE handoffs")

    # The lead took them all, Bo asked for them all (and for the template, the oldest change).
    for person in (LEAD, bo):
        mine = await store.involving(person.id, limit=SHOWN)
        assert [h.id for h in mine] == newest_first[:SHOWN], person

        params = (person.id, SHOWN, person.id, person.id, SHOWN, SHOWN)
        if db.dialect == "postgresql":
            root = await analyzed_plan(store, INVOLVING, *params)
            scans = [node for node in plan_nodes(root) if node.get("Relation Name") == "handoffs"]
            assert {node["Node Type"] for node in scans} == {"Index Scan"}, root
            assert {node["Index Name"] for node in scans} == {
                "handoffs_mine_requested",
                "handoffs_mine_taken",
            }
            assert max(node["Actual Rows"] for node in scans) <= SHOWN, root
        else:
            steps = await db.fetch_all("EXPLAIN QUERY PLAN " + INVOLVING, *params)
            details = [str(step["detail"]) for step in steps]
            assert "SEARCH handoffs USING INDEX handoffs_mine_requested (requester_id=?)" in details
            assert "SEARCH handoffs USING INDEX handoffs_mine_taken (owner_id=?)" in details
            # Only the final merge of the halves' 2 x 25 rows sorts; each half is read in its
            # index's order, so its LIMIT stops the walk.
            assert [d for d in details if "TEMP B-TREE" in d] == ["USE TEMP B-TREE FOR ORDER BY"]


def _fresh_sqlite(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    for migration in load_migrations("sqlite"):
        connection.executescript(migration.sql.replace("TIMESTAMP_TEXT", "TEXT"))
    return connection


def test_a_regions_critical_open_handoffs_come_from_their_partial_index(tmp_path: Path) -> None:
    """On SQLite, without statistics as the bot runs it; PostgreSQL picked the partial index of
    all regions already and filtered the region (0.5 ms at a million handoffs)."""
    connection = _fresh_sqlite(tmp_path / "plan.db")
    of_region = connection.execute(
        "EXPLAIN QUERY PLAN " + CRITICAL_OPEN_QUERY.format(region="AND target_region = ?"),
        ("APAC", 50),
    ).fetchall()
    assert [str(step[-1]) for step in of_region] == [
        "SEARCH handoff_facts USING INDEX handoff_facts_critical_open_by_region (target_region=?)"
    ]
    of_all = connection.execute(
        "EXPLAIN QUERY PLAN " + CRITICAL_OPEN_QUERY.format(region=""), (50,)
    ).fetchall()
    assert str(of_all[0][-1]) == "SCAN handoff_facts USING INDEX handoff_facts_critical_open"
