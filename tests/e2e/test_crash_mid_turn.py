"""A bot process killed in the middle of a turn (SIGKILL: what an OOM kill or a power cut
looks like to the database) leaves that delivery's keys claimed. Teams, which got no answer,
redelivers the activity: before the bound (deadline plus margin) it is still a repeat, since
the first turn may be running; after it, the restarted bot handles it, once, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import asyncio
import copy
import uuid
from pathlib import Path

import aiohttp
import pytest

from handoff.ports import SystemClock
from storage.sql_store import open_store

from harness import activities
from harness.bot_process import BotProcess, bot_environment
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    BotClient,
    channel_cards,
    posted_card,
    request_handoff,
    set_up_channel,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_USER, personal_conversation_id
from harness.outbox_burst import outbox_settled
from harness.team import settled

PERSONAL_CHAT = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)
DEADLINE_SECONDS = 3.0
MARGIN_SECONDS = 0.5
BOUND_SECONDS = DEADLINE_SECONDS + MARGIN_SECONDS
# The turn's reply is held this long by the fake connector: the turn is in progress meanwhile.
HELD_SECONDS = 4.0
REQUESTED = f"Handoff of case {CASE} requested"
ALREADY_REQUESTED = f"The handoff of case {CASE} is already requested."


def texts_since(connector: FakeConnector, before: int) -> list[str]:
    return [a.get("text") or "" for a in connector.activities(PERSONAL_CHAT)[before:]]


async def test_a_delivery_whose_bot_was_killed_mid_turn_is_handled_once_after_the_bound(
    tmp_path: Path, fake_connector: FakeConnector, database_url: str
) -> None:
    env = bot_environment(
        database_url,
        REQUEST_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
        DELIVERY_TAKEOVER_MARGIN_SECONDS=str(MARGIN_SECONDS),
        # The dead process's outbox items come back a second after the restart.
        OUTBOX_LEASE_SECONDS="1",
        OUTBOX_POLL_SECONDS="0.1",
    )
    bot = BotProcess(env, tmp_path / "bot.log")
    try:
        async with aiohttp.ClientSession() as session:
            await _crash_and_redeliver(bot, BotClient(bot.url, session), fake_connector)
        store = await open_store(database_url, SystemClock())
        try:
            await outbox_settled(store, SystemClock())
            [handoff] = await store.for_case(CASE)
            assert [e.kind for e in await store.history(handoff.id)] == ["requested"]
        finally:
            await store.close()
    finally:
        bot.stop()
    assert len([c for c in channel_cards(fake_connector) if CASE in str(c)]) == 1


async def _crash_and_redeliver(
    bot: BotProcess, client: BotClient, connector: FakeConnector
) -> None:
    await bot.start_ready()
    await set_up_channel(client, connector)
    await request_handoff(client, connector, confirm=False)
    before = len(connector.activities(PERSONAL_CHAT))
    confirm = activities.submit_message({"form": "review", "action": "next"}, connector.url)

    connector.delay_next(HELD_SECONDS, method="POST", path_contains=PERSONAL_CHAT)
    first = asyncio.create_task(client.post(confirm))
    await connector.wait_for_held(timeout=DEADLINE_SECONDS)
    held_at = asyncio.get_running_loop().time()  # the keys were claimed before this

    # Teams resends while the first turn still runs: with its id, and with a new id. Each is
    # told to come back later (not "done"), so that Teams tries again.
    new_id = {**copy.deepcopy(confirm), "id": f"f:{uuid.uuid4()}"}
    for repeat in (copy.deepcopy(confirm), new_id):
        status, body = await client.post(repeat)
        assert status == 503
        assert "still being handled" in body["error"]
    assert len(connector.held) == 1, "a repeat before the bound does nothing"
    assert texts_since(connector, before) == []
    # The channel's card is posted by the outbox meanwhile. A send in flight at a crash may
    # show twice by design (scripts/chaos.py measures that window); this test is about the
    # delivery, so the kill waits until the card's send is recorded.
    await settled(bot.env["DATABASE_URL"], SystemClock())

    bot.kill()
    with pytest.raises(aiohttp.ClientError):
        await first  # Teams gets no answer: that is why it redelivers

    await bot.start_ready()
    # The one wait on time itself: the redelivery must come after the bound.
    bound_passes = held_at + BOUND_SECONDS + 0.1
    await asyncio.sleep(max(0.0, bound_passes - asyncio.get_running_loop().time()))
    status, _ = await client.post(copy.deepcopy(confirm))
    assert status == 201
    await connector.wait_for_activities(
        conversation_id=PERSONAL_CHAT,
        predicate=lambda a: a.get("text") == ALREADY_REQUESTED,
        timeout=5,
    )
    # Done now, so later repeats are ignored again, with either id.
    for repeat in (copy.deepcopy(confirm), new_id):
        status, _ = await client.post(repeat)
        assert status == 201

    # The killed turn's reply was on its way to Teams when the process died: Teams may show
    # it (the fake answers it once its hold ends), like any send in flight at a crash.
    await connector.wait_for_activities(
        before + 2, conversation_id=PERSONAL_CHAT, timeout=HELD_SECONDS + 5
    )
    await posted_card(connector)
    shown = texts_since(connector, before)
    assert len(shown) == 2, shown
    assert sorted(shown)[0].startswith(REQUESTED)
    assert sorted(shown)[1] == ALREADY_REQUESTED
