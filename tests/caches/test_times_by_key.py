"""The compact map that keeps the process's per-person times: it must answer as a dict would,
through every mix of puts, discards and sweeps, at 16 bytes an entry."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from caches.times_by_key import TimesByKey, key_of

KEYS = st.one_of(st.integers(0, 40), st.integers(0, (1 << 64) - 1))
TIMES = st.floats(allow_nan=False, width=64)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), KEYS, TIMES),
        st.tuples(st.just("discard"), KEYS, TIMES),
        st.tuples(st.just("keep after"), KEYS, TIMES),
    ),
    max_size=200,
)


def after(cutoff: float) -> Callable[[float], bool]:
    return lambda at: at > cutoff


@given(OPERATIONS)
def test_it_answers_as_a_dict_would(operations: list[tuple[str, int, float]]) -> None:
    kept = TimesByKey()
    model: dict[int, float] = {}
    for operation, key, time in operations:
        if operation == "put":
            kept.put(key, time)
            model[key] = time
        elif operation == "discard":
            kept.discard(key)
            model.pop(key, None)
        else:
            kept.keep(after(time))
            model = {k: at for k, at in model.items() if at > time}
        assert len(kept) == len(model)
    for key in list(model) + [key for _, key, _ in operations]:
        assert kept.get(key) == model.get(key)


def test_any_hashable_has_an_unsigned_64_bit_key() -> None:
    keys = {key_of(value) for value in ("29:ana", ("a", 1), -1, -(2**63), 2**70)}
    assert all(0 <= key < 2**64 for key in keys)
    assert key_of("29:ana") == key_of("29:ana")


def test_an_entry_costs_16_bytes_and_a_little_room() -> None:
    kept = TimesByKey()
    keys = [key_of(f"29:{'x' * 120}{n}") for n in range(20_000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, key in enumerate(keys):
            kept.put(key, 1_733_369_000.0 + n)
        cost = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cost / len(keys) < 20, f"{cost / len(keys):.1f} bytes an entry (a dict: ~130)"
    assert kept.get(keys[12_345]) == 1_733_369_000.0 + 12_345
