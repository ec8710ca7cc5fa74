"""With resource-specific consent (ChannelMessage.Read.Group, ChatMessage.Read.Chat) Teams
delivers every message of the Case Transfer channel and of the bot's group chats: people
talking to each other there must get no answer from the bot and cost it nothing."""

from __future__ import annotations

from typing import Any

from application import messages
from handoff.ports import SystemClock
from storage.sql_store import open_store

from conftest import StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.ids import DEFAULT_TENANT_ID


def chatter_in_a_group_chat(text: str, service_url: str) -> dict[str, Any]:
    return activities.group_chat_message(text, service_url, mention_bot=False)


async def handled_keys(database_url: str) -> int:
    store = await open_store(database_url, SystemClock())
    try:
        rows = await store.database.fetch_all("SELECT COUNT(*) AS n FROM handled_keys")
    finally:
        await store.close()
    return int(rows[0]["n"])


async def test_channel_chatter_without_a_mention_is_not_answered_nor_stored(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str
) -> None:
    bot = await start_bot(DATABASE_URL=database_url)
    before = await handled_keys(database_url)
    for text in ("help", "status 2311230040009876", "can someone take this one?"):
        response = await bot.post_activity(
            activities.channel_message(text, fake_connector.url, mention_bot=False)
        )
        assert response.status in (200, 201)
    # Each turn ends before its HTTP answer: a reply would already be at the connector.
    assert fake_connector.activities() == []
    assert await handled_keys(database_url) == before, "no delivery key per overheard message"

    await bot.post_activity(activities.channel_message("help", fake_connector.url))
    [reply] = await fake_connector.wait_for_activities(1)
    assert "What I can do" in reply["text"], "a message that @mentions the bot is answered"


async def test_group_chat_chatter_without_a_mention_is_not_answered(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    await bot.post_activity(chatter_in_a_group_chat("shiftend", fake_connector.url))
    await bot.post_activity(chatter_in_a_group_chat("frobnicate", fake_connector.url))
    assert fake_connector.activities() == []

    await bot.post_activity(activities.group_chat_message("frobnicate", fake_connector.url))
    [reply] = await fake_connector.wait_for_activities(1)
    assert reply["text"] == messages.unknown_command("frobnicate")


async def test_a_card_submitted_in_a_channel_is_still_handled(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    """A card's Action.Submit carries no mention: it is addressed to the bot by its value."""
    bot = await start_bot()
    stale = activities.channel_message("", fake_connector.url, mention_bot=False)
    stale["value"] = {"x": 1}
    await bot.post_activity(stale)
    [reply] = await fake_connector.wait_for_activities(1)
    assert reply["text"] == messages.stale_form()


async def test_chatter_from_another_tenant_gets_no_refusal_either(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str
) -> None:
    """The refusal is for someone who asked the bot something; a conversation the bot merely
    overhears in another organization gets no answer and no warning per message."""
    bot = await start_bot(DATABASE_URL=database_url, TENANT_ID=DEFAULT_TENANT_ID)
    other = "11111111-2222-4333-8444-555555555555"
    chatter = activities.channel_message("lunch?", fake_connector.url, mention_bot=False)
    chatter["conversation"]["tenantId"] = chatter["channelData"]["tenant"]["id"] = other
    await bot.post_activity(chatter)
    assert fake_connector.activities() == []


async def test_an_edited_or_deleted_message_of_the_channel_is_ignored(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str
) -> None:
    bot = await start_bot(DATABASE_URL=database_url)
    before = await handled_keys(database_url)
    for kind in ("messageUpdate", "messageDelete"):
        edited = activities.channel_message("typo fixed", fake_connector.url, mention_bot=False)
        edited["type"] = kind
        response = await bot.post_activity(edited)
        assert response.status in (200, 201)
    assert fake_connector.activities() == []
    assert await handled_keys(database_url) == before
