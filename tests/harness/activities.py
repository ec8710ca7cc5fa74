"""Builders of inbound Teams activities, shaped like the captured payloads.

The real payloads in ``tests/fixtures/teams-activities/`` (override with
``HARNESS_TEAMS_ACTIVITIES_DIR``) are read at runtime and used as templates: the builders
keep their shape and replace every identity with the synthetic ones of :mod:`harness.ids`
(or the caller's). Each call returns a fresh dict with a unique ``id``, the current
``timestamp`` and ``serviceUrl`` set to the given URL (the test's fake connector).

``overrides`` is deep-merged into the result last; a value of :data:`REMOVE` deletes a key.
"""

from __future__ import annotations

import copy
import functools
import html
import itertools
import json
import os
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from .ids import (
    DEFAULT_BOT_ID,
    DEFAULT_BOT_NAME,
    DEFAULT_CHANNEL_ID,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    DEFAULT_TENANT_ID,
    DEFAULT_USER,
    personal_conversation_id,
    stable_guid,
)

__all__ = [
    "REMOVE",
    "Scope",
    "activities_dir",
    "bot_added_personal",
    "bot_added_to_team",
    "card_action_invoke",
    "channel_message",
    "group_chat_id",
    "group_chat_message",
    "installation_update",
    "load_template",
    "personal_message",
    "submit_message",
]

Scope = Literal["personal", "channel", "groupChat"]

REMOVE: Final = object()
"""Use as a value in ``overrides`` to delete that key from the activity."""

_DIR_ENV = "HARNESS_TEAMS_ACTIVITIES_DIR"
_MESSAGE = "message_personal.json"
_INVOKE = "invoke_adaptivecard_action.json"
_ADDED_PERSONAL = "conversation_update_bot_added_personal.json"
_ADDED_TO_TEAM = "conversation_update_bot_added_to_team.json"

# Teams message ids are epoch milliseconds; a counter seeded from the clock keeps them
# unique within the process even when two activities are built in the same millisecond.
_message_ids = itertools.count(int(time.time() * 1000))


def activities_dir() -> Path:
    override = os.environ.get(_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "fixtures" / "teams-activities"


@functools.cache
def _read_template(directory: Path, name: str) -> str:
    return (directory / name).read_text(encoding="utf-8")


def load_template(name: str) -> dict[str, Any]:
    """A fresh copy of one captured payload, e.g. ``load_template("message_personal.json")``."""
    template: dict[str, Any] = json.loads(_read_template(activities_dir(), name))
    return template


def group_chat_id(name: str = "handoff") -> str:
    """A group-chat conversation id (``19:<hex>@thread.v2``) stable for ``name``."""
    return f"19:{uuid.UUID(stable_guid('chat', name)).hex}@thread.v2"


def _merge(target: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        if value is REMOVE:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _client_info(activity: dict[str, Any], timezone: str | None, locale: str) -> str:
    """Set locale and time zone where Teams puts them; returns the zone in effect."""
    entities: list[dict[str, Any]] = activity.setdefault("entities", [])
    info = next((e for e in entities if e.get("type") == "clientInfo"), None)
    if info is None:
        info = {"locale": locale, "country": "US", "platform": "Web", "type": "clientInfo"}
        entities.append(info)
    zone = timezone or info.get("timezone") or "UTC"
    info.update({"locale": locale, "timezone": zone})
    activity["locale"] = locale
    activity["localTimezone"] = zone
    return str(zone)


def _finish(
    activity: dict[str, Any],
    service_url: str,
    *,
    activity_id: str | None,
    numeric_id: bool,
    overrides: Mapping[str, Any] | None,
    client_info: tuple[str | None, str] | None = None,
) -> dict[str, Any]:
    """Stamp id, timestamps and serviceUrl; ``client_info`` = (timezone, locale) for the
    activities a Teams client sends (messages, invokes), which carry locale and zone."""
    now = datetime.now(UTC)
    if activity_id is None:
        activity_id = str(next(_message_ids)) if numeric_id else f"f:{uuid.uuid4()}"
    activity["id"] = activity_id
    activity["timestamp"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if client_info is not None:
        zone = _client_info(activity, *client_info)
        local = now.astimezone(ZoneInfo(zone))
        activity["localTimestamp"] = local.isoformat(timespec="milliseconds")
    activity["serviceUrl"] = service_url
    activity["channelId"] = "msteams"
    if overrides:
        _merge(activity, overrides)
    return activity


def _user(user_id: str, user_name: str | None, aad_object_id: str | None) -> dict[str, Any]:
    account: dict[str, Any] = {"id": user_id}
    if user_name is not None:
        account["name"] = user_name
    if aad_object_id is not None:
        account["aadObjectId"] = aad_object_id
    return account


def _where(
    scope: Scope,
    *,
    tenant_id: str,
    user_id: str,
    bot_id: str,
    conversation_id: str | None,
    team_id: str = DEFAULT_TEAM_ID,
    team_name: str = DEFAULT_TEAM_NAME,
    channel_id: str = DEFAULT_CHANNEL_ID,
    thread_id: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``conversation`` and ``channelData`` of an activity in ``scope``."""
    tenant = {"id": tenant_id}
    if scope == "personal":
        conversation: dict[str, Any] = {
            "conversationType": "personal",
            "tenantId": tenant_id,
            "id": conversation_id or personal_conversation_id(user_id, bot_id),
        }
        return conversation, {"tenant": tenant}
    if scope == "groupChat":
        conversation = {
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": tenant_id,
            "id": conversation_id or group_chat_id(),
        }
        return conversation, {"tenant": tenant}
    # In a channel, a reply's conversation id names the thread's root message.
    default_id = channel_id if thread_id is None else f"{channel_id};messageid={thread_id}"
    conversation = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": tenant_id,
        "id": conversation_id or default_id,
    }
    channel_data = {
        "teamsChannelId": channel_id,
        "teamsTeamId": team_id,
        "channel": {"id": channel_id},
        "team": {"id": team_id, "name": team_name, "aadGroupId": stable_guid("group", team_id)},
        "tenant": tenant,
    }
    return conversation, channel_data


def _message(
    text: str,
    *,
    user_id: str,
    user_name: str | None,
    aad_object_id: str | None,
    bot_id: str,
    bot_name: str,
    reply_to_id: str | None,
) -> dict[str, Any]:
    activity = load_template(_MESSAGE)
    activity["from"] = _user(user_id, user_name, aad_object_id)
    activity["recipient"] = {"id": bot_id, "name": bot_name}
    activity["text"] = text
    activity["textFormat"] = "plain"
    # Teams sends the rich-text rendering of the message beside the plain text.
    activity["attachments"] = [
        {"contentType": "text/html", "content": f"<p>{html.escape(text)}</p>"}
    ]
    activity["entities"] = [
        e for e in activity.get("entities", []) if e.get("type") == "clientInfo"
    ]
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity


def personal_message(
    text: str,
    service_url: str,
    *,
    user_id: str = DEFAULT_USER.id,
    user_name: str | None = DEFAULT_USER.name,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    conversation_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    tenant_id: str = DEFAULT_TENANT_ID,
    timezone: str | None = None,
    locale: str = "en-US",
    activity_id: str | None = None,
    reply_to_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``message`` in the user's 1:1 chat with the bot.

    The conversation id defaults to one derived from (user, bot), stable across calls, so
    dialog state carries over between turns. ``timezone`` defaults to the template's.
    """
    activity = _message(
        text,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        bot_id=bot_id,
        bot_name=bot_name,
        reply_to_id=reply_to_id,
    )
    activity["conversation"], activity["channelData"] = _where(
        "personal",
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        conversation_id=conversation_id,
    )
    return _finish(
        activity,
        service_url,
        activity_id=activity_id,
        numeric_id=True,
        overrides=overrides,
        client_info=(timezone, locale),
    )


def _addressed_message(
    text: str,
    *,
    mention_bot: bool,
    user_id: str,
    user_name: str | None,
    aad_object_id: str | None,
    bot_id: str,
    bot_name: str,
    reply_to_id: str | None,
) -> dict[str, Any]:
    """A message where several people talk (a channel, a group chat): with ``mention_bot`` the
    text is ``<at>{bot_name}</at> {text}`` and a ``mention`` entity names the bot, as Teams
    sends it; without, it is chatter the bot hears only with resource-specific consent."""
    mention = f"<at>{bot_name}</at>"
    full_text = f"{mention} {text}" if mention_bot else text
    activity = _message(
        full_text,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        bot_id=bot_id,
        bot_name=bot_name,
        reply_to_id=reply_to_id,
    )
    if mention_bot:
        activity["attachments"][0]["content"] = (
            f"<p><at>{html.escape(bot_name)}</at> {html.escape(text)}</p>"
        )
        entity = {"type": "mention", "mentioned": {"id": bot_id, "name": bot_name}, "text": mention}
        activity["entities"].insert(0, entity)
    return activity


def group_chat_message(
    text: str,
    service_url: str,
    *,
    conversation_id: str | None = None,
    mention_bot: bool = True,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    user_id: str = DEFAULT_USER.id,
    user_name: str | None = DEFAULT_USER.name,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    tenant_id: str = DEFAULT_TENANT_ID,
    locale: str = "en-US",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``message`` in a group chat (default ``group_chat_id()``), by default @mentioning
    the bot."""
    activity = _addressed_message(
        text,
        mention_bot=mention_bot,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        bot_id=bot_id,
        bot_name=bot_name,
        reply_to_id=None,
    )
    activity["conversation"], activity["channelData"] = _where(
        "groupChat",
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        conversation_id=conversation_id,
    )
    return _finish(
        activity,
        service_url,
        activity_id=None,
        numeric_id=True,
        overrides=overrides,
        client_info=(None, locale),
    )


def channel_message(
    text: str,
    service_url: str,
    *,
    mention_bot: bool = True,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    team_id: str = DEFAULT_TEAM_ID,
    team_name: str = DEFAULT_TEAM_NAME,
    channel_id: str = DEFAULT_CHANNEL_ID,
    thread_id: str | None = None,
    conversation_id: str | None = None,
    user_id: str = DEFAULT_USER.id,
    user_name: str | None = DEFAULT_USER.name,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    tenant_id: str = DEFAULT_TENANT_ID,
    timezone: str | None = None,
    locale: str = "en-US",
    activity_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``message`` in a team channel, by default @mentioning the bot.

    With ``mention_bot`` the text is ``<at>{bot_name}</at> {text}`` and a ``mention`` entity
    names the bot. ``thread_id`` (the root message id) makes it a reply in that thread.
    """
    activity = _addressed_message(
        text,
        mention_bot=mention_bot,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        bot_id=bot_id,
        bot_name=bot_name,
        reply_to_id=thread_id,
    )
    activity["conversation"], activity["channelData"] = _where(
        "channel",
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        conversation_id=conversation_id,
        team_id=team_id,
        team_name=team_name,
        channel_id=channel_id,
        thread_id=thread_id,
    )
    return _finish(
        activity,
        service_url,
        activity_id=activity_id,
        numeric_id=True,
        overrides=overrides,
        client_info=(timezone, locale),
    )


def bot_added_personal(
    service_url: str,
    *,
    user_id: str = DEFAULT_USER.id,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    include_user: bool = True,
    conversation_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    tenant_id: str = DEFAULT_TENANT_ID,
    activity_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``conversationUpdate``: the bot was added to a user's 1:1 chat.

    ``membersAdded`` holds the bot and, with ``include_user``, the user (as in the capture);
    botbuilder's TeamsActivityHandler then looks the user up on the connector.
    """
    activity = load_template(_ADDED_PERSONAL)
    members: list[dict[str, Any]] = [{"id": bot_id}]
    if include_user:
        members.append(_user(user_id, None, aad_object_id))
    activity["membersAdded"] = members
    activity["from"] = _user(user_id, None, aad_object_id)
    activity["recipient"] = {"id": bot_id, "name": bot_name}
    activity["conversation"], activity["channelData"] = _where(
        "personal",
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        conversation_id=conversation_id,
    )
    return _finish(
        activity,
        service_url,
        activity_id=activity_id,
        numeric_id=False,
        overrides=overrides,
    )


def _team_install(
    activity: dict[str, Any],
    *,
    team_id: str,
    team_name: str,
    channel_id: str | None,
    tenant_id: str,
    user_id: str,
    bot_id: str,
) -> None:
    selected = channel_id or team_id
    activity["conversation"], channel_data = _where(
        "channel",
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        conversation_id=selected,
        team_id=team_id,
        team_name=team_name,
        channel_id=selected,
        thread_id=None,
    )
    # Install events carry the team and the channel picked at install, not the
    # teamsChannelId/teamsTeamId pair of messages.
    activity["channelData"] = {
        "settings": {"selectedChannel": {"id": selected}},
        "team": channel_data["team"],
        "tenant": channel_data["tenant"],
    }


def bot_added_to_team(
    service_url: str,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    team_name: str = DEFAULT_TEAM_NAME,
    channel_id: str | None = None,
    user_id: str = DEFAULT_USER.id,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    tenant_id: str = DEFAULT_TENANT_ID,
    activity_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``conversationUpdate`` (``teamMemberAdded``): the bot was added to a team.

    The conversation is the channel selected at install (``channel_id``; default the
    General channel, whose id is the team id); ``user_id`` is who installed it.
    """
    activity = load_template(_ADDED_TO_TEAM)
    activity["membersAdded"] = [{"id": bot_id}]
    activity["from"] = _user(user_id, None, aad_object_id)
    activity["recipient"] = {"id": bot_id, "name": bot_name}
    _team_install(
        activity,
        team_id=team_id,
        team_name=team_name,
        channel_id=channel_id,
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
    )
    activity["channelData"]["eventType"] = "teamMemberAdded"
    return _finish(
        activity,
        service_url,
        activity_id=activity_id,
        numeric_id=False,
        overrides=overrides,
    )


def installation_update(
    service_url: str,
    action: str = "add",
    *,
    scope: Scope = "personal",
    user_id: str = DEFAULT_USER.id,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    conversation_id: str | None = None,
    team_id: str = DEFAULT_TEAM_ID,
    team_name: str = DEFAULT_TEAM_NAME,
    channel_id: str | None = None,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    tenant_id: str = DEFAULT_TENANT_ID,
    activity_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``installationUpdate`` with ``action`` (add, remove, add-upgrade, remove-upgrade).

    ``scope`` "personal" (1:1 chat), "channel" (installed in a team; ``channel_id`` is the
    selected channel, default General) or "groupChat" (``conversation_id`` default
    :func:`group_chat_id`).
    """
    template = _ADDED_TO_TEAM if scope == "channel" else _ADDED_PERSONAL
    activity = load_template(template)
    activity.pop("membersAdded", None)
    activity["type"] = "installationUpdate"
    activity["action"] = action
    activity["from"] = _user(user_id, None, aad_object_id)
    activity["recipient"] = {"id": bot_id, "name": bot_name}
    if scope == "channel":
        _team_install(
            activity,
            team_id=team_id,
            team_name=team_name,
            channel_id=channel_id,
            tenant_id=tenant_id,
            user_id=user_id,
            bot_id=bot_id,
        )
    else:
        activity["conversation"], activity["channelData"] = _where(
            scope,
            tenant_id=tenant_id,
            user_id=user_id,
            bot_id=bot_id,
            conversation_id=conversation_id,
            team_id=team_id,
            team_name=team_name,
            channel_id=DEFAULT_CHANNEL_ID,
            thread_id=None,
        )
    return _finish(
        activity,
        service_url,
        activity_id=activity_id,
        numeric_id=False,
        overrides=overrides,
    )


def _card_conversation(
    activity: dict[str, Any],
    scope: Scope,
    *,
    reply_to_id: str | None,
    conversation_id: str | None,
    tenant_id: str,
    user_id: str,
    bot_id: str,
    team_id: str,
    team_name: str,
    channel_id: str,
) -> None:
    # A card posted as a new channel post is the root of its own thread.
    activity["conversation"], channel_data = _where(
        scope,
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        conversation_id=conversation_id,
        team_id=team_id,
        team_name=team_name,
        channel_id=channel_id,
        thread_id=reply_to_id,
    )
    channel_data["source"] = {"name": "message"}
    activity["channelData"] = channel_data
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id


def card_action_invoke(
    verb: str,
    data: Mapping[str, Any],
    service_url: str,
    reply_to_id: str,
    *,
    scope: Scope = "personal",
    title: str | None = None,
    user_id: str = DEFAULT_USER.id,
    user_name: str | None = DEFAULT_USER.name,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    conversation_id: str | None = None,
    team_id: str = DEFAULT_TEAM_ID,
    team_name: str = DEFAULT_TEAM_NAME,
    channel_id: str = DEFAULT_CHANNEL_ID,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    tenant_id: str = DEFAULT_TENANT_ID,
    timezone: str | None = None,
    locale: str = "en-US",
    activity_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``invoke`` ``adaptiveCard/action``: a user pressed an Action.Execute button.

    ``reply_to_id`` is the id of the message holding the card. In a channel the
    conversation defaults to that message's thread (``<channel>;messageid=<reply_to_id>``).
    """
    activity = load_template(_INVOKE)
    activity["from"] = _user(user_id, user_name, aad_object_id)
    activity["recipient"] = {"id": bot_id, "name": bot_name}
    activity["value"] = {
        "action": {
            "type": "Action.Execute",
            "title": title if title is not None else verb,
            "verb": verb,
            "data": copy.deepcopy(dict(data)),
        },
        "trigger": "manual",
    }
    _card_conversation(
        activity,
        scope,
        reply_to_id=reply_to_id,
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        team_id=team_id,
        team_name=team_name,
        channel_id=channel_id,
    )
    return _finish(
        activity,
        service_url,
        activity_id=activity_id,
        numeric_id=False,
        overrides=overrides,
        client_info=(timezone, locale),
    )


def submit_message(
    value: Mapping[str, Any],
    service_url: str,
    *,
    reply_to_id: str | None = None,
    text: str = "",
    scope: Scope = "personal",
    user_id: str = DEFAULT_USER.id,
    user_name: str | None = DEFAULT_USER.name,
    aad_object_id: str | None = DEFAULT_USER.aad_object_id,
    conversation_id: str | None = None,
    team_id: str = DEFAULT_TEAM_ID,
    team_name: str = DEFAULT_TEAM_NAME,
    channel_id: str = DEFAULT_CHANNEL_ID,
    bot_id: str = DEFAULT_BOT_ID,
    bot_name: str = DEFAULT_BOT_NAME,
    tenant_id: str = DEFAULT_TENANT_ID,
    timezone: str | None = None,
    locale: str = "en-US",
    activity_id: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``message`` from an Action.Submit (or messageBack) button.

    ``value`` is the card's data merged with its inputs; ``text`` is empty for Action.Submit
    and set for messageBack. No text/html attachment, as Teams sends none for these.
    """
    activity = _message(
        text,
        user_id=user_id,
        user_name=user_name,
        aad_object_id=aad_object_id,
        bot_id=bot_id,
        bot_name=bot_name,
        reply_to_id=None,
    )
    activity.pop("attachments", None)
    activity["value"] = copy.deepcopy(dict(value))
    _card_conversation(
        activity,
        scope,
        reply_to_id=reply_to_id,
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        user_id=user_id,
        bot_id=bot_id,
        team_id=team_id,
        team_name=team_name,
        channel_id=channel_id,
    )
    return _finish(
        activity,
        service_url,
        activity_id=activity_id,
        numeric_id=True,
        overrides=overrides,
        client_info=(timezone, locale),
    )
