"""The audit events of handoffs (and of the escalations raised on them): written in the same
transaction as the change they record, never changed afterwards, deleted only with their case
by the retention purge (docs/retention.md)."""

from __future__ import annotations

from collections.abc import Sequence

from handoff.models import AuditEvent, Handoff

from .sql_protocol import Session, SqlValue


def check_events(handoff: Handoff, events: Sequence[AuditEvent]) -> None:
    strays = [event.id for event in events if event.handoff_id != handoff.id]
    if strays:
        raise ValueError(f"events {strays} do not belong to handoff {handoff.id}")


async def insert_events(tx: Session, events: Sequence[AuditEvent]) -> None:
    for event in events:
        await tx.execute(
            """
            INSERT INTO handoff_events (id, handoff_id, case_number, kind, actor_id, at, doc)
            VALUES (?, ?, ?, ?, ?, ?, ?)""",
            event.id,
            event.handoff_id,
            event.case_number,
            event.kind,
            event.actor.id,
            event.at,
            event.model_dump_json(),
        )


async def delete_append_only(tx: Session, sql: str, *params: SqlValue) -> int:
    """Runs `sql`, a DELETE from an append-only table (handoff_events, audit_log), for the
    retention purge: its triggers let a delete through only while the retention_purge table
    has a row (migration 0012), which is written and removed again inside this transaction,
    so that no other connection ever sees it."""
    await tx.execute("INSERT INTO retention_purge (purging) VALUES (1)")
    deleted = await tx.execute(sql, *params)
    await tx.execute("DELETE FROM retention_purge")
    return deleted
