"""The bot over real HTTP: Teams-shaped activities in, replies to a local fake fake_connector."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from application import messages
from handoff.ports import ConversationKind, SystemClock
from storage.sql_store import open_store

from conftest import CreateDatabase, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_token_service import FakeTokenService
from harness.ids import DEFAULT_TENANT_ID


async def test_help_in_a_personal_chat_is_answered(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str
) -> None:
    bot = await start_bot(DATABASE_URL=database_url)
    incoming = activities.personal_message("help", service_url=fake_connector.url)
    response = await bot.post_activity(incoming)
    assert response.status in (200, 201)
    [reply] = await fake_connector.wait_for_activities(1)
    assert reply["type"] == "message"
    assert "What I can do" in reply["text"]
    assert reply["replyToId"] == incoming["id"]
    assert reply["conversation"]["id"] == incoming["conversation"]["id"]
    [record] = fake_connector.activity_records()
    assert record.conversation_id == incoming["conversation"]["id"]


async def test_help_as_a_channel_mention_is_answered_in_the_channel(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    incoming = activities.channel_message("help", service_url=fake_connector.url)
    await bot.post_activity(incoming)
    [reply] = await fake_connector.wait_for_activities(1)
    assert "What I can do" in reply["text"]
    assert reply["conversation"]["id"] == incoming["conversation"]["id"]


async def test_mention_then_unknown_words_point_to_help(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    await bot.post_activity(
        activities.channel_message("frobnicate 12", service_url=fake_connector.url)
    )
    [reply] = await fake_connector.wait_for_activities(1)
    assert reply["text"] == messages.unknown_command("frobnicate")
    assert "<at>" not in reply["text"]


async def test_a_form_submitted_after_its_dialog_ended_gets_a_pointer_not_silence(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    await bot.post_activity(activities.submit_message({"x": 1}, service_url=fake_connector.url))
    [reply] = await fake_connector.wait_for_activities(1)
    assert reply["text"] == messages.stale_form()


async def test_installing_personally_welcomes_and_remembers_the_chat(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str
) -> None:
    bot = await start_bot(DATABASE_URL=database_url)
    incoming = activities.bot_added_personal(service_url=fake_connector.url)
    await bot.post_activity(incoming)
    [welcome] = await fake_connector.wait_for_activities(1)
    assert welcome["text"] == messages.welcome()
    store = await open_store(database_url, SystemClock())
    try:
        stored = await store.personal_conversation(incoming["from"]["id"])
    finally:
        await store.close()
    assert stored is not None
    assert stored.kind is ConversationKind.PERSONAL
    assert stored.service_url == fake_connector.url
    assert stored.reference["conversation"]["id"] == incoming["conversation"]["id"]


async def test_adding_to_a_team_greets_the_channel_and_remembers_it(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    bot = await start_bot()
    incoming = activities.bot_added_to_team(service_url=fake_connector.url)
    await bot.post_activity(incoming)
    [greeting] = await fake_connector.wait_for_activities(1)
    assert greeting["text"] == messages.team_welcome()
    channel_id = incoming["channelData"]["settings"]["selectedChannel"]["id"]
    store = await open_store(sqlite_url, SystemClock())
    try:
        stored = await store.channel_conversation(channel_id)
    finally:
        await store.close()
    assert stored is not None
    assert stored.team_id == incoming["channelData"]["team"]["id"]


async def test_adding_to_a_group_chat_greets_it_with_what_works_there(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    chat = activities.group_chat_id()
    in_chat = {"conversation": {"conversationType": "groupChat", "isGroup": True, "id": chat}}
    await bot.post_activity(activities.bot_added_personal(fake_connector.url, overrides=in_chat))
    [greeting] = await fake_connector.wait_for_activities(1, conversation_id=chat)
    assert greeting["text"] == messages.group_chat_welcome()
    assert "handoff cards here" not in greeting["text"], "no promise of the channel's cards"


async def test_health_and_readiness(start_bot: StartBot, database_url: str) -> None:
    bot = await start_bot(DATABASE_URL=database_url)
    assert await bot.get("/healthz") == (200, {"status": "alive"})
    assert await bot.get("/readyz") == (200, {"status": "ready"})


async def test_restart_keeps_the_conversations(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str
) -> None:
    first = await start_bot(DATABASE_URL=database_url)
    incoming = activities.bot_added_personal(service_url=fake_connector.url)
    await first.post_activity(incoming)
    await fake_connector.wait_for_activities(1)
    await first.stop()
    second = await start_bot(DATABASE_URL=database_url)
    await second.post_activity(activities.personal_message("help", service_url=fake_connector.url))
    await fake_connector.wait_for_activities(2)
    store = await open_store(database_url, SystemClock())
    try:
        assert await store.personal_conversation(incoming["from"]["id"]) is not None
    finally:
        await store.close()


async def test_a_failing_turn_apologises_in_one_line_and_logs_the_trace(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_bot()

    # A real fault: the table the turn writes to disappears under the running bot. In a
    # thread: blocking the event loop would stall the bot's own transaction behind the lock.
    def drop_table() -> None:
        with sqlite3.connect(Path(sqlite_url.removeprefix("sqlite:///")), timeout=10) as db:
            db.execute("DROP TABLE conversations")

    await asyncio.to_thread(drop_table)
    with caplog.at_level(logging.ERROR):
        response = await bot.post_activity(
            activities.personal_message("help", service_url=fake_connector.url)
        )
    assert response.status in (200, 201)
    [reply] = await fake_connector.wait_for_activities(1)
    assert reply["text"] == messages.sorry()
    assert "\n" not in reply["text"]
    failures = [r for r in caplog.records if r.getMessage() == "turn failed"]
    assert failures and failures[0].exc_info is not None


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"type": "message"}', "application/json", 400),
        (b"hello", "text/plain", 415),
        (b'{"type": "message", "text": "' + b"x" * 300_000 + b'"}', "application/json", 413),
    ],
)
async def test_malformed_requests_are_refused_with_a_reason(
    start_bot: StartBot, fake_connector: FakeConnector, body: bytes, content_type: str, status: int
) -> None:
    bot = await start_bot()
    async with bot.session.post(
        f"{bot.url}/api/messages", data=body, headers={"Content-Type": content_type}
    ) as response:
        assert response.status == status
        assert (await response.json())["error"]
    assert fake_connector.requests == []


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwdw==", "Bearer not-a-token", "Bearer a.b.c"],
)
async def test_with_an_app_id_unauthenticated_requests_get_401(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_token_service: FakeTokenService,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_url: str,
    authorization: str | None,
) -> None:
    # The bot fetches the signing keys as it starts: from the fake, not from the internet.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    bot = await start_bot(
        MicrosoftAppId="app-id",
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        MicrosoftAppPassword="secret",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=fake_token_service.openid_metadata_url,
    )
    incoming = activities.personal_message("help", service_url=fake_connector.url)
    headers = {"Authorization": authorization} if authorization else {}
    response = await bot.post_activity(incoming, headers=headers)
    assert response.status == 401
    assert fake_connector.requests == []
    store = await open_store(sqlite_url, SystemClock())
    try:
        assert await store.get_conversation(incoming["conversation"]["id"]) is None
    finally:
        await store.close()


async def test_readiness_reports_a_database_that_stopped_answering(
    start_bot: StartBot, create_postgres_database: CreateDatabase, fake_connector: FakeConnector
) -> None:
    url = await create_postgres_database()
    bot = await start_bot(DATABASE_URL=url)
    assert (await bot.get("/readyz"))[0] == 200
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        status, body = await bot.get("/readyz")
        assert status == 503
        assert body["status"] == "unavailable" and body["reason"]
        assert (await bot.get("/healthz"))[0] == 200, "the process itself is alive"
        # A user who writes meanwhile is told what is going on, not just "sorry".
        await bot.post_activity(activities.personal_message("help", service_url=fake_connector.url))
        [reply] = await fake_connector.wait_for_activities(1)
        assert reply["text"] == messages.database_down()
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert (await bot.get("/readyz"))[0] == 200
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


@pytest.mark.parametrize(
    ("scope", "kind"),
    [("groupChat", ConversationKind.GROUP_CHAT), ("channel", ConversationKind.CHANNEL)],
)
async def test_an_installation_is_remembered_for_later_posts(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    sqlite_url: str,
    scope: activities.Scope,
    kind: ConversationKind,
) -> None:
    bot = await start_bot()
    incoming = activities.installation_update(fake_connector.url, scope=scope)
    response = await bot.post_activity(incoming)
    assert response.status in (200, 201)
    store = await open_store(sqlite_url, SystemClock())
    try:
        stored = await store.get_conversation(incoming["conversation"]["id"])
    finally:
        await store.close()
    assert stored is not None
    assert stored.kind is kind
    assert stored.tenant_id == incoming["channelData"]["tenant"]["id"]
