"""GraphClient against the local fake Graph: request shapes, retries, and failures."""

from __future__ import annotations

import asyncio
import email.utils
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import requests

from graph.client import GraphClient, _retry_after
from graph.errors import GraphError, GraphPermissionError, GraphTransientError
from graph.token_provider import TokenProvider

from harness.fake_connector import FakeConnector
from harness.fake_graph import DEFAULT_GRAPH_TOKEN, FakeGraph, RecordedRequest
from harness.fake_token_service import FakeTokenService
from harness.graph_messages import post_as_bot

ALICE = "aaaaaaaa-0000-0000-0000-000000000001"
BOB = "bbbbbbbb-0000-0000-0000-000000000002"
CAROL = "cccccccc-0000-0000-0000-000000000003"
TEAMS_APP_ID = "d1e2f3a4-0000-0000-0000-00000000beef"
TOPIC = "Case 2401010010000123 - 24x7 owners"


class FakeTokens:
    """A token source that hands out ``tokens`` in order, one more on each refresh."""

    def __init__(self, *tokens: str) -> None:
        self._tokens = list(tokens) or [DEFAULT_GRAPH_TOKEN]
        self._current = 0
        self.refreshes = 0

    async def token(self, *, force_refresh: bool = False) -> str:
        if force_refresh:
            self.refreshes += 1
            self._current = min(self._current + 1, len(self._tokens) - 1)
        return self._tokens[self._current]


class RecordingSleep:
    """Stands in for asyncio.sleep: records the delays, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def tokens() -> FakeTokens:
    return FakeTokens()


@pytest.fixture
def client(
    fake_graph: FakeGraph,
    tokens: FakeTokens,
    session: aiohttp.ClientSession,
    sleep: RecordingSleep,
) -> GraphClient:
    return GraphClient(fake_graph.base_url, tokens, session, sleep=sleep)


def successful_creates(graph: FakeGraph) -> list[RecordedRequest]:
    return [
        r
        for r in graph.requests
        if r.method == "POST" and r.path == "/v1.0/chats" and r.status == 201
    ]


# -- create_group_chat -------------------------------------------------------------------


async def test_create_group_chat_sends_graphs_shape_and_returns_the_id(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB, CAROL])

    assert chat_id in fake_graph.chats
    [request] = fake_graph.requests
    assert request.method == "POST" and request.path == "/v1.0/chats"
    assert request.headers["Authorization"] == f"Bearer {DEFAULT_GRAPH_TOKEN}"
    assert request.body["chatType"] == "group"
    assert request.body["topic"] == TOPIC
    members = request.body["members"]
    assert [m["user@odata.bind"] for m in members] == [
        f"https://graph.microsoft.com/v1.0/users('{aad_id}')" for aad_id in (ALICE, BOB, CAROL)
    ]
    for member in members:
        assert member["@odata.type"] == "#microsoft.graph.aadUserConversationMember"
        assert member["roles"] == ["owner"]
    assert request.response["id"] == chat_id


async def test_create_group_chat_lists_a_member_once(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    await client.create_group_chat(TOPIC, [ALICE, BOB, ALICE])

    [request] = fake_graph.requests
    assert len(request.body["members"]) == 2


async def test_create_group_chat_needs_members(client: GraphClient, fake_graph: FakeGraph) -> None:
    with pytest.raises(ValueError, match="member"):
        await client.create_group_chat(TOPIC, [])
    assert fake_graph.requests == []


async def test_429_twice_with_retry_after_still_creates_exactly_one_chat(
    client: GraphClient, fake_graph: FakeGraph, sleep: RecordingSleep
) -> None:
    fake_graph.fail_next(429, count=2, retry_after=1, method="POST", path_contains="/chats")

    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert [r.status for r in fake_graph.requests] == [429, 429, 201]
    assert len(successful_creates(fake_graph)) == 1
    assert list(fake_graph.chats) == [chat_id]
    assert sleep.delays == [1.0, 1.0]


async def test_503_without_retry_after_backs_off_with_jitter_then_succeeds(
    client: GraphClient, fake_graph: FakeGraph, sleep: RecordingSleep
) -> None:
    fake_graph.fail_next(503, count=2)

    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert [r.status for r in fake_graph.requests] == [503, 503, 201]
    assert chat_id in fake_graph.chats
    # Equal jitter around 1 s, then 2 s: never zero, never more than the exponential step.
    first, second = sleep.delays
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 2.0


async def test_throttling_that_outlasts_max_attempts_is_transient(
    fake_graph: FakeGraph, tokens: FakeTokens, session: aiohttp.ClientSession
) -> None:
    sleep = RecordingSleep()
    client = GraphClient(fake_graph.base_url, tokens, session, max_attempts=3, sleep=sleep)
    fake_graph.fail_next(429, count=5, retry_after=2)

    with pytest.raises(GraphTransientError) as caught:
        await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert caught.value.status == 429
    assert caught.value.code == "TooManyRequests"
    assert len(fake_graph.requests) == 3
    assert sleep.delays == [2.0, 2.0]
    assert fake_graph.chats == {}


async def test_403_on_create_names_chat_create_and_admin_consent(
    client: GraphClient, fake_graph: FakeGraph, sleep: RecordingSleep
) -> None:
    fake_graph.fail_next(403, code="Forbidden", message="Missing role permissions.")

    with pytest.raises(GraphPermissionError) as caught:
        await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert caught.value.status == 403
    assert caught.value.permissions == ("Chat.Create",)
    assert "Chat.Create" in str(caught.value)
    assert "admin consent" in str(caught.value)
    assert "Missing role permissions." in str(caught.value)
    assert len(fake_graph.requests) == 1  # permanent: not retried
    assert sleep.delays == []


async def test_other_4xx_raise_graph_error_from_graphs_body(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    fake_graph.fail_next(400, code="BadRequest", message="Invalid member.")

    with pytest.raises(GraphError) as caught:
        await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert type(caught.value) is GraphError
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        400,
        "BadRequest",
        "Invalid member.",
    )
    assert len(fake_graph.requests) == 1


async def test_401_once_refreshes_the_token_and_retries(
    fake_graph: FakeGraph, session: aiohttp.ClientSession, sleep: RecordingSleep
) -> None:
    # The first token is one Graph no longer accepts (the fake answers a real 401 to it).
    tokens = FakeTokens("revoked-token", DEFAULT_GRAPH_TOKEN)
    client = GraphClient(fake_graph.base_url, tokens, session, sleep=sleep)

    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert chat_id in fake_graph.chats
    assert tokens.refreshes == 1
    first, second = fake_graph.requests
    assert (first.status, first.headers["Authorization"]) == (401, "Bearer revoked-token")
    assert (second.status, second.headers["Authorization"]) == (
        201,
        f"Bearer {DEFAULT_GRAPH_TOKEN}",
    )
    assert sleep.delays == []


async def test_401_after_a_refresh_gives_up(
    fake_graph: FakeGraph, session: aiohttp.ClientSession
) -> None:
    tokens = FakeTokens("revoked-token", "also-wrong")
    client = GraphClient(fake_graph.base_url, tokens, session, sleep=RecordingSleep())

    with pytest.raises(GraphError) as caught:
        await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert caught.value.status == 401
    assert caught.value.code == "InvalidAuthenticationToken"
    assert tokens.refreshes == 1
    assert len(fake_graph.requests) == 2


# -- install_app -------------------------------------------------------------------------


async def test_install_app_binds_the_catalog_app(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])

    await client.install_app(chat_id, TEAMS_APP_ID)

    assert fake_graph.installed_apps(chat_id) == [TEAMS_APP_ID]
    request = fake_graph.requests[-1]
    assert request.method == "POST"
    assert request.path == f"/v1.0/chats/{chat_id}/installedApps"
    assert request.body == {
        "teamsApp@odata.bind": (
            f"https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{TEAMS_APP_ID}"
        )
    }


async def test_install_app_twice_is_success_on_409(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])
    await client.install_app(chat_id, TEAMS_APP_ID)

    await client.install_app(chat_id, TEAMS_APP_ID)  # e.g. a restart after a crash

    assert fake_graph.requests[-1].status == 409
    assert fake_graph.installed_apps(chat_id) == [TEAMS_APP_ID]


async def test_install_app_403_names_the_installation_permission(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])
    fake_graph.fail_next(403, method="POST", path_contains="/installedApps")

    with pytest.raises(GraphPermissionError) as caught:
        await client.install_app(chat_id, TEAMS_APP_ID)

    assert "TeamsAppInstallation.ReadWriteSelfForChat.All" in str(caught.value)
    assert "admin consent" in str(caught.value)
    assert fake_graph.installed_apps(chat_id) == []


async def test_install_app_retries_503(
    client: GraphClient, fake_graph: FakeGraph, sleep: RecordingSleep
) -> None:
    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])
    fake_graph.fail_next(503, retry_after=3, path_contains="/installedApps")

    await client.install_app(chat_id, TEAMS_APP_ID)

    assert fake_graph.installed_apps(chat_id) == [TEAMS_APP_ID]
    assert sleep.delays == [3.0]


# -- get_chat ----------------------------------------------------------------------------


async def test_get_chat_returns_the_chat(client: GraphClient, fake_graph: FakeGraph) -> None:
    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB])

    chat = await client.get_chat(chat_id)

    assert chat["id"] == chat_id
    assert chat["topic"] == TOPIC
    assert chat["chatType"] == "group"


async def test_get_chat_404_is_a_graph_error(client: GraphClient) -> None:
    with pytest.raises(GraphError) as caught:
        await client.get_chat("19:missing@thread.v2")

    assert (caught.value.status, caught.value.code) == (404, "NotFound")


# -- end to end: real msal token, fake Graph ---------------------------------------------


@pytest.fixture
def http_client(fake_token_service: FakeTokenService) -> Iterator[requests.Session]:
    session = fake_token_service.msal_http_client()
    yield session
    session.close()


async def test_real_msal_token_creates_a_chat_and_installs_the_app(
    fake_token_service: FakeTokenService,
    http_client: requests.Session,
    fake_graph: FakeGraph,
    session: aiohttp.ClientSession,
    sleep: RecordingSleep,
) -> None:
    fake_token_service.add_client("app-id", "app-secret", access_token="msal-graph-token")
    fake_graph.expected_token = "msal-graph-token"
    tokens = TokenProvider(
        "app-id",
        "app-secret",
        fake_token_service.authority(),
        http_client=http_client,
        instance_discovery=False,
    )
    client = GraphClient(fake_graph.base_url, tokens, session, sleep=sleep)
    fake_graph.fail_next(429, count=2, retry_after=1, path_contains="/chats")

    chat_id = await client.create_group_chat(TOPIC, [ALICE, BOB, CAROL])
    await client.install_app(chat_id, TEAMS_APP_ID)

    assert len(successful_creates(fake_graph)) == 1
    assert fake_graph.installed_apps(chat_id) == [TEAMS_APP_ID]
    assert {r.headers["Authorization"] for r in fake_graph.requests} == {"Bearer msal-graph-token"}
    # Four Graph calls, one token request: msal's cache served the rest.
    assert fake_token_service.token_request_count == 1
    assert sleep.delays == [1.0, 1.0]


# -- odds and ends -----------------------------------------------------------------------


async def test_an_unreachable_graph_is_transient_and_not_retried(
    tokens: FakeTokens, session: aiohttp.ClientSession, sleep: RecordingSleep
) -> None:
    # A port nobody listens on: the connection is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(f"http://127.0.0.1:{port}/v1.0", tokens, session, sleep=sleep)

    with pytest.raises(GraphTransientError) as caught:
        await client.create_group_chat(TOPIC, [ALICE, BOB])

    assert caught.value.status == 0
    # Whether a failed POST reached Graph is unknown, so the client does not repeat it.
    assert sleep.delays == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [("1", 1.0), ("2.5", 2.5), ("-3", 0.0), ("", None), ("soon", None), (None, None)],
)
def test_retry_after_in_seconds(header: str | None, expected: float | None) -> None:
    assert _retry_after(header) == expected


def test_retry_after_as_an_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    delay = _retry_after(email.utils.format_datetime(when, usegmt=True))
    assert delay is not None and 28 <= delay <= 30


async def test_find_user_by_upn_and_unknown_user(
    fake_graph: FakeGraph, session: aiohttp.ClientSession
) -> None:
    fake_graph.add_user("aad-kim", "Kim Sme", user_principal_name="kim@example.invalid")
    client = GraphClient(fake_graph.base_url, FakeTokens(), session)
    assert await client.find_user("kim@example.invalid") == ("aad-kim", "Kim Sme")
    assert await client.find_user("nobody@example.invalid") is None


async def test_a_users_e_mail_by_id(fake_graph: FakeGraph, session: aiohttp.ClientSession) -> None:
    fake_graph.add_user("aad-kim", "Kim Sme", user_principal_name="kim@example.invalid")
    fake_graph.add_user("aad-lee", "Lee", user_principal_name="lee@x.invalid", mail="l@x.invalid")
    client = GraphClient(fake_graph.base_url, FakeTokens(), session)
    assert await client.user_email("aad-kim") == "kim@example.invalid"
    assert await client.user_email("aad-lee") == "l@x.invalid", "mail comes first"
    assert await client.user_email("aad-nobody") is None


# -- member_groups (application/group_membership.py) ----------------------------------------------


def group_id(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-00000000000{n % 10}"


async def test_member_groups_answers_the_groups_a_user_is_in_nested_ones_too(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    fake_graph.add_group_member(group_id(1), ALICE)
    fake_graph.add_group_member(group_id(2), group_id(3))
    fake_graph.add_group_member(group_id(3), ALICE)
    fake_graph.add_group_member(group_id(4), BOB)

    found = await client.member_groups(ALICE, [group_id(1), group_id(2).upper(), group_id(4)])

    assert found == {group_id(1), group_id(2)}
    [request] = fake_graph.requests
    assert (request.method, request.path) == ("POST", f"/v1.0/users/{ALICE}/checkMemberGroups")
    assert request.body == {"groupIds": [group_id(1), group_id(2), group_id(4)]}


async def test_member_groups_asks_twenty_groups_at_a_time(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    groups = [group_id(n) for n in range(1, 46)]
    fake_graph.add_group_member(groups[44], ALICE)

    assert await client.member_groups(ALICE, groups) == {groups[44]}
    sizes = [len(r.body["groupIds"]) for r in fake_graph.requests]
    assert sizes == [20, 20, 5]


async def test_member_groups_of_a_user_graph_does_not_know_is_none(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    fake_graph.add_group_member(group_id(1), ALICE)
    assert await client.member_groups(CAROL, [group_id(1)]) == set()
    assert fake_graph.requests[0].status == 404


async def test_member_groups_without_the_permission_names_group_member_read_all(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    fake_graph.fail_next(403, code="Authorization_RequestDenied", message="Insufficient privileges")
    with pytest.raises(GraphPermissionError) as caught:
        await client.member_groups(ALICE, [group_id(1)])
    assert "GroupMember.Read.All" in str(caught.value)
    assert "admin consent" in str(caught.value)


async def test_member_groups_with_a_malformed_group_id_is_graphs_400(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    fake_graph.add_user(ALICE, "Alice Example")
    with pytest.raises(GraphError) as caught:
        await client.member_groups(ALICE, [group_id(1), "Support Engineers"])
    assert (caught.value.status, caught.value.code) == (400, "Request_BadRequest")


# -- reading back what the bot sent (outbox/landed_sends.py) --------------------------------


def sent_to(connector: FakeConnector, conversation_id: str, texts: list[str]) -> None:
    """The bot's messages, as the fake connector receives them."""
    for text in texts:
        post_as_bot(connector, conversation_id, text)


async def test_app_chat_with_finds_the_personal_chat_of_a_user_who_installed_the_app(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    chat = fake_graph.add_app_chat(ALICE, TEAMS_APP_ID, "a:alice-chat")

    assert await client.app_chat_with(ALICE, TEAMS_APP_ID) == chat.chat_id
    assert await client.app_chat_with(BOB, TEAMS_APP_ID) is None, "Bob never installed it"
    assert await client.app_chat_with(ALICE, "another-app") is None


async def test_chat_messages_since_reads_every_page_back_to_since_and_no_further(
    client: GraphClient, fake_graph: FakeGraph, fake_connector: FakeConnector
) -> None:
    fake_graph.show_messages_of(fake_connector)
    chat = fake_graph.add_app_chat(ALICE, TEAMS_APP_ID, "a:alice-chat")
    sent_to(fake_connector, "a:alice-chat", [f"old {n}" for n in range(60)])
    since = datetime.now(UTC)
    await asyncio.sleep(0.002)  # Graph's times are to the millisecond
    sent_to(fake_connector, "a:alice-chat", [f"new {n}" for n in range(70)])

    messages = await client.chat_messages_since(chat.chat_id, since)

    bodies = [m["body"]["content"] for m in messages]
    assert bodies == [f"<p>new {n}</p>" for n in reversed(range(70))], "newest first, all"
    pages = [r for r in fake_graph.requests if r.path.endswith("/messages")]
    assert len(pages) == 2, "50 a page; the second reaches back before `since`: no third"


async def test_channel_messages_since_lists_the_new_threads_in_the_channel(
    client: GraphClient, fake_graph: FakeGraph, fake_connector: FakeConnector
) -> None:
    fake_graph.show_messages_of(fake_connector)
    channel = "19:case-transfer@thread.tacv2"
    sent_to(fake_connector, channel, [f"old card {n}" for n in range(30)])
    since = datetime.now(UTC)
    await asyncio.sleep(0.002)  # Graph's times are to the millisecond
    sent_to(fake_connector, channel, [f"card {n}" for n in range(60)])
    sent_to(fake_connector, f"{channel};messageid=1", ["a reply in a thread"])

    messages = await client.channel_messages_since("group-id", channel, since)

    shown = sorted(m["body"]["content"] for m in messages)
    assert shown == sorted(f"<p>card {n}</p>" for n in range(60)), "new threads only, all"
    assert messages[0]["from"]["application"]["id"] == "bot-app"
    pages = [r for r in fake_graph.requests if r.path.endswith("/messages/delta")]
    assert len(pages) == 2, "Graph filters by time: 60 new posts are two pages, not three"
    assert all(r.query["$filter"].startswith("lastModifiedDateTime gt ") for r in pages)


async def test_reading_messages_without_the_permission_names_the_one_to_grant(
    client: GraphClient, fake_graph: FakeGraph
) -> None:
    fake_graph.fail_next(403, code="Forbidden", message="Missing role permissions.")

    with pytest.raises(GraphPermissionError) as raised:
        await client.chat_messages_since("19:chat@thread.v2", datetime.now(UTC))
    assert raised.value.permissions == ("Chat.Read.All",)
    said = str(raised.value)
    assert "The app asks ChatMessage.Read.Chat (resource-specific consent)" in said
    assert "tenant-wide application permission Chat.Read.All with admin consent" in said

    fake_graph.fail_next(403, code="Forbidden", message="Missing role permissions.")
    with pytest.raises(GraphPermissionError) as raised:
        await client.chat_messages_since("19:personal", datetime.now(UTC), group_chat=False)
    said = str(raised.value)
    assert "resource-specific" not in said, "a one-to-one chat is not served by RSC"
    assert "application permission Chat.Read.All and give admin consent" in said

    fake_graph.fail_next(403, code="Forbidden", message="Missing role permissions.")
    with pytest.raises(GraphPermissionError) as raised:
        await client.channel_messages_since(
            "group-id", "19:channel@thread.tacv2", datetime.now(UTC)
        )
    said = str(raised.value)
    assert "ChannelMessage.Read.Group (resource-specific consent)" in said
    assert "ChannelMessage.Read.All" in said
