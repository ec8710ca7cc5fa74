"""What Microsoft Graph shows of the messages the bot sent through the fake Bot Connector:
the chatMessage resources of a chat or channel, built from the connector's records.

In Teams both APIs look at the same conversations; here the fake Graph reads the fake
connector's record of accepted sends (and in-place updates), so a test can see the bot ask
Graph whether a send it is unsure of arrived.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from .fake_connector import FakeConnector, base_conversation_id
from .server import RecordedRequest

_ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_THREAD_SEPARATOR = ";messageid="
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True)
class AppChat:
    """A personal chat between a user and the Teams app, as Graph names it."""

    installation_id: str
    chat_id: str
    conversation_id: str
    """The Bot Connector's id of the same chat (``a:...``)."""


def _iso(wall: float) -> str:
    moment = datetime.fromtimestamp(wall, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _html(text: str) -> str:
    """Roughly what Teams stores for a bot's markdown text."""
    escaped = html.escape(text, quote=False)
    return "<p>" + _BOLD.sub(r"<strong>\1</strong>", escaped).replace("\n", "<br>") + "</p>"


def _bot_app_id(activity: dict[str, Any]) -> str:
    sender = activity.get("from") if isinstance(activity.get("from"), dict) else {}
    bot_id = str((sender or {}).get("id") or "")
    return bot_id.removeprefix("28:")


def chat_message(
    activity: dict[str, Any], activity_id: str, wall: float, where: dict[str, Any]
) -> dict[str, Any]:
    """The Graph chatMessage for an activity the bot sent."""
    attachments = []
    body = _html(str(activity.get("text") or "")) if activity.get("text") else ""
    for n, attachment in enumerate(activity.get("attachments") or []):
        if not isinstance(attachment, dict):
            continue
        attachment_id = f"{activity_id}-{n}"
        content = attachment.get("content")
        attachments.append(
            {
                "id": attachment_id,
                "contentType": attachment.get("contentType"),
                "contentUrl": None,
                # Graph gives a card's JSON as a string.
                "content": json.dumps(content) if attachment.get("contentType") else None,
                "name": None,
                "thumbnailUrl": None,
            }
        )
        body += f'<attachment id="{attachment_id}"></attachment>'
    created = _iso(wall)
    return {
        "id": activity_id,
        "replyToId": None,
        "messageType": "message",
        "createdDateTime": created,
        "lastModifiedDateTime": created,
        "deletedDateTime": None,
        **where,
        "from": {
            "user": None,
            "device": None,
            "application": {
                "@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
                "id": _bot_app_id(activity),
                "displayName": str((activity.get("from") or {}).get("name") or "Bot"),
                "applicationIdentityType": "bot",
            },
        },
        "body": {"contentType": "html", "content": body},
        "attachments": attachments,
        "mentions": [],
        "reactions": [],
    }


def _newest_first(in_sent_order: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Graph's times are to the millisecond: of messages sent within one, the later comes
    # first too (a stable sort keeps equal times in the order given, hence reversed).
    return sorted(reversed(in_sent_order), key=lambda m: m["createdDateTime"], reverse=True)


class ConnectorMessages:
    """The messages of the fake connector's conversations, newest first."""

    def __init__(self, connector: FakeConnector) -> None:
        self._connector = connector

    def _sent(self, conversation_id: str) -> list[tuple[RecordedRequest, dict[str, Any]]]:
        """(record of the send, its latest content) for each message posted there."""
        posted: dict[str, tuple[RecordedRequest, dict[str, Any]]] = {}
        for record in self._connector.activity_records(conversation_id):
            activity = record.body.get("activity", record.body)
            if record.method == "POST" and record.activity_id:
                posted[record.activity_id] = (record, activity)
            elif record.method == "PUT" and record.activity_id in posted:
                posted[record.activity_id] = (posted[record.activity_id][0], activity)
        return list(posted.values())

    def chat(self, conversation_id: str, chat_id: str) -> list[dict[str, Any]]:
        offset = time.time() - time.monotonic()
        messages = [
            chat_message(activity, str(record.activity_id), record.at + offset, {"chatId": chat_id})
            for record, activity in self._sent(conversation_id)
        ]
        return _newest_first(messages)

    def channel(self, team_group_id: str, channel_id: str) -> list[dict[str, Any]]:
        """The channel's root posts (each a new thread), not replies in threads. As in Teams,
        a post to the channel's own id starts a thread (whatever replyToId it names); one to
        ``<channel>;messageid=<root>`` answers in that thread."""
        offset = time.time() - time.monotonic()
        where = {"channelIdentity": {"teamId": team_group_id, "channelId": channel_id}}
        messages = []
        for record, activity in self._sent(channel_id):
            conversation = record.conversation_id or ""
            thread = conversation.partition(_THREAD_SEPARATOR)[2]
            is_root = base_conversation_id(conversation) == channel_id and thread in (
                "",
                record.activity_id,
            )
            if is_root:
                messages.append(
                    chat_message(activity, str(record.activity_id), record.at + offset, where)
                )
        return _newest_first(messages)


def post_as_bot(
    connector: FakeConnector, conversation_id: str, text: str, app_id: str = "bot-app"
) -> str:
    """A message the bot ``app_id`` sends through the fake connector; returns its id."""
    body: dict[str, Any] = {"type": "message", "text": text, "from": {"id": f"28:{app_id}"}}
    url = f"{connector.url}v3/conversations/{conversation_id}/activities"
    response = requests.post(url, json=body, timeout=5)
    response.raise_for_status()
    return str(response.json()["id"])
