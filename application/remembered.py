"""Yes/no answers about people (is she in that team, in one of those groups) remembered a
while, so a click costs a look-up now and then rather than every time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from handoff.ports import Clock

K = TypeVar("K")

# How long a membership answer holds: a yes a while, a no (the person may just have been
# added) only briefly.
MEMBER_TTL = timedelta(minutes=10)
STRANGER_TTL = timedelta(minutes=1)
# Past this many remembered answers, expired ones are dropped (an org's people, not more).
_MAX_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class _Known:
    answer: bool
    until: datetime


class RememberedAnswers(Generic[K]):
    """A yes is kept for `yes_ttl`; a no for `no_ttl`, shorter, since the person may just
    have been added and should not wait long to be let in."""

    def __init__(self, clock: Clock, yes_ttl: timedelta, no_ttl: timedelta) -> None:
        self._clock = clock
        self._yes_ttl = yes_ttl
        self._no_ttl = no_ttl
        self._known: dict[K, _Known] = {}

    def get(self, key: K) -> bool | None:
        """The answer remembered for `key`; None when there is none (or it expired)."""
        known = self._known.get(key)
        if known is None or known.until <= self._clock.now():
            return None
        return known.answer

    def put(self, key: K, answer: bool) -> None:
        now = self._clock.now()
        if len(self._known) >= _MAX_REMEMBERED:
            self._known = {k: v for k, v in self._known.items() if v.until > now}
        ttl = self._yes_ttl if answer else self._no_ttl
        self._known[key] = _Known(answer, now + ttl)
