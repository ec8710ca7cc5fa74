"""The per-conversation send limits of the Bot Connector."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from teams.pacing import BOT_CONNECTOR_LIMITS, MARGIN_SECONDS, MINUTE, ConversationPacer


def bytes_kept(work: Callable[[], None]) -> int:
    """The memory `work` left allocated, as tracemalloc counts it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        work()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_seven_sends_a_second_then_wait_for_the_oldest_to_leave_the_window() -> None:
    ticks = Ticks()
    pacer = ConversationPacer(clock=ticks)
    for _ in range(7):
        assert pacer.delay("chat") == 0
        pacer.record("chat")
        ticks.now += 0.01
    assert pacer.delay("chat") == pytest.approx(1.0 + MARGIN_SECONDS - 0.07)
    assert pacer.delay("another chat") == 0


def test_sixty_in_thirty_seconds_even_when_each_second_is_below_seven() -> None:
    ticks = Ticks()
    pacer = ConversationPacer(clock=ticks)
    for _ in range(60):
        pacer.record("chat")
        ticks.now += 0.2  # five a second
    assert pacer.delay("chat") == pytest.approx(30.0 + MARGIN_SECONDS - 60 * 0.2)


def test_limits_must_make_sense() -> None:
    with pytest.raises(ValueError, match="limits"):
        ConversationPacer(limits=((0, 1.0),))


def test_waiting_sends_take_places_one_after_another_never_the_same() -> None:
    ticks = Ticks()
    pacer = ConversationPacer(clock=ticks, margin=0.0)
    waits = [pacer.reserve("chat") for _ in range(15)]
    # Seven now, the next seven a second later, one more a second after those.
    assert waits == [0.0] * 7 + [1.0] * 7 + [2.0]


def test_a_place_too_far_away_is_not_taken() -> None:
    ticks = Ticks()
    pacer = ConversationPacer(clock=ticks, margin=0.0)
    for _ in range(7):
        pacer.reserve("chat")
    assert pacer.reserve("chat", max_wait=0.5) == pytest.approx(1.0)
    assert pacer.reserve("chat", max_wait=0.5) == pytest.approx(1.0), "nothing was taken"


def test_an_hour_of_sends_in_a_thousand_chats_keeps_a_few_bytes_a_send() -> None:
    # Every send of the last hour is kept (an hour allows 1800): a busy hour must not cost
    # the process megabytes. 100,000 sends: under 1.2 MB, where floats in lists took 3.4 MB.
    ticks = Ticks()
    pacer = ConversationPacer(clock=ticks)
    chats = [f"a:1{n:090d}" for n in range(1000)]

    def an_hour_of_sends() -> None:
        for _ in range(100):
            for chat in chats:
                ticks.now += 0.01
                pacer.reserve(chat)

    kept = bytes_kept(an_hour_of_sends)
    assert pacer.delay(chats[0]) == 0, "each chat sent once a second: within every limit"
    assert kept / 100_000 < 12, f"{kept / 100_000:.1f} bytes a send"


def test_a_conversation_costs_little_and_is_forgotten_an_hour_after_its_last_send() -> None:
    ticks = Ticks()
    pacer = ConversationPacer(clock=ticks)
    # Teams' ids run to 100-200 characters; an entry must not keep one alive.
    chats = [f"a:1{'x' * 120}{n}" for n in range(3000)]

    def one_send_each() -> None:
        for chat in chats:
            pacer.reserve(chat)

    kept = bytes_kept(one_send_each)
    # One send a conversation, as most have: 16 bytes under its key (in a dict, about 130).
    assert kept / len(chats) < 24, f"{kept / len(chats):.0f} bytes a conversation"
    assert pacer.delay(chats[0]) == 0
    for _ in range(6):
        pacer.record(chats[0])
    assert pacer.delay(chats[0]) > 0, "the seventh send in a second waits, hash or no hash"

    ticks.now += 3600 + MARGIN_SECONDS + 1
    newcomers = [f"a:new-{n}" for n in range(3000)]
    for chat in newcomers:
        pacer.reserve(chat)
    assert pacer.conversations() <= 3000 + 1, "the quiet hour's conversations swept out"


def test_a_limit_of_one_send_holds_from_the_first_send() -> None:
    ticks = Ticks()
    pacer = ConversationPacer(limits=((1, 2.0), (3, 60.0)), clock=ticks, margin=0.0)
    pacer.record("chat")
    assert pacer.delay("chat") == pytest.approx(2.0), "one send kept as a float still counts"
    ticks.now += 2.0
    assert pacer.reserve("chat") == 0
    ticks.now += 2.0
    assert pacer.reserve("chat") == 0
    ticks.now += 2.0
    assert pacer.delay("chat") == pytest.approx(54.0), "three in a minute: the first must leave"
    ticks.now += 3600.0
    assert pacer.delay("chat") == 0


def exact_slot(sent: list[float], now: float, limits: tuple[tuple[int, float], ...]) -> float:
    """The earliest place every send kept exactly allows (as the pacer kept them all)."""
    slot = now
    for count, seconds in limits:
        within = sorted(t for t in sent if t > now - seconds)
        if len(within) >= count:
            slot = max(slot, within[-count] + seconds)
    return slot


@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.3, 1.0, 59.0]) | st.floats(0, 240), st.just("a"))
        | st.tuples(st.floats(0, 2), st.just("b")),
        min_size=1,
        max_size=100,
    )
)
@example([(0.0, "a")] * 12)
@example([(0.0, "a")] * 10 + [(660.0, "a")] + [(0.0, "a")] * 10)
def test_a_long_window_counted_by_the_minute_waits_at_most_a_minute_longer(
    steps: list[tuple[float, str]],
) -> None:
    # An hour-like window (10 sends in 10 minutes) beside an exact one (2 a second).
    limits = ((2, 1.0), (10, 600.0))
    ticks = Ticks()
    pacer = ConversationPacer(limits=limits, clock=ticks, margin=0.0)
    sent: dict[str, list[float]] = {"a": [], "b": []}
    for gap, chat in steps:
        ticks.now += gap
        exact = exact_slot(sent[chat], ticks.now, limits)
        slot = ticks.now + pacer.reserve(chat)
        assert exact <= slot <= exact + MINUTE, "never sooner than Teams allows"
        if slot - exact > 1e-9:
            assert len([t for t in sent[chat] if t > ticks.now - 600.0 - MINUTE]) >= 10
        sent[chat].append(slot)


def test_a_conversation_at_its_hours_limit_keeps_under_a_kilobyte() -> None:
    ticks = Ticks()
    pacer = ConversationPacer(clock=ticks)
    waited = [False]

    def an_hour_at_the_limit() -> None:
        for _ in range(1800):
            waited[0] |= pacer.reserve("19:channel") > 0
            ticks.now += 2.0

    kept = bytes_kept(an_hour_at_the_limit)
    assert kept < 1024, f"{kept} bytes for 1,800 sends (each kept: 14 KB)"
    assert not waited[0], "one send every two seconds: within every limit"
    assert pacer.delay("19:channel") > 0, "the hour's 1,800 are out: the next waits"
    hour = BOT_CONNECTOR_LIMITS[-1][1] + MARGIN_SECONDS
    assert pacer.delay("19:channel") <= hour - 1800 * 2.0 + 2.0 + MINUTE
