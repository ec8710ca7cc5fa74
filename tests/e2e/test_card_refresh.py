"""User-specific views of the Case Transfer card over real HTTP: the card in the channel names,
in its `refresh`, the people whose Teams asks for their own copy (the requester, the engineer
the handoff names, the leads), and a refresh invoke (`adaptiveCard/action`, trigger
"automatic") gets each caller the copy of their role: the requester's Cancel, Back to queue
and answer, the named engineer's Accept, a lead's Back to queue and Escalate, and for anyone
else, strangers too, the team's card. A refresh reads, asks Teams nothing and changes nothing;
data that does not hold gets a message, never an HTTP 500."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application import messages
from cards.user_views import REFRESH_VERB
from handoff.models import HandoffState
from handoff.service import HandoffService
from handoff.state_machine import Cancel
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities, records
from harness.card_schema import assert_valid_card
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    RECEIVER,
    TUESDAY,
    invoke_for,
    person,
    post,
    posted_card,
    told,
    user_fields,
)
from harness.ids import DEFAULT_TEAM_ID, DEFAULT_USER, TeamsUser, fake_user
from harness.team import LEAD, config_with_lead, settled

MEMBER = fake_user("Mia Member")
OUTSIDER = fake_user("Olga Outsider")
ROLE_BUTTONS = {"Cancel", "Back to queue", "Answer the question"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def posted(
    start_bot: StartBot,
    connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    *,
    engineer: str = RECEIVER.aad_object_id,
) -> tuple[RunningBot, dict[str, Any], str]:
    """DEFAULT_USER hands CASE (Sev A 24x7, EMEA → US) to `engineer` (RECEIVER's directory
    id, as a long-running case names its successor); a lead binds the channel and the card is
    posted. The lead, the requester and RECEIVER have installed the bot; the team is the
    requester, RECEIVER and MEMBER. The card and its message id."""
    connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER, RECEIVER, MEMBER])
    store = await open_store(sqlite_url, clock)
    try:
        answers = replace(
            records.answers(CASE, "EMEA", "US"),
            target_engineer=engineer,
            target_engineer_name=RECEIVER.name,
        )
        await HandoffService(store, clock).request(
            answers, records.PLACEHOLDER_OUTPUTS, person(DEFAULT_USER)
        )
    finally:
        await store.close()
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_lead(tmp_path))
    for user in (LEAD, DEFAULT_USER, RECEIVER):
        installed = activities.bot_added_personal(
            connector.url, user_id=user.id, aad_object_id=user.aad_object_id
        )
        await post(bot, installed)
    await post(bot, activities.bot_added_to_team(connector.url))
    setup = activities.channel_message("setup", connector.url, **user_fields(LEAD))
    assert "now the Case Transfer channel" in await told(bot, connector, setup)
    await settled(sqlite_url, clock)
    card, message_id = await posted_card(connector)
    return bot, card, message_id


def refresh_invoke(
    connector: FakeConnector,
    card: dict[str, Any],
    message_id: str,
    user: TeamsUser,
    data: Any = None,
) -> dict[str, Any]:
    """What Teams sends when `user` sees the card: its refresh action (with `data`, if given),
    triggered automatically, from the card's message in the channel."""
    refresh = card["refresh"]["action"]
    activity = activities.card_action_invoke(
        refresh["verb"],
        {},
        connector.url,
        message_id,
        scope="channel",
        **user_fields(user),
    )
    activity["value"]["action"] = {
        "type": "Action.Execute",
        "id": "",
        "verb": refresh["verb"],
        "data": refresh["data"] if data is None else data,
    }
    activity["value"]["trigger"] = "automatic"
    return activity


async def refreshed(
    bot: RunningBot, connector: FakeConnector, activity: dict[str, Any]
) -> dict[str, Any]:
    """The invoke's answer: the copy of the card it got, which asked nothing of Teams."""
    before = len(connector.requests)
    status, body = await post(bot, activity)
    assert status == 200, body
    assert len(connector.requests) == before, "a refresh calls out to nobody"
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    card: dict[str, Any] = body["value"]
    assert_valid_card(card)
    return card


def placement(card: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The card's buttons: shown as buttons, and in the overflow menu."""
    actions = card.get("actions", [])
    shown = [a["title"] for a in actions if a.get("mode", "primary") == "primary"]
    menu = [a["title"] for a in actions if a.get("mode") == "secondary"]
    return shown, menu


async def stored(sqlite_url: str, clock: FakeClock) -> tuple[Any, ...]:
    """What a refresh must leave as it was: the handoff, its history, the outbox, the keys."""
    store = await open_store(sqlite_url, clock)
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        history = await store.history(handoff.id)
        outbox = await store.database.fetch_all("SELECT id, state FROM outbox ORDER BY id")
        keys = await store.database.fetch_all("SELECT key FROM handled_keys ORDER BY key")
        return handoff, history, [tuple(r.values()) for r in outbox], keys
    finally:
        await store.close()


async def state_of(sqlite_url: str, clock: FakeClock) -> HandoffState:
    handoff, *_ = await stored(sqlite_url, clock)
    return HandoffState(handoff.state)


async def test_the_channel_card_names_whose_teams_ask_for_their_own_copy(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    _, card, _ = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    assert_valid_card(card)
    # Teams' user ids as the bot saw them in activities: the requester, the named engineer
    # and the lead (configured by directory id, known by the chat they installed the bot in).
    assert card["refresh"]["userIds"] == [DEFAULT_USER.id, RECEIVER.id, LEAD.id]
    [accept] = [a for a in card["actions"] if a["title"] == "Accept"]
    assert card["refresh"]["action"]["verb"] == REFRESH_VERB
    assert card["refresh"]["action"]["data"] == accept["data"]
    # The team's card: its own buttons shown, the rest in the overflow menu.
    assert placement(card) == (["Accept", "Need more info"], ["Escalate to SME", "Long-running"])


@pytest.mark.parametrize(
    ("user", "shown", "menu"),
    [
        (DEFAULT_USER, ["Back to queue", "Cancel"], ["Escalate to SME", "Long-running"]),
        (RECEIVER, ["Accept"], ["Need more info", "Escalate to SME", "Long-running"]),
        (
            LEAD,
            ["Back to queue", "Escalate to SME"],
            ["Accept", "Need more info", "Long-running"],
        ),
        (MEMBER, ["Accept", "Need more info"], ["Escalate to SME", "Long-running"]),
        (OUTSIDER, ["Accept", "Need more info"], ["Escalate to SME", "Long-running"]),
    ],
    ids=["requester", "named engineer", "lead", "member", "stranger"],
)
async def test_a_refresh_gets_each_caller_the_copy_of_their_role(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    user: TeamsUser,
    shown: list[str],
    menu: list[str],
) -> None:
    bot, card, message_id = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    before = await stored(sqlite_url, clock)
    copy = await refreshed(
        bot, fake_connector, refresh_invoke(fake_connector, card, message_id, user)
    )
    assert placement(copy) == (shown, menu)
    assert f"Case {CASE}" in all_text(copy)
    assert await stored(sqlite_url, clock) == before, "a refresh changes nothing, keys included"


async def test_a_stranger_never_gets_a_role_button(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """Whatever the handoff's state: the stranger's copy is the team's card, and their click
    on it is still refused."""
    bot, card, message_id = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    question = invoke_for(
        fake_connector, card, message_id, "more_info", RECEIVER, question="Which logs?"
    )
    _, body = await post(bot, question)
    assert "More info needed" in all_text(body["value"])
    await settled(sqlite_url, clock)
    [put] = [r for r in fake_connector.requests if r.method == "PUT"]
    updated = put.body["attachments"][0]["content"]
    copy = await refreshed(
        bot, fake_connector, refresh_invoke(fake_connector, updated, message_id, OUTSIDER)
    )
    titles = {a["title"] for a in copy["actions"]}
    assert titles.isdisjoint(ROLE_BUTTONS)
    assert placement(copy) == (["Accept"], ["Escalate to SME", "Long-running"])
    _, body = await post(bot, invoke_for(fake_connector, copy, message_id, "accept", OUTSIDER))
    assert "Only members of the Case Transfer team" in all_text(body["value"])
    assert await state_of(sqlite_url, clock) is HandoffState.MORE_INFO_NEEDED


async def test_the_requester_answers_the_question_from_their_own_copy(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot, card, message_id = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    question = invoke_for(
        fake_connector, card, message_id, "more_info", MEMBER, question="Which region's logs?"
    )
    await post(bot, question)
    await settled(sqlite_url, clock)
    [put] = [r for r in fake_connector.requests if r.method == "PUT"]
    updated = put.body["attachments"][0]["content"]
    # The update of the message carries the refresh too: Teams refreshes the copies then.
    assert updated["refresh"]["userIds"] == [DEFAULT_USER.id, RECEIVER.id, LEAD.id]
    mine = await refreshed(
        bot, fake_connector, refresh_invoke(fake_connector, updated, message_id, DEFAULT_USER)
    )
    assert placement(mine) == (
        ["Answer the question", "Back to queue", "Cancel"],
        ["Escalate to SME", "Long-running"],
    )
    answer = invoke_for(
        fake_connector, mine, message_id, "provide_info", DEFAULT_USER, answer="EMEA's, attached"
    )
    _, body = await post(bot, answer)
    assert "Requested" in all_text(body["value"])
    handoff, *_ = await stored(sqlite_url, clock)
    assert handoff.state is HandoffState.REQUESTED
    assert "EMEA's, attached" in str(handoff.notes)


async def test_a_refresh_with_an_old_version_gets_the_current_card(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot, card, message_id = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    _, body = await post(bot, invoke_for(fake_connector, card, message_id, "accept", RECEIVER))
    assert "Accepted by Bo Receiver" in all_text(body["value"])
    await settled(sqlite_url, clock)  # the channel's card and the requester told, first
    # The lead's client still shows the first card: its refresh names version 1.
    copy = await refreshed(
        bot, fake_connector, refresh_invoke(fake_connector, card, message_id, LEAD)
    )
    assert "Accepted by Bo Receiver" in all_text(copy)
    assert (
        copy["refresh"]["action"]["data"]["version"]
        == card["refresh"]["action"]["data"]["version"] + 1
    )
    # Nothing left to press but flagging the accepted case long-running, which a lead may.
    assert placement(copy) == ([], ["Long-running"])


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"handoff_id": "nope", "version": 1}, "That handoff no longer exists."),
        ({"version": 1}, "That card does not name a handoff. Use the buttons of the latest card."),
        ({"handoff_id": "x", "version": "1"}, messages.forged_card()),
        ("not an object", "That card does not name a handoff. Use the buttons of the latest card."),
    ],
)
async def test_refresh_data_that_does_not_hold_gets_a_message(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    data: Any,
    said: str,
) -> None:
    bot, card, message_id = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    activity = refresh_invoke(fake_connector, card, message_id, DEFAULT_USER, data=data)
    status, body = await post(bot, activity)
    assert status == 200
    assert body == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": said,
    }


async def test_a_refresh_of_a_handoff_no_longer_kept_says_so(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """A cancelled handoff removed by retention: its card is still in the channel, and a
    refresh of it says the handoff is gone (the card stays as it was)."""
    bot, card, message_id = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    store = await open_store(sqlite_url, clock)
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        await HandoffService(store, clock).act(handoff.id, Cancel(actor=person(DEFAULT_USER)))
        removed = await store.purge_closed_cases(clock.now() + timedelta(days=1), 10)
        assert removed["handoffs"] == 1
    finally:
        await store.close()
    status, body = await post(bot, refresh_invoke(fake_connector, card, message_id, LEAD))
    assert (status, body["value"]) == (200, "That handoff no longer exists.")


async def test_a_refresh_sent_from_another_message_shows_nothing(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """The card's data replayed from a message that is not its card (a chat the case is not
    posted in): not even the requester's own copy, since everyone there would see it."""
    bot, card, _ = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    for user in (DEFAULT_USER, OUTSIDER):
        activity = refresh_invoke(fake_connector, card, "1:another-message", user)
        status, body = await post(bot, activity)
        assert (status, body["value"]) == (200, messages.forged_card())


async def test_a_button_in_the_menu_still_works_from_its_submit_fallback(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """Clients without Universal Actions (nor refresh, nor menus) send Escalate's fallback."""
    bot, card, message_id = await posted(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    [escalate] = [a for a in card["actions"] if a["title"] == "Escalate to SME"]
    assert escalate["mode"] == "secondary"
    submit = activities.submit_message(
        escalate["fallback"]["data"],
        fake_connector.url,
        reply_to_id=message_id,
        scope="channel",
        **user_fields(MEMBER),
    )
    await post(bot, submit)
    await fake_connector.wait_for_activities(predicate=lambda a: a.get("replyToId") == submit["id"])
    assert await state_of(sqlite_url, clock) is HandoffState.ESCALATED
