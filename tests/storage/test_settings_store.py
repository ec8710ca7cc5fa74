"""The bot's own settings (storage.settings_store), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handoff.models import AuditEntry, AuditKind, Person
from storage.errors import UniqueViolation
from storage.sql_store import SqlStore

from conftest import FakeClock


def bound(channel: str, by: Person, clock: FakeClock) -> AuditEntry:
    return AuditEntry(kind=AuditKind.CHANNEL_BOUND, actor=by, at=clock.now(), subject=channel)


async def test_settings_round_trip_with_who_changed_them(
    store: SqlStore, clock: FakeClock, ana: Person, bo: Person
) -> None:
    assert await store.get_setting("case_transfer_channel_id") is None
    await store.set_setting("case_transfer_channel_id", "19:a", bound("19:a", ana, clock))
    clock.advance(timedelta(minutes=5))
    await store.set_setting("case_transfer_channel_id", "19:b", bound("19:b", bo, clock))
    assert await store.get_setting("case_transfer_channel_id") == "19:b"
    entries = await store.audit_entries()
    assert [(e.subject, e.actor, e.at) for e in entries] == [
        ("19:b", bo, clock.now()),
        ("19:a", ana, clock.now() - timedelta(minutes=5)),
    ], "newest first, with who and when"
    assert await store.audit_entries(limit=1) == entries[:1]


async def test_a_setting_whose_audit_entry_cannot_be_written_is_not_changed(
    store: SqlStore, clock: FakeClock, ana: Person, bo: Person
) -> None:
    entry = bound("19:a", ana, clock)
    await store.set_setting("case_transfer_channel_id", "19:a", entry)
    reused = entry.model_copy(update={"actor": bo, "subject": "19:b"})

    with pytest.raises(UniqueViolation):
        await store.set_setting("case_transfer_channel_id", "19:b", reused)

    assert await store.get_setting("case_transfer_channel_id") == "19:a"
    assert await store.audit_entries() == [entry]
