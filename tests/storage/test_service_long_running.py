"""R-LONG through the service: the accept that closes a loop round the globe marks the case,
on both backends."""

from __future__ import annotations

import itertools
from datetime import timedelta

from handoff import effects
from handoff.models import (
    Handoff,
    Person,
)
from handoff.request import HandoffAnswers
from handoff.service import HandoffService
from handoff.state_machine import Accept
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness import records
from harness.records import PLACEHOLDER_OUTPUTS

CASE = "2311230040001234"
OUTPUTS = PLACEHOLDER_OUTPUTS


def answers(origin: str, target: str) -> HandoffAnswers:
    return records.answers(CASE, origin, target)


async def travel(service: HandoffService, clock: FakeClock, *regions: str) -> list[Handoff]:
    accepted = []
    for origin, target in itertools.pairwise(regions):
        requester = Person(id=f"29:{origin}", name=f"{origin} owner")
        handoff = await service.request(answers(origin, target), OUTPUTS, requester)
        clock.advance(timedelta(hours=1))
        owner = Person(id=f"29:{target}", name=f"{target} owner")
        outcome = await service.act(handoff.id, Accept(actor=owner), handoff.version)
        assert outcome.changed
        accepted.append(outcome.handoff)
        clock.advance(timedelta(hours=7))
    return accepted


async def test_the_accept_that_closes_the_loop_marks_the_case(
    store: SqlStore, clock: FakeClock
) -> None:
    service = HandoffService(store, clock)
    legs = await travel(service, clock, "EMEA", "US", "APAC", "EMEA")
    last = await store.latest_for_case(CASE)
    assert last is not None
    assert last.long_running == "it has gone round the globe: EMEA → US → APAC → EMEA"
    earlier = [h for h in await store.for_case(CASE) if h.id != last.id]
    assert all(h.long_running is None for h in earlier)
    # Each person's messages go out one after the other (a lane each): take them as sent.
    due = []
    while batch := await store.claim(clock.now(), 100, timedelta(seconds=30)):
        due.extend(batch)
        for item in batch:
            await store.complete(item.id)
    told = [
        i.payload["text"]
        for i in due
        if i.kind == effects.OutboxKind.NOTIFY and i.dedupe_key.startswith("long:")
    ]
    assert len(told) == 2, "the new owner and the requester"
    assert told[0].startswith(f"Case {CASE} is now long-running: it has gone round the globe")
    assert len(legs) == 3


async def test_there_and_back_is_not_marked(store: SqlStore, clock: FakeClock) -> None:
    service = HandoffService(store, clock)
    await travel(service, clock, "EMEA", "US", "EMEA")
    last = await store.latest_for_case(CASE)
    assert last is not None and last.long_running is None


async def test_a_flag_marks_the_case_with_its_reason(store: SqlStore, clock: FakeClock) -> None:
    service = HandoffService(store, clock)
    await travel(service, clock, "EMEA", "US")
    latest = await store.latest_for_case(CASE)
    assert latest is not None
    flagged = await service.flag_long_running(
        latest.id, Person(id="29:lead", name="Lee"), "customer works in two time zones"
    )
    assert flagged.long_running == "flagged: customer works in two time zones"
    assert [e.kind for e in await store.history(latest.id)][-1] == "long_running"
