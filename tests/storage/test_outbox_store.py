"""The outbox (storage.outbox_store) on SQLite and PostgreSQL: enqueueing once per dedupe key,
claiming under a lease, retries, dead letters, and the lanes that keep one chat's messages in
order."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from handoff import effects
from handoff.models import Person
from handoff.ports import OutboxItem, OutboxMessage, OutboxState
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock

LEASE = timedelta(seconds=30)


def message(
    key: str, clock: FakeClock, lane: str | None, later: timedelta = timedelta(0)
) -> OutboxMessage:
    at = clock.now() + later
    return OutboxMessage(kind="notify", payload={}, dedupe_key=key, not_before=at, lane=lane)


async def test_enqueue_ignores_a_repeated_dedupe_key(store: SqlStore, clock: FakeClock) -> None:
    payload = {"conversation_id": "19:x", "text": "Case 123456 was accepted", "n": [1, 2.5]}
    assert await store.enqueue("send", payload, "accept:msg-1:v2", clock.now()) is True
    assert await store.enqueue("send", {"other": True}, "accept:msg-1:v2", clock.now()) is False

    claimed = await store.claim(clock.now(), 10, LEASE)

    assert [(item.kind, item.payload, item.attempts) for item in claimed] == [("send", payload, 1)]
    assert claimed[0].state is OutboxState.PENDING
    assert claimed[0].dedupe_key == "accept:msg-1:v2"


async def test_claim_takes_only_due_items_oldest_first(store: SqlStore, clock: FakeClock) -> None:
    now = clock.now()
    await store.enqueue("send", {"n": 2}, "later", now + timedelta(minutes=5))
    await store.enqueue("send", {"n": 1}, "due-second", now - timedelta(seconds=1))
    await store.enqueue("send", {"n": 0}, "due-first", now - timedelta(minutes=1))

    first = await store.claim(now, 1, LEASE)
    rest = await store.claim(now, 10, LEASE)
    for item in first + rest:
        await store.complete(item.id)
    later = await store.claim(now + timedelta(minutes=5), 10, LEASE)

    assert [item.dedupe_key for item in first] == ["due-first"]
    assert [item.dedupe_key for item in rest] == ["due-second"]
    assert [item.dedupe_key for item in later] == ["later"]
    assert await store.claim(now, 0, LEASE) == []


async def test_an_item_whose_lease_ran_out_is_claimed_again(
    store: SqlStore, clock: FakeClock
) -> None:
    now = clock.now()
    await store.enqueue("graph.create_chat", {"case": "123456"}, "chat:123456", now)
    (first,) = await store.claim(now, 10, LEASE)

    assert await store.claim(now + LEASE - timedelta(seconds=1), 10, LEASE) == []
    (again,) = await store.claim(now + LEASE, 10, LEASE)

    assert again.id == first.id
    assert (first.attempts, again.attempts) == (1, 2)


async def test_two_workers_never_claim_the_same_item(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    now = clock.now()
    for i in range(40):
        await store.enqueue("send", {"i": i}, f"item-{i}", now - timedelta(seconds=i))

    async def drain(worker: SqlStore) -> list[int]:
        taken: list[int] = []
        while batch := await worker.claim(now, 3, LEASE):
            taken.extend(item.id for item in batch)
            await asyncio.sleep(0)
        return taken

    per_worker = await asyncio.gather(
        drain(store), drain(second_store), drain(store), drain(second_store)
    )

    everything = [item_id for taken in per_worker for item_id in taken]
    assert len(everything) == len(set(everything)) == 40


async def test_retry_later_complete_and_give_up(store: SqlStore, clock: FakeClock) -> None:
    now = clock.now()
    for key in ("to-retry", "to-complete", "to-give-up"):
        await store.enqueue("send", {"key": key}, key, now)
    items = {item.dedupe_key: item for item in await store.claim(now, 10, LEASE)}

    retry_at = now + timedelta(minutes=2)
    await store.retry_later(items["to-retry"].id, retry_at, "429 Too Many Requests")
    await store.complete(items["to-complete"].id)
    await store.give_up(items["to-give-up"].id, "403 Forbidden: the bot was removed")

    after_leases = now + LEASE + timedelta(seconds=1)
    assert await store.claim(after_leases, 10, LEASE) == []
    (retried,) = await store.claim(retry_at, 10, LEASE)
    assert (retried.dedupe_key, retried.attempts) == ("to-retry", 2)
    assert retried.last_error == "429 Too Many Requests"
    assert retried.not_before == retry_at

    dead = await store.dead_letters()
    assert [(d.dedupe_key, d.state, d.last_error) for d in dead] == [
        ("to-give-up", OutboxState.DEAD, "403 Forbidden: the bot was removed")
    ]


async def test_a_worker_whose_lease_ran_out_cannot_undo_the_next_workers_result(
    store: SqlStore, clock: FakeClock
) -> None:
    now = clock.now()
    await store.enqueue("send", {}, "slow", now)
    (slow,) = await store.claim(now, 1, LEASE)
    (fast,) = await store.claim(now + LEASE, 1, LEASE)
    await store.complete(fast.id)

    await store.retry_later(slow.id, now + LEASE, "timed out")
    await store.give_up(slow.id, "timed out")

    assert await store.claim(now + timedelta(hours=1), 10, LEASE) == []
    assert await store.dead_letters() == []


async def test_dead_letters_list_the_latest_first(store: SqlStore, clock: FakeClock) -> None:
    for key in ("a", "b", "c"):
        await store.enqueue("send", {}, key, clock.now())
    items: list[OutboxItem] = await store.claim(clock.now(), 10, LEASE)
    for item in items:
        clock.advance(timedelta(seconds=1))
        await store.give_up(item.id, f"gave up on {item.dedupe_key}")

    assert [d.dedupe_key for d in await store.dead_letters()] == ["c", "b", "a"]
    assert [d.dedupe_key for d in await store.dead_letters(limit=1)] == ["c"]


async def test_enqueue_refuses_a_naive_time(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="time zone"):
        await store.enqueue("send", {}, "naive", datetime(2025, 1, 1))


async def test_a_lane_hands_out_one_item_at_a_time_in_order(
    store: SqlStore, clock: FakeClock
) -> None:
    for key, lane in [("a1", "chat:a"), ("b1", "chat:b"), ("a2", "chat:a"), ("free", None)]:
        await store.enqueue_message(message(key, clock, lane))

    first = await store.claim(clock.now(), 10, LEASE)
    assert sorted(i.dedupe_key for i in first) == ["a1", "b1", "free"]
    # a2 waits while a1 is out, and while a1 waits for its retry.
    a1 = next(i for i in first if i.dedupe_key == "a1")
    assert await store.claim(clock.now(), 10, LEASE) == []
    await store.retry_later(a1.id, clock.now() + timedelta(seconds=5), "503")
    assert await store.claim(clock.now(), 10, LEASE) == []

    clock.advance(timedelta(seconds=5))
    [retried] = await store.claim(clock.now(), 10, LEASE)
    assert retried.dedupe_key == "a1"
    await store.complete(retried.id)
    [second] = await store.claim(clock.now(), 10, LEASE)
    assert second.dedupe_key == "a2"


async def test_an_item_planned_for_later_does_not_hold_its_lane_back(
    store: SqlStore, clock: FakeClock
) -> None:
    await store.enqueue_message(message("reminder", clock, "chat:a", later=timedelta(hours=1)))
    await store.enqueue_message(message("now", clock, "chat:a"))
    [due] = await store.claim(clock.now(), 10, LEASE)
    assert due.dedupe_key == "now"


async def test_an_item_put_back_for_its_pace_holds_its_lane_until_then(
    store: SqlStore, clock: FakeClock
) -> None:
    """A conversation at Teams' limit: its lane's next items wait with the one put back,
    rather than each being claimed (or sent ahead of it) in turn; a later reminder keeps
    its own time, and other lanes go on."""
    for key in ("a1", "a2"):
        await store.enqueue_message(message(key, clock, "chat:a"))
    await store.enqueue_message(message("reminder", clock, "chat:a", later=timedelta(hours=1)))
    await store.enqueue_message(message("b1", clock, "chat:b"))
    first = await store.claim(clock.now(), 10, LEASE)
    assert sorted(i.dedupe_key for i in first) == ["a1", "b1"]
    a1, b1 = sorted(first, key=lambda item: item.dedupe_key)
    await store.complete(b1.id)

    await store.defer(a1.id, clock.now() + timedelta(seconds=20))
    assert await store.claim(clock.now(), 10, LEASE) == []

    clock.advance(timedelta(seconds=20))
    [again] = await store.claim(clock.now(), 10, LEASE)
    assert (again.dedupe_key, again.attempts) == ("a1", 1)
    await store.complete(again.id)
    [second] = await store.claim(clock.now(), 10, LEASE)
    assert second.dedupe_key == "a2"
    await store.complete(second.id)
    assert await store.claim(clock.now(), 10, LEASE) == []
    clock.advance(timedelta(hours=1))
    [reminder] = await store.claim(clock.now(), 10, LEASE)
    assert reminder.dedupe_key == "reminder"


async def test_a_claim_among_many_waiting_lanes_takes_the_heads_due_first(
    store: SqlStore, clock: FakeClock
) -> None:
    """Thirty chats with twenty messages each waiting (a busy shift change): a claim hands
    out no more than it was asked, one message per chat, the longest-waiting chats first."""
    for n in range(20):
        for lane in range(30):
            waited = timedelta(minutes=lane, seconds=-n)
            await store.enqueue_message(message(f"l{lane}-{n}", clock, f"chat:{lane}", -waited))

    first = await store.claim(clock.now(), 3, LEASE)
    assert [item.dedupe_key for item in first] == ["l29-0", "l28-0", "l27-0"]
    for item in first:
        await store.complete(item.id)
    heads = await store.claim(clock.now(), 100, LEASE)
    expected = ["l29-1", "l28-1", "l27-1", *(f"l{lane}-0" for lane in range(26, -1, -1))]
    assert [item.dedupe_key for item in heads] == expected
    assert await store.claim(clock.now(), 100, LEASE) == []


async def test_an_idle_poll_only_reads_and_a_busy_outbox_is_claimed_at_once(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Polled twice a second, an idle outbox must not take SQLite's write lock (every writer
    of the file would wait); right after a claim that took something, or when the caller
    knows something is due, the look first is skipped: it costs as much as the claim."""
    store = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", clock)
    heard: list[str] = []
    store.database._conn._conn.set_trace_callback(heard.append)  # type: ignore[attr-defined]

    async def claim(expected: bool = False) -> tuple[int, list[str]]:
        heard.clear()
        items = await store.claim(clock.now(), 2, LEASE, expected=expected)
        for item in items:
            await store.complete(item.id)
        steps = [" ".join(sql.split()[:2]) for sql in heard if not sql.startswith("PRAGMA")]
        return len(items), steps[: steps.index("UPDATE outbox") + 1 if items else None]

    try:
        assert await claim() == (0, ["SELECT id"])
        for key in ("one", "two", "three"):
            await store.enqueue_message(message(key, clock, None))
        assert await claim() == (2, ["SELECT id", "UPDATE outbox"])
        assert await claim() == (1, ["UPDATE outbox"])
        # The first claim to find nothing after that still writes; the polls after it read.
        assert await claim() == (0, ["UPDATE outbox"])
        assert await claim() == (0, ["SELECT id"])
        assert await claim() == (0, ["SELECT id"])
        # Woken by an enqueue, the worker claims at once: the look would only repeat it.
        await store.enqueue_message(message("four", clock, None))
        assert await claim(expected=True) == (1, ["UPDATE outbox"])
    finally:
        await store.close()


async def test_sent_steps_survive_a_retry_and_deferring_costs_no_attempt(
    store: SqlStore, clock: FakeClock
) -> None:
    await store.enqueue_message(message("two-sends", clock, "chat:a"))
    [item] = await store.claim(clock.now(), 1, LEASE)
    await store.record_steps(item.id, ["activity-1"])
    await store.defer(item.id, clock.now() + timedelta(seconds=2))

    clock.advance(timedelta(seconds=2))
    [again] = await store.claim(clock.now(), 1, LEASE)
    assert again.sent_steps == ("activity-1",)
    assert again.attempts == 1


async def test_a_revived_dead_letter_is_due_again_with_fresh_attempts(
    store: SqlStore, clock: FakeClock
) -> None:
    await store.enqueue_message(message("doomed", clock, None))
    [item] = await store.claim(clock.now(), 1, LEASE)
    await store.give_up(item.id, "403 Forbidden")
    assert await store.outbox_counts() == {"pending": 0, "done": 0, "dead": 1}

    assert await store.revive(item.id) is True
    assert await store.revive(item.id) is False  # not dead any more
    assert await store.revive(999_999) is False
    [back] = await store.claim(clock.now(), 1, LEASE)
    assert (back.dedupe_key, back.attempts, back.state) == ("doomed", 1, OutboxState.PENDING)
    assert back.last_error == "403 Forbidden"


async def _drain_in_claim_order(store: SqlStore, clock: FakeClock) -> list[list[str]]:
    """Claims and completes until nothing is due; the keys handed out by each claim."""
    rounds: list[list[str]] = []
    while items := await store.claim(clock.now(), 10, LEASE):
        rounds.append(sorted(i.dedupe_key for i in items))
        for item in items:
            await store.complete(item.id)
    return rounds


async def test_a_case_chat_gets_its_steps_and_reminders_one_at_a_time_in_order(
    store: SqlStore, clock: FakeClock
) -> None:
    # The chat's summary (group chats) and a shift reminder (R-LONG) both due now: the
    # reminder must not overtake the summary, nor a step that makes the chat.
    now = clock.now()
    for message in (
        effects.group_chat_step(effects.OutboxKind.POST_CHAT_SUMMARY, "2311230040001111", now),
        effects.chat_shift_reminder("2311230040001111", "EMEA", now),
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, "2311230040002222", now),
    ):
        await store.enqueue_message(message)

    assert await _drain_in_claim_order(store, clock) == [
        ["create_group_chat:2311230040002222", "post_chat_summary:2311230040001111"],
        ["chat_shift_reminder:2311230040001111:EMEA:" + now.isoformat()],
    ]


async def test_messages_to_one_person_from_different_features_go_out_in_order(
    store: SqlStore, clock: FakeClock
) -> None:
    ana = Person(id="29:ana", name="Ana")
    now = clock.now()
    for message in (
        effects.shift_end_reminder(ana, now + timedelta(minutes=30), now),
        effects.tell(ana, "Your escalation was approved.", "escalation:e1:v2", now),
        effects.tell(ana, "Out of office noted.", "oof:1", now),
    ):
        await store.enqueue_message(message)

    rounds = await _drain_in_claim_order(store, clock)
    assert [len(r) for r in rounds] == [1, 1, 1]
    assert rounds[0][0].startswith("shift_end_reminder:")


async def test_each_leads_approval_card_waits_its_turn_in_that_leads_chat_only(
    store: SqlStore, clock: FakeClock
) -> None:
    tara, uma = Person(id="aad-tara", name="Tara"), Person(id="aad-uma", name="Uma")
    now = clock.now()
    for message in (
        effects.tell(tara, "Your OOF list.", "oof:1", now),
        *effects.approval_cards("e1", 1, [tara, uma], now, update=False),
        *effects.approval_cards("e1", 2, [tara, uma], now, update=True),
    ):
        await store.enqueue_message(message)

    assert await _drain_in_claim_order(store, clock) == [
        ["send_approval_card:e1:v1:aad-uma", "tell:oof:1:aad-tara"],
        ["send_approval_card:e1:v1:aad-tara", "update_approval_card:e1:v2:aad-uma"],
        ["update_approval_card:e1:v2:aad-tara"],
    ]


async def test_outbox_states_names_the_state_of_each_item_ever_enqueued(
    store: SqlStore, clock: FakeClock
) -> None:
    for key in ("sent", "failed", "waiting"):
        await store.enqueue_message(message(key, clock, None))
    items = {item.dedupe_key: item for item in await store.claim(clock.now(), 10, LEASE)}
    await store.complete(items["sent"].id)
    await store.give_up(items["failed"].id, "403 Forbidden")

    assert await store.outbox_states(["sent", "failed", "waiting", "never"]) == {
        "sent": OutboxState.DONE,
        "failed": OutboxState.DEAD,
        "waiting": OutboxState.PENDING,
    }
    assert await store.outbox_states([]) == {}


async def test_sent_in_lane_gives_the_ids_a_lanes_items_recorded_lately(
    store: SqlStore, clock: FakeClock
) -> None:
    await store.enqueue_message(message("old", clock, "chat:a"))
    [old] = await store.claim(clock.now(), 1, LEASE)
    await store.record_steps(old.id, ["activity-old"])
    await store.complete(old.id)
    clock.advance(timedelta(minutes=5))
    since = clock.now()
    for key, lane in [("a1", "chat:a"), ("b1", "chat:b")]:
        await store.enqueue_message(message(key, clock, lane))
    for item in await store.claim(clock.now(), 10, LEASE):
        await store.record_steps(item.id, [f"activity-{item.dedupe_key}", ""])

    assert await store.sent_in_lane("chat:a", since) == {"activity-a1"}
    assert await store.sent_in_lane("chat:a", since - timedelta(minutes=10)) == {
        "activity-a1",
        "activity-old",
    }
    assert await store.sent_in_lane("chat:c", since) == set()


async def test_outbox_counts_name_how_many_items_are_in_each_state(
    store: SqlStore, clock: FakeClock
) -> None:
    assert await store.outbox_counts() == {"pending": 0, "done": 0, "dead": 0}
    for key in ("sent", "failed", "waiting", "also-waiting"):
        await store.enqueue_message(message(key, clock, None))
    items = {item.dedupe_key: item for item in await store.claim(clock.now(), 2, LEASE)}
    await store.complete(items["sent"].id)
    await store.give_up(items["failed"].id, "403 Forbidden")

    assert await store.outbox_counts() == {"pending": 2, "done": 1, "dead": 1}


async def test_a_send_begun_is_remembered_until_its_steps_are_recorded(
    store: SqlStore, clock: FakeClock
) -> None:
    """A worker that dies mid-send leaves the send it began on the item, so the next worker can
    check whether it landed instead of sending it twice."""
    await store.enqueue_message(message("card", clock, None))
    [item] = await store.claim(clock.now(), 1, LEASE)
    await store.begin_send(item.id, "post-card")

    [again] = await store.claim(clock.now() + LEASE, 1, LEASE)
    assert (again.sending, again.sent_steps) == ("post-card", ())
    await store.record_steps(again.id, ["activity-1"])
    [third] = await store.claim(clock.now() + 2 * LEASE, 1, LEASE)
    assert (third.sending, third.sent_steps) == (None, ("activity-1",))


async def test_claim_refuses_a_lease_that_is_not_positive(
    store: SqlStore, clock: FakeClock
) -> None:
    await store.enqueue_message(message("due", clock, None))
    with pytest.raises(ValueError, match="lease"):
        await store.claim(clock.now(), 1, timedelta(0))
    assert [i.dedupe_key for i in await store.claim(clock.now(), 1, LEASE)] == ["due"]
