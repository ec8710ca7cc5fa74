"""Which language a message the bot starts on its own is written in. A reply speaks the
language of the turn it answers; a reminder, a digest, an approval card or a notice has no
turn of its reader's, so the step that writes it asks here: a person gets their own language
(`settings language`), else the one their Teams client reported when they last wrote to the
bot, else English; the Case Transfer channel and the cases' group chats, read by the whole
team, get the team's (`case_transfer.language`), which the steps are given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationStore, UserSettingsStore
from i18n import speaking
from i18n.languages import choose

from .sender import personal_chat


class Store(UserSettingsStore, ConversationStore, Protocol):
    pass


def client_locale(address: ConversationAddress | None) -> str | None:
    """The locale Teams reported in the conversation when its address was last stored (the
    SDK's conversation reference carries the activity's locale)."""
    locale = address.reference.get("locale") if address is not None else None
    return locale if isinstance(locale, str) and locale else None


async def language_of(
    store: Store, person: Person, address: ConversationAddress | None = None
) -> str:
    """The language to write to `person` in. `address`, their personal chat when the caller
    has it already, saves looking it up again."""
    if address is None:
        address = await personal_chat(store, person)
    settings = await store.user_settings(person.id)
    user = address.user if address is not None else None
    if settings is None and user is not None and user.id != person.id:
        # Someone the configuration names by directory id (a lead, an SME, an admin) saved
        # their settings under the Teams id their chat with the bot has.
        settings = await store.user_settings(user.id)
    return choose(settings.language if settings is not None else None, client_locale(address))


@asynccontextmanager
async def speaking_to(
    store: Store, person: Person, address: ConversationAddress | None = None
) -> AsyncIterator[None]:
    """Whatever is written inside is in `person`'s language."""
    with speaking(await language_of(store, person, address)):
        yield
