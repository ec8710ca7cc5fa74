"""The storage contract suites run every store test on both backends (`backend` and
`database_url` live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.sql_store import SqlStore, open_store

from conftest import FakeClock


@pytest.fixture
async def store(database_url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    """A migrated SqlStore, parametrized over both backends (through `backend`)."""
    opened = await open_store(database_url, clock)
    yield opened
    await opened.close()
