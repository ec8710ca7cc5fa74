""" "Hand off this case" on a message, over real HTTP: Teams' fetchTask answered with the dialog
card (the case number the message names, what of the notes it gives), the submitAction with a
pop-up saying where to carry on, and the handoff dialog then begun in the person's personal
chat by the outbox, its notes card filled in from the message. A stranger, a member without a
chat with the bot, a message naming no case, a case number mistyped in the dialog, and a
handoff already in progress are each answered in words."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from application.compose.hand_off import (
    finish_the_open_one_first,
    no_personal_chat,
    started_from_message,
)
from handoff import access
from storage.sql_store import open_store
from teams.endpoint import STORE

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.chat import all_text, teams_values
from harness.compose import hand_off
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE_FORM,
    RECEIVER,
    TRANSFER_FORM,
    TUESDAY,
    post,
    refusals,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_USER, TeamsUser, fake_user, personal_conversation_id
from harness.team import team_bot

STRANGER = fake_user("Olga Outsider")
TEMPLATE = "https://support.example.com/cases/{case}"
NEW_CASE = "2311230040009999"
CHAT = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)
NOTES = """Summary: Autoscale stops at 20 nodes since the upgrade; PG suspects the quota service.
Steps tried:
- Raised the core quota -> same failure
- Restarted the autoscaler -> no change
Next steps:
MSFT:
- US SE: ask PG for the quota service logs"""
MESSAGE = f"Case {NEW_CASE}, please take it over.\n{NOTES}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


@pytest.fixture
async def bot(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> RunningBot:
    return await team_bot(
        start_bot,
        fake_connector,
        clock,
        sqlite_url,
        tmp_path,
        config={"case_system": {"url_template": TEMPLATE}},
    )


async def answered(bot: RunningBot, invoke: dict[str, Any]) -> dict[str, Any]:
    """The task Teams shows for the action: the dialog, or a pop-up message."""
    status, body = await post(bot, invoke)
    assert status == 200, (status, body)
    task: dict[str, Any] = body["task"]
    return task


def dialog_card(task: dict[str, Any]) -> dict[str, Any]:
    assert task["type"] == "continue", task
    assert task["value"]["title"] == "Hand off this case"
    card = task["value"]["card"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    content: dict[str, Any] = card["content"]
    assert_valid_card(content)
    return content


async def chat_cards(connector: FakeConnector, count: int) -> list[dict[str, Any]]:
    """The first `count` messages of the person's personal chat since the test began."""
    return await connector.wait_for_activities(count, conversation_id=CHAT, timeout=15)


async def opening_done(bot: RunningBot) -> None:
    """The outbox's turn that opened the handoff has saved the dialog: its card reaches the
    chat moments before, and no person answers a card in those milliseconds."""
    store = bot.runner.app[STORE]
    for _ in range(500):
        row = await store.database.fetch_one(
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'open_handoff' AND state = 'pending'"
        )
        if row is not None and row["n"] == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the handoff was not opened in the personal chat within 5 s")


async def next_form(
    bot: RunningBot, connector: FakeConnector, form: str, values: dict[str, str]
) -> dict[str, Any]:
    """Answers the dialog's `form` in the personal chat; the card the dialog asks with next."""
    await opening_done(bot)
    before = len(connector.activities(CHAT))
    submit = activities.submit_message({"form": form, "action": "next", **values}, connector.url)
    status, _ = await post(bot, submit)
    assert status < 400
    sent = await connector.wait_for_activities(before + 1, conversation_id=CHAT, timeout=15)
    card: dict[str, Any] = sent[-1]["attachments"][0]["content"]
    return card


async def open_handoffs_enqueued(url: str, clock: FakeClock) -> int:
    store = await open_store(url, clock)
    try:
        row = await store.database.fetch_one(
            "SELECT COUNT(*) AS n FROM outbox WHERE kind = 'open_handoff'"
        )
        return int(row["n"]) if row else 0
    finally:
        await store.close()


async def test_the_dialog_shows_the_case_and_the_notes_the_message_gives(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    card = dialog_card(await answered(bot, hand_off(fake_connector.url, MESSAGE, scope="channel")))
    assert teams_values(card) == {"case": NEW_CASE}
    shown = all_text(card)
    assert f"Case **{NEW_CASE}**" in shown
    assert "From the message I fill in: Summary, Steps tried" in shown


async def test_opening_it_begins_the_handoff_in_the_personal_chat_with_the_notes_filled_in(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    before = len(fake_connector.activities(CHAT))
    task = await answered(
        bot,
        hand_off(fake_connector.url, MESSAGE, scope="channel", submitted={"case": NEW_CASE}),
    )
    assert task["type"] == "message"
    assert task["value"].startswith(f"I opened the handoff of case {NEW_CASE} in our personal chat")
    assert "carry on there" in task["value"]

    intro, case_form = (await chat_cards(fake_connector, before + 2))[before:]
    assert intro["text"] == started_from_message(NEW_CASE)
    assert f"case {NEW_CASE}" in all_text(case_form["attachments"][0]["content"]).lower()

    await next_form(bot, fake_connector, "case", CASE_FORM)
    notes_card = await next_form(bot, fake_connector, "transfer", TRANSFER_FORM)
    values = teams_values(notes_card)
    assert values["summary"].startswith("Autoscale stops at 20 nodes since the upgrade")
    assert values["steps_tried"] == (
        "Raised the core quota -> Outcome: same failure\n"
        "Restarted the autoscaler -> Outcome: no change"
    )
    assert values["next_steps_us"] == "US SE: ask PG for the quota service logs"


async def test_a_message_without_a_case_number_opens_the_form_asking_for_it(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    card = dialog_card(await answered(bot, hand_off(fake_connector.url, NOTES)))
    assert teams_values(card) == {"case": ""}
    assert "This message names no case number" in all_text(card)

    before = len(fake_connector.activities(CHAT))
    task = await answered(bot, hand_off(fake_connector.url, NOTES, submitted={"case": ""}))
    assert "names no case number, so the form there asks for it first" in task["value"]
    intro, question = (await chat_cards(fake_connector, before + 2))[before:]
    assert intro["text"] == started_from_message(None)
    assert question["text"] == "Which case do you want to hand off? Type its case number."

    # The notes come along whatever case is typed then.
    typed = activities.personal_message(NEW_CASE, fake_connector.url)
    await opening_done(bot)
    await post(bot, typed)
    await chat_cards(fake_connector, before + 3)
    await next_form(bot, fake_connector, "case", CASE_FORM)
    notes_card = await next_form(bot, fake_connector, "transfer", TRANSFER_FORM)
    assert teams_values(notes_card)["next_steps_us"] == "US SE: ask PG for the quota service logs"


async def test_a_message_of_plain_words_gives_its_text_as_the_summary(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    words = f"Could US take {NEW_CASE}? The customer works from Chicago now."
    card = dialog_card(await answered(bot, hand_off(fake_connector.url, words)))
    assert teams_values(card) == {"case": NEW_CASE}
    assert "I fill in its text as the summary" in all_text(card)
    before = len(fake_connector.activities(CHAT))
    await answered(bot, hand_off(fake_connector.url, words, submitted={"case": NEW_CASE}))
    await chat_cards(fake_connector, before + 2)
    await next_form(bot, fake_connector, "case", CASE_FORM)
    notes_card = await next_form(bot, fake_connector, "transfer", TRANSFER_FORM)
    assert teams_values(notes_card)["summary"] == words


async def test_a_link_to_the_case_page_names_the_case(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    text = f"Details in {TEMPLATE.format(case=NEW_CASE)}."
    card = dialog_card(await answered(bot, hand_off(fake_connector.url, text)))
    assert teams_values(card) == {"case": NEW_CASE}


async def test_a_mistyped_case_number_brings_the_dialog_back_saying_so(
    bot: RunningBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    task = await answered(bot, hand_off(fake_connector.url, NOTES, submitted={"case": "12ab"}))
    card = dialog_card(task)
    assert "“12ab” is not a case number" in all_text(card)
    assert await open_handoffs_enqueued(sqlite_url, clock) == 0


@pytest.mark.parametrize("submitted", [None, {"case": NEW_CASE}])
async def test_a_stranger_is_refused_and_nothing_is_opened(
    bot: RunningBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
    submitted: dict[str, str] | None,
) -> None:
    await post(bot, activities.bot_added_personal(fake_connector.url, **ids(STRANGER)))
    with caplog.at_level(logging.WARNING):
        task = await answered(
            bot, hand_off(fake_connector.url, MESSAGE, submitted=submitted, user=STRANGER)
        )
    assert task == {"type": "message", "value": access.NOT_IN_TEAM_TO_REQUEST}
    assert refusals(caplog, "handoff request refused") == ["not in the team"]
    assert await open_handoffs_enqueued(sqlite_url, clock) == 0


async def test_a_member_without_a_chat_with_the_bot_is_told_to_open_one(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    invoke = hand_off(fake_connector.url, MESSAGE, user=RECEIVER)
    assert await answered(bot, invoke) == {"type": "message", "value": no_personal_chat()}


async def test_a_handoff_in_progress_is_kept_and_the_person_told(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    before = len(fake_connector.activities(CHAT))
    await post(bot, activities.personal_message("handoff", fake_connector.url))
    await chat_cards(fake_connector, before + 1)
    await answered(bot, hand_off(fake_connector.url, MESSAGE, submitted={"case": NEW_CASE}))
    [told] = (await chat_cards(fake_connector, before + 2))[before + 1 :]
    assert told["text"] == finish_the_open_one_first(None)
    # The handoff in progress still waits for its case number.
    await post(bot, activities.personal_message(NEW_CASE, fake_connector.url))
    [case_form] = (await chat_cards(fake_connector, before + 3))[before + 2 :]
    assert f"case {NEW_CASE}" in all_text(case_form["attachments"][0]["content"]).lower()


async def test_an_unknown_command_is_answered_in_words(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    task = await answered(bot, hand_off(fake_connector.url, MESSAGE, command="createTicket"))
    assert task["type"] == "message" and "createTicket" in task["value"]


def ids(user: TeamsUser) -> dict[str, Any]:
    return {"user_id": user.id, "aad_object_id": user.aad_object_id}
