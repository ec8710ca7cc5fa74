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
from i18n import _, ngettext

from .request import Reply, Request

log = logging.getLogger(__name__)

SHOWN_DEAD_LETTERS = 20
_ERROR_SHOWN = 160


def usage() -> str:
    return _(
        "Use **outbox** to see the dead letters, **outbox retry** <id> or **outbox retry all**."
    )


def not_allowed() -> str:
    return _("Only the bot's admins (the leads, and BOT_ADMINS) may look into the outbox.")


def _line(item: OutboxItem) -> str:
    error = (item.last_error or _("no error recorded")).replace("\n", " ")
    if len(error) > _ERROR_SHOWN:
        error = error[:_ERROR_SHOWN] + "…"
    # A message meant for a person says who, and about what: whom to reach another way.
    person = item.payload.get("person") or item.payload.get("lead")
    name = person.get("name") or person.get("id") if isinstance(person, dict) else None
    info = item.payload.get(IF_UNDELIVERED)
    about = safe(str(info["subject"])) if isinstance(info, dict) else None
    fields = {
        "id": item.id,
        "kind": item.kind,
        "name": safe(str(name)) if name else "",
        "about": about or "",
        "count": item.attempts,
        "error": error,
    }
    # Translators: {kind} is the kind of outbox item (notify, tell, post_card); {about} what
    # the message concerned ("case 123"); {error} the last error, as the system gave it.
    if name and about:
        text = ngettext(
            "- **{id}** {kind} for {name} ({about}) after {count} attempt: {error}",
            "- **{id}** {kind} for {name} ({about}) after {count} attempts: {error}",
            item.attempts,
        )
    elif name:
        text = ngettext(
            "- **{id}** {kind} for {name} after {count} attempt: {error}",
            "- **{id}** {kind} for {name} after {count} attempts: {error}",
            item.attempts,
        )
    elif about:
        text = ngettext(
            "- **{id}** {kind} ({about}) after {count} attempt: {error}",
            "- **{id}** {kind} ({about}) after {count} attempts: {error}",
            item.attempts,
        )
    else:
        text = ngettext(
            "- **{id}** {kind} after {count} attempt: {error}",
            "- **{id}** {kind} after {count} attempts: {error}",
            item.attempts,
        )
    return text.format(**fields)


async def overview(outbox: Outbox) -> str:
    """Counts by state and the latest dead letters with their errors."""
    counts = await outbox.outbox_counts()
    # The outbox's states (pending, sent, dead) are the words `outbox retry` works with.
    summary = ", ".join(f"{state} {count}" for state, count in counts.items())
    dead = await outbox.dead_letters(SHOWN_DEAD_LETTERS)
    if not dead:
        return _("Outbox: {summary}. No dead letters.").format(summary=summary)
    lines = "\n".join(_line(item) for item in dead)
    heading = _("Outbox: {summary}. The latest dead letters:").format(summary=summary)
    return f"{heading}\n\n{lines}\n\n{usage()}"


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
            return [not_allowed()]
        args = [arg.lower() for arg in request.args]
        if not args:
            return [await overview(self._outbox)]
        if args[0] == "retry" and len(args) == 2:
            return [await self._retry(args[1], actor)]
        return [usage()]

    async def _retry(self, which: str, actor: Person) -> str:
        if which == "all":
            ids = [item.id for item in await self._outbox.dead_letters(SHOWN_DEAD_LETTERS)]
        elif which.isdigit():
            ids = [int(which)]
        else:
            not_an_id = _("“{which}” is not an outbox item id.").format(which=which[:40])
            return f"{not_an_id} {usage()}"
        revived = [item_id for item_id in ids if await self._outbox.revive(item_id)]
        log.warning("dead letters retried", extra={"by": actor.id, "items": revived})
        if revived:
            self._wake()
            shown = ", ".join(str(item_id) for item_id in revived)
            return _("Trying again: {items}. **outbox** shows how it went.").format(items=shown)
        return _("There is no dead letter {which}; **outbox** lists them.").format(which=which)
