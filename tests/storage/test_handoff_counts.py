"""handoff_counts: how many handoffs each state has per target region, on both backends, as
/metrics reads it at every scrape."""

from __future__ import annotations

from collections.abc import Callable

from handoff.models import Handoff, HandoffState, Person
from handoff.state_machine import Accept, Cancel, apply, request_event
from storage.sql_store import SqlStore

from conftest import FakeClock

TAKER = Person(id="29:taker", name="Tia Taker")


async def test_an_empty_database_counts_nothing(store: SqlStore) -> None:
    assert await store.handoff_counts() == {}


async def test_each_state_is_counted_per_target_region_as_handoffs_move_on(
    store: SqlStore, clock: FakeClock, a_handoff: Callable[..., Handoff]
) -> None:
    added = []
    for number, region in enumerate(("US", "US", "US", "EMEA")):
        handoff = a_handoff(f"70000000{number}").model_copy(update={"target_region": region})
        await store.add(handoff, [request_event(handoff)])
        added.append(handoff)
    assert await store.handoff_counts() == {
        (HandoffState.REQUESTED, "US"): 3,
        (HandoffState.REQUESTED, "EMEA"): 1,
    }

    first, _, _, emea = added
    accepted = apply(first, Accept(actor=TAKER), clock.now())
    await store.save(accepted.handoff, first.version, accepted.events)
    cancelled = apply(emea, Cancel(actor=emea.requester), clock.now())
    await store.save(cancelled.handoff, emea.version, cancelled.events)

    assert await store.handoff_counts() == {
        (HandoffState.REQUESTED, "US"): 2,
        (HandoffState.ACCEPTED, "US"): 1,
        (HandoffState.CANCELLED, "EMEA"): 1,
    }
