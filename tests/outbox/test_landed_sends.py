"""How a send in doubt is recognised among the messages Graph lists: by what a person sees,
not by markup; only the bot's own messages, not one already accounted for."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from cards.elements import card, text
from graph.client import GraphClient
from graph.errors import GraphAuthError
from handoff.ports import ConversationAddress, ConversationKind, SystemClock
from outbox.failures import SendFailed
from outbox.landed_sends import (
    CannotTell,
    LandedSends,
    activity_fingerprint,
    message_fingerprint,
)
from storage.sql_store import open_store

from harness.fake_connector import FakeConnector
from harness.fake_graph import DEFAULT_GRAPH_TOKEN, FakeGraph
from harness.graph_messages import post_as_bot

APP = "bot-app-id"
TEAMS_APP = "teams-catalog-id"
USER_AAD = "aaaaaaaa-0000-4000-8000-000000000001"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
REMOVED_TEAM = "19:removed@thread.tacv2"


def graph_message(content: str, attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": "1700000000001",
        "from": {"application": {"id": APP}, "user": None},
        "body": {"contentType": "html", "content": content},
        "attachments": attachments or [],
    }


def accept_card(version: int) -> dict[str, Any]:
    content = card([text("Case 2311230040001234 · Sev B")])
    content["actions"] = [
        {"type": "Action.Execute", "title": "Accept", "data": {"id": "h1", "version": version}}
    ]
    return content


def test_markdown_text_matches_the_html_teams_stores() -> None:
    sent = {"text": "**Bo Receiver** accepted case 42. See [the case](https://example.invalid/42)"}
    stored = graph_message(
        "<p><strong>Bo Receiver</strong> accepted case 42. "
        'See <a href="https://example.invalid/42">the case</a></p>'
    )

    assert activity_fingerprint(sent) == message_fingerprint(stored)


def test_different_words_do_not_match() -> None:
    sent = {"text": "lost message 001"}

    other = graph_message("<p>lost message 002</p>")

    assert activity_fingerprint(sent) != message_fingerprint(other)


def test_a_card_matches_its_json_string_and_not_the_same_card_at_another_version() -> None:
    sent = {"attachments": [{"contentType": CARD_TYPE, "content": accept_card(1)}]}

    def stored(version: int) -> dict[str, Any]:
        content = json.dumps(accept_card(version))
        attachment = {"id": "a1", "contentType": CARD_TYPE, "content": content}
        return graph_message('<attachment id="a1"></attachment>', [attachment])

    assert activity_fingerprint(sent) == message_fingerprint(stored(1))
    assert activity_fingerprint(sent) != message_fingerprint(stored(2))


async def no_team(reference: dict[str, Any], team_id: str) -> str | None:
    """The Bot Connector's answer for a channel's team: none, or for REMOVED_TEAM a 404."""
    if team_id == REMOVED_TEAM:
        raise SendFailed("HTTP 404: the bot is not in the team", status=404, retry_after=None)
    return None


@pytest.fixture
async def landed(
    fake_graph: FakeGraph, fake_connector: FakeConnector, sqlite_url: str
) -> AsyncIterator[LandedSends]:
    fake_graph.expected_token = DEFAULT_GRAPH_TOKEN
    fake_graph.show_messages_of(fake_connector)

    class Tokens:
        async def token(self, *, force_refresh: bool = False) -> str:
            return DEFAULT_GRAPH_TOKEN

    async def no_wait(_: float) -> None:
        pass

    store = await open_store(sqlite_url, SystemClock())
    for team in ("19:team@thread.tacv2", REMOVED_TEAM):
        await store.save_conversation(
            ConversationAddress(
                conversation_id=f"{team}-channel",
                kind=ConversationKind.CHANNEL,
                service_url=fake_connector.url,
                team_id=team,
                reference={},
                updated_at=SystemClock().now(),
            )
        )
    async with aiohttp.ClientSession() as session:
        graph = GraphClient(fake_graph.base_url, Tokens(), session, sleep=no_wait)
        yield LandedSends(graph, store, no_team, bot_app_id=APP, teams_app_id=TEAMS_APP)
    await store.close()


def bot_sends(connector: FakeConnector, conversation_id: str, text: str, app: str = APP) -> str:
    return post_as_bot(connector, conversation_id, text, app)


def personal(conversation_id: str) -> dict[str, Any]:
    return {
        "conversation": {"id": conversation_id, "conversationType": "personal"},
        "user": {"id": "29:user", "aadObjectId": USER_AAD},
    }


async def test_the_bots_message_is_found_unless_already_accounted_for(
    landed: LandedSends, fake_graph: FakeGraph, fake_connector: FakeConnector
) -> None:
    fake_graph.add_app_chat(USER_AAD, TEAMS_APP, "a:chat")
    since = datetime.now(UTC)
    first = bot_sends(fake_connector, "a:chat", "reminder for case 42")
    second = bot_sends(fake_connector, "a:chat", "reminder for case 42")
    bot_sends(fake_connector, "a:chat", "reminder for case 43", app="another-bot")
    wanted = {"text": "reminder for case 42"}

    assert await landed.find(personal("a:chat"), wanted, since) == second, "the newest"
    assert await landed.find(personal("a:chat"), wanted, since, known={second}) == first
    assert await landed.find(personal("a:chat"), wanted, since, known={first, second}) is None
    other = {"text": "reminder for case 43"}
    assert await landed.find(personal("a:chat"), other, since) is None, "another app's"
    later = since + timedelta(minutes=5)
    assert await landed.find(personal("a:chat"), wanted, later) is None, "sent before since"


async def test_without_a_way_to_the_chat_it_cannot_tell(
    landed: LandedSends, fake_graph: FakeGraph
) -> None:
    since = datetime.now(UTC)
    wanted = {"text": "hello"}

    with pytest.raises(CannotTell, match="no chat between that user and the app"):
        await landed.find(personal("a:chat"), wanted, since)
    no_aad = {"conversation": {"id": "a:chat", "conversationType": "personal"}, "user": {}}
    with pytest.raises(CannotTell, match="no Azure AD object id"):
        await landed.find(no_aad, wanted, since)

    def channel(channel_id: str) -> dict[str, Any]:
        return {"conversation": {"id": channel_id, "conversationType": "channel"}}

    with pytest.raises(CannotTell, match="team is not known"):
        await landed.find(channel("19:c@thread.tacv2"), wanted, since)
    with pytest.raises(CannotTell, match="no Azure AD group"):
        await landed.find(channel("19:team@thread.tacv2-channel"), wanted, since)
    with pytest.raises(CannotTell, match="SendFailed: HTTP 404"):
        await landed.find(channel(f"{REMOVED_TEAM}-channel"), wanted, since)
    fake_graph.fail_next(503, count=5)
    group = {"conversation": {"id": "19:g@thread.v2", "conversationType": "groupChat"}}
    with pytest.raises(CannotTell, match="503"):
        await landed.find(group, wanted, since)


async def test_a_graph_secret_that_expired_means_it_cannot_tell(
    fake_graph: FakeGraph, sqlite_url: str
) -> None:
    class ExpiredSecret:
        async def token(self, *, force_refresh: bool = False) -> str:
            raise GraphAuthError("invalid_client", "AADSTS7000222: the secret expired.", "")

    store = await open_store(sqlite_url, SystemClock())
    try:
        async with aiohttp.ClientSession() as session:
            graph = GraphClient(fake_graph.base_url, ExpiredSecret(), session)
            landed = LandedSends(graph, store, no_team, bot_app_id=APP, teams_app_id=TEAMS_APP)
            group = {"conversation": {"id": "19:g@thread.v2", "conversationType": "groupChat"}}
            with pytest.raises(CannotTell, match=r"GraphAuthError: .*secret expired"):
                await landed.find(group, {"text": "hello"}, datetime.now(UTC))
    finally:
        await store.close()
