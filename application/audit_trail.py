"""`audit` for the leads and the bot's admins: the latest audited changes that belong to no
handoff (the Case Transfer channel bound, a person's settings changed), newest first, with who
and when in the reader's zone. A case's own steps (its escalations included) are in its history
(`status <case>`). Shown in a personal chat only: a channel would show it to everyone there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from botbuilder.core import MessageFactory, TurnContext

from application import messages
from application.commands import ParsedCommand
from handoff.access import log_refusal
from handoff.models import Person
from handoff.ports import AuditLog, ConversationKind, UserSettingsStore
from teams.conversations import actor_of, conversation_kind, reader_zone

SHOWN_ENTRIES = 20


class Store(AuditLog, UserSettingsStore, Protocol):
    pass


class AuditTrail:
    def __init__(self, store: Store, is_admin: Callable[[Person], bool]) -> None:
        self._store = store
        self._is_admin = is_admin

    async def command(self, turn_context: TurnContext, _command: ParsedCommand) -> None:
        actor = actor_of(turn_context.activity)
        if not self._is_admin(actor):
            log_refusal("audit refused", "not an admin", "audit", actor)
            await turn_context.send_activity(messages.AUDIT_NOT_ALLOWED)
            return
        if conversation_kind(turn_context.activity) is not ConversationKind.PERSONAL:
            await turn_context.send_activity(messages.AUDIT_IN_PERSONAL_CHAT)
            return
        entries = await self._store.audit_entries(SHOWN_ENTRIES)
        zone = await reader_zone(self._store, turn_context.activity)
        await turn_context.send_activity(MessageFactory.text(messages.audit_trail(entries, zone)))
