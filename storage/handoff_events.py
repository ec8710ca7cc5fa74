"""The audit events of handoffs (and of the escalations raised on them): written in the same
transaction as the change they record, never changed afterwards."""

from __future__ import annotations

from collections.abc import Sequence

from handoff.models import AuditEvent, Handoff

from .sql_protocol import Session


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
