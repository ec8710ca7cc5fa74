"""UserSettingsStore (handoff.ports) on SQL: each person's own settings (working hours,
reminders), saved together with the audit entry that records the change."""

from __future__ import annotations

from handoff.models import AuditEntry
from handoff.user_settings import UserSettings

from .audit_log import insert_audit_entry
from .store_base import StoreBase


class SqlUserSettingsStore(StoreBase):
    async def user_settings(self, user_id: str) -> UserSettings | None:
        row = await self._db.fetch_one("SELECT doc FROM user_settings WHERE user_id = ?", user_id)
        return UserSettings.model_validate_json(row["doc"]) if row else None

    async def save_user_settings(self, settings: UserSettings, audit: AuditEntry) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO user_settings (user_id, doc, muted, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, muted = excluded.muted,
                    updated_at = excluded.updated_at""",
                settings.person.id,
                settings.model_dump_json(),
                int(settings.muted),
                self._clock.now(),
            )
            await insert_audit_entry(tx, audit)

    async def reminded_users(self) -> list[UserSettings]:
        """Everyone who has not muted reminders."""
        rows = await self._db.fetch_all(
            "SELECT doc FROM user_settings WHERE muted = 0 ORDER BY user_id"
        )
        return [UserSettings.model_validate_json(row["doc"]) for row in rows]
