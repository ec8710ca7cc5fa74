"""Teams redelivers: the same activity three times — with its id, and with a new id but the
same content — has one effect, over real HTTP on SQLite and PostgreSQL. The fake connector
counts what reaches Teams."""

from __future__ import annotations

import asyncio
import copy
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from handoff.ports import SystemClock
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    CASE_FORM,
    RECEIVER,
    TUESDAY,
    accept_invoke,
    handoff_card,
    post,
    posted_card,
    request_handoff,
    set_up_channel,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_CHANNEL_ID, DEFAULT_USER, personal_conversation_id
from harness.outbox_burst import outbox_settled

PERSONAL_CHAT = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


def three_deliveries(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The activity twice with its id, and once more with a new id and the same content."""
    redelivered = copy.deepcopy(activity)
    redelivered["id"] = f"f:{uuid.uuid4()}"
    return [activity, copy.deepcopy(activity), redelivered]


def sent_texts(connector: FakeConnector, conversation_id: str) -> list[str]:
    return [a.get("text") or "" for a in connector.activities(conversation_id)]


async def test_the_confirmed_handoff_delivered_three_times_is_stored_and_posted_once(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock, DATABASE_URL=database_url)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector, confirm=False)
    before = len(fake_connector.activities(PERSONAL_CHAT))
    confirm = activities.submit_message({"form": "review", "action": "next"}, fake_connector.url)

    deliveries = three_deliveries(confirm)
    answers = await asyncio.gather(*(post(bot, a) for a in deliveries))

    # A repeat that comes while the first is handled is told to come back (503), and one
    # that comes after is told it is done (201): never handled twice.
    statuses = [status for status, _ in answers]
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 503}, statuses
    told_to_retry = [d for d, (status, _) in zip(deliveries, answers, strict=True) if status == 503]
    for delivery in told_to_retry:
        assert (await post(bot, delivery))[0] == 201
    await posted_card(fake_connector)
    store = await open_store(database_url, SystemClock())
    try:
        await outbox_settled(store, clock)
        [handoff] = await store.for_case(CASE)
        assert [e.kind for e in await store.history(handoff.id)] == ["requested"]
    finally:
        await store.close()
    replies = sent_texts(fake_connector, PERSONAL_CHAT)[before:]
    # The answer, and the requester's copy of the card (no text): once each.
    assert len(replies) == 2 and replies[1] == "", replies
    assert "Sorry" not in replies[0]
    channel_posts = [
        a for a in fake_connector.activities(DEFAULT_CHANNEL_ID) if a.get("attachments")
    ]
    assert len(channel_posts) == 1


async def test_an_accept_delivered_three_times_has_one_owner_one_update_one_dm(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock, DATABASE_URL=database_url)
    card, message_id = await handoff_card(bot, fake_connector)
    accept = accept_invoke(fake_connector, card, message_id, RECEIVER)

    answers = await asyncio.gather(*(post(bot, a) for a in three_deliveries(accept)))

    assert [status for status, _ in answers] == [200, 200, 200]
    shown = [all_text(body["value"]) for _, body in answers]
    assert all("Accepted by Bo Receiver" in text for text in shown), [t[:80] for t in shown]
    assert not any("Someone acted" in text for text in shown), "a repeat is not someone else"
    store = await open_store(database_url, SystemClock())
    try:
        await fake_connector.wait_for_activities(
            predicate=lambda a: "accepted your handoff" in (a.get("text") or "")
        )
        await outbox_settled(store, clock)
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        kinds = [e.kind for e in await store.history(handoff.id)]
        assert kinds == ["requested", "accept"]
    finally:
        await store.close()
    updates = [r for r in fake_connector.requests if r.method == "PUT"]
    assert [r.activity_id for r in updates] == [message_id]
    dms = [t for t in sent_texts(fake_connector, PERSONAL_CHAT) if "accepted your handoff" in t]
    assert len(dms) == 1


async def test_a_second_click_of_the_same_button_returns_the_same_card_and_does_nothing(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot = await start_bot(clock=clock)
    card, message_id = await handoff_card(bot, fake_connector)
    _, first = await post(bot, accept_invoke(fake_connector, card, message_id, RECEIVER))
    # A new click on the same card: a new activity id and a new client time.
    _, second = await post(bot, accept_invoke(fake_connector, card, message_id, RECEIVER))
    assert second == first
    # Its Action.Submit fallback, pressed on the same card, says nothing more either.
    [button] = [a for a in card["actions"] if a.get("verb") == "accept"]
    replies_before = len(fake_connector.activities(DEFAULT_CHANNEL_ID))
    fallback = activities.submit_message(
        button["fallback"]["data"],
        fake_connector.url,
        scope="channel",
        reply_to_id=message_id,
        user_id=RECEIVER.id,
        user_name=RECEIVER.name,
        aad_object_id=RECEIVER.aad_object_id,
    )
    assert (await post(bot, fallback))[0] == 201
    store = await open_store(sqlite_url, SystemClock())
    try:
        await outbox_settled(store, clock)
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        assert [e.kind for e in await store.history(handoff.id)] == ["requested", "accept"]
    finally:
        await store.close()
    new = fake_connector.activities(DEFAULT_CHANNEL_ID)[replies_before:]
    assert [a for a in new if a.get("type") == "message" and a.get("text")] == []


async def test_a_form_answer_delivered_twice_at_once_moves_the_dialog_one_step_and_no_sorry(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock, DATABASE_URL=database_url)
    await post(bot, activities.personal_message(f"handoff {CASE}", fake_connector.url))
    await fake_connector.wait_for_activities(predicate=lambda a: bool(a.get("attachments")))
    before = len(fake_connector.activities(PERSONAL_CHAT))
    answer = activities.submit_message(
        {"form": "case", "action": "next", **CASE_FORM}, fake_connector.url
    )

    await asyncio.gather(*(post(bot, a) for a in three_deliveries(answer)))

    await fake_connector.wait_for_activities(before + 1, conversation_id=PERSONAL_CHAT)
    # The next form comes once, and nothing else follows: the repeats are no-ops.
    store = await open_store(database_url, SystemClock())
    try:
        await outbox_settled(store, clock)
    finally:
        await store.close()
    replies = fake_connector.activities(PERSONAL_CHAT)[before:]
    assert [bool(a.get("attachments")) for a in replies] == [True], [a.get("text") for a in replies]


async def test_the_same_words_typed_again_are_answered_again(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    """Only a redelivery is a repeat: a person asking twice gets two answers."""
    bot: RunningBot = await start_bot(clock=clock)
    for _ in range(2):
        await post(bot, activities.personal_message("help", fake_connector.url))
    await fake_connector.wait_for_activities(2, conversation_id=PERSONAL_CHAT)


async def test_a_delivery_whose_turn_failed_is_handled_when_teams_redelivers_it(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot = await start_bot(clock=clock)
    path = Path(sqlite_url.removeprefix("sqlite:///"))

    def rename(old: str, new: str) -> None:
        with sqlite3.connect(path, timeout=10) as db:
            db.execute(f"ALTER TABLE {old} RENAME TO {new}")

    # A real fault under the running bot, off the event loop (the bot's transaction needs it).
    await asyncio.to_thread(rename, "conversations", "conversations_away")
    message = activities.personal_message("help", fake_connector.url)
    await post(bot, message)
    [sorry] = await fake_connector.wait_for_activities()
    assert sorry["text"].startswith("Sorry")
    await asyncio.to_thread(rename, "conversations_away", "conversations")
    await post(bot, message)
    [_, answer] = await fake_connector.wait_for_activities(2)
    assert "What I can do" in answer["text"]


async def test_a_turn_cut_short_by_the_deadline_is_handled_when_teams_redelivers_it(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock, REQUEST_DEADLINE_SECONDS="0.5")
    fake_connector.delay_next(2.0, method="POST", path_contains=PERSONAL_CHAT)
    message = activities.personal_message("help", fake_connector.url)
    status, _ = await post(bot, message)
    assert status == 503, "the slow reply ran past the deadline"

    status, _ = await post(bot, copy.deepcopy(message))  # Teams' retry, with the same id
    assert status == 201
    # The first turn's reply reaches Teams late (its thread still runs), the retry's too.
    helped = await fake_connector.wait_for_activities(
        2,
        conversation_id=PERSONAL_CHAT,
        predicate=lambda a: "What I can do" in (a.get("text") or ""),
        timeout=10,
    )
    assert len(helped) == 2
