"""The audit log of changes that belong to no handoff (storage.audit_log), on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest

from handoff.models import AuditEntry, AuditKind, Person
from handoff.user_settings import UserSettings
from storage.sql_store import SqlStore

from conftest import FakeClock


def bound(channel: str, by: Person, clock: FakeClock) -> AuditEntry:
    return AuditEntry(kind=AuditKind.CHANNEL_BOUND, actor=by, at=clock.now(), subject=channel)


async def test_the_audit_log_is_append_only(store: SqlStore, clock: FakeClock, ana: Person) -> None:
    await store.set_setting("case_transfer_channel_id", "19:a", bound("19:a", ana, clock))
    for statement in ("UPDATE audit_log SET actor_id = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            await store.database.execute(statement)
    assert len(await store.audit_entries()) == 1


async def test_entries_of_the_same_moment_are_listed_latest_written_first(
    store: SqlStore, clock: FakeClock, ana: Person, bo: Person
) -> None:
    channel = bound("19:a", ana, clock)
    await store.set_setting("case_transfer_channel_id", "19:a", channel)
    settings = UserSettings(person=bo, region="US")
    changed = AuditEntry(
        kind=AuditKind.SETTINGS_CHANGED, actor=bo, at=clock.now(), subject=bo.id, data={}
    )
    await store.save_user_settings(settings, changed)

    assert await store.audit_entries() == [changed, channel]
    assert await store.audit_entries(limit=1) == [changed]
