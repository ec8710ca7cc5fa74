"""The bot's own Bot Connector token comes from msal in a worker thread, never on the event
loop: a slow identity platform holds up only the call that needs the token. Over real HTTP,
real msal against the fake HTTPS token endpoint."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from botbuilder.schema import Activity
from botframework.connector.auth import ClaimsIdentity

from graph.token_provider import TokenProvider
from teams.connector_auth import (
    CachedCredentialFactory,
    ManagedIdentityCredentialFactory,
    MsalAppCredentials,
    TokenNotReady,
)
from teams.endpoint import ADAPTER

from conftest import RunningBot, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_managed_identity import TOKEN_PATH as IDENTITY_TOKEN_PATH
from harness.fake_managed_identity import FakeManagedIdentity
from harness.fake_token_service import ENDORSED_KID, FakeTokenService
from harness.ids import DEFAULT_TENANT_ID
from harness.server import FakeServer

APP_ID, SECRET = "bot-app-id", "bot-secret"
# A user-assigned managed identity's client id: the app id of a UserAssignedMSI bot.
IDENTITY_CLIENT_ID = "9a2e4c6b-8d0f-4a1c-b3e5-7f9a1b3c5d7e"
TOKEN_PATH = "/oauth2/v2.0/token"
SLOW_SECONDS = 2.0
PROMPT_SECONDS = 1.0
# An audience other than the channel's: the SDK builds that client itself, with our credentials.
SKILL_AUDIENCE = "api://another-bot"


@pytest.fixture
def tokens(fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    fake_token_service.add_client(APP_ID, SECRET)
    return fake_token_service


async def start(start_bot: StartBot, tokens: FakeTokenService) -> RunningBot:
    return await start_bot(
        MicrosoftAppId=APP_ID,
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        MicrosoftAppPassword=SECRET,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=tokens.openid_metadata_url,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=tokens.authority(),
    )


async def healthz_answered_within(bot: RunningBot, started: float) -> float:
    status, _ = await bot.get("/healthz")
    assert status == 200
    return time.monotonic() - started


async def test_while_the_token_endpoint_is_slow_the_bot_answers_other_requests(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    bot = await start(start_bot, tokens)
    tokens.delay_next(SLOW_SECONDS, path_contains=TOKEN_PATH)
    claims = {"aud": APP_ID, "serviceurl": fake_connector.url}
    header = f"Bearer {tokens.issue_token(claims, ENDORSED_KID)}"

    started = time.monotonic()
    turn = asyncio.create_task(
        bot.post_activity(
            activities.personal_message("help", service_url=fake_connector.url),
            headers={"Authorization": header},
        )
    )
    await tokens.wait_for_held(1)  # the reply waits for its token
    assert await healthz_answered_within(bot, started) < PROMPT_SECONDS
    assert not turn.done()

    assert (await turn).status == 201
    [record] = fake_connector.activity_records()
    assert record.headers["Authorization"] == f"Bearer {tokens.issued_tokens[0]}"


async def two_sends_while_the_first_token_is_held(
    bot: RunningBot, app_id: str, connector: FakeConnector, token_server: FakeServer
) -> None:
    """Two sends through the SDK's own connector client: the first waits for its token, held
    at `token_server`, while the bot answers /healthz at once; the second reuses the token."""
    adapter = bot.runner.app[ADAPTER]
    factory = adapter.bot_framework_authentication.create_connector_factory(
        ClaimsIdentity({"aud": app_id}, True)
    )

    async def send(text: str) -> None:
        client = await factory.create(connector.url, SKILL_AUDIENCE)
        await client.conversations.send_to_conversation(
            "a:skill-conversation", Activity(type="message", text=text)
        )

    started = time.monotonic()
    first = asyncio.create_task(send("one"))
    await token_server.wait_for_held(1)
    assert await healthz_answered_within(bot, started) < PROMPT_SECONDS
    assert not first.done()
    await first
    await send("two")


async def test_the_sdks_own_clients_get_their_token_off_the_event_loop_once(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    bot = await start(start_bot, tokens)
    tokens.delay_next(SLOW_SECONDS, path_contains=TOKEN_PATH)
    await two_sends_while_the_first_token_is_held(bot, APP_ID, fake_connector, tokens)

    [token] = tokens.issued_tokens
    [request] = [r for r in tokens.requests if r.path.endswith(TOKEN_PATH)]
    assert request.body["scope"] == f"{SKILL_AUDIENCE}/.default"
    sent = fake_connector.activity_records()
    assert [r.body["text"] for r in sent] == ["one", "two"]
    assert {r.headers["Authorization"] for r in sent} == {f"Bearer {token}"}


async def test_a_token_nobody_fetched_is_not_fetched_on_the_event_loop(
    tokens: FakeTokenService,
) -> None:
    provider = TokenProvider(
        APP_ID, SECRET, tokens.authority(), scopes=["api://x/.default"], instance_discovery=False
    )
    credentials = MsalAppCredentials(APP_ID, "api://x", provider)

    with pytest.raises(TokenNotReady):
        credentials.get_access_token()
    assert tokens.requests == []
    # Off the loop (the SDK's worker threads), the same call may wait for msal.
    token = await asyncio.to_thread(credentials.get_access_token)
    assert token == tokens.issued_tokens[0]
    assert credentials.get_access_token() == token


async def test_credentials_for_another_app_id_are_refused(tokens: FakeTokenService) -> None:
    factory = CachedCredentialFactory(APP_ID, SECRET, tokens.authority())
    with pytest.raises(PermissionError):
        await factory.create_credentials("someone-else", SKILL_AUDIENCE, "", True)
    assert tokens.requests == []


@pytest.fixture
def identity(
    fake_managed_identity: FakeManagedIdentity,
    fake_token_service: FakeTokenService,
    monkeypatch: pytest.MonkeyPatch,
) -> FakeManagedIdentity:
    """Azure Container Apps' identity endpoint in the environment, the identity assigned."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", fake_managed_identity.endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", fake_managed_identity.header)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    fake_managed_identity.assign(IDENTITY_CLIENT_ID)
    return fake_managed_identity


async def test_with_a_managed_identity_the_sdks_own_clients_get_its_token_off_the_loop_once(
    start_bot: StartBot,
    identity: FakeManagedIdentity,
    fake_token_service: FakeTokenService,
    fake_connector: FakeConnector,
) -> None:
    bot = await start_bot(
        MicrosoftAppId=IDENTITY_CLIENT_ID,
        MicrosoftAppType="UserAssignedMSI",
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=fake_token_service.openid_metadata_url,
    )
    identity.delay_next(SLOW_SECONDS, path_contains=IDENTITY_TOKEN_PATH)
    await two_sends_while_the_first_token_is_held(bot, IDENTITY_CLIENT_ID, fake_connector, identity)

    [token] = identity.issued_for(SKILL_AUDIENCE)
    [request] = identity.token_requests()
    assert request.query["client_id"] == IDENTITY_CLIENT_ID
    sent = fake_connector.activity_records()
    assert [r.body["text"] for r in sent] == ["one", "two"]
    assert {r.headers["Authorization"] for r in sent} == {f"Bearer {token}"}
    assert fake_token_service.token_request_count == 0


async def test_a_managed_identity_gives_no_credentials_for_another_app_id(
    identity: FakeManagedIdentity,
) -> None:
    factory = ManagedIdentityCredentialFactory(IDENTITY_CLIENT_ID)
    assert await factory.is_valid_app_id(IDENTITY_CLIENT_ID)
    with pytest.raises(PermissionError):
        await factory.create_credentials(APP_ID, SKILL_AUDIENCE, "", True)
    assert identity.requests == []
    credentials = await factory.create_credentials(
        IDENTITY_CLIENT_ID, SKILL_AUDIENCE + "/.default", "https://login.example/tenant", True
    )
    # The authority the SDK names plays no part: the Azure host issues the token.
    assert credentials.get_access_token() == identity.issued_for(SKILL_AUDIENCE)[0]
