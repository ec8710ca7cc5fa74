"""Each person's own settings (storage.user_settings_store), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from handoff.models import AuditEntry, AuditKind, Person
from handoff.user_settings import UserSettings, changes
from storage.errors import UniqueViolation
from storage.sql_store import SqlStore

from conftest import FakeClock


async def test_user_settings_are_saved_with_their_audit_entry(
    store: SqlStore, clock: FakeClock, ana: Person
) -> None:
    settings = UserSettings(person=ana, region="EMEA")
    changed = changes(None, settings)
    assert changed == {"region": {"from": "", "to": "EMEA"}}
    entry = AuditEntry(
        kind=AuditKind.SETTINGS_CHANGED, actor=ana, at=clock.now(), subject=ana.id, data=changed
    )
    await store.save_user_settings(settings, entry)
    assert await store.user_settings(ana.id) == settings
    assert await store.audit_entries() == [entry]


def changed_by_self(settings: UserSettings, clock: FakeClock) -> AuditEntry:
    return AuditEntry(
        kind=AuditKind.SETTINGS_CHANGED,
        actor=settings.person,
        at=clock.now(),
        subject=settings.person.id,
        data=changes(None, settings),
    )


async def test_reminders_go_to_everyone_who_has_not_muted_them(
    store: SqlStore, clock: FakeClock, ana: Person, bo: Person
) -> None:
    ana_settings = UserSettings(person=ana, region="EMEA")
    bo_muted = UserSettings(person=bo, region="US", muted=True)
    for settings in (bo_muted, ana_settings):
        await store.save_user_settings(settings, changed_by_self(settings, clock))
    assert await store.reminded_users() == [ana_settings]

    bo_back = bo_muted.model_copy(update={"muted": False})
    await store.save_user_settings(bo_back, changed_by_self(bo_back, clock))

    assert await store.reminded_users() == [ana_settings, bo_back]
    assert await store.user_settings(bo.id) == bo_back
    assert await store.user_settings("29:nobody") is None


async def test_settings_whose_audit_entry_cannot_be_written_are_not_saved(
    store: SqlStore, clock: FakeClock, ana: Person
) -> None:
    first = UserSettings(person=ana, region="EMEA")
    entry = changed_by_self(first, clock)
    await store.save_user_settings(first, entry)

    with pytest.raises(UniqueViolation):
        await store.save_user_settings(first.model_copy(update={"region": "US"}), entry)

    assert await store.user_settings(ana.id) == first
