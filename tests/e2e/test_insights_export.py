"""`insights export` over real HTTP on the known history of tests/harness/insights_history.py:
the consent card in a personal chat, Teams' fileConsent/invoke answered (accept, decline, by a
stranger, with an upload URL that is not https, with an upload that fails), the file PUT to a
local HTTPS OneDrive and its card sent, and the channel told to use the personal chat."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme

from handoff import access
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_uploads import FakeUploads
from harness.handoff_flow import RECEIVER, post, told, user_fields
from harness.ids import DEFAULT_USER, TeamsUser, fake_user
from harness.insights_history import make_history
from harness.old_cases import Cases
from harness.team import team_bot
from harness.tls import ca_bundle_file, server_ssl_context

STRANGER = fake_user("Olga Outsider")
NAME = "handoffs-all-20260303-20260402.csv"
HEADER = (
    "case,severity,24x7,route,requested at (UTC),accepted at (UTC),owner,minutes to accept,"
    "hops,bounces,state"
)
# Worked out by hand from the history's table: 30 days back from Thu 2 Apr 12:00 UTC reach
# 1000007 (20 Mar); CASE, requested at that very minute, is after the period's end.
ROWS = [
    "1000007,B,no,EMEA -> US,2026-03-20T09:00:00Z,2026-03-20T09:15:00Z,Bo Receiver,15,1,0,accepted",
    "1000002,A,yes,EMEA -> US,2026-03-29T00:30:00Z,2026-03-29T01:20:00Z,"
    "Bo Receiver,50,1,1,accepted",
    "1000003,B,no,US -> APAC,2026-03-29T23:30:00Z,2026-03-30T02:30:00Z,"
    "Bo Receiver,180,1,1,accepted",
    "1000004,B,yes,APAC -> EMEA,2026-03-31T00:00:00Z,2026-03-31T01:40:00Z,"
    "Bo Receiver,100,3,0,accepted",
    "1000005,A,yes,APAC -> EMEA,2026-04-01T10:00:00Z,,,,0,0,requested",
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))


@pytest.fixture
def onedrive(tls_ca: trustme.CA) -> Iterator[FakeUploads]:
    with FakeUploads(ssl_context=server_ssl_context(tls_ca)) as uploads:
        yield uploads


@pytest.fixture
async def bot(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    tls_ca: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
) -> RunningBot:
    # The bot trusts the test CA as a deployment trusts its proxy's: by REQUESTS_CA_BUNDLE;
    # and the fake OneDrive's host is the one upload host allowed.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_bundle_file(tls_ca)))
    monkeypatch.setenv("FILE_UPLOAD_HOSTS", "127.0.0.1")
    store = await open_store(sqlite_url, clock)
    try:
        await make_history(store, clock)
        await Cases(store, clock).settle()
    finally:
        await store.close()
    return await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)


async def offer(
    bot: RunningBot, connector: FakeConnector, text: str = "insights export 30d"
) -> tuple[dict[str, Any], str]:
    """The consent card the bot answers `text` with, and the id of its message."""
    message = activities.personal_message(text, connector.url, **user_fields(DEFAULT_USER))
    await post(bot, message)
    [reply] = await connector.wait_for_activities(
        conversation_id=message["conversation"]["id"],
        predicate=lambda a: a.get("replyToId") == message["id"],
    )
    [record] = [r for r in connector.activity_records() if r.body is reply]
    [attachment] = reply["attachments"]
    return attachment, str(record.response["id"])


def consent(
    connector: FakeConnector,
    card: dict[str, Any],
    card_id: str,
    action: str,
    upload_url: str = "",
    user: TeamsUser = DEFAULT_USER,
) -> dict[str, Any]:
    """Teams' fileConsent/invoke for the consent card, as `user` answers it."""
    activity = activities.card_action_invoke(
        "unused", {}, connector.url, card_id, **user_fields(user)
    )
    activity["name"] = "fileConsent/invoke"
    context = card["content"][f"{action}Context"]
    activity["value"] = {"type": "fileUpload", "action": action, "context": context}
    if action == "accept":
        activity["value"]["uploadInfo"] = {
            "contentUrl": upload_url.replace("/upload/", "/files/"),
            "fileType": "csv",
            "name": card["name"],
            "uploadUrl": upload_url,
            "uniqueId": "unique-1",
        }
    return activity


async def answered(
    bot: RunningBot, connector: FakeConnector, invoke: dict[str, Any]
) -> dict[str, Any]:
    status, _ = await post(bot, invoke)
    assert status == 200
    [reply] = await connector.wait_for_activities(
        conversation_id=invoke["conversation"]["id"],
        predicate=lambda a: a.get("replyToId") == invoke["id"],
    )
    return reply


async def test_the_file_is_offered_then_uploaded_when_accepted(
    bot: RunningBot, fake_connector: FakeConnector, onedrive: FakeUploads
) -> None:
    card, card_id = await offer(bot, fake_connector)
    assert card["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    assert card["name"] == NAME
    # The context names the period, never the rows.
    assert len(str(card["content"]["acceptContext"])) < 300

    reply = await answered(
        bot,
        fake_connector,
        consent(fake_connector, card, card_id, "accept", onedrive.upload_url(NAME)),
    )
    [body] = onedrive.uploads()
    assert len(body.encode("utf-8")) == card["content"]["sizeInBytes"]
    lines = body.split("\r\n")
    assert lines[0] == HEADER
    assert lines[-1] == ""
    assert len(lines) == 1 + 9 + 1  # the header, nine handoffs, the last line's end
    for row in ROWS:
        assert row in lines
    assert lines[1] == ROWS[0]  # oldest request first
    [put] = [r for r in onedrive.requests if r.method == "PUT"]
    size = len(body.encode("utf-8"))
    assert put.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    assert "Authorization" not in put.headers

    [file_card] = reply["attachments"]
    assert file_card["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert file_card["name"] == NAME
    assert file_card["contentUrl"] == onedrive.content_url(NAME)
    assert file_card["content"] == {"uniqueId": "unique-1", "fileType": "csv"}
    deleted = [r for r in fake_connector.requests if r.method == "DELETE"]
    assert [r.activity_id for r in deleted] == [card_id]


async def test_declined_says_so_and_uploads_nothing(
    bot: RunningBot, fake_connector: FakeConnector, onedrive: FakeUploads
) -> None:
    card, card_id = await offer(bot, fake_connector, "insights export")
    assert card["name"] == "handoffs-all-20260326-20260402.csv"
    reply = await answered(bot, fake_connector, consent(fake_connector, card, card_id, "decline"))
    assert "I will not send the file" in reply["text"]
    assert onedrive.requests == []


async def test_a_strangers_invoke_is_refused_and_logged(
    bot: RunningBot,
    fake_connector: FakeConnector,
    onedrive: FakeUploads,
    caplog: pytest.LogCaptureFixture,
) -> None:
    card, card_id = await offer(bot, fake_connector)
    forged = consent(
        fake_connector, card, card_id, "accept", onedrive.upload_url(NAME), user=STRANGER
    )
    with caplog.at_level(logging.WARNING):
        reply = await answered(bot, fake_connector, forged)
    assert reply["text"] == access.NOT_YOURS_TO_LIST
    assert onedrive.requests == []
    assert any(r.getMessage().startswith("file consent refused") for r in caplog.records)
    assert not [r for r in fake_connector.requests if r.method == "DELETE"]


async def test_a_member_cannot_accept_someone_elses_offer(
    bot: RunningBot, fake_connector: FakeConnector, onedrive: FakeUploads
) -> None:
    card, card_id = await offer(bot, fake_connector)
    forged = consent(
        fake_connector, card, card_id, "accept", onedrive.upload_url(NAME), user=RECEIVER
    )
    reply = await answered(bot, fake_connector, forged)
    assert reply["text"] == "This file was offered to someone else; I have not sent it."
    assert onedrive.requests == []


async def test_an_upload_url_that_is_not_https_is_refused(
    bot: RunningBot, fake_connector: FakeConnector, onedrive: FakeUploads
) -> None:
    card, card_id = await offer(bot, fake_connector)
    plain = onedrive.upload_url(NAME).replace("https://", "http://")
    reply = await answered(
        bot, fake_connector, consent(fake_connector, card, card_id, "accept", plain)
    )
    assert "Please try again" in reply["text"]
    assert onedrive.requests == []


@pytest.mark.parametrize(
    "elsewhere",
    [
        "https://localhost:{port}/upload/x",
        "https://10.0.0.7/upload/x",
        "https://127.0.0.1.evil.example/x",
    ],
)
async def test_an_upload_url_off_the_allowed_hosts_gets_nothing(
    bot: RunningBot, fake_connector: FakeConnector, onedrive: FakeUploads, elsewhere: str
) -> None:
    """The URL comes from the client: rows go only to OneDrive's hosts (FILE_UPLOAD_HOSTS),
    never to an address inside the bot's network."""
    card, card_id = await offer(bot, fake_connector)
    url = elsewhere.format(port=onedrive.port)
    reply = await answered(
        bot, fake_connector, consent(fake_connector, card, card_id, "accept", url)
    )
    assert "Please try again" in reply["text"]
    assert onedrive.requests == []


async def test_a_failed_upload_says_to_try_again_and_the_offer_stays(
    bot: RunningBot, fake_connector: FakeConnector, onedrive: FakeUploads
) -> None:
    card, card_id = await offer(bot, fake_connector)
    onedrive.fail_next(500)
    invoke = consent(fake_connector, card, card_id, "accept", onedrive.upload_url(NAME))
    reply = await answered(bot, fake_connector, invoke)
    assert "could not upload the file" in reply["text"] and "try again" in reply["text"]
    assert [r.status for r in onedrive.requests] == [500]
    assert not [r for r in fake_connector.requests if r.method == "DELETE"]


async def test_in_the_channel_the_bot_offers_the_personal_chat(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    mention = activities.channel_message(
        "insights export 30d", fake_connector.url, **user_fields(DEFAULT_USER)
    )
    answer = await told(bot, fake_connector, mention)
    assert answer.startswith("I can send files only in our personal chat")
    assert "**insights export 30d**" in answer


async def test_an_answer_to_a_file_offer_from_a_channel_uploads_nothing(
    bot: RunningBot, fake_connector: FakeConnector, onedrive: FakeUploads
) -> None:
    card, card_id = await offer(bot, fake_connector)
    invoke = consent(fake_connector, card, card_id, "accept", onedrive.upload_url(NAME))
    channel = activities.channel_message("x", fake_connector.url)
    invoke["conversation"], invoke["channelData"] = channel["conversation"], channel["channelData"]
    reply = await answered(bot, fake_connector, invoke)
    assert "only in our personal chat" in reply["text"]
    assert onedrive.requests == []
