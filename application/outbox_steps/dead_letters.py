"""Dead letters reach people: whenever an outbox item is given up, the bot's admins (the
leads and BOT_ADMINS) hear of it in their personal chat, at most once an hour each, with what
is dead and the `outbox retry` command. A report is made of what is dead when it is sent, so
items that die while one waits are in it; one that dies after this hour's was sent gets the
next hour's."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from handoff import effects
from handoff.effects import DEAD_LETTER_WINDOW, OutboxKind
from handoff.models import Person
from handoff.ports import (
    Clock,
    ConversationStore,
    Outbox,
    OutboxItem,
    OutboxState,
    UserSettingsStore,
)
from i18n import _
from outbox.failures import PermanentFailure
from outbox.worker import Handler, SendJournal

from ..outbox_admin import overview
from .reader_language import speaking_to
from .sender import Sender, personal_chat

log = logging.getLogger(__name__)


def intro() -> str:
    return _("Some of my outbox items could not be delivered and are dead letters now.")


class Store(Outbox, ConversationStore, UserSettingsStore, Protocol):
    pass


class DeadLetterReports:
    def __init__(
        self, store: Store, sender: Sender, clock: Clock, admins: Sequence[Person]
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._admins = tuple(admins)

    def table(self) -> dict[str, Handler]:
        return {OutboxKind.REPORT_DEAD_LETTERS: self.report}

    def on_dead(self) -> dict[str, Handler]:
        # Not for a report itself: an admin who cannot be reached would start a report an hour
        # about the report that could not reach them.
        return {
            kind: self.died for kind in OutboxKind if kind is not OutboxKind.REPORT_DEAD_LETTERS
        }

    async def died(self, item: OutboxItem, _journal: SendJournal | None = None) -> None:
        now = self._clock.now()
        for admin in self._admins:
            report = effects.dead_letter_report(admin, now)
            states = await self._store.outbox_states([report.dedupe_key])
            state = states.get(report.dedupe_key)
            if state is OutboxState.PENDING:
                continue  # this hour's report is still to go, and will list this item
            if state is not None:
                report = effects.dead_letter_report(admin, now + DEAD_LETTER_WINDOW)
            await self._store.enqueue_message(report)
        log.warning("admins told of a dead letter", extra={"outbox_id": item.id, "kind": item.kind})

    async def report(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        admin = Person.model_validate(item.payload["person"])
        address = await personal_chat(self._store, admin)
        if address is None:
            raise PermanentFailure(
                f"no personal chat with the admin {admin.name or admin.id}: they have not "
                "installed the bot"
            )
        async with speaking_to(self._store, admin, address):
            text = f"{intro()}\n\n{await overview(self._store)}"
        await self._sender.send(address.reference, text, journal)
