"""The access policy (handoff/access.py) asked for a Teams turn: who is asking, whether they
are in a team, and who else sees the answer.

Team membership is asked of the Bot Connector (GET /v3/conversations/{team id}/members/{user
id}, 404 for a stranger), group membership of Microsoft Graph (graph/group_membership.py); both
are remembered for a while, so a click costs one look-up per person and team now and then;
when either cannot answer, the person is refused and can try again. The team roster that
conversationUpdate events carry was not used: Teams only sends changes, so a bot installed in
an existing team never hears of the people already in it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from botbuilder.core import BotAdapter, TurnContext
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import ClientRequestError

from application.outbox_steps.follow_ups import case_transfer_channel
from application.remembered import MEMBER_TTL, STRANGER_TTL, RememberedAnswers
from handoff.access import (
    AccessPolicy,
    Audience,
    CaseTransferTeam,
    MemberOf,
    Refusal,
    Viewer,
)
from handoff.models import Handoff, Person
from handoff.ports import Clock, ConversationKind, ConversationStore, GroupChatStore, SettingsStore
from teams.conversations import actor_of, conversation_kind, team_of

log = logging.getLogger(__name__)

_LOOKUP_TIMEOUT_SECONDS = 3.0
# People whose addresses are remembered (an organization's support engineers, not more).
_MAX_ADDRESSES = 10_000
# The Connector answers 404 (MemberNotFoundInConversation) for someone not in the team.
_NOT_A_MEMBER = frozenset({403, 404})


class Store(SettingsStore, ConversationStore, GroupChatStore, Protocol):
    pass


def case_transfer_team(
    store: Store, configured_team: str, configured_channel: str
) -> CaseTransferTeam:
    """The configured Case Transfer team, else the team of the bound channel."""

    async def team() -> str:
        if configured_team:
            return configured_team
        channel = await case_transfer_channel(store, configured_channel)
        address = await store.channel_conversation(channel) if channel else None
        return (address.team_id if address else None) or ""

    return team


class TeamMembership:
    """Asks the Bot Connector whether people are in a team, remembering answers a while:
    members for `member_ttl`, strangers (who may just have been added) for less."""

    def __init__(
        self,
        clock: Clock,
        member_ttl: timedelta = MEMBER_TTL,
        stranger_ttl: timedelta = STRANGER_TTL,
    ) -> None:
        self._known: RememberedAnswers[tuple[str, str]] = RememberedAnswers(
            clock, member_ttl, stranger_ttl
        )
        # The e-mail address and sign-in name the Connector gave with a "yes", by Teams id:
        # how a person named by e-mail (a handoff's receiver) is recognised when they click.
        self._addresses: dict[str, frozenset[str]] = {}

    def addresses(self, person: Person) -> frozenset[str]:
        """The person's addresses, lower-cased, as far as a membership look-up told them."""
        return self._addresses.get(person.id, frozenset())

    def checker(self, turn_context: TurnContext, person: Person) -> MemberOf:
        async def member_of(team_id: str) -> bool | None:
            return await self.is_member(turn_context, team_id, person)

        return member_of

    async def is_member(
        self, turn_context: TurnContext, team_id: str, person: Person
    ) -> bool | None:
        known = self._known.get((team_id, person.id))
        if known is not None:
            return known
        member = await self._ask(turn_context, team_id, person)
        if member is not None:
            self._known.put((team_id, person.id), member)
        return member

    async def _ask(self, turn_context: TurnContext, team_id: str, person: Person) -> bool | None:
        # Not TeamsInfo.get_team_member: botbuilder 4.17 asks the turn's conversation there
        # instead of the team it is given, which from a personal chat says nothing.
        connector = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        if connector is None:
            log.warning("no connector client to check team membership")
            return None
        try:
            async with asyncio.timeout(_LOOKUP_TIMEOUT_SECONDS):
                member = await connector.conversations.get_conversation_member(team_id, person.id)
        except ErrorResponseException as error:
            status = getattr(error.response, "status_code", None)
            if status in _NOT_A_MEMBER:
                return False
            log.warning("team membership look-up failed", extra={"status": status})
            return None
        except (ClientRequestError, TimeoutError, OSError) as error:
            log.warning("team membership look-up failed", extra={"reason": type(error).__name__})
            return None
        extra = getattr(member, "additional_properties", None) or {}
        found = {extra.get("email"), extra.get("userPrincipalName")}
        if len(self._addresses) >= _MAX_ADDRESSES:
            self._addresses.clear()  # a bound on memory: the next look-ups fill it again
        self._addresses[person.id] = frozenset(
            a.strip().lower() for a in found if isinstance(a, str) and a.strip()
        )
        return True


@dataclass(frozen=True)
class TurnAccess:
    """The access policy asked for whoever sent this turn, in the conversation it came from;
    each method answers what to tell the person when refused, or None when allowed."""

    policy: AccessPolicy
    membership: TeamMembership
    store: Store

    def member_of(self, turn_context: TurnContext) -> MemberOf:
        return self.membership.checker(turn_context, actor_of(turn_context.activity))

    async def audience(self, turn_context: TurnContext) -> Audience:
        activity = turn_context.activity
        kind = conversation_kind(activity)
        if kind is ConversationKind.CHANNEL:
            return Audience(kind, team_id=team_of(activity))
        if kind is ConversationKind.GROUP_CHAT:
            chat = await self.store.group_chat_by_id(activity.conversation.id)
            return Audience(kind, chat_case=chat.case_number if chat else None)
        return Audience(kind)

    async def read(
        self, turn_context: TurnContext, handoff: Handoff | None, case: str | None = None
    ) -> str | None:
        """May this handoff (or, with None, the news that case `case` has none) be shown?"""
        refusal = await self.policy.may_read(
            actor_of(turn_context.activity),
            handoff,
            self.member_of(turn_context),
            await self.audience(turn_context),
            case=case,
        )
        return _said(refusal)

    def viewer(self, turn_context: TurnContext, handoff: Handoff) -> Viewer:
        """Whose copy of the handoff's card this turn's answer is (see AccessPolicy.viewer)."""
        personal = conversation_kind(turn_context.activity) is ConversationKind.PERSONAL
        return self.policy.viewer(actor_of(turn_context.activity), handoff, personal=personal)

    async def see_open(self, turn_context: TurnContext) -> str | None:
        refusal = await self.policy.may_see_open_handoffs(
            actor_of(turn_context.activity),
            self.member_of(turn_context),
            await self.audience(turn_context),
        )
        return _said(refusal)

    async def show_own(self, turn_context: TurnContext) -> str | None:
        refusal = await self.policy.may_show_own(
            actor_of(turn_context.activity), await self.audience(turn_context)
        )
        return _said(refusal)

    async def request(self, turn_context: TurnContext) -> str | None:
        refusal = await self.policy.may_request(
            actor_of(turn_context.activity), self.member_of(turn_context)
        )
        return _said(refusal)

    async def sees_every_case(self, turn_context: TurnContext) -> bool:
        return await self.policy.sees_every_case(
            actor_of(turn_context.activity), self.member_of(turn_context)
        )

    async def act(self, turn_context: TurnContext, verb: str, handoff: Handoff) -> str | None:
        """The card buttons' rules, for the commands that change a handoff the same way."""
        refusal = await self.policy.may_act(
            verb, actor_of(turn_context.activity), handoff, self.member_of(turn_context)
        )
        return _said(refusal)

    async def read_and_act(
        self, turn_context: TurnContext, verb: str, handoff: Handoff | None, case: str
    ) -> str | None:
        """For a command or form that changes case `case`'s `handoff` (None: it has none): the
        read policy first, so a stranger learns nothing of the case, not even whether it
        exists; then the card buttons' rules for `verb`."""
        refusal = await self.read(turn_context, handoff, case=case)
        if refusal is None and handoff is not None:
            refusal = await self.act(turn_context, verb, handoff)
        return refusal

    async def bind_channel(self, turn_context: TurnContext) -> str | None:
        refusal = await self.policy.may_bind_channel(
            actor_of(turn_context.activity), self.member_of(turn_context)
        )
        return _said(refusal)


def _said(refusal: Refusal | None) -> str | None:
    return refusal.said if refusal is not None else None
