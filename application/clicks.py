"""A card button pressed twice (Teams redelivers, people double-click) does its work once:
each press is keyed on (card message, user, verb, version) and the key is recorded with
the change it made."""

from __future__ import annotations

from handoff.models import Person
from handoff.ports import HandledKeys


def click_key(
    kind: str, message_id: str | None, actor: Person, verb: str, version: int
) -> str | None:
    """The press's idempotency key; None without the card's message id (nothing to key on)."""
    if not message_id:
        return None
    return f"{kind}:{message_id}:{actor.id}:{verb}:{version}"


async def pressed_before(keys: HandledKeys, key: str | None) -> bool:
    """Whether this very press was handled already (or won a race against its twin)."""
    return key is not None and await keys.key_claimed(key)
