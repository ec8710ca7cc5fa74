"""A send whose outcome the bot never learned (its answer lost on the network, or the bot
killed mid-send) is looked for through Microsoft Graph before it is sent again: found, it
is not sent twice; not found, it is sent; where Graph cannot tell, it is sent again and the
operator warned."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from handoff import effects
from handoff.ports import SystemClock
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness.fake_connector import FakeConnector
from harness.fake_graph import FakeGraph
from harness.fake_token_service import FakeTokenService
from harness.graph_access import graph_settings
from harness.handoff_flow import (
    RECEIVER,
    TUESDAY,
    accept_invoke,
    channel_cards,
    post,
    request_handoff,
    set_up_channel,
)
from harness.ids import DEFAULT_CHANNEL_ID
from harness.outbox_burst import (
    Recipient,
    burst_shown,
    burst_text,
    check_delivery,
    enqueue_burst,
    install_app_for,
    introduce,
    recipients,
)

FAST_RETRIES = {
    "OUTBOX_BACKOFF_SECONDS": "0.01",
    "OUTBOX_BACKOFF_CAP_SECONDS": "0.05",
    "OUTBOX_POLL_SECONDS": "0.05",
}
SENDS = "/activities"


@pytest.fixture
def with_graph(
    fake_graph: FakeGraph,
    fake_token_service: FakeTokenService,
    fake_connector: FakeConnector,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Graph settings for the bot, Graph showing what the bot sent through the connector."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    fake_graph.show_messages_of(fake_connector)
    return graph_settings(fake_graph, fake_token_service)


# What the tests send; reminders planned for later stay pending.
SENT_NOW = (effects.OutboxKind.NOTIFY, effects.OutboxKind.POST_CARD, effects.OutboxKind.UPDATE_CARD)


async def sends_done(database_url: str, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Waits until the messages and cards in the outbox are all sent, due yet or not (a send
    in doubt waits a few seconds before it is looked for); but for the card's update planned
    for when the customer's next contact comes due, tomorrow (handoff/notes/commitment.py)."""
    query = (
        "SELECT id FROM outbox WHERE state = 'pending' AND kind IN (?, ?, ?) "
        "AND dedupe_key NOT LIKE 'card:%:due:%'"
    )
    await _wait_for_no_rows(database_url, query, SENT_NOW, timeout)


async def _wait_for_no_rows(
    database_url: str,
    query: str,
    args: tuple[str, ...],
    timeout: float,  # noqa: ASYNC109
    *,
    until_some: bool = False,
) -> None:
    store = await open_store(database_url, SystemClock())
    try:
        async with asyncio.timeout(timeout):
            while bool(await store.database.fetch_all(query, *args)) != until_some:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await store.close()


def graph_reads(graph: FakeGraph) -> list[str]:
    return [r.path for r in graph.requests if r.method == "GET" and "/messages" in r.path]


async def introduced(
    start_bot: StartBot,
    connector: FakeConnector,
    graph: FakeGraph,
    settings: dict[str, str],
    count: int,
    tag: str,
) -> tuple[RunningBot, list[Recipient]]:
    """The bot, and `count` people who chat with it (Graph knows their chats)."""
    bot = await start_bot(**FAST_RETRIES, **settings)
    people = recipients(count, tag)
    install_app_for(graph, people)
    await introduce(bot.post_activity, connector, people)
    return bot, people


async def lost_answers_burst(
    start_bot: StartBot,
    connector: FakeConnector,
    graph: FakeGraph,
    database_url: str,
    settings: dict[str, str],
    tag: str,
) -> dict[str, list[str]]:
    """Two people, three messages each; the answers to the first two sends are lost."""
    _, people = await introduced(start_bot, connector, graph, settings, 2, tag)
    connector.lose_answers(2, method="POST", path_contains=SENDS)
    expected = await enqueue_burst(database_url, people, 3, tag)
    await sends_done(database_url)
    return expected


async def test_a_send_whose_answer_was_lost_is_found_through_graph_and_not_sent_again(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    with_graph: dict[str, str],
    sqlite_url: str,
) -> None:
    expected = await lost_answers_burst(
        start_bot, fake_connector, fake_graph, sqlite_url, with_graph, "lost"
    )

    delivery = check_delivery(fake_connector, expected, "lost")
    assert (delivery.lost, delivery.duplicated, delivery.out_of_order) == (0, 0, 0)
    assert delivery.delivered == 6
    assert len(graph_reads(fake_graph)) == 2, "each send in doubt was looked for once"


async def test_without_graph_a_send_whose_answer_was_lost_is_sent_again(
    start_bot: StartBot, fake_connector: FakeConnector, fake_graph: FakeGraph, sqlite_url: str
) -> None:
    """The same fault without Graph access: at least once, so both lost answers show twice
    (this is what the look-up prevents)."""
    expected = await lost_answers_burst(
        start_bot, fake_connector, fake_graph, sqlite_url, {}, "unchecked"
    )

    delivery = check_delivery(fake_connector, expected, "unchecked")
    assert (delivery.lost, delivery.duplicated, delivery.out_of_order) == (0, 2, 0)


async def test_when_graph_refuses_the_look_up_the_send_goes_again_and_the_operator_is_warned(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    with_graph: dict[str, str],
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_graph.fail_next(403, count=10, path_contains="/messages")
    with caplog.at_level(logging.WARNING, logger="teams.sending"):
        expected = await lost_answers_burst(
            start_bot, fake_connector, fake_graph, sqlite_url, with_graph, "refused"
        )

    delivery = check_delivery(fake_connector, expected, "refused")
    assert (delivery.lost, delivery.duplicated) == (0, 2), "nothing lost: sent again"
    warnings = [
        r for r in caplog.records if r.getMessage().startswith("could not tell whether a send")
    ]
    assert len(warnings) == 2
    reason = str(warnings[0].__dict__["reason"])
    assert "Chat.Read.All" in reason, "the warning names the permission to grant"


async def in_doubt_unsent(database_url: str, person: Recipient, text: str, key: str) -> None:
    """A message for `person` whose send was journaled half a minute ago and never made: a
    crash between the two."""
    store = await open_store(database_url, SystemClock())
    try:
        now = SystemClock().now()
        await store.enqueue_message(effects.tell(person.person, text, key, now))
        [row] = await store.database.fetch_all(
            "SELECT id, dedupe_key FROM outbox WHERE dedupe_key LIKE ?", f"tell:{key}:%"
        )
        began = (now - timedelta(seconds=30)).isoformat()
        await store.begin_send(row["id"], f"{row['dedupe_key']}#0@1@{began}")
    finally:
        await store.close()


async def test_a_send_begun_but_never_made_is_looked_for_and_then_sent_once(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    with_graph: dict[str, str],
    sqlite_url: str,
) -> None:
    bot, [person] = await introduced(start_bot, fake_connector, fake_graph, with_graph, 1, "unsent")
    await bot.stop()
    await in_doubt_unsent(sqlite_url, person, "unsent message 000", "unsent:0")

    await start_bot(**FAST_RETRIES, **with_graph)
    await sends_done(sqlite_url)

    assert burst_shown(fake_connector, person.conversation_id, "unsent") == ["unsent message 000"]
    assert len(graph_reads(fake_graph)) == 1


async def test_the_same_words_sent_on_purpose_just_before_are_not_taken_for_the_send_in_doubt(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    with_graph: dict[str, str],
    sqlite_url: str,
) -> None:
    """Two notices with the same words: the first went out; the second was cut off before
    it was made. Graph lists the first, which is not the second: the second is sent."""
    bot, [person] = await introduced(start_bot, fake_connector, fake_graph, with_graph, 1, "twice")
    await enqueue_burst(sqlite_url, [person], 1, "twice")
    await sends_done(sqlite_url)
    await bot.stop()
    await in_doubt_unsent(sqlite_url, person, burst_text("twice", 0), "twice:again")

    await start_bot(**FAST_RETRIES, **with_graph)
    await sends_done(sqlite_url)

    shown = burst_shown(fake_connector, person.conversation_id, "twice")
    assert shown == [burst_text("twice", 0)] * 2, "both notices, neither lost"
    assert len(graph_reads(fake_graph)) == 1


async def test_a_channel_card_whose_answer_was_lost_is_posted_once_and_updated_in_place(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    with_graph: dict[str, str],
    sqlite_url: str,
) -> None:
    clock = FakeClock(TUESDAY)
    bot = await start_bot(clock=clock, **FAST_RETRIES, **with_graph)
    await set_up_channel(bot, fake_connector)
    fake_connector.lose_answers(1, method="POST", path_contains=DEFAULT_CHANNEL_ID)
    await request_handoff(bot, fake_connector)
    await in_doubt(sqlite_url)
    # The look-up waits until Graph would list the message; the bot's clock stands still.
    clock.advance(timedelta(seconds=5))
    await sends_done(sqlite_url)

    [card] = channel_cards(fake_connector)
    [posted] = [
        r
        for r in fake_connector.activity_records(DEFAULT_CHANNEL_ID)
        if r.method == "POST" and r.body.get("attachments")
    ]
    [read] = graph_reads(fake_graph)
    assert f"/channels/{DEFAULT_CHANNEL_ID}/messages" in read
    status, _ = await post(
        bot, accept_invoke(fake_connector, card, str(posted.activity_id), RECEIVER)
    )
    assert status == 200
    [put] = await fake_connector.wait_for(
        lambda r: r.method == "PUT", description="the channel card updated"
    )
    assert put.activity_id == posted.activity_id, "the card found through Graph is updated"
    assert len(channel_cards(fake_connector)) == 2, "one post and its update, nothing more"


async def in_doubt(database_url: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Waits until an outbox send is in doubt (begun, its outcome unknown)."""
    query = "SELECT id FROM outbox WHERE sending IS NOT NULL AND state = ?"
    await _wait_for_no_rows(database_url, query, ("pending",), timeout, until_some=True)
