"""A case's journey (`status <case>`): the regions and owners it passed through, each with the
time it spent there, and the handoff it is waiting on, if any."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .models import AuditEvent, Handoff, HandoffState, Person, as_utc
from .state_machine import Verb


@dataclass(frozen=True)
class Hop:
    """A stay of the case with one owner in one region, from `start` until `end` (None: the
    owner holds it still). `spent` is real elapsed time, whatever clocks did meanwhile."""

    region: str
    owner: Person
    start: datetime
    end: datetime | None
    spent: timedelta

    @property
    def current(self) -> bool:
        return self.end is None


@dataclass(frozen=True)
class Waiting:
    """The case's open handoff: requested of `region` (or sent back to the queue) and not
    accepted yet."""

    region: str
    engineer: Person | None
    since: datetime
    back_in_queue: bool = False


@dataclass(frozen=True)
class Journey:
    hops: tuple[Hop, ...] = ()
    waiting: Waiting | None = None

    @property
    def worth_showing(self) -> bool:
        """A case that never moved and waits for nothing has no journey to tell."""
        return len(self.hops) > 1 or self.waiting is not None


def accepted_at(handoff: Handoff, events: Sequence[AuditEvent]) -> datetime:
    """When the handoff was accepted: its accept event; without one (the events of another
    handoff were passed), the time it entered its state, which for an accepted handoff is the
    accept (nothing moves it on from there); records from before that was kept fall back to
    their last change."""
    for event in events:
        if (
            event.handoff_id == handoff.id
            and event.kind == Verb.ACCEPT
            and event.to_state is HandoffState.ACCEPTED
        ):
            return as_utc(event.at)
    return as_utc(handoff.state_since or handoff.updated_at)


def _waiting(ordered: Sequence[Handoff]) -> Waiting | None:
    pending = [h for h in ordered if h.state.is_open]
    if not pending:
        return None
    handoff = pending[-1]
    if handoff.state is HandoffState.BACK_TO_QUEUE:
        since = handoff.state_since or handoff.updated_at
        return Waiting(handoff.target_region, None, as_utc(since), back_in_queue=True)
    return Waiting(handoff.target_region, handoff.target_engineer, as_utc(handoff.created_at))


def case_journey(
    handoffs: Sequence[Handoff], events: Sequence[AuditEvent], now: datetime
) -> Journey:
    """The hops of the case these handoffs belong to. The first hop is where the first handoff
    was requested, by its requester, counted from that request (the bot knows nothing
    earlier); each accepted handoff adds a hop in its target region with whoever took it (the
    engineer it named, or someone who took it instead), until the next accept or `now`. A
    handoff cancelled or sent back to the queue moved nobody, so it adds no hop."""
    if not handoffs:
        return Journey()
    ordered = sorted(handoffs, key=lambda h: (h.created_at, h.id))
    first = ordered[0]
    # (start, region, owner) of each stay; times in UTC, so a difference is elapsed time even
    # across a change to or from daylight saving time.
    stays: list[tuple[datetime, str, Person]] = [
        (as_utc(first.created_at), first.from_region, first.requester)
    ]
    taken = [
        (accepted_at(h, events), h.target_region, h.owner)
        for h in ordered
        if h.state is HandoffState.ACCEPTED and h.owner is not None
    ]
    stays += sorted(taken, key=lambda stay: stay[0])
    now = as_utc(now)
    hops = []
    for index, (start, region, owner) in enumerate(stays):
        end = stays[index + 1][0] if index + 1 < len(stays) else None
        spent = max((end or now) - start, timedelta(0))
        hops.append(Hop(region, owner, start, end, spent))
    return Journey(tuple(hops), _waiting(ordered))
