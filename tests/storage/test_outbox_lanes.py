"""The outbox's lanes, send journal, deferral and dead-letter revival, on both backends."""

from __future__ import annotations

from datetime import timedelta

from handoff import effects
from handoff.models import Person
from handoff.ports import OutboxMessage, OutboxState
from storage.sql_store import SqlStore

from conftest import FakeClock

LEASE = timedelta(seconds=30)


def message(
    key: str, clock: FakeClock, lane: str | None, later: timedelta = timedelta(0)
) -> OutboxMessage:
    at = clock.now() + later
    return OutboxMessage(kind="notify", payload={}, dedupe_key=key, not_before=at, lane=lane)


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
        effects.group_chat_step(effects.POST_CHAT_SUMMARY, "2311230040001111", now),
        effects.chat_shift_reminder("2311230040001111", "EMEA", now),
        effects.group_chat_step(effects.CREATE_GROUP_CHAT, "2311230040002222", now),
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
