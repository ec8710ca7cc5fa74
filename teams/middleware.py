"""The turn's middleware, in the order app.py adds it: turn errors and outage counting, reply
pacing, the tenant guard, delivery de-duplication and conversation memory. Each is one step
every turn takes, whatever it asks for; the handlers (teams/handlers.py) only route.

Reply pacing: the replies a turn sends are kept to the Bot Connector's per-conversation limits
by the same pacer as the outbox's sends (teams.pacing): a person chatting with the bot while
the outbox sends them a burst must not push their chat over 7 sends a second.

A reply cannot be put off like an outbox item (the turn is waiting for it), so it waits
for its place inline, up to MAX_REPLY_WAIT_SECONDS; a longer wait (the 30 s or hourly limit)
is not made: the reply goes now and is logged, since the turn would time out otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from botbuilder.core import ConversationState, InvokeResponse, Middleware, TurnContext
from botbuilder.schema import Activity, ActivityEventNames, ActivityTypes

from application import messages
from handoff.ports import Clock, ConversationKind, ConversationStore
from i18n import speaking
from i18n.languages import ENGLISH, choose
from outbox.fault_log import DATABASE_UNAVAILABLE, FaultLog
from storage.bot_state import SqlBotStorage
from storage.errors import StorageUnavailable
from storage.outbox_store import watching_enqueues

from .activities import (
    StoredAddresses,
    address_key,
    address_of,
    conversation_kind,
    invoke_body_text,
    overheard,
    tenant_of,
)
from .deliveries import Claim, Deliveries, DeliveryInProgress
from .pacing import ConversationPacer

log = logging.getLogger(__name__)

MAX_REPLY_WAIT_SECONDS = 3.0

# Activities that are not a request to the Bot Connector (an invoke's answer goes back in
# the HTTP response; a trace is for the emulator only).
_NOT_SENT = frozenset({ActivityTypes.invoke_response, ActivityTypes.trace})


class ReplyPacing(Middleware):  # type: ignore[misc]
    def __init__(self, pacer: ConversationPacer) -> None:
        self._pacer = pacer

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        context.on_send_activities(self._pace)
        await logic()

    async def _pace(
        self,
        context: TurnContext,
        activities: list[Activity],
        send: Callable[[], Awaitable[None]],
    ) -> None:
        conversation = context.activity.conversation
        if conversation is not None and conversation.id:
            for activity in activities:
                if activity.type in _NOT_SENT:
                    continue
                delay = self._pacer.reserve(conversation.id, MAX_REPLY_WAIT_SECONDS)
                if delay > MAX_REPLY_WAIT_SECONDS:
                    self._pacer.record(conversation.id)
                    log.warning(
                        "a reply goes over the conversation's send limit",
                        extra={"conversation_id": conversation.id, "wait": round(delay, 1)},
                    )
                elif delay > 0:
                    await asyncio.sleep(delay)
        await send()


# What fails, in the FaultLog's lines.
_TURNS = "turns"


class TurnErrors:
    """The adapter's on_turn_error. A turn that fails on a database that is away is logged
    through the process's FaultLog: its traceback once, then a count every 30 s, not one per
    request, until a turn succeeds again (`TurnSucceeded`); the person is told to try again
    every time all the same."""

    def __init__(self, faults: FaultLog) -> None:
        self._faults = faults

    async def __call__(self, turn_context: TurnContext, error: Exception) -> None:
        if isinstance(error, DeliveryInProgress):
            raise error  # not a failure: the endpoint answers 503 so that Teams tries again later
        activity = turn_context.activity
        context = {
            "activity_id": activity.id,
            "activity_type": activity.type,
            "conversation_id": activity.conversation.id if activity.conversation else None,
        }
        if isinstance(error, StorageUnavailable):
            self._faults.failed(log, DATABASE_UNAVAILABLE, _TURNS, "turn failed", error, context)
        else:
            log.error("turn failed", exc_info=error, extra=context)
        # In the language the turn spoke (SpokenLanguage left it on the context).
        with speaking(turn_context.turn_state.get(TURN_LANGUAGE, ENGLISH.code)):
            await _apologise(turn_context, error)


class TurnSucceeded(Middleware):  # type: ignore[misc]
    """Tells the FaultLog of each turn that ran to its end, which ends an outage's count of
    failed turns. A failed turn's error passes through here on its way to TurnErrors. The
    outbox's sends run as turns of the adapter too (continue_conversation) and do not count:
    they are not what failed."""

    def __init__(self, faults: FaultLog) -> None:
        self._faults = faults

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        await logic()
        if not _proactive(context.activity):
            self._faults.recovered(DATABASE_UNAVAILABLE, _TURNS)


async def _apologise(turn_context: TurnContext, error: Exception) -> None:
    activity = turn_context.activity
    apology = (
        messages.database_down() if isinstance(error, StorageUnavailable) else messages.sorry()
    )
    try:
        if activity.type == ActivityTypes.invoke:
            # An invoke's answer is its HTTP response (a chat message would appear out of
            # place): the clicker sees the apology on the card instead of a bare HTTP 501.
            response = InvokeResponse(status=200, body=invoke_body_text(apology))
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=response)
            )
            return
        await turn_context.send_activity(apology)
    except Exception:
        log.exception("could not send the apology", extra={"activity_id": activity.id})


class TenantGuard(Middleware):  # type: ignore[misc]
    """Nothing is stored for another organization's activity; it is told so and logged."""

    def __init__(self, tenant_id: str) -> None:
        # Tenant ids are GUIDs: compared without regard to letter case (settings lower it).
        self._tenant_id = tenant_id.lower()

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        if (
            not self._tenant_id
            or _proactive(activity)
            or (tenant_of(activity) or "").lower() == self._tenant_id
        ):
            await logic()
            return
        log.warning(
            "activity from another tenant refused",
            extra={
                "tenant_id": tenant_of(activity),
                "activity_type": activity.type,
                "activity_id": activity.id,
            },
        )
        # In the language of the stranger's Teams client: nothing of theirs is read.
        with speaking(choose(None, activity.locale)):
            refusal = messages.other_tenant()
        if activity.type == ActivityTypes.message:
            await context.send_activity(refusal)
        elif activity.type == ActivityTypes.invoke:
            body = invoke_body_text(refusal)
            await context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
                )
            )


class AddressedOnly(Middleware):  # type: ignore[misc]
    """Channel and group-chat chatter that does not @mention the bot ends the turn here,
    unanswered and unstored (see ``overheard``)."""

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        if overheard(context.activity):
            log.debug("message not addressed to the bot ignored")
            return
        await logic()


class DialogStateAhead:
    """Where a message's turn finds its dialog state: the claim reads it along, and the
    storage answers the turn's one read of it from there (storage/bot_state.py)."""

    def __init__(
        self, state: ConversationState, storage: SqlBotStorage, dialog_property: str
    ) -> None:
        self._state = state
        self._storage = storage
        self._dialog_property = dialog_property

    def none_open(self, context: TurnContext) -> bool:
        """Known, from the state read ahead, that no dialog is in progress: the turn need not
        load and restore the state (the SDK's jsonpickle costs more than the rest of `help`)."""
        key = self.key(context)
        return key is not None and self._storage.read_ahead_holds_no_dialog(
            key, self._dialog_property
        )

    def key(self, context: TurnContext) -> str | None:
        activity = context.activity
        if activity.type != ActivityTypes.message or not activity.channel_id:
            return None
        if activity.conversation is None or not activity.conversation.id:
            return None
        return str(self._state.get_storage_key(context))

    def given(self, key: str | None, claim: Claim) -> contextlib.AbstractContextManager[None]:
        if key is None or claim.read_along is None:
            return contextlib.nullcontext()
        return self._storage.read_ahead(key, claim.read_along)


class DeliveredOnce(Middleware):  # type: ignore[misc]
    """Each delivery is handled once (teams/deliveries.py); a turn that stored work for the
    outbox wakes it, and only such a turn. A message's claim also reads its dialog state, so
    that a turn outside a dialog makes one round trip to the database before its answer (and
    one after)."""

    def __init__(
        self,
        deliveries: Deliveries,
        dialog_state: DialogStateAhead,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._deliveries = deliveries
        self._wake_outbox = wake_outbox
        self._dialog_state = dialog_state

    async def finishes_written(self) -> None:
        """Waits until the deliveries of the turns so far are written done."""
        await self._deliveries.finishes_written()

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        if _proactive(context.activity):
            await logic()
            return
        deliveries, ahead = self._deliveries, self._dialog_state
        state_key = ahead.key(context)
        claim = await deliveries.claim(context.activity, state_key)
        if claim is None:
            return  # a repeat of a delivery already handled (or being handled)
        try:
            with ahead.given(state_key, claim), watching_enqueues() as enqueued:
                await logic()
        except asyncio.CancelledError:
            # The request deadline (teams/endpoint.py) cut the turn short and answered 503:
            # the redelivery Teams sends then must be handled, not taken for a repeat.
            deliveries.abandon(claim)
            raise
        except Exception:
            # The work did not finish: Teams' redelivery (or the person's retry) may do it.
            await deliveries.release(claim)
            raise
        # Outside the try: the work is done, so its keys are finished (in the background,
        # which the deadline does not cut short), never released (done twice).
        deliveries.finish(claim)
        if enqueued.any:
            self._wake_outbox()


class ChosenLanguage(Protocol):
    async def chosen_language(self, user_id: str) -> str | None: ...


# Where a turn keeps its language for the apology of TurnErrors, which runs after it.
TURN_LANGUAGE = "handoff.turn_language"


class SpokenLanguage(Middleware):  # type: ignore[misc]
    """The turn speaks its reader's language. In a personal chat that is the person's own
    (`settings language`, else the locale of their Teams client, else English); in a channel
    or a group chat, whose messages and cards everyone there reads, the team's language
    (`case_transfer.language`). The outbox's own turns keep the language their sender chose."""

    def __init__(self, languages: ChosenLanguage, team_language: str) -> None:
        self._languages = languages
        self._team_language = team_language

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        if _proactive(activity):
            await logic()
            return
        language = await self.language_of(activity)
        context.turn_state[TURN_LANGUAGE] = language
        with speaking(language):
            await logic()

    async def language_of(self, activity: Activity) -> str:
        if conversation_kind(activity) is not ConversationKind.PERSONAL:
            return self._team_language
        sender = activity.from_property.id if activity.from_property else None
        chosen = await self._languages.chosen_language(sender) if sender else None
        return choose(chosen, activity.locale)


class ConversationMemory(Middleware):  # type: ignore[misc]
    """Where the bot can speak again: each conversation's address is stored when it is new or
    changed (not on every turn), and a group chat Teams added the bot to is announced."""

    def __init__(
        self,
        conversations: ConversationStore,
        clock: Clock,
        group_chat_joined: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self._conversations = conversations
        self._clock = clock
        self._group_chat_joined = group_chat_joined
        self._stored = StoredAddresses()

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        activity = context.activity
        if _to_remember(activity):
            await self._remember(activity)
        await logic()

    async def _remember(self, activity: Activity) -> None:
        now = self._clock.now()
        key = address_key(activity)
        if self._stored.is_news(key, now):
            address = address_of(activity, now)
            await self._conversations.save_conversation(address)
            self._stored.stored(key, now)
            log.info(
                "conversation stored",
                extra={"conversation_id": address.conversation_id, "kind": address.kind.value},
            )
        kind = conversation_kind(activity)
        if kind is ConversationKind.GROUP_CHAT and self._group_chat_joined is not None:
            await self._group_chat_joined(activity.conversation.id)


def _to_remember(activity: Activity) -> bool:
    """A message, and the bot's install (in a chat, or added to a team); not an invoke (a card
    click comes from a conversation remembered when the card was sent) nor anything else."""
    if activity.conversation is None:
        return False
    if activity.type == ActivityTypes.message:
        return True
    if activity.type == ActivityTypes.installation_update:
        return str(activity.action or "").startswith("add")
    if activity.type == ActivityTypes.conversation_update:
        bot_id = activity.recipient.id if activity.recipient else None
        return any(member.id == bot_id for member in activity.members_added or [])
    return False


def _proactive(activity: Activity) -> bool:
    """A turn of the bot's own (the outbox's sends run through the adapter as turns too), not
    an activity from Teams: no tenant to check, no delivery to claim."""
    return bool(
        activity.type == ActivityTypes.event
        and activity.name == ActivityEventNames.continue_conversation
    )
