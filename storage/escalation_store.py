"""EscalationStore (handoff.ports) on SQL: escalations of a case to its leads, decided once
(optimistic versions), and the approval cards each lead was sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handoff.errors import ConcurrencyConflict, NotFound
from handoff.escalation import Escalation, EscalationState
from handoff.models import AuditEvent, as_utc
from handoff.ports import CardRef, OutboxMessage

from .handled_keys_store import claim_key_in
from .handoff_events import insert_events
from .outbox_store import enqueue_all_in
from .store_base import StoreBase


class SqlEscalationStore(StoreBase):
    async def add_escalation(
        self,
        escalation: Escalation,
        outbox: Sequence[OutboxMessage] = (),
        events: Sequence[AuditEvent] = (),
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO escalations (id, case_number, state, version, doc, created_at,
                                         updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)""",
                escalation.id,
                escalation.case_number,
                escalation.state.value,
                escalation.version,
                escalation.model_dump_json(),
                escalation.created_at,
                escalation.created_at,
            )
            await insert_events(tx, events)
            await enqueue_all_in(tx, outbox, self._clock)

    async def pending_escalation(self, case_number: str) -> Escalation | None:
        row = await self._db.fetch_one(
            "SELECT doc FROM escalations WHERE case_number = ? AND state = 'pending' LIMIT 1",
            case_number,
        )
        return Escalation.model_validate_json(row["doc"]) if row else None

    async def get_escalation(self, escalation_id: str) -> Escalation:
        row = await self._db.fetch_one("SELECT doc FROM escalations WHERE id = ?", escalation_id)
        if row is None:
            raise NotFound(f"There is no escalation with id {escalation_id}.")
        return Escalation.model_validate_json(row["doc"])

    async def save_escalation(
        self,
        escalation: Escalation,
        expected_version: int,
        outbox: Sequence[OutboxMessage] = (),
        claim: str | None = None,
        events: Sequence[AuditEvent] = (),
    ) -> None:
        async with self._db.transaction() as tx:
            updated = await tx.execute(
                """
                UPDATE escalations SET state = ?, version = ?, doc = ?, updated_at = ?
                WHERE id = ? AND version = ?""",
                escalation.state.value,
                escalation.version,
                escalation.model_dump_json(),
                self._clock.now(),
                escalation.id,
                expected_version,
            )
            if not updated:
                raise ConcurrencyConflict(
                    f"Someone decided the escalation of case {escalation.case_number} first."
                )
            if claim is not None:
                await claim_key_in(tx, claim, self._clock)
            await insert_events(tx, events)
            await enqueue_all_in(tx, outbox, self._clock)

    async def add_escalation_card(self, escalation_id: str, card: CardRef) -> None:
        await self._db.execute(
            """
            INSERT INTO escalation_cards (escalation_id, conversation_id, activity_id)
            VALUES (?, ?, ?)
            ON CONFLICT (escalation_id, conversation_id) DO UPDATE
                SET activity_id = excluded.activity_id""",
            escalation_id,
            card.conversation_id,
            card.activity_id,
        )

    async def escalation_cards(self, escalation_id: str) -> list[CardRef]:
        rows = await self._db.fetch_all(
            "SELECT conversation_id, activity_id FROM escalation_cards WHERE escalation_id = ?",
            escalation_id,
        )
        return [CardRef(**row) for row in rows]

    async def escalation_of_card(self, activity_id: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT escalation_id FROM escalation_cards WHERE activity_id = ?", activity_id
        )
        return str(row["escalation_id"]) if row else None

    async def purge_escalations(self, decided_before: datetime, limit: int) -> dict[str, int]:
        cutoff = as_utc(decided_before)
        async with self._db.transaction() as tx:
            # A pending escalation still waits for a lead's decision: never purged. Decided
            # ones are not changed again, so nothing needs locking.
            rows = await tx.fetch_all(
                """
                SELECT id FROM escalations
                WHERE state <> ? AND updated_at < ?
                  AND NOT EXISTS (
                      SELECT 1 FROM handoffs WHERE handoffs.case_number = escalations.case_number)
                ORDER BY updated_at
                LIMIT ?""",
                EscalationState.PENDING.value,
                cutoff,
                max(limit, 0),
            )
            ids = [str(row["id"]) for row in rows]
            if not ids:
                return {"escalations": 0, "escalation_cards": 0}
            marks = ", ".join("?" for _ in ids)
            cards = await tx.execute(
                f"DELETE FROM escalation_cards WHERE escalation_id IN ({marks})", *ids
            )
            escalations = await tx.execute(f"DELETE FROM escalations WHERE id IN ({marks})", *ids)
        return {"escalations": escalations, "escalation_cards": cards}
