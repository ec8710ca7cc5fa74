"""TeamsSender as the outbox worker uses it: each conversation paced to the Bot Connector's
limits, and each send stamped with a stable client activity id and journaled on its outbox
item before and after it goes out, so a retried item does not send again what it sent before
and a crash leaves at most the one send in flight in doubt; that one is looked for through
Graph before it is sent again (see outbox.worker and outbox.landed_sends)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from outbox.landed_sends import CLOCK_SKEW, CannotTell, LandedSends
from outbox.worker import CURRENT_JOURNAL, SendJournal
from teams.activity_codec import to_json
from teams.pacing import BOT_CONNECTOR_LIMITS, MARGIN_SECONDS, ConversationPacer, Paced
from teams.reply_pacing import already_paced
from teams.sending import SendFailed, TeamsSender

CLIENT_ACTIVITY_ID = "clientActivityId"

# Waits up to this long are slept through; longer ones put the item back (Paced), so one busy
# conversation does not hold up the others. Any wait for the per-second window (up to its
# second plus the margin) is slept through: only the 30-second and hourly windows put an
# item back, for longer than a moment.
MAX_INLINE_WAIT_SECONDS = BOT_CONNECTOR_LIMITS[0][1] + MARGIN_SECONDS
# Graph lists a message a moment after Teams takes it: a send in doubt is looked for once
# it is at least this old.
SETTLE_SECONDS = 3.0

log = logging.getLogger(__name__)


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

    def look_for_landed_sends(self, landed: LandedSends) -> None:
        """From now on a send in doubt is looked for through Graph before it is sent again
        (set after construction: finding a channel's team asks this sender)."""
        self._landed = landed

    async def _pace(self, reference: dict[str, Any]) -> None:
        conversation_id = conversation_of(reference)
        # The place is taken before sending: a refused send counts against the limit too.
        delay = self._pacer.reserve(conversation_id, MAX_INLINE_WAIT_SECONDS)
        if delay > MAX_INLINE_WAIT_SECONDS:
            raise Paced(conversation_id, delay)
        if delay > 0:
            await asyncio.sleep(delay)

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        journal = CURRENT_JOURNAL.get()
        if journal is None:
            await self._pace(reference)
            with already_paced():
                return await super().send(reference, activity)
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
            with already_paced():
                sent = await super().send(reference, activity)
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

    async def update(self, reference: dict[str, Any], activity_id: str, activity: Activity) -> None:
        # Not journaled: replacing a card with its current state again is harmless and
        # brings it up to date.
        await self._pace(reference)
        with already_paced():
            await super().update(reference, activity_id, activity)
