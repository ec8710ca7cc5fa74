"""The compose box's invokes (the app's message extension), shaped as Teams sends them
(msteams-docs: "Respond to search command", "Link unfurling", "Create and send dialogs"):
built on the captured invoke's envelope (harness.activities.card_action_invoke) with the
conversation the compose box is in, and no message replied to."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from application.compose.hand_off import HAND_OFF_COMMAND
from application.compose.search import QUERY_PARAMETER, SEARCH_COMMAND

from . import activities
from .ids import DEFAULT_CHANNEL_ID, DEFAULT_USER, TeamsUser

QUERY = "composeExtension/query"
QUERY_LINK = "composeExtension/queryLink"
FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"


def compose_invoke(
    name: str,
    value: Mapping[str, Any],
    service_url: str,
    *,
    user: TeamsUser = DEFAULT_USER,
    scope: activities.Scope = "personal",
    conversation_id: str | None = None,
    timezone: str | None = None,
) -> dict[str, Any]:
    """An invoke from the compose box of a chat or channel (`scope`)."""
    if scope == "channel" and conversation_id is None:
        conversation_id = DEFAULT_CHANNEL_ID  # a new post, not a reply in a thread
    invoke = activities.card_action_invoke(
        "unused",
        {},
        service_url,
        "unused",
        scope=scope,
        conversation_id=conversation_id,
        user_id=user.id,
        user_name=user.name,
        aad_object_id=user.aad_object_id,
        timezone=timezone,
    )
    invoke.pop("replyToId", None)
    invoke["channelData"]["source"] = {"name": "compose"}
    invoke["channelData"].pop("legacy", None)
    invoke["name"] = name
    invoke["value"] = dict(value)
    return invoke


def query(service_url: str, text: str | None, **where: Any) -> dict[str, Any]:
    """Someone types `text` in the search box (None: the box just opened, initialRun)."""
    parameter = (
        {"name": "initialRun", "value": "true"}
        if text is None
        else {"name": QUERY_PARAMETER, "value": text}
    )
    value = {
        "commandId": SEARCH_COMMAND,
        "parameters": [parameter],
        "queryOptions": {"skip": 0, "count": 25},
    }
    return compose_invoke(QUERY, value, service_url, **where)


def query_link(service_url: str, url: str, **where: Any) -> dict[str, Any]:
    """Someone pastes `url` in the compose box."""
    return compose_invoke(QUERY_LINK, {"url": url}, service_url, **where)


def message_payload(text: str, author: TeamsUser = DEFAULT_USER) -> dict[str, Any]:
    """The message an action was chosen on, its text as Teams' HTML (a paragraph per line)."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n"))
    return {
        "id": "1611060744833",
        "replyToId": None,
        "createdDateTime": "2026-11-24T09:52:24.833Z",
        "deleted": False,
        "importance": "normal",
        "locale": "en-us",
        "body": {"contentType": "html", "content": body},
        "from": {
            "user": {
                "userIdentityType": "aadUser",
                "id": author.aad_object_id,
                "displayName": author.name,
            }
        },
        "attachments": [],
    }


def hand_off(
    service_url: str,
    text: str,
    *,
    submitted: Mapping[str, Any] | None = None,
    command: str = HAND_OFF_COMMAND,
    **where: Any,
) -> dict[str, Any]:
    """ "Hand off this case" chosen on a message saying `text`: Teams asks for the dialog
    (fetchTask), or, with `submitted`, sends what the dialog's form held (submitAction)."""
    value: dict[str, Any] = {
        "commandId": command,
        "commandContext": "message",
        "requestId": "7f7d22efe5414818becebcec649a7912",
        "messagePayload": message_payload(text),
        "context": {"theme": "default"},
    }
    if submitted is None:
        return compose_invoke(FETCH_TASK, value, service_url, **where)
    value["data"] = dict(submitted)
    return compose_invoke(SUBMIT_ACTION, value, service_url, **where)
