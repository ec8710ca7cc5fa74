"""The Bot Connector's per-conversation limits (7 sends a second, 60 in 30 s, 1800 an hour),
kept by the outbox worker before every send so Teams does not answer 429 in the first place.

The count is per process: with several replicas each keeps the limit on its own, and the
429s that then may come are retried with their Retry-After like any other.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

# (sends, seconds) per conversation, from the Bot Connector's documented limits.
BOT_CONNECTOR_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (60, 30.0), (1800, 3600.0))


class Paced(Exception):
    """The conversation has used up its sends for a while; come back after `retry_after`."""

    def __init__(self, conversation_id: str, retry_after: float) -> None:
        super().__init__(
            f"conversation {conversation_id} is at its send limit; next send in {retry_after:.1f} s"
        )
        self.retry_after = retry_after


class ConversationPacer:
    def __init__(
        self,
        limits: Sequence[tuple[int, float]] = BOT_CONNECTOR_LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not limits or any(count < 1 or seconds <= 0 for count, seconds in limits):
            raise ValueError(f"limits must be (sends >= 1, seconds > 0) pairs, got {limits!r}")
        self._limits = tuple(limits)
        self._horizon = max(seconds for _, seconds in limits)
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}

    def delay(self, conversation_id: str) -> float:
        """Seconds until the conversation may have another send (0 when it may now)."""
        now = self._clock()
        sent = self._sent.get(conversation_id)
        if not sent:
            return 0.0
        while sent and sent[0] <= now - self._horizon:
            sent.popleft()
        wait = 0.0
        for count, seconds in self._limits:
            in_window = [t for t in sent if t > now - seconds]
            if len(in_window) >= count:
                # The send that falls out of the window first frees a place.
                wait = max(wait, in_window[-count] + seconds - now)
        return wait

    def record(self, conversation_id: str) -> None:
        self._sent.setdefault(conversation_id, deque()).append(self._clock())
        if len(self._sent) > 10_000:
            self._forget_quiet()

    def _forget_quiet(self) -> None:
        cutoff = self._clock() - self._horizon
        for key in [k for k, sent in self._sent.items() if not sent or sent[-1] <= cutoff]:
            del self._sent[key]
