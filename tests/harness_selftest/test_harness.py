"""Self-tests of tests/harness: the fakes answer like the real services, the guard guards.

Run with: .venv/bin/pytest -o pythonpath=tests -p harness.network_guard \
    tests/harness_selftest -q -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import msal
import pytest
import trustme
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationParameters
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    ChannelValidation,
    JwtTokenExtractor,
    MicrosoftAppCredentials,
    SimpleCredentialProvider,
)

from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_graph import DEFAULT_GRAPH_TOKEN, FakeGraph
from harness.fake_token_service import ENDORSED_KID, UNENDORSED_KID, FakeTokenService
from harness.ids import DEFAULT_BOT_ID, DEFAULT_BOT_NAME, DEFAULT_CHANNEL_ID, fake_user
from harness.network_guard import NetworkAccessBlocked, NetworkGuard, is_loopback_host
from harness.tls import client_ssl_context

# harness.fixtures: the fakes' fixtures. pytester: the guard's behaviour when a test
# swallows a refusal is checked in a child pytest run.
pytest_plugins = ["harness.fixtures", "pytester"]

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]
BEARER = {"Authorization": f"Bearer {DEFAULT_GRAPH_TOKEN}"}


@pytest.fixture
def msal_app(fake_token_service: FakeTokenService) -> Iterator[msal.ConfidentialClientApplication]:
    fake_token_service.add_client("app-id", "app-secret", access_token="token-1")
    http_client = fake_token_service.msal_http_client()
    yield msal.ConfidentialClientApplication(
        "app-id",
        client_credential="app-secret",
        authority=fake_token_service.authority(),
        instance_discovery=False,
        http_client=http_client,
    )
    http_client.close()


# -- fake Bot Connector ----------------------------------------------------------------


async def test_connector_records_a_posted_activity(fake_connector: FakeConnector) -> None:
    conversation_id = "a:1abc"
    activity = {"type": "message", "text": "hello"}
    url = f"{fake_connector.url}v3/conversations/{conversation_id}/activities"
    async with aiohttp.ClientSession() as session, session.post(url, json=activity) as response:
        assert response.status == 200
        answer = await response.json()

    assert re.fullmatch(r"\d+", answer["id"])
    (record,) = fake_connector.requests
    assert (record.method, record.path) == (
        "POST",
        f"/v3/conversations/{conversation_id}/activities",
    )
    assert record.conversation_id == conversation_id
    assert record.activity_id == answer["id"]
    assert record.body == activity
    assert record.headers["content-type"].startswith("application/json")
    assert record.status == 200
    assert record.response == answer
    assert fake_connector.activities(conversation_id) == [activity]
    assert fake_connector.activities("a:other") == []


async def test_connector_reply_update_delete_with_the_real_sdk_client(
    fake_connector: FakeConnector,
) -> None:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=fake_connector.url)
    conversations = client.conversations
    conversation_id = "a:1xyz"

    sent = await conversations.send_to_conversation(
        conversation_id, Activity(type="message", text="card")
    )
    reply = await conversations.reply_to_activity(
        conversation_id, sent.id, Activity(type="message", text="reply")
    )
    updated = await conversations.update_activity(
        conversation_id, sent.id, Activity(type="message", text="updated", id=sent.id)
    )
    await conversations.delete_activity(conversation_id, reply.id)

    assert len({sent.id, reply.id}) == 2
    assert updated.id == sent.id
    methods = [(r.method, r.activity_id, r.status) for r in fake_connector.requests]
    assert methods == [
        ("POST", sent.id, 200),
        ("POST", reply.id, 200),
        ("PUT", sent.id, 200),
        ("DELETE", reply.id, 200),
    ]
    assert [a["text"] for a in fake_connector.activities(conversation_id)] == [
        "card",
        "reply",
        "updated",
    ]


async def test_connector_create_conversation(fake_connector: FakeConnector) -> None:
    client = ConnectorClient(MicrosoftAppCredentials("", ""), base_url=fake_connector.url)

    personal = await client.conversations.create_conversation(
        ConversationParameters(is_group=False, members=[{"id": "29:1user"}])
    )
    post = await client.conversations.create_conversation(
        ConversationParameters(
            is_group=True,
            channel_data={"channel": {"id": DEFAULT_CHANNEL_ID}},
            activity=Activity(type="message", text="new case"),
        )
    )

    assert personal.id.startswith("a:")
    assert personal.activity_id is None
    assert post.id == f"{DEFAULT_CHANNEL_ID};messageid={post.activity_id}"
    assert [r.status for r in fake_connector.requests] == [201, 201]
    # The channel's id finds posts in its threads.
    assert [a["text"] for a in fake_connector.activities(DEFAULT_CHANNEL_ID)] == ["new case"]
    assert fake_connector.activity_records(post.id)[0].activity_id == post.activity_id


async def test_connector_members_and_teams(fake_connector: FakeConnector) -> None:
    alice = fake_user("Alice Example")
    fake_connector.add_teams_user(alice)
    fake_connector.add_team(
        "19:team@thread.tacv2", "Support", channels=[("19:ct", "Case Transfer")]
    )
    base = f"{fake_connector.url}v3"
    async with aiohttp.ClientSession() as session:

        async def get(path: str) -> Any:
            async with session.get(base + path) as response:
                assert response.status == 200, path
                return await response.json()

        by_id = await get(f"/conversations/a:1/members/{alice.id}")
        by_aad = await get(f"/conversations/a:1/members/{alice.aad_object_id}")
        unknown = await get("/conversations/a:1/members/29:1nobody")
        listed = await get("/conversations/a:1/members")
        team = await get("/teams/19:team@thread.tacv2")
        channels = await get("/teams/19:team@thread.tacv2/conversations")

    assert by_id == by_aad
    assert by_id["name"] == "Alice Example"
    assert by_id["aadObjectId"] == alice.aad_object_id
    assert by_id["userPrincipalName"] == alice.email
    assert {"id", "name", "aadObjectId", "email", "userPrincipalName", "tenantId"} <= set(unknown)
    assert (unknown["id"], unknown["name"]) == ("29:1nobody", "User 29:1nobody")
    assert [m["id"] for m in listed] == [alice.id]
    assert (team["id"], team["name"]) == ("19:team@thread.tacv2", "Support")
    assert channels["conversations"] == [
        {"id": "19:team@thread.tacv2"},
        {"id": "19:ct", "name": "Case Transfer"},
    ]


async def test_connector_roster_knows_only_its_members(fake_connector: FakeConnector) -> None:
    alice, bob = fake_user("Alice Example"), fake_user("Bob Outsider")
    fake_connector.set_roster("19:team@thread.tacv2", [alice])
    base = f"{fake_connector.url}v3/conversations"
    async with aiohttp.ClientSession() as session:
        statuses = []
        for path in (
            f"/19:team@thread.tacv2/members/{alice.id}",
            f"/19:team@thread.tacv2/members/{alice.aad_object_id}",
            f"/19:team@thread.tacv2/members/{bob.id}",
            f"/19:other@thread.tacv2/members/{bob.id}",
        ):
            async with session.get(base + path) as response:
                statuses.append((response.status, (await response.json()).get("error")))
    assert [status for status, _ in statuses] == [200, 200, 404, 200]
    assert statuses[2][1]["code"] == "MemberNotFoundInConversation"


async def test_fault_queue_answers_429_with_retry_after_then_recovers(
    fake_connector: FakeConnector,
) -> None:
    fake_connector.fail_next(429, count=2, retry_after=7)
    url = f"{fake_connector.url}v3/conversations/a:1/activities"
    statuses: list[tuple[int, str | None]] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with session.post(url, json={"type": "message"}) as response:
                statuses.append((response.status, response.headers.get("Retry-After")))
                body = await response.json()

    assert statuses == [(429, "7"), (429, "7"), (200, None)]
    assert "id" in body
    assert fake_connector.pending_faults == 0
    assert fake_connector.requests[0].response["error"]["code"]
    # Only the delivered one counts as sent.
    assert len(fake_connector.activities()) == 1


async def test_fault_queue_can_target_a_method(fake_connector: FakeConnector) -> None:
    fake_connector.fail_next(503, method="PUT")
    base = f"{fake_connector.url}v3/conversations/a:1/activities"
    async with aiohttp.ClientSession() as session:
        async with session.post(base, json={"type": "message"}) as posted:
            assert posted.status == 200
        async with session.put(f"{base}/1", json={"type": "message"}) as put:
            assert put.status == 503
        async with session.put(f"{base}/1", json={"type": "message"}) as put_again:
            assert put_again.status == 200


async def test_a_lost_answer_is_done_and_recorded_but_the_client_hears_nothing(
    fake_connector: FakeConnector,
) -> None:
    fake_connector.lose_answers(1, method="POST")
    url = f"{fake_connector.url}v3/conversations/a:chat/activities"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.post(url, json={"type": "message", "text": "one"}):
                pass
        async with session.post(url, json={"type": "message", "text": "two"}) as answer:
            assert answer.status == 200, "only the next one is lost"

    assert [a["text"] for a in fake_connector.activities("a:chat")] == ["one", "two"]


async def test_wait_for_wakes_on_a_request_and_times_out_with_a_report(
    fake_connector: FakeConnector,
) -> None:
    url = f"{fake_connector.url}v3/conversations/a:1/activities"

    async def post_soon() -> None:
        async with aiohttp.ClientSession() as session, session.post(url, json={"text": "x"}):
            pass

    waiter = asyncio.create_task(fake_connector.wait_for_activities(conversation_id="a:1"))
    await post_soon()
    assert await waiter == [{"text": "x"}]

    with pytest.raises(AssertionError, match=r"(?s)timed out.*POST /v3/conversations/a:1"):
        await fake_connector.wait_for(lambda r: r.method == "DELETE", timeout=0.2)


async def test_a_delayed_request_is_held_from_its_arrival_and_recorded_once_answered(
    fake_connector: FakeConnector,
) -> None:
    fake_connector.delay_next(0.5, method="POST", path_contains="a:slow")
    url = f"{fake_connector.url}v3/conversations/a:slow/activities"

    async def post() -> int:
        async with aiohttp.ClientSession() as session, session.post(url, json={"text": "x"}) as r:
            return r.status

    posting = asyncio.create_task(post())
    [held] = await fake_connector.wait_for_held()
    assert (held.method, held.path) == ("POST", "/v3/conversations/a:slow/activities")
    assert fake_connector.requests == [], "not answered yet"
    assert await posting == 200
    assert fake_connector.activities("a:slow") == [{"text": "x"}]
    with pytest.raises(AssertionError, match="1 held"):
        await fake_connector.wait_for_held(2, timeout=0.1)


def test_wait_for_sync_and_clear(fake_connector: FakeConnector) -> None:
    with pytest.raises(AssertionError, match="0 request"):
        fake_connector.wait_for_sync(lambda r: True, timeout=0.1)
    fake_connector.fail_next(500)
    fake_connector.clear()
    assert fake_connector.requests == []
    assert fake_connector.pending_faults == 0


async def test_connector_serves_https(
    fake_connector_https: FakeConnector, tls_ca: trustme.CA
) -> None:
    assert fake_connector_https.url.startswith("https://127.0.0.1:")
    url = f"{fake_connector_https.url}v3/conversations/a:1/activities"
    connector = aiohttp.TCPConnector(ssl=client_ssl_context(tls_ca))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(url, json={"type": "message"}) as response,
    ):
        assert response.status == 200
    # A client that does not trust the test CA is refused.
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await session.post(url, json={})


# -- fake Graph ------------------------------------------------------------------------


async def test_graph_refuses_requests_without_the_bearer_token(fake_graph: FakeGraph) -> None:
    url = f"{fake_graph.base_url}/chats"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={}) as missing:
            assert missing.status == 401
            assert (await missing.json())["error"]["code"] == "InvalidAuthenticationToken"
        async with session.post(url, json={}, headers={"Authorization": "Bearer wrong"}) as wrong:
            assert wrong.status == 401
    assert fake_graph.chats == {}


async def test_graph_creates_a_chat_and_installs_the_app(fake_graph: FakeGraph) -> None:
    alice = fake_graph.add_teams_user(fake_user("Alice Example"))
    members = [
        {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "roles": ["owner"],
            "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{alice['id']}')",
        }
    ]
    chat_body = {"chatType": "group", "topic": "Case 123 (24x7)", "members": members}
    install = {"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/a1"}
    base = fake_graph.base_url
    async with aiohttp.ClientSession(headers=BEARER) as session:
        async with session.post(f"{base}/chats", json=chat_body) as created:
            assert created.status == 201
            chat = await created.json()
        async with session.get(f"{base}/chats/{chat['id']}") as fetched:
            assert (await fetched.json())["topic"] == "Case 123 (24x7)"
        async with session.post(f"{base}/chats/{chat['id']}/installedApps", json=install) as ok:
            assert ok.status == 201
        async with session.post(f"{base}/chats/{chat['id']}/installedApps", json=install) as again:
            assert again.status == 409
        async with session.get(f"{base}/users/{alice['userPrincipalName']}") as by_upn:
            assert (await by_upn.json())["id"] == alice["id"]
        async with session.get(f"{base}/users/nobody@contoso.example") as missing:
            assert missing.status == 404
            assert (await missing.json())["error"]["code"] == "Request_ResourceNotFound"

    assert re.fullmatch(r"19:[0-9a-f]{32}@thread\.v2", chat["id"])
    assert (chat["chatType"], chat["members"]) == ("group", members)
    assert fake_graph.installed_apps(chat["id"]) == ["a1"]
    assert fake_graph.requests[0].conversation_id == chat["id"]


@pytest.mark.parametrize(
    ("status", "retry_after", "code"),
    [(429, 3, "TooManyRequests"), (503, None, "ServiceNotAvailable"), (403, None, "Forbidden")],
)
async def test_graph_faults_have_graphs_error_shape(
    fake_graph: FakeGraph, status: int, retry_after: int | None, code: str
) -> None:
    fake_graph.fail_next(status, retry_after=retry_after)
    async with aiohttp.ClientSession(headers=BEARER) as session:
        async with session.get(f"{fake_graph.base_url}/chats/19:x@thread.v2") as faulted:
            assert faulted.status == status
            assert faulted.headers.get("Retry-After") == (
                None if retry_after is None else str(retry_after)
            )
            error = (await faulted.json())["error"]
        async with session.get(f"{fake_graph.base_url}/chats/19:x@thread.v2") as after:
            assert after.status == 404
    assert error["code"] == code
    assert error["message"]
    assert "request-id" in error["innerError"]


# -- fake identity platform ------------------------------------------------------------


def test_real_msal_gets_a_token_and_caches_it(
    msal_app: msal.ConfidentialClientApplication, fake_token_service: FakeTokenService
) -> None:
    first = msal_app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    second = msal_app.acquire_token_for_client(scopes=GRAPH_SCOPE)

    assert first["access_token"] == "token-1", first
    assert first["token_source"] == "identity_provider"
    assert second["access_token"] == "token-1"
    assert second["token_source"] == "cache"
    assert fake_token_service.token_request_count == 1
    token_request = fake_token_service.requests[-1]
    assert token_request.body["grant_type"] == "client_credentials"
    assert token_request.body["scope"] == GRAPH_SCOPE[0]


def test_real_msal_reports_a_wrong_secret(fake_token_service: FakeTokenService) -> None:
    fake_token_service.add_client("app-id", "right")
    http_client = fake_token_service.msal_http_client()
    app = msal.ConfidentialClientApplication(
        "app-id",
        client_credential="wrong",
        authority=fake_token_service.authority(),
        instance_discovery=False,
        http_client=http_client,
    )
    result = app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    http_client.close()

    assert result["error"] == "invalid_client"
    assert "AADSTS7000215" in result["error_description"]
    assert fake_token_service.requests[-1].status == 401


def test_msal_instance_discovery_would_reach_the_internet(
    fake_token_service: FakeTokenService, network_guard: NetworkGuard
) -> None:
    # Documents why instance_discovery=False is needed: msal asks login.microsoftonline.com.
    http_client = fake_token_service.msal_http_client()
    with pytest.raises(NetworkAccessBlocked, match=r"login\.microsoftonline\.com"):
        msal.ConfidentialClientApplication(
            "app-id",
            client_credential="secret",
            authority=fake_token_service.authority(),
            http_client=http_client,
        )
    http_client.close()
    assert network_guard.take_blocked() == ["resolve login.microsoftonline.com:443"]


async def test_bot_framework_tokens_validate_against_the_fake_jwks(
    fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # botframework fetches the metadata with a bare requests.get: trust the CA through the
    # environment, point the validator at the fake and start from an empty metadata cache.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    monkeypatch.setattr(
        ChannelValidation, "open_id_metadata_endpoint", fake_token_service.openid_metadata_url
    )
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    service_url = "https://127.0.0.1:9/"
    credentials = SimpleCredentialProvider("bot-app-id", "")
    claims = {"aud": "bot-app-id", "serviceurl": service_url}

    good = fake_token_service.issue_token(claims, kid=ENDORSED_KID)
    identity = await ChannelValidation.authenticate_channel_token_with_service_url(
        f"Bearer {good}", credentials, service_url, "msteams"
    )
    assert identity.get_claim_value("aud") == "bot-app-id"

    not_for_teams = fake_token_service.issue_token(claims, kid=UNENDORSED_KID)
    with pytest.raises(Exception, match="endorsement"):
        await ChannelValidation.authenticate_channel_token_with_service_url(
            f"Bearer {not_for_teams}", credentials, service_url, "msteams"
        )


# -- network guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        (b"127.0.0.1", True),
        ("10.1.2.3", False),
        ("0.0.0.0", False),
        ("::", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_guard_knows_loopback(host: str | bytes, allowed: bool) -> None:
    assert is_loopback_host(host) is allowed


def test_guard_refuses_a_non_loopback_address(network_guard: NetworkGuard) -> None:
    with socket.socket() as sock, pytest.raises(NetworkAccessBlocked, match=r"10\.1\.2\.3:80"):
        sock.connect(("10.1.2.3", 80))
    with socket.socket() as sock, pytest.raises(NetworkAccessBlocked):
        sock.connect_ex(("10.1.2.3", 80))
    with pytest.raises(NetworkAccessBlocked):
        socket.create_connection(("10.1.2.3", 80), timeout=1)
    assert network_guard.take_blocked() == ["connect to 10.1.2.3:80"] * 3


def test_guard_refuses_dns_names(network_guard: NetworkGuard) -> None:
    with pytest.raises(NetworkAccessBlocked, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(NetworkAccessBlocked):
        socket.gethostbyname("example.com")
    with socket.socket() as sock, pytest.raises(NetworkAccessBlocked):
        sock.connect(("example.com", 80))
    assert len(network_guard.take_blocked()) == 3


async def test_guard_refuses_aiohttp_to_a_dns_name(network_guard: NetworkGuard) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(NetworkAccessBlocked, match=r"example\.com"):
            await session.get("http://example.com/")
    assert network_guard.take_blocked() == ["resolve example.com:80"]


async def test_guard_allows_loopback_and_unix_sockets(
    fake_connector: FakeConnector, tmp_path: Path, network_guard: NetworkGuard
) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", fake_connector.port)
    writer.close()
    await writer.wait_closed()
    async with aiohttp.ClientSession() as session:
        url = f"http://localhost:{fake_connector.port}/v3/teams/19:t"
        async with session.get(url) as response:
            assert response.status == 200
    assert socket.getaddrinfo("localhost", 80)

    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)
    assert network_guard.blocked == []


def test_guard_fails_a_test_that_swallows_a_refusal(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    pytester.makepyfile(
        test_swallow=textwrap.dedent(
            """
            import socket

            def test_swallows():
                try:
                    socket.create_connection(("192.0.2.1", 443), timeout=1)
                except Exception:
                    pass
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "harness.network_guard", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*network access was blocked during this test*", "*connect to 192.0.2.1:443*"]
    )


# -- activity builders -----------------------------------------------------------------

SERVICE_URL = "http://127.0.0.1:1/"


def _deserialize(payload: dict[str, Any]) -> Activity:
    # A JSON round trip first: what the bot receives is text, not our Python objects.
    activity: Activity = Activity().deserialize(json.loads(json.dumps(payload)))
    return activity


def test_builders_produce_activities_botbuilder_accepts() -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        (activities.personal_message("hi", SERVICE_URL), "message", "personal"),
        (activities.channel_message("status 123", SERVICE_URL), "message", "channel"),
        (activities.bot_added_personal(SERVICE_URL), "conversationUpdate", "personal"),
        (activities.bot_added_to_team(SERVICE_URL), "conversationUpdate", "channel"),
        (activities.installation_update(SERVICE_URL), "installationUpdate", "personal"),
        (
            activities.installation_update(SERVICE_URL, "remove", scope="channel"),
            "installationUpdate",
            "channel",
        ),
        (
            activities.installation_update(SERVICE_URL, scope="groupChat"),
            "installationUpdate",
            "groupChat",
        ),
        (
            activities.card_action_invoke("accept", {"caseId": "1"}, SERVICE_URL, "1700"),
            "invoke",
            "personal",
        ),
        (
            activities.card_action_invoke(
                "accept", {"caseId": "1"}, SERVICE_URL, "1700", scope="channel"
            ),
            "invoke",
            "channel",
        ),
        (activities.submit_message({"verb": "accept"}, SERVICE_URL), "message", "personal"),
    ]
    ids = set()
    for payload, kind, conversation_type in cases:
        activity = _deserialize(payload)
        assert activity.type == kind
        assert activity.conversation.conversation_type == conversation_type
        assert activity.service_url == SERVICE_URL
        assert activity.channel_id == "msteams"
        assert activity.recipient.id == DEFAULT_BOT_ID
        assert activity.timestamp is not None
        ids.add(activity.id)
    assert len(ids) == len(cases)


def test_channel_message_mentions_the_bot() -> None:
    payload = activities.channel_message("status 123", SERVICE_URL, thread_id="1700")
    activity = _deserialize(payload)

    assert activity.text == f"<at>{DEFAULT_BOT_NAME}</at> status 123"
    assert payload["entities"][0] == {
        "type": "mention",
        "mentioned": {"id": DEFAULT_BOT_ID, "name": DEFAULT_BOT_NAME},
        "text": f"<at>{DEFAULT_BOT_NAME}</at>",
    }
    assert TurnContext.remove_recipient_mention(activity).strip() == "status 123"
    assert activity.conversation.id == f"{DEFAULT_CHANNEL_ID};messageid=1700"
    assert payload["channelData"]["channel"]["id"] == DEFAULT_CHANNEL_ID
    assert payload["channelData"]["team"]["id"]
    # botbuilder maps conversation.tenantId to "tenantID", so compare the raw JSON.
    assert payload["channelData"]["tenant"]["id"] == payload["conversation"]["tenantId"]


def test_invoke_and_submit_carry_the_card_data() -> None:
    invoke = activities.card_action_invoke(
        "accept", {"caseId": "42"}, SERVICE_URL, "1700", title="Accept"
    )
    submit = activities.submit_message({"caseId": "42", "note": "x"}, SERVICE_URL, reply_to_id="9")

    assert invoke["name"] == "adaptiveCard/action"
    assert invoke["value"]["action"] == {
        "type": "Action.Execute",
        "title": "Accept",
        "verb": "accept",
        "data": {"caseId": "42"},
    }
    assert invoke["replyToId"] == "1700"
    assert (submit["text"], submit["value"], submit["replyToId"]) == (
        "",
        {"caseId": "42", "note": "x"},
        "9",
    )
    assert "attachments" not in submit


def test_builders_keep_identities_stable_and_overridable() -> None:
    alice = fake_user("Alice Example")
    first = activities.personal_message(
        "a", SERVICE_URL, user_id=alice.id, user_name=alice.name, timezone="Asia/Singapore"
    )
    second = activities.personal_message("b", SERVICE_URL, user_id=alice.id)
    third = activities.personal_message(
        "c",
        SERVICE_URL,
        overrides={"from": {"aadObjectId": activities.REMOVE}, "locale": "de-DE"},
    )

    assert first["conversation"]["id"] == second["conversation"]["id"]
    assert first["id"] != second["id"]
    assert first["localTimezone"] == "Asia/Singapore"
    assert first["localTimestamp"].endswith("+08:00")
    assert "aadObjectId" not in third["from"]
    assert third["locale"] == "de-DE"


def test_builders_do_not_leak_the_captured_ids() -> None:
    built = json.dumps(
        [
            activities.personal_message("x", SERVICE_URL),
            activities.bot_added_to_team(SERVICE_URL),
            activities.card_action_invoke("v", {}, SERVICE_URL, "1"),
        ]
    )
    for name in ("message_personal.json", "conversation_update_bot_added_to_team.json"):
        template = activities.load_template(name)
        for captured in (template["from"]["id"], template["conversation"]["id"]):
            assert captured not in built
    assert "smba.trafficmanager.net" not in built


def test_https_client_context_trusts_only_the_ca(tls_ca: trustme.CA) -> None:
    context = client_ssl_context(tls_ca)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
