"""Activities in and out: who and where an incoming activity comes from (as the Request a use
case takes, with the conversation address to store), and what a reply becomes.

Where cards become messages, and only here (a test keeps it so): every card is checked against
Teams' size limit and shortened if need be (cards/fit.py), and every card message gets the
short summary Teams shows in notifications, the activity feed and the chat list, where a card
alone shows "Card". Teams' clients read the activity's ``summary`` for that text (desktop and
web; Android's push path after the app has idled reads ``text`` instead, but ``text`` would
also be shown above the card in the chat, repeating its heading, so it is left out).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import BotAdapter, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, Attachment
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import ClientRequestError

from application.request import Card, Conversation, FileCard, Request, Said
from application.team_membership import AskRoster, RosterAnswer, TeamMembership
from application.transfers import ActionResult
from caches.times_by_key import TimesByKey, key_of
from cards.elements import CARD_CONTENT_TYPE, Json
from cards.fit import FittedCard, fit_card
from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationKind
from handoff.schedule import check_zone

from .activity_codec import to_json

log = logging.getLogger(__name__)

_LOOKUP_TIMEOUT_SECONDS = 3.0
# The Connector answers 404 (MemberNotFoundInConversation) for someone not in the team.
_NOT_A_MEMBER = frozenset({403, 404})


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


_TYPED = frozenset({"message", "messageUpdate", "messageDelete"})


def overheard(activity: Activity) -> bool:
    """A typed message in a channel or group chat that does not @mention the bot. With the
    app's resource-specific consent (ChannelMessage.Read.Group, ChatMessage.Read.Chat) Teams
    delivers every message there, not only those addressed to the bot; people talking to each
    other must not get answers, nor cost a database write each; nor their edits and
    deletions, which the bot has no use for."""
    if activity.type not in _TYPED or activity.value is not None:
        return False
    if conversation_kind(activity) is ConversationKind.PERSONAL:
        return False
    bot_id = activity.recipient.id if activity.recipient else None
    # The SDK keeps a mention entity's fields it has no attribute for in additional_properties.
    return not any(
        _object(entity.additional_properties or {}, "mentioned").get("id") == bot_id
        for entity in activity.entities or []
        if (entity.type or "").lower() == "mention"
    )


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
    chats is the newest), not on every turn. Lost on restart, which costs one write.

    A key is remembered by its hash: 16 bytes a conversation (caches.times_by_key), where the
    key itself kept ~1.2 KB of the activity's strings alive. Two keys of one hash (odds of
    about one in 10^11 among 20,000 kept at once) would skip a write until the hourly refresh.
    Those stored over an hour ago are swept out whenever twice as many are kept as after the
    last sweep."""

    REFRESH_AFTER = timedelta(hours=1)
    SWEEP_ABOVE = 1024

    def __init__(self) -> None:
        self._stored = TimesByKey()
        self._sweep_above = self.SWEEP_ABOVE
        self._refresh_after = self.REFRESH_AFTER.total_seconds()

    def is_news(self, key: tuple[Any, ...], now: datetime) -> bool:
        stored_at = self._stored.get(key_of(key))
        return stored_at is None or now.timestamp() - stored_at >= self._refresh_after

    def stored(self, key: tuple[Any, ...], now: datetime) -> None:
        at = now.timestamp()
        if len(self._stored) >= self._sweep_above:
            self._stored.keep(lambda stored_at: at - stored_at < self._refresh_after)
            self._sweep_above = max(self.SWEEP_ABOVE, 2 * len(self._stored))
        self._stored.put(key_of(key), at)

    def __len__(self) -> int:
        return len(self._stored)


def _fitted(content: Json) -> FittedCard:
    fitted = fit_card(content)
    if fitted.left_out:
        log.warning(
            "card shortened to fit Teams' size limit",
            extra={
                "card": fitted.summary,
                "bytes_before": fitted.original_size,
                "bytes_after": fitted.size,
                "left_out": list(fitted.left_out),
            },
        )
    return fitted


class SentOnce(Activity):  # type: ignore[misc]
    """An activity built for one send. TurnContext.send_activities deep-copies each activity
    it is given, so that the caller may change it afterwards; these are never changed, and
    a shallow copy keeps the SDK's own changes (the addresses it fills in) off the original
    all the same, for a fraction of the cost (the deep copy took a card's whole content)."""

    def __deepcopy__(self, _memo: dict[int, object]) -> SentOnce:
        return copy.copy(self)


class AnsweredOnce(InvokeResponse):  # type: ignore[misc]
    """An invoke's answer. The SDK sends it as an activity, deep-copied like every other
    (see SentOnce), and an Accept's answer holds the whole refreshed card: half a millisecond
    of copying per click, for a body nobody changes afterwards."""

    def __deepcopy__(self, _memo: dict[int, object]) -> AnsweredOnce:
        return copy.copy(self)


def invoke_response(body: Any = None, status: int = 200) -> InvokeResponse:
    return AnsweredOnce(status=status, body=body)


def _sent_once(activity: Activity) -> SentOnce:
    sent = SentOnce.__new__(SentOnce)
    sent.__dict__.update(activity.__dict__)
    return sent


def card_activity(content: Json) -> Activity:
    """The message that carries ``content``: within Teams' limit, with its summary."""
    fitted = _fitted(content)
    activity = MessageFactory.attachment(
        Attachment(content_type=CARD_CONTENT_TYPE, content=fitted.content)
    )
    activity.summary = fitted.summary
    return _sent_once(activity)


def fitted_card(content: Json) -> Json:
    """A card that goes out in an invoke's answer (the compose box's results and dialogs): as
    every card, within Teams' limit."""
    return _fitted(content).content


def invoke_card(content: Json) -> dict[str, Any]:
    """The Universal Actions answer that replaces a card in place: within Teams' limit too (it
    is no new message, so it needs no summary)."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": _fitted(content).content}


def roster_of(turn_context: TurnContext) -> AskRoster:
    async def ask(team_id: str, person_id: str) -> RosterAnswer:
        # Not TeamsInfo.get_team_member: botbuilder 4.17 asks the turn's conversation there
        # instead of the team it is given, which from a personal chat says nothing.
        connector = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if connector is None:
            log.warning("no connector client to check team membership")
            return RosterAnswer(None)
        try:
            async with asyncio.timeout(_LOOKUP_TIMEOUT_SECONDS):
                member = await connector.conversations.get_conversation_member(team_id, person_id)
        except ErrorResponseException as error:
            status = getattr(error.response, "status_code", None)
            if status in _NOT_A_MEMBER:
                return RosterAnswer(False)
            log.warning("team membership look-up failed", extra={"status": status})
            return RosterAnswer(None)
        except (ClientRequestError, TimeoutError, OSError) as error:
            log.warning("team membership look-up failed", extra={"reason": type(error).__name__})
            return RosterAnswer(None)
        extra = getattr(member, "additional_properties", None) or {}
        found = (extra.get("email"), extra.get("userPrincipalName"))
        return RosterAnswer(True, frozenset(a for a in found if isinstance(a, str)))

    return ask


def client_timezone(activity: Activity) -> str | None:
    """The IANA zone the Teams client reports, if it is one (clients have sent Windows names)."""
    reported = activity.local_timezone
    for entity in activity.entities or []:
        data = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        if not reported and getattr(entity, "type", None) == "clientInfo":
            reported = data.get("timezone")
    if not reported:
        return None
    try:
        return check_zone(str(reported))
    except ValueError:
        return None


def request_of(
    turn_context: TurnContext,
    membership: TeamMembership,
    args: tuple[str, ...] = (),
) -> Request:
    """The request a turn makes of a use case: who, from where, with which words."""
    activity = turn_context.activity
    actor = actor_of(activity)
    kind = conversation_kind(activity)

    def address(at: datetime) -> ConversationAddress:
        return address_of(activity, at)

    return Request(
        actor=actor,
        conversation=Conversation(
            id=activity.conversation.id,
            kind=kind,
            team_id=team_of(activity),
            names=channel_names(activity),
            address=address,
        ),
        args=args,
        client_zone=client_timezone(activity),
        locale=activity.locale,
        member_of=membership.checker(roster_of(turn_context), actor),
        addresses=lambda: membership.addresses(actor),
        message_id=activity.reply_to_id,
    )


def message_of(said: Said) -> Activity:
    """One message of a reply, as the activity that carries it."""
    if isinstance(said, Card):
        return card_activity(said.content)
    if isinstance(said, FileCard):
        return _sent_once(
            MessageFactory.attachment(
                Attachment(
                    content_type=said.content_type,
                    content=said.content,
                    name=said.name,
                    content_url=said.content_url,
                )
            )
        )
    return _sent_once(MessageFactory.text(said))


async def send_reply(turn_context: TurnContext, reply: list[Said]) -> None:
    for said in reply:
        await turn_context.send_activity(message_of(said))


def invoke_body(result: ActionResult) -> dict[str, Any]:
    """The Universal Actions answer: the refreshed card, or a message when there is none."""
    if result.card is not None:
        return invoke_card(result.card)
    return invoke_body_text(result.message)


def invoke_body_text(message: str) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": message,
    }
