"""`audit` for the leads and the bot's admins: the latest audited changes that belong to no
handoff (the Case Transfer channel bound, a person's settings changed), newest first, with who
and when in the reader's zone. A case's own steps (its escalations included) are in its history
(`status <case>`). Shown in a personal chat only: a channel would show it to everyone there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from handoff.access import log_refusal
from handoff.models import Person
from handoff.ports import AuditLog, UserSettingsStore

from . import messages
from .reader import reader_zone
from .request import Reply, Request

SHOWN_ENTRIES = 20


class Store(AuditLog, UserSettingsStore, Protocol):
    pass


class AuditTrail:
    def __init__(self, store: Store, is_admin: Callable[[Person], bool]) -> None:
        self._store = store
        self._is_admin = is_admin

    async def audit(self, request: Request) -> Reply:
        actor = request.actor
        if not self._is_admin(actor):
            log_refusal("audit refused", "not an admin", "audit", actor)
            return [messages.audit_not_allowed()]
        if not request.conversation.personal:
            return [messages.audit_in_personal_chat()]
        entries = await self._store.audit_entries(SHOWN_ENTRIES)
        zone = await reader_zone(self._store, request)
        return [messages.audit_trail(entries, zone)]
