"""A time under each 64-bit key, in two sorted packed arrays: 16 bytes an entry.

What the process remembers per person or conversation (when an address was stored, a
language read, a send made, an answer given) is one time each, for thousands of people. In a
dict, each entry took about 130 bytes: the key's int object (36), the time's float (24) and
the dict's own slot and spare room. A shift change's new people made that most of the bot's
growth in memory. Here a look-up is a binary search in C over the keys (half a microsecond
at 20,000 entries, a dict's 0.04) and a new key moves the ones after it (4 microseconds); a
key met again changes its time in place.

preshed's map (made for pre-hashed 64-bit keys) was measured too: about 40 bytes an entry,
but its and cymem's libraries added 1.4 MB to the process's memory at import."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Hashable

_U64 = (1 << 64) - 1


def key_of(value: Hashable) -> int:
    """The value's hash as an unsigned 64-bit key. Two values of one hash share an entry:
    the callers keep only what a collision may harmlessly share, or key by a digest."""
    return hash(value) & _U64


class TimesByKey:
    __slots__ = ("_keys", "_times")

    def __init__(self) -> None:
        self._keys: array[int] = array("Q")
        self._times: array[float] = array("d")

    def get(self, key: int) -> float | None:
        keys = self._keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            return self._times[i]
        return None

    def put(self, key: int, time: float) -> None:
        keys = self._keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            self._times[i] = time
        else:
            keys.insert(i, key)
            self._times.insert(i, time)

    def discard(self, key: int) -> None:
        keys = self._keys
        i = bisect_left(keys, key)
        if i < len(keys) and keys[i] == key:
            del keys[i]
            del self._times[i]

    def keep(self, wanted: Callable[[float], bool]) -> None:
        """Drops every entry whose time is not `wanted`."""
        kept = [i for i, time in enumerate(self._times) if wanted(time)]
        self._keys = array("Q", [self._keys[i] for i in kept])
        self._times = array("d", [self._times[i] for i in kept])

    def __len__(self) -> int:
        return len(self._keys)
