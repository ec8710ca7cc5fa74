"""A message meant for a person that never reached them is told to whoever it was sent for.

A notice to the regional SMEs, a Team Leader's approval card, a Team Leader's copy of an
engineer's out-of-office list: when such an outbox item becomes a dead letter (the person never
installed the bot, removed it, or their chat kept failing), the requester would otherwise wait
for an answer from someone who never heard of the case. Each such item carries, in its payload
(handoff.effects.if_undelivered), who to tell and what it was. Its death enqueues one report
for that person and topic (one per window, however many dead letters: a storm is one
message); the report waits until every message decided together with a dead one is settled,
then names what did not reach whom and what to do. Admins see the same dead letters, with who
they were for, under `outbox` (application/outbox_admin.py).

An escalation's approval card that reached no Team Leader at all has its own, stronger
message (application/outbox_steps/approval_cards.py, "nobody can decide it"); the report leaves
those cards out rather than say it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from application import messages
from application.outbox_steps.follow_ups import Store
from application.outbox_steps.reader_language import speaking_to
from application.outbox_steps.sender import Sender, personal_chat
from handoff import effects
from handoff.effects import OutboxKind
from handoff.models import Person
from handoff.ports import Clock, OutboxItem, OutboxState
from i18n import _
from outbox.failures import Paced, PermanentFailure
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)

# How far back among the dead letters a report looks for the ones of its topic.
SCANNED_DEAD_LETTERS = 500
# Kinds of items meant for a person; their payload names the person ("person" or "lead").
PERSON_BOUND = (OutboxKind.NOTIFY, OutboxKind.SEND_APPROVAL_CARD)


def addressee(item: OutboxItem) -> Person | None:
    """Who an outbox item was meant for, if it was meant for a person."""
    raw = item.payload.get("person") or item.payload.get("lead")
    return Person.model_validate(raw) if isinstance(raw, dict) else None


def _why(error: str | None) -> str:
    """The reason in words a requester can act on (the error is the outbox's own, in English)."""
    if error and ("no personal chat" in error or "not installed the bot" in error):
        return _("they have not installed the bot")
    return _("sending it kept failing")


def chain(*tables: Mapping[str, Handler]) -> dict[str, Handler]:
    """Several follow-ups of the same kind of dead letter, run in order."""
    by_kind: dict[str, list[Handler]] = {}
    for table in tables:
        for kind, handler in table.items():
            by_kind.setdefault(kind, []).append(handler)

    def run_all(handlers: list[Handler]) -> Handler:
        async def run(item: OutboxItem, journal: SendJournal | None = None) -> None:
            for handler in handlers:
                await handler(item, journal)

        return run

    return {kind: run_all(handlers) for kind, handlers in by_kind.items()}


class UndeliveredReports:
    def __init__(self, store: Store, sender: Sender, clock: Clock, *, recheck: timedelta) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        # How long a report waits before it looks again at messages still being tried.
        self._recheck = recheck

    def table(self) -> dict[str, Handler]:
        return {OutboxKind.REPORT_UNDELIVERED: self.report}

    def on_dead(self) -> dict[str, Handler]:
        return {kind: self.dead for kind in PERSON_BOUND}

    async def dead(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        """A message for a person is a dead letter: its requester is to hear of it."""
        info = item.payload.get(effects.IF_UNDELIVERED)
        person = addressee(item)
        if not isinstance(info, dict) or person is None:
            return  # meant for the requester themselves, or from before reports were kept
        tell = Person.model_validate(info["tell"])
        if tell.id == person.id:
            return
        log.warning(
            "a message for a person never reached them",
            extra={"outbox_id": item.id, "kind": item.kind, "topic": info.get("topic")},
        )
        report = effects.undelivered_report(
            tell, str(info["topic"]), str(info["subject"]), self._clock.now()
        )
        await self._store.enqueue_message(report)

    async def report(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        tell = Person.model_validate(item.payload["tell"])
        topic = str(item.payload["topic"])
        scanned = await self._store.dead_letters(SCANNED_DEAD_LETTERS)
        dead = sorted((d for d in scanned if _of(d, topic, tell)), key=lambda d: d.id)
        batch = sorted({key for d in dead for key in _info(d).get("batch", [])})
        states = await self._store.outbox_states(batch)
        if any(state is OutboxState.PENDING for state in states.values()):
            # Told together with the messages decided with them, once those are settled.
            raise Paced(tell.id, self._recheck.total_seconds(), "waits for messages being tried")
        missed = [
            (d, who)
            for d in dead
            if (who := addressee(d)) is not None and not _told_elsewhere(d, states)
        ]
        if not missed:
            return
        address = await personal_chat(self._store, tell)
        if address is None:
            raise PermanentFailure(f"no personal chat with {tell.name or tell.id}")
        async with speaking_to(self._store, tell, address):
            lines = [
                messages.undelivered_line(
                    str(_info(d)["about"]), who.name or _("someone"), _why(d.last_error)
                )
                for d, who in missed
            ]
            text = messages.undelivered(str(item.payload["subject"]), lines)
        await self._sender.send(address.reference, text, journal)


def _info(item: OutboxItem) -> dict[str, Any]:
    info = item.payload.get(effects.IF_UNDELIVERED)
    return info if isinstance(info, dict) else {}


def _of(item: OutboxItem, topic: str, tell: Person) -> bool:
    info = _info(item)
    told = info.get("tell")
    return (
        item.kind in PERSON_BOUND
        and info.get("topic") == topic
        and isinstance(told, dict)
        and told.get("id") == tell.id
    )


def _told_elsewhere(item: OutboxItem, states: Mapping[str, OutboxState]) -> bool:
    """An approval card that reached no Team Leader at all: the requester hears that on its
    own (application/outbox_steps/approval_cards.py), in stronger words."""
    batch = _info(item).get("batch", [])
    return item.kind == OutboxKind.SEND_APPROVAL_CARD and all(
        states.get(key) is OutboxState.DEAD for key in batch
    )
