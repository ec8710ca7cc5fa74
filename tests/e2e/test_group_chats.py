"""R-LONG group chats end to end: the real msal path against the HTTPS token fake, Graph
faked on loopback, the install event, the summary posted through the fake connector."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff.long_running import chat_rules
from handoff.service import HandoffService
from handoff.state_machine import Accept
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities, graph_access, records
from harness.card_schema import assert_valid_card
from harness.chat import all_text, teams_values
from harness.fake_connector import FakeConnector
from harness.fake_graph import FakeGraph
from harness.fake_token_service import FakeTokenService
from harness.graph_access import TEAMS_APP_ID
from harness.handoff_flow import person, user_fields
from harness.ids import fake_user
from harness.plain_words import visible_strings
from harness.pseudo_locale import unmarked
from harness.records import PLACEHOLDER_OUTPUTS

CASE = "2311230040001234"
TEAMS_APP = TEAMS_APP_ID
OUTPUTS = PLACEHOLDER_OUTPUTS
OWNERS = {region: fake_user(f"{region} Owner") for region in ("EMEA", "US", "APAC")}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))


@pytest.fixture
def graph_settings(
    fake_graph: FakeGraph, fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    # msal's own requests session trusts the test CA this way (the harness's notes).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    return graph_access.graph_settings(fake_graph, fake_token_service)


async def travel_round_the_globe(database_url: str, clock: FakeClock) -> None:
    """EMEA → US → APAC → EMEA, each leg accepted: the case becomes long-running."""
    store = await open_store(database_url, clock)
    service = HandoffService(store, clock)
    try:
        for origin, target in (("EMEA", "US"), ("US", "APAC"), ("APAC", "EMEA")):
            answers = records.answers(CASE, origin, target)
            handoff = await service.request(answers, OUTPUTS, person(OWNERS[origin]))
            clock.advance(timedelta(hours=1))
            await service.act(handoff.id, Accept(actor=person(OWNERS[target])), handoff.version)
            clock.advance(timedelta(hours=7))
    finally:
        await store.close()


@pytest.fixture
async def bot(
    start_bot: StartBot, clock: FakeClock, sqlite_url: str, graph_settings: dict[str, str]
) -> RunningBot:
    """The bot, Graph configured, once CASE has gone round the globe (so is long-running)."""
    await travel_round_the_globe(sqlite_url, clock)
    return await start_bot(clock=clock, **graph_settings)


async def owners_card(bot: RunningBot, connector: FakeConnector) -> dict[str, Any]:
    # Asked by the case's current owner (EMEA took the last leg), as the form below is sent.
    ask = activities.personal_message(
        f"longrunning {CASE} chat", connector.url, **user_fields(OWNERS["EMEA"])
    )
    await bot.client.post(ask)
    await connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments"))
            and "regional owners" in all_text(a["attachments"][0]["content"])
        )
    )
    card = connector.adaptive_cards()[-1]
    assert_valid_card(card)
    return card


async def confirm_owners(
    bot: RunningBot, connector: FakeConnector, card: dict[str, Any], **changes: str
) -> None:
    [button] = card["actions"]
    values = teams_values(card, **changes)
    # Sent by the case's current owner (EMEA took the last leg): the form is refused from
    # anyone the card rules would refuse (application/access.py).
    owner = OWNERS["EMEA"]
    form = {**button["data"], **values}
    await bot.client.post(activities.submit_message(form, connector.url, **user_fields(owner)))


async def ask_for_chat(bot: RunningBot, connector: FakeConnector) -> None:
    card = await owners_card(bot, connector)
    await confirm_owners(bot, connector, card, preference="global")
    await connector.wait_for_activities(
        predicate=lambda a: (a.get("text") or "").startswith(
            f"Making the group chat of case {CASE}"
        )
    )


async def test_a_long_running_case_gets_one_group_chat_with_its_owners_and_a_summary(
    bot: RunningBot, fake_connector: FakeConnector, fake_graph: FakeGraph, clock: FakeClock
) -> None:
    fake_graph.fail_next(429, count=2, retry_after=1, path_contains="/chats", method="POST")
    await ask_for_chat(bot, fake_connector)

    [created] = await fake_graph.wait_for(
        lambda r: r.method == "POST" and r.path.endswith("/chats") and r.status == 201,
        timeout=15,
        description="the chat created",
    )
    body = created.body
    assert body["chatType"] == "group"
    assert unmarked(body["topic"]) == f"Case {CASE} · HDInsight · regional owners"
    bound = sorted(m["user@odata.bind"] for m in body["members"])
    assert bound == sorted(
        f"https://graph.microsoft.com/v1.0/users('{u.aad_object_id}')" for u in OWNERS.values()
    )
    chat_id = created.response["id"]
    await fake_graph.wait_for(
        lambda r: r.method == "POST" and r.path.endswith("/installedApps") and r.status == 201,
        timeout=10,
        description="the app installed in the chat",
    )
    assert fake_graph.installed_apps(chat_id)
    creates = [r for r in fake_graph.requests if r.method == "POST" and r.path.endswith("/chats")]
    assert [r.status for r in creates] == [429, 429, 201], "created exactly once"

    # Teams tells the bot it was added to the chat; the bot posts the case and the rules.
    installed = activities.installation_update(
        fake_connector.url, scope="groupChat", conversation_id=chat_id
    )
    async with bot.session.post(f"{bot.url}/api/messages", json=installed) as response:
        assert response.status in (200, 201)
    posted = await fake_connector.wait_for_activities(2, conversation_id=chat_id, timeout=10)
    assert f"Case {CASE}" in all_text(posted[0]["attachments"][0]["content"])
    assert "Long-running case: it has gone round the globe" in all_text(
        posted[0]["attachments"][0]["content"]
    )
    assert posted[1]["text"] == chat_rules()

    # Near the end of the EMEA owner's shift (17:00 UTC in November), the chat reminds them.
    clock._now = datetime(2026, 11, 25, 16, 31, tzinfo=UTC)
    [reminder] = await fake_connector.wait_for_activities(
        conversation_id=chat_id,
        predicate=lambda a: "your shift ends soon" in (a.get("text") or ""),
        timeout=10,
    )
    assert reminder["text"].startswith("EMEA Owner (EMEA): your shift ends soon.")
    assert reminder["text"].endswith(f"hand case {CASE} to US Owner (US).")


async def test_a_crash_after_the_chat_was_made_does_not_make_a_second(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    sqlite_url: str,
    graph_settings: dict[str, str],
) -> None:
    await travel_round_the_globe(sqlite_url, clock)
    # The install answers 503 until the bot stops: the job is left between the two steps.
    fake_graph.fail_next(503, count=50, path_contains="installedApps")
    first = await start_bot(clock=clock, **graph_settings)
    await ask_for_chat(first, fake_connector)
    await fake_graph.wait_for(
        lambda r: r.path.endswith("/installedApps"), timeout=10, description="an install tried"
    )
    await first.stop()
    # As if the process had died before it marked "create" done: the step comes round again.
    with sqlite3.connect(Path(sqlite_url.removeprefix("sqlite:///")), timeout=10) as db:
        db.execute(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, not_before = ?",
            ("2026-11-01T00:00:00.000000Z",),
        )
    fake_graph.clear()
    await start_bot(clock=clock, **graph_settings)
    await fake_graph.wait_for(
        lambda r: r.path.endswith("/installedApps") and r.status == 201,
        timeout=10,
        description="the install finished after the restart",
    )
    assert not [r for r in fake_graph.requests if r.method == "POST" and r.path.endswith("/chats")]
    assert len(fake_graph.chats) == 1


async def test_a_missing_permission_is_reported_and_the_case_stays_usable(
    bot: RunningBot, fake_connector: FakeConnector, fake_graph: FakeGraph
) -> None:
    told = await chat_refused(bot, fake_connector, fake_graph, path_contains="/chats")
    assert "Chat.Create" in told["text"]
    assert "The case itself is unchanged." in told["text"]


async def chat_refused(
    bot: RunningBot, connector: FakeConnector, graph: FakeGraph, *, path_contains: str
) -> dict[str, Any]:
    """Asks for the chat while Graph refuses a permission on the path: what the requester of
    the last leg (the APAC owner) is told. The owner who asked (EMEA) is told too, once each."""
    # They chat with the bot, so they can be told.
    apac = OWNERS["APAC"]
    added = activities.bot_added_personal(
        connector.url, user_id=apac.id, aad_object_id=apac.aad_object_id
    )
    async with bot.session.post(f"{bot.url}/api/messages", json=added) as response:
        assert response.status in (200, 201)
    graph.fail_next(403, code="Forbidden", message="Missing role", path_contains=path_contains)
    await ask_for_chat(bot, connector)
    # Two people, so wait for both: the second message can arrive just after the first.
    told = await connector.wait_for_activities(
        2, predicate=lambda a: "could not make the group chat" in (a.get("text") or ""), timeout=10
    )
    told_by_id = {a["recipient"]["id"]: a for a in told}
    assert len(told) == 2 and set(told_by_id) == {apac.id, OWNERS["EMEA"].id}, told
    assert told_by_id[apac.id]["text"] == told_by_id[OWNERS["EMEA"].id]["text"]
    return told_by_id[apac.id]


async def test_the_owner_can_change_an_owner_by_e_mail_and_must_say_the_preference(
    bot: RunningBot, fake_connector: FakeConnector, fake_graph: FakeGraph
) -> None:
    card = await owners_card(bot, fake_connector)
    shown = all_text(card)
    # Graph does not know the owners' e-mail addresses here: they are proposed by name.
    boxes = {e["label"]: e.get("value") for e in card["body"] if e.get("type") == "Input.Text"}
    assert boxes["EMEA owner"] == "EMEA Owner" and boxes["US owner"] == "US Owner"
    assert "IST owner" in boxes and "regional owners" in shown

    fake_graph.add_user("aad-kim", "Kim Newowner", user_principal_name="kim@example.invalid")
    await confirm_owners(bot, fake_connector, card, owner_US="nobody@example.invalid")
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments"))
            and "I found nobody called" in all_text(a["attachments"][0]["content"])
        )
    )
    again = fake_connector.adaptive_cards()[-1]
    assert "What does the customer prefer?: choose one." in all_text(again)

    await confirm_owners(
        bot, fake_connector, again, preference="global", owner_US="kim@example.invalid"
    )
    [created] = await fake_graph.wait_for(
        lambda r: r.method == "POST" and r.path.endswith("/chats") and r.status == 201,
        timeout=10,
        description="the chat created",
    )
    bound = {m["user@odata.bind"] for m in created.body["members"]}
    assert "https://graph.microsoft.com/v1.0/users('aad-kim')" in bound
    assert f"https://graph.microsoft.com/v1.0/users('{OWNERS['US'].aad_object_id}')" not in bound


async def test_a_customer_who_prefers_one_engineer_gets_no_chat(
    bot: RunningBot, fake_connector: FakeConnector, fake_graph: FakeGraph
) -> None:
    card = await owners_card(bot, fake_connector)
    await confirm_owners(bot, fake_connector, card, preference="regional")
    await fake_connector.wait_for_activities(
        predicate=lambda a: "no group chat is made" in (a.get("text") or "")
    )
    assert not [r for r in fake_graph.requests if r.path.endswith("/chats")]


async def test_shift_end_in_the_chat_hands_the_case_to_the_next_regions_owner(
    bot: RunningBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    sqlite_url: str,
) -> None:
    await ask_for_chat(bot, fake_connector)
    [created] = await fake_graph.wait_for(
        lambda r: r.path.endswith("/chats") and r.status == 201, timeout=10, description="chat"
    )
    chat_id = created.response["id"]
    await bot.client.post(
        activities.installation_update(
            fake_connector.url, scope="groupChat", conversation_id=chat_id
        ),
    )
    await fake_connector.wait_for_activities(2, conversation_id=chat_id, timeout=10)

    emea = OWNERS["EMEA"]

    def said(text: str) -> dict[str, Any]:
        return activities.group_chat_message(
            text, fake_connector.url, conversation_id=chat_id, **user_fields(emea)
        )

    await bot.client.post(said("shiftend"))
    await fake_connector.wait_for_activities(
        predicate=lambda a: (a.get("text") or "").startswith("Add a short summary")
    )
    summary = "Customer applied the autoscale fix; waiting for the overnight job to confirm."
    await bot.client.post(said(f"shiftend {summary}"))
    [ending] = await fake_connector.wait_for_activities(
        predicate=lambda a: (a.get("text") or "").startswith("**Shift ending**")
    )
    assert ending["conversation"]["id"] == chat_id
    assert f"EMEA Owner (EMEA): {summary}" in ending["text"]
    assert "Over to US Owner (US)" in ending["text"]

    store = await open_store(sqlite_url, clock)
    try:
        handoff = await store.latest_for_case(CASE)
    finally:
        await store.close()
    assert handoff is not None and handoff.state.value == "requested"
    assert (handoff.from_region, handoff.target_region) == ("EMEA", "US")
    assert handoff.target_engineer is not None
    assert handoff.target_engineer.name == "US Owner"
    assert handoff.notes.summary == summary


async def test_shift_end_outside_a_case_chat_says_where_it_works(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    await bot.client.post(
        activities.personal_message("shiftend all done for today", fake_connector.url)
    )
    await fake_connector.wait_for_activities(
        predicate=lambda a: (a.get("text") or "").startswith("**shiftend** works in the group chat")
    )


async def test_a_chat_that_failed_for_good_is_tried_again_from_where_it_stopped(
    bot: RunningBot, fake_connector: FakeConnector, fake_graph: FakeGraph
) -> None:
    # The chat is made, but installing the bot in it lacks a permission not yet granted.
    told = await chat_refused(bot, fake_connector, fake_graph, path_contains="installed")
    assert f"type **longrunning {CASE} chat** to try again" in told["text"]

    # An admin grants it; the current owner asks again and the job goes on from the install.
    owner = OWNERS["EMEA"]
    await bot.client.post(
        activities.personal_message(
            f"longrunning {CASE} chat", fake_connector.url, **user_fields(owner)
        )
    )
    [retried] = await fake_connector.wait_for_activities(
        predicate=lambda a: (a.get("text") or "").startswith(
            ("Trying the", f"Case {CASE} already")
        ),
        timeout=10,
    )
    assert retried["text"].startswith(f"Trying the group chat of case {CASE} again"), retried
    await fake_graph.wait_for(
        lambda r: r.path.endswith("/installedApps") and r.status == 201,
        timeout=10,
        description="the install finished on the retry",
    )
    creates = [r for r in fake_graph.requests if r.method == "POST" and r.path.endswith("/chats")]
    assert [r.status for r in creates] == [201], "the chat made before is not made again"
    [chat_id] = fake_graph.chats
    assert fake_graph.installed_apps(chat_id)

    # Once under way, asking again does not start a second attempt.
    await bot.client.post(
        activities.personal_message(
            f"longrunning {CASE} chat", fake_connector.url, **user_fields(owner)
        )
    )
    [again] = await fake_connector.wait_for_activities(
        predicate=lambda a: "already has its group chat" in (a.get("text") or ""), timeout=10
    )
    assert "(failed)" not in again["text"]
    assert len(fake_graph.chats) == 1


async def test_without_graph_the_chat_command_says_at_once_what_an_admin_must_set(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    await travel_round_the_globe(sqlite_url, clock)
    bot = await start_bot(clock=clock)  # no Graph credentials, no TEAMS_APP_ID
    ask = activities.personal_message(
        f"longrunning {CASE} chat", fake_connector.url, **user_fields(OWNERS["EMEA"])
    )
    await bot.client.post(ask)
    [reply] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == ask["id"]
    )
    said = reply.get("text") or ""
    assert said.startswith(f"I cannot make the group chat of case {CASE}"), reply
    assert "group chats are not configured" in said
    for setting in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId"):
        assert setting in said
    assert "GRAPH_CLIENT_ID" in said and "TEAMS_APP_ID" in said
    assert not reply.get("attachments"), "no owners form to fill in for nothing"
    with sqlite3.connect(Path(sqlite_url.removeprefix("sqlite:///")), timeout=10) as db:
        assert db.execute("SELECT COUNT(*) FROM group_chats").fetchone() == (0,)
        queued = db.execute("SELECT kind FROM outbox WHERE kind LIKE '%chat%'").fetchall()
    assert queued == [], "no job that can only die"

    # `longrunning <case>` lists the owners, and says the same rather than offer the chat.
    status = activities.personal_message(
        f"longrunning {CASE}", fake_connector.url, **user_fields(OWNERS["EMEA"])
    )
    await bot.client.post(status)
    [listed] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == status["id"]
    )
    assert "- EMEA: EMEA Owner" in listed["text"]
    assert "group chats are not configured" in listed["text"]
    assert f"**longrunning {CASE} chat**" not in listed["text"]


async def test_the_owners_card_proposes_the_owners_longrunning_lists_by_name_and_e_mail(
    bot: RunningBot, fake_connector: FakeConnector, fake_graph: FakeGraph
) -> None:
    for owner in OWNERS.values():
        fake_graph.add_teams_user(owner)
    status = activities.personal_message(
        f"longrunning {CASE}", fake_connector.url, **user_fields(OWNERS["EMEA"])
    )
    await bot.client.post(status)
    [listed] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == status["id"]
    )
    shown = {region: f"{user.name} ({user.email})" for region, user in OWNERS.items()}
    for region, text in shown.items():
        assert f"- {region}: {text}" in listed["text"]

    card = await owners_card(bot, fake_connector)
    values = {
        element["id"]: element.get("value")
        for element in card["body"]
        if element.get("type") == "Input.Text"
    }
    assert values == {
        "owner_EMEA": shown["EMEA"],
        "owner_US": shown["US"],
        "owner_APAC": shown["APAC"],
        "owner_IST": None,
    }
    seen = " ".join(visible_strings(card))
    assert not [u.name for u in OWNERS.values() if u.aad_object_id in seen], (
        "no directory object ids on screen"
    )

    # Kept as proposed, the owners are the chat's members.
    await confirm_owners(bot, fake_connector, card, preference="global")
    [created] = await fake_graph.wait_for(
        lambda r: r.method == "POST" and r.path.endswith("/chats") and r.status == 201,
        timeout=10,
        description="the chat created",
    )
    bound = sorted(m["user@odata.bind"] for m in created.body["members"])
    assert bound == sorted(
        f"https://graph.microsoft.com/v1.0/users('{u.aad_object_id}')" for u in OWNERS.values()
    )
