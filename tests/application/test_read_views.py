"""status, list, mine, agenda and shifts as use cases: plain requests over a real SQLite file.
Each asks the read policy first; a stranger learns nothing, not even whether a case exists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application import messages
from handoff.models import Handoff
from handoff.ports import ConversationKind

from harness import records
from harness.scenario import ANA, BO, STRANGER, Scenario, cards, open_scenario, texts

CASE = "2311230040001234"


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        yield opened


async def requested(scenario: Scenario, number: str = CASE, target: str = "US") -> Handoff:
    return await scenario.use_cases.service.request(
        records.answers(number, "EMEA", target), records.PLACEHOLDER_OUTPUTS, ANA
    )


def card_text(card: dict[str, object]) -> str:
    return str(card)


async def test_the_requester_sees_their_case_with_its_history(scenario: Scenario) -> None:
    await requested(scenario)
    reply = await scenario.command("status", scenario.request(ANA, CASE))
    [card] = cards(reply)
    assert CASE in card_text(card)
    assert "Ana Lopez" in card_text(card)


async def test_a_stranger_is_told_the_same_for_a_real_and_an_unknown_case(
    scenario: Scenario,
) -> None:
    await requested(scenario)
    real = await scenario.command("status", scenario.request(STRANGER, CASE))
    unknown = await scenario.command("status", scenario.request(STRANGER, "2311230040009999"))
    assert cards(real) == [] and cards(unknown) == []
    assert texts(real) == [t.replace("2311230040009999", CASE) for t in texts(unknown)]


async def test_a_team_member_sees_any_case_and_the_open_list(scenario: Scenario) -> None:
    await requested(scenario)
    await requested(scenario, "2311230040005678", "APAC")
    scenario.join(BO)
    [status] = cards(await scenario.command("status", scenario.request(BO, CASE)))
    assert CASE in card_text(status)
    [listed] = cards(await scenario.command("list", scenario.request(BO, "US")))
    assert CASE in card_text(listed) and "2311230040005678" not in card_text(listed)


async def test_list_refuses_a_stranger_and_a_word_that_is_no_region(scenario: Scenario) -> None:
    await requested(scenario)
    refused = await scenario.command("list", scenario.request(STRANGER))
    assert cards(refused) == [] and CASE not in " ".join(texts(refused))
    scenario.join(BO)
    not_a_region = await scenario.command("list", scenario.request(BO, "MARS"))
    assert texts(not_a_region) == [
        messages.unknown_region("MARS", scenario.use_cases.schedule.travel_order)
    ]


async def test_mine_lists_only_the_persons_own(scenario: Scenario) -> None:
    await requested(scenario)
    [own] = cards(await scenario.command("mine", scenario.request(ANA)))
    [none] = cards(await scenario.command("mine", scenario.request(BO)))
    assert CASE in card_text(own)
    assert CASE not in card_text(none) and "None yet" in card_text(none)


async def test_a_channel_of_another_team_is_not_shown_cases(scenario: Scenario) -> None:
    await requested(scenario)
    scenario.join(BO, "19:other-team")
    reply = await scenario.command(
        "status",
        scenario.request(BO, CASE, kind=ConversationKind.CHANNEL, team_id="19:other-team"),
    )
    assert cards(reply) == []


async def test_shifts_are_shown_in_the_readers_zone(scenario: Scenario) -> None:
    berlin = await scenario.command("shifts", scenario.request(ANA, client_zone="Europe/Berlin"))
    utc = await scenario.command("shifts", scenario.request(ANA))
    assert "times in Europe/Berlin" in texts(berlin)[0]
    assert "times in Etc/UTC" in texts(utc)[0]
    assert texts(berlin) != texts(utc)
