"""Teams redelivers an activity when the bot answers slowly or not at all — with the same id,
and sometimes with a new id but the same content. A delivery is handled once: its keys are
claimed in the shared database before the turn runs (one statement), and marked done when the
turn finishes (one more, shared with the turns that finish at the same time); a repeat finds
them claimed.

Keys: the activity id (in its conversation), and for messages a digest of who wrote what
where with the client's own send time (`localTimestamp`), which a redelivery keeps and a
person typing the same words again does not. Invokes (card buttons) are not claimed here:
they always need an answer, and the card's own key (application/clicks.py) gives it.

Until the turn finishes, the claim is provisional: it carries when and by whom it was made.
A process that dies mid-turn (SIGKILL, OOM, power cut) cannot give its keys back, so a claim
still pending `abandoned_after` after it was made — the request deadline, which no turn
outlives, plus a margin for the clocks of replicas — counts as abandoned, and the next
redelivery takes it over (atomically: of several replicas receiving it at once, one does).
Before that bound a redelivery is a repeat, as the first turn may still be running; it is
answered 503 with a Retry-After of the bound (DeliveryInProgress), not 200, so that Teams
tries again rather than take it for handled: if the first turn's process died, the try after
the bound is handled, and if the turn finished, that try is ignored as done.

A turn that does not finish gives its keys back, so that Teams' redelivery is handled at once:
on an error, at once; when the request deadline cancels it, or when the database that failed
cannot take the release either, the keys wait in this process and are released in the
background and, at the latest, before the next delivery's claim (which is how a redelivery to
this replica always finds them free; one to another replica finds them abandoned after the
bound). A finish the database cannot take leaves the claim pending: the person was answered,
and only a redelivery after the bound, which Teams sends when it got no answer, runs it again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from handoff.ports import Clock, HandledKeys, StoredDocument
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

# Redeliveries come within a minute or two; a day of keys is plenty and keeps the table small.
KEEP_KEYS = timedelta(days=1)
PRUNE_EVERY = 500
# A background release that the database does not answer in this time is left for later.
_RELEASE_TIMEOUT_SECONDS = 5.0
# Three values a key, two keys a claim: far below either backend's limit on parameters.
_FINISHES_PER_STATEMENT = 500

_MESSAGE = "message"
_CLAIMED_TYPES = frozenset({_MESSAGE, "conversationUpdate", "installationUpdate"})


class Delivered(Protocol):
    """What of an incoming activity tells one delivery from another."""

    id: str | None
    type: str | None
    conversation: Any
    from_property: Any
    text: str | None
    value: Any
    reply_to_id: str | None
    local_timestamp: datetime | None


class DeliveryInProgress(Exception):
    """A repeat of a delivery whose turn has not finished: answer 503, Retry-After."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"this delivery is still being handled; try again in {retry_after} s")
        self.retry_after = retry_after


def _digest(*parts: object) -> str:
    # ASCII escapes, so text with a lone surrogate (which JSON allows) still hashes.
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def delivery_keys(activity: Delivered) -> list[str]:
    """The keys that make this delivery a repeat of an earlier one; none for invokes."""
    if activity.type not in _CLAIMED_TYPES:
        return []
    conversation = activity.conversation.id if activity.conversation else ""
    keys = []
    if activity.id:
        keys.append("delivery:" + _digest(conversation, activity.id))
    if activity.type == _MESSAGE and activity.local_timestamp is not None:
        sender = activity.from_property.id if activity.from_property else ""
        keys.append(
            "content:"
            + _digest(
                conversation,
                sender,
                activity.text,
                activity.value,
                activity.reply_to_id,
                activity.local_timestamp.isoformat(),
            )
        )
    return keys


@dataclass(frozen=True)
class Claim:
    """A delivery's keys, claimed by one turn; `claimant` tells this claim from any other.
    `read_along`: the document the claim was asked to read in the same statement."""

    keys: tuple[str, ...]
    claimant: str
    read_along: StoredDocument | None = field(default=None, compare=False)


# What a turn holds when there is nothing to claim (an invoke, or no Deliveries at all).
NO_CLAIM = Claim(keys=(), claimant="")


def process_name() -> str:
    """This process among the replicas and their restarts: host, pid, and a random part (a
    restarted container has the same host and pid)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Deliveries:
    def __init__(
        self,
        keys: HandledKeys,
        clock: Clock,
        abandoned_after: timedelta,
        prune_every: int = PRUNE_EVERY,
        process: str | None = None,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._abandoned_after = abandoned_after
        self._prune_every = prune_every
        self._process = process or process_name()
        self._claims = 0
        self._seen = 0  # deliveries, for pruning now and then
        # Claims of unfinished turns not released yet; the lock keeps the releases in order.
        self._unreleased: set[Claim] = set()
        self._releasing = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        # Finished turns whose finish is not written yet, their keys, and what writes them.
        self._to_finish: list[Claim] = []
        self._finishing: set[str] = set()
        self._writer: asyncio.Task[None] | None = None

    async def claim(self, activity: Delivered, read_along: str | None = None) -> Claim | None:
        """The claim of this delivery's keys, or None when it is a repeat of one handled.
        Raises DeliveryInProgress for a repeat of one being handled (by this or another
        replica, and not yet abandoned). `read_along`: the key of a document of the bot's
        state to read in the claim's statement (see HandledKeys.claim_keys)."""
        if self._unreleased or self._releasing.locked():
            await self._release_waiting()
        keys = tuple(delivery_keys(activity))
        if not keys:
            await self._prune_now_and_then()
            return NO_CLAIM
        if self._finishing.intersection(keys):
            log.info(
                "repeated delivery ignored",
                extra={"activity_id": activity.id, "activity_type": activity.type},
            )
            return None  # handled here, its finish not written yet
        self._claims += 1
        claim = Claim(keys, f"{self._process}#{self._claims}")
        # All in one statement and one transaction: one commit per turn, not one per key.
        claimed = await self._keys.claim_keys(
            keys, claim.claimant, self._abandoned_after, read_along
        )
        if claimed.repeated is not None:
            log.info(
                "repeated delivery ignored",
                extra={
                    "activity_id": activity.id,
                    "activity_type": activity.type,
                    "by": claimed.repeated.split(":", 1)[0],
                    "in_progress": claimed.in_progress,
                },
            )
            if claimed.in_progress:
                raise DeliveryInProgress(self._abandoned_after.total_seconds())
            return None
        if claimed.taken_over:
            log.warning(
                "delivery handled again: the turn that claimed it did not finish in time "
                "(its process may have died)",
                extra={
                    "activity_id": activity.id,
                    "activity_type": activity.type,
                    "by": sorted(key.split(":", 1)[0] for key in claimed.taken_over),
                },
            )
        await self._prune_now_and_then()
        return replace(claim, read_along=claimed.read_along)

    def finish(self, claim: Claim) -> None:
        """The turn finished: its keys block repeats for good. Written in the background, with
        the finishes of the turns that end meanwhile (one statement for them all); until
        then a redelivery to this process is a repeat already. When the database cannot take
        it, the person has their answer all the same (see the module's notes)."""
        if not claim.keys:
            return
        self._to_finish.append(claim)
        self._finishing.update(claim.keys)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_finishes())

    async def finishes_written(self) -> None:
        """Waits until every finish so far is written (or given up on)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_finishes(self) -> None:
        while self._to_finish:
            batch = self._to_finish[:_FINISHES_PER_STATEMENT]
            del self._to_finish[: len(batch)]
            try:
                await self._keys.finish_claims([(claim.keys, claim.claimant) for claim in batch])
            except StorageUnavailable:
                log.warning(
                    "delivery keys left pending: the database is unavailable",
                    extra={"claimants": [claim.claimant for claim in batch]},
                )
            except Exception:
                log.exception("delivery keys left pending: writing their finish failed")
            finally:
                for claim in batch:
                    self._finishing.difference_update(claim.keys)

    async def release(self, claim: Claim) -> None:
        """The turn failed: a redelivery is handled again. When the database is what failed,
        the keys wait for it (see the module's notes); the turn's own error is the one to
        report."""
        if not claim.keys:
            return
        self._unreleased.add(claim)
        await self._release_waiting()

    def abandon(self, claim: Claim) -> None:
        """The turn was cancelled (its request ran past the deadline): nothing may be awaited
        now, so the keys are released in the background."""
        if not claim.keys:
            return
        self._unreleased.add(claim)
        task = asyncio.get_running_loop().create_task(self._release_in_background())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _release_in_background(self) -> None:
        try:
            async with asyncio.timeout(_RELEASE_TIMEOUT_SECONDS):
                await self._release_waiting()
        except TimeoutError:
            log.warning("delivery keys not released yet: the database is slow")

    async def _release_waiting(self) -> None:
        async with self._releasing:
            for claim in sorted(self._unreleased, key=lambda c: c.claimant):
                try:
                    await self._keys.release_keys(claim.keys, claim.claimant)
                except StorageUnavailable:
                    log.warning("delivery keys not released yet: the database is unavailable")
                    return
                self._unreleased.discard(claim)

    async def _prune_now_and_then(self) -> None:
        self._seen += 1
        if self._seen % self._prune_every == 0:
            dropped = await self._keys.forget_keys_before(self._clock.now() - KEEP_KEYS)
            # Looked for every 500 deliveries (about once a second when busy): said only when
            # there were any.
            if dropped:
                log.info("old delivery keys pruned", extra={"count": dropped})
