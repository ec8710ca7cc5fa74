"""Outbox (handoff.ports) on SQL: messages to send, written in the same transaction as the
change that causes them, then claimed, sent and finished by the outbox workers of any replica."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

import orjson

from handoff.models import as_utc
from handoff.ports import Clock, OutboxItem, OutboxMessage, OutboxState
from handoff.turn_ids import current_turn

from .sql_protocol import Dialect, Row, Session
from .store_base import StoreBase

logger = logging.getLogger(__name__)

_MAX_ERROR_LENGTH = 4000

_OUTBOX_COLUMNS = (
    "id, kind, payload, dedupe_key, state, attempts, not_before, last_error, lane, sent_steps, "
    "sending, turn_id"
)

# An item is due when its time has come, nobody holds its lease, and nothing earlier in its
# lane still waits to go out: an earlier item blocks once it is due, has been tried (a retry
# waiting for its backoff) or is held (leased: being sent, or put back for its conversation's
# pace), not while it is merely planned for later (a reminder). So of each lane only its head
# can be due: the first pending item that is due, tried or held. The heads are found by
# walking the lanes (one index seek per lane) rather than by testing every pending item
# against the items before it: a busy channel paced to 7 sends/s can have thousands waiting,
# and each claim would otherwise read them all. The walk of a lane stops at its first item
# (but for reminders planned ahead of it): a paced channel's head is held (see defer), so
# nothing behind it need be read, and nothing enqueued later overtakes it.
_HEADS = """
    WITH RECURSIVE lanes (lane) AS (
        SELECT (SELECT lane FROM outbox WHERE state = 'pending' AND lane IS NOT NULL
                ORDER BY lane LIMIT 1)
        UNION ALL
        SELECT (SELECT lane FROM outbox WHERE state = 'pending' AND lane > lanes.lane
                ORDER BY lane LIMIT 1)
        FROM lanes WHERE lanes.lane IS NOT NULL
    )
    SELECT (SELECT head.id FROM outbox AS head
            WHERE head.lane = lanes.lane AND head.state = 'pending'
              AND (head.attempts > 0 OR head.lease_until IS NOT NULL OR head.not_before <= ?)
            ORDER BY head.id LIMIT 1)
    FROM lanes WHERE lanes.lane IS NOT NULL
    UNION ALL
    SELECT id FROM outbox WHERE lane IS NULL AND state = 'pending'"""
# The later of its time and its lease: the item is due once that has passed. One expression,
# which no index serves, so that the due items are looked up from the heads: the items
# waiting behind a paced head are due by their time alone, and a planner that read them by
# time (PostgreSQL's did) would test every one of them against the heads.
_DUE_TEMPLATE = """
    SELECT id FROM outbox
    WHERE {of_heads} AND state = 'pending'
      AND {later}(not_before, COALESCE(lease_until, not_before)) <= ?"""
_DUE: dict[Dialect, str] = {
    "sqlite": _DUE_TEMPLATE.format(of_heads=f"id IN ({_HEADS})", later="max"),
    # The heads gathered first (once), then looked up by key.
    "postgresql": _DUE_TEMPLATE.format(of_heads=f"id = ANY(ARRAY({_HEADS}))", later="GREATEST"),
}
_CLAIM_TEMPLATE = """
        UPDATE outbox SET attempts = attempts + 1, lease_until = ?, updated_at = ?
        WHERE id IN (
            {due}
            ORDER BY not_before, id
            LIMIT ?
            {lock}
        )
        RETURNING {columns}"""
_CLAIM: dict[Dialect, str] = {
    # Inside the SQLite driver's serialized write transaction nobody else can claim meanwhile.
    "sqlite": _CLAIM_TEMPLATE.format(due=_DUE["sqlite"], lock="", columns=_OUTBOX_COLUMNS),
    # SKIP LOCKED: concurrent claimers on other connections pass over each other's rows
    # instead of waiting for them or claiming them twice.
    "postgresql": _CLAIM_TEMPLATE.format(
        due=_DUE["postgresql"], lock="FOR UPDATE SKIP LOCKED", columns=_OUTBOX_COLUMNS
    ),
}


class Enqueued:
    """Whether anything was added to the outbox within a `watching_enqueues` block (a
    transaction that then rolled back included: the worker then merely looks for nothing)."""

    def __init__(self) -> None:
        self.any = False


_WATCHING: ContextVar[Enqueued | None] = ContextVar("outbox_enqueued", default=None)


@contextlib.contextmanager
def watching_enqueues() -> Iterator[Enqueued]:
    """Notes whether the work inside the block (a turn) enqueues anything, so that the outbox
    worker is woken only then: a look at an idle outbox costs a round trip."""
    enqueued = Enqueued()
    token = _WATCHING.set(enqueued)
    try:
        yield enqueued
    finally:
        _WATCHING.reset(token)


# Rows per INSERT: a change's messages (a card update, a DM or two, a reminder, each SME told)
# go in one statement, far below either backend's limit on parameters.
_ROWS_PER_INSERT = 100


async def enqueue_all_in(
    session: Session, messages: Sequence[OutboxMessage], clock: Clock
) -> set[str]:
    """Adds `messages` in the caller's transaction, in their order, skipping those enqueued
    before: one statement (a round trip) for all of them. The dedupe keys of those added."""
    now, turn = clock.now(), current_turn()
    added: set[str] = set()
    for start in range(0, len(messages), _ROWS_PER_INSERT):
        batch = messages[start : start + _ROWS_PER_INSERT]
        rows = await session.fetch_all(
            f"""
            INSERT INTO outbox (kind, payload, dedupe_key, state, attempts, not_before,
                                created_at, updated_at, lane, turn_id)
            VALUES {", ".join("(?, ?, ?, ?, 0, ?, ?, ?, ?, ?)" for _ in batch)}
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING dedupe_key""",
            *(
                value
                for message in batch
                for value in (
                    message.kind,
                    orjson.dumps(message.payload).decode(),
                    message.dedupe_key,
                    OutboxState.PENDING.value,
                    message.not_before,
                    now,
                    now,
                    message.lane,
                    turn,
                )
            ),
        )
        added |= {row["dedupe_key"] for row in rows}
    if added and (watching := _WATCHING.get()) is not None:
        watching.any = True
    for message in messages:
        if message.dedupe_key not in added:
            logger.debug(
                "outbox item was enqueued before; not adding it again",
                extra={"dedupe_key": message.dedupe_key},
            )
    return added


async def enqueue_in(session: Session, message: OutboxMessage, clock: Clock) -> bool:
    """Adds `message`; False if one with its dedupe key was enqueued before."""
    return message.dedupe_key in await enqueue_all_in(session, [message], clock)


class SqlOutbox(StoreBase):
    # Whether this process's last claim took anything.
    _claimed_any = False

    async def enqueue(
        self, kind: str, payload: dict[str, Any], dedupe_key: str, not_before: datetime
    ) -> bool:
        message = OutboxMessage(
            kind=kind, payload=payload, dedupe_key=dedupe_key, not_before=not_before
        )
        return await enqueue_in(self._db, message, self._clock)

    async def enqueue_message(self, message: OutboxMessage) -> bool:
        return await enqueue_in(self._db, message, self._clock)

    async def claim(
        self, now: datetime, limit: int, lease: timedelta, *, expected: bool = False
    ) -> list[OutboxItem]:
        if limit <= 0:
            return []
        if lease <= timedelta(0):
            raise ValueError(f"a lease must be positive, got {lease}")
        now = as_utc(now)
        # A plain read first: an idle poll then takes no write lock, which on SQLite would
        # hold up every other writer of the file a few times a second. Not right after a
        # claim that took something: while the outbox is busy more is most likely due (the
        # next item of each lane), and the read costs as much as the claim; the first claim
        # that finds nothing makes the polls read first again. Nor when the caller knows
        # something is due.
        if not (self._claimed_any or expected):
            due = await self._db.fetch_one(f"{_DUE[self._db.dialect]} LIMIT 1", now, now)
            if due is None:
                return []
        # One statement, and not waiting for the disk: a claim lost to a power cut took
        # nothing but a lease and an attempt, and the durable "about to send" entry
        # (begin_send) before any send of the item writes it to the disk first (the log is
        # written in order).
        rows = await self._db.write_alone(
            _CLAIM[self._db.dialect],
            now + lease,
            self._clock.now(),
            now,
            now,
            limit,
            durable=False,
        )
        self._claimed_any = bool(rows)
        items = [_outbox_item(row) for row in rows]
        # RETURNING gives no order; hand items out in the order they were due.
        items.sort(key=lambda item: (item.not_before, item.id))
        return items

    async def complete(self, item_id: int) -> None:
        await self._finish(item_id, OutboxState.DONE, None)

    async def retry_later(self, item_id: int, at: datetime, error: str) -> None:
        changed = await self._db.execute(
            """
            UPDATE outbox SET not_before = ?, lease_until = NULL, last_error = ?, updated_at = ?
            WHERE id = ? AND state = ?""",
            as_utc(at),
            error[:_MAX_ERROR_LENGTH],
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
        )
        if not changed:
            logger.warning(
                "outbox item is not pending; not rescheduling it", extra={"outbox_id": item_id}
            )

    async def give_up(self, item_id: int, error: str) -> None:
        await self._finish(item_id, OutboxState.DEAD, error)
        logger.warning(
            "outbox item moved to the dead letters", extra={"outbox_id": item_id, "error": error}
        )

    async def dead_letters(self, limit: int = 100) -> list[OutboxItem]:
        rows = await self._db.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE state = ? "
            "ORDER BY updated_at DESC, id DESC LIMIT ?",
            OutboxState.DEAD.value,
            max(limit, 0),
        )
        return [_outbox_item(row) for row in rows]

    async def begin_send(self, item_id: int, sending: str) -> None:
        await self._db.execute(
            "UPDATE outbox SET sending = ?, updated_at = ? WHERE id = ? AND state = ?",
            sending,
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
        )

    async def record_steps(self, item_id: int, steps: Sequence[str]) -> None:
        # Not durable: a result lost to a power cut leaves its send in doubt, as the durable
        # begin_send before it says, and the worker then asks whether it arrived
        # (outbox/worker.py) before sending it again.
        await self._db.write_alone(
            "UPDATE outbox SET sent_steps = ?, sending = NULL, updated_at = ? "
            "WHERE id = ? AND state = ?",
            orjson.dumps(list(steps)).decode(),
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
            durable=False,
        )

    async def sent_in_lane(self, lane: str, since: datetime) -> set[str]:
        rows = await self._db.fetch_all(
            "SELECT sent_steps FROM outbox WHERE lane = ? AND updated_at >= ?", lane, as_utc(since)
        )
        return {step for row in rows for step in orjson.loads(row["sent_steps"] or "[]") if step}

    async def defer(self, item_id: int, at: datetime) -> None:
        # Not durable: lost to a power cut, the item is merely tried (and paced) again sooner.
        # Its attempt is given back, and it is held until `at` (leased to nobody) so that it
        # still heads its lane: the items behind it, and those enqueued later, wait for it
        # without a write to each of them.
        at = as_utc(at)
        await self._db.write_alone(
            """
            UPDATE outbox SET not_before = ?, lease_until = ?,
                              attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                              updated_at = ?
            WHERE id = ? AND state = ?""",
            at,
            at,
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
            durable=False,
        )

    async def revive(self, item_id: int) -> bool:
        now = self._clock.now()
        changed = await self._db.execute(
            """
            UPDATE outbox SET state = ?, attempts = 0, not_before = ?, lease_until = NULL,
                              updated_at = ?
            WHERE id = ? AND state = ?""",
            OutboxState.PENDING.value,
            now,
            now,
            item_id,
            OutboxState.DEAD.value,
        )
        if changed:
            logger.warning(
                "outbox item taken out of the dead letters to try again",
                extra={"outbox_id": item_id},
            )
        return changed > 0

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._db.fetch_all("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        counts = {state.value: 0 for state in OutboxState}
        counts.update({str(row["state"]): int(row["n"]) for row in rows})
        return counts

    async def outbox_states(self, dedupe_keys: Sequence[str]) -> dict[str, OutboxState]:
        if not dedupe_keys:
            return {}
        marks = ", ".join("?" for _ in dedupe_keys)
        rows = await self._db.fetch_all(
            f"SELECT dedupe_key, state FROM outbox WHERE dedupe_key IN ({marks})", *dedupe_keys
        )
        return {str(row["dedupe_key"]): OutboxState(row["state"]) for row in rows}

    async def purge_finished(self, before: datetime, limit: int) -> int:
        cutoff = as_utc(before)
        # The outer conditions again: an item revived (made pending) meanwhile is looked at
        # again as it is now on PostgreSQL, and kept.
        return await self._db.execute(
            """
            DELETE FROM outbox
            WHERE id IN (
                SELECT id FROM outbox
                WHERE state IN ('done', 'dead') AND updated_at < ?
                ORDER BY updated_at
                LIMIT ?)
              AND state IN ('done', 'dead') AND updated_at < ?""",
            cutoff,
            max(limit, 0),
            cutoff,
        )

    async def _finish(self, item_id: int, state: OutboxState, error: str | None) -> None:
        # Only a pending item moves on: a worker whose lease ran out must not undo the result
        # of the worker that re-claimed the item.
        # Done need not wait for the disk: lost to a power cut, the item runs again and finds
        # its sends recorded, or in doubt (see record_steps). A dead letter does wait.
        changed = await self._db.write_alone(
            """
            UPDATE outbox SET state = ?, lease_until = NULL,
                              last_error = COALESCE(?, last_error), updated_at = ?
            WHERE id = ? AND state = ?
            RETURNING id""",
            state.value,
            None if error is None else error[:_MAX_ERROR_LENGTH],
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
            durable=state is not OutboxState.DONE,
        )
        if not changed:
            logger.warning(
                "outbox item is not pending; not marking it",
                extra={"outbox_id": item_id, "state": state.value},
            )


def _outbox_item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        kind=row["kind"],
        payload=orjson.loads(row["payload"]),
        dedupe_key=row["dedupe_key"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        not_before=row["not_before"],
        last_error=row["last_error"],
        lane=row["lane"],
        sent_steps=tuple(orjson.loads(row["sent_steps"] or "[]")),
        sending=row["sending"],
        turn_id=row["turn_id"],
    )
