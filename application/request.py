"""What a use case is given and what it gives back, as plain values: the Teams edge turns an
activity into a Request and the Said items of a reply into messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from cards.elements import Json
from handoff.access import MemberOf
from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationKind


async def _unknown_membership(_team_id: str) -> bool | None:
    return None


@dataclass(frozen=True)
class Conversation:
    """Where the request came from."""

    id: str
    kind: ConversationKind
    team_id: str | None = None
    # The team's and channel's names as Teams gave them (team_name, channel_name).
    names: Mapping[str, str] = field(default_factory=dict)
    # The address to store for later messages; built on demand (it costs a serialization).
    address: Callable[[datetime], ConversationAddress] | None = None

    @property
    def personal(self) -> bool:
        return self.kind is ConversationKind.PERSONAL


@dataclass(frozen=True)
class Request:
    """Who asks, from where, with what: everything a use case may know of the turn."""

    actor: Person
    conversation: Conversation
    args: tuple[str, ...] = ()
    # The time zone the person's Teams client reported, if any.
    client_zone: str | None = None
    locale: str | None = None
    # Whether the actor is in a team (asked of Teams only when a rule needs it).
    member_of: MemberOf = _unknown_membership
    # The actor's e-mail and sign-in name, as far as a membership look-up told them.
    addresses: Callable[[], frozenset[str]] = frozenset
    # The message holding the card that was clicked, for a card action.
    message_id: str | None = None

    def with_args(self, args: tuple[str, ...]) -> Request:
        return replace(self, args=args)


@dataclass(frozen=True)
class Card:
    """An Adaptive Card to show (the edge fits it to Teams' limits and adds its summary)."""

    content: Json


@dataclass(frozen=True)
class FileCard:
    """An attachment Teams draws itself, not an Adaptive Card: the offer of a file (the
    consent card) or the card of a file sent."""

    content_type: str
    content: Json
    name: str | None = None
    content_url: str | None = None


Said = str | Card | FileCard
"""One message of a reply: text, a card, or a file's card."""

Reply = list[Said]
"""What a use case answers, message by message; empty for nothing to say."""

UseCase = Callable[[Request], Awaitable[Reply]]
