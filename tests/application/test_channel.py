"""`setup` binds the Case Transfer channel (audited, and the waiting handoffs' cards posted
there), and `case_transfer_team` says whose members act on cards: as use cases over a real
SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application import channel, messages
from application.channel import CASE_TRANSFER_CHANNEL, case_transfer_team
from application.request import Request
from application.transfers import CardAction
from handoff import effects
from handoff.access import SETUP_BOUND_TEAM_ONLY, SETUP_NOT_ALLOWED
from handoff.models import AuditEntry, AuditKind, Handoff, Person
from handoff.ports import CardRef, ConversationKind

from harness import records
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID
from harness.scenario import (
    ANA,
    BO,
    LEAD,
    STRANGER,
    Scenario,
    open_scenario,
    process_with,
)

OTHER_CHANNEL = "19:another-channel@thread.tacv2"
UNCONFIGURED = {"team_id": "", "channel_id": "", "allowed_teams": [], "allowed_groups": []}


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    """No leads; the Case Transfer team is configured and BO is in it."""
    async for opened in open_scenario(tmp_path):
        opened.join(BO)
        yield opened


@pytest.fixture
async def with_leads(tmp_path: Path) -> AsyncIterator[Scenario]:
    process = process_with(tmp_path, leads=[{"name": LEAD.name, "teams_id": LEAD.id}])
    async for opened in open_scenario(tmp_path, process):
        opened.join(BO)
        yield opened


@pytest.fixture
async def unconfigured(tmp_path: Path) -> AsyncIterator[Scenario]:
    """The shipped process: no leads, no Case Transfer team or channel configured."""
    async for opened in open_scenario(tmp_path, process_with(tmp_path)):
        yield opened


def in_channel(scenario: Scenario, actor: Person, channel: str = DEFAULT_CHANNEL_ID) -> Request:
    return scenario.request(actor, kind=ConversationKind.CHANNEL, conversation_id=channel)


async def setup(scenario: Scenario, request: Request) -> list[str]:
    reply = await scenario.command("setup", request)
    assert all(isinstance(said, str) for said in reply)
    return [str(said) for said in reply]


async def bound(scenario: Scenario) -> str | None:
    return await scenario.store.get_setting(CASE_TRANSFER_CHANNEL)


async def bindings(scenario: Scenario) -> list[AuditEntry]:
    return [
        entry
        for entry in await scenario.store.audit_entries()
        if entry.kind is AuditKind.CHANNEL_BOUND
    ]


async def requested(scenario: Scenario, number: str) -> Handoff:
    return await scenario.use_cases.service.request(
        records.answers(number, "EMEA", "US"), records.PLACEHOLDER_OUTPUTS, ANA
    )


async def test_setup_works_only_in_a_channel(scenario: Scenario) -> None:
    assert await setup(scenario, scenario.request(BO)) == [messages.setup_in_channel()]
    group = scenario.request(BO, kind=ConversationKind.GROUP_CHAT, conversation_id="19:g@thread.v2")
    assert await setup(scenario, group) == [messages.setup_in_channel()]
    assert await bound(scenario) is None


async def test_with_leads_only_a_lead_binds(with_leads: Scenario) -> None:
    assert await setup(with_leads, in_channel(with_leads, BO)) == [SETUP_NOT_ALLOWED]
    assert await bound(with_leads) is None and await bindings(with_leads) == []
    assert await setup(with_leads, in_channel(with_leads, LEAD)) == [messages.setup_done(0)]
    assert await bound(with_leads) == DEFAULT_CHANNEL_ID


async def test_a_stranger_to_the_team_cannot_move_the_channel(scenario: Scenario) -> None:
    assert await setup(scenario, in_channel(scenario, STRANGER)) == [SETUP_BOUND_TEAM_ONLY]
    assert await bound(scenario) is None and await bindings(scenario) == []


async def test_setup_binds_the_channel_and_audits_it(scenario: Scenario) -> None:
    assert await setup(scenario, in_channel(scenario, BO)) == [messages.setup_done(0)]
    assert await bound(scenario) == DEFAULT_CHANNEL_ID
    [entry] = await bindings(scenario)
    assert entry.actor.id == BO.id and entry.subject == DEFAULT_CHANNEL_ID
    assert entry.at == scenario.clock.at
    assert entry.data == {
        "team_name": "Support",
        "channel_name": "Case Transfer",
        "team_id": DEFAULT_TEAM_ID,
        "previous_channel": "",
    }
    assert scenario.woken == 0  # nothing was waiting


async def test_setup_posts_the_cards_of_the_open_handoffs_still_waiting(
    scenario: Scenario,
) -> None:
    waiting = await requested(scenario, "2311230040001111")
    also_waiting = await requested(scenario, "2311230040002222")
    posted = await requested(scenario, "2311230040003333")
    await scenario.store.set_card(posted.id, CardRef(conversation_id="c", activity_id="1:m"))
    closed = await requested(scenario, "2311230040004444")
    cancelled = await scenario.use_cases.card_actions.run(
        CardAction("cancel", closed.id, closed.version, {}), scenario.request(ANA)
    )
    assert cancelled.done

    said = await setup(scenario, in_channel(scenario, BO))
    assert said == [messages.setup_done(2)]
    assert "Posting the 2 open handoffs that were waiting." in said[0]
    to_channel = [
        item.payload["handoff_id"]
        for item in await scenario.queued(effects.OutboxKind.POST_CARD)
        if item.dedupe_key.endswith(f":{DEFAULT_CHANNEL_ID}")
    ]
    assert sorted(to_channel) == sorted([waiting.id, also_waiting.id])
    assert scenario.woken == 1


async def test_setup_reads_the_waiting_handoffs_a_page_at_a_time_up_to_its_bound(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of 2 and a bound of 5, for 7 requested in the same instant: the ties are broken
    # by id, so each is read once, the oldest first, and the last two wait for their cards.
    monkeypatch.setattr(channel, "WAITING_CARDS_PAGE", 2)
    monkeypatch.setattr(channel, "WAITING_CARDS_AT_SETUP", 5)
    waiting = [await requested(scenario, f"231123004000{n:04d}") for n in range(7)]
    oldest_first = [h.id for h in await scenario.store.list_open(None, limit=7)]
    assert sorted(oldest_first) == sorted(h.id for h in waiting)

    said = await setup(scenario, in_channel(scenario, BO))

    assert said == [messages.setup_done(5)]
    to_channel = [
        item.payload["handoff_id"]
        for item in await scenario.queued(effects.OutboxKind.POST_CARD)
        if item.dedupe_key.endswith(f":{DEFAULT_CHANNEL_ID}")
    ]
    assert sorted(to_channel) == sorted(oldest_first[:5])


async def test_rebinding_records_the_previous_channel(scenario: Scenario) -> None:
    await setup(scenario, in_channel(scenario, BO))
    await setup(scenario, in_channel(scenario, BO, OTHER_CHANNEL))
    assert await bound(scenario) == OTHER_CHANNEL
    newest, first = await bindings(scenario)
    assert first.data["previous_channel"] == ""
    assert newest.subject == OTHER_CHANNEL
    assert newest.data["previous_channel"] == DEFAULT_CHANNEL_ID
    # Binding the same channel again names no previous one.
    await setup(scenario, in_channel(scenario, BO, OTHER_CHANNEL))
    assert (await bindings(scenario))[0].data["previous_channel"] == ""


async def test_the_configured_team_is_the_case_transfer_team(scenario: Scenario) -> None:
    team = case_transfer_team(scenario.store, DEFAULT_TEAM_ID, "")
    assert await team() == DEFAULT_TEAM_ID


async def test_else_the_team_of_the_bound_channel(unconfigured: Scenario) -> None:
    team = case_transfer_team(unconfigured.store, "", "")
    assert await team() == ""
    request = in_channel(unconfigured, ANA)
    # The edge stores the channel's address as the message comes in.
    assert request.conversation.address is not None
    await unconfigured.store.save_conversation(request.conversation.address(unconfigured.clock.at))
    assert await team() == ""  # known, but not bound yet
    # With no leads and no team known, anyone binds the first channel.
    assert await setup(unconfigured, request) == [messages.setup_done(0)]
    assert await team() == DEFAULT_TEAM_ID


async def test_or_the_team_of_the_configured_channel(unconfigured: Scenario) -> None:
    request = in_channel(unconfigured, ANA)
    assert request.conversation.address is not None
    await unconfigured.store.save_conversation(request.conversation.address(unconfigured.clock.at))
    assert await case_transfer_team(unconfigured.store, "", DEFAULT_CHANNEL_ID)() == DEFAULT_TEAM_ID
