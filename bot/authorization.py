"""Who may act on a handoff card, decided on the server whatever the card's data says.

Transfer cards are acted on by members of the Case Transfer team (and of the configured
`case_transfer.allowed_teams`, or of the Entra groups in `case_transfer.allowed_groups`),
by each handoff's requester and owner and by the leads; the commands that change a handoff
(`longrunning <case> <why>`, `escalate <case> technical`, the group chat's owners form)
follow the same rules as the card buttons. Who may bind the Case Transfer channel with
`setup` is decided here too (by team only). Team membership is asked of the Bot Connector
(GET /v3/conversations/{team id}/members/{user id}, 404 for a stranger), group membership of
Microsoft Graph (bot/group_membership.py); both are remembered for a while, so a click costs
one look-up per person and team now and then; when either cannot answer, the click is
refused and can be retried. The team roster that conversationUpdate events carry was not
used: Teams only sends changes, so a bot installed in an existing team never hears of the
people already in it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from botbuilder.core import BotAdapter, TurnContext
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import ClientRequestError

from handoff.models import Handoff, Person
from handoff.ports import Clock, ConversationStore, SettingsStore

from . import messages
from .conversations import actor_of
from .effects import case_transfer_channel
from .refusals import log_refusal
from .remembered import MEMBER_TTL, STRANGER_TTL, RememberedAnswers

log = logging.getLogger(__name__)

MemberOf = Callable[[str], Awaitable[bool | None]]
"""Whether the clicker is in the team with this id; None when that cannot be told now."""

InAllowedGroups = Callable[[Person], Awaitable[bool | None]]
"""Whether a person is in one of the configured Entra groups; None when that cannot be told
now (see bot/group_membership.py)."""

REQUESTER_ONLY = frozenset({"cancel", "provide_info"})
REQUESTER_OR_LEAD = frozenset({"back_to_queue"})

_LOOKUP_TIMEOUT_SECONDS = 3.0
# The Connector answers 404 (MemberNotFoundInConversation) for someone not in the team.
_NOT_A_MEMBER = frozenset({403, 404})


class Store(SettingsStore, ConversationStore, Protocol):
    pass


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
                await connector.conversations.get_conversation_member(team_id, person.id)
        except ErrorResponseException as error:
            status = getattr(error.response, "status_code", None)
            if status in _NOT_A_MEMBER:
                return False
            log.warning("team membership look-up failed", extra={"status": status})
            return None
        except (ClientRequestError, TimeoutError, OSError) as error:
            log.warning("team membership look-up failed", extra={"reason": type(error).__name__})
            return None
        return True


class TransferAuthorization:
    def __init__(
        self,
        store: Store,
        is_lead: Callable[[Person], bool],
        *,
        leads_configured: bool = True,
        configured_team: str = "",
        configured_channel: str = "",
        allowed_teams: Sequence[str] = (),
        in_allowed_groups: InAllowedGroups | None = None,
    ) -> None:
        self._store = store
        self._is_lead = is_lead
        self._leads_configured = leads_configured
        self._configured_team = configured_team
        self._configured_channel = configured_channel
        self._allowed_teams = tuple(allowed_teams)
        self._in_allowed_groups = in_allowed_groups

    async def teams(self) -> list[str]:
        """The Case Transfer team (configured, else the team of the bound channel) and the
        allowed teams; empty while none is known."""
        team = await self._case_transfer_team()
        return list(dict.fromkeys(t for t in (team, *self._allowed_teams) if t))

    async def _case_transfer_team(self) -> str:
        if self._configured_team:
            return self._configured_team
        channel = await case_transfer_channel(self._store, self._configured_channel)
        address = await self._store.channel_conversation(channel) if channel else None
        return (address.team_id if address else None) or ""

    async def setup_refusal(self, actor: Person, member_of: MemberOf) -> str | None:
        """Why the actor may not bind the Case Transfer channel (which also names the team
        whose members act on cards); None if they may. Leads may; with no leads configured,
        anyone may bind the first channel, and then only members of the bound team rebind."""
        if self._is_lead(actor):
            return None
        if self._leads_configured:
            return self._refused_setup("not a lead", actor, messages.SETUP_NOT_ALLOWED)
        team = await self._case_transfer_team()
        if not team:
            return None
        member = await member_of(team)
        if member:
            return None
        if member is None:
            return self._refused_setup("membership unknown", actor, messages.MEMBERSHIP_UNKNOWN)
        return self._refused_setup("not in the bound team", actor, messages.SETUP_BOUND_TEAM_ONLY)

    @staticmethod
    def _refused_setup(reason: str, actor: Person, said: str) -> str:
        log_refusal("setup refused", reason, "setup", actor)
        return said

    async def refusal(
        self, verb: str, actor: Person, handoff: Handoff, member_of: MemberOf
    ) -> str | None:
        """Why the actor may not press this button on this handoff's card; None if they may."""
        is_requester = actor.id == handoff.requester.id
        if verb in REQUESTER_ONLY:
            if is_requester:
                return None
            who = handoff.requester.name or "the requester"
            return self._refused(
                "not the requester", verb, actor, handoff, messages.only_the_requester(who)
            )
        is_lead = self._is_lead(actor)
        if verb in REQUESTER_OR_LEAD:
            if is_requester or is_lead:
                return None
            return self._refused(
                "neither requester nor lead", verb, actor, handoff, messages.ONLY_REQUESTER_OR_LEAD
            )
        is_owner = handoff.owner is not None and actor.id == handoff.owner.id
        if is_requester or is_owner or is_lead:
            return None
        teams = await self.teams()
        groups = self._in_allowed_groups
        if not teams and groups is None:
            return self._refused(
                "no Case Transfer team known", verb, actor, handoff, messages.NO_TRANSFER_TEAM
            )
        unknown = False
        for team in teams:
            member = await member_of(team)
            if member:
                return None
            unknown = unknown or member is None
        if groups is not None:
            member = await groups(actor)
            if member:
                return None
            unknown = unknown or member is None
        if unknown:
            return self._refused(
                "membership unknown", verb, actor, handoff, messages.MEMBERSHIP_UNKNOWN
            )
        if not teams:
            return self._refused(
                "no Case Transfer team known", verb, actor, handoff, messages.NO_TRANSFER_TEAM
            )
        return self._refused("not in the team", verb, actor, handoff, messages.NOT_IN_TEAM)

    @staticmethod
    def _refused(reason: str, verb: str, actor: Person, handoff: Handoff, said: str) -> str:
        log_refusal("card action refused", reason, verb, actor, handoff_id=handoff.id)
        return said


@dataclass(frozen=True)
class TurnAuthorization:
    """The card rules applied to whoever sent this turn: for the commands that change a
    handoff (the same verbs as its card buttons) and for `setup`."""

    authorization: TransferAuthorization
    membership: TeamMembership

    async def refusal(self, turn_context: TurnContext, verb: str, handoff: Handoff) -> str | None:
        actor = actor_of(turn_context.activity)
        member_of = self.membership.checker(turn_context, actor)
        return await self.authorization.refusal(verb, actor, handoff, member_of)

    async def setup_refusal(self, turn_context: TurnContext) -> str | None:
        actor = actor_of(turn_context.activity)
        member_of = self.membership.checker(turn_context, actor)
        return await self.authorization.setup_refusal(actor, member_of)
