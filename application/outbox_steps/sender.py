"""What the outbox steps need of Teams: a message sent into a stored conversation, or one
replaced in place (teams/sending.py is the real one); and where a person's chat is."""

from __future__ import annotations

from typing import Any, Protocol

from application.request import Said
from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationStore
from outbox.worker import SendJournal


class Sender(Protocol):
    async def send(
        self, reference: dict[str, Any], message: Said, journal: SendJournal | None = None
    ) -> str:
        """Posts the message (a new thread in a channel); returns its activity id. With the
        item's journal, a send an earlier attempt made is not made again."""

    async def update(self, reference: dict[str, Any], activity_id: str, message: Said) -> None:
        """Replaces a posted message in place, for everyone who sees it."""


async def personal_chat(store: ConversationStore, person: Person) -> ConversationAddress | None:
    """The person's chat with the bot, found by Teams id, else by directory id (a lead or an
    admin named in the configuration is known by the latter)."""
    address = await store.personal_conversation(person.id)
    if address is None and person.aad_object_id:
        address = await store.personal_conversation(person.aad_object_id)
    return address


# Teams' user ids (MRIs) as activities carry them; what a refresh of a card names its people by.
_TEAMS_USER = "29:"


async def teams_user_id(store: ConversationStore, person: Person) -> str | None:
    """The person's Teams user id: their own id when it is one (a requester, an owner), else
    the one their personal chat with the bot was stored with (a lead named in the configuration
    by directory id); None for someone known only by e-mail or who never chatted with the bot."""
    if person.id.startswith(_TEAMS_USER):
        return person.id
    address = await personal_chat(store, person)
    user = address.user if address is not None else None
    return user.id if user is not None and user.id.startswith(_TEAMS_USER) else None
