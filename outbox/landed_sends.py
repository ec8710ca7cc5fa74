"""After a crash or a lost answer, did the send in doubt reach its conversation? Microsoft
Graph is asked for the conversation's messages since the send began, and one the bot wrote
with the same content is taken as the send having landed.

The Bot Connector has no idempotency key, so this is the only way to close the window in
which an outbox send was made but its result never written (outbox/worker.py). It needs
Graph read access to the conversations the bot writes to (docs/operations.md, "The outbox"):
where it has none, or Graph cannot tell, the send is made again and logged, as before.

Content is compared by its letters and digits only: Teams shows markdown as HTML, wraps text
in tags and keeps a link's label but not its address, so punctuation and markup differ
between what the bot sent and what Graph gives back, while the words do not. A card is
compared by its texts, titles, values and action data (which carry the handoff's id and
version), so two cards of the same handoff at different versions differ.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import requests

from graph.client import GraphClient
from graph.errors import GraphAuthError, GraphError
from handoff.ports import ConversationStore
from outbox.failures import SendFailed

log = logging.getLogger(__name__)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# Room for the clocks of this machine and Microsoft's to disagree.
CLOCK_SKEW = timedelta(seconds=30)
# A look-up that takes longer (Graph throttling, many pages) gives up: the item's lease must
# not run out while it waits, or another replica would take the item up too.
LOOKUP_SECONDS = 20.0
# Whatever keeps Graph (or the Bot Connector, for a channel's team) from answering: the
# token (an expired secret), the network, a body not as documented, the time limit.
_LOOKUP_FAILURES = (
    GraphError,
    GraphAuthError,
    SendFailed,
    aiohttp.ClientError,
    requests.RequestException,
    ValueError,
    TimeoutError,
)

TeamGroupOf = Callable[[dict[str, Any], str], Awaitable[str | None]]
"""(a channel's conversation reference, its team's id) -> the team's Azure AD group id."""

_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]*>")
_CARD_TEXT_KEYS = frozenset({"text", "title", "value", "fallbackText"})


class CannotTell(Exception):
    """Graph could not say whether the send landed (no access, no such chat, an outage)."""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _words(text: str) -> str:
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = html.unescape(_TAG.sub(" ", text))
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _card_texts(node: Any, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data":
                out.append(json.dumps(value, sort_keys=True))
            elif key in _CARD_TEXT_KEYS and isinstance(value, str):
                out.append(value)
            else:
                _card_texts(value, out)
    elif isinstance(node, list):
        for value in node:
            _card_texts(value, out)


def _fingerprint(text: str, cards: list[Any]) -> tuple[str, ...]:
    parts = [_words(text)]
    for card in cards:
        texts: list[str] = []
        _card_texts(card, texts)
        parts.append("".join(_words(t) for t in texts))
    return tuple(parts)


def activity_fingerprint(activity: dict[str, Any]) -> tuple[str, ...]:
    """What of an activity the bot sends shows in Teams, reduced for comparison."""
    cards = [
        attachment.get("content")
        for attachment in activity.get("attachments") or []
        if isinstance(attachment, dict) and attachment.get("contentType") == ADAPTIVE_CARD
    ]
    return _fingerprint(str(activity.get("text") or ""), cards)


def message_fingerprint(message: dict[str, Any]) -> tuple[str, ...]:
    """The same for a Graph chatMessage (its body is HTML, its cards JSON strings)."""
    body = _mapping(message.get("body"))
    cards: list[Any] = []
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict) or attachment.get("contentType") != ADAPTIVE_CARD:
            continue
        content = attachment.get("content")
        try:
            cards.append(json.loads(content) if isinstance(content, str) else content)
        except ValueError:
            cards.append(content)
    return _fingerprint(str(body.get("content") or ""), cards)


def _from_app(message: dict[str, Any], app_id: str) -> bool:
    application = _mapping(message.get("from")).get("application")
    if not isinstance(application, dict):
        return False
    # Without an app id (local mode) any bot's message is ours: only ours post there.
    return not app_id or application.get("id") == app_id


class LandedSends:
    def __init__(
        self,
        graph: GraphClient,
        conversations: ConversationStore,
        team_group_of: TeamGroupOf,
        *,
        bot_app_id: str,
        teams_app_id: str,
    ) -> None:
        self._graph = graph
        self._conversations = conversations
        self._team_group_of = team_group_of
        self._bot_app_id = bot_app_id
        self._teams_app_id = teams_app_id
        # Graph ids of chats and teams do not change: found once per process.
        self._personal_chats: dict[str, str] = {}
        self._team_groups: dict[str, str] = {}

    async def find(
        self,
        reference: dict[str, Any],
        activity: dict[str, Any],
        since: datetime,
        known: Collection[str] = (),
    ) -> str | None:
        """The id of a message the bot wrote to the reference's conversation at or after
        `since` with the activity's content; None if there is none. Ids in `known` are other
        sends (the same words sent twice on purpose are two messages).
        Raises CannotTell when Graph cannot say."""
        wanted = activity_fingerprint(activity)
        try:
            async with asyncio.timeout(LOOKUP_SECONDS):
                messages = await self._messages(reference, since - CLOCK_SKEW)
        except _LOOKUP_FAILURES as error:
            raise CannotTell(f"{type(error).__name__}: {error}") from error
        for message in messages:
            message_id = str(message.get("id") or "")
            if (
                message_id
                and message_id not in known
                and _from_app(message, self._bot_app_id)
                and message_fingerprint(message) == wanted
            ):
                return message_id
        return None

    async def _messages(self, reference: dict[str, Any], since: datetime) -> list[dict[str, Any]]:
        conversation = reference.get("conversation") or {}
        conversation_id = str(conversation.get("id") or "")
        kind = conversation.get("conversationType")
        if kind == "channel":
            channel_id = conversation_id.split(";messageid=", 1)[0]
            group = await self._team_group(reference, channel_id)
            return await self._graph.channel_messages_since(group, channel_id, since)
        if kind == "groupChat":
            return await self._graph.chat_messages_since(conversation_id, since)
        chat_id = await self._personal_chat(reference)
        return await self._graph.chat_messages_since(chat_id, since, group_chat=False)

    async def _personal_chat(self, reference: dict[str, Any]) -> str:
        user = reference.get("user") or {}
        aad_id = str(user.get("aadObjectId") or "")
        if not aad_id:
            raise CannotTell("the personal chat's user has no Azure AD object id")
        chat_id = self._personal_chats.get(aad_id)
        if chat_id is None:
            chat_id = await self._graph.app_chat_with(aad_id, self._teams_app_id)
            if chat_id is None:
                raise CannotTell("Graph knows no chat between that user and the app")
            self._personal_chats[aad_id] = chat_id
        return chat_id

    async def _team_group(self, reference: dict[str, Any], channel_id: str) -> str:
        group = self._team_groups.get(channel_id)
        if group is not None:
            return group
        address = await self._conversations.get_conversation(channel_id)
        team_id = address.team_id if address is not None else None
        if not team_id:
            raise CannotTell("the channel's team is not known")
        group = await self._team_group_of(reference, team_id)
        if not group:
            raise CannotTell("the Bot Connector gave no Azure AD group for the channel's team")
        self._team_groups[channel_id] = group
        return group
