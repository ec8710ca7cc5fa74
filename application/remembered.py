"""Yes/no answers about people (is she in that team, in one of those groups) remembered a
while, so a click costs a look-up now and then rather than every time."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Generic, TypeVar

from caches.times_by_key import TimesByKey
from handoff.ports import Clock

K = TypeVar("K", str, tuple[str, str])

# How long a membership answer holds: a yes a while, a no (the person may just have been
# added) only briefly.
MEMBER_TTL = timedelta(minutes=10)
STRANGER_TTL = timedelta(minutes=1)
# Past this many remembered answers, expired ones are dropped (an org's people, not more).
_MAX_REMEMBERED = 10_000
_SECRET = secrets.token_bytes(16)


def answer_key(key: str | tuple[str, str]) -> int:
    """64 bits of BLAKE2 of the key's ids, keyed with this process's own secret. Kept instead
    of the ids themselves (100 to 200 bytes each in Teams, and a tuple around them). An answer
    decides access: two keys of one digest would share it, and no one can make theirs collide
    with another's without the secret; by chance, two of 10,000 kept at once do about once in
    10^11 processes."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8, key=_SECRET).digest()
    return int.from_bytes(digest, "little")


class RememberedAnswers(Generic[K]):
    """A yes is kept for `yes_ttl`; a no for `no_ttl`, shorter, since the person may just
    have been added and should not wait long to be let in."""

    def __init__(self, clock: Clock, yes_ttl: timedelta, no_ttl: timedelta) -> None:
        self._clock = clock
        self._yes_ttl = yes_ttl.total_seconds()
        self._no_ttl = no_ttl.total_seconds()
        # The key's digest -> until when the answer holds (POSIX seconds), negated for a no.
        self._until = TimesByKey()

    def get(self, key: K) -> bool | None:
        """The answer remembered for `key`; None when there is none (or it expired)."""
        until = self._until.get(answer_key(key))
        if until is None or abs(until) <= self._clock.now().timestamp():
            return None
        return until > 0

    def put(self, key: K, answer: bool) -> None:
        now = self._clock.now().timestamp()
        if len(self._until) >= _MAX_REMEMBERED:
            self._until.keep(lambda until: abs(until) > now)
            if len(self._until) >= _MAX_REMEMBERED:
                self._until = TimesByKey()  # a bound on memory: the next look-ups fill it again
        until = now + (self._yes_ttl if answer else self._no_ttl)
        self._until.put(answer_key(key), until if answer else -until)
