"""TeamsSender and OutboxSender (teams/sending.py) against the fake Bot Connector: what a use
case says becomes the activity Teams shows, failures are classified for the outbox, the outbox's
sends are paced and journaled on their item so a retried item does not send again what it
sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from application.request import Card
from config.settings import Settings
from handoff import effects
from handoff.models import Person
from handoff.ports import OutboxItem
from outbox.failures import Paced, SendFailed
from outbox.worker import SendJournal
from teams.connector_auth import build_connector_http, create_adapter
from teams.pacing import ConversationPacer
from teams.sending import CLIENT_ACTIVITY_ID, OutboxSender, TeamsSender

from conftest import FakeClock
from harness.fake_connector import FakeConnector, RecordedRequest
from harness.ids import DEFAULT_BOT_ID
from harness.outbox_steps import CARD, StepWorld, step_world

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
CHAT = "a:chat-with-29:ana"
CARD_CONTENT = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Case 2311230040001234 · Sev A", "size": "Large"}],
}


@pytest.fixture
async def world(tmp_path: Path, fake_connector: FakeConnector) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, FakeClock(NOW), fake_connector) as opened:
        yield opened


class Monotonic:
    """time.monotonic as the pacer reads it, standing still."""

    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


async def test_text_goes_as_a_message_and_its_id_comes_back(world: StepWorld) -> None:
    sent = await world.sender.send(world.reference(CHAT), "Your handoff is saved.")
    [record] = world.connector.activity_records(CHAT)
    assert record.body["type"] == "message" and record.body["text"] == "Your handoff is saved."
    assert sent == record.response["id"]


async def test_a_card_goes_as_an_adaptive_card_with_a_summary_for_the_notification(
    world: StepWorld,
) -> None:
    await world.sender.send(world.reference(CHAT), Card(CARD_CONTENT))
    [activity] = world.connector.activities(CHAT)
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == CARD
    assert attachment["content"]["body"][0]["text"] == "Case 2311230040001234 · Sev A"
    assert activity["summary"] == "Case 2311230040001234 · Sev A"


async def test_an_update_replaces_the_message_in_place(world: StepWorld) -> None:
    where = world.reference(CHAT)
    posted = await world.sender.send(where, Card(CARD_CONTENT))
    await world.sender.update(where, posted, "Withdrawn.")
    _post, put = world.connector.requests
    assert put.method == "PUT" and put.path == f"/v3/conversations/{CHAT}/activities/{posted}"
    assert put.body["text"] == "Withdrawn." and put.body["id"] == posted


async def test_the_outboxs_send_and_update_are_the_requests_a_proactive_turn_makes(
    world: StepWorld,
) -> None:
    """The outbox posts straight to the connector client, not through a turn of the SDK's:
    Teams gets the same requests either way (the reply goes to the turn's own fresh id)."""
    where = {**world.reference(CHAT), "user": {"id": ANA.id}, "locale": "de-DE"}
    through_a_turn = TeamsSender(world.sender.adapter, Settings().app_id)
    posted = {}
    for sender in (through_a_turn, world.sender):
        posted[sender] = await sender.send(where, Card(CARD_CONTENT))
        await sender.update(where, posted[sender], "Withdrawn.")
    turn_post, turn_put, post, put = world.connector.requests

    def shape(request: RecordedRequest, reply_to: str | None, posted: str) -> object:
        body = {**request.body, "replyToId": reply_to and "<the turn's id>", "id": "<id>"}
        path = request.path.replace(reply_to or "-", "<the turn's id>").replace(posted, "<id>")
        return request.method, path, request.headers.get("Content-Type"), body

    for turns, straight in ((turn_post, post), (turn_put, put)):
        assert shape(straight, straight.body.get("replyToId"), posted[world.sender]) == shape(
            turns, turns.body.get("replyToId"), posted[through_a_turn]
        )
    assert post.path.startswith(f"/v3/conversations/{CHAT}/activities/")
    assert post.body["replyToId"] and post.body["replyToId"] != turn_post.body["replyToId"]
    assert put.path == f"/v3/conversations/{CHAT}/activities/{posted[world.sender]}"
    assert post.body["from"]["id"] == DEFAULT_BOT_ID and post.body["recipient"]["id"] == ANA.id


async def test_a_throttled_send_is_retryable_after_what_teams_said(world: StepWorld) -> None:
    world.connector.fail_next(429, retry_after=30, method="POST")
    with pytest.raises(SendFailed) as failure:
        await world.sender.send(world.reference(CHAT), "hi")
    assert failure.value.retryable and failure.value.retry_after == 30.0
    assert failure.value.status == 429


async def test_a_refusal_is_not_retryable(world: StepWorld) -> None:
    world.connector.fail_next(403, method="POST", message="The bot is not part of the conversation")
    with pytest.raises(SendFailed) as failure:
        await world.sender.send(world.reference(CHAT), "hi")
    assert not failure.value.retryable and failure.value.status == 403
    assert "not part of the conversation" in str(failure.value)


async def test_a_connector_out_of_reach_is_retryable(tmp_path: Path) -> None:
    settings = Settings()
    http = build_connector_http(settings)
    assert http is not None
    await http.start()
    try:
        sender = TeamsSender(create_adapter(settings, http), settings.app_id)
        nowhere = {
            "serviceUrl": "http://127.0.0.1:9/",
            "channelId": "msteams",
            "conversation": {"id": CHAT},
            "bot": {"id": "28:bot"},
        }
        with pytest.raises(SendFailed) as failure:
            await sender.send(nowhere, "hi")
    finally:
        await http.close()
    assert failure.value.retryable


async def test_a_retried_item_does_not_send_again_what_it_sent(world: StepWorld) -> None:
    item = await world.enqueued(effects.tell(ANA, "two sends", "two-sends", NOW))
    where = world.reference(CHAT)
    attempts: list[int] = []

    async def handler(_item: OutboxItem, journal: SendJournal | None) -> None:
        attempts.append(1)
        await world.sender.send(where, "first", journal)
        if len(attempts) == 1:
            world.connector.fail_next(429, retry_after=1, method="POST")
        await world.sender.send(where, "second", journal)

    with pytest.raises(SendFailed):
        await world.run(handler, item)
    journaled = await world.item(item.dedupe_key)
    assert journaled.sent_steps == (world.connector.activity_records(CHAT)[0].response["id"],)
    assert journaled.sending is None, "the refused send was answered: nothing is in doubt"

    await world.run(handler, journaled)

    assert world.texts(CHAT) == ["first", "second"]
    stamps = [a["channelData"][CLIENT_ACTIVITY_ID] for a in world.connector.activities(CHAT)]
    assert stamps == [f"{item.dedupe_key}#0", f"{item.dedupe_key}#1"]
    assert len((await world.item(item.dedupe_key)).sent_steps) == 2


async def test_a_send_whose_answer_was_lost_stays_in_doubt_on_its_item(world: StepWorld) -> None:
    item = await world.enqueued(effects.tell(ANA, "one send", "lost", NOW))
    world.connector.lose_answers(1, method="POST")

    async def handler(_item: OutboxItem, journal: SendJournal | None) -> None:
        await world.sender.send(world.reference(CHAT), "maybe", journal)

    with pytest.raises(SendFailed) as failure:
        await world.run(handler, item)

    assert failure.value.retryable
    journaled = await world.item(item.dedupe_key)
    assert journaled.sent_steps == ()
    assert (journaled.sending or "").startswith(f"{item.dedupe_key}#0@")


async def test_a_conversation_at_its_limit_puts_the_send_back_without_sending(
    world: StepWorld,
) -> None:
    clock = Monotonic()
    pacer = ConversationPacer(limits=((1, 60.0),), clock=clock)
    sender = OutboxSender(world.sender.adapter, "", pacer)
    await sender.send(world.reference(CHAT), "one")

    with pytest.raises(Paced) as paced:
        await sender.send(world.reference(CHAT), "two")

    assert paced.value.retry_after == pytest.approx(60.05)
    assert world.texts(CHAT) == ["one"]
    await sender.send(world.reference("a:another-chat"), "elsewhere")
    clock.at += 61
    await sender.send(world.reference(CHAT), "two")
    assert world.texts(CHAT) == ["one", "two"]


async def test_an_items_send_never_sleeps_through_its_conversations_second(
    world: StepWorld,
) -> None:
    """The worker sends one item at a time: the item is put back for the moment (the worker
    sets it aside) so other conversations' messages go meanwhile."""
    pacer = ConversationPacer(limits=((1, 1.0),), clock=Monotonic())
    sender = OutboxSender(world.sender.adapter, "", pacer)
    item = await world.enqueued(effects.tell(ANA, "two sends", "paced-second", NOW))

    async def handler(_item: OutboxItem, journal: SendJournal | None) -> None:
        await sender.send(world.reference(CHAT), "first", journal)
        await sender.send(world.reference(CHAT), "second", journal)

    with pytest.raises(Paced) as paced:
        await world.run(handler, item)

    assert paced.value.retry_after == pytest.approx(1.05)
    assert world.texts(CHAT) == ["first"]
    assert len((await world.item(item.dedupe_key)).sent_steps) == 1, "not sent again later"


async def test_a_dead_letters_follow_up_waits_out_its_conversations_second(
    world: StepWorld,
) -> None:
    """A follow-up is no item that could be put back: it waits for the place."""
    sender = OutboxSender(world.sender.adapter, "", ConversationPacer(limits=((1, 0.2),)))

    await sender.send(world.reference(CHAT), "one")
    await sender.send(world.reference(CHAT), "two")

    assert world.texts(CHAT) == ["one", "two"]
