"""Items the worker set aside for a moment because their conversation is at its pace (Teams
allows 7 sends a second in one conversation), kept in memory with their lease: the worker
sends one item at a time, and sleeping through a busy channel's second held every other
conversation's messages back to that channel's pace. Times are the event loop's, as the
pacer's are (teams/pacing.py), not the injected clock's."""

from __future__ import annotations

import heapq

from handoff.ports import OutboxItem


class SetAside:
    def __init__(self) -> None:
        # (ready at, item id, item, claimed at): the id orders items ready at the same time.
        self._heap: list[tuple[float, int, OutboxItem, float]] = []

    def add(self, item: OutboxItem, ready_at: float, claimed_at: float) -> None:
        heapq.heappush(self._heap, (ready_at, item.id, item, claimed_at))

    def ready(self, now: float) -> list[tuple[OutboxItem, float]]:
        """The items whose time has come, soonest first, with when each was claimed; they
        are no longer kept."""
        ready = []
        while self._heap and self._heap[0][0] <= now:
            _, _, item, claimed_at = heapq.heappop(self._heap)
            ready.append((item, claimed_at))
        return ready

    def seconds_to_next(self, now: float) -> float | None:
        """Until the soonest item is ready (0 when one is); None when none is kept."""
        return max(self._heap[0][0] - now, 0.0) if self._heap else None

    def take_all(self) -> list[OutboxItem]:
        """Every item kept, to put back in the outbox (the worker is stopping)."""
        items = [item for _, _, item, _ in sorted(self._heap)]
        self._heap.clear()
        return items
