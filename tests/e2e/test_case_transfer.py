"""The Case Transfer channel over real HTTP: the card posted, buttons pressed, people told."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from application import messages
from handoff import effects
from handoff.models import HandoffState
from handoff.ports import SystemClock
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    CASE_FORM,
    NOTES_FORM,
    RECEIVER,
    TUESDAY,
    accept_invoke,
    command_by,
    handoff_card,
    invoke_for,
    post,
    posted_card,
    request_handoff,
    set_up_channel,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_USER, fake_user, personal_conversation_id
from harness.team import settled

DEFAULT_CHAT = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def test_a_requested_handoff_is_posted_accepted_updated_and_the_requester_told(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock, DATABASE_URL=database_url)
    card, message_id = await handoff_card(bot, fake_connector)
    assert_valid_card(card)
    shown = all_text(card)
    assert f"Case {CASE} · Sev B" in shown
    assert "Requested by <at>Test User</at>" in shown
    assert card["msteams"]["entities"][0]["mentioned"]["id"] == DEFAULT_USER.id
    # What anyone in the team may press; Cancel and Back to queue are on the requester's own
    # copy (tests/e2e/test_card_buttons.py), and a Sev B case not worked 24x7 cannot be
    # long-running.
    assert [a["title"] for a in card["actions"]] == ["Accept", "Need more info", "Escalate to SME"]

    status, body = await post(bot, accept_invoke(fake_connector, card, message_id, RECEIVER))
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    refreshed = body["value"]
    assert_valid_card(refreshed)
    assert "Accepted by Bo Receiver" in all_text(refreshed)
    assert "actions" not in refreshed, "nothing is left to press on an accepted handoff"

    [put] = await fake_connector.wait_for(
        lambda r: r.method == "PUT" and r.activity_id == message_id,
        description="the channel card updated in place",
    )
    assert "Accepted by Bo Receiver" in all_text(put.body["attachments"][0]["content"])
    told = await fake_connector.wait_for_activities(
        predicate=lambda a: "accepted your handoff" in (a.get("text") or "")
    )
    assert told[0]["text"] == f"Bo Receiver accepted your handoff of case {CASE} and owns it now."

    store = await open_store(database_url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None and handoff.state is HandoffState.ACCEPTED
        assert handoff.owner is not None and handoff.owner.id == RECEIVER.id
    finally:
        await store.close()


async def test_twenty_people_accept_at_once_and_exactly_one_owns_it(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock, DATABASE_URL=database_url)
    card, message_id = await handoff_card(bot, fake_connector)

    people = [fake_user(f"Clicker {n:02d}") for n in range(20)]
    answers = await asyncio.gather(
        *(post(bot, accept_invoke(fake_connector, card, message_id, p)) for p in people)
    )
    assert all(status == 200 for status, _ in answers)
    texts = [all_text(body["value"]) for _, body in answers]
    winners = [p for p, t in zip(people, texts, strict=True) if "Someone acted" not in t]
    assert len(winners) == 1
    winner = winners[0].name
    losers = [t for t in texts if "Someone acted on this handoff first" in t]
    assert len(losers) == 19
    assert all(f"accepted by {winner}" in t for t in losers)

    store = await open_store(database_url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None and handoff.owner is not None
        assert handoff.owner.name == winner
        kinds = [e.kind for e in await store.history(handoff.id)]
        assert kinds.count("accept") == 1
    finally:
        await store.close()


async def test_without_a_case_transfer_channel_the_requester_is_told_and_nothing_is_lost(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock, DATABASE_URL=database_url)
    await request_handoff(bot, fake_connector)
    [told] = await fake_connector.wait_for_activities(
        predicate=lambda a: "could not post its card" in (a.get("text") or "")
    )
    assert "no Case Transfer channel is set up" in told["text"]
    # Binding the channel later posts the card that was waiting.
    await set_up_channel(bot, fake_connector)
    card, _ = await posted_card(fake_connector)
    assert f"Case {CASE}" in all_text(card)


async def test_status_as_a_channel_mention_answers_with_the_card_and_history(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector)
    await posted_card(fake_connector)
    await post(bot, activities.channel_message(f"status {CASE}", fake_connector.url))
    [answer] = await fake_connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments")) and "History" in all_text(a["attachments"][0]["content"])
        )
    )
    card = answer["attachments"][0]["content"]
    assert_valid_card(card)
    assert "Test User · requested" in all_text(card)
    await post(bot, activities.channel_message("status 999999", fake_connector.url))
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            a.get("text") == "I know no handoff of case 999999. Type **list** to see the open ones."
        )
    )


async def test_more_info_asks_the_requester_and_the_answer_joins_the_notes(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot = await start_bot(clock=clock)
    card, message_id = await handoff_card(bot, fake_connector)

    status, body = await post(
        bot, invoke_for(fake_connector, card, message_id, "more_info", RECEIVER)
    )
    assert status == 200
    assert "Type your question" in body["value"], "an empty question is refused"
    question = "Which cluster region is affected?"
    status, body = await post(
        bot, invoke_for(fake_connector, card, message_id, "more_info", RECEIVER, question=question)
    )
    assert status == 200
    assert "More info needed" in all_text(body["value"])
    [ask] = await fake_connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments"))
            and "a question before it is taken" in all_text(a["attachments"][0]["content"])
        )
    )
    answer_card = ask["attachments"][0]["content"]
    assert_valid_card(answer_card)
    [send] = answer_card["actions"]
    await post(
        bot,
        activities.submit_message(
            {**send["data"], "answer": "West Europe, cluster prod-7"}, fake_connector.url
        ),
    )
    await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("text") == f"Done: case {CASE} is requested now."
    )
    store = await open_store(sqlite_url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
    finally:
        await store.close()
    assert handoff is not None and handoff.state is HandoffState.REQUESTED
    assert handoff.notes.questions_answered == (
        "Q: Which cluster region is affected? A: West Europe, cluster prod-7",
    )


QUESTION = "Which cluster region is affected?"


async def question_asked(bot: RunningBot, connector: FakeConnector) -> None:
    """CASE handed off by DEFAULT_USER, and RECEIVER's QUESTION waiting for their answer."""
    card, message_id = await handoff_card(bot, connector)
    await post(
        bot, invoke_for(connector, card, message_id, "more_info", RECEIVER, question=QUESTION)
    )
    await connector.wait_for_activities(
        predicate=lambda a: "just type your answer here" in (a.get("text") or "")
    )


async def answered(url: str) -> tuple[str, ...]:
    """The questions answered in the notes of CASE, once it waits for an owner again."""
    store = await open_store(url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
    finally:
        await store.close()
    assert handoff is not None and handoff.state is HandoffState.REQUESTED
    return handoff.notes.questions_answered


async def test_an_answer_typed_in_chat_answers_the_question_waiting_for_it(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    """The question's message says "just type your answer here": typed words are the answer
    when one question waits for the requester, and a command's reply when none does."""
    bot = await start_bot(clock=clock)
    await question_asked(bot, fake_connector)
    typed = "I don't know the cluster id yet; the customer sends it tomorrow."
    said = await command_by(bot, fake_connector, typed, DEFAULT_USER)
    assert said == messages.answer_recorded(CASE, QUESTION)
    assert await answered(sqlite_url) == (f"Q: {QUESTION} A: {typed}",)
    # No question waits any more: the same words are an unknown command again.
    assert await command_by(bot, fake_connector, typed, DEFAULT_USER) == (
        messages.unknown_command("i")
    )


@pytest.mark.parametrize(
    "typed",
    [
        "Status of the cluster: healthy since 10:00, the jobs still queue.",
        "Help from PG is on the way; they need the region, which is West Europe.",
        "handoff notes are updated in the case tool with the cluster id.",
    ],
)
async def test_a_typed_answer_that_starts_like_a_command_is_still_the_answer(
    typed: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
) -> None:
    bot = await start_bot(clock=clock)
    await question_asked(bot, fake_connector)
    # Mid-dialog too: another handoff in progress, at a step that answers with its card.
    await post(bot, activities.personal_message("handoff 2311230040007777", fake_connector.url))
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments")) and "2311230040007777" in str(a["attachments"][0]["content"])
        )
    )
    answer = activities.personal_message(typed, fake_connector.url)
    await post(bot, answer)
    recorded, kept = await fake_connector.wait_for_activities(
        2, predicate=lambda a: a.get("replyToId") == answer["id"]
    )
    assert recorded["text"] == messages.answer_recorded(CASE, QUESTION)
    assert kept["text"] == messages.in_a_handoff(), "the other handoff's answers are kept"
    assert await answered(sqlite_url) == (f"Q: {QUESTION} A: {typed}",)


async def test_a_click_on_an_old_card_gets_the_current_card_and_a_notice(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    card, message_id = await handoff_card(bot, fake_connector)
    await post(bot, invoke_for(fake_connector, card, message_id, "escalate", RECEIVER))
    # The same old card (version 1) clicked again by someone else.
    status, body = await post(
        bot, invoke_for(fake_connector, card, message_id, "accept", fake_user("Late"))
    )
    assert status == 200
    shown = all_text(body["value"])
    assert "Someone acted on this handoff first: it is escalated now" in shown
    assert "Escalated" in shown


async def test_only_the_requester_cancels_and_queue_needs_a_reason(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot = await start_bot(clock=clock)
    _, message_id = await handoff_card(bot, fake_connector)
    # The bot knows the message as the handoff's card (a refusal shows the card there).
    await settled(sqlite_url, clock)
    # The requester's own copy, sent to their personal chat when the request was stored.
    copy = fake_connector.adaptive_cards(DEFAULT_CHAT)[-1]
    # Its Cancel pressed by someone else (its data sent from the channel card).
    _, body = await post(bot, invoke_for(fake_connector, copy, message_id, "cancel", RECEIVER))
    assert "Only Test User, who requested this handoff, can do that." in all_text(body["value"])

    def back(**reason: str) -> dict[str, Any]:
        return invoke_for(
            fake_connector, copy, "copy", "back_to_queue", DEFAULT_USER, "personal", **reason
        )

    _, body = await post(bot, back())
    assert body["value"] == "Say why the case goes back to the queue, then press the button."
    _, body = await post(bot, back(reason="No US SE free"))
    assert "Back to queue" in all_text(body["value"])


@pytest.mark.parametrize(
    ("data", "answer"),
    [
        ({"handoff_id": "nope", "version": 1}, "That handoff no longer exists."),
        ({"version": 1}, "That card does not name a handoff. Use the buttons of the latest card."),
        (
            {"handoff_id": "x", "version": "1"},
            "That card is damaged. Use the buttons of the latest card.",
        ),
    ],
)
async def test_forged_card_data_is_refused_with_a_message(
    start_bot: StartBot, fake_connector: FakeConnector, data: dict[str, Any], answer: str
) -> None:
    bot = await start_bot()
    invoke = activities.card_action_invoke("accept", data, fake_connector.url, "1", scope="channel")
    status, body = await post(bot, invoke)
    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": answer,
    }


async def test_an_unknown_verb_is_refused(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    invoke = activities.card_action_invoke(
        "delete_everything", {"handoff_id": "x"}, fake_connector.url, "1"
    )
    _, body = await post(bot, invoke)
    assert body["value"] == "I don't know that button. Use the buttons of the latest card."


async def test_the_submit_fallback_works_like_the_button(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    card, message_id = await handoff_card(bot, fake_connector)
    [accept] = [a for a in card["actions"] if a.get("verb") == "accept"]
    fallback = accept["fallback"]["data"]
    submit = activities.submit_message(
        fallback,
        fake_connector.url,
        scope="channel",
        reply_to_id=message_id,
        user_id=RECEIVER.id,
        user_name=RECEIVER.name,
        aad_object_id=RECEIVER.aad_object_id,
    )
    await post(bot, submit)
    await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("text") == f"Done: case {CASE} is accepted now."
    )
    await fake_connector.wait_for(
        lambda r: r.method == "PUT" and r.activity_id == message_id, description="card updated"
    )


async def test_list_mine_and_agenda(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot = await start_bot(clock=clock)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector)
    # The handoff's own card is posted to the channel first: the next card there is the list.
    await settled(sqlite_url, clock)

    async def card_for(text: str, scope: str = "personal") -> str:
        message = (
            activities.personal_message(text, fake_connector.url)
            if scope == "personal"
            else activities.channel_message(text, fake_connector.url)
        )
        before = len(fake_connector.adaptive_cards())
        await post(bot, message)
        await fake_connector.wait_for_activities(
            predicate=lambda a: len(fake_connector.adaptive_cards()) > before
        )
        content = fake_connector.adaptive_cards()[-1]
        assert_valid_card(content)
        return all_text(content)

    listed = await card_for("list", "channel")
    assert listed.startswith("Open handoffs") and CASE in listed
    assert CASE in await card_for("list us", "channel")
    assert CASE not in await card_for("list APAC", "channel")
    assert CASE in await card_for("mine")
    agenda = await card_for("agenda EMEA")
    assert agenda.startswith("Agenda: EMEA → US handoff meeting")
    assert CASE in agenda
    await post(bot, activities.personal_message("list Mars", fake_connector.url))
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            a.get("text") == "“Mars” is not a region; use one of EMEA, US, APAC, IST."
        )
    )


SME = fake_user("Sam Sme")
CRITICAL_FORM = {**CASE_FORM, "severity": "A", "is_24x7": "true"}
CRITICAL_NOTES = {
    **NOTES_FORM,
    "customer_reachable": "yes",
    "critsit_reason": "Production outage",
    "next_contact_date": "2026-11-24",
}


@pytest.fixture
def config_with_sme(tmp_path: Any) -> str:
    import yaml

    from config.settings import DEFAULT_CONFIG_PATH

    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["smes"]["EMEA"] = [{"name": SME.name, "teams_id": SME.aad_object_id}]
    data["reminders"] = {"stay_interval_minutes": 60, "tell_smes_after_minutes": 120}
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


async def install_for_sme(bot: RunningBot, connector: FakeConnector) -> None:
    """The SME has a personal chat with the bot, so the bot can reach them."""
    added = activities.bot_added_personal(
        connector.url, user_id=SME.id, aad_object_id=SME.aad_object_id
    )
    await post(bot, added)


async def test_an_unaccepted_critical_handoff_reminds_its_owner_then_tells_the_sme(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, config_with_sme: str
) -> None:
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_sme)
    await install_for_sme(bot, fake_connector)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector, case_form=CRITICAL_FORM, notes=CRITICAL_NOTES)
    await posted_card(fake_connector)

    def reminders() -> list[dict[str, Any]]:
        return [
            a for a in fake_connector.activities() if "nobody has accepted" in (a.get("text") or "")
        ]

    assert reminders() == []
    clock.advance(timedelta(minutes=61))
    await fake_connector.wait_for_activities(
        predicate=lambda a: "nobody has accepted" in (a.get("text") or "")
    )
    assert "has waited 1 hour 1 minute" in reminders()[0]["text"]
    assert not [
        a for a in fake_connector.activities() if "without an owner" in (a.get("text") or "")
    ]

    clock.advance(timedelta(minutes=60))
    [told] = await fake_connector.wait_for_activities(
        predicate=lambda a: "without an owner" in (a.get("text") or "")
    )
    assert told["text"].startswith(
        f"The critical handoff of case {CASE} (EMEA → US) has waited 2 hours 1 minute"
    )


async def test_escalating_tells_the_requester_and_the_regional_sme(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, config_with_sme: str
) -> None:
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_sme)
    await install_for_sme(bot, fake_connector)
    card, message_id = await handoff_card(bot, fake_connector)
    await post(bot, invoke_for(fake_connector, card, message_id, "escalate", RECEIVER))
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            a.get("text") == f"Bo Receiver escalated case {CASE} to the regional handoff SME."
        )
    )
    [to_sme] = await fake_connector.wait_for_activities(
        predicate=lambda a: "escalated the handoff of case" in (a.get("text") or "")
    )
    assert to_sme["text"].endswith("to you. Its card is in the Case Transfer channel.")


async def test_an_escalation_no_sme_can_be_told_of_says_so_to_the_requester(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    """The shipped process file names SMEs without Teams ids: the bot can message none of
    them, and the requester hears that, and what to do, instead of a promise."""
    bot = await start_bot(clock=clock)
    card, message_id = await handoff_card(bot, fake_connector)
    await post(bot, invoke_for(fake_connector, card, message_id, "escalate", RECEIVER))
    [told] = await fake_connector.wait_for_activities(
        predicate=lambda a: "escalated case" in (a.get("text") or "")
    )
    assert told["text"] == (
        f"Bo Receiver escalated case {CASE} to the regional handoff SME. "
        + effects.no_sme_reachable()
    )


async def test_the_card_flags_a_case_long_running(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    # Only a Sev A or B case the customer works 24x7 can be long-running.
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector, case_form=CRITICAL_FORM, notes=CRITICAL_NOTES)
    card, message_id = await posted_card(fake_connector)
    _, body = await post(
        bot, invoke_for(fake_connector, card, message_id, "long_running", RECEIVER)
    )
    assert body["value"] == "Say why the case is long-running first."
    _, body = await post(
        bot,
        invoke_for(
            fake_connector, card, message_id, "long_running", RECEIVER, why="customer in two zones"
        ),
    )
    refreshed = body["value"]
    assert_valid_card(refreshed)
    assert "Long-running case: flagged: customer in two zones" in all_text(refreshed)
    assert "Long-running" not in [a["title"] for a in refreshed["actions"]]
