"""Where the bot can speak again: the conversation address of an incoming activity."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationKind

from .activity_codec import to_json


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


def tenant_of(activity: Activity) -> str | None:
    """The Azure AD tenant the activity comes from, as Teams gives it."""
    tenant = _channel_data(activity).get("tenant") or {}
    tenant_id = tenant.get("id") if isinstance(tenant, dict) else None
    return tenant_id or (activity.conversation.tenant_id if activity.conversation else None)


def address_of(activity: Activity, at: datetime) -> ConversationAddress:
    """The address to store for later proactive messages to this conversation."""
    data = _channel_data(activity)
    kind = conversation_kind(activity)
    team = data.get("team") or {}
    # The channel this conversation is in; not settings.selectedChannel, which is only where
    # Teams showed the install and need not be the conversation the reference points at.
    channel = data.get("channel") or {}
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
        team_id=team.get("id"),
        channel_id=channel.get("id")
        or (conversation_id if kind is ConversationKind.CHANNEL else None),
        reference=reference,
        updated_at=at,
    )


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
