"""ConversationStore (handoff.ports) on SQL: where the bot can reach a person, a channel or a
chat, remembered from the activities it receives."""

from __future__ import annotations

from datetime import datetime

from handoff.models import as_utc
from handoff.ports import ConversationAddress, ConversationKind

from .sql_protocol import Row
from .store_base import StoreBase


class SqlConversationStore(StoreBase):
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

    async def team_of_bound_channel(self, setting: str, configured_channel: str) -> str | None:
        # channel_conversation's choice, of the channel the setting names (an empty one names
        # none), read together: every click's access check asks it.
        row = await self._db.fetch_one(
            """
            SELECT team_id FROM conversations
            WHERE kind = ? AND channel_id = COALESCE(
                NULLIF((SELECT value FROM bot_settings WHERE key = ?), ''), ?)
            ORDER BY CASE WHEN conversation_id = channel_id THEN 0 ELSE 1 END,
                     updated_at DESC
            LIMIT 1""",
            ConversationKind.CHANNEL.value,
            setting,
            configured_channel,
        )
        return str(row["team_id"]) if row and row["team_id"] else None

    async def purge_idle_dialogs(self, before: datetime, limit: int) -> int:
        # The dialog state of storage/bot_state.py: a handoff being typed in holds its case's
        # notes there until it is sent. Untouched since the cutoff, it is abandoned; whoever
        # comes back starts afresh. The addresses (conversations) stay: people are still
        # reachable.
        cutoff = as_utc(before)
        return await self._db.execute(
            """
            DELETE FROM bot_state
            WHERE key IN (SELECT key FROM bot_state WHERE updated_at < ? LIMIT ?)
              AND updated_at < ?""",
            cutoff,
            max(limit, 0),
            cutoff,
        )


def _conversation(row: Row | None) -> ConversationAddress | None:
    return None if row is None else ConversationAddress.model_validate_json(row["doc"])
