"""Where the bot can speak again: the conversation address of an incoming activity."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from dialogs.form_flow import client_timezone
from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationKind, UserSettingsStore
from teams.activity_codec import to_json


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def conversation_kind(activity: Activity) -> ConversationKind:
    kind = (activity.conversation.conversation_type if activity.conversation else None) or ""
    if kind == "channel":
        return ConversationKind.CHANNEL
    if kind == "groupChat":
        return ConversationKind.GROUP_CHAT
    return ConversationKind.PERSONAL


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def team_of(activity: Activity) -> str | None:
    """The team a channel conversation is in, as Teams gives it."""
    team_id = _object(_channel_data(activity), "team").get("id")
    return team_id if isinstance(team_id, str) and team_id else None


def channel_names(activity: Activity) -> dict[str, str]:
    """The team's and the channel's names as Teams gives them, for people to read."""
    data = _channel_data(activity)
    names = {
        "team_name": _object(data, "team").get("name"),
        "channel_name": _object(data, "channel").get("name"),
    }
    return {key: value[:120] for key, value in names.items() if isinstance(value, str) and value}


def tenant_of(activity: Activity) -> str | None:
    """The Azure AD tenant the activity comes from, as Teams gives it."""
    tenant_id = _object(_channel_data(activity), "tenant").get("id")
    if isinstance(tenant_id, str) and tenant_id:
        return tenant_id
    return activity.conversation.tenant_id if activity.conversation else None


def address_of(activity: Activity, at: datetime) -> ConversationAddress:
    """The address to store for later proactive messages to this conversation."""
    data = _channel_data(activity)
    kind = conversation_kind(activity)
    # The channel this conversation is in; not settings.selectedChannel, which is only where
    # Teams showed the install and need not be the conversation the reference points at.
    channel_id = _object(data, "channel").get("id")
    tenant = tenant_of(activity)
    user = None
    if kind is ConversationKind.PERSONAL and activity.from_property is not None:
        user = Person(
            id=activity.from_property.id,
            name=activity.from_property.name or "",
            aad_object_id=activity.from_property.aad_object_id,
        )
    reference = to_json(TurnContext.get_conversation_reference(activity))
    # Later posts start afresh (a new thread in a channel), not as replies to this activity.
    reference.pop("activityId", None)
    conversation_id = activity.conversation.id
    if kind is ConversationKind.CHANNEL:
        # A reply thread's id is "<channel>;messageid=<root>": keep the channel itself, so
        # later posts start new threads in it instead of answering an old one.
        conversation_id = conversation_id.split(";messageid=", 1)[0]
        reference["conversation"]["id"] = conversation_id
    return ConversationAddress(
        conversation_id=conversation_id,
        kind=kind,
        service_url=activity.service_url,
        tenant_id=tenant,
        user=user,
        team_id=team_of(activity),
        channel_id=(channel_id if isinstance(channel_id, str) else None)
        or (conversation_id if kind is ConversationKind.CHANNEL else None),
        reference=reference,
        updated_at=at,
    )


async def reader_zone(settings: UserSettingsStore, activity: Activity) -> str:
    """The IANA zone to show the sender times in: the one they saved with `settings`, else
    their Teams client's, else UTC."""
    saved = await settings.user_settings(activity.from_property.id)
    return (saved.timezone if saved else None) or client_timezone(activity) or "Etc/UTC"


def actor_of(activity: Activity) -> Person:
    """Who sent the activity."""
    sender = activity.from_property
    return Person(id=sender.id, name=sender.name or "", aad_object_id=sender.aad_object_id)


def address_key(activity: Activity) -> tuple[Any, ...]:
    """What an activity's stored address is made of, read without building it (which takes
    msrest a serialization): equal keys give equal addresses but for ``updated_at``."""
    conversation, sender, bot = activity.conversation, activity.from_property, activity.recipient
    data = _channel_data(activity)
    return (
        activity.channel_id,
        activity.service_url,
        activity.locale,
        conversation.id if conversation else None,
        conversation.name if conversation else None,
        conversation.conversation_type if conversation else None,
        conversation.is_group if conversation else None,
        conversation.tenant_id if conversation else None,
        sender.id if sender else None,
        sender.name if sender else None,
        sender.aad_object_id if sender else None,
        sender.role if sender else None,
        bot.id if bot else None,
        bot.name if bot else None,
        repr(data.get("team")),
        repr(data.get("channel")),
        repr(data.get("tenant")),
    )


class StoredAddresses:
    """The addresses this process stored lately, so a turn writes its conversation's address
    only when it is new or changed (or an hour old: ``updated_at`` says which of a person's
    chats is the newest), not on every turn. Lost on restart, which costs one write."""

    REFRESH_AFTER = timedelta(hours=1)
    # A bound on memory; past it the cache starts over (one write per conversation again).
    MAX_ENTRIES = 20_000

    def __init__(self) -> None:
        self._stored: dict[tuple[Any, ...], datetime] = {}

    def is_news(self, key: tuple[Any, ...], now: datetime) -> bool:
        stored_at = self._stored.get(key)
        return stored_at is None or now - stored_at >= self.REFRESH_AFTER

    def stored(self, key: tuple[Any, ...], now: datetime) -> None:
        if len(self._stored) >= self.MAX_ENTRIES:
            self._stored.clear()
        self._stored[key] = now
