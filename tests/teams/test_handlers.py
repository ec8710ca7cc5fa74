"""HandoffBot's routing (teams/handlers.py), the whole bot built as app.py builds it over a real
SQLite file and driven through botbuilder's TestAdapter: typed commands, card forms, invokes, the
dialog's side answers, and where a handoff may be written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes

from app import build_bot
from application import messages
from cards.oof_card import OOF_FORM
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from storage.sql_store import SqlStore, open_store
from teams.activity_codec import read_activity

from conftest import FakeClock
from harness.activities import channel_message
from harness.chat import Chat, all_text, cards, template, texts

# Monday 2026-11-23 10:00 UTC: EMEA is on shift.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "2311230040001234"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", FakeClock(NOW))
    yield opened
    await opened.close()


@pytest.fixture
def adapter(store: SqlStore) -> TestAdapter:
    pipeline = build_bot(
        store,
        load_process_config(DEFAULT_CONFIG_PATH),
        FakeClock(NOW),
        delivery_abandoned_after=timedelta(seconds=15),
    )
    made = TestAdapter(pipeline.bot.on_turn, template())
    pipeline.attach(made)
    return made


@pytest.fixture
def chat(adapter: TestAdapter) -> Chat:
    return Chat(adapter)


def everything(replies: list[Activity]) -> str:
    return "\n".join([*texts(replies), *(all_text(card) for card in cards(replies))])


async def test_a_typed_command_reaches_its_use_case(chat: Chat) -> None:
    [reply] = await chat.say("shifts")
    shown = reply.text or ""
    assert all(region in shown for region in ("EMEA", "US", "APAC", "IST"))
    assert shown != messages.unknown_command("shifts")


async def test_help_answers_with_what_the_bot_can_do(chat: Chat) -> None:
    [reply] = await chat.say("help")
    assert (reply.text or "").startswith("**What I can do**")


async def test_an_unknown_word_is_said_to_be_unknown(chat: Chat) -> None:
    replies = await chat.say("frobnicate the cluster")
    assert texts(replies) == [messages.unknown_command("frobnicate")]


async def test_a_card_form_with_a_known_command_reaches_its_form(chat: Chat) -> None:
    value: dict[str, Any] = {"command": OOF_FORM, "kind": "", "first_day": "", "back_on": ""}
    replies = await chat._send(Activity(type="message", text="", value=value))
    shown = everything(replies)
    assert "What kind of absence?: choose one." in shown
    assert messages.stale_form() not in shown


async def test_a_card_form_with_an_unknown_command_is_a_stale_form(chat: Chat) -> None:
    value = {"command": "no-such-form", "answer": "42"}
    replies = await chat._send(Activity(type="message", text="", value=value))
    assert texts(replies) == [messages.stale_form()]


async def test_an_invoke_the_bot_does_not_answer_gets_501(adapter: TestAdapter) -> None:
    await adapter.receive_activity(
        Activity(type=ActivityTypes.invoke, name="task/fetch", value={"q": "x"})
    )
    [answer] = adapter.activity_buffer
    assert answer.type == ActivityTypes.invoke_response
    assert answer.value.status == 501
    assert "task/fetch" in answer.value.body["error"]


async def test_a_compose_box_invoke_is_answered_in_its_shape(adapter: TestAdapter) -> None:
    value = {"commandId": "searchCases", "parameters": [{"name": "query", "value": CASE}]}
    await adapter.receive_activity(
        Activity(type=ActivityTypes.invoke, name="composeExtension/query", value=value)
    )
    [answer] = adapter.activity_buffer
    assert answer.value.status == 200
    assert answer.value.body["composeExtension"]["type"] == "message"  # no team known yet


async def test_a_card_action_invoke_is_answered_on_the_card(adapter: TestAdapter) -> None:
    value = {"action": {"type": "Action.Execute", "verb": "accept", "data": {}}}
    await adapter.receive_activity(
        Activity(type=ActivityTypes.invoke, name="adaptiveCard/action", value=value)
    )
    [answer] = adapter.activity_buffer
    assert answer.value.status == 200
    assert answer.value.body["type"] == "application/vnd.microsoft.activity.message"
    assert answer.value.body["value"], "the clicker is told something on the card"


async def test_a_read_only_command_mid_handoff_is_answered_on_the_side_and_the_dialog_kept(
    chat: Chat,
) -> None:
    [ask] = texts(await chat.say("handoff"))
    assert "Which case" in ask

    side = await chat.say("shifts")

    said = texts(side)
    assert len(said) == 2 and "EMEA" in said[0] and said[1] == messages.in_a_handoff()
    assert cards(side) == []
    # The dialog still waits for the case number: typing it moves the handoff on.
    after = await chat.say(CASE)
    assert CASE in everything(after) and cards(after)
    assert messages.unknown_command(CASE) not in texts(after)


async def test_a_handoff_is_not_started_outside_a_personal_chat(chat: Chat) -> None:
    in_channel = read_activity(channel_message("handoff", "https://smba.example/emea/"))
    replies = await chat._send(in_channel)
    assert texts(replies) == [messages.handoff_in_personal_chat()]
    assert cards(replies) == []


async def test_an_empty_message_points_to_help(chat: Chat) -> None:
    replies = await chat.say("   ")
    assert texts(replies) == [messages.empty_message()]
