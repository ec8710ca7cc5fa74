"""Every command the manifest lists in Teams' command menu is one the bot answers."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount

from application import messages
from application.router import COMMANDS, GROUP_CHAT, PERSONAL, TEAM

from harness.chat import Chat

CONVERSATION = {
    PERSONAL: ("a:29:ana", "personal"),
    TEAM: ("19:channel@thread.tacv2", "channel"),
    GROUP_CHAT: ("19:chat@thread.v2", "groupChat"),
}
CASES = [(command.name, scope) for command in COMMANDS for scope in command.scopes]


@pytest.mark.parametrize(("name", "scope"), CASES)
async def test_every_listed_command_is_answered(adapter: Any, name: str, scope: str) -> None:
    conversation_id, kind = CONVERSATION[scope]
    adapter.template.conversation = ConversationAccount(id=conversation_id, conversation_type=kind)
    adapter.template.from_property = ChannelAccount(id="29:ana", name="Ana Lopez")
    # Picked from the menu in a channel or group chat, a command comes @mentioning the bot.
    replies = await Chat(adapter).say(name, mention_bot=scope != PERSONAL)
    assert replies, f"{name} in {scope} got no answer"
    said = [r.text for r in replies if r.text]
    assert messages.unknown_command(name) not in said
