"""Where cases stand (R-STATUS): `status`, `list`, `mine`, `agenda`, and `setup` of the Case
Transfer channel. The same words work as an @mention in a channel and in a personal chat."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import MessageFactory, TurnContext

from cards.long_running_card import CHAT_OWNERS, owner_field, owners_card
from cards.transfer_card import agenda_card, handoff_card, handoff_list_card
from dialogs.form_flow import client_timezone
from dialogs.handoff_dialog import case_number_from
from graph.client import GraphClient
from graph.errors import GraphAuthError, GraphError
from handoff import effects
from handoff.access import log_refusal
from handoff.errors import ConcurrencyConflict, IllegalTransition
from handoff.flowchart import NextStep, NextStepKind, PathStep
from handoff.long_running import (
    ChatMember,
    GroupChat,
    GroupChatState,
    chat_members,
    chat_topic,
    next_owner,
    regional_owners,
)
from handoff.models import AuditEntry, AuditKind, Handoff
from handoff.notes_template import format_in_zone
from handoff.ports import Clock, ConversationKind, DuplicateOpenHandoff
from handoff.request import HandoffAnswers, Queue, compose_outputs
from handoff.schedule import Schedule, check_zone
from handoff.service import HandoffService
from handoff.shifts import agenda, overview
from handoff.user_settings import UserSettings, changes, parse_hours

from . import messages
from .authorization import TurnAccess
from .card_messages import card_activity
from .commands import ParsedCommand
from .conversations import (
    actor_of,
    address_of,
    channel_names,
    conversation_kind,
    reader_zone,
)
from .effects import CASE_TRANSFER_CHANNEL, Store

log = logging.getLogger(__name__)

LIST_LIMIT = 25


class StatusCommands:
    def __init__(
        self,
        store: Store,
        schedule: Schedule,
        clock: Clock,
        *,
        service: HandoffService,
        queue: Queue,
        graph: GraphClient | None = None,
        access: TurnAccess,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self._access = access
        self._service = service
        self._graph = graph
        self._queue = queue
        self._wake_outbox = wake_outbox

    def table(self) -> dict[str, Callable[[TurnContext, ParsedCommand], Awaitable[None]]]:
        return {
            "status": self.status,
            "list": self.list_open,
            "mine": self.mine,
            "agenda": self.agenda,
            "setup": self.setup,
            "longrunning": self.long_running,
            "shiftend": self.shift_end,
            "shifts": self.shifts,
            "settings": self.settings,
        }

    def card_forms(self) -> dict[str, Callable[[TurnContext, dict[str, Any]], Awaitable[None]]]:
        """Cards that come back with a `command` (not a handoff dialog step)."""
        return {CHAT_OWNERS: self.chat_owners_submitted}

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
        await turn_context.send_activity(card_activity(handoff_card(handoff, history=history)))

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

    async def long_running(self, turn_context: TurnContext, command: ParsedCommand) -> None:
        """R-LONG: where a long-running case stands, or flag one (`longrunning <case> <why>`)."""
        number = case_number_from(command.args[0]) if command.args else None
        if number is None:
            await turn_context.send_activity(messages.LONG_RUNNING_USAGE)
            return
        handoffs = await self._store.for_case(number)
        latest = max(handoffs, key=lambda h: h.updated_at) if handoffs else None
        refusal = await self._access.read(turn_context, latest, case=number)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        if latest is None:
            await turn_context.send_activity(messages.no_handoff_for(number))
            return
        # A shiftend or OOF handoff starts without the mark: the case is long-running if any
        # of its handoffs is.
        marked = next((h.long_running for h in reversed(handoffs) if h.long_running), None)
        rest = " ".join(command.args[1:]).strip()
        if rest.lower() == "chat":
            if marked is None:
                await turn_context.send_activity(messages.not_long_running(number))
                return
            await self._plan_chat(turn_context, latest, handoffs)
            return
        if rest and marked is None:
            refusal = await self._access.act(turn_context, "long_running", latest)
            if refusal is not None:
                await turn_context.send_activity(refusal)
                return
            try:
                latest = await self._service.flag_long_running(
                    latest.id,
                    actor_of(turn_context.activity),
                    rest[:300],
                    turn_context.activity.conversation.id,
                )
            except ConcurrencyConflict:
                await turn_context.send_activity(messages.CHANGED_MEANWHILE)
                return
            except IllegalTransition as refused:
                await turn_context.send_activity(str(refused))
                return
            marked = latest.long_running
            self._wake_outbox()
        if marked is None:
            await turn_context.send_activity(messages.not_long_running(number))
            return
        owners = regional_owners(handoffs)
        await turn_context.send_activity(messages.long_running_status(number, marked, owners))

    async def _plan_chat(
        self, turn_context: TurnContext, latest: Handoff, handoffs: list[Handoff]
    ) -> None:
        """Shows the regional owners card; the chat is made when it comes back."""
        number = latest.case.number
        refusal = await self._access.act(turn_context, "long_running", latest)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        existing = await self._store.group_chat(number)
        if existing is not None and existing.state is GroupChatState.FAILED:
            await self._retry_chat(turn_context, latest)
            return
        if existing is not None:
            await turn_context.send_activity(messages.chat_exists(number, existing.state.value))
            return
        card = owners_card(number, self._schedule.travel_order, chat_members(handoffs), {}, [])
        await turn_context.send_activity(card_activity(card))

    async def _retry_chat(self, turn_context: TurnContext, latest: Handoff) -> None:
        """A chat whose Graph steps failed for good (say, a permission an admin has since
        granted) starts again where it stopped: a chat Graph already made is not made again."""
        number = latest.case.number
        chat = await self._store.retry_group_chat(number)
        if chat is None:  # someone else's retry won, or the chat moved on meanwhile
            current = await self._store.group_chat(number)
            state = current.state.value if current else GroupChatState.REQUESTED.value
            await turn_context.send_activity(messages.chat_exists(number, state))
            return
        kind = effects.INSTALL_CHAT_APP if chat.chat_id else effects.CREATE_GROUP_CHAT
        now = self._clock.now()
        await self._store.enqueue_message(
            effects.group_chat_step(kind, number, now, attempt=now.isoformat())
        )
        self._wake_outbox()
        log.info(
            "group chat retried",
            extra={"case": number, "step": kind, "chat_id": chat.chat_id},
        )
        names = ", ".join(f"{m.name} ({m.region})" for m in chat.members)
        await turn_context.send_activity(messages.chat_retried(number, names))

    async def chat_owners_submitted(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        actor = actor_of(turn_context.activity)
        number = case_number_from(str(value.get("case") or ""))
        if number is None:
            await turn_context.send_activity(messages.STALE_FORM)
            return
        handoffs = await self._store.for_case(number)
        latest = max(handoffs, key=lambda h: h.updated_at) if handoffs else None
        # The form is only card data: whoever sends it must be allowed to act on the case,
        # where the answer is shown, and only a case flagged long-running gets a chat.
        refusal = await self._access.read_and_act(turn_context, "long_running", latest, number)
        if refusal is not None or latest is None:
            await turn_context.send_activity(refusal or messages.STALE_FORM)
            return
        if not any(h.long_running for h in handoffs):
            log_refusal("chat owners refused", "not long-running", CHAT_OWNERS, actor, case=number)
            await turn_context.send_activity(messages.not_long_running(number))
            return
        if value.get("preference") == "regional":
            await turn_context.send_activity(messages.one_regional_engineer(number))
            return
        members, problems = await self._resolve_owners(value, chat_members(handoffs))
        if value.get("preference") != "global":
            problems.insert(0, "What does the customer prefer?: choose one.")
        if len(members) < 2 and not problems:
            problems.append("Name owners in at least two regions for a group chat.")
        if problems:
            regions = self._schedule.travel_order
            card = owners_card(number, regions, chat_members(handoffs), value, problems)
            await turn_context.send_activity(card_activity(card))
            return
        chat = GroupChat(case_number=number, topic=chat_topic(latest), members=tuple(members))
        if await self._store.plan_group_chat(chat):
            step = effects.group_chat_step(effects.CREATE_GROUP_CHAT, number, self._clock.now())
            await self._store.enqueue_message(step)
            self._wake_outbox()
        names = ", ".join(f"{m.name} ({m.region})" for m in members)
        await turn_context.send_activity(messages.chat_planned(number, names))

    async def _resolve_owners(
        self, value: dict[str, Any], proposed: tuple[ChatMember, ...]
    ) -> tuple[list[ChatMember], list[str]]:
        """Each region's entry as a chat member: a proposed owner kept as is, an e-mail
        address looked up in Microsoft Graph."""
        known = {m.aad_object_id: m for m in proposed}
        members: list[ChatMember] = []
        problems: list[str] = []
        for region in self._schedule.travel_order:
            entry = str(value.get(owner_field(region)) or "").strip()
            if not entry:
                continue
            if entry in known:
                members.append(known[entry].model_copy(update={"region": region}))
                continue
            try:
                found = await self._graph.find_user(entry) if self._graph and "@" in entry else None
            except (GraphError, GraphAuthError) as error:
                problems.append(f"{region} owner: I could not look “{entry[:60]}” up: {error}")
                continue
            if found is None:
                problems.append(
                    f"{region} owner: I found nobody called “{entry[:60]}”; type their e-mail "
                    "address as in Teams."
                )
                continue
            members.append(ChatMember(aad_object_id=found[0], name=found[1], region=region))
        unique = {m.aad_object_id: m for m in members}
        return list(unique.values()), problems

    async def shift_end(self, turn_context: TurnContext, command: ParsedCommand) -> None:
        """R-LONG: in a long-running case's chat, the owner ends their shift with a summary,
        and the case goes directly to the next region's owner."""
        chat_id = address_of(turn_context.activity, self._clock.now()).conversation_id
        chat = await self._store.group_chat_by_id(chat_id)
        if chat is None:
            await turn_context.send_activity(messages.SHIFT_END_WHERE)
            return
        summary = " ".join(command.args).strip()
        if len(summary) < 10:
            await turn_context.send_activity(messages.SHIFT_END_USAGE)
            return
        latest = await self._store.latest_for_case(chat.case_number)
        if latest is None:
            await turn_context.send_activity(messages.no_handoff_for(chat.case_number))
            return
        actor = actor_of(turn_context.activity)
        region = latest.target_region if latest.owner else latest.from_region
        current = next((m for m in chat.members if m.region == region), None)
        if current is None or current.aad_object_id != actor.aad_object_id:
            owner = current.name if current else f"the {region} owner"
            await turn_context.send_activity(messages.not_your_shift(chat.case_number, owner))
            return
        refusal = await self._access.act(turn_context, "shift_end", latest)
        if refusal is not None:
            await turn_context.send_activity(refusal)
            return
        successor = next_owner(chat, region, self._schedule.travel_order)
        if successor is None:
            await turn_context.send_activity(messages.no_next_owner(chat.case_number))
            return
        now = self._clock.now()
        on_shift = self._schedule.current_shift(successor.region, now) is not None
        answers = HandoffAnswers(
            case=latest.case,
            owner_region=region,
            target_region=successor.region,
            kind_choice="between",
            reason="R-LONG shift end: direct handoff to the next region's owner",
            notes=latest.notes.model_copy(update={"summary": summary[:4000]}),
            target_engineer=successor.aad_object_id,
            target_engineer_name=successor.name,
        )
        how = "warm: they are on shift now, talk to them" if on_shift else "directly"
        step = NextStep(
            kind=NextStepKind.REASSIGN,
            instruction=f"Hand the case {how} to {successor.name} ({successor.region}).",
            path=(PathStep.LONG_RUNNING_SHIFT_END, PathStep.DIRECT_TO_NEXT_OWNER),
        )
        outputs = compose_outputs(answers, step, self._queue)
        try:
            await self._service.request(answers, outputs, actor, chat_id)
        except DuplicateOpenHandoff:
            await turn_context.send_activity(messages.shift_end_pending(chat.case_number))
            return
        self._wake_outbox()
        await turn_context.send_activity(
            messages.shift_ending(
                actor.name, region, summary, successor.name, successor.region, on_shift
            )
        )

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
