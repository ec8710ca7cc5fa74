"""Where cases stand (R-STATUS): `status`, `list`, `mine`, `agenda`, `shifts`, `settings`, and
`setup` of the Case Transfer channel. The same words work as an @mention in a channel and in a
personal chat. The long-running commands are in application/long_running.py."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import MessageFactory, TurnContext

from application import messages
from application.access import TurnAccess
from application.commands import ParsedCommand
from application.outbox_steps.follow_ups import CASE_TRANSFER_CHANNEL, Store
from cards.transfer_card import agenda_card, handoff_card, handoff_list_card
from dialogs.form_flow import client_timezone
from dialogs.handoff_draft import case_number_from
from handoff import effects
from handoff.models import AuditEntry, AuditKind
from handoff.notes.template import format_in_zone
from handoff.ports import Clock, ConversationKind
from handoff.schedule import Schedule, check_zone
from handoff.shifts import agenda, overview
from handoff.user_settings import UserSettings, changes, parse_hours
from teams.card_messages import card_activity
from teams.conversations import (
    actor_of,
    address_of,
    channel_names,
    conversation_kind,
    reader_zone,
)

log = logging.getLogger(__name__)

LIST_LIMIT = 25


class StatusCommands:
    def __init__(
        self,
        store: Store,
        schedule: Schedule,
        clock: Clock,
        *,
        access: TurnAccess,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self._access = access
        self._wake_outbox = wake_outbox

    def table(self) -> dict[str, Callable[[TurnContext, ParsedCommand], Awaitable[None]]]:
        return {
            "status": self.status,
            "list": self.list_open,
            "mine": self.mine,
            "agenda": self.agenda,
            "setup": self.setup,
            "shifts": self.shifts,
            "settings": self.settings,
        }

    async def _region(
        self, turn_context: TurnContext, command: ParsedCommand
    ) -> tuple[bool, str | None]:
        """The region named after the command, if any; (False, None) after telling the user
        that the word is not a region."""
        if not command.args:
            return True, None
        region = command.args[0].upper()
        if region in self._schedule.travel_order:
            return True, region
        regions = self._schedule.travel_order
        await turn_context.send_activity(messages.unknown_region(command.args[0], regions))
        return False, None

    async def status(self, turn_context: TurnContext, command: ParsedCommand) -> None:
        number = case_number_from("".join(command.args)) if command.args else None
        if number is None:
            await turn_context.send_activity(messages.STATUS_USAGE)
            return
        handoff = await self._store.latest_for_case(number)
        refusal = await self._access.read(turn_context, handoff, case=number)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        if handoff is None:
            await turn_context.send_activity(messages.no_handoff_for(number))
            return
        history = await self._store.history(handoff.id)
        viewer = self._access.viewer(turn_context, handoff)
        card = handoff_card(handoff, history=history, viewer=viewer)
        await turn_context.send_activity(card_activity(card))

    async def list_open(self, turn_context: TurnContext, command: ParsedCommand) -> None:
        known, region = await self._region(turn_context, command)
        if not known:
            return
        refusal = await self._access.see_open(turn_context)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        handoffs = await self._store.list_open(region, limit=LIST_LIMIT)
        title = f"Open handoffs to {region}" if region else "Open handoffs"
        card = handoff_list_card(title, handoffs, "None: every handoff has an owner.")
        await turn_context.send_activity(card_activity(card))

    async def mine(self, turn_context: TurnContext, _command: ParsedCommand) -> None:
        refusal = await self._access.show_own(turn_context)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        # Only the person's own: each is theirs to see (the read policy's people of a handoff).
        handoffs = await self._store.involving(actor_of(turn_context.activity).id, limit=LIST_LIMIT)
        card = handoff_list_card(
            "Handoffs you requested or took", handoffs, "None yet: type **handoff** to start one."
        )
        await turn_context.send_activity(card_activity(card))

    async def agenda(self, turn_context: TurnContext, command: ParsedCommand) -> None:
        known, region = await self._region(turn_context, command)
        if not known:
            return
        refusal = await self._access.see_open(turn_context)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        now = self._clock.now()
        if region is None:
            on_shift = self._schedule.regions_on_shift(now)
            region = on_shift[0] if on_shift else self._schedule.travel_order[0]
        meeting = self._schedule.next_meeting(region, now)
        if meeting is None:
            await turn_context.send_activity(messages.no_meeting(region))
            return
        handoffs = agenda(await self._store.list_open(None, limit=200), meeting)
        await turn_context.send_activity(card_activity(agenda_card(meeting, handoffs)))

    async def shifts(self, turn_context: TurnContext, _command: ParsedCommand) -> None:
        """Who is on now, and each region's next shift and meeting, in the reader's zone."""
        zone = await reader_zone(self._store, turn_context.activity)
        now = self._clock.now()
        lines = [f"**Shifts and handoff meetings** (times in {zone})", ""]
        for row in overview(self._schedule, now):
            if row.current is not None:
                state = f"on shift until {format_in_zone(row.current.end, zone)}"
            elif row.next_start is not None:
                state = f"off; next shift {format_in_zone(row.next_start.start, zone)}"
            else:
                state = "no shift configured"
            meeting = row.next_meeting
            held = (
                f"; next meeting → {', '.join(meeting.meeting.to_regions)} "
                f"{format_in_zone(meeting.at, zone)}"
                if meeting
                else ""
            )
            lines.append(f"- **{row.region}**: {state}{held}")
        await turn_context.send_activity(MessageFactory.text("\n".join(lines)))

    async def settings(self, turn_context: TurnContext, command: ParsedCommand) -> None:
        """`settings [region R | zone Z | hours HH:MM-HH:MM | mute | unmute]`."""
        actor = actor_of(turn_context.activity)
        stored = await self._store.user_settings(actor.id)
        current = stored or UserSettings(person=actor)
        client_zone = client_timezone(turn_context.activity)
        words = [w.lower() for w in command.args]
        change: dict[str, object] = {}
        try:
            if words[:1] == ["mute"]:
                change = {"muted": True}
            elif words[:1] == ["unmute"]:
                change = {"muted": False}
            elif words[:1] == ["region"] and len(command.args) == 2:
                region = command.args[1].upper()
                if region not in self._schedule.travel_order:
                    raise ValueError(
                        f"“{command.args[1][:20]}” is not a region; use one of "
                        f"{', '.join(self._schedule.travel_order)}"
                    )
                change = {"region": region}
            elif words[:1] == ["zone"] and len(command.args) == 2:
                change = {"timezone": check_zone(command.args[1])}
            elif words[:1] == ["hours"] and len(command.args) >= 2:
                start, end = parse_hours("".join(command.args[1:]))
                # Hours mean nothing without a zone: the client's, unless one was saved.
                change = {"start": start, "end": end, "timezone": current.timezone or client_zone}
            elif words:
                raise ValueError("I know settings region, zone, hours, mute and unmute")
        except ValueError as problem:
            await turn_context.send_activity(messages.settings_problem(str(problem)))
            return
        updated = current.model_copy(update={**change, "person": actor})
        changed = changes(stored, updated) if change else {}
        if changed:
            audit = AuditEntry(
                kind=AuditKind.SETTINGS_CHANGED,
                actor=actor,
                at=self._clock.now(),
                subject=actor.id,
                data=changed,
            )
            await self._store.save_user_settings(updated, audit)
        await turn_context.send_activity(messages.settings_shown(updated, client_zone))

    async def setup(self, turn_context: TurnContext, _command: ParsedCommand) -> None:
        activity = turn_context.activity
        if conversation_kind(activity) is not ConversationKind.CHANNEL:
            await turn_context.send_activity(messages.SETUP_IN_CHANNEL)
            return
        refusal = await self._access.bind_channel(turn_context)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        # The bot stored this channel's address when the message came in (HandoffBot).
        address = address_of(activity, self._clock.now())
        channel = address.channel_id or address.conversation_id
        previous = await self._store.get_setting(CASE_TRANSFER_CHANNEL)
        audit = AuditEntry(
            kind=AuditKind.CHANNEL_BOUND,
            actor=actor_of(activity),
            at=address.updated_at,
            subject=channel,
            data={
                **channel_names(activity),
                "team_id": address.team_id or "",
                "previous_channel": previous if previous and previous != channel else "",
            },
        )
        await self._store.set_setting(CASE_TRANSFER_CHANNEL, channel, audit)
        posted = await self._post_waiting_cards(channel)
        await turn_context.send_activity(MessageFactory.text(messages.setup_done(posted)))

    async def _post_waiting_cards(self, channel_id: str) -> int:
        """Cards of open handoffs requested before the channel was bound."""
        count = 0
        for handoff in await self._store.list_open(None, limit=500):
            if await self._store.card_of(handoff.id) is None:
                message = effects.post_card(handoff, self._clock.now(), channel_id)
                await self._store.enqueue_message(message)
                count += 1
        if count:
            self._wake_outbox()
        return count
