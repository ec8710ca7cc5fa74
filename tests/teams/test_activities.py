"""teams/activities.py: when a turn stores its conversation's address again (only when something
in it changed), and cards becoming messages in one place, which fits them to Teams' limit and gives
them the short text Teams shows in notifications instead of "Card"."""

from __future__ import annotations

import ast
import gc
import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from application.outbox_steps.reader_language import client_locale
from cards.elements import CARD_CONTENT_TYPE, card, heading, text
from cards.fit import MESSAGE_LIMIT_BYTES
from teams.activities import (
    StoredAddresses,
    address_key,
    address_of,
    card_activity,
    invoke_card,
    invoke_response,
)

from harness import activities
from harness.card_schema import assert_valid_card
from harness.chat import template

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def message(service_url: str = "https://smba.example/emea/", name: str = "Ana Lima") -> Activity:
    body = activities.personal_message("help", service_url, user_id="29:ana", user_name=name)
    return Activity().deserialize(body)


def test_the_same_conversation_is_not_stored_again_within_the_hour() -> None:
    stored = StoredAddresses()
    key = address_key(message())
    assert stored.is_news(key, NOW)
    stored.stored(key, NOW)
    assert not stored.is_news(address_key(message()), NOW + timedelta(minutes=59))
    assert stored.is_news(address_key(message()), NOW + timedelta(hours=1))


def test_a_new_service_url_or_name_is_stored_at_once() -> None:
    stored = StoredAddresses()
    stored.stored(address_key(message()), NOW)
    moved = message(service_url="https://smba.example/amer/")
    assert stored.is_news(address_key(moved), NOW)
    assert address_of(moved, NOW).service_url == "https://smba.example/amer/"
    assert stored.is_news(address_key(message(name="Ana Lima-Souza")), NOW)


def test_the_stored_address_keeps_the_locale_of_the_persons_teams_client() -> None:
    # What a reminder's language falls back to when the person chose none.
    body = activities.personal_message(
        "help", "https://smba.example/emea/", user_id="29:ana", user_name="Ana Lima", locale="fr-FR"
    )
    address = address_of(Activity().deserialize(body), NOW)
    assert client_locale(address) == "fr-FR"
    stored = StoredAddresses()
    stored.stored(address_key(message()), NOW)
    assert stored.is_news(address_key(Activity().deserialize(body)), NOW)


def test_remembering_a_conversation_keeps_none_of_its_activity() -> None:
    # Every conversation of the last hour is remembered: each must cost the process tens of
    # bytes, not the ~1.2 KB of strings its activity brought.
    bodies = [
        json.dumps(
            activities.personal_message("help", "https://smba.example/emea/", user_id=f"29:{n}")
        )
        for n in range(2000)
    ]
    stored = StoredAddresses()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for body in bodies:
            stored.stored(address_key(Activity().deserialize(json.loads(body))), NOW)
        gc.collect()  # msrest's deserializers are freed in cycles, not what is kept
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    last = Activity().deserialize(json.loads(bodies[-1]))
    assert not stored.is_news(address_key(last), NOW + timedelta(minutes=1))
    assert kept / len(bodies) < 100, f"{kept / len(bodies):.0f} bytes a conversation"


ROOT = Path(__file__).resolve().parents[2]
THE_PLACE = "teams/activities.py"


def _builds_a_card_message(tree: ast.AST) -> list[int]:
    """Lines that make an attachment or a card message by hand."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func
            name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", "")
            if name in {"Attachment", "attachment", "carousel", "list"} and (
                name == "Attachment" or "MessageFactory" in ast.unparse(called)
            ):
                lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "CARD_CONTENT_TYPE":
            lines.append(node.lineno)
    return lines


def test_only_one_module_turns_cards_into_messages() -> None:
    found = {}
    for package in ("app.py", "bot", "dialogs"):
        for path in (
            sorted((ROOT / package).rglob("*.py")) if package != "app.py" else [ROOT / package]
        ):
            relative = path.relative_to(ROOT).as_posix()
            lines = _builds_a_card_message(ast.parse(path.read_text(encoding="utf-8")))
            if lines and relative != THE_PLACE:
                found[relative] = lines
    assert found == {}, "send cards through teams.activities.card_activity"


def test_a_card_message_carries_its_summary() -> None:
    content = card([heading("Case 2311230040001234: a question before it is taken")])
    activity = card_activity(content)
    assert activity.summary == "Case 2311230040001234: a question before it is taken"
    [attachment] = activity.attachments
    assert attachment.content_type == CARD_CONTENT_TYPE
    assert attachment.content == content, "a card that fits goes as it is"


def test_a_card_too_large_for_teams_is_sent_shortened() -> None:
    # Quotes: each one is two characters of JSON.
    content = card([heading("Handoff of case 2311230040001234: the notes"), text('"' * 40_000)])
    activity = card_activity(content)
    [attachment] = activity.attachments
    assert_valid_card(attachment.content)
    size = json.dumps(activity.serialize(), ensure_ascii=False, separators=(",", ":"))
    assert len(size.encode("utf-16-le")) < MESSAGE_LIMIT_BYTES
    assert "too long for Teams" in json.dumps(attachment.content)
    assert activity.summary == "Handoff of case 2311230040001234: the notes"
    refreshed = invoke_card(content)["value"]
    assert "too long for Teams" in json.dumps(refreshed)


async def test_a_card_sent_twice_goes_out_whole_each_time_with_its_own_addresses() -> None:
    """The SDK copies each activity before it fills in the addresses; ours are copied shallow
    (teams.activities.SentOnce): what it fills in must still stay off the original."""
    sent: list[Activity] = []

    async def turn(context: TurnContext) -> None:
        await context.send_activity(message)
        await context.send_activity(message)

    message = card_activity(card([heading("Case 2311230040009876"), text("Waiting")]))
    adapter = TestAdapter(turn, template())
    await adapter.receive_activity(Activity(type="message", text="status", id="in-1"))
    sent.extend(adapter.activity_buffer)

    assert len(sent) == 2 and sent[0] is not sent[1] and sent[0] is not message
    assert message.conversation is None and message.recipient is None
    for reply in sent:
        assert reply.conversation is not None and reply.conversation.id == "a:29:ana"
        assert "Case 2311230040009876" in json.dumps(reply.attachments[0].content)


async def test_a_clicks_answer_goes_out_with_the_whole_refreshed_card() -> None:
    """The SDK copies an invoke's answer like any activity; ours is copied shallow
    (teams.activities.AnsweredOnce) and must still reach Teams whole."""

    async def turn(context: TurnContext) -> None:
        await context.send_activity(Activity(type="invokeResponse", value=answer))

    answer = invoke_response(invoke_card(card([heading("Case 2311230040009876"), text("Mine")])))
    adapter = TestAdapter(turn, template())
    await adapter.receive_activity(Activity(type="invoke", name="adaptiveCard/action", id="i-1"))

    [sent] = adapter.activity_buffer
    assert sent.type == "invokeResponse" and sent.value is not answer and sent.value.status == 200
    assert sent.value.body == answer.body
    assert "Case 2311230040009876" in json.dumps(sent.value.body["value"])


def test_conversations_stored_over_an_hour_ago_are_swept_out() -> None:
    stored = StoredAddresses()
    first = [("29:a", n) for n in range(3000)]
    for key in first:
        stored.stored(key, NOW)
    later = NOW + StoredAddresses.REFRESH_AFTER
    assert stored.is_news(first[0], later), "an hour old: stored again"
    second = [("29:b", n) for n in range(3000)]
    for key in second:
        stored.stored(key, later)
    assert len(stored) < 2 * 3000
    assert not stored.is_news(second[0], later)
    assert not stored.is_news(second[-1], later)
