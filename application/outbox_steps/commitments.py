"""R-CUSTOMER: the customer's next contact reminded to whoever has the case, before it is due.

The reminders are written with the handoff's changes (handoff/notes/commitment.py says which),
so each is one outbox item, claimed by one bot process however many share the database; this
step asks, when one comes due, whether it still holds (same promised time, same holder, the
case's latest handoff, not cancelled) and sends it to that person's personal chat, in their
language, with the time in their zone. Not silenced by `settings mute`: like R-STAY's
reminders, it is about a customer waiting, not the person's own day."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from application.outbox_steps.reader_language import speaking_to
from application.outbox_steps.sender import Sender, personal_chat
from application.reader import DEFAULT_ZONE
from application.request import Card
from cards.commitment_card import commitment_card
from handoff.effects import OutboxKind
from handoff.errors import NotFound
from handoff.models import Handoff, Person
from handoff.notes.commitment import why_not_remind
from handoff.ports import Clock, ConversationStore, HandoffRepository, OutboxItem, UserSettingsStore
from handoff.schedule import Schedule
from i18n import _
from outbox.failures import PermanentFailure
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)


class Store(HandoffRepository, ConversationStore, UserSettingsStore, Protocol):
    pass


class CommitmentReminders:
    def __init__(self, store: Store, sender: Sender, clock: Clock, schedule: Schedule) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._schedule = schedule

    def table(self) -> dict[str, Handler]:
        return {OutboxKind.COMMITMENT_REMINDER: self.remind}

    async def remind(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        person = Person.model_validate(item.payload["person"])
        where = {"handoff_id": item.payload["handoff_id"], "person": person.id}
        try:
            handoff = await self._store.get(item.payload["handoff_id"])
        except NotFound:
            log.info("commitment reminder not sent: the case was purged", extra=where)
            return
        latest = await self._store.latest_for_case(handoff.case.number)
        promised_at = datetime.fromisoformat(item.payload["contact_at"])
        why_not = why_not_remind(handoff, person, promised_at, latest.id if latest else None)
        if why_not is not None:
            log.info("commitment reminder not sent", extra={**where, "reason": why_not})
            return
        address = await personal_chat(self._store, person)
        if address is None:
            # A dead letter: the admins hear of it, and `outbox` shows whose reminder it was.
            raise PermanentFailure(
                f"no personal chat with {person.name or person.id} for the reminder of case "
                f"{handoff.case.number}'s customer contact: they have not installed the bot"
            )
        async with speaking_to(self._store, person, address):
            zone, note = await self.zone(person, handoff)
            card = commitment_card(handoff, self._clock.now(), zone, note)
        await self._sender.send(address.reference, Card(card), journal)
        log.info("commitment reminder sent", extra={**where, "case": handoff.case.number})

    async def zone(self, person: Person, handoff: Handoff) -> tuple[str, str]:
        """The zone to show `person` the time in, and, unless they saved it themselves, a note
        saying which zone that is and how to choose theirs: their saved zone; else the shift
        zone of their saved region, or of the region they hold the case in; else UTC."""
        settings = await self._store.user_settings(person.id)
        if settings is not None and settings.timezone:
            return settings.timezone, ""
        region = settings.region if settings is not None and settings.region else None
        region = region or (handoff.target_region if handoff.owner else handoff.from_region)
        shift = self._schedule.shift_of(region)
        if shift is None:
            return DEFAULT_ZONE, _(
                "Times for you are in {zone}, UTC: you have not saved a time zone. Type "
                "**settings zone** and yours, e.g. **settings zone Europe/Berlin**, to see them "
                "in it."
            ).format(zone=DEFAULT_ZONE)
        # Translators: {zone} is a time zone name (America/Chicago), {region} a region's code.
        return shift.timezone, _(
            "Times for you are in {zone}, the {region} shift's zone: you have not saved a time "
            "zone. Type **settings zone** and yours, e.g. **settings zone Europe/Berlin**, to "
            "see them in it."
        ).format(zone=shift.timezone, region=region)
