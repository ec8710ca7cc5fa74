"""SettingsStore (handoff.ports) on SQL: the bot's own settings (such as the channel it posts
to), saved together with the audit entry that records who changed them."""

from __future__ import annotations

from handoff.models import AuditEntry

from .audit_log import insert_audit_entry
from .store_base import StoreBase


class SqlSettingsStore(StoreBase):
    async def get_setting(self, key: str) -> str | None:
        row = await self._db.fetch_one("SELECT value FROM bot_settings WHERE key = ?", key)
        return str(row["value"]) if row else None

    async def set_setting(self, key: str, value: str, audit: AuditEntry) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO bot_settings (key, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                    updated_at = excluded.updated_at""",
                key,
                value,
                self._clock.now(),
            )
            await insert_audit_entry(tx, audit)
