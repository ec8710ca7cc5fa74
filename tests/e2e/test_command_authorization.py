"""The commands and forms that change a handoff follow the card buttons' rules, over real
HTTP: a group chat's owners form, `longrunning <case> <why>`, `escalate <case> technical` and
`setup`. Each refusal is told, changes nothing in the store and is logged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from application import messages
from application.channel import CASE_TRANSFER_CHANNEL
from cards.long_running_card import CHAT_OWNERS, owner_field
from config.settings import DEFAULT_CONFIG_PATH
from handoff import access
from handoff.errors import IllegalTransition
from handoff.models import Handoff, HandoffState
from handoff.service import HandoffService
from handoff.state_machine import Accept, Cancel, SendBackToQueue
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities, records
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.fake_graph import FakeGraph
from harness.fake_token_service import FakeTokenService
from harness.graph_access import graph_settings
from harness.handoff_flow import (
    CASE,
    RECEIVER,
    TUESDAY,
    command_by,
    person,
    post,
    refusals,
    set_up_channel,
    told,
    user_fields,
)
from harness.ids import DEFAULT_TEAM_ID, DEFAULT_USER, TeamsUser, channel_id_for, fake_user

OUTSIDER = fake_user("Olga Outsider")
OTHER_TEAM = channel_id_for("Escalation Engineers")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def bound_bot(
    start_bot: StartBot, connector: FakeConnector, clock: FakeClock, **settings: str
) -> RunningBot:
    """The bot with its Case Transfer channel bound in a team of the requester and RECEIVER."""
    connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER, RECEIVER])
    bot = await start_bot(clock=clock, **settings)
    await set_up_channel(bot, connector)
    return bot


async def seed(url: str, clock: FakeClock, *, accepted: bool, flagged: bool) -> Handoff:
    """CASE handed from EMEA (DEFAULT_USER) to US; taken by RECEIVER; flagged long-running."""
    store = await open_store(url, clock)
    try:
        service = HandoffService(store, clock)
        answers = records.answers(CASE, "EMEA", "US")
        handoff = await service.request(answers, records.PLACEHOLDER_OUTPUTS, person(DEFAULT_USER))
        if accepted:
            accept = Accept(actor=person(RECEIVER))
            handoff = (await service.act(handoff.id, accept, handoff.version)).handoff
        if flagged:
            handoff = await service.flag_long_running(
                handoff.id, person(DEFAULT_USER), "customer works in two time zones"
            )
        return handoff
    finally:
        await store.close()


async def stored(url: str, clock: FakeClock) -> tuple[Handoff, list[str], Any, str | None]:
    """The case's handoff, its event kinds, its group chat and the bound channel."""
    store = await open_store(url, clock)
    try:
        [handoff] = await store.for_case(CASE)
        kinds = [e.kind for e in await store.history(handoff.id)]
        return (
            handoff,
            kinds,
            await store.group_chat(CASE),
            await store.get_setting(CASE_TRANSFER_CHANNEL),
        )
    finally:
        await store.close()


async def owners_form_by(bot: RunningBot, connector: FakeConnector, user: TeamsUser) -> str:
    """What the bot answers `user` submitting the regional owners card."""
    form = activities.submit_message(owners_form(), connector.url, **user_fields(user))
    return await told(bot, connector, form)


def owners_form(**changes: str) -> dict[str, Any]:
    """The regional owners card as submitted: forged by whoever sends it."""
    return {
        "command": CHAT_OWNERS,
        "case": CASE,
        "preference": "global",
        owner_field("EMEA"): str(DEFAULT_USER.aad_object_id),
        owner_field("US"): str(RECEIVER.aad_object_id),
        **changes,
    }


async def test_a_forged_owners_form_makes_no_group_chat(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    fake_token_service: FakeTokenService,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Group chats configured: without them the form is refused to everyone, saying so.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    graph = graph_settings(fake_graph, fake_token_service)
    bot = await bound_bot(start_bot, fake_connector, clock, **graph)
    await seed(sqlite_url, clock, accepted=True, flagged=True)
    assert await owners_form_by(bot, fake_connector, OUTSIDER) == access.NOT_YOURS_TO_SEE
    *_, chat, _ = await stored(sqlite_url, clock)
    assert chat is None, "no chat planned and no create_group_chat queued"
    assert refusals(caplog, "read refused") == ["not in the team"]

    said = await owners_form_by(bot, fake_connector, RECEIVER)
    assert said.startswith(f"Making the group chat of case {CASE}"), said
    *_, chat, _ = await stored(sqlite_url, clock)
    assert chat is not None, "the case's owner may ask for the chat"


async def test_a_case_not_flagged_long_running_gets_no_group_chat(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await bound_bot(start_bot, fake_connector, clock)
    await seed(sqlite_url, clock, accepted=True, flagged=False)
    said = await owners_form_by(bot, fake_connector, RECEIVER)
    assert said == messages.not_long_running(CASE)
    *_, chat, _ = await stored(sqlite_url, clock)
    assert chat is None
    assert refusals(caplog, "chat owners refused") == ["not long-running"]


async def test_an_old_card_cannot_flag_a_cancelled_handoff(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    bot = await bound_bot(start_bot, fake_connector, clock)
    first = await seed(sqlite_url, clock, accepted=False, flagged=False)
    store = await open_store(sqlite_url, clock)
    try:
        await HandoffService(store, clock).act(first.id, Cancel(actor=person(DEFAULT_USER)))
    finally:
        await store.close()
    data = {"handoff_id": first.id, "version": first.version, "why": "two time zones"}
    press = activities.card_action_invoke("long_running", data, fake_connector.url, "old-card")
    _, body = await post(bot, press)
    assert messages.changed_meanwhile() in all_text(body["value"])
    handoff, kinds, _, _ = await stored(sqlite_url, clock)
    assert (handoff.state, handoff.long_running) == (HandoffState.CANCELLED, None)
    assert "long_running" not in kinds


async def test_a_handoff_sent_back_to_the_queue_or_flagged_is_not_flagged_again(
    sqlite_url: str, clock: FakeClock
) -> None:
    """The service's own guard, whoever calls it (the card's current version included)."""
    flagged = await seed(sqlite_url, clock, accepted=True, flagged=True)
    store = await open_store(sqlite_url, clock)
    try:
        service = HandoffService(store, clock)
        with pytest.raises(IllegalTransition, match="already marked long-running"):
            await service.flag_long_running(flagged.id, person(RECEIVER), "again")
        back = await service.request(
            records.answers("2311230040005555", "EMEA", "US"),
            records.PLACEHOLDER_OUTPUTS,
            person(DEFAULT_USER),
        )
        command = SendBackToQueue(actor=person(DEFAULT_USER), reason="wrong region")
        back = (await service.act(back.id, command, back.version)).handoff
        assert back.state is HandoffState.BACK_TO_QUEUE
        with pytest.raises(IllegalTransition, match="back to queue: it can no longer be flagged"):
            await service.flag_long_running(back.id, person(DEFAULT_USER), "zones")
    finally:
        await store.close()


async def test_longrunning_with_a_reason_follows_the_card_rules(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await bound_bot(start_bot, fake_connector, clock)
    await seed(sqlite_url, clock, accepted=False, flagged=False)
    text = f"longrunning {CASE} customer works in two time zones"
    # Refused before anything about the case is said (the read policy), then changes nothing.
    assert await command_by(bot, fake_connector, text, OUTSIDER) == access.NOT_YOURS_TO_SEE
    handoff, kinds, _, _ = await stored(sqlite_url, clock)
    assert handoff.long_running is None and "long_running" not in kinds
    assert refusals(caplog, "read refused") == ["not in the team"]

    assert "long-running" in await command_by(bot, fake_connector, text, RECEIVER)
    handoff, kinds, _, _ = await stored(sqlite_url, clock)
    assert handoff.long_running is not None and "long_running" in kinds


async def test_escalate_technical_follows_the_card_rules(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await bound_bot(start_bot, fake_connector, clock)
    await seed(sqlite_url, clock, accepted=True, flagged=False)
    text = f"escalate {CASE} technical"
    assert await command_by(bot, fake_connector, text, OUTSIDER) == access.NOT_YOURS_TO_SEE
    _, kinds, _, _ = await stored(sqlite_url, clock)
    assert "technical_escalation" not in kinds
    assert refusals(caplog, "read refused") == ["not in the team"]

    assert f"Case {CASE} goes up" in await command_by(bot, fake_connector, text, RECEIVER)
    _, kinds, _, _ = await stored(sqlite_url, clock)
    assert kinds.count("technical_escalation") == 1


async def test_a_member_of_an_allowed_group_may_use_the_commands_too(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    fake_graph: FakeGraph,
    fake_token_service: FakeTokenService,
    monkeypatch: pytest.MonkeyPatch,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    group = "5b0c7a1e-2f3d-4c5b-9a8e-1d2c3b4a5f60"
    member = fake_user("Gil Groupmember")
    fake_graph.add_group_member(group, str(member.aad_object_id))
    fake_graph.add_teams_user(OUTSIDER)
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["case_transfer"]["allowed_groups"] = [group]
    config = tmp_path / "groups.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    fake_connector.set_roster(DEFAULT_TEAM_ID, [DEFAULT_USER])
    bot = await start_bot(
        clock=clock,
        HANDOFF_CONFIG=str(config),
        **graph_settings(fake_graph, fake_token_service),
    )
    await set_up_channel(bot, fake_connector)
    await seed(sqlite_url, clock, accepted=False, flagged=False)
    text = f"longrunning {CASE} customer works in two time zones"

    # Refused before anything about the case is said (the read policy), then changes nothing.
    assert await command_by(bot, fake_connector, text, OUTSIDER) == access.NOT_YOURS_TO_SEE
    handoff, kinds, _, _ = await stored(sqlite_url, clock)
    assert handoff.long_running is None and "long_running" not in kinds
    assert refusals(caplog, "read refused") == ["not in the team"]

    assert "long-running" in await command_by(bot, fake_connector, text, member)
    handoff, kinds, _, _ = await stored(sqlite_url, clock)
    assert handoff.long_running is not None and "long_running" in kinds


async def test_with_no_leads_only_the_bound_team_moves_the_channel(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await bound_bot(start_bot, fake_connector, clock)
    await seed(sqlite_url, clock, accepted=False, flagged=False)
    *_, bound = await stored(sqlite_url, clock)
    elsewhere = channel_id_for("Hijacked")

    def setup_by(user: TeamsUser) -> dict[str, Any]:
        return activities.channel_message(
            "setup",
            fake_connector.url,
            team_id=OTHER_TEAM,
            team_name="Escalation Engineers",
            channel_id=elsewhere,
            **user_fields(user),
        )

    setup = setup_by(OUTSIDER)
    said = await told(bot, fake_connector, setup)
    *_, still = await stored(sqlite_url, clock)
    assert still == bound, "someone outside the bound team cannot move the channel"
    assert said == access.SETUP_BOUND_TEAM_ONLY
    assert refusals(caplog, "setup refused") == ["not in the bound team"]

    setup = setup_by(RECEIVER)
    assert "now the Case Transfer channel" in await told(bot, fake_connector, setup)
    *_, moved = await stored(sqlite_url, clock)
    assert moved == elsewhere, "a member of the bound team may move it"
