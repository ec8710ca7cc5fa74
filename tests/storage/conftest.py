"""The storage contract suites run every store test on both backends (`backend` and
`database_url` live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from handoff.models import Handoff, Person
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness import records


@pytest.fixture
async def store(database_url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    """A migrated SqlStore, parametrized over both backends (through `backend`)."""
    opened = await open_store(database_url, clock)
    yield opened
    await opened.close()


@pytest.fixture
async def second_store(database_url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    """Another store on the same database: what a second bot process (replica) would hold."""
    other = await open_store(database_url, clock)
    yield other
    await other.close()


@pytest.fixture
def ana() -> Person:
    return Person(id="29:ana", name="Ana")


@pytest.fixture
def bo() -> Person:
    return Person(id="29:bo", name="Bo")


@pytest.fixture
def a_handoff(clock: FakeClock, ana: Person) -> Callable[..., Handoff]:
    """Makes a requested, non-24x7 handoff of case `number` (by `requester`, Ana unless
    given), created now."""

    def make(number: str, requester: Person | None = None) -> Handoff:
        return records.requested(number, requester or ana, clock.now())

    return make
