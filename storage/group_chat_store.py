"""GroupChatStore (handoff.ports) on SQL: the group chat of a long-running case, from planned
to created, installed and posted (or failed, and retried from where it stopped)."""

from __future__ import annotations

import json
from datetime import datetime

from handoff import effects
from handoff.effects import OutboxKind
from handoff.long_running import ChatMember, GroupChat, GroupChatState
from handoff.models import as_utc
from handoff.ports import OutboxState

from .sql_protocol import Row
from .store_base import StoreBase

# The steps that make a case's chat, once per case (a retry's steps have keys of their own).
_CHAT_STEPS = (
    OutboxKind.CREATE_GROUP_CHAT,
    OutboxKind.INSTALL_CHAT_APP,
    OutboxKind.POST_CHAT_SUMMARY,
)
# Retention: a chat unchanged since the cutoff whose case has no handoff left.
_EXPIRED = """updated_at < ? AND NOT EXISTS (
    SELECT 1 FROM handoffs WHERE handoffs.case_number = group_chats.case_number)"""


class SqlGroupChatStore(StoreBase):
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

    async def purge_group_chats(self, before: datetime, limit: int) -> dict[str, int]:
        cutoff = as_utc(before)
        async with self._db.transaction() as tx:
            # Only once the case's handoffs are gone (purge_closed_cases); the outer terms again
            # so that, on PostgreSQL, a chat changed meanwhile is looked at as it is now.
            rows = await tx.fetch_all(
                f"""
                DELETE FROM group_chats
                WHERE case_number IN (
                    SELECT case_number FROM group_chats WHERE {_EXPIRED} LIMIT ?)
                  AND {_EXPIRED}
                RETURNING case_number""",
                cutoff,
                max(limit, 0),
                cutoff,
            )
            cases = [str(row["case_number"]) for row in rows]
            if not cases:
                return {"group_chats": 0, "outbox": 0}
            # The chat's steps are keyed by its case: they go with it, so that a case that comes
            # back one day gets a chat made again instead of finding the key used.
            keys = [
                effects.group_chat_step(kind, case, cutoff).dedupe_key
                for case in cases
                for kind in _CHAT_STEPS
            ]
            steps = await tx.execute(
                f"""DELETE FROM outbox WHERE dedupe_key IN ({", ".join("?" for _ in keys)})
                    AND state <> ?""",
                *keys,
                OutboxState.PENDING.value,
            )
        return {"group_chats": len(cases), "outbox": steps}


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
