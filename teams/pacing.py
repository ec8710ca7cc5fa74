"""The Bot Connector's per-conversation limits (7 sends a second, 60 in 30 s, 1800 an hour),
kept before every send so Teams does not answer 429 in the first place: the outbox worker's
sends (teams.sending) and the replies of a turn (teams.middleware) take their places
from the same pacer.

A place is reserved at the moment it is asked for (a time now or a little later), so two
sends waiting at once never take the same place. Each window is kept a little longer than
the service's (MARGIN_SECONDS): the time a send takes on the network varies, and two sends
that left a second apart may arrive closer together.

The count is per process: with several replicas each keeps the limit on its own, and the
429s that then may come are retried by the outbox with their Retry-After like any other.
"""

from __future__ import annotations

import bisect
import time
from array import array
from collections.abc import Callable, Sequence

# (sends, seconds) per conversation, from the Bot Connector's documented limits.
BOT_CONNECTOR_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (60, 30.0), (1800, 3600.0))
MARGIN_SECONDS = 0.05
# Conversations kept before the first sweep of those quiet for an hour.
SWEEP_ABOVE = 1024


class ConversationPacer:
    def __init__(
        self,
        limits: Sequence[tuple[int, float]] = BOT_CONNECTOR_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        margin: float = MARGIN_SECONDS,
    ) -> None:
        if not limits or any(count < 1 or seconds <= 0 for count, seconds in limits):
            raise ValueError(f"limits must be (sends >= 1, seconds > 0) pairs, got {limits!r}")
        self._limits = tuple((count, seconds + margin) for count, seconds in limits)
        self._horizon = max(seconds for _, seconds in self._limits)
        self._clock = clock
        # Each conversation's send times within the last hour (an hour allows 1800): packed
        # doubles, 8 bytes a send where a list of floats takes 32, and a conversation's one
        # send (most have one, or a few) a float alone, 24 bytes where the array takes 90.
        # Keyed by the id's hash, so an entry does not keep the id (100 to 200 bytes in
        # Teams) alive: two conversations of one hash would share one pace, slower than
        # either may go, never faster.
        self._sent: dict[int, float | array[float]] = {}
        self._sweep_above = SWEEP_ABOVE

    def delay(self, conversation_id: str) -> float:
        """Seconds until the conversation may have another send (0 when it may now)."""
        now = self._clock()
        return self._slot(conversation_id, now) - now

    def reserve(self, conversation_id: str, max_wait: float = float("inf")) -> float:
        """Takes the conversation's next place, when it is at most `max_wait` seconds away;
        returns the seconds to wait for it (more than `max_wait`: no place was taken)."""
        now = self._clock()
        slot = self._slot(conversation_id, now)
        if slot - now <= max_wait:
            self._add(conversation_id, slot, now)
        return slot - now

    def conversations(self) -> int:
        """How many conversations are kept (those with a send in the last hour, and up to as
        many again since the last sweep)."""
        return len(self._sent)

    def record(self, conversation_id: str) -> None:
        """A send made now, without waiting for a place."""
        now = self._clock()
        self._add(conversation_id, now, now)

    def _add(self, conversation_id: str, slot: float, now: float) -> None:
        key = hash(conversation_id)
        sent = self._sent.get(key)
        if sent is None:
            self._sent[key] = float(slot)
        else:
            if isinstance(sent, float):
                sent = self._sent[key] = array("d", (sent,))
            bisect.insort(sent, slot)
        if len(self._sent) > self._sweep_above:
            self._forget_quiet(now)
            # Swept again when twice as many are kept: each send pays a constant share.
            self._sweep_above = max(SWEEP_ABOVE, 2 * len(self._sent))

    def _slot(self, conversation_id: str, now: float) -> float:
        sent = self._sent.get(hash(conversation_id))
        if sent is None:
            return now
        times: Sequence[float]
        if isinstance(sent, float):
            times = (sent,) if sent > now - self._horizon else ()
        else:
            del sent[: bisect.bisect_right(sent, now - self._horizon)]
            times = sent
        slot = now
        for count, seconds in self._limits:
            # The sends within `seconds` before the slot must be fewer than `count`: the
            # count-th latest one has to have left the window.
            if len(times) >= count:
                slot = max(slot, times[-count] + seconds)
        return slot

    def _forget_quiet(self, now: float) -> None:
        cutoff = now - self._horizon
        quiet = [k for k, sent in self._sent.items() if _last(sent) <= cutoff]
        for key in quiet:
            del self._sent[key]


def _last(sent: float | array[float]) -> float:
    if isinstance(sent, float):
        return sent
    return sent[-1] if sent else float("-inf")
