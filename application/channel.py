"""The Case Transfer channel: where handoff cards are posted. `setup`, as an @mention in a
channel, binds it (audited, and the cards of open handoffs still waiting are posted there);
otherwise the channel of the process file is used."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from handoff import effects
from handoff.access import CaseTransferTeam
from handoff.models import AuditEntry, AuditKind, Handoff
from handoff.ports import (
    Clock,
    ConversationKind,
    ConversationStore,
    HandoffRepository,
    Outbox,
    SettingsStore,
)

from . import messages
from .access import RequestAccess
from .request import Reply, Request

CASE_TRANSFER_CHANNEL = "case_transfer_channel_id"
# Cards posted when the channel is set up, for handoffs requested before: the oldest first.
WAITING_CARDS_AT_SETUP = 500
WAITING_CARDS_PAGE = 50


async def case_transfer_channel(store: SettingsStore, configured: str) -> str | None:
    """The channel bound with `setup`, else the one in the config file."""
    return await store.get_setting(CASE_TRANSFER_CHANNEL) or configured or None


class Store(HandoffRepository, SettingsStore, Outbox, Protocol):
    pass


class TeamStore(SettingsStore, ConversationStore, Protocol):
    pass


def case_transfer_team(
    store: TeamStore, configured_team: str, configured_channel: str
) -> CaseTransferTeam:
    """The configured Case Transfer team, else the team of the bound channel."""

    async def team() -> str:
        if configured_team:
            return configured_team
        return await store.team_of_bound_channel(CASE_TRANSFER_CHANNEL, configured_channel) or ""

    return team


class ChannelBinding:
    def __init__(
        self, store: Store, clock: Clock, access: RequestAccess, wake_outbox: Callable[[], None]
    ) -> None:
        self._store = store
        self._clock = clock
        self._access = access
        self._wake_outbox = wake_outbox

    async def setup(self, request: Request) -> Reply:
        conversation = request.conversation
        if conversation.kind is not ConversationKind.CHANNEL or conversation.address is None:
            return [messages.setup_in_channel()]
        refusal = await self._access.bind_channel(request)
        if refusal is not None:
            return [refusal]
        # The edge stored this channel's address when the message came in.
        address = conversation.address(self._clock.now())
        channel = address.channel_id or address.conversation_id
        previous = await self._store.get_setting(CASE_TRANSFER_CHANNEL)
        audit = AuditEntry(
            kind=AuditKind.CHANNEL_BOUND,
            actor=request.actor,
            at=address.updated_at,
            subject=channel,
            data={
                **conversation.names,
                "team_id": address.team_id or "",
                "previous_channel": previous if previous and previous != channel else "",
            },
        )
        await self._store.set_setting(CASE_TRANSFER_CHANNEL, channel, audit)
        posted = await self._post_waiting_cards(channel)
        return [messages.setup_done(posted)]

    async def _post_waiting_cards(self, channel_id: str) -> int:
        """Cards of open handoffs requested before the channel was bound (at most
        WAITING_CARDS_AT_SETUP), read a page at a time: hundreds of handoffs read at once
        would leave the process megabytes larger for good (bench: 2.4 MB for 500)."""
        count = 0
        left = WAITING_CARDS_AT_SETUP
        after: Handoff | None = None
        while left > 0:
            limit = min(WAITING_CARDS_PAGE, left)
            page = await self._store.list_open(None, limit=limit, after=after)
            for handoff in page:
                if await self._store.card_of(handoff.id) is None:
                    message = effects.post_card(handoff, self._clock.now(), channel_id)
                    await self._store.enqueue_message(message)
                    count += 1
            if len(page) < limit:
                break
            left -= len(page)
            after = page[-1]
        if count:
            self._wake_outbox()
        return count
