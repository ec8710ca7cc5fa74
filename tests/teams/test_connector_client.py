"""The pooled Bot Connector client, through the SDK's adapter, over real HTTP to the fake."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ConversationReference
from botframework.connector.models import ErrorResponseException

from config.settings import Settings
from outbox.failures import SendFailed
from teams.connector_auth import build_connector_http, create_adapter
from teams.connector_client import ConnectorHttp, client_ssl_context
from teams.sending import TeamsSender

from conftest import free_port
from harness.fake_connector import FakeConnector
from harness.fake_token_service import FakeTokenService
from harness.ids import DEFAULT_TENANT_ID

APP_ID = "00000000-0000-0000-0000-0000000000b0"
SECRET = "bot-secret"
TOKEN = "bot-connector-token"
CHANNEL = "19:bench@thread.tacv2"


def reference(service_url: str, conversation_id: str = CHANNEL) -> dict[str, Any]:
    return {
        "serviceUrl": service_url,
        "channelId": "msteams",
        "conversation": {"id": conversation_id},
        "bot": {"id": f"28:{APP_ID}"},
    }


def card(title: str) -> Activity:
    return MessageFactory.attachment(
        CardFactory.adaptive_card(
            {
                "type": "AdaptiveCard",
                "version": "1.5",
                "body": [{"type": "TextBlock", "text": title}],
            }
        )
    )


async def started(settings: Settings) -> AsyncIterator[tuple[TeamsSender, ConnectorHttp]]:
    http = build_connector_http(settings)
    assert http is not None
    await http.start()
    try:
        yield TeamsSender(create_adapter(settings, http), settings.app_id), http
    finally:
        await http.close()


@pytest.fixture
async def local_sender() -> AsyncIterator[tuple[TeamsSender, ConnectorHttp]]:
    async for pair in started(Settings()):
        yield pair


@pytest.fixture
async def authenticated_sender(
    fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[TeamsSender, ConnectorHttp]]:
    fake_token_service.add_client(APP_ID, SECRET, access_token=TOKEN)
    # msal's requests and the connector session both trust the test CA this way.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    settings = Settings(
        MicrosoftAppId=APP_ID,
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        MicrosoftAppPassword=SECRET,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=fake_token_service.authority("botframework.com"),
    )
    async for pair in started(settings):
        yield pair


async def test_a_card_is_posted_then_updated_in_place_over_one_connection(
    fake_connector: FakeConnector, local_sender: tuple[TeamsSender, ConnectorHttp]
) -> None:
    sender, _ = local_sender
    where = reference(fake_connector.url)
    posted = await sender.send(where, card("requested"))
    await sender.update(where, posted, card("accepted"))
    await sender.update(where, posted, card("accepted by Ana"))

    post, *puts = fake_connector.requests
    assert post.method == "POST" and post.path.startswith(f"/v3/conversations/{CHANNEL}/activities")
    assert [p.method for p in puts] == ["PUT", "PUT"]
    assert all(p.path.endswith(f"/activities/{posted}") for p in puts)
    assert fake_connector.adaptive_cards(CHANNEL)[-1]["body"][0]["text"] == "accepted by Ana"
    assert puts[-1].body["id"] == posted and puts[-1].body["type"] == "message"
    assert fake_connector.connections_seen == 1
    # Local mode: no credentials, so no Authorization header (as the SDK does).
    assert all("Authorization" not in r.headers for r in fake_connector.requests)


async def test_https_connector_keeps_one_tls_connection_for_many_sends(
    fake_connector_https: FakeConnector,
    fake_token_service: FakeTokenService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    async for sender, _ in started(Settings()):
        for number in range(5):
            await sender.send(reference(fake_connector_https.url), MessageFactory.text(f"{number}"))
    assert [a["text"] for a in fake_connector_https.activities()] == ["0", "1", "2", "3", "4"]
    assert fake_connector_https.connections_seen == 1


def test_a_ca_bundle_replaces_the_trust_store_as_requests_does(
    fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With REQUESTS_CA_BUNDLE the clients trust that bundle alone (requests' meaning of it),
    and no second copy of the system's store is held (~2 MB); without it, aiohttp's default."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    context = client_ssl_context()
    assert isinstance(context, ssl.SSLContext)
    bundle = ssl.create_default_context(cafile=str(fake_token_service.ca_file))
    assert context.get_ca_certs() == bundle.get_ca_certs() and len(bundle.get_ca_certs()) == 1
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert client_ssl_context() is context, "one context for every client"
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert client_ssl_context() is True


async def test_with_an_app_id_every_call_carries_the_bots_token_fetched_once(
    fake_connector: FakeConnector,
    fake_token_service: FakeTokenService,
    authenticated_sender: tuple[TeamsSender, ConnectorHttp],
) -> None:
    sender, _ = authenticated_sender
    where = reference(fake_connector.url)
    posted = await sender.send(where, MessageFactory.text("one"))
    await sender.update(where, posted, MessageFactory.text("one, edited"))
    await sender.send(where, MessageFactory.text("two"))

    assert [r.headers["Authorization"] for r in fake_connector.requests] == [f"Bearer {TOKEN}"] * 3
    assert fake_token_service.token_request_count == 1


async def test_a_refused_app_secret_is_a_permanent_failure_naming_the_setting(
    fake_connector: FakeConnector,
    fake_token_service: FakeTokenService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_token_service.add_client(APP_ID, "the-real-secret")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    settings = Settings(
        MicrosoftAppId=APP_ID,
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        MicrosoftAppPassword=SECRET,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=fake_token_service.authority("botframework.com"),
    )
    async for sender, _ in started(settings):
        with pytest.raises(SendFailed) as failure:
            await sender.send(reference(fake_connector.url), MessageFactory.text("hi"))
    assert failure.value.status == 401 and not failure.value.retryable
    assert "MicrosoftAppPassword" in str(failure.value)
    assert fake_connector.requests == []


async def test_an_update_is_retried_on_503_and_lands(
    fake_connector: FakeConnector, local_sender: tuple[TeamsSender, ConnectorHttp]
) -> None:
    sender, _ = local_sender
    where = reference(fake_connector.url)
    posted = await sender.send(where, MessageFactory.text("v1"))
    fake_connector.fail_next(503, method="PUT")
    await sender.update(where, posted, MessageFactory.text("v2"))
    assert [(r.method, r.status) for r in fake_connector.requests] == [
        ("POST", 200),
        ("PUT", 503),
        ("PUT", 200),
    ]


async def test_a_throttled_post_is_not_repeated_and_hands_retry_after_to_the_outbox(
    fake_connector: FakeConnector, local_sender: tuple[TeamsSender, ConnectorHttp]
) -> None:
    sender, _ = local_sender
    fake_connector.fail_next(429, retry_after=30, method="POST")
    with pytest.raises(SendFailed) as failure:
        await sender.send(reference(fake_connector.url), MessageFactory.text("hi"))
    assert (failure.value.status, failure.value.retry_after) == (429, 30.0)
    assert failure.value.retryable
    assert len(fake_connector.requests) == 1  # a POST is never sent twice by the client


@pytest.mark.parametrize("status", [403, 404])
async def test_a_refusal_is_not_retried_and_is_permanent(
    status: int, fake_connector: FakeConnector, local_sender: tuple[TeamsSender, ConnectorHttp]
) -> None:
    sender, _ = local_sender
    fake_connector.fail_next(status, method="PUT", message="the bot is not in this team")
    with pytest.raises(SendFailed) as failure:
        await sender.update(reference(fake_connector.url), "1", MessageFactory.text("v2"))
    assert failure.value.status == status and not failure.value.retryable
    # Code written against the SDK's client catches its exception and reads the status there.
    assert isinstance(failure.value, ErrorResponseException)
    assert failure.value.response.status_code == status
    assert "the bot is not in this team" in str(failure.value)
    assert len(fake_connector.requests) == 1


async def test_replies_member_look_ups_and_deletes_within_a_turn_use_the_sdk_paths(
    fake_connector: FakeConnector, local_sender: tuple[TeamsSender, ConnectorHttp]
) -> None:
    sender, _ = local_sender
    fake_connector.add_member("29:ana", "Ana Lima", email="ana@contoso.example")
    seen: list[str] = []

    async def turn(context: TurnContext) -> None:
        sent = await context.send_activity("in the thread")
        # Where TeamsInfo looks members up (members-added does, for instance).
        connector = context.turn_state[context.adapter.BOT_CONNECTOR_CLIENT_KEY]
        member = await connector.conversations.get_conversation_member(CHANNEL, "29:ana")
        seen.append(f"{member.name} <{member.additional_properties['email']}>")
        await context.delete_activity(sent.id)

    await sender.adapter.continue_conversation(
        ConversationReference().deserialize(reference(fake_connector.url)), turn, ""
    )
    reply, look_up, delete = fake_connector.requests
    # The SDK replies to the activity the turn is about (replyToId, in the path too).
    assert (reply.method, reply.path) == (
        "POST",
        f"/v3/conversations/{CHANNEL}/activities/{reply.body['replyToId']}",
    )
    assert look_up.path == f"/v3/conversations/{CHANNEL}/members/29:ana"
    assert seen == ["Ana Lima <ana@contoso.example>"]
    assert delete.method == "DELETE" and delete.path.endswith(f"/activities/{reply.response['id']}")


async def test_every_request_tells_its_status_retries_included_and_none_when_unanswered(
    fake_connector: FakeConnector,
) -> None:
    heard: list[int | None] = []
    http = build_connector_http(Settings(), heard.append)
    assert http is not None
    await http.start()
    try:
        sender = TeamsSender(create_adapter(Settings(), http), "")
        where = reference(fake_connector.url)
        posted = await sender.send(where, MessageFactory.text("v1"))
        fake_connector.fail_next(503, method="PUT")
        await sender.update(where, posted, MessageFactory.text("v2"))
        fake_connector.fail_next(429, retry_after=30, method="POST")
        with pytest.raises(SendFailed):
            await sender.send(where, MessageFactory.text("v3"))
        nowhere = f"http://127.0.0.1:{free_port()}/"
        with pytest.raises(SendFailed):
            await sender.send(reference(nowhere), MessageFactory.text("lost"))
    finally:
        await http.close()
    assert heard == [200, 503, 200, 429, None]
