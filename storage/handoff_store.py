"""HandoffRepository (handoff.ports) on SQL: handoffs with their audit events, the outbox
messages and the idempotency key of the change, all in one transaction; and the card each
handoff was posted as."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handoff.errors import NotFound
from handoff.escalation import EscalationState
from handoff.models import AuditEvent, Handoff, HandoffState, as_utc
from handoff.ports import (
    AlreadyHandled,
    CardRef,
    ChangedMeanwhile,
    Clicked,
    DuplicateOpenHandoff,
    MakeOutbox,
    OutboxMessage,
)
from handoff.user_settings import UserSettings

from .errors import UniqueViolation
from .handled_keys_store import claim_key_in
from .handoff_events import check_events, delete_append_only, insert_events
from .insights.facts import record_fact
from .outbox_store import enqueue_all_in
from .sql_protocol import Dialect, Session, SqlValue
from .store_base import StoreBase

# The domain's rule (HandoffState.is_open), spelled exactly as in the partial indexes of the
# migrations: SQLite only uses a partial index when the query repeats its WHERE term
# (tests/storage/test_handoff_store.py checks the migrations say the same).
_CLOSED = ", ".join(f"'{state.value}'" for state in HandoffState if not state.is_open)
IS_OPEN = f"state NOT IN ({_CLOSED})"
# Its opposite, as the retention index of migration 0012 spells it.
IS_CLOSED = f"state IN ({_CLOSED})"

# Retention: the closed handoffs last changed before the cutoff, oldest first, of cases with
# nothing since: no handoff of the case open or changed since, no escalation pending or
# decided since. A case goes whole, never in part, so what the bot reads from a case's past
# (the technical level it reached, the route R-LONG looks at, its history) is never half there.
_EXPIRED = f"""
    SELECT id FROM handoffs
    WHERE {IS_CLOSED} AND updated_at < ?
      AND NOT EXISTS (
          SELECT 1 FROM handoffs AS later
          WHERE later.case_number = handoffs.case_number
            AND (later.state NOT IN ({_CLOSED}) OR later.updated_at >= ?))
      AND NOT EXISTS (
          SELECT 1 FROM escalations
          WHERE escalations.case_number = handoffs.case_number
            AND (escalations.state = '{EscalationState.PENDING.value}'
                 OR escalations.updated_at >= ?))
    ORDER BY updated_at
    LIMIT ?"""
_EXPIRED_LOCKED: dict[Dialect, str] = {
    # The SQLite driver's write transaction (BEGIN IMMEDIATE) already keeps writers out.
    "sqlite": _EXPIRED,
    # A handoff being changed right now is waited for and looked at again as changed (then it
    # is no longer expired); one picked stays as it is until it is deleted.
    "postgresql": _EXPIRED + " FOR UPDATE",
}

# `mine`: the newest `limit` handoffs of each half (requested, taken), each read in order from
# its index of migration 0017 and stopped at the limit, then the newest of those; a lead who
# took a hundred thousand handoffs costs what a newcomer does. The second half leaves out what
# the person also requested (the first half has it), so no row comes twice and no
# de-duplication is needed. Parameters: person, limit, person, person, limit, limit.
INVOLVING = """
    SELECT doc FROM (
        SELECT * FROM (
            SELECT doc, updated_at, id FROM handoffs WHERE requester_id = ?
            ORDER BY updated_at DESC, id LIMIT ?) AS requested
        UNION ALL
        SELECT * FROM (
            SELECT doc, updated_at, id FROM handoffs WHERE owner_id = ? AND requester_id <> ?
            ORDER BY updated_at DESC, id LIMIT ?) AS taken
    ) AS mine
    ORDER BY updated_at DESC, id
    LIMIT ?"""


class SqlHandoffRepository(StoreBase):
    async def add(
        self,
        handoff: Handoff,
        events: Sequence[AuditEvent],
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        check_events(handoff, events)
        async with self._db.transaction() as tx:
            # ON CONFLICT DO NOTHING (no target) covers the primary key and the partial unique
            # index alike, without a driver-specific error to parse.
            inserted = await tx.execute(
                """
                INSERT INTO handoffs (id, case_number, state, target_region, requester_id,
                                      owner_id, version, created_at, updated_at, doc)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING""",
                handoff.id,
                handoff.case.number,
                handoff.state.value,
                handoff.target_region,
                handoff.requester.id,
                handoff.owner.id if handoff.owner else None,
                handoff.version,
                handoff.created_at,
                handoff.updated_at,
                handoff.model_dump_json(),
            )
            if not inserted:
                await self._explain_refused_add(tx, handoff)
            await insert_events(tx, events)
            await record_fact(tx, handoff, list(events), new=True)
            await enqueue_all_in(tx, outbox, self._clock)

    async def _explain_refused_add(self, tx: Session, handoff: Handoff) -> None:
        if await tx.fetch_one("SELECT id FROM handoffs WHERE id = ?", handoff.id) is not None:
            raise ValueError(f"a handoff with id {handoff.id} is already stored")
        existing = await tx.fetch_one(
            f"SELECT id, state, created_at FROM handoffs WHERE case_number = ? AND {IS_OPEN}",
            handoff.case.number,
        )
        since = f" (since {existing['created_at']:%Y-%m-%d %H:%M} UTC)" if existing else ""
        raise DuplicateOpenHandoff(
            f"Case {handoff.case.number} already has an open handoff{since}; update that one "
            "instead of starting another."
        )

    async def get(self, handoff_id: str) -> Handoff:
        row = await self._db.fetch_one("SELECT doc FROM handoffs WHERE id = ?", handoff_id)
        if row is None:
            raise NotFound(f"There is no handoff with id {handoff_id}.")
        return Handoff.model_validate_json(row["doc"])

    async def save(
        self,
        handoff: Handoff,
        expected_version: int,
        events: Sequence[AuditEvent],
        outbox: Sequence[OutboxMessage] | MakeOutbox = (),
        claim: str | None = None,
    ) -> None:
        if handoff.version <= expected_version:
            # Without a version bump a second writer's stale copy would still match.
            raise ValueError(
                f"saving handoff {handoff.id} needs a version above {expected_version}, "
                f"got {handoff.version}"
            )
        check_events(handoff, events)
        async with self._db.transaction() as tx:
            try:
                updated = await tx.execute(
                    """
                    UPDATE handoffs
                    SET case_number = ?, state = ?, target_region = ?, requester_id = ?,
                        owner_id = ?, version = ?, updated_at = ?, doc = ?
                    WHERE id = ? AND version = ?""",
                    handoff.case.number,
                    handoff.state.value,
                    handoff.target_region,
                    handoff.requester.id,
                    handoff.owner.id if handoff.owner else None,
                    handoff.version,
                    handoff.updated_at,
                    handoff.model_dump_json(),
                    handoff.id,
                    expected_version,
                )
            except UniqueViolation as error:
                raise DuplicateOpenHandoff(
                    f"Case {handoff.case.number} already has another open handoff; update that "
                    "one instead."
                ) from error
            if not updated:
                await self._explain_refused_save(tx, handoff, expected_version, claim)
            if claim is not None:
                await claim_key_in(tx, claim, self._clock)
            await insert_events(tx, events)
            await record_fact(tx, handoff, list(events))
            await enqueue_all_in(tx, outbox() if callable(outbox) else outbox, self._clock)

    async def _explain_refused_save(
        self, tx: Session, handoff: Handoff, expected_version: int, claim: str | None
    ) -> None:
        """Why nothing was updated, with the handoff as it is now (read in the transaction
        that found it changed): gone, changed by this very change's twin (its key is
        recorded), or changed by someone else."""
        row = await tx.fetch_one(
            """SELECT doc, (SELECT 1 FROM handled_keys WHERE key = ?) AS claimed
               FROM handoffs WHERE id = ?""",
            claim,
            handoff.id,
        )
        if row is None:
            raise NotFound(f"There is no handoff with id {handoff.id}.")
        current = Handoff.model_validate_json(row["doc"])
        if row["claimed"] is not None:
            raise AlreadyHandled(f"{claim} was handled before", current)
        raise ChangedMeanwhile(
            f"Someone else changed the handoff of case {handoff.case.number} since it was "
            f"loaded (version {expected_version}, now {current.version}); reload it and try "
            "again.",
            current,
        )

    async def open_for_case(self, case_number: str) -> Handoff | None:
        row = await self._db.fetch_one(
            f"SELECT doc FROM handoffs WHERE case_number = ? AND {IS_OPEN}", case_number
        )
        return None if row is None else Handoff.model_validate_json(row["doc"])

    async def list_open(
        self, target_region: str | None = None, limit: int = 100, after: Handoff | None = None
    ) -> list[Handoff]:
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        where = [IS_OPEN]
        params: list[SqlValue] = []
        if target_region is not None:
            where.append("target_region = ?")
            params.append(target_region)
        if after is not None:
            where.append("(created_at > ? OR (created_at = ? AND id > ?))")
            params += [after.created_at, after.created_at, after.id]
        rows = await self._db.fetch_all(
            f"SELECT doc FROM handoffs WHERE {' AND '.join(where)} ORDER BY created_at, id LIMIT ?",
            *params,
            limit,
        )
        return [Handoff.model_validate_json(row["doc"]) for row in rows]

    async def latest_for_case(self, case_number: str) -> Handoff | None:
        row = await self._db.fetch_one(
            f"""
            SELECT doc FROM handoffs WHERE case_number = ?
            ORDER BY CASE WHEN {IS_OPEN} THEN 0 ELSE 1 END, created_at DESC
            LIMIT 1""",
            case_number,
        )
        return Handoff.model_validate_json(row["doc"]) if row else None

    async def for_case(self, case_number: str) -> list[Handoff]:
        rows = await self._db.fetch_all(
            "SELECT doc FROM handoffs WHERE case_number = ? ORDER BY created_at, id", case_number
        )
        return [Handoff.model_validate_json(row["doc"]) for row in rows]

    async def involving(self, person_id: str, limit: int = 20) -> list[Handoff]:
        limit = max(limit, 0)
        rows = await self._db.fetch_all(
            INVOLVING, person_id, limit, person_id, person_id, limit, limit
        )
        return [Handoff.model_validate_json(row["doc"]) for row in rows]

    async def set_card(self, handoff_id: str, card: CardRef) -> None:
        await self._db.execute(
            """
            INSERT INTO handoff_cards (handoff_id, conversation_id, activity_id, updated_at)
            VALUES (?, ?, ?, ?)
            ON CONFLICT (handoff_id) DO UPDATE SET conversation_id = excluded.conversation_id,
                activity_id = excluded.activity_id, updated_at = excluded.updated_at""",
            handoff_id,
            card.conversation_id,
            card.activity_id,
            self._clock.now(),
        )

    async def card_of(self, handoff_id: str) -> CardRef | None:
        row = await self._db.fetch_one(
            "SELECT conversation_id, activity_id FROM handoff_cards WHERE handoff_id = ?",
            handoff_id,
        )
        return CardRef(**row) if row else None

    async def with_card(self, handoff_id: str) -> tuple[Handoff, CardRef | None]:
        row = await self._db.fetch_one(
            """
            SELECT handoffs.doc, handoff_cards.conversation_id, handoff_cards.activity_id
            FROM handoffs LEFT JOIN handoff_cards ON handoff_cards.handoff_id = handoffs.id
            WHERE handoffs.id = ?""",
            handoff_id,
        )
        if row is None:
            raise NotFound(f"There is no handoff with id {handoff_id}.")
        card = None
        if row["activity_id"] is not None:
            card = CardRef(conversation_id=row["conversation_id"], activity_id=row["activity_id"])
        return Handoff.model_validate_json(row["doc"]), card

    async def clicked(
        self,
        handoff_id: str,
        message_id: str | None,
        key: str | None,
        actor_id: str,
        *,
        whole_case: bool = False,
    ) -> Clicked:
        # The rows of the handoff (or of its whole case); what else a click needs comes as
        # columns of the same query, each one look-up of a key SQLite and PostgreSQL
        # evaluate once.
        which = (
            "case_number = (SELECT case_number FROM handoffs WHERE id = ?)"
            if whole_case
            else "id = ?"
        )
        rows = await self._db.fetch_all(
            f"""
            SELECT id, doc,
                (SELECT handoff_id FROM handoff_cards WHERE activity_id = ?) AS card_of_message,
                (SELECT 1 FROM handled_keys WHERE key = ?) AS pressed,
                (SELECT doc FROM user_settings WHERE user_id = ?) AS actor_settings
            FROM handoffs WHERE {which}
            ORDER BY created_at, id""",
            message_id,
            key,
            actor_id,
            handoff_id,
        )
        case = tuple(Handoff.model_validate_json(row["doc"]) for row in rows)
        clicked = next((h for h in case if h.id == handoff_id), None)
        if clicked is None:
            raise NotFound(f"There is no handoff with id {handoff_id}.")
        first = rows[0]
        settings = first["actor_settings"]
        return Clicked(
            handoff=clicked,
            card_of_message=first["card_of_message"],
            pressed=first["pressed"] is not None,
            actor_settings=UserSettings.model_validate_json(settings) if settings else None,
            case=case if whole_case else (),
        )

    async def handoff_of_card(self, activity_id: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT handoff_id FROM handoff_cards WHERE activity_id = ?", activity_id
        )
        return str(row["handoff_id"]) if row else None

    async def handoff_counts(self) -> dict[tuple[HandoffState, str], int]:
        rows = await self._db.fetch_all(
            "SELECT state, target_region, COUNT(*) AS n FROM handoffs GROUP BY state, target_region"
        )
        return {
            (HandoffState(row["state"]), str(row["target_region"])): int(row["n"]) for row in rows
        }

    async def purge_closed_cases(self, closed_before: datetime, limit: int) -> dict[str, int]:
        cutoff = as_utc(closed_before)
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(
                _EXPIRED_LOCKED[self._db.dialect], cutoff, cutoff, cutoff, max(limit, 0)
            )
            ids = [str(row["id"]) for row in rows]
            if not ids:
                return {"handoffs": 0, "handoff_events": 0, "handoff_cards": 0, "handoff_facts": 0}
            marks = ", ".join("?" for _ in ids)
            # The rows that reference a handoff go first (foreign keys).
            events = await delete_append_only(
                tx, f"DELETE FROM handoff_events WHERE handoff_id IN ({marks})", *ids
            )
            cards = await tx.execute(
                f"DELETE FROM handoff_cards WHERE handoff_id IN ({marks})", *ids
            )
            facts = await tx.execute(
                f"DELETE FROM handoff_facts WHERE handoff_id IN ({marks})", *ids
            )
            handoffs = await tx.execute(f"DELETE FROM handoffs WHERE id IN ({marks})", *ids)
        return {
            "handoffs": handoffs,
            "handoff_events": events,
            "handoff_cards": cards,
            "handoff_facts": facts,
        }

    async def history(self, handoff_id: str) -> list[AuditEvent]:
        rows = await self._db.fetch_all(
            "SELECT doc FROM handoff_events WHERE handoff_id = ? ORDER BY seq", handoff_id
        )
        return [AuditEvent.model_validate_json(row["doc"]) for row in rows]
