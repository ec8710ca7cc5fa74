"""A stranger learns nothing and changes nothing, over real HTTP: every command that shows or
changes a case asks the one access policy (handoff/access.py) before it says anything about
the case. Someone outside the Case Transfer team is told one sentence, and nothing is stored,
sent or queued; the people of a handoff, the members and the leads are served as before; and
a case is only shown where everyone who sees the answer may see it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from application import messages
from cards.long_running_card import CHAT_OWNERS
from cards.oof_card import OOF_FORM
from config.settings import DEFAULT_CONFIG_PATH
from handoff import access
from handoff.long_running import ChatMember, GroupChat, GroupChatState
from handoff.models import Person
from handoff.ports import SystemClock
from handoff.service import HandoffService
from handoff.state_machine import Accept
from storage.sql_store import open_store

from conftest import FakeClock, StartBot
from harness import activities
from harness.chat import all_text
from harness.escalation_case import READY, requested_case
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    RECEIVER,
    TUESDAY,
    command_by,
    person,
    post,
    refusals,
    told,
    user_fields,
)
from harness.ids import (
    DEFAULT_CHANNEL_ID,
    DEFAULT_TEAM_ID,
    DEFAULT_USER,
    TeamsUser,
    channel_id_for,
    fake_user,
)
from harness.sqlite_rows import rows_written
from harness.team import LEAD, settled, team_bot

STRANGER = fake_user("Olga Outsider")
NAMED = fake_user("Nia Named")
UNKNOWN_CASE = "2311230049999999"
OTHER_TEAM = channel_id_for("Finance")
# What a turn writes for itself whoever sends it: the sender's conversation address and the
# delivery's key. Everything else is the cases, and a stranger must leave it alone.
_TURN_BOOKKEEPING = frozenset({"conversations", "handled_keys", "bot_state"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def case_rows(url: str) -> dict[str, int]:
    rows = await asyncio.to_thread(rows_written, url)
    return {table: count for table, count in rows.items() if table not in _TURN_BOOKKEEPING}


def sent_elsewhere(connector: FakeConnector, since: int, user: TeamsUser) -> list[str]:
    """Where the bot sent something after request `since`, but to `user`'s own chat."""
    return [
        str(r.conversation_id)
        for r in connector.requests[since:]
        if r.method in ("POST", "PUT")
        and "/activities" in r.path
        and user.id not in str(r.body.get("recipient", {}).get("id", "") if r.body else "")
    ]


STRANGER_COMMANDS = [
    (f"status {CASE}", access.NOT_YOURS_TO_SEE),
    # The same sentence for a case with no handoff: case numbers cannot be probed.
    (f"status {UNKNOWN_CASE}", access.NOT_YOURS_TO_SEE),
    ("list", access.NOT_YOURS_TO_LIST),
    ("list US", access.NOT_YOURS_TO_LIST),
    ("agenda EMEA", access.NOT_YOURS_TO_LIST),
    (f"longrunning {CASE}", access.NOT_YOURS_TO_SEE),
    (f"longrunning {CASE} the customer works in two time zones", access.NOT_YOURS_TO_SEE),
    (f"longrunning {CASE} chat", access.NOT_YOURS_TO_SEE),
    (f"escalate {CASE}", access.NOT_YOURS_TO_SEE),
    (f"escalate {UNKNOWN_CASE}", access.NOT_YOURS_TO_SEE),
    (f"escalate {CASE} technical", access.NOT_YOURS_TO_SEE),
    (f"handoff {CASE}", access.NOT_IN_TEAM_TO_REQUEST),
    ("handoff", access.NOT_IN_TEAM_TO_REQUEST),
]


@pytest.mark.parametrize(("text", "refusal"), STRANGER_COMMANDS)
async def test_a_stranger_is_told_one_sentence_and_nothing_changes(
    text: str,
    refusal: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    before, since = await case_rows(sqlite_url), len(fake_connector.requests)

    said = await command_by(bot, fake_connector, text, STRANGER)

    assert said == refusal
    assert await case_rows(sqlite_url) == before, "nothing stored or queued"
    assert sent_elsewhere(fake_connector, since, STRANGER) == [], "nobody else told anything"
    refused = refusals(caplog, "read refused") + refusals(caplog, "handoff request refused")
    assert refused == ["not in the team"], "the refusal is logged like the card refusals"


async def test_a_strangers_escalation_reaches_no_lead_and_the_requesters_goes_through(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    assert await command_by(bot, fake_connector, f"escalate {CASE}", STRANGER) == (
        access.NOT_YOURS_TO_SEE
    )
    said = await command_by(bot, fake_connector, f"escalate {CASE}", DEFAULT_USER)
    assert said == messages.escalation_sent(CASE), "not 'already waits for a decision'"
    [card] = await fake_connector.wait_for(
        lambda r: r.method == "POST" and "Escalate case" in str(r.body),
        description="the approval card sent to the lead",
    )
    assert STRANGER.name not in str(card.body), "the card names the real requester"
    assert DEFAULT_USER.name in str(card.body)


async def test_the_people_of_a_handoff_its_team_and_the_leads_read_it(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    # Neither the requester, nor the lead, nor the named engineer is in the team: each reads
    # the handoff for another reason. RECEIVER is a member.
    bot = await team_bot(
        start_bot, fake_connector, clock, sqlite_url, tmp_path, members=(RECEIVER,)
    )
    await name_engineer(sqlite_url, clock, NAMED)
    for reader in (DEFAULT_USER, RECEIVER, LEAD, NAMED):
        card = await command_by(bot, fake_connector, f"status {CASE}", reader)
        assert READY.summary in card, f"{reader.name} reads the case"
    for reader in (RECEIVER, LEAD):
        assert CASE in await command_by(bot, fake_connector, "list", reader)
    assert await command_by(bot, fake_connector, "list", DEFAULT_USER) == access.NOT_YOURS_TO_LIST
    assert CASE in await command_by(bot, fake_connector, "mine", DEFAULT_USER)


async def name_engineer(url: str, clock: FakeClock, engineer: TeamsUser) -> None:
    """The open handoff of CASE names `engineer` (by their directory id) as its receiver."""
    store = await open_store(url, clock)
    try:
        handoff = await store.open_for_case(CASE)
        assert handoff is not None
        named = Person(id=str(engineer.aad_object_id), name=engineer.name)
        await store.save(
            handoff.model_copy(update={"target_engineer": named, "version": handoff.version + 1}),
            handoff.version,
            [],
            [],
        )
    finally:
        await store.close()


async def test_a_case_is_shown_only_where_everyone_may_see_it(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)

    def in_channel(text: str, team_id: str, channel: str) -> dict[str, Any]:
        return activities.channel_message(
            text, fake_connector.url, team_id=team_id, channel_id=channel, **user_fields(RECEIVER)
        )

    here = in_channel(f"status {CASE}", DEFAULT_TEAM_ID, DEFAULT_CHANNEL_ID)
    assert READY.summary in await told(bot, fake_connector, here), "the team's channel shows it"
    elsewhere = channel_id_for("Finance general")
    for text in (
        f"status {CASE}",
        "list",
        "mine",
        "agenda EMEA",
        f"longrunning {CASE}",
        f"escalate {CASE}",
        f"escalate {CASE} technical",
    ):
        said = await told(bot, fake_connector, in_channel(text, OTHER_TEAM, elsewhere))
        assert said == access.NOT_SHOWN_HERE, f"{text} in another team's channel"
    owners_form = activities.submit_message(
        {"command": CHAT_OWNERS, "case": CASE, "preference": "global"},
        fake_connector.url,
        scope="channel",
        team_id=OTHER_TEAM,
        channel_id=elsewhere,
        **user_fields(RECEIVER),
    )
    assert await told(bot, fake_connector, owners_form) == access.NOT_SHOWN_HERE

    # A group chat shows only its own case: the long-running case's chat of its owners.
    its_chat, other_chat = activities.group_chat_id("its own"), activities.group_chat_id("other")
    await give_case_a_chat(sqlite_url, clock, its_chat)
    for chat, shown in ((its_chat, True), (other_chat, False)):
        ask = activities.group_chat_message(
            f"status {CASE}", fake_connector.url, conversation_id=chat, **user_fields(RECEIVER)
        )
        said = await told(bot, fake_connector, ask)
        assert (READY.summary in said) is shown and (said == access.NOT_SHOWN_HERE) is not shown
        mine = activities.group_chat_message(
            "list", fake_connector.url, conversation_id=chat, **user_fields(RECEIVER)
        )
        assert await told(bot, fake_connector, mine) == access.NOT_SHOWN_HERE
    assert set(refusals(caplog, "read refused")) == {"not shown here"}


async def give_case_a_chat(url: str, clock: FakeClock, chat_id: str) -> None:
    """CASE has its regional owners' group chat, made by Graph as `chat_id`."""
    store = await open_store(url, clock)
    try:
        owners = (ChatMember(aad_object_id=str(RECEIVER.aad_object_id), name="Bo", region="US"),)
        await store.plan_group_chat(GroupChat(case_number=CASE, topic="t", members=owners))
        await store.update_group_chat(CASE, GroupChatState.CREATED, chat_id=chat_id)
    finally:
        await store.close()


async def test_a_membership_that_cannot_be_checked_shows_nothing_until_it_can(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    fake_connector.fail_next(400, method="GET", path_contains="/members/")
    said = await command_by(bot, fake_connector, f"status {CASE}", RECEIVER)
    assert said == access.MEMBERSHIP_UNKNOWN
    assert refusals(caplog, "read refused") == ["membership unknown"]
    assert READY.summary in await command_by(bot, fake_connector, f"status {CASE}", RECEIVER)


async def test_a_strangers_time_away_hands_off_nothing_and_tells_no_lead(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """`oof` hands off only the sender's own cases: a stranger owns none, so nothing is
    stored and no Team Leader gets a list, whatever the form says."""
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    store = await open_store(sqlite_url, SystemClock())
    try:
        handoff = await store.open_for_case(CASE)
        assert handoff is not None
        await HandoffService(store, clock).act(handoff.id, Accept(actor=person(RECEIVER)))
    finally:
        await store.close()
    await settled(sqlite_url, clock)  # the card updated, the requester told
    before, since = await case_rows(sqlite_url), len(fake_connector.requests)
    form = {
        "command": OOF_FORM,
        "kind": "planned-short",
        "first_day": "2026-11-25",
        "back_on": "2026-11-27",
        "teammate": "someone@example.invalid",
    }
    said = await told(
        bot,
        fake_connector,
        activities.submit_message(form, fake_connector.url, **user_fields(STRANGER)),
    )
    assert CASE not in said, said
    assert await case_rows(sqlite_url) == before
    assert sent_elsewhere(fake_connector, since, STRANGER) == []


async def test_settings_change_only_the_senders_own(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    await command_by(bot, fake_connector, "settings region APAC", DEFAULT_USER)
    await command_by(bot, fake_connector, "settings region US", STRANGER)
    store = await open_store(sqlite_url, clock)
    try:
        mine = await store.user_settings(DEFAULT_USER.id)
        theirs = await store.user_settings(STRANGER.id)
    finally:
        await store.close()
    assert mine is not None and mine.region == "APAC"
    assert theirs is not None and theirs.region == "US"


async def test_a_button_pressed_outside_its_card_shows_a_stranger_no_card(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    """A made-up invoke naming a real handoff (its id seen once on a card) from a personal
    chat is refused in words: the refusal does not hand the stranger the card."""
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    store = await open_store(sqlite_url, clock)
    try:
        handoff = await store.open_for_case(CASE)
    finally:
        await store.close()
    assert handoff is not None
    before = await case_rows(sqlite_url)
    forged = activities.card_action_invoke(
        "accept",
        {"handoff_id": handoff.id, "version": handoff.version},
        fake_connector.url,
        "1796280000000",
        **user_fields(STRANGER),
    )
    _, body = await post(bot, forged)
    assert body["type"] == "application/vnd.microsoft.activity.message", "words, not the card"
    assert body["value"] == access.NOT_IN_TEAM
    assert READY.summary not in str(body)
    assert await case_rows(sqlite_url) == before


async def test_before_the_channel_is_bound_only_a_handoffs_people_meet_it_in_the_dialog(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
) -> None:
    """Before setup anyone may request a handoff (nobody can be told from a stranger yet), but
    a case's open handoff is shown, and offered for update, only to its own people: by the
    case number with the command, or typed into the dialog."""
    await requested_case(sqlite_url, clock, CASE)
    bot = await start_bot(clock=clock)
    refusal = access.not_yours_to_update(CASE)
    assert await command_by(bot, fake_connector, f"handoff {CASE}", STRANGER) == refusal
    assert "Which case" in await command_by(bot, fake_connector, "handoff", STRANGER)
    typed = activities.personal_message(CASE, fake_connector.url, **user_fields(STRANGER))
    await post(bot, typed)
    said, asked_again = await fake_connector.wait_for_activities(
        2, predicate=lambda a: a.get("replyToId") == typed["id"]
    )
    assert (said["text"], asked_again["text"]) == (
        refusal,
        "Which case do you want to hand off? Type its case number.",
    )
    own = activities.personal_message(f"handoff {CASE}", fake_connector.url)
    await post(bot, own)
    [offer] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == own["id"] and bool(a.get("attachments"))
    )
    shown = all_text(offer["attachments"][0]["content"])
    assert f"Case {CASE} already has an open handoff" in shown, "its requester may update it"


async def test_leads_listed_without_their_ids_still_keep_strangers_from_binding_the_channel(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["leads"] = [{"name": "Tara Lead"}]  # no teams_id yet
    config = tmp_path / "handoff.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    await requested_case(sqlite_url, clock, CASE)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=str(config))
    setup = activities.channel_message(
        "setup",
        fake_connector.url,
        team_id=OTHER_TEAM,
        channel_id=channel_id_for("Finance general"),
        **user_fields(STRANGER),
    )
    assert await told(bot, fake_connector, setup) == access.SETUP_NOT_ALLOWED
    assert await command_by(bot, fake_connector, f"status {CASE}", STRANGER) == (
        access.NO_TEAM_TO_SHOW
    )
