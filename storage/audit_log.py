"""The audit log of changes that belong to no handoff (migration 0011): written in the same
transaction as the change it records, read newest first, deleted only by the retention purge
after AUDIT_RETENTION_DAYS (docs/retention.md)."""

from __future__ import annotations

from datetime import datetime

from handoff.models import AuditEntry, AuditKind, as_utc

from .handoff_events import delete_append_only
from .sql_protocol import Database, Session
from .store_base import StoreBase


async def insert_audit_entry(tx: Session, entry: AuditEntry) -> None:
    await tx.execute(
        """
        INSERT INTO audit_log (id, kind, actor_id, subject, at, doc)
        VALUES (?, ?, ?, ?, ?, ?)""",
        entry.id,
        entry.kind.value,
        entry.actor.id,
        entry.subject,
        entry.at,
        entry.model_dump_json(),
    )


async def latest_audit_entries(db: Database, limit: int) -> list[AuditEntry]:
    rows = await db.fetch_all("SELECT doc FROM audit_log ORDER BY seq DESC LIMIT ?", limit)
    return [AuditEntry.model_validate_json(row["doc"]) for row in rows]


class SqlAuditLog(StoreBase):
    """AuditLog (handoff.ports) on SQL."""

    async def audit_entries(self, limit: int = 20) -> list[AuditEntry]:
        return await latest_audit_entries(self._db, limit)

    async def add_audit_entry(self, entry: AuditEntry) -> None:
        # Not durable: a refusal lost to a power cut costs one count of a figure, and the
        # dialog's turn does not wait for the disk for it.
        async with self._db.transaction(durable=False) as tx:
            await insert_audit_entry(tx, entry)

    async def audit_entries_between(
        self, kind: AuditKind, since: datetime, until: datetime, limit: int = 10_000
    ) -> list[AuditEntry]:
        rows = await self._db.fetch_all(
            """SELECT doc FROM audit_log WHERE kind = ? AND at >= ? AND at < ?
               ORDER BY at, seq LIMIT ?""",
            kind.value,
            as_utc(since),
            as_utc(until),
            max(limit, 0),
        )
        return [AuditEntry.model_validate_json(row["doc"]) for row in rows]

    async def purge_audit_entries(self, before: datetime, limit: int) -> int:
        # Of the entries that explain what is in force today (who bound the channel in use,
        # each person's latest settings) only what a later entry superseded goes; any other
        # kind (notes refused) goes by age alone.
        kept = [kind.value for kind in AuditKind if kind.explains_what_is_in_force]
        async with self._db.transaction() as tx:
            return await delete_append_only(
                tx,
                """
                DELETE FROM audit_log
                WHERE seq IN (
                    SELECT seq FROM audit_log
                    WHERE at < ? AND (kind NOT IN (?, ?) OR EXISTS (
                        SELECT 1 FROM audit_log AS later
                        WHERE later.seq > audit_log.seq AND later.kind = audit_log.kind
                          AND (later.kind = ? OR later.subject = audit_log.subject)
                    ))
                    ORDER BY at LIMIT ?
                )""",
                as_utc(before),
                *kept,
                AuditKind.CHANNEL_BOUND.value,
                max(limit, 0),
            )
