"""Who may act on a Case Transfer card, checked on the server over real HTTP: each refusal is
told to the clicker, changes nothing in the store and is logged. Members of the configured
Entra groups are asked of the fake Graph, with a token from the HTTPS token fake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from application import messages
from config.settings import DEFAULT_CONFIG_PATH
from handoff import access
from handoff.escalation import request_escalation
from handoff.models import HandoffNotes, Person, StepTried
from handoff.ports import CardRef, SystemClock
from handoff.service import HandoffService
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities, records
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.fake_graph import FakeGraph, RecordedRequest
from harness.fake_token_service import FakeTokenService
from harness.graph_access import graph_settings
from harness.handoff_flow import (
    CASE,
    RECEIVER,
    TUESDAY,
    command_by,
    handoff_card,
    invoke_for,
    post,
    refusals,
    request_handoff,
    user_fields,
)
from harness.ids import (
    DEFAULT_BOT_ID,
    DEFAULT_TEAM_ID,
    DEFAULT_TENANT_ID,
    DEFAULT_USER,
    channel_id_for,
    fake_user,
    personal_conversation_id,
)

OUTSIDER = fake_user("Olga Outsider")
READY = HandoffNotes(
    summary="Autoscale stops at 20 nodes since the upgrade; PG suspects the quota service.",
    steps_tried=(StepTried(step="Raised the core quota", outcome="same failure"),),
)
OTHER_TEAM = channel_id_for("Escalation Engineers")
OTHER_TENANT = "99999999-0000-4000-8000-000000000bad"
SUPPORT_GROUP = "5b0c7a1e-2f3d-4c5b-9a8e-1d2c3b4a5f60"
ON_CALL_GROUP = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"  # nested in SUPPORT_GROUP


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


def config_file(tmp_path: Path, **case_transfer: Any) -> str:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["case_transfer"].update(case_transfer)
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


async def stored_state(url: str) -> list[tuple[str, int, list[str]]]:
    """Every handoff's case, version and event kinds: what a refusal must leave alone."""
    store = await open_store(url, SystemClock())
    try:
        handoffs = await store.list_open(None)
        handoffs += [h for h in await store.for_case(CASE) if not h.state.is_open]
        state = []
        for handoff in handoffs:
            kinds = [e.kind for e in await store.history(handoff.id)]
            state.append((handoff.case.number, handoff.version, kinds))
        return sorted(state)
    finally:
        await store.close()


@pytest.fixture(params=["invoke", "submit"])
def how(request: pytest.FixtureRequest) -> str:
    """How the button is pressed: an Action.Execute invoke, or its Action.Submit fallback (a
    message whose value is the button's data), which older clients send."""
    return str(request.param)


async def press(
    bot: RunningBot,
    connector: FakeConnector,
    how: str,
    click: dict[str, Any],
) -> str:
    """Presses the button an invoke (from invoke_for) describes, the way `how` says; what the
    clicker is told, as text (a refreshed card's text for an invoke)."""
    action = click["value"]["action"]
    user = click["from"]
    if how == "invoke":
        _, body = await post(bot, click)
        value = body["value"]
        return value if isinstance(value, str) else all_text(value)
    submit = activities.submit_message(
        {**action["data"], "verb": action["verb"]},
        connector.url,
        reply_to_id=click["replyToId"],
        scope="channel",
        user_id=user["id"],
        user_name=user.get("name"),
        aad_object_id=user.get("aadObjectId"),
    )
    await post(bot, submit)
    [reply] = await connector.wait_for_activities(
        conversation_id=submit["conversation"]["id"],
        predicate=lambda a: a.get("replyToId") == submit["id"],
    )
    return str(reply.get("text") or "")


async def transfer_card(
    start_bot: StartBot, connector: FakeConnector, clock: FakeClock, **settings: Any
) -> tuple[RunningBot, dict[str, Any], str]:
    bot = await start_bot(clock=clock, **settings)
    card, message_id = await handoff_card(bot, connector)
    return bot, card, message_id


async def refused_press(
    bot: RunningBot, connector: FakeConnector, how: str, click: dict[str, Any], url: str
) -> str:
    """Presses a button that must be refused: what the clicker is told. The refusal must
    leave every handoff as it was."""
    before = await stored_state(url)
    shown = await press(bot, connector, how, click)
    assert await stored_state(url) == before, "a refused press changed the store"
    return shown


async def test_only_members_of_the_case_transfer_team_accept(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER, RECEIVER])
    bot, card, message_id = await transfer_card(start_bot, fake_connector, clock)

    for _ in range(2):
        click = invoke_for(fake_connector, card, message_id, "accept", OUTSIDER)
        shown = await refused_press(bot, fake_connector, how, click, sqlite_url)
        assert access.NOT_IN_TEAM in shown
        if how == "invoke":
            assert "Requested" in shown, "the clicker sees the card as it is"

    assert refusals(caplog, "card action refused") == ["not in the team"] * 2
    lookups = [r for r in fake_connector.requests if r.method == "GET" and OUTSIDER.id in r.path]
    assert len(lookups) == 1, "a membership answer is remembered"
    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    assert "accepted" in (await press(bot, fake_connector, how, click)).lower()


async def test_members_of_an_allowed_team_act_too(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, tmp_path: Path
) -> None:
    fake_connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER])
    fake_connector.set_roster(OTHER_TEAM, [RECEIVER])
    config = config_file(tmp_path, allowed_teams=[OTHER_TEAM])
    bot, card, message_id = await transfer_card(
        start_bot, fake_connector, clock, HANDOFF_CONFIG=config
    )
    _, body = await post(bot, invoke_for(fake_connector, card, message_id, "accept", RECEIVER))
    assert "Accepted by Bo Receiver" in all_text(body["value"])


async def test_a_membership_that_cannot_be_checked_is_refused_until_it_can(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot, card, message_id = await transfer_card(start_bot, fake_connector, clock)
    fake_connector.fail_next(400, method="GET", path_contains="/members/")
    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    shown = await refused_press(bot, fake_connector, how, click, sqlite_url)
    assert access.MEMBERSHIP_UNKNOWN in shown
    assert refusals(caplog, "card action refused") == ["membership unknown"]
    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    assert "accepted" in (await press(bot, fake_connector, how, click)).lower()


async def test_requester_only_and_lead_buttons_refuse_everyone_else(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot, card, message_id = await transfer_card(start_bot, fake_connector, clock)
    await post(
        bot, invoke_for(fake_connector, card, message_id, "more_info", RECEIVER, question="Why?")
    )
    # Cancel and Back to queue are on the requester's own copy: `status` in their chat.
    mine = await command_by(bot, fake_connector, f"status {CASE}", DEFAULT_USER)
    assert "More info needed" in mine
    chat = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)
    asked = next(c for c in fake_connector.adaptive_cards(chat) if "History" in all_text(c))
    [answer] = [  # the requester's answer button, pressed by someone else
        {**a["data"], "answer": "Because."}
        for a in (
            await fake_connector.wait_for_activities(
                predicate=lambda a: (
                    bool(a.get("attachments"))
                    and "a question before it is taken" in all_text(a["attachments"][0]["content"])
                )
            )
        )[0]["attachments"][0]["content"]["actions"]
    ]
    presses = [
        invoke_for(fake_connector, asked, message_id, "cancel", RECEIVER),
        invoke_for(fake_connector, asked, message_id, "back_to_queue", RECEIVER, reason="None"),
        activities.card_action_invoke(
            "provide_info",
            answer,
            fake_connector.url,
            message_id,
            scope="channel",
            user_id=RECEIVER.id,
            user_name=RECEIVER.name,
            aad_object_id=RECEIVER.aad_object_id,
        ),
    ]
    said = [await refused_press(bot, fake_connector, how, c, sqlite_url) for c in presses]

    assert access.only_the_requester("Test User") in said[0]
    assert access.ONLY_REQUESTER_OR_LEAD in said[1]
    assert access.only_the_requester("Test User") in said[2]
    assert refusals(caplog, "card action refused") == [
        "not the requester",
        "neither requester nor lead",
        "not the requester",
    ]


async def test_before_the_channel_is_set_up_only_the_requester_acts(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_bot(clock=clock)
    await request_handoff(bot, fake_connector)
    await post(bot, activities.personal_message(f"status {CASE}", fake_connector.url))
    [shown] = await fake_connector.wait_for(
        lambda r: r.method == "POST" and "History" in str(r.body),
        description="the status card",
    )
    card, message_id = shown.body["attachments"][0]["content"], str(shown.response["id"])
    # The requester's own status card: the buttons of their copy (no Accept: not theirs).
    click = invoke_for(fake_connector, card, message_id, "escalate", RECEIVER)
    said = await refused_press(bot, fake_connector, how, click, sqlite_url)
    assert access.NO_TRANSFER_TEAM in said
    assert refusals(caplog, "card action refused") == ["no Case Transfer team known"]


async def another_handoff(url: str, clock: FakeClock) -> str:
    store = await open_store(url, clock)
    try:
        requester = Person(id=DEFAULT_USER.id, name=DEFAULT_USER.name)
        answers = records.answers("2311230040009999", "EMEA", "US")
        other = await HandoffService(store, clock).request(
            answers, records.PLACEHOLDER_OUTPUTS, requester
        )
        return other.id
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("forge", "verb", "answer", "logged"),
    [
        ({"version": 99}, "accept", messages.forged_card(), "version"),
        ({"version": 0}, "accept", messages.forged_card(), "version"),
        ({}, "provide_info", messages.button_not_on_card(), "verb"),
        ({"handoff_id": "other"}, "accept", messages.forged_card(), "handoff id of another card"),
        (
            {"handoff_id": "no-such-handoff"},
            "accept",
            "That handoff no longer exists.",
            "unknown handoff",
        ),
    ],
)
async def test_forged_card_data_is_refused_and_logged(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
    forge: dict[str, Any],
    verb: str,
    answer: str,
    logged: str,
) -> None:
    bot, card, message_id = await transfer_card(start_bot, fake_connector, clock)
    other = await another_handoff(sqlite_url, clock)
    [accept] = [a for a in card["actions"] if a.get("verb") == "accept"]
    data = {**accept["data"], **forge}
    if data["handoff_id"] == "other":
        data["handoff_id"] = other
    click = activities.card_action_invoke(
        verb,
        data,
        fake_connector.url,
        message_id,
        scope="channel",
        **user_fields(RECEIVER),
    )
    assert await refused_press(bot, fake_connector, how, click, sqlite_url) == answer
    assert refusals(caplog, "card action with forged data refused") == [logged]


async def test_activities_from_another_tenant_are_refused_and_nothing_is_stored(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_bot(clock=clock, TENANT_ID=DEFAULT_TENANT_ID)
    stranger = activities.personal_message(
        f"handoff {CASE}", fake_connector.url, tenant_id=OTHER_TENANT
    )
    await post(bot, stranger)
    [told] = await fake_connector.wait_for_activities()
    assert told["text"] == messages.other_tenant()
    invoke = activities.card_action_invoke(
        "accept", {"handoff_id": "x", "version": 1}, fake_connector.url, "1", tenant_id=OTHER_TENANT
    )
    _, body = await post(bot, invoke)
    assert body["value"] == messages.other_tenant()
    store = await open_store(sqlite_url, SystemClock())
    try:
        assert await store.get_conversation(stranger["conversation"]["id"]) is None
        assert await store.for_case(CASE) == []
    finally:
        await store.close()
    logged = [r for r in caplog.records if r.getMessage() == "activity from another tenant refused"]
    assert [getattr(r, "tenant_id", None) for r in logged] == [OTHER_TENANT] * 2
    # The organization's own tenant is served as ever, its id written in any letter case.
    await post(bot, activities.personal_message("help", fake_connector.url))
    await post(
        bot,
        activities.personal_message(
            "help", fake_connector.url, tenant_id=DEFAULT_TENANT_ID.upper()
        ),
    )
    await fake_connector.wait_for_activities(
        2, predicate=lambda a: "What I can do" in (a.get("text") or "")
    )


async def test_without_a_configured_tenant_any_tenant_is_served(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    await post(bot, activities.personal_message("help", fake_connector.url, tenant_id=OTHER_TENANT))
    await fake_connector.wait_for_activities(
        predicate=lambda a: "What I can do" in (a.get("text") or "")
    )


async def test_an_escalation_is_decided_only_on_its_own_approval_card(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Escalation B's data pasted onto escalation A's approval card decides nothing."""
    lead = fake_user("Tara Lead")
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["leads"] = [{"name": lead.name, "teams_id": lead.aad_object_id}]
    config = tmp_path / "leads.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    store = await open_store(sqlite_url, clock)
    try:
        requester = Person(id=DEFAULT_USER.id, name=DEFAULT_USER.name)
        first, second = (
            request_escalation(READY, number, requester, clock.now())
            for number in (CASE, "2311230040009999")
        )
        for escalation, card in ((first, "card-of-first"), (second, "card-of-second")):
            await store.add_escalation(escalation)
            await store.add_escalation_card(
                escalation.id, CardRef(conversation_id="a:lead-chat", activity_id=card)
            )
    finally:
        await store.close()
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=str(config))

    def decide(message_id: str) -> dict[str, Any]:
        return activities.card_action_invoke(
            "esc_approve",
            {"escalation_id": second.id, "version": 1},
            fake_connector.url,
            message_id,
            **user_fields(lead),
        )

    _, body = await post(bot, decide("card-of-first"))
    assert body["value"] == messages.forged_card()
    assert refusals(caplog, "escalation decision refused") == ["escalation id of another card"]
    store = await open_store(sqlite_url, clock)
    try:
        assert (await store.get_escalation(second.id)).state.value == "pending"
    finally:
        await store.close()
    _, body = await post(bot, decide("card-of-second"))
    assert "approved" in all_text(body["value"]).lower(), "its own card decides it"


# -- Entra groups (case_transfer.allowed_groups), asked of Graph ---------------------------


@pytest.fixture
def graph_env(
    fake_graph: FakeGraph, fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    # msal's own requests session trusts the test CA this way (the harness's notes).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    return graph_settings(fake_graph, fake_token_service)


async def group_card(
    start_bot: StartBot,
    connector: FakeConnector,
    clock: FakeClock,
    tmp_path: Path,
    graph_env: dict[str, str],
) -> tuple[RunningBot, dict[str, Any], str]:
    """A transfer card in a team of the requester alone; SUPPORT_GROUP may act on it too."""
    connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER])
    config = config_file(tmp_path, allowed_groups=[SUPPORT_GROUP])
    return await transfer_card(start_bot, connector, clock, HANDOFF_CONFIG=config, **graph_env)


def group_checks(graph: FakeGraph) -> list[RecordedRequest]:
    return [r for r in graph.requests if r.path.endswith("/checkMemberGroups")]


async def owner_of_case(url: str) -> str | None:
    store = await open_store(url, SystemClock())
    try:
        [handoff] = await store.for_case(CASE)
        return handoff.owner.id if handoff.owner else None
    finally:
        await store.close()


async def test_a_member_of_an_allowed_group_accepts_though_not_in_the_team(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    graph_env: dict[str, str],
) -> None:
    fake_graph.add_group_member(SUPPORT_GROUP, ON_CALL_GROUP)
    fake_graph.add_group_member(ON_CALL_GROUP, str(RECEIVER.aad_object_id))
    bot, card, message_id = await group_card(start_bot, fake_connector, clock, tmp_path, graph_env)

    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    assert "accepted" in (await press(bot, fake_connector, how, click)).lower()
    assert await owner_of_case(sqlite_url) == RECEIVER.id
    [check] = group_checks(fake_graph)
    assert check.method == "POST"
    assert check.path == f"/v1.0/users/{RECEIVER.aad_object_id}/checkMemberGroups"
    assert check.body == {"groupIds": [SUPPORT_GROUP]}


async def test_a_group_members_yes_is_remembered(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    tmp_path: Path,
    graph_env: dict[str, str],
) -> None:
    fake_graph.add_group_member(SUPPORT_GROUP, str(RECEIVER.aad_object_id))
    bot, card, message_id = await group_card(start_bot, fake_connector, clock, tmp_path, graph_env)
    click = invoke_for(fake_connector, card, message_id, "more_info", RECEIVER, question="Logs?")
    _, body = await post(bot, click)
    asked = body["value"]
    assert "Logs?" in all_text(asked)
    clock.advance(timedelta(minutes=9))
    _, body = await post(bot, invoke_for(fake_connector, asked, message_id, "accept", RECEIVER))
    assert "Accepted by Bo Receiver" in all_text(body["value"])
    assert len(group_checks(fake_graph)) == 1, "two clicks, one question to Graph"


async def test_outside_the_team_and_the_groups_is_refused_and_a_no_is_kept_a_minute(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    graph_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_graph.add_teams_user(OUTSIDER)
    fake_graph.add_group_member(ON_CALL_GROUP, str(OUTSIDER.aad_object_id))  # not allowed
    bot, card, message_id = await group_card(start_bot, fake_connector, clock, tmp_path, graph_env)

    for _ in range(2):
        click = invoke_for(fake_connector, card, message_id, "accept", OUTSIDER)
        shown = await refused_press(bot, fake_connector, how, click, sqlite_url)
        assert access.NOT_IN_TEAM in shown
    assert refusals(caplog, "card action refused") == ["not in the team"] * 2
    assert len(group_checks(fake_graph)) == 1, "a no is remembered"

    # Added to the group just now: still refused for up to a minute, then let in.
    fake_graph.add_group_member(SUPPORT_GROUP, str(OUTSIDER.aad_object_id))
    click = invoke_for(fake_connector, card, message_id, "accept", OUTSIDER)
    assert access.NOT_IN_TEAM in await refused_press(bot, fake_connector, how, click, sqlite_url)
    clock.advance(timedelta(seconds=61))
    assert "accepted" in (await press(bot, fake_connector, how, click)).lower()
    assert len(group_checks(fake_graph)) == 2
    assert await owner_of_case(sqlite_url) == OUTSIDER.id


@pytest.mark.parametrize(
    ("status", "logged", "named"),
    [
        (403, "group membership look-up refused by Graph", "GroupMember.Read.All"),
        (503, "group membership look-up failed", "ServiceNotAvailable"),
    ],
)
async def test_when_graph_cannot_answer_the_click_is_refused_until_it_can(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    graph_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    status: int,
    logged: str,
    named: str,
) -> None:
    fake_graph.add_group_member(SUPPORT_GROUP, str(RECEIVER.aad_object_id))
    bot, card, message_id = await group_card(start_bot, fake_connector, clock, tmp_path, graph_env)
    # 503 outlasts the client's retries (Retry-After: 0 keeps the test fast).
    count = 1 if status == 403 else 5
    fake_graph.fail_next(status, count, retry_after=0, method="POST", path_contains="MemberGroups")

    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    shown = await refused_press(bot, fake_connector, how, click, sqlite_url)
    assert access.MEMBERSHIP_UNKNOWN in shown, "the clicker is told to try again"
    assert refusals(caplog, "card action refused") == ["membership unknown"]
    [record] = [r for r in caplog.records if r.getMessage() == logged]
    assert named in str(getattr(record, "error", "")), "the admin reads what to fix"

    # Nothing was remembered from the failure: the next press asks again and goes through.
    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    assert "accepted" in (await press(bot, fake_connector, how, click)).lower()
    assert await owner_of_case(sqlite_url) == RECEIVER.id


async def test_without_an_aad_object_id_groups_cannot_be_asked_and_the_click_is_refused(
    how: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    graph_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_graph.add_group_member(SUPPORT_GROUP, str(RECEIVER.aad_object_id))
    bot, card, message_id = await group_card(start_bot, fake_connector, clock, tmp_path, graph_env)
    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    del click["from"]["aadObjectId"]

    shown = await refused_press(bot, fake_connector, how, click, sqlite_url)
    assert access.NOT_IN_TEAM in shown
    assert refusals(caplog, "card action refused") == ["not in the team"]
    [warned] = [
        r for r in caplog.records if r.getMessage() == "no AAD object id to check group membership"
    ]
    assert getattr(warned, "user_id", None) == RECEIVER.id
    assert group_checks(fake_graph) == []


async def test_before_the_channel_is_set_up_group_members_act_and_others_are_refused(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    graph_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    for member in (DEFAULT_USER, RECEIVER):
        fake_graph.add_group_member(SUPPORT_GROUP, str(member.aad_object_id))
    fake_graph.add_teams_user(OUTSIDER)
    config = config_file(tmp_path, allowed_groups=[SUPPORT_GROUP])
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config, **graph_env)
    await request_handoff(bot, fake_connector)
    # A group member's status card, which offers them Accept.
    status = activities.personal_message(
        f"status {CASE}", fake_connector.url, **user_fields(RECEIVER)
    )
    await post(bot, status)
    [shown] = await fake_connector.wait_for(
        lambda r: r.method == "POST" and "History" in str(r.body),
        description="the status card",
    )
    card, message_id = shown.body["attachments"][0]["content"], str(shown.response["id"])

    click = invoke_for(fake_connector, card, message_id, "accept", OUTSIDER)
    said = await refused_press(bot, fake_connector, "invoke", click, sqlite_url)
    # The groups tell a member from a stranger even with no team known yet.
    assert access.NOT_IN_TEAM in said
    assert refusals(caplog, "card action refused") == ["not in the team"]
    click = invoke_for(fake_connector, card, message_id, "accept", RECEIVER)
    assert "accepted" in (await press(bot, fake_connector, "invoke", click)).lower()
    assert await owner_of_case(sqlite_url) == RECEIVER.id
