"""Retention (docs/retention.md): once a day the outbox worker deletes what the bot need not
keep any longer: closed cases with their notes, history, cards, escalations and group chat
records after RETENTION_DAYS, with the finished outbox items, delivery keys and abandoned
dialogs of that age, and the audit log's entries after AUDIT_RETENTION_DAYS.

The run is an outbox item keyed by its day (handoff/effects.py), booked by every process at
start-up and by each run for the next day: however many replicas share the database, the
outbox's unique keys and claims make it run once a day. It deletes a batch of rows per
transaction, so that a first run over years of history never holds the database for long,
and a run that outlasts its budget books its own continuation and lets other work through."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from handoff import effects
from handoff.effects import OutboxKind
from handoff.models import as_utc
from handoff.ports import (
    AuditLog,
    Clock,
    ConversationStore,
    EscalationStore,
    GroupChatStore,
    HandledKeys,
    HandoffRepository,
    Outbox,
    OutboxItem,
)
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)

# When the daily run is due. There is no quiet hour for a team round the globe; this one is
# night in Europe and the Americas, and a run deletes in small batches anyway.
PURGE_HOUR_UTC = 3
# Rows picked per transaction (handoffs, outbox items, audit entries, ...).
BATCH = 500
# How long one run may delete before it hands over to its continuation: well within the
# outbox lease, so no other replica takes the item up as abandoned meanwhile.
RUN_BUDGET = timedelta(seconds=30)

# What a run reports, table by table, in this order.
TABLES = (
    "handoffs",
    "handoff_events",
    "handoff_cards",
    "handoff_facts",
    "escalations",
    "escalation_cards",
    "group_chats",
    "outbox",
    "handled_keys",
    "bot_state",
    "audit_log",
)

Purge = Callable[[datetime, int], Awaitable[dict[str, int]]]


class Store(
    HandoffRepository,
    EscalationStore,
    GroupChatStore,
    Outbox,
    HandledKeys,
    ConversationStore,
    AuditLog,
    Protocol,
):
    """What the purge deletes from (one SqlStore provides all of it)."""


@dataclass(frozen=True)
class RetentionPolicy:
    """How many days closed cases (and finished outbox items, delivery keys) and audit log
    entries are kept after their last change; 0 keeps them for ever."""

    retention_days: int
    audit_retention_days: int


def next_run(now: datetime) -> datetime:
    """The first PURGE_HOUR_UTC o'clock after `now`."""
    now = as_utc(now)
    at = now.replace(hour=PURGE_HOUR_UTC, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def _counted(table: str, purge: Callable[[datetime, int], Awaitable[int]]) -> Purge:
    async def run(before: datetime, limit: int) -> dict[str, int]:
        return {table: await purge(before, limit)}

    return run


class RetentionHandlers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        policy: RetentionPolicy,
        *,
        batch: int = BATCH,
        budget: timedelta = RUN_BUDGET,
    ) -> None:
        if batch < 1:
            raise ValueError(f"a purge batch needs at least one row, got {batch}")
        self._store = store
        self._clock = clock
        self._policy = policy
        self._batch = batch
        self._budget = budget

    def table(self) -> dict[str, Handler]:
        return {OutboxKind.PURGE_EXPIRED: self.purge}

    async def start(self) -> None:
        """Makes sure the next run is booked; every process may call it, one run is made."""
        await self._store.enqueue_message(effects.purge_expired(next_run(self._clock.now())))

    async def purge(self, item: OutboxItem, _journal: SendJournal | None = None) -> None:
        now = self._clock.now()
        part = int(item.payload.get("part", 0))
        day = str(item.payload.get("day") or f"{as_utc(now):%Y-%m-%d}")
        if part == 0:
            # The next day's run first, so a failure below cannot stop the purging for good.
            await self._store.enqueue_message(effects.purge_expired(next_run(now)))
        purged, finished = await self._purge(now)
        if not finished:
            # Its own item, due at once: the worker runs what else is due in between.
            await self._store.enqueue_message(
                effects.purge_expired(self._clock.now(), part + 1, day)
            )
        log.info(
            "retention purge" if finished else "retention purge goes on in a next part",
            extra={
                "day": day,
                "part": part,
                "finished": finished,
                "retention_days": self._policy.retention_days,
                "audit_retention_days": self._policy.audit_retention_days,
                **purged,
            },
        )

    def _steps(self, now: datetime) -> list[tuple[str, Purge, datetime]]:
        """What to purge, in order: cases before the rows keyed by case that only go once
        the case's handoffs are gone."""
        steps: list[tuple[str, Purge, datetime]] = []
        if self._policy.retention_days:
            cutoff = now - timedelta(days=self._policy.retention_days)
            store = self._store
            steps += [
                ("handoffs", store.purge_closed_cases, cutoff),
                ("escalations", store.purge_escalations, cutoff),
                ("group_chats", store.purge_group_chats, cutoff),
                ("outbox", _counted("outbox", store.purge_finished), cutoff),
                ("handled_keys", _counted("handled_keys", self._forget_keys), cutoff),
                ("bot_state", _counted("bot_state", store.purge_idle_dialogs), cutoff),
            ]
        if self._policy.audit_retention_days:
            audit_cutoff = now - timedelta(days=self._policy.audit_retention_days)
            purge_audit = _counted("audit_log", self._store.purge_audit_entries)
            steps.append(("audit_log", purge_audit, audit_cutoff))
        return steps

    async def _forget_keys(self, before: datetime, _limit: int) -> int:
        # Delivery keys are pruned a day after their turn as deliveries come in; this only
        # catches the ones a quiet bot kept, so one statement deletes them all.
        return await self._store.forget_keys_before(before)

    async def _purge(self, now: datetime) -> tuple[dict[str, int], bool]:
        """Rows deleted per table, and whether everything due went (False: the budget ran
        out first)."""
        deadline = now + self._budget
        purged = dict.fromkeys(TABLES, 0)
        for table, purge, cutoff in self._steps(now):
            while True:
                counts = await purge(cutoff, self._batch)
                for name, count in counts.items():
                    purged[name] = purged.get(name, 0) + count
                if counts.get(table, 0) < self._batch:
                    break  # the last batch of this table
                if self._clock.now() >= deadline:
                    return purged, False
        return purged, True
