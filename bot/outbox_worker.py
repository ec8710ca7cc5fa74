"""Drains the durable outbox in the background: each item is claimed with a lease, run by the
handler of its kind, and completed, retried later with backoff, or moved to the dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from handoff.errors import DomainError
from handoff.ports import Clock, Outbox, OutboxItem

from .sending import SendFailed

log = logging.getLogger(__name__)

Handler = Callable[[OutboxItem], Awaitable[None]]

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0


class PermanentFailure(Exception):
    """Retrying will not help (the bot is not in that team, the person never chatted with it)."""


def backoff_seconds(attempts: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(retry_after, MAX_BACKOFF_SECONDS)
    # Full jitter: replicas retrying the same conversation spread out instead of colliding.
    return random.uniform(0, min(MAX_BACKOFF_SECONDS, 2.0**attempts))


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
        on_start: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._outbox = outbox
        self._handlers = dict(handlers)
        self._clock = clock
        self._lease = lease
        self._batch = batch
        self._idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._on_start = on_start

    def wake(self) -> None:
        """Something was enqueued: look now rather than at the next poll."""
        self._wake.set()

    async def run_once(self, stop: asyncio.Event | None = None) -> int:
        items = await self._outbox.claim(self._clock.now(), self._batch, self._lease)
        for item in items:
            if stop is not None and stop.is_set():
                break  # the rest keep their lease and come back after it runs out
            await self._run_item(item)
        return len(items)

    async def drain(self, max_rounds: int = 50) -> None:
        """Runs until nothing is due (for tests and shutdown)."""
        for _ in range(max_rounds):
            if not await self.run_once():
                return

    async def _run_item(self, item: OutboxItem) -> None:
        handler = self._handlers.get(item.kind)
        context = {"outbox_id": item.id, "kind": item.kind, "attempts": item.attempts}
        if handler is None:
            await self._outbox.give_up(item.id, f"no handler for {item.kind!r}")
            log.error("outbox item has no handler", extra=context)
            return
        try:
            await handler(item)
        except PermanentFailure as error:
            await self._outbox.give_up(item.id, str(error))
            log.warning("outbox item given up", extra={**context, "error": str(error)})
            return
        except Exception as error:
            retry_after = error.retry_after if isinstance(error, SendFailed) else None
            # A bad payload or a vanished record fails the same way every time.
            permanent = (isinstance(error, SendFailed) and not error.retryable) or isinstance(
                error, KeyError | ValueError | DomainError
            )
            if permanent or item.attempts >= MAX_ATTEMPTS:
                await self._outbox.give_up(item.id, str(error))
                log.error("outbox item failed for good", extra={**context, "error": str(error)})
                return
            delay = backoff_seconds(item.attempts, retry_after)
            at = self._clock.now() + timedelta(seconds=delay)
            await self._outbox.retry_later(item.id, at, str(error))
            log.warning("outbox item will be retried", extra={**context, "delay": delay})
            return
        await self._outbox.complete(item.id)

    async def run(self, stop: asyncio.Event) -> None:
        if self._on_start is not None:
            try:
                await self._on_start()
            except Exception:
                log.exception("outbox start-up work failed; the worker runs on")
        while not stop.is_set():
            try:
                busy = await self.run_once(stop)
            except Exception:
                log.exception("outbox round failed; trying again shortly")
                busy = 0
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._idle_seconds):
                    waiters = [
                        asyncio.ensure_future(self._wake.wait()),
                        asyncio.ensure_future(stop.wait()),
                    ]
                    try:
                        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for waiter in waiters:
                            waiter.cancel()
