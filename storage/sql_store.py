"""The handoff repository, conversation store and outbox on SQL, one implementation for
SQLite and PostgreSQL (see storage.database)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from handoff.errors import ConcurrencyConflict, NotFound
from handoff.escalation import Escalation
from handoff.long_running import ChatMember, GroupChat, GroupChatState
from handoff.models import AuditEntry, AuditEvent, Handoff, as_utc
from handoff.ports import (
    AlreadyHandled,
    CardRef,
    Clock,
    ConversationAddress,
    ConversationKind,
    DuplicateOpenHandoff,
    KeysClaimed,
    OutboxItem,
    OutboxMessage,
    OutboxState,
)
from handoff.user_settings import UserSettings

from .audit_log import insert_audit_entry, latest_audit_entries
from .database import DEFAULT_TIMEOUT_SECONDS, Database, Dialect, Row, Session, open_database
from .errors import UniqueViolation
from .migrate import migrate

logger = logging.getLogger(__name__)

# Spelled exactly as in the partial indexes of the migrations: SQLite only uses a partial index
# when the query repeats its WHERE term.
_IS_OPEN = "state NOT IN ('accepted', 'cancelled')"

_MAX_ERROR_LENGTH = 4000

_OUTBOX_COLUMNS = (
    "id, kind, payload, dedupe_key, state, attempts, not_before, last_error, lane, sent_steps, "
    "sending"
)

# An item is due when its time has come, nobody holds its lease, and nothing earlier in its
# lane still waits to go out: an earlier item blocks once it is due or has been tried (a
# retry waiting for its backoff), not while it is merely planned for later (a reminder).
_DUE = """
    state = 'pending' AND not_before <= ? AND (lease_until IS NULL OR lease_until <= ?)
    AND (lane IS NULL OR NOT EXISTS (
        SELECT 1 FROM outbox AS earlier
        WHERE earlier.lane = outbox.lane AND earlier.state = 'pending'
          AND earlier.id < outbox.id AND (earlier.attempts > 0 OR earlier.not_before <= ?)
    ))"""

_CLAIM_TEMPLATE = f"""
        UPDATE outbox SET attempts = attempts + 1, lease_until = ?, updated_at = ?
        WHERE id IN (
            SELECT id FROM outbox
            WHERE {_DUE}
            ORDER BY not_before, id
            LIMIT ?
            {{lock}}
        )
        RETURNING {_OUTBOX_COLUMNS}"""
_CLAIM: dict[Dialect, str] = {
    # Inside the SQLite driver's serialized write transaction nobody else can claim meanwhile.
    "sqlite": _CLAIM_TEMPLATE.format(lock=""),
    # SKIP LOCKED: concurrent claimers on other connections pass over each other's rows
    # instead of waiting for them or claiming them twice.
    "postgresql": _CLAIM_TEMPLATE.format(lock="FOR UPDATE SKIP LOCKED"),
}


class SqlStore:
    """HandoffRepository, ConversationStore and Outbox (handoff.ports) on one Database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    @property
    def database(self) -> Database:
        """The underlying database, e.g. for storage.bot_state.SqlBotStorage."""
        return self._db

    async def ping(self) -> None:
        """Proves the database answers (the readiness probe); StorageUnavailable if not."""
        await self._db.fetch_one("SELECT 1 AS ok")

    async def close(self) -> None:
        await self._db.close()

    # -- HandoffRepository ------------------------------------------------------------------

    async def add(
        self,
        handoff: Handoff,
        events: Sequence[AuditEvent],
        outbox: Sequence[OutboxMessage] = (),
    ) -> None:
        _check_events(handoff, events)
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
            await _insert_events(tx, events)
            await self._enqueue_all(tx, outbox)

    async def _explain_refused_add(self, tx: Session, handoff: Handoff) -> None:
        if await tx.fetch_one("SELECT id FROM handoffs WHERE id = ?", handoff.id) is not None:
            raise ValueError(f"a handoff with id {handoff.id} is already stored")
        existing = await tx.fetch_one(
            f"SELECT id, state, created_at FROM handoffs WHERE case_number = ? AND {_IS_OPEN}",
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
        outbox: Sequence[OutboxMessage] = (),
        claim: str | None = None,
    ) -> None:
        if handoff.version <= expected_version:
            # Without a version bump a second writer's stale copy would still match.
            raise ValueError(
                f"saving handoff {handoff.id} needs a version above {expected_version}, "
                f"got {handoff.version}"
            )
        _check_events(handoff, events)
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
                current = await tx.fetch_one(
                    "SELECT version FROM handoffs WHERE id = ?", handoff.id
                )
                if current is None:
                    raise NotFound(f"There is no handoff with id {handoff.id}.")
                raise ConcurrencyConflict(
                    f"Someone else changed the handoff of case {handoff.case.number} since it "
                    f"was loaded (version {expected_version}, now {current['version']}); "
                    "reload it and try again."
                )
            if claim is not None:
                await self._claim_in(tx, claim)
            await _insert_events(tx, events)
            await self._enqueue_all(tx, outbox)

    async def open_for_case(self, case_number: str) -> Handoff | None:
        row = await self._db.fetch_one(
            f"SELECT doc FROM handoffs WHERE case_number = ? AND {_IS_OPEN}", case_number
        )
        return None if row is None else Handoff.model_validate_json(row["doc"])

    async def list_open(self, target_region: str | None = None, limit: int = 100) -> list[Handoff]:
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        if target_region is None:
            rows = await self._db.fetch_all(
                f"SELECT doc FROM handoffs WHERE {_IS_OPEN} ORDER BY created_at, id LIMIT ?",
                limit,
            )
        else:
            rows = await self._db.fetch_all(
                f"""SELECT doc FROM handoffs WHERE target_region = ? AND {_IS_OPEN}
                    ORDER BY created_at, id LIMIT ?""",
                target_region,
                limit,
            )
        return [Handoff.model_validate_json(row["doc"]) for row in rows]

    async def latest_for_case(self, case_number: str) -> Handoff | None:
        row = await self._db.fetch_one(
            f"""
            SELECT doc FROM handoffs WHERE case_number = ?
            ORDER BY CASE WHEN {_IS_OPEN} THEN 0 ELSE 1 END, created_at DESC
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
        rows = await self._db.fetch_all(
            """
            SELECT doc FROM (
                SELECT doc, updated_at, id FROM handoffs WHERE requester_id = ?
                UNION
                SELECT doc, updated_at, id FROM handoffs WHERE owner_id = ?
            ) AS mine
            ORDER BY updated_at DESC, id
            LIMIT ?""",
            person_id,
            person_id,
            limit,
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

    async def handoff_of_card(self, activity_id: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT handoff_id FROM handoff_cards WHERE activity_id = ?", activity_id
        )
        return str(row["handoff_id"]) if row else None

    # -- HandledKeys (idempotency) ----------------------------------------------------------

    async def claim_key(self, key: str) -> bool:
        return await self._insert_key(self._db, key)

    async def claim_keys(
        self, keys: Sequence[str], claimant: str, abandoned_after: timedelta
    ) -> KeysClaimed:
        keys = list(dict.fromkeys(keys))  # one row may not be upserted twice in a statement
        if not keys:
            return KeysClaimed()
        now = self._clock.now()
        try:
            # Not durable: a delivery's keys are claimed on every turn, and an fsync each time
            # would double the turn's disk waits. Whatever the turn then stores durably
            # flushes the claim with it; a turn that stores nothing (help, status) only gets
            # answered twice if the machine loses power before its redelivery comes.
            async with self._db.transaction(durable=False) as tx:
                # One statement for all the keys. A key seen before is taken over only when its
                # claim is pending and older than the bound; the row lock that ON CONFLICT DO
                # UPDATE takes makes a racing takeover see the winner's fresh claimed_at and
                # update nothing. RETURNING names the rows added or taken over.
                values = ", ".join("(?, ?, ?, 1, 1)" for _ in keys)
                rows = await tx.fetch_all(
                    f"""INSERT INTO handled_keys (key, claimed_at, claimed_by, pending, attempts)
                        VALUES {values}
                        ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at,
                            claimed_by = excluded.claimed_by,
                            attempts = handled_keys.attempts + 1
                        WHERE handled_keys.pending = 1 AND handled_keys.claimed_at < ?
                        RETURNING key, attempts""",
                    *(value for key in keys for value in (key, now, claimant)),
                    now - abandoned_after,
                )
                attempts = {row["key"]: row["attempts"] for row in rows}
                for key in keys:
                    if key not in attempts:
                        raise AlreadyHandled(key)  # rolls the others back
        except AlreadyHandled as repeated:
            key = str(repeated.args[0])
            row = await self._db.fetch_one("SELECT pending FROM handled_keys WHERE key = ?", key)
            in_progress = row is not None and bool(row["pending"])
            return KeysClaimed(repeated=key, in_progress=in_progress)
        return KeysClaimed(taken_over=frozenset(k for k, n in attempts.items() if n > 1))

    async def finish_keys(self, keys: Sequence[str], claimant: str) -> None:
        if not keys:
            return
        # Not durable, like the claim: losing it to a power cut leaves the claim pending, and
        # only a redelivery after the bound (Teams had no answer) would do the turn again.
        async with self._db.transaction(durable=False) as tx:
            await tx.execute(
                f"""UPDATE handled_keys SET pending = 0
                    WHERE key IN ({", ".join("?" for _ in keys)}) AND claimed_by = ?""",
                *keys,
                claimant,
            )

    async def key_claimed(self, key: str) -> bool:
        row = await self._db.fetch_one("SELECT 1 AS seen FROM handled_keys WHERE key = ?", key)
        return row is not None

    async def release_keys(self, keys: Sequence[str], claimant: str) -> None:
        if not keys:
            return
        await self._db.execute(
            f"""DELETE FROM handled_keys
                WHERE key IN ({", ".join("?" for _ in keys)}) AND claimed_by = ? AND pending = 1""",
            *keys,
            claimant,
        )

    async def forget_keys_before(self, cutoff: datetime) -> int:
        return await self._db.execute(
            "DELETE FROM handled_keys WHERE claimed_at < ?", as_utc(cutoff)
        )

    async def _insert_key(self, session: Session, key: str) -> bool:
        # The claim itself: of concurrent inserts (on any replica) exactly one adds the row.
        inserted = await session.execute(
            "INSERT INTO handled_keys (key, claimed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            key,
            self._clock.now(),
        )
        return inserted > 0

    async def _claim_in(self, tx: Session, key: str) -> None:
        if not await self._insert_key(tx, key):
            raise AlreadyHandled(f"{key} was handled before")

    # -- Group chats (R-LONG) ---------------------------------------------------------------

    async def plan_group_chat(self, chat: GroupChat) -> bool:
        """Records the chat to create; False if the case already has one planned or made."""
        now = self._clock.now()
        inserted = await self._db.execute(
            """
            INSERT INTO group_chats (case_number, topic, members, chat_id, state, last_error,
                                     created_at, updated_at)
            VALUES (?, ?, ?, NULL, ?, NULL, ?, ?)
            ON CONFLICT (case_number) DO NOTHING""",
            chat.case_number,
            chat.topic,
            json.dumps([m.model_dump() for m in chat.members]),
            chat.state.value,
            now,
            now,
        )
        return inserted > 0

    async def group_chat(self, case_number: str) -> GroupChat | None:
        row = await self._db.fetch_one(
            "SELECT * FROM group_chats WHERE case_number = ?", case_number
        )
        return _group_chat(row)

    async def group_chat_by_id(self, chat_id: str) -> GroupChat | None:
        row = await self._db.fetch_one("SELECT * FROM group_chats WHERE chat_id = ?", chat_id)
        return _group_chat(row)

    async def retry_group_chat(self, case_number: str) -> GroupChat | None:
        retried = await self._db.execute(
            """
            UPDATE group_chats
               SET state = CASE WHEN chat_id IS NULL THEN ? ELSE ? END, last_error = NULL,
                   updated_at = ?
             WHERE case_number = ? AND state = ?""",
            GroupChatState.REQUESTED.value,
            GroupChatState.CREATED.value,
            self._clock.now(),
            case_number,
            GroupChatState.FAILED.value,
        )
        return await self.group_chat(case_number) if retried else None

    async def update_group_chat(
        self,
        case_number: str,
        state: GroupChatState,
        *,
        chat_id: str | None = None,
        error: str | None = None,
    ) -> None:
        await self._db.execute(
            """
            UPDATE group_chats SET state = ?, chat_id = COALESCE(?, chat_id), last_error = ?,
                                   updated_at = ?
            WHERE case_number = ?""",
            state.value,
            chat_id,
            error,
            self._clock.now(),
            case_number,
        )

    # -- Escalations (R-ESC) ----------------------------------------------------------------

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
            await _insert_events(tx, events)
            await self._enqueue_all(tx, outbox)

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
                await self._claim_in(tx, claim)
            await _insert_events(tx, events)
            await self._enqueue_all(tx, outbox)

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

    # -- User settings ----------------------------------------------------------------------

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

    # -- SettingsStore ----------------------------------------------------------------------

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

    async def audit_entries(self, limit: int = 20) -> list[AuditEntry]:
        return await latest_audit_entries(self._db, limit)

    async def history(self, handoff_id: str) -> list[AuditEvent]:
        rows = await self._db.fetch_all(
            "SELECT doc FROM handoff_events WHERE handoff_id = ? ORDER BY seq", handoff_id
        )
        return [AuditEvent.model_validate_json(row["doc"]) for row in rows]

    # -- ConversationStore ------------------------------------------------------------------

    async def save_conversation(self, address: ConversationAddress) -> None:
        user = address.user
        await self._db.execute(
            """
            INSERT INTO conversations (conversation_id, kind, service_url, tenant_id, user_id,
                                       user_aad_id, team_id, channel_id, doc, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (conversation_id) DO UPDATE SET
                kind = excluded.kind, service_url = excluded.service_url,
                tenant_id = excluded.tenant_id, user_id = excluded.user_id,
                user_aad_id = excluded.user_aad_id, team_id = excluded.team_id,
                channel_id = excluded.channel_id, doc = excluded.doc,
                updated_at = excluded.updated_at""",
            address.conversation_id,
            address.kind.value,
            address.service_url,
            address.tenant_id,
            user.id if user else None,
            user.aad_object_id if user else None,
            address.team_id,
            address.channel_id,
            address.model_dump_json(),
            address.updated_at,
        )

    async def get_conversation(self, conversation_id: str) -> ConversationAddress | None:
        row = await self._db.fetch_one(
            "SELECT doc FROM conversations WHERE conversation_id = ?", conversation_id
        )
        return _conversation(row)

    async def personal_conversation(self, user_id: str) -> ConversationAddress | None:
        row = await self._db.fetch_one(
            """
            SELECT doc FROM conversations
            WHERE kind = ? AND (user_id = ? OR user_aad_id = ?)
            ORDER BY updated_at DESC LIMIT 1""",
            ConversationKind.PERSONAL.value,
            user_id,
            user_id,
        )
        return _conversation(row)

    async def channel_conversation(self, channel_id: str) -> ConversationAddress | None:
        # A reply thread in the channel is a conversation of its own with the same channel id;
        # the channel itself (conversation id == channel id) is preferred when both are known.
        row = await self._db.fetch_one(
            """
            SELECT doc FROM conversations
            WHERE kind = ? AND channel_id = ?
            ORDER BY CASE WHEN conversation_id = channel_id THEN 0 ELSE 1 END,
                     updated_at DESC
            LIMIT 1""",
            ConversationKind.CHANNEL.value,
            channel_id,
        )
        return _conversation(row)

    # -- Outbox -----------------------------------------------------------------------------

    async def enqueue(
        self, kind: str, payload: dict[str, Any], dedupe_key: str, not_before: datetime
    ) -> bool:
        message = OutboxMessage(
            kind=kind, payload=payload, dedupe_key=dedupe_key, not_before=not_before
        )
        return await self._enqueue(self._db, message)

    async def enqueue_message(self, message: OutboxMessage) -> bool:
        return await self._enqueue(self._db, message)

    async def _enqueue_all(self, session: Session, messages: Sequence[OutboxMessage]) -> None:
        for message in messages:
            await self._enqueue(session, message)

    async def _enqueue(self, session: Session, message: OutboxMessage) -> bool:
        now = self._clock.now()
        inserted = await session.execute(
            """
            INSERT INTO outbox (kind, payload, dedupe_key, state, attempts, not_before,
                                created_at, updated_at, lane)
            VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)
            ON CONFLICT (dedupe_key) DO NOTHING""",
            message.kind,
            json.dumps(message.payload),
            message.dedupe_key,
            OutboxState.PENDING.value,
            message.not_before,
            now,
            now,
            message.lane,
        )
        if not inserted:
            logger.debug(
                "outbox item was enqueued before; not adding it again",
                extra={"dedupe_key": message.dedupe_key},
            )
        return inserted > 0

    async def claim(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        if limit <= 0:
            return []
        if lease <= timedelta(0):
            raise ValueError(f"a lease must be positive, got {lease}")
        now = as_utc(now)
        # A plain read first: an idle poll then takes no write lock, which on SQLite would
        # hold up every other writer of the file a few times a second.
        due = await self._db.fetch_one(f"SELECT id FROM outbox WHERE {_DUE} LIMIT 1", now, now, now)
        if due is None:
            return []
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(
                _CLAIM[self._db.dialect], now + lease, self._clock.now(), now, now, now, limit
            )
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
        await self._db.execute(
            "UPDATE outbox SET sent_steps = ?, sending = NULL, updated_at = ? "
            "WHERE id = ? AND state = ?",
            json.dumps(list(steps)),
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
        )

    async def sent_in_lane(self, lane: str, since: datetime) -> set[str]:
        rows = await self._db.fetch_all(
            "SELECT sent_steps FROM outbox WHERE lane = ? AND updated_at >= ?", lane, as_utc(since)
        )
        return {step for row in rows for step in json.loads(row["sent_steps"] or "[]") if step}

    async def defer(self, item_id: int, at: datetime) -> None:
        await self._db.execute(
            """
            UPDATE outbox SET not_before = ?, lease_until = NULL, updated_at = ?,
                              attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
            WHERE id = ? AND state = ?""",
            as_utc(at),
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
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

    async def _finish(self, item_id: int, state: OutboxState, error: str | None) -> None:
        # Only a pending item moves on: a worker whose lease ran out must not undo the result
        # of the worker that re-claimed the item.
        changed = await self._db.execute(
            """
            UPDATE outbox SET state = ?, lease_until = NULL,
                              last_error = COALESCE(?, last_error), updated_at = ?
            WHERE id = ? AND state = ?""",
            state.value,
            None if error is None else error[:_MAX_ERROR_LENGTH],
            self._clock.now(),
            item_id,
            OutboxState.PENDING.value,
        )
        if not changed:
            logger.warning(
                "outbox item is not pending; not marking it",
                extra={"outbox_id": item_id, "state": state.value},
            )


def _check_events(handoff: Handoff, events: Sequence[AuditEvent]) -> None:
    strays = [event.id for event in events if event.handoff_id != handoff.id]
    if strays:
        raise ValueError(f"events {strays} do not belong to handoff {handoff.id}")


async def _insert_events(tx: Session, events: Sequence[AuditEvent]) -> None:
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


def _conversation(row: Row | None) -> ConversationAddress | None:
    return None if row is None else ConversationAddress.model_validate_json(row["doc"])


def _group_chat(row: Row | None) -> GroupChat | None:
    if row is None:
        return None
    return GroupChat(
        case_number=row["case_number"],
        topic=row["topic"],
        members=tuple(ChatMember(**m) for m in json.loads(row["members"])),
        chat_id=row["chat_id"],
        state=GroupChatState(row["state"]),
        last_error=row["last_error"],
    )


def _outbox_item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        dedupe_key=row["dedupe_key"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        not_before=row["not_before"],
        last_error=row["last_error"],
        lane=row["lane"],
        sent_steps=tuple(json.loads(row["sent_steps"] or "[]")),
        sending=row["sending"],
    )


async def open_store(
    url: str, clock: Clock, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> SqlStore:
    """Opens the database at `url` (see storage.database.open_database) and brings its schema
    up to date. ValueError for a malformed URL, StorageUnavailable if it cannot be used."""
    db = await open_database(url, timeout_seconds=timeout_seconds)
    try:
        await migrate(db, clock)
    except BaseException:
        await db.close()
        raise
    return SqlStore(db, clock)
