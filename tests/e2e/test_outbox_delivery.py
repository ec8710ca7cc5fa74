"""The outbox under a flaky Bot Connector and a crashing bot: every message arrives once, in
order per chat; 429 waits its Retry-After; a hopeless message is a dead letter an admin sees
and retries."""

from __future__ import annotations

import asyncio
import bisect
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from handoff import effects
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.graph_access import graph_for_processes
from harness.ids import TeamsUser, fake_user
from harness.outbox_burst import (
    check_delivery,
    enqueue_burst,
    flaky_burst,
    install_app_for,
    introduce,
    kill_mid_burst,
    recipients,
    shown_twice,
    wait_until_delivered,
)

# Short backoffs through configuration, so retries take milliseconds, not minutes.
FAST_RETRIES = {
    "OUTBOX_BACKOFF_SECONDS": "0.01",
    "OUTBOX_BACKOFF_CAP_SECONDS": "0.05",
    "OUTBOX_POLL_SECONDS": "0.05",
    "OUTBOX_MAX_ATTEMPTS": "60",
}
# The outbox worker runs one item, so one send, at a time.
WORKER_CONCURRENCY = 1


async def test_with_30_percent_of_sends_refused_each_message_arrives_once_and_in_order(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    bot = await start_bot(**FAST_RETRIES)
    people = recipients(3, "flaky")
    expected = await flaky_burst(
        bot.post_activity, fake_connector, sqlite_url, people, 12, "flaky", seed=30
    )

    delivery = check_delivery(fake_connector, expected, "flaky")
    assert (delivery.lost, delivery.duplicated, delivery.out_of_order) == (0, 0, 0)
    assert delivery.resent == 0, "a refused send is not delivered, so nothing is sent twice"
    assert delivery.failures >= 5, "the faults were injected"


async def test_a_bot_killed_mid_burst_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, fake_connector: FakeConnector
) -> None:
    """The fake connector shows every send it accepted, as Teams would; the send in flight at
    the kill (at most one: the worker runs one item at a time) is looked for through Graph
    after the restart instead of being sent blindly again."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    people = recipients(3, "crash")
    with graph_for_processes(fake_connector) as (graph, graph_settings):
        install_app_for(graph, people)
        crash = await kill_mid_burst(
            fake_connector,
            url,
            tmp_path / "bot.log",
            people,
            20,
            "crash",
            kill_after=15,
            settings={**FAST_RETRIES, **graph_settings},
        )
        looked_up = [r for r in graph.requests if "/messages" in r.path]
    assert crash.sent_at_kill < 60, "killed in the middle of the burst"
    delivery = check_delivery(fake_connector, crash.expected, "crash")
    assert (delivery.lost, delivery.out_of_order) == (0, 0)
    assert len(crash.in_doubt) <= WORKER_CONCURRENCY
    assert len(looked_up) == len(crash.in_doubt), "each send in doubt was looked for"
    assert shown_twice(fake_connector, crash.expected, "crash") == []
    assert delivery.duplicated == delivery.resent == 0


async def test_a_chat_gets_at_most_7_sends_a_second_while_its_person_talks_during_a_burst(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    bot = await start_bot(**FAST_RETRIES)
    [person] = recipients(1, "paced")
    chat = person.conversation_id
    await introduce(bot.post_activity, fake_connector, [person])
    expected = await enqueue_burst(sqlite_url, [person], 20, "paced")
    # They keep typing while the burst goes out; every message of theirs gets a reply there.
    said = [
        activities.personal_message(
            f"hello {n}",
            fake_connector.url,
            user_id=person.user.id,
            user_name=person.user.name,
            aad_object_id=person.user.aad_object_id,
            conversation_id=chat,
        )
        for n in range(8)
    ]
    await asyncio.gather(*(bot.post_activity(activity) for activity in said))
    await wait_until_delivered(fake_connector, expected, "paced", timeout=30)
    await fake_connector.wait_for_activities(1 + 20 + 8, conversation_id=chat, timeout=15)

    # When each send arrived at the connector; the limit is per conversation and second.
    arrivals = sorted(
        r.at for r in fake_connector.requests if r.method == "POST" and r.conversation_id == chat
    )
    busiest = max(bisect.bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals))
    assert busiest <= 7, f"{busiest} sends to one chat within a second"


async def test_a_chat_at_its_pace_holds_up_nobody_elses_messages(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    """The worker sends one item at a time: one busy conversation (a Case Transfer channel at
    a shift change) must not hold everyone else's messages back to its 7 sends a second."""
    bot = await start_bot(**FAST_RETRIES)
    [busy, *others] = recipients(61, "queue")
    await introduce(bot.post_activity, fake_connector, [busy, *others])
    # The busy chat's 20 first, so that each claim finds its next one among the others';
    # all due a moment later, so the worker finds them all there.
    due = datetime.now(UTC) + timedelta(seconds=1)
    expected = await enqueue_burst(sqlite_url, [busy], 20, "queue", due)
    expected |= await enqueue_burst(sqlite_url, others, 1, "queue", due)
    await wait_until_delivered(fake_connector, expected, "queue", timeout=30)

    sends = [
        r
        for r in fake_connector.requests
        if r.method == "POST" and str(r.body.get("text", "")).startswith("queue message")
    ]
    others_chats = {person.conversation_id for person in others}
    last_other = max(i for i, r in enumerate(sends) if r.conversation_id in others_chats)
    # While anyone else's message waited, the worker never stood still for the busy chat's
    # next second (sleeping through it stood still for 0.5 to 0.9 s).
    longest = max(later.at - sooner.at for sooner, later in pairwise(sends[: last_other + 1]))
    assert longest < 0.3, f"nothing was sent for {longest:.2f} s while messages waited"
    assert [r.conversation_id for r in sends].count(busy.conversation_id) == 20
    delivery = check_delivery(fake_connector, expected, "queue")
    assert (delivery.lost, delivery.duplicated, delivery.out_of_order) == (0, 0, 0)


async def _row(store: SqlStore, key_start: str) -> dict[str, Any]:
    """The outbox row of the message keyed `key_start…`, once the worker has written an
    error to it."""
    for _ in range(200):
        row = await store.database.fetch_one(
            "SELECT id, state, not_before, last_error FROM outbox WHERE dedupe_key LIKE ?",
            key_start + "%",
        )
        if row is not None and row["last_error"]:
            return row
        await asyncio.sleep(0.025)
    raise AssertionError(f"the outbox item {key_start} never failed")


async def test_429_waits_its_retry_after_and_a_dead_letter_is_retried_by_an_admin(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    clock = FakeClock(datetime.now(UTC))
    admin = fake_user("Ada Admin")
    bot = await start_bot(
        clock, BOT_ADMINS=admin.id, OUTBOX_BACKOFF_CAP_SECONDS="60", OUTBOX_POLL_SECONDS="0.05"
    )
    [person] = recipients(1, "admin")
    await introduce(bot.post_activity, fake_connector, [person])
    store = await open_store(sqlite_url, clock)
    try:
        # 429 with Retry-After: 7 -> not before 7 s, exactly.
        fake_connector.fail_next(429, retry_after="7", path_contains=person.conversation_id)
        await store.enqueue_message(effects.tell(person.person, "first", "first", clock.now()))
        row = await _row(store, "tell:first")
        assert row["not_before"] == clock.now() + timedelta(seconds=7)
        clock.advance(timedelta(seconds=7))
        await fake_connector.wait_for_activities(predicate=lambda a: a.get("text") == "first")

        # A Retry-After of a day is capped (OUTBOX_BACKOFF_CAP_SECONDS).
        fake_connector.fail_next(429, retry_after="86400", path_contains=person.conversation_id)
        await store.enqueue_message(effects.tell(person.person, "second", "second", clock.now()))
        row = await _row(store, "tell:second")
        assert row["not_before"] == clock.now() + timedelta(seconds=60)
        clock.advance(timedelta(seconds=60))
        await fake_connector.wait_for_activities(predicate=lambda a: a.get("text") == "second")

        # 403: retrying cannot help, so it is a dead letter at once.
        fake_connector.fail_next(403, path_contains=person.conversation_id)
        await store.enqueue_message(effects.tell(person.person, "third", "third", clock.now()))
        row = await _row(store, "tell:third")
        assert row["state"] == "dead"
    finally:
        await store.close()

    [stranger] = recipients(1, "stranger")
    await introduce(bot.post_activity, fake_connector, [stranger])
    answer = await _say(bot, fake_connector, stranger.user, stranger.conversation_id, "outbox")
    assert "Only the bot's admins" in answer

    overview = await _say(bot, fake_connector, admin, "a:admin-chat", "outbox")
    # Who the message was for: whom to reach another way.
    name = person.person.name
    assert f"**{row['id']}** notify for {name} after 1 attempt" in overview
    assert "403" in overview
    retried = await _say(bot, fake_connector, admin, "a:admin-chat", f"outbox retry {row['id']}")
    assert f"Trying again: {row['id']}" in retried
    await fake_connector.wait_for_activities(predicate=lambda a: a.get("text") == "third")


async def _say(
    bot: RunningBot, connector: FakeConnector, user: TeamsUser, conversation_id: str, text: str
) -> str:
    before = len(connector.activities(conversation_id))
    await bot.post_activity(
        activities.personal_message(
            text,
            connector.url,
            user_id=user.id,
            user_name=user.name,
            aad_object_id=user.aad_object_id,
            conversation_id=conversation_id,
        )
    )
    replies = await connector.wait_for_activities(before + 1, conversation_id=conversation_id)
    return str(replies[-1].get("text"))
