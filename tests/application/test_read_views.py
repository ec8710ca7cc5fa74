"""status, list, mine, agenda and shifts as use cases: plain requests over a real SQLite file.
Each asks the read policy first; a stranger learns nothing, not even whether a case exists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from application import messages
from cards.transfer_card import local_time
from handoff.models import Handoff, HandoffNotes, NextContact, Person
from handoff.ports import ConversationKind
from handoff.state_machine import Accept

from harness import records
from harness.card_schema import assert_valid_card
from harness.chat import all_text
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


async def test_status_shows_the_cases_journey_in_a_chat_and_in_the_channel(
    scenario: Scenario,
) -> None:
    service, clock = scenario.use_cases.service, scenario.clock
    start = clock.at
    first = await requested(scenario)
    clock.at = start + timedelta(hours=2, minutes=30)
    await service.act(first.id, Accept(actor=BO), first.version)
    clock.at = start + timedelta(hours=4)
    second = await service.request(
        records.answers(CASE, "US", "APAC"), records.PLACEHOLDER_OUTPUTS, BO
    )
    clock.at = start + timedelta(hours=6, minutes=45)
    scenario.join(BO)
    scenario.join(ANA)
    expected = (
        "**EMEA** (Ana Lopez) 2 hours 30 minutes → **US** (Bo Receiver) 4 hours 15 minutes so far"
        f" → waiting for APAC since {local_time(second.created_at)}"
    )
    [mine] = cards(await scenario.command("status", scenario.request(ANA, CASE)))
    channel = scenario.request(BO, CASE, kind=ConversationKind.CHANNEL)
    [posted] = cards(await scenario.command("status", channel))
    for card in (mine, posted):
        assert_valid_card(card)
        assert expected in all_text(card)


async def test_an_old_record_without_its_state_time_is_timed_by_its_accept_event(
    scenario: Scenario,
) -> None:
    # Written before the time a state began was kept, and changed after its accept (flagged
    # long-running, say): the accept's time comes from the handoff's own history.
    service, clock = scenario.use_cases.service, scenario.clock
    start = clock.at
    first = await requested(scenario)
    clock.at = start + timedelta(hours=1)
    taken = (await service.act(first.id, Accept(actor=BO), first.version)).handoff
    old = taken.model_copy(
        update={
            "state_since": None,
            "updated_at": start + timedelta(hours=5),
            "version": taken.version + 1,
        }
    )
    await scenario.store.save(old, taken.version, [])
    clock.at = start + timedelta(hours=2)
    await service.request(records.answers(CASE, "US", "APAC"), records.PLACEHOLDER_OUTPUTS, BO)
    clock.at = start + timedelta(hours=8)
    scenario.join(ANA)
    [card] = cards(await scenario.command("status", scenario.request(ANA, CASE)))
    assert "**EMEA** (Ana Lopez) 1 hour → **US** (Bo Receiver) 7 hours so far" in all_text(card)


OVERDUE = "Next customer contact overdue since Mon Nov 23, 2026, 5:00 AM CST (America/Chicago)"


async def test_mine_list_and_status_flag_a_next_contact_overdue_while_nobody_took_the_case(
    scenario: Scenario,
) -> None:
    # Promised for 11:00 UTC, 05:00 in the customer's Chicago, an hour from now.
    contact = NextContact(
        at=scenario.clock.at + timedelta(hours=1), who_waits="Customer waits for our call"
    )
    notes = HandoffNotes(summary="Autoscale stops at 20 nodes.", next_customer_contact=contact)
    handoff = await scenario.use_cases.service.request(
        records.answers(CASE, "EMEA", "US", notes=notes), records.PLACEHOLDER_OUTPUTS, ANA
    )
    scenario.join(BO)

    async def shown(command: str, who: Person, *args: str) -> str:
        [card] = cards(await scenario.command(command, scenario.request(who, *args)))
        assert_valid_card(card)
        return all_text(card)

    assert OVERDUE not in await shown("mine", ANA)
    scenario.clock.at = contact.at + timedelta(minutes=5)
    assert OVERDUE in await shown("mine", ANA)
    assert OVERDUE in await shown("status", ANA, CASE)
    assert OVERDUE in await shown("list", BO)
    # Once Bo took the case he was reminded; the bot cannot see his call, so no flag after.
    await scenario.use_cases.service.act(handoff.id, Accept(actor=BO), handoff.version)
    assert OVERDUE not in await shown("mine", BO)
    assert OVERDUE not in await shown("status", BO, CASE)
