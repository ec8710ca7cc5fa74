"""A bot whose Azure Bot is a user-assigned managed identity (MicrosoftAppType=UserAssignedMSI,
no client secret), on a host like Azure Container Apps: IDENTITY_ENDPOINT/IDENTITY_HEADER
point at a local fake of its identity endpoint, and the real msal.ManagedIdentityClient asks
it for the Bot Connector's and Graph's tokens. Teams' requests are signed by the fake token
service's keys, as in test_authentication.py."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from botframework.connector.auth import JwtTokenExtractor

from app import build_graph
from config.settings import Settings
from graph.managed_identity import BOT_CONNECTOR_RESOURCE, GRAPH_RESOURCE

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_graph import FakeGraph
from harness.fake_managed_identity import FakeManagedIdentity
from harness.fake_token_service import FakeTokenService
from harness.ids import DEFAULT_TENANT_ID

# The managed identity's client id: with UserAssignedMSI it is the bot's app id.
IDENTITY_CLIENT_ID = "3d9b7c1e-5a42-4f08-b6d3-8e1f2a0c4b97"
LIFETIME = 3600
# The bot renews a token this long before it expires (graph/token_provider.py).
RENEW_BEFORE = 300
IDENTITY_SETTINGS: dict[str, Any] = {
    "MicrosoftAppId": IDENTITY_CLIENT_ID,
    "MicrosoftAppType": "UserAssignedMSI",
    "MicrosoftAppTenantId": DEFAULT_TENANT_ID,
}


@pytest.fixture
def azure_host(
    fake_managed_identity: FakeManagedIdentity,
    fake_token_service: FakeTokenService,
    monkeypatch: pytest.MonkeyPatch,
) -> FakeManagedIdentity:
    """The container's environment as Azure Container Apps sets it for a managed identity;
    the SDK fetches Teams' signing keys from the fake token service over HTTPS."""
    for name in ("IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", fake_managed_identity.endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", fake_managed_identity.header)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    fake_managed_identity.lifetime = LIFETIME
    return fake_managed_identity


async def start_with_identity(
    start_bot: StartBot, tokens: FakeTokenService, clock: FakeClock
) -> RunningBot:
    return await start_bot(
        clock=clock,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=tokens.openid_metadata_url,
        **IDENTITY_SETTINGS,
    )


async def say_help(
    bot: RunningBot, tokens: FakeTokenService, connector: FakeConnector, times: int
) -> None:
    for _ in range(times):
        claims = {"aud": IDENTITY_CLIENT_ID, "serviceurl": connector.url}
        header = f"Bearer {tokens.issue_token(claims)}"
        incoming = activities.personal_message("help", service_url=connector.url)
        response = await bot.post_activity(incoming, headers={"Authorization": header})
        assert response.status in (200, 201)


async def test_replies_carry_the_identitys_token_fetched_once_and_again_when_it_is_due(
    start_bot: StartBot,
    azure_host: FakeManagedIdentity,
    fake_token_service: FakeTokenService,
    fake_connector: FakeConnector,
    clock: FakeClock,
) -> None:
    azure_host.assign(IDENTITY_CLIENT_ID)
    bot = await start_with_identity(start_bot, fake_token_service, clock)

    await say_help(bot, fake_token_service, fake_connector, 4)
    await fake_connector.wait_for_activities(4)
    assert len(azure_host.token_requests()) == 1
    clock.advance(timedelta(seconds=LIFETIME - RENEW_BEFORE + 1))
    await say_help(bot, fake_token_service, fake_connector, 3)
    replies = await fake_connector.wait_for_activities(7)

    assert all("What I can do" in reply["text"] for reply in replies)
    [first, second] = azure_host.issued_for(BOT_CONNECTOR_RESOURCE)
    used = [r.headers["Authorization"] for r in fake_connector.activity_records()]
    assert used == [f"Bearer {first}"] * 4 + [f"Bearer {second}"] * 3
    assert len(azure_host.token_requests()) == 2
    assert {r.query["client_id"] for r in azure_host.token_requests()} == {IDENTITY_CLIENT_ID}
    # No client secret anywhere: the identity platform's token endpoint was never asked.
    assert fake_token_service.token_request_count == 0


async def test_an_identity_not_assigned_to_the_app_sends_nothing_and_says_what_to_check(
    start_bot: StartBot,
    azure_host: FakeManagedIdentity,
    fake_token_service: FakeTokenService,
    fake_connector: FakeConnector,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_with_identity(start_bot, fake_token_service, clock)  # none assigned

    with caplog.at_level(logging.WARNING):
        claims = {"aud": IDENTITY_CLIENT_ID, "serviceurl": fake_connector.url}
        header = f"Bearer {fake_token_service.issue_token(claims)}"
        incoming = activities.personal_message("help", service_url=fake_connector.url)
        await bot.post_activity(incoming, headers={"Authorization": header})

    assert fake_connector.activity_records() == []
    refused = [r for r in caplog.records if r.getMessage() == "token refused"]
    assert refused, "the refusal is logged"
    hint = str(getattr(refused[0], "hint", ""))
    assert getattr(refused[0], "purpose", "") == "Bot Connector"
    assert f"MicrosoftAppId ({IDENTITY_CLIENT_ID})" in hint
    assert "assigned to this container app" in hint
    assert "client id, not its object (principal) id" in hint
    [failed] = [r for r in caplog.records if r.getMessage() == "turn failed"]
    assert failed.exc_info is not None
    assert "assigned to this container app" in str(failed.exc_info[1])
    statuses = {r.status for r in azure_host.token_requests()}
    assert statuses == {400}, "asked, and refused"


async def test_graph_calls_carry_the_identitys_graph_token_from_the_same_endpoint(
    azure_host: FakeManagedIdentity, fake_graph: FakeGraph
) -> None:
    azure_host.assign(IDENTITY_CLIENT_ID)
    given: dict[str, Any] = {
        **IDENTITY_SETTINGS,
        "GRAPH_BASE_URL": fake_graph.base_url,
        "TEAMS_APP_ID": "teams-app",
    }
    settings = Settings(**given)
    # No GRAPH_CLIENT_SECRET and no MicrosoftAppPassword: group chats work all the same.
    assert settings.graph_credentials is None
    assert settings.group_chats_missing == ()
    group, member = "0a6c4e2f-1b3d-4f5a-8c7e-9d0b1a2c3e4f", "5e7f9a1b-3c5d-4e6f-8a0b-1c2d3e4f5a6b"
    fake_graph.add_group_member(group, member)
    fake_graph.expected_token = None  # any bearer; which one is checked below

    async with aiohttp.ClientSession() as session:
        graph = build_graph(settings, session)
        assert graph is not None
        assert await graph.member_groups(member, [group]) == {group}
        chat_id = await graph.create_group_chat("Case 1 · regional owners", [member])
        await graph.install_app(chat_id, "teams-app")

    [token] = azure_host.issued_for(GRAPH_RESOURCE)
    assert {r.headers["Authorization"] for r in fake_graph.requests} == {f"Bearer {token}"}
    assert len(fake_graph.requests) == 3
    [request] = azure_host.token_requests()
    assert request.query["resource"] == GRAPH_RESOURCE
    assert request.query["client_id"] == IDENTITY_CLIENT_ID
