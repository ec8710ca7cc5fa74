"""Teams redelivers an activity when the bot answers slowly — with the same id, and
sometimes with a new id but the same content. A delivery is handled once: its keys are
claimed in the shared database before the turn runs, and a repeat finds them claimed.

Keys: the activity id (in its conversation), and for messages a digest of who wrote what
where with the client's own send time (`localTimestamp`), which a redelivery keeps and a
person typing the same words again does not. Invokes (card buttons) are not claimed here:
they always need an answer, and the card's own key (bot/clicks.py) gives it.

A turn that does not finish gives its keys back, so that Teams' redelivery is handled: on an
error, at once; when the request deadline cancels it, or when the database that failed cannot
take the release either, the keys wait in this process and are released in the background
and, at the latest, before the next delivery's claim (which is how a redelivery to this
replica always finds them free).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta

from botbuilder.schema import Activity, ActivityTypes

from handoff.ports import Clock, HandledKeys
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

# Redeliveries come within a minute or two; a day of keys is plenty and keeps the table small.
KEEP_KEYS = timedelta(days=1)
PRUNE_EVERY = 500
# A background release that the database does not answer in this time is left for later.
_RELEASE_TIMEOUT_SECONDS = 5.0

_CLAIMED_TYPES = frozenset(
    {ActivityTypes.message, ActivityTypes.conversation_update, ActivityTypes.installation_update}
)


def _digest(*parts: object) -> str:
    # ASCII escapes, so text with a lone surrogate (which JSON allows) still hashes.
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def delivery_keys(activity: Activity) -> list[str]:
    """The keys that make this delivery a repeat of an earlier one; none for invokes."""
    if activity.type not in _CLAIMED_TYPES:
        return []
    conversation = activity.conversation.id if activity.conversation else ""
    keys = []
    if activity.id:
        keys.append("delivery:" + _digest(conversation, activity.id))
    if activity.type == ActivityTypes.message and activity.local_timestamp is not None:
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


class Deliveries:
    def __init__(self, keys: HandledKeys, clock: Clock, prune_every: int = PRUNE_EVERY) -> None:
        self._keys = keys
        self._clock = clock
        self._prune_every = prune_every
        self._claims = 0
        # Keys of unfinished turns not released yet; the lock keeps a release in flight from
        # deleting a key that a redelivery has claimed again meanwhile.
        self._unreleased: set[str] = set()
        self._releasing = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    async def claim(self, activity: Activity) -> list[str] | None:
        """The keys claimed for this delivery, or None when it is a repeat (handled or being
        handled by this or another replica)."""
        if self._unreleased or self._releasing.locked():
            await self._release_waiting()
        keys = delivery_keys(activity)
        # All in one transaction: one commit per turn, not one per key.
        repeated = await self._keys.claim_keys(keys)
        if repeated is not None:
            log.info(
                "repeated delivery ignored",
                extra={
                    "activity_id": activity.id,
                    "activity_type": activity.type,
                    "by": repeated.split(":", 1)[0],
                },
            )
            return None
        await self._prune_now_and_then()
        return keys

    async def release(self, keys: Sequence[str]) -> None:
        """The turn failed: a redelivery is handled again. When the database is what failed,
        the keys wait for it (see the module's notes); the turn's own error is the one to
        report."""
        self._unreleased.update(keys)
        await self._release_waiting()

    def abandon(self, keys: Sequence[str]) -> None:
        """The turn was cancelled (its request ran past the deadline): nothing may be awaited
        now, so the keys are released in the background."""
        if not keys:
            return
        self._unreleased.update(keys)
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
            for key in sorted(self._unreleased):
                try:
                    await self._keys.release_key(key)
                except StorageUnavailable:
                    log.warning("delivery keys not released yet: the database is unavailable")
                    return
                self._unreleased.discard(key)

    async def _prune_now_and_then(self) -> None:
        self._claims += 1
        if self._claims % self._prune_every == 0:
            dropped = await self._keys.forget_keys_before(self._clock.now() - KEEP_KEYS)
            log.info("old delivery keys pruned", extra={"count": dropped})
