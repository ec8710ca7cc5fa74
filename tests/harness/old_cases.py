"""Cases of every age in a real database (SQLite or PostgreSQL), for the retention tests: made
through the domain service as people would make them, on a clock the test moves; and what is
left of a case, table by table, read back with plain SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from handoff import effects
from handoff.effects import OutboxKind
from handoff.escalation import Escalation, decide, request_escalation
from handoff.long_running import ChatMember, GroupChat
from handoff.models import AuditEntry, AuditEvent, AuditKind, Handoff, HandoffNotes, Person
from handoff.ports import CardRef
from handoff.service import HandoffService
from handoff.state_machine import Accept, Cancel
from storage.bot_state import SqlBotStorage
from storage.sql_store import SqlStore

from . import records

ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
LEE = Person(id="aad-lee", name="Lee Lead", aad_object_id="aad-lee")
# What the requester wrote about the customer: the notes retention is about.
NOTES = "Autoscale stops at 20 nodes since the upgrade; the customer's admin is on leave."


class MovableClock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> None: ...


@dataclass
class Cases:
    """Makes cases in `store` at the clock's time."""

    store: SqlStore
    clock: MovableClock

    @property
    def service(self) -> HandoffService:
        return HandoffService(self.store, self.clock)

    async def requested(self, number: str) -> Handoff:
        """An open handoff of the case, its card posted in the Case Transfer channel."""
        notes = HandoffNotes(summary=NOTES)
        answers = records.answers(number, "EMEA", "US", notes=notes)
        handoff = await self.service.request(answers, records.PLACEHOLDER_OUTPUTS, ANA)
        await self.store.set_card(handoff.id, records_card(handoff))
        return handoff

    async def accepted(self, number: str) -> Handoff:
        """A handoff of the case, requested and accepted now: closed."""
        handoff = await self.requested(number)
        return (await self.service.act(handoff.id, Accept(actor=BO), handoff.version)).handoff

    async def cancelled(self, number: str) -> Handoff:
        handoff = await self.requested(number)
        cancel = Cancel(actor=ANA, reason="solved")
        return (await self.service.act(handoff.id, cancel, handoff.version)).handoff

    async def escalated(self, handoff: Handoff, *, decided: bool) -> Escalation:
        """An escalation of the handoff's case to the vendor, with its step in the case's
        history and a lead's approval card; decided by the lead now, if asked."""
        escalation = request_escalation(
            HandoffNotes(summary=NOTES), handoff.case.number, ANA, self.clock.now()
        )
        await self.store.add_escalation(escalation, events=[self._event(handoff, escalation)])
        card = records_card(handoff, f"approval-{escalation.id}")
        await self.store.add_escalation_card(escalation.id, card)
        if not decided:
            return escalation
        done = decide(escalation, "esc_approve", LEE, "", self.clock.now())
        await self.store.save_escalation(done, escalation.version)
        return done

    def _event(self, handoff: Handoff, escalation: Escalation) -> AuditEvent:
        return AuditEvent(
            handoff_id=handoff.id,
            case_number=handoff.case.number,
            kind="escalation_requested",
            actor=ANA,
            at=escalation.created_at,
            from_state=handoff.state,
            to_state=handoff.state,
            data={"escalation_id": escalation.id},
        )

    async def chat_made(self, number: str) -> None:
        """The case's group chat, planned and made: its first step done in the outbox."""
        members = (
            ChatMember(aad_object_id="aad-ana", name="Ana Lopez", region="EMEA"),
            ChatMember(aad_object_id="aad-bo", name="Bo Receiver", region="US"),
        )
        await self.store.plan_group_chat(
            GroupChat(case_number=number, topic=number, members=members)
        )
        step = effects.group_chat_step(OutboxKind.CREATE_GROUP_CHAT, number, self.clock.now())
        await self.store.enqueue_message(step)
        await self.finish(step.dedupe_key)

    async def finish(self, dedupe_key: str, *, dead: bool = False) -> None:
        """The outbox item with this key is done (or a dead letter) now."""
        row = await self.store.database.fetch_one(
            "SELECT id FROM outbox WHERE dedupe_key = ?", dedupe_key
        )
        assert row is not None, dedupe_key
        if dead:
            await self.store.give_up(row["id"], "the chat is gone")
        else:
            await self.store.complete(row["id"])

    async def settle(self) -> None:
        """The outbox worker has carried out everything enqueued so far (now), but for the
        retention runs themselves."""
        rows = await self.store.database.fetch_all(
            "SELECT id FROM outbox WHERE state = 'pending' AND kind <> ?",
            OutboxKind.PURGE_EXPIRED.value,
        )
        for row in rows:
            await self.store.complete(row["id"])

    async def draft(self, conversation_id: str) -> str:
        """Someone typing a handoff in their chat now: the dialog's state, holding the notes so
        far, as the bot stores it between turns. Its key."""
        key = f"msteams/conversations/{conversation_id}/"
        state = {"DialogState": {"dialog_stack": [{"id": "handoff", "state": {"notes": NOTES}}]}}
        await SqlBotStorage(self.store.database, self.clock).write({key: state})
        return key

    async def channel_bound(self, channel: str) -> AuditEntry:
        """`setup` in a channel: the setting and its audit log entry."""
        entry = AuditEntry(
            kind=AuditKind.CHANNEL_BOUND, actor=LEE, at=self.clock.now(), subject=channel
        )
        await self.store.set_setting("case_transfer_channel_id", channel, entry)
        return entry


def records_card(handoff: Handoff, activity: str = "") -> CardRef:
    return CardRef(
        conversation_id="19:case-transfer@thread.tacv2", activity_id=activity or f"1:{handoff.id}"
    )


async def count(store: SqlStore, table: str, where: str = "1 = 1", *params: str) -> int:
    row = await store.database.fetch_one(
        f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", *params
    )
    assert row is not None
    return int(row["n"])


async def left_of_case(store: SqlStore, number: str) -> dict[str, int]:
    """The rows the database still holds about the case, per table keyed by handoff or case
    (the outbox is purged by age: see the tests of purge_finished)."""
    handoffs = "handoff_id IN (SELECT id FROM handoffs WHERE case_number = ?)"
    escalations = "escalation_id IN (SELECT id FROM escalations WHERE case_number = ?)"
    return {
        "handoffs": await count(store, "handoffs", "case_number = ?", number),
        "handoff_events": await count(store, "handoff_events", "case_number = ?", number),
        "handoff_cards": await count(store, "handoff_cards", handoffs, number),
        "handoff_facts": await count(store, "handoff_facts", "case_number = ?", number),
        "escalations": await count(store, "escalations", "case_number = ?", number),
        "escalation_cards": await count(store, "escalation_cards", escalations, number),
        "group_chats": await count(store, "group_chats", "case_number = ?", number),
    }


async def notes_found(store: SqlStore) -> dict[str, int]:
    """Rows anywhere in the case tables and the outbox that still hold the notes' words."""
    like = f"%{NOTES[:30]}%"
    found = {
        "handoffs": await count(store, "handoffs", "doc LIKE ?", like),
        "handoff_events": await count(store, "handoff_events", "doc LIKE ?", like),
        "escalations": await count(store, "escalations", "doc LIKE ?", like),
        "outbox": await count(store, "outbox", "payload LIKE ?", like),
        "bot_state": await count(store, "bot_state", "doc LIKE ?", like),
    }
    return {table: n for table, n in found.items() if n}
