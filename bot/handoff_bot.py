"""The Teams activity handler: routes messages, @mentions, dialogs and install events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import ConversationState, MessageFactory, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogContext, DialogSet
from botbuilder.schema import ChannelAccount
from botbuilder.schema.teams import TeamInfo

from dialogs.form_flow import client_timezone
from dialogs.handoff_dialog import HANDOFF_DIALOG, case_number_from, lookup_case
from handoff.ports import Clock, ConversationKind, ConversationStore, HandoffRepository

from . import messages
from .commands import ParsedCommand, parse_command
from .conversations import address_of, conversation_kind

log = logging.getLogger(__name__)

CommandHandler = Callable[[TurnContext, ParsedCommand], Awaitable[None]]


class HandoffBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        conversations: ConversationStore,
        repository: HandoffRepository,
        conversation_state: ConversationState,
        user_state: UserState,
        dialogs: DialogSet,
        clock: Clock,
    ) -> None:
        super().__init__()
        self._conversations = conversations
        self._repository = repository
        self._conversation_state = conversation_state
        self._user_state = user_state
        self._dialogs = dialogs
        self._clock = clock
        self._commands: dict[str, CommandHandler] = {"help": self._help}

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)
        await self._user_state.save_changes(turn_context)

    async def _remember_conversation(self, turn_context: TurnContext) -> None:
        address = address_of(turn_context.activity, self._clock.now())
        await self._conversations.save_conversation(address)
        log.info(
            "conversation stored",
            extra={"conversation_id": address.conversation_id, "kind": address.kind.value},
        )

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self._remember_conversation(turn_context)
        TurnContext.remove_recipient_mention(turn_context.activity)
        command = parse_command(turn_context.activity.text)
        dc = await self._dialogs.create_context(turn_context)
        if command.name == "handoff":
            await self._start_handoff(dc, command)
            return
        if dc.active_dialog is not None and command.name == "help":
            await turn_context.send_activities(
                [MessageFactory.text(messages.HELP), MessageFactory.text(messages.IN_A_HANDOFF)]
            )
            return
        if dc.active_dialog is not None:
            await dc.continue_dialog()
            return
        if turn_context.activity.value is not None and not command.name:
            await turn_context.send_activity(messages.STALE_FORM)
            return
        if not command.name:
            await turn_context.send_activity(messages.empty_message())
            return
        handler = self._commands.get(command.name)
        if handler is None:
            await turn_context.send_activity(messages.unknown_command(command.name))
            return
        await handler(turn_context, command)

    async def _help(self, turn_context: TurnContext, _command: ParsedCommand) -> None:
        await turn_context.send_activity(MessageFactory.text(messages.HELP))

    async def _start_handoff(self, dc: DialogContext, command: ParsedCommand) -> None:
        activity = dc.context.activity
        if conversation_kind(activity) is not ConversationKind.PERSONAL:
            await dc.context.send_activity(messages.HANDOFF_IN_PERSONAL_CHAT)
            return
        options: dict[str, object] = {"reader_zone": client_timezone(activity)}
        if command.args:
            number = case_number_from("".join(command.args))
            if number is None:
                await dc.context.send_activity(messages.not_a_case_number(" ".join(command.args)))
                return
            options.update(await lookup_case(self._repository, number))
        if dc.active_dialog is not None:
            await dc.cancel_all_dialogs()
            await dc.context.send_activity(messages.HANDOFF_RESTARTED)
        await dc.begin_dialog(HANDOFF_DIALOG, options)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._remember_conversation(turn_context)

    async def on_teams_members_added(
        self,
        teams_members_added: list[ChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        bot_id = turn_context.activity.recipient.id
        if not any(member.id == bot_id for member in teams_members_added):
            return
        await self._remember_conversation(turn_context)
        kind = conversation_kind(turn_context.activity)
        welcome = messages.WELCOME if kind is ConversationKind.PERSONAL else messages.TEAM_WELCOME
        await turn_context.send_activity(MessageFactory.text(welcome))
