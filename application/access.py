"""The access policy (handoff/access.py) asked for a request: who is asking, whether they are
in a team (application/team_membership.py), and who else sees the answer. Every use case asks
here; the edge never decides who may read or act.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handoff.access import AccessPolicy, Audience, Refusal, Viewer
from handoff.models import Handoff
from handoff.ports import ConversationKind, ConversationStore, GroupChatStore, SettingsStore

from .request import Request


class Store(SettingsStore, ConversationStore, GroupChatStore, Protocol):
    pass


@dataclass(frozen=True)
class RequestAccess:
    """The access policy asked for whoever sent this request, in the conversation it came from;
    each method answers what to tell the person when refused, or None when allowed."""

    policy: AccessPolicy
    store: Store

    async def audience(self, request: Request) -> Audience:
        conversation = request.conversation
        if conversation.kind is ConversationKind.CHANNEL:
            return Audience(conversation.kind, team_id=conversation.team_id)
        if conversation.kind is ConversationKind.GROUP_CHAT:
            chat = await self.store.group_chat_by_id(conversation.id)
            return Audience(conversation.kind, chat_case=chat.case_number if chat else None)
        return Audience(conversation.kind)

    async def read(
        self, request: Request, handoff: Handoff | None, case: str | None = None
    ) -> str | None:
        """May this handoff (or, with None, the news that case `case` has none) be shown?"""
        refusal = await self.policy.may_read(
            request.actor,
            handoff,
            request.member_of,
            await self.audience(request),
            case=case,
        )
        return _said(refusal)

    def viewer(self, request: Request, handoff: Handoff) -> Viewer:
        """Whose copy of the handoff's card this turn's answer is (see AccessPolicy.viewer)."""
        return self.policy.viewer(request.actor, handoff, personal=request.conversation.personal)

    async def see_open(self, request: Request) -> str | None:
        refusal = await self.policy.may_see_open_handoffs(
            request.actor,
            request.member_of,
            await self.audience(request),
        )
        return _said(refusal)

    async def show_own(self, request: Request) -> str | None:
        refusal = await self.policy.may_show_own(request.actor, await self.audience(request))
        return _said(refusal)

    async def request(self, request: Request) -> str | None:
        refusal = await self.policy.may_request(request.actor, request.member_of)
        return _said(refusal)

    async def sees_every_case(self, request: Request) -> bool:
        return await self.policy.sees_every_case(request.actor, request.member_of)

    async def act(self, request: Request, verb: str, handoff: Handoff) -> str | None:
        """The card buttons' rules, for the commands that change a handoff the same way."""
        refusal = await self.policy.may_act(verb, request.actor, handoff, request.member_of)
        return _said(refusal)

    async def read_and_act(
        self, request: Request, verb: str, handoff: Handoff | None, case: str
    ) -> str | None:
        """For a command or form that changes case `case`'s `handoff` (None: it has none): the
        read policy first, so a stranger learns nothing of the case, not even whether it
        exists; then the card buttons' rules for `verb`."""
        refusal = await self.read(request, handoff, case=case)
        if refusal is None and handoff is not None:
            refusal = await self.act(request, verb, handoff)
        return refusal

    async def bind_channel(self, request: Request) -> str | None:
        refusal = await self.policy.may_bind_channel(request.actor, request.member_of)
        return _said(refusal)


def _said(refusal: Refusal | None) -> str | None:
    return refusal.said if refusal is not None else None
