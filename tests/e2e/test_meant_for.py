"""A handoff meant for someone, taken by someone else, over real HTTP: the engineer it names
(typed as their e-mail address) or an engineer of its target region accepts at once; anyone
else in the team is asked to confirm they take it instead, and the requester is told who did.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from application import messages
from handoff.models import HandoffState
from handoff.service import HandoffService
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities, records
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    RECEIVER,
    TUESDAY,
    command_by,
    invoke_for,
    person,
    post,
    posted_card,
    set_up_channel,
    user_fields,
)
from harness.ids import DEFAULT_TEAM_ID, DEFAULT_USER, fake_user

SOFIA = fake_user("Sofia Named")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def card_for(
    start_bot: StartBot,
    connector: FakeConnector,
    clock: FakeClock,
    url: str,
    named: str = "",
) -> tuple[RunningBot, dict[str, Any], str]:
    """CASE handed from EMEA to US by DEFAULT_USER (for `named`, an e-mail address, if
    given); its card in the Case Transfer channel and the card's message id."""
    for user in (DEFAULT_USER, RECEIVER, SOFIA):
        connector.add_teams_user(user)
    connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER, RECEIVER, SOFIA])
    store = await open_store(url, clock)
    try:
        answers = dataclasses.replace(
            records.answers(CASE, "EMEA", "US"), target_engineer=named, target_engineer_name=""
        )
        await HandoffService(store, clock).request(
            answers, records.PLACEHOLDER_OUTPUTS, person(DEFAULT_USER)
        )
    finally:
        await store.close()
    bot = await start_bot(clock=clock)
    await bot.client.post(activities.bot_added_personal(connector.url))  # the requester's chat
    await set_up_channel(bot, connector)
    card, message_id = await posted_card(connector)
    return bot, card, message_id


async def owner(url: str, clock: FakeClock) -> str | None:
    store = await open_store(url, clock)
    try:
        handoff = await store.latest_for_case(CASE)
    finally:
        await store.close()
    assert handoff is not None
    return handoff.owner.id if handoff.owner and handoff.state is HandoffState.ACCEPTED else None


async def test_someone_else_confirms_taking_a_named_handoff_and_the_requester_is_told(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot, card, message_id = await card_for(
        start_bot, fake_connector, clock, sqlite_url, named=SOFIA.email.upper()
    )
    _, body = await post(bot, invoke_for(fake_connector, card, message_id, "accept", RECEIVER))
    asked = body["value"]
    assert messages.take_instead(CASE, SOFIA.email.upper()) in all_text(asked)
    assert await owner(sqlite_url, clock) is None, "nothing taken before they confirm"
    [take] = [a for a in asked["actions"] if a.get("verb") == "accept"]
    assert take["title"].startswith("Take it instead of")

    _, body = await post(bot, invoke_for(fake_connector, asked, message_id, "accept", RECEIVER))
    assert "Accepted by Bo Receiver" in all_text(body["value"])
    assert await owner(sqlite_url, clock) == RECEIVER.id
    [told] = await fake_connector.wait_for_activities(
        predicate=lambda a: "took your handoff" in (a.get("text") or "")
    )
    assert told["text"] == (
        f"Bo Receiver took your handoff of case {CASE} instead of {SOFIA.email.upper()}, "
        "and owns it now."
    )
    history = await command_by(bot, fake_connector, f"status {CASE}", DEFAULT_USER)
    assert f"Bo Receiver · took it instead of {SOFIA.email.upper()}" in history


async def test_the_named_engineer_accepts_at_once(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot, card, message_id = await card_for(
        start_bot, fake_connector, clock, sqlite_url, named=SOFIA.email
    )
    _, body = await post(bot, invoke_for(fake_connector, card, message_id, "accept", SOFIA))
    assert "Accepted by Sofia Named" in all_text(body["value"])
    assert await owner(sqlite_url, clock) == SOFIA.id


@pytest.mark.parametrize(("region", "at_once"), [("US", True), ("EMEA", False), (None, True)])
async def test_an_engineer_of_the_target_region_accepts_at_once_and_others_confirm(
    region: str | None,
    at_once: bool,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
) -> None:
    bot, card, message_id = await card_for(start_bot, fake_connector, clock, sqlite_url)
    if region:
        await command_by(bot, fake_connector, f"settings region {region}", RECEIVER)
    _, body = await post(bot, invoke_for(fake_connector, card, message_id, "accept", RECEIVER))
    shown = all_text(body["value"])
    assert ("Accepted by Bo Receiver" in shown) is at_once, shown
    assert ("meant for the US team" in shown) is not at_once, shown


async def test_taking_it_instead_works_from_the_action_submit_fallback(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    """Clients without Universal Actions send the button's fallback as a message: the
    question comes back as a card of its own, whose button takes the handoff."""
    bot, card, message_id = await card_for(
        start_bot, fake_connector, clock, sqlite_url, named=SOFIA.email
    )
    [accept] = [a for a in card["actions"] if a.get("verb") == "accept"]

    def fallback(data: dict[str, Any], reply_to: str) -> dict[str, Any]:
        return activities.submit_message(
            data, fake_connector.url, scope="channel", reply_to_id=reply_to, **user_fields(RECEIVER)
        )

    pressed = fallback(accept["fallback"]["data"], message_id)
    await post(bot, pressed)
    [asked] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == pressed["id"] and bool(a.get("attachments"))
    )
    question = asked["attachments"][0]["content"]
    [take] = [a for a in question["actions"] if a.get("verb") == "accept"]
    assert take["title"].startswith("Take it instead of")
    assert await owner(sqlite_url, clock) is None
    await post(bot, fallback(take["fallback"]["data"], str(asked.get("id") or "")))
    await fake_connector.wait_for_activities(
        predicate=lambda a: "took your handoff" in (a.get("text") or "")
    )
    assert await owner(sqlite_url, clock) == RECEIVER.id
