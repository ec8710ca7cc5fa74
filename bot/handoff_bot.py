"""The Teams activity handler: routes messages, @mentions and install events."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import ConversationState, MessageFactory, TurnContext, UserState
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import ChannelAccount
from botbuilder.schema.teams import TeamInfo

from handoff.ports import Clock, ConversationKind, ConversationStore

from . import messages
from .commands import ParsedCommand, parse_command
from .conversations import address_of, conversation_kind

log = logging.getLogger(__name__)

CommandHandler = Callable[[TurnContext, ParsedCommand], Awaitable[None]]


class HandoffBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        conversations: ConversationStore,
        conversation_state: ConversationState,
        user_state: UserState,
        clock: Clock,
    ) -> None:
        super().__init__()
        self._conversations = conversations
        self._conversation_state = conversation_state
        self._user_state = user_state
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
        if turn_context.activity.value is not None and not turn_context.activity.text:
            # A card submit with no command word: nothing handles it yet.
            await turn_context.send_activity(messages.empty_message())
            return
        TurnContext.remove_recipient_mention(turn_context.activity)
        command = parse_command(turn_context.activity.text)
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
