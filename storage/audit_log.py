"""The audit log of changes that belong to no handoff (migration 0011): written in the same
transaction as the change it records, read newest first."""

from __future__ import annotations

from handoff.models import AuditEntry

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
