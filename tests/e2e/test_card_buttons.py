"""A handoff's cards offer only the buttons their reader may press. The Case Transfer card is
seen by the whole team, so it offers what anyone in the team may do (Accept, Need more info,
Escalate to SME, and Long-running where the case can be long-running); the requester finds
Cancel and Back to queue on their own copy in their personal chat (the card they get when the
request is stored, and `status`), a lead finds Back to queue on `status` in theirs. The server
agrees: a button no card of the handoff offers is refused as forged, one the reader's copy
offers works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from application import messages
from handoff.models import HandoffState
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
    invoke_for,
    post,
    posted_card,
    refusals,
    request_handoff,
    set_up_channel,
    status_card,
    user_fields,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_TEAM_ID, DEFAULT_USER
from harness.ids import personal_conversation_id as chat_of
from harness.team import LEAD, config_with_lead

CRITICAL_FORM = {**CASE_FORM, "severity": "A", "is_24x7": "true"}
CRITICAL_NOTES = {**NOTES_FORM, "customer_reachable": "yes", "critsit_reason": "Production outage"}
SEV_C_FORM = {**CASE_FORM, "severity": "C"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


def titles(card: dict[str, Any]) -> list[str]:
    assert_valid_card(card)
    return [action["title"] for action in card.get("actions", [])]


async def requested(
    bot: RunningBot, connector: FakeConnector, *, lead: bool = False, **forms: Any
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Requests CASE with these forms (the channel bound by the lead, when there is one): its
    channel card and message id, and the card the requester got in their personal chat when
    the request was stored."""
    if lead:
        await post(bot, activities.bot_added_to_team(connector.url))
        setup = activities.channel_message("setup", connector.url, **user_fields(LEAD))
        await post(bot, setup)
    else:
        await set_up_channel(bot, connector)
    await request_handoff(bot, connector, **forms)
    card, message_id = await posted_card(connector)
    chat = chat_of(DEFAULT_USER.id, DEFAULT_BOT_ID)
    [copy] = [c for c in connector.adaptive_cards(chat) if f"Case {CASE} ·" in all_text(c)]
    return card, message_id, copy


async def state_of(url: str, clock: FakeClock) -> HandoffState:
    store = await open_store(url, clock)
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        return handoff.state
    finally:
        await store.close()


async def test_the_channel_card_offers_what_anyone_may_press_and_the_requester_gets_the_rest(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot = await start_bot(clock=clock)
    card, message_id, copy = await requested(bot, fake_connector)
    # A Sev B case the customer does not work 24x7 cannot be long-running.
    assert titles(card) == ["Accept", "Need more info", "Escalate to SME"]
    assert titles(copy) == ["Back to queue", "Escalate to SME", "Cancel"]

    # The requester's copy works from their personal chat: the handoff is cancelled, the
    # copy refreshed in place, and the channel card updated for everyone.
    cancel = invoke_for(fake_connector, copy, "copy-1", "cancel", DEFAULT_USER, scope="personal")
    _, body = await post(bot, cancel)
    refreshed = body["value"]
    assert "Cancelled" in all_text(refreshed)
    assert titles(refreshed) == []
    assert await state_of(sqlite_url, clock) is HandoffState.CANCELLED
    [put] = await fake_connector.wait_for(
        lambda r: r.method == "PUT" and r.activity_id == message_id, description="card updated"
    )
    assert "Cancelled" in all_text(put.body["attachments"][0]["content"])


async def test_a_case_that_can_be_long_running_offers_it_on_every_card(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    card, _, copy = await requested(
        bot, fake_connector, case_form=CRITICAL_FORM, notes=CRITICAL_NOTES
    )
    assert titles(card) == ["Accept", "Need more info", "Escalate to SME", "Long-running"]
    assert titles(copy) == ["Back to queue", "Escalate to SME", "Cancel", "Long-running"]


async def test_status_in_a_personal_chat_offers_the_readers_own_buttons(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    fake_connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER, RECEIVER])
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_lead(tmp_path))
    await requested(bot, fake_connector, lead=True)

    mine, _ = await status_card(bot, fake_connector, DEFAULT_USER)
    assert titles(mine) == ["Back to queue", "Escalate to SME", "Cancel"]
    theirs, _ = await status_card(bot, fake_connector, RECEIVER)
    assert titles(theirs) == ["Accept", "Need more info", "Escalate to SME"]
    leads, lead_message = await status_card(bot, fake_connector, LEAD)
    assert titles(leads) == ["Accept", "Need more info", "Back to queue", "Escalate to SME"]

    # In a channel everyone sees the answer: the team's buttons only.
    asked = activities.channel_message(f"status {CASE}", fake_connector.url)
    await post(bot, asked)
    [reply] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == asked["id"] and bool(a.get("attachments"))
    )
    assert titles(reply["attachments"][0]["content"]) == [
        "Accept",
        "Need more info",
        "Escalate to SME",
    ]

    # The lead's Back to queue works from their status card.
    back = invoke_for(
        fake_connector,
        leads,
        lead_message,
        "back_to_queue",
        LEAD,
        scope="personal",
        reason="Nobody in US can take it this week",
    )
    _, body = await post(bot, back)
    assert "Back to queue" in all_text(body["value"])
    assert await state_of(sqlite_url, clock) is HandoffState.BACK_TO_QUEUE


async def test_a_button_no_card_of_the_handoff_offers_is_refused_as_forged(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_bot(clock=clock)
    card, message_id, _ = await requested(bot, fake_connector, case_form=SEV_C_FORM)
    assert "Long-running" not in titles(card)
    [accept] = [a for a in card["actions"] if a.get("verb") == "accept"]
    forged = activities.card_action_invoke(
        "long_running",
        {**accept["data"], "why": "customer in two zones"},
        fake_connector.url,
        message_id,
        scope="channel",
        **user_fields(RECEIVER),
    )
    _, body = await post(bot, forged)
    assert body["value"] == messages.button_not_on_card()
    assert refusals(caplog, "card action with forged data refused") == ["verb"]

    # The command that does the same says why, and changes nothing.
    said = activities.personal_message(
        f"longrunning {CASE} customer in two zones", fake_connector.url, **user_fields(RECEIVER)
    )
    await post(bot, said)
    [reply] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == said["id"]
    )
    assert "only Sev A or B cases the customer works 24x7" in reply["text"]
    store = await open_store(sqlite_url, clock)
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None and handoff.long_running is None
    finally:
        await store.close()
