"""Drains the durable outbox in the background: each item is claimed with a lease, run by the
handler of its kind, and completed, retried later with backoff, or moved to the dead letters.

Delivery is at least once; a message can be shown twice only after a crash (or an answer
lost on the network) in one narrow window, and only the one send that was in flight then
(after a power cut: the sends of the moment before it, see below). Each send of an item is
journaled on the item's row twice: "about to send step n (attempt a, at time t)" just before
the request goes out (Outbox.begin_send, on disk before the request leaves), and its result
just after (Outbox.record_steps, which does not wait for the disk: a result lost to a power
cut leaves its send in doubt, as the first entry says). A retry after a failure or a crash
skips the steps with a result. A step begun and never recorded is in doubt: the Bot
Connector may have accepted it before the process died, or its answer may have been lost.
The Bot Connector offers no idempotency key and documents no de-duplication, so before such
a step is sent again, Microsoft Graph is asked whether the bot's message reached the
conversation since time t (outbox/landed_sends.py); if it did, its id is recorded as the
step's result and nothing is sent. Without Graph read access (or when Graph cannot tell) the
step is sent again, logged as a warning, because marking it sent unseen would risk losing
the message instead, which is worse for a handoff. The worker runs one item at a time, so a
crash leaves at most one send in doubt per process. (A database that is away just when a
result is to be written loses nothing: the worker keeps the result and writes it first thing
when the database is back.)

Each send also carries a stable client activity id (the item's key and the step's number,
in channelData.clientActivityId), which makes a repeat recognisable in the logs and to our
tests' fake connector, which counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from handoff.errors import DomainError, StoreUnavailable
from handoff.ports import Clock, Outbox, OutboxItem
from handoff.turn_ids import resumed_turn
from outbox.fault_log import DATABASE_UNAVAILABLE, FaultLog

from .failures import Paced, PermanentFailure, SendFailed
from .set_aside import SetAside

log = logging.getLogger(__name__)

Handler = Callable[[OutboxItem, "SendJournal | None"], Awaitable[None]]
"""Carries out an item; its sends go through the item's journal (None: a dead letter's
follow-up, whose sends are not journaled)."""

# What fails, in the FaultLog's lines.
_ROUNDS = "outbox rounds"
# An item whose conversation has a place again within this long is set aside in memory
# (outbox/set_aside.py); a longer wait (Teams' 30-second and hourly windows) puts it back in
# the outbox. Far below the lease, which the item keeps meanwhile.
SET_ASIDE_SECONDS = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing item is tried before it becomes a dead letter."""

    max_attempts: int = 8
    base_seconds: float = 1.0
    cap_seconds: float = 300.0

    def delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            # The service said when: never earlier (that earns another 429), capped so a
            # wild value cannot park a conversation's messages for a day.
            return min(max(retry_after, 0.0), self.cap_seconds)
        # Exponential with full jitter: replicas retrying the same conversation spread out
        # instead of colliding again.
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2.0**attempts))


class SendJournal:
    """The sends of the outbox item being run, numbered in the order the handler makes them;
    a retry of the item replays the ones already done from the item's record."""

    def __init__(self, item: OutboxItem, outbox: Outbox, clock: Clock) -> None:
        self._item = item
        self._outbox = outbox
        self._clock = clock
        self._results = list(item.sent_steps)
        self._sending = item.sending
        self._next = 0
        self.unwritten = False
        """A send succeeded but the database did not take its result (see `write`)."""

    def next_step(self) -> tuple[str, str | None]:
        """The next send's stable client activity id, and its result if an earlier attempt
        made it already."""
        step = self._next
        self._next += 1
        done = self._results[step] if step < len(self._results) else None
        return f"{self._item.dedupe_key}#{step}", done

    async def sent_nearby(self, since: datetime) -> set[str]:
        """The activity ids this item, and the other items of its lane, sent since `since`:
        whatever the send in doubt turns out to be, it is none of these."""
        sent = {result for result in self._results if result}
        if self._item.lane:
            sent |= await self._outbox.sent_in_lane(self._item.lane, since)
        return sent

    @property
    def clock(self) -> Clock:
        return self._clock

    def in_doubt_since(self, client_activity_id: str) -> datetime | None:
        """When an earlier attempt began this send without recording its result (it may
        have arrived); None when no attempt left it in doubt."""
        marker = self._item.sending or ""
        # Keys may hold "@" themselves (a channel's id does): the step is matched whole.
        if not marker.startswith(client_activity_id + "@"):
            return None
        attempt, _, began = marker[len(client_activity_id) + 1 :].partition("@")
        if not attempt.isdigit():
            return None  # a longer client activity id that starts like this one
        try:
            return datetime.fromisoformat(began)
        except ValueError:
            # Journaled before the time was part of the marker: no later than it was due.
            return self._item.not_before

    async def begin(self, client_activity_id: str) -> None:
        """Before the send goes out: from now until `record`, it is in doubt."""
        began = self._clock.now().isoformat()
        marker = f"{client_activity_id}@{self._item.attempts}@{began}"
        await self._outbox.begin_send(self._item.id, marker)
        self._sending = marker

    async def record(self, result: str) -> None:
        self._results.append(result)
        self._sending = None
        try:
            await self._outbox.record_steps(self._item.id, self._results)
        except Exception:
            self.unwritten = True
            raise

    async def write(self) -> None:
        """Writes the results again; the worker does this once the database is back, before
        it claims anything, so a send made while the database was away is not repeated."""
        await self._outbox.record_steps(self._item.id, self._results)

    async def refused(self) -> None:
        """The service answered with an error: the begun send did not arrive."""
        self._sending = None
        await self._outbox.record_steps(self._item.id, self._results)

    def item_so_far(self) -> OutboxItem:
        """The item as its sends so far left it: what an attempt without a claim in between
        (the item set aside for its pace) starts from, so it sends none of them again."""
        return self._item.model_copy(
            update={"sent_steps": tuple(self._results), "sending": self._sending}
        )


class OutboxWorker:
    def __init__(
        self,
        outbox: Outbox,
        handlers: Mapping[str, Handler],
        clock: Clock,
        *,
        # The items of a batch are sent one after the other: the lease must outlast a whole
        # batch of slow sends, or another replica would take up an item still being sent.
        lease: timedelta = timedelta(seconds=120),
        batch: int = 5,
        idle_seconds: float = 0.5,
        on_start: Sequence[Callable[[], Awaitable[None]]] = (),
        retry: RetryPolicy | None = None,
        on_dead: Mapping[str, Handler] | None = None,
        faults: FaultLog | None = None,
        died: Callable[[OutboxItem], None] = lambda _item: None,
    ) -> None:
        self._outbox = outbox
        self._handlers = dict(handlers)
        # Per kind, what to do once an item of that kind is a dead letter (after it is
        # written so, so that the last of several items to die sees the others dead too).
        self._on_dead = dict(on_dead or {})
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._unsettled: list[Callable[[], Awaitable[None]]] = []
        self._lease = lease
        self._batch = batch
        self._idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._on_start = tuple(on_start)
        self._faults = faults or FaultLog(clock)
        # Told of every item this worker makes a dead letter, whatever its kind (/metrics).
        self._died = died
        # Whether something was enqueued since the last claim: that claim needs no look first.
        self._expected = False
        self._set_aside = SetAside()

    def wake(self) -> None:
        """Something was enqueued: claim now rather than at the next poll."""
        self._expected = True
        self._wake.set()

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        await self._write_unsettled()
        loop = asyncio.get_running_loop()
        expected, self._expected = self._expected, False
        claimed = await self._outbox.claim(
            self._clock.now(), self._batch, self._lease, expected=expected
        )
        # The items set aside whose time has come go first: they were claimed before. Taken
        # after the claim, so a claim that fails leaves them set aside.
        now = loop.time()
        work = self._set_aside.ready(now) + [(item, now) for item in claimed]
        for item, claimed_at in work:
            if stop is not None and stop.is_set():
                break  # the rest keep their lease and come back after it runs out
            # What the item logs, and the items it enqueues, belong to the turn that made it.
            with resumed_turn(item.turn_id):
                await self._run_item(item, claimed_at)
            # SQLite's statements run on the loop's thread, and an item put back for its
            # conversation's pace does no I/O: without this, a round after round over a
            # channel's backlog would hold every turn of the bot until it ends (seconds).
            await asyncio.sleep(0)
        return len(work)

    async def drain(self, max_rounds: int = 50) -> None:
        """Runs until nothing is due, the items set aside for their pace sent too (for tests
        and shutdown)."""
        loop = asyncio.get_running_loop()
        for _ in range(max_rounds):
            if await self.run_once():
                continue
            wait = self._set_aside.seconds_to_next(loop.time())
            if wait is None:
                return
            await asyncio.sleep(wait)

    async def _run_item(self, item: OutboxItem, claimed_at: float) -> None:
        handler = self._handlers.get(item.kind)
        context = {"outbox_id": item.id, "kind": item.kind, "attempts": item.attempts}
        if handler is None:
            await self._give_up(item, f"no handler for {item.kind!r}")
            log.error("outbox item has no handler", extra=context)
            return
        if item.sending is not None:
            log.warning(
                "an outbox send was cut off before its result was written; checking whether "
                "it arrived before sending it again",
                extra={**context, "sending": item.sending},
            )
        journal = SendJournal(item, self._outbox, self._clock)
        try:
            await handler(item, journal)
        except Paced as error:
            # Not a failure: the conversation is at its limit, the item waits its turn.
            ready_at = asyncio.get_running_loop().time() + error.retry_after
            if error.retry_after <= SET_ASIDE_SECONDS and (
                ready_at - claimed_at < self._lease.total_seconds() / 2
            ):
                self._set_aside.add(journal.item_so_far(), ready_at, claimed_at)
                return
            at = self._clock.now() + timedelta(seconds=error.retry_after)
            await self._settle(lambda: self._outbox.defer(item.id, at))
            return
        except PermanentFailure as error:
            await self._give_up(item, str(error))
            log.warning("outbox item given up", extra={**context, "error": str(error)})
            return
        except Exception as error:
            if journal.unwritten:
                self._unsettled.append(journal.write)
            retry_after = error.retry_after if isinstance(error, SendFailed) else None
            # A bad payload or a vanished record fails the same way every time.
            permanent = (isinstance(error, SendFailed) and not error.retryable) or isinstance(
                error, KeyError | ValueError | DomainError
            )
            if permanent or item.attempts >= self._retry.max_attempts:
                await self._give_up(item, str(error))
                log.error("outbox item failed for good", extra={**context, "error": str(error)})
                return
            delay = self._retry.delay(item.attempts, retry_after)
            at = self._clock.now() + timedelta(seconds=delay)
            reason = str(error)
            await self._settle(lambda: self._outbox.retry_later(item.id, at, reason))
            log.warning("outbox item will be retried", extra={**context, "delay": delay})
            return
        await self._settle(lambda: self._outbox.complete(item.id))

    async def _give_up(self, item: OutboxItem, error: str) -> None:
        await self._outbox.give_up(item.id, error)
        self._died(item)
        follow_up = self._on_dead.get(item.kind)
        if follow_up is None:
            return
        try:
            await follow_up(item, None)
        except Exception:
            # The item is dead either way; an admin's `outbox retry` runs this again when it
            # dies again.
            log.exception("follow-up of a dead outbox item failed", extra={"outbox_id": item.id})

    async def _settle(self, write: Callable[[], Awaitable[None]]) -> None:
        """Writes an item's outcome. When the database is away right then, the outcome is
        kept and written first thing once it answers, rather than leaving the item (and
        its lane) leased until the lease runs out."""
        try:
            await write()
        except Exception:
            self._unsettled.append(write)
            raise

    async def _write_unsettled(self) -> None:
        while self._unsettled:
            await self._unsettled[0]()
            self._unsettled.pop(0)

    async def run_round(self, stop: asyncio.Event | None = None) -> int:
        """One round as `run` makes it: `run_once`, a failure logged rather than raised. The
        database being away is logged once with its traceback and then counted (FaultLog),
        not once per poll, until a round gets through again."""
        try:
            busy = await self.run_once(stop)
        except StoreUnavailable as error:
            self._faults.failed(
                log,
                DATABASE_UNAVAILABLE,
                _ROUNDS,
                "outbox round failed; trying again shortly",
                error,
            )
            return 0
        except Exception:
            log.exception("outbox round failed; trying again shortly")
            return 0
        self._faults.recovered(DATABASE_UNAVAILABLE, _ROUNDS)
        return busy

    async def run(self, stop: asyncio.Event) -> None:
        # Each on its own: one failing (the database away for a moment) skips none of the others.
        for start in self._on_start:
            try:
                await start()
            except Exception:
                log.exception("outbox start-up work failed; the worker runs on")
        while not stop.is_set():
            busy = await self.run_round(stop)
            if busy or self._expected:  # woken while claiming: that wake is not lost
                continue
            self._wake.clear()
            wait = self._idle_seconds
            aside = self._set_aside.seconds_to_next(asyncio.get_running_loop().time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait if aside is None else min(wait, aside)):
                    waiters = [
                        asyncio.ensure_future(self._wake.wait()),
                        asyncio.ensure_future(stop.wait()),
                    ]
                    try:
                        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for waiter in waiters:
                            waiter.cancel()
        await self._put_back_set_aside()

    async def _put_back_set_aside(self) -> None:
        """Stopping: the items set aside go back to the outbox, due now, rather than wait for
        their lease to run out before another replica (or the next start) can send them."""
        for item in self._set_aside.take_all():
            try:
                await self._outbox.defer(item.id, self._clock.now())
            except Exception:
                log.warning("outbox item kept its lease at stop", extra={"outbox_id": item.id})
