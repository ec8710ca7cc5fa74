"""`outbox` for the bot's admins: what is stuck in the dead letters, and trying it again.

    outbox              counts by state and the latest dead letters with their errors
    outbox retry <id>   puts one dead letter back in the queue (due now, fresh attempts)
    outbox retry all    the same for every dead letter listed by `outbox`

Admins are the leads of config/handoff.yaml and the ids in the BOT_ADMINS setting; anyone
else is told the command is not theirs, and nothing is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cards.elements import safe
from handoff.effects import IF_UNDELIVERED
from handoff.models import Person
from handoff.ports import Outbox, OutboxItem

from .request import Reply, Request

log = logging.getLogger(__name__)

SHOWN_DEAD_LETTERS = 20
_ERROR_SHOWN = 160

USAGE = "Use **outbox** to see the dead letters, **outbox retry** <id> or **outbox retry all**."
NOT_ALLOWED = "Only the bot's admins (the leads, and BOT_ADMINS) may look into the outbox."


def _line(item: OutboxItem) -> str:
    error = (item.last_error or "no error recorded").replace("\n", " ")
    if len(error) > _ERROR_SHOWN:
        error = error[:_ERROR_SHOWN] + "…"
    # A message meant for a person says who, and about what: whom to reach another way.
    person = item.payload.get("person") or item.payload.get("lead")
    name = person.get("name") or person.get("id") if isinstance(person, dict) else None
    who = f" for {safe(str(name))}" if name else ""
    info = item.payload.get(IF_UNDELIVERED)
    about = f" ({safe(str(info['subject']))})" if isinstance(info, dict) else ""
    return f"- **{item.id}** {item.kind}{who}{about} after {item.attempts} attempt(s): {error}"


async def overview(outbox: Outbox) -> str:
    """Counts by state and the latest dead letters with their errors."""
    counts = await outbox.outbox_counts()
    summary = ", ".join(f"{state} {count}" for state, count in counts.items())
    dead = await outbox.dead_letters(SHOWN_DEAD_LETTERS)
    if not dead:
        return f"Outbox: {summary}. No dead letters."
    lines = "\n".join(_line(item) for item in dead)
    return f"Outbox: {summary}. The latest dead letters:\n\n{lines}\n\n{USAGE}"


class OutboxAdmin:
    def __init__(
        self, outbox: Outbox, is_admin: Callable[[Person], bool], wake: Callable[[], None]
    ) -> None:
        self._outbox = outbox
        self._is_admin = is_admin
        self._wake = wake

    async def outbox(self, request: Request) -> Reply:
        actor = request.actor
        if not self._is_admin(actor):
            log.warning("outbox command refused", extra={"user_id": actor.id})
            return [NOT_ALLOWED]
        args = [arg.lower() for arg in request.args]
        if not args:
            return [await overview(self._outbox)]
        if args[0] == "retry" and len(args) == 2:
            return [await self._retry(args[1], actor)]
        return [USAGE]

    async def _retry(self, which: str, actor: Person) -> str:
        if which == "all":
            ids = [item.id for item in await self._outbox.dead_letters(SHOWN_DEAD_LETTERS)]
        elif which.isdigit():
            ids = [int(which)]
        else:
            return f"“{which[:40]}” is not an outbox item id. {USAGE}"
        revived = [item_id for item_id in ids if await self._outbox.revive(item_id)]
        log.warning("dead letters retried", extra={"by": actor.id, "items": revived})
        if revived:
            self._wake()
            shown = ", ".join(str(item_id) for item_id in revived)
            return f"Trying again: {shown}. **outbox** shows how it went."
        return f"There is no dead letter {which}; **outbox** lists them."
