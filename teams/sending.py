"""Proactive sends through the SDK's own continue_conversation, with failures classified so
the outbox knows whether to retry.

OutboxSender is TeamsSender as the outbox worker uses it: its sends and updates are the
requests such a turn makes, made straight to the Bot Connector client; each conversation is
paced to the Bot Connector's limits, and each send is stamped with a stable client activity
id and journaled on its outbox item before and after it goes out, so a retried item does not
send again what it sent before and a crash leaves at most the one send in flight in doubt;
that one is looked for through Graph before it is sent again (see outbox.worker and
outbox.landed_sends).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.conversation_reference_extension import get_continuation_activity
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from application.request import Card, FileCard, Said
from outbox.failures import Paced, SendFailed
from outbox.landed_sends import CLOCK_SKEW, CannotTell, LandedSends
from outbox.worker import SendJournal

from .activities import message_of
from .activity_codec import read_model, to_json
from .pacing import BOT_CONNECTOR_LIMITS, MARGIN_SECONDS, ConversationPacer

log = logging.getLogger(__name__)


def _failure(error: Exception) -> SendFailed:
    if isinstance(error, SendFailed):
        return error  # the pooled connector client classified it already
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) or {}
    retry_after: float | None = None
    raw_retry_after = headers.get("Retry-After")
    if raw_retry_after:
        try:
            retry_after = float(raw_retry_after)
        except (TypeError, ValueError):
            retry_after = None
    return SendFailed(f"{type(error).__name__}: {error}", status=status, retry_after=retry_after)


class TeamsSender:
    def __init__(self, adapter: CloudAdapter, bot_app_id: str) -> None:
        self._adapter = adapter
        self._bot_app_id = bot_app_id

    @property
    def adapter(self) -> CloudAdapter:
        return self._adapter

    async def _run(self, reference: dict[str, Any], work: Any) -> Any:
        result: dict[str, Any] = {}

        async def callback(turn_context: TurnContext) -> None:
            try:
                result["value"] = await work(turn_context)
            except Exception as error:
                # Raised inside the turn, it would go to the adapter's on_turn_error, which
                # swallows it (and apologises into the chat): the send would pass for done.
                result["error"] = error

        try:
            await self._adapter.continue_conversation(
                read_model(ConversationReference, reference), callback, self._bot_app_id
            )
        except Exception as error:
            raise _failure(error) from error
        failed = result.get("error")
        if failed is not None:
            raise _failure(failed) from failed
        return result.get("value")

    async def run_turn(
        self, reference: dict[str, Any], work: Callable[[TurnContext], Awaitable[Any]]
    ) -> Any:
        """Runs `work` in a turn of the bot's own on that conversation (what it sends there is
        paced like a reply); SendFailed, classified for the outbox, when it fails."""
        return await self._run(reference, work)

    async def send(self, reference: dict[str, Any], message: Said | Activity) -> str:
        """Posts the message (a new thread in a channel); returns its activity id."""
        activity = as_activity(message)

        async def work(turn_context: TurnContext) -> str:
            response = await turn_context.send_activity(activity)
            return str(response.id) if response is not None and response.id else ""

        sent: str = await self._run(reference, work)
        return sent

    async def update(
        self, reference: dict[str, Any], activity_id: str, message: Said | Activity
    ) -> None:
        """Replaces a posted message in place (PUT), for everyone who sees it."""
        activity = as_activity(message)
        activity.id = activity_id

        async def work(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._run(reference, work)

    async def team_group_id(self, reference: dict[str, Any], team_id: str) -> str | None:
        """The Azure AD group id of a team the bot is in (what Graph names the team by)."""

        async def work(turn_context: TurnContext) -> str | None:
            connector = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            teams = getattr(connector, "teams", None)
            if teams is not None:  # the pooled client (teams/connector_client.py)
                details = await teams.get_team_details(team_id)
            else:
                details = await TeamsInfo.get_team_details(turn_context, team_id)
            return details.aad_group_id if details is not None else None

        group: str | None = await self._run(reference, work)
        return group


def as_activity(message: Said | Activity) -> Activity:
    """A use case's message as the activity that carries it (an activity stays as it is)."""
    return message_of(message) if isinstance(message, str | Card | FileCard) else message


CLIENT_ACTIVITY_ID = "clientActivityId"

# An item's send waits up to this long for its conversation's place; a longer wait puts the
# item back (Paced) and the worker goes on with other conversations meanwhile. It sends one
# item at a time: sleeping through a busy channel's per-second window (up to a second each
# time) held everyone's messages back to the channel's 7 sends a second.
MAX_INLINE_WAIT_SECONDS = MARGIN_SECONDS
# A dead letter's follow-up (no item to put back) waits out the per-second window.
FOLLOW_UP_MAX_WAIT_SECONDS = BOT_CONNECTOR_LIMITS[0][1] + MARGIN_SECONDS
# Graph lists a message a moment after Teams takes it: a send in doubt is looked for once
# it is at least this old.
SETTLE_SECONDS = 3.0


def conversation_of(reference: dict[str, Any]) -> str:
    conversation = reference.get("conversation") or {}
    return str(conversation.get("id") or "")


def stamp(activity: Activity, client_activity_id: str) -> None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    activity.channel_data = {**data, CLIENT_ACTIVITY_ID: client_activity_id}


class OutboxSender(TeamsSender):
    def __init__(self, adapter: CloudAdapter, bot_app_id: str, pacer: ConversationPacer) -> None:
        super().__init__(adapter, bot_app_id)
        self._pacer = pacer
        self._landed: LandedSends | None = None
        # Where a proactive turn gets its Bot Connector client (the pooled one).
        identity = adapter.create_claims_identity(bot_app_id)
        self._connectors = adapter.bot_framework_authentication.create_connector_factory(identity)

    def look_for_landed_sends(self, landed: LandedSends) -> None:
        """From now on a send in doubt is looked for through Graph before it is sent again
        (set after construction: finding a channel's team asks this sender)."""
        self._landed = landed

    async def _pace(
        self, reference: dict[str, Any], max_wait: float = MAX_INLINE_WAIT_SECONDS
    ) -> None:
        conversation_id = conversation_of(reference)
        # The place is taken before sending: a refused send counts against the limit too.
        delay = self._pacer.reserve(conversation_id, max_wait)
        if delay > max_wait:
            raise Paced(conversation_id, delay)
        if delay > 0:
            await asyncio.sleep(delay)

    async def send(
        self,
        reference: dict[str, Any],
        message: Said | Activity,
        journal: SendJournal | None = None,
    ) -> str:
        activity = as_activity(message)
        if journal is None:
            await self._pace(reference, FOLLOW_UP_MAX_WAIT_SECONDS)
            return await self._post(reference, activity)
        client_activity_id, done = journal.next_step()
        if done is not None:
            return done  # sent by an earlier attempt of this item
        stamp(activity, client_activity_id)
        landed = await self._landed_before(journal, client_activity_id, reference, activity)
        if landed is not None:
            await journal.record(landed)
            return landed
        await self._pace(reference)
        await journal.begin(client_activity_id)
        try:
            sent = await self._post(reference, activity)
        except SendFailed as error:
            if error.status is not None:
                await journal.refused()  # answered: it did not arrive, nothing in doubt
            raise
        await journal.record(sent)
        return sent

    async def _landed_before(
        self,
        journal: SendJournal,
        client_activity_id: str,
        reference: dict[str, Any],
        activity: Activity,
    ) -> str | None:
        """The id of the message an earlier attempt of this send left in doubt, if Graph
        shows it arrived; None when it did not (or nothing is in doubt): send it."""
        since = journal.in_doubt_since(client_activity_id)
        if since is None:
            return None
        context = {"client_activity_id": client_activity_id, "began": since.isoformat()}
        if self._landed is None:
            log.warning(
                "a send in doubt is sent again unchecked (no Graph access): it may show twice",
                extra=context,
            )
            return None
        waited = (journal.clock.now() - since).total_seconds()
        if waited < SETTLE_SECONDS:
            raise Paced(
                conversation_of(reference),
                SETTLE_SECONDS - waited,
                "has a send in doubt that Graph cannot list yet",
            )
        known = await journal.sent_nearby(since - CLOCK_SKEW)
        try:
            found = await self._landed.find(reference, to_json(activity), since, known)
        except CannotTell as error:
            log.warning(
                "could not tell whether a send in doubt arrived; sending it again",
                extra={**context, "reason": str(error)},
            )
            return None
        if found is None:
            log.info("a send in doubt had not arrived; sending it", extra=context)
        else:
            log.info("a send in doubt had arrived; not sending it again", extra=context)
        return found

    async def update(
        self, reference: dict[str, Any], activity_id: str, message: Said | Activity
    ) -> None:
        activity = as_activity(message)
        # Not journaled: replacing a card with its current state again is harmless and
        # brings it up to date.
        await self._pace(reference)
        outgoing = _proactive(activity, reference)
        outgoing.id = activity_id
        connector = await self._connector(outgoing.service_url)
        try:
            await connector.conversations.update_activity(
                outgoing.conversation.id, activity_id, outgoing
            )
        except Exception as error:
            raise _failure(error) from error

    # The outbox's sends and updates go to the Bot Connector client straight, as the request
    # a proactive turn's send_activity or update_activity makes (tests/teams/test_sending.py
    # compares them), without the turn: its middleware and a deep copy of the card took
    # about a seventh of an outbox message's samples in py-spy. The outbox paces them
    # itself.
    async def _post(self, reference: dict[str, Any], activity: Activity) -> str:
        outgoing = _proactive(activity, reference)
        outgoing.type = outgoing.type or ActivityTypes.message
        outgoing.input_hint = outgoing.input_hint or "acceptingInput"
        outgoing.id = None
        connector = await self._connector(outgoing.service_url)
        conversations = connector.conversations
        try:
            # Always a reply, to the continuation's own id, as the SDK's proactive turn sends.
            response = await conversations.reply_to_activity(
                outgoing.conversation.id, outgoing.reply_to_id, outgoing
            )
        except Exception as error:
            raise _failure(error) from error
        return str(response.id) if response is not None and response.id else ""

    async def _connector(self, service_url: str) -> Any:
        """The Bot Connector client a proactive turn gets for `service_url`."""
        try:
            return await self._connectors.create(service_url, None)
        except Exception as error:
            raise _failure(error) from error


def _proactive(activity: Activity, reference: dict[str, Any]) -> Activity:
    """A copy of `activity` addressed as a proactive turn addresses what it sends: from the
    bot to the conversation, in reply to the turn's continuation activity."""
    continuation = get_continuation_activity(read_model(ConversationReference, reference))
    return TurnContext.apply_conversation_reference(
        copy.copy(activity), TurnContext.get_conversation_reference(continuation)
    )
