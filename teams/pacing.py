"""The Bot Connector's per-conversation limits (7 sends a second, 60 in 30 s, 1800 an hour),
kept before every send so Teams does not answer 429 in the first place: the outbox worker's
sends (teams.sending) and the replies of a turn (teams.middleware) take their places
from the same pacer.

A place is reserved at the moment it is asked for (a time now or a little later), so two
sends waiting at once never take the same place. Each window is kept a little longer than
the service's (MARGIN_SECONDS): the time a send takes on the network varies, and two sends
that left a second apart may arrive closer together.

Windows of up to EXACT_SECONDS are counted send by send; the hour by the minute, a send
taken to leave it at the end of its minute: a conversation at the hour's 1,800 then keeps
about 600 bytes rather than 14 KB, and waits at most a minute longer than Teams would make it.

The count is per process: with several replicas each keeps the limit on its own, and the
429s that then may come are retried by the outbox with their Retry-After like any other.
"""

from __future__ import annotations

import bisect
import math
import time
from array import array
from collections.abc import Callable, Sequence

from caches.times_by_key import TimesByKey, key_of

# (sends, seconds) per conversation, from the Bot Connector's documented limits.
BOT_CONNECTOR_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (60, 30.0), (1800, 3600.0))
MARGIN_SECONDS = 0.05
# Conversations kept before the first sweep of those quiet for an hour.
SWEEP_ABOVE = 1024
EXACT_SECONDS = 300.0
MINUTE = 60.0


class _Sends:
    """A conversation's sends of the last hour, when it has had more than one: the times
    within the exact windows, sorted; the older ones counted in a ring of minutes."""

    __slots__ = ("minute", "per_minute", "recent")

    def __init__(self, times: Sequence[float], minutes: int) -> None:
        self.recent: array[float] = array("d", sorted(times))
        self.per_minute: array[int] = array("H", bytes(2 * minutes))
        self.minute = -1  # the latest minute the ring counts (none yet)


class ConversationPacer:
    def __init__(
        self,
        limits: Sequence[tuple[int, float]] = BOT_CONNECTOR_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        margin: float = MARGIN_SECONDS,
    ) -> None:
        if not limits or any(count < 1 or seconds <= 0 for count, seconds in limits):
            raise ValueError(f"limits must be (sends >= 1, seconds > 0) pairs, got {limits!r}")
        windows = [(count, seconds + margin) for count, seconds in limits]
        # A conversation's one send fills a window only where the limit is one send.
        self._one_send = max((s for c, s in windows if c == 1), default=None)
        self._exact = [(c, s) for c, s in windows if s <= EXACT_SECONDS]
        self._by_minute = [(c, s) for c, s in windows if s > EXACT_SECONDS]
        self._horizon = max(seconds for _, seconds in windows)
        self._exact_horizon = max((s for _, s in self._exact), default=0.0)
        self._minutes = math.ceil(self._horizon / MINUTE) + 1 if self._by_minute else 0
        self._clock = clock
        # Most conversations have one send, or a few: a conversation of one is a time under
        # its key, 16 bytes (caches.times_by_key). Keyed by the id's hash, so an entry does
        # not keep the id (100 to 200 bytes in Teams) alive: two conversations of one hash
        # would share one pace, slower than either may go, never faster.
        self._sent_once = TimesByKey()
        self._sent: dict[int, _Sends] = {}
        self._sweep_above = SWEEP_ABOVE

    def delay(self, conversation_id: str) -> float:
        """Seconds until the conversation may have another send (0 when it may now)."""
        now = self._clock()
        return self._slot(key_of(conversation_id), now) - now

    def reserve(self, conversation_id: str, max_wait: float = float("inf")) -> float:
        """Takes the conversation's next place, when it is at most `max_wait` seconds away;
        returns the seconds to wait for it (more than `max_wait`: no place was taken)."""
        now = self._clock()
        key = key_of(conversation_id)
        slot = self._slot(key, now)
        if slot - now <= max_wait:
            self._add(key, slot, now)
        return slot - now

    def conversations(self) -> int:
        """How many conversations are kept (those with a send in the last hour, and up to as
        many again since the last sweep)."""
        return len(self._sent_once) + len(self._sent)

    def record(self, conversation_id: str) -> None:
        """A send made now, without waiting for a place."""
        now = self._clock()
        self._add(key_of(conversation_id), now, now)

    def _add(self, key: int, slot: float, now: float) -> None:
        sends = self._sent.get(key)
        if sends is not None:
            bisect.insort(sends.recent, slot)
        else:
            first = self._sent_once.get(key)
            if first is None:
                self._sent_once.put(key, slot)
            else:
                self._sent_once.discard(key)
                self._sent[key] = _Sends((first, slot), self._minutes)
        if self.conversations() > self._sweep_above:
            self._forget_quiet(now)
            # Swept again when twice as many are kept: each send pays a constant share.
            self._sweep_above = max(SWEEP_ABOVE, 2 * self.conversations())

    def _slot(self, key: int, now: float) -> float:
        sends = self._sent.get(key)
        if sends is None:
            first = self._sent_once.get(key)
            if first is None or self._one_send is None:
                return now
            return max(now, first + self._one_send)
        self._fold(sends, now)
        recent = sends.recent
        slot = now
        for count, seconds in self._exact:
            # The sends within `seconds` before the slot must be fewer than `count`: the
            # count-th latest one has to have left the window.
            if len(recent) >= count:
                slot = max(slot, recent[-count] + seconds)
        for count, seconds in self._by_minute:
            slot = max(slot, self._counted_slot(sends, now, count, seconds))
        return slot

    def _fold(self, sends: _Sends, now: float) -> None:
        """Moves the sends that left the exact windows into their minutes."""
        recent = sends.recent
        older = bisect.bisect_right(recent, now - self._exact_horizon)
        if self._minutes:
            ring, per_minute = self._minutes, sends.per_minute
            for sent in recent[:older]:
                minute = math.floor(sent / MINUTE)
                if minute > sends.minute:
                    for passed in range(max(sends.minute + 1, minute - ring + 1), minute + 1):
                        per_minute[passed % ring] = 0
                    sends.minute = minute
                per_minute[minute % ring] += 1
        del recent[:older]

    def _counted_slot(self, sends: _Sends, now: float, count: int, seconds: float) -> float:
        """The first time the window holds fewer than `count` sends, a minute's sends taken
        to leave at the end of their minute."""
        recent, per_minute, ring = sends.recent, sends.per_minute, self._minutes
        if sum(per_minute) + len(recent) < count:
            return now  # even counting every minute of the ring
        start = now - seconds
        minutes = range(sends.minute - ring + 1, sends.minute + 1)
        kept = [(m, per_minute[m % ring]) for m in minutes if (m + 1) * MINUTE > start]
        excess = sum(sent for _, sent in kept) + len(recent) - count + 1
        if excess <= 0:
            return now
        for minute, sent in kept:
            excess -= sent
            if excess <= 0:
                return (minute + 1) * MINUTE + seconds
        return recent[excess - 1] + seconds

    def _forget_quiet(self, now: float) -> None:
        cutoff = now - self._horizon
        self._sent_once.keep(lambda sent: sent > cutoff)
        quiet = [key for key, sends in self._sent.items() if _last(sends) <= cutoff]
        for key in quiet:
            del self._sent[key]


def _last(sends: _Sends) -> float:
    if sends.recent:
        return sends.recent[-1]
    return (sends.minute + 1) * MINUTE if any(sends.per_minute) else float("-inf")
