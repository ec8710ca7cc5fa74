"""The compose box's search in the store, on SQLite and PostgreSQL alike: digits anywhere in the
case number, words anywhere in the case's or the internal title in any letter case, typed
wildcards taken as written, open handoffs first and closed ones only while recent, at most the
limit; and on SQLite, each half of the query read through its partial index."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from handoff.models import Handoff, HandoffOutputs, Person
from handoff.ports import HandoffSearch
from handoff.state_machine import Accept, apply, request_event
from storage.handoff_store import IS_CLOSED, IS_OPEN
from storage.migrate import load_migrations
from storage.search.handoff_search import _TITLES
from storage.sql_store import SqlStore

from conftest import FakeClock

MakeHandoff = Callable[..., Handoff]
RECENT = timedelta(days=14)


def outputs(title: str) -> HandoffOutputs:
    return HandoffOutputs(
        title=title,
        mail_to="q@example.invalid",
        mail_subject="s",
        mail_body="b",
        mailto_url="mailto:",
        notes_text="n",
        customer_message="c",
        next_step="x",
    )


async def add(
    store: SqlStore,
    make: MakeHandoff,
    number: str,
    title: str = "",
    internal_title: str = "",
) -> Handoff:
    handoff = make(number)
    handoff = handoff.model_copy(
        update={
            "case": handoff.case.model_copy(update={"title": title}),
            "outputs": outputs(internal_title) if internal_title else None,
        }
    )
    await store.add(handoff, [request_event(handoff)])
    return handoff


async def accept(store: SqlStore, clock: FakeClock, handoff: Handoff, bo: Person) -> None:
    done = apply(handoff, Accept(actor=bo), clock.now())
    await store.save(done.handoff, handoff.version, done.events)


async def found(
    store: SqlStore, clock: FakeClock, digits: str = "", *words: str, limit: int = 10
) -> list[str]:
    search = HandoffSearch(
        case_digits=digits, words=words, changed_since=clock.now() - RECENT, limit=limit
    )
    return [handoff.case.number for handoff in await store.find_handoffs(search)]


async def test_digits_anywhere_in_the_case_number_find_it(
    store: SqlStore, clock: FakeClock, a_handoff: MakeHandoff
) -> None:
    await add(store, a_handoff, "2311230040001234")
    clock.advance(timedelta(minutes=1))
    await add(store, a_handoff, "2311230040005678")
    assert await found(store, clock, "5678") == ["2311230040005678"]
    assert await found(store, clock, "231123") == ["2311230040005678", "2311230040001234"]
    assert await found(store, clock, "99") == []


async def test_words_anywhere_in_either_title_in_any_letter_case_find_it(
    store: SqlStore, clock: FakeClock, a_handoff: MakeHandoff
) -> None:
    await add(store, a_handoff, "1000000001", "Autoscale STOPS at 20 nodes", "<Need US SE> HDI")
    await add(store, a_handoff, "1000000002", "Kafka lag", "<Need US SE> Kafka lag")
    assert await found(store, clock, "", "autoscale", "nodes") == ["1000000001"]
    assert await found(store, clock, "", "need", "hdi") == ["1000000001"]
    assert await found(store, clock, "", "autoscale", "kafka") == []
    assert await found(store, clock, "2", "kafka") == ["1000000002"]


@pytest.mark.parametrize("typed", ["%", "_", "\\", "50%", "a_b"])
async def test_typed_wildcards_match_only_themselves(
    store: SqlStore, clock: FakeClock, a_handoff: MakeHandoff, typed: str
) -> None:
    await add(store, a_handoff, "1000000001", "Kafka lag")
    await add(store, a_handoff, "1000000002", "Disk 50% full, a_b and c\\d")
    assert await found(store, clock, "", typed) == ["1000000002"]


async def test_open_ones_first_then_the_recently_closed_never_older_ones(
    store: SqlStore, clock: FakeClock, a_handoff: MakeHandoff, bo: Person
) -> None:
    old = await add(store, a_handoff, "1000000001", "Zookeeper")
    await accept(store, clock, old, bo)
    clock.advance(timedelta(days=10))
    recent = await add(store, a_handoff, "1000000002", "Zookeeper")
    await accept(store, clock, recent, bo)
    clock.advance(timedelta(minutes=1))
    await add(store, a_handoff, "1000000003", "Zookeeper")
    clock.advance(timedelta(days=5))
    assert await found(store, clock, "", "zookeeper") == ["1000000003", "1000000002"]
    assert await found(store, clock) == ["1000000003", "1000000002"]


async def test_no_more_than_the_limit_newest_change_first(
    store: SqlStore, clock: FakeClock, a_handoff: MakeHandoff
) -> None:
    for n in range(5):
        await add(store, a_handoff, f"100000000{n}", "Kafka")
        clock.advance(timedelta(minutes=1))
    assert await found(store, clock, "", "kafka", limit=3) == [
        "1000000004",
        "1000000003",
        "1000000002",
    ]


def test_each_half_of_the_query_reads_its_partial_index(tmp_path: Path) -> None:
    """On SQLite (PostgreSQL's planner weighs its statistics): the open handoffs through
    handoffs_one_open_per_case, the closed ones by age through handoffs_closed_by_age."""
    connection = sqlite3.connect(tmp_path / "plan.db")
    for migration in load_migrations("sqlite"):
        connection.executescript(migration.sql.replace("TIMESTAMP_TEXT", "TEXT"))
    title = _TITLES["sqlite"]
    matching = f"case_number LIKE '%1%' ESCAPE '\\' AND {title} LIKE '%a%' ESCAPE '\\'"
    plan = connection.execute(
        f"""EXPLAIN QUERY PLAN SELECT doc FROM (
            SELECT doc, 0 AS closed, updated_at, id FROM handoffs WHERE {IS_OPEN} AND {matching}
            UNION ALL
            SELECT doc, 1 AS closed, updated_at, id FROM handoffs
            WHERE {IS_CLOSED} AND updated_at >= '2026-01-01' AND {matching}
        ) AS found ORDER BY closed, updated_at DESC, id LIMIT 11"""
    ).fetchall()
    steps = " | ".join(str(row[-1]) for row in plan)
    assert "USING INDEX handoffs_one_open_per_case" in steps, steps
    assert "SEARCH handoffs USING INDEX handoffs_closed_by_age (updated_at>?)" in steps, steps
    assert "SCAN handoffs " not in steps.replace("SCAN handoffs USING INDEX", ""), steps
