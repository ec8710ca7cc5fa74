"""Reminders that make the process happen on time (issue: shifts, meetings and reminders),
planned ahead into the outbox: its unique keys and its claims make each reminder go out once
however many bot processes share the database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from application.channel import case_transfer_channel
from application.outbox_steps.follow_ups import Store, owned_open_cases
from application.outbox_steps.reader_language import speaking_to
from application.outbox_steps.sender import Sender
from application.request import Card
from cards.transfer_card import agenda_card, shift_end_card
from handoff import effects
from handoff.effects import OutboxKind
from handoff.models import Person
from handoff.ports import Clock, OutboxItem
from handoff.schedule import Schedule
from handoff.shifts import agenda
from handoff.user_settings import SHIFT_END_NOTICE, shift_end
from i18n import speaking
from i18n.languages import ENGLISH
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)

# The agenda reaches the Case Transfer channel this long before the meeting.
AGENDA_NOTICE = timedelta(minutes=15)


class ReminderHandlers:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        clock: Clock,
        schedule: Schedule,
        *,
        configured_channel: str,
        also_plan: Sequence[Callable[[datetime], Awaitable[None]]] = (),
        team_language: str = ENGLISH.code,
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._schedule = schedule
        self._configured_channel = configured_channel
        # The agenda is the team's, in its language (case_transfer.language).
        self._team_language = team_language
        # Other plans made in the same rounds (the weekly digest).
        self._also_plan = tuple(also_plan)

    def table(self) -> dict[str, Handler]:
        return {
            OutboxKind.PLAN_REMINDERS: self.plan,
            OutboxKind.SHIFT_END_REMINDER: self.shift_end,
            OutboxKind.MEETING_AGENDA: self.meeting_agenda,
        }

    async def start(self) -> None:
        """Makes sure a planning round is due; every process may call it, one round runs."""
        await self._store.enqueue_message(effects.plan_reminders(self._clock.now()))

    async def plan(self, _item: OutboxItem, _journal: SendJournal | None = None) -> None:
        now = self._clock.now()
        # The next round first, so a failure below cannot stop the planning for good.
        await self._store.enqueue_message(effects.plan_reminders(now + effects.PLANNING_INTERVAL))
        for settings in await self._store.reminded_users():
            end = shift_end(settings, self._schedule, now)
            if end is not None:
                await self._store.enqueue_message(
                    effects.shift_end_reminder(settings.person, end, end - SHIFT_END_NOTICE)
                )
        for region in self._schedule.travel_order:
            meeting = self._schedule.next_meeting(region, now)
            if meeting is not None:
                at = meeting.at - AGENDA_NOTICE
                await self._store.enqueue_message(effects.meeting_agenda(region, meeting.at, at))
        for planner in self._also_plan:
            await planner(now)

    async def shift_end(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        person = Person.model_validate(item.payload["person"])
        settings = await self._store.user_settings(person.id)
        if settings is None or settings.muted:
            return
        end = datetime.fromisoformat(item.payload["shift_end"])
        # Hours changed since this reminder was planned: the new plan has its own reminder.
        planned_at = end - SHIFT_END_NOTICE - timedelta(seconds=1)
        if shift_end(settings, self._schedule, planned_at) != end:
            return
        cases = [h for h in await owned_open_cases(self._store, person.id) if h.case.is_critical]
        if not cases:
            return
        address = await self._store.personal_conversation(person.id)
        if address is None:
            return
        async with speaking_to(self._store, person, address):
            card = Card(shift_end_card(cases, end))
        await self._sender.send(address.reference, card, journal)

    async def meeting_agenda(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        channel_id = await case_transfer_channel(self._store, self._configured_channel)
        address = await self._store.channel_conversation(channel_id) if channel_id else None
        if address is None:
            log.info("no Case Transfer channel for the agenda")
            return
        meeting = self._schedule.next_meeting(
            item.payload["from_region"],
            datetime.fromisoformat(item.payload["meeting_at"]) - timedelta(seconds=1),
        )
        if meeting is None:
            return
        handoffs = agenda(await self._store.list_open(None, limit=200), meeting)
        with speaking(self._team_language):
            card = Card(agenda_card(meeting, handoffs))
        await self._sender.send(address.reference, card, journal)
