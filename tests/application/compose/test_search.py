"""The compose box's search and link unfurling as a use case, over a real SQLite file: what the
terms of a query are, who is shown what where (the read policy of `list`, `mine` and `status`),
the person's own handoffs, the cut at RESULTS_LIMIT, and links to case pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from application.compose.search import (
    RESULTS_LIMIT,
    Results,
    none_of_yours,
    not_a_case_number,
    nothing_found,
    search_terms,
)
from cards.compose_cards import THUMBNAIL_CONTENT_TYPE
from cards.elements import CARD_CONTENT_TYPE
from handoff import access
from handoff.models import Handoff, Person
from handoff.ports import ConversationKind
from handoff.state_machine import Accept

from harness import records
from harness.card_schema import assert_valid_card
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID
from harness.scenario import ANA, BO, LEAD, STRANGER, Scenario, open_scenario, process_with

CASE = "2311230040001234"
TEMPLATE = "https://support.example.com/cases/{case}"


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    process = process_with(
        tmp_path,
        case_transfer={"team_id": DEFAULT_TEAM_ID, "channel_id": DEFAULT_CHANNEL_ID},
        leads=[{"name": LEAD.name, "teams_id": LEAD.id}],
        case_system={"url_template": TEMPLATE},
    )
    async for opened in open_scenario(tmp_path, process):
        # Everyone has a chat with the bot: a personal request is from that chat.
        for person in (ANA, BO, LEAD, STRANGER):
            await opened.reachable(person)
        yield opened


async def requested(
    scenario: Scenario, number: str = CASE, by: Person = ANA, title: str = ""
) -> Handoff:
    answers = records.answers(number, "EMEA", "US")
    answers = replace(answers, case=answers.case.model_copy(update={"title": title}))
    return await scenario.use_cases.service.request(answers, records.PLACEHOLDER_OUTPUTS, by)


def numbers(results: Results) -> list[str]:
    assert results.said is None, results.said
    return [
        str(found.content["body"][0]["text"]).split()[1]
        for found in results.found
        if found.content_type == CARD_CONTENT_TYPE
    ]


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("2311 2300-4000", ("231123004000", ())),
        ("Autoscale NODES", ("", ("autoscale", "nodes"))),
        ("1234 kafka lag", ("1234", ("kafka", "lag"))),
        (" ".join(f"w{n}" for n in range(12)), ("", tuple(f"w{n}" for n in range(8)))),
        ("-", ("", ())),
    ],
)
def test_a_query_is_read_as_digits_of_the_number_and_words_of_the_title(
    query: str, terms: tuple[str, tuple[str, ...]]
) -> None:
    assert search_terms(query) == terms


async def test_a_member_finds_any_case_and_gets_the_teams_card_with_its_link(
    scenario: Scenario,
) -> None:
    await requested(scenario, title="Autoscale stops")
    scenario.join(BO)
    results = await scenario.use_cases.case_search.search(scenario.request(BO), "autoscale")
    [found] = results.found
    assert numbers(results) == [CASE]
    assert_valid_card(found.content)
    assert found.content["actions"][-1]["url"] == TEMPLATE.format(case=CASE)
    assert found.preview["subtitle"] == "EMEA → US · requested"


async def test_the_requester_searching_in_their_chat_still_gets_the_teams_copy(
    scenario: Scenario,
) -> None:
    await requested(scenario)
    scenario.join(ANA)
    [found] = (await scenario.use_cases.case_search.search(scenario.request(ANA), CASE)).found
    titles = [a["title"] for a in found.content["actions"]]
    assert "Cancel" not in titles and "Accept" in titles


async def test_a_lead_finds_cases_without_being_a_member(scenario: Scenario) -> None:
    await requested(scenario)
    results = await scenario.use_cases.case_search.search(scenario.request(LEAD), "1234")
    assert numbers(results) == [CASE]


async def test_a_stranger_is_refused_whatever_they_type(scenario: Scenario) -> None:
    await requested(scenario, by=ANA)
    search = scenario.use_cases.case_search
    for query in (CASE, "autoscale", ""):
        results = await search.search(scenario.request(STRANGER), query)
        assert results == Results(said=access.NOT_YOURS_TO_LIST)


async def test_where_lists_are_not_shown_nothing_is_searched(scenario: Scenario) -> None:
    await requested(scenario)
    scenario.join(BO)
    search = scenario.use_cases.case_search
    chat = scenario.request(BO, kind=ConversationKind.GROUP_CHAT, conversation_id="19:chat")
    assert await search.search(chat, CASE) == Results(said=access.NOT_SHOWN_HERE)
    assert await search.search(chat, "") == Results(said=access.NOT_SHOWN_HERE)
    other = scenario.request(BO, kind=ConversationKind.CHANNEL, team_id="19:other-team")
    assert await search.search(other, CASE) == Results(said=access.NOT_SHOWN_HERE)
    channel = scenario.request(BO, kind=ConversationKind.CHANNEL)
    assert numbers(await search.search(channel, CASE)) == [CASE]


@pytest.mark.parametrize("chat", ["19:ana_bo@unq.gbl.spaces", "19:meeting_x@thread.v2"])
async def test_a_personal_chat_other_than_the_bots_is_read_by_others_too(
    scenario: Scenario, chat: str
) -> None:
    """Teams calls a chat between two people (and a meeting's chat) personal as well."""
    await requested(scenario)
    scenario.join(BO)
    with_someone = scenario.request(BO, conversation_id=chat)
    search = scenario.use_cases.case_search
    assert await search.search(with_someone, CASE) == Results(said=access.NOT_SHOWN_HERE)
    assert await search.search(with_someone, "") == Results(said=access.NOT_SHOWN_HERE)
    assert await search.unfurl(with_someone, TEMPLATE.format(case=CASE)) == Results()


async def test_someone_the_bot_has_no_chat_with_is_not_shown_cases(tmp_path: Path) -> None:
    async for scenario in open_scenario(tmp_path):
        await requested(scenario)
        scenario.join(BO)
        results = await scenario.use_cases.case_search.search(scenario.request(BO), CASE)
        assert results == Results(said=access.NOT_SHOWN_HERE)


async def test_nothing_typed_shows_ones_own_open_handoffs_and_cases_taken_lately(
    scenario: Scenario,
) -> None:
    search = scenario.use_cases.case_search
    mine = await requested(scenario, CASE, by=ANA)
    taken_long_ago = await requested(scenario, "1000000001", by=BO)
    await scenario.use_cases.service.act(taken_long_ago.id, Accept(actor=ANA), 1)
    scenario.clock.at += timedelta(days=20)
    taken = await requested(scenario, "1000000002", by=BO)
    await scenario.use_cases.service.act(taken.id, Accept(actor=ANA), 1)
    scenario.clock.at += timedelta(hours=1)
    await requested(scenario, "1000000003", by=BO)  # Bo's, not Ana's
    assert numbers(await search.search(scenario.request(ANA), "")) == [CASE, "1000000002"]
    assert mine.state.is_open


async def test_a_member_with_nothing_of_their_own_is_told_how_to_search(
    scenario: Scenario,
) -> None:
    scenario.join(BO)
    results = await scenario.use_cases.case_search.search(scenario.request(BO), "  ")
    assert results == Results(said=none_of_yours())


async def test_no_match_and_too_long_a_number_say_so(scenario: Scenario) -> None:
    scenario.join(BO)
    search = scenario.use_cases.case_search
    assert await search.search(scenario.request(BO), "kafka") == Results(
        said=nothing_found("kafka")
    )
    assert "…" in nothing_found("x" * 100) and len(nothing_found("x" * 100)) < 250
    assert await search.search(scenario.request(BO), "9" * 21) == Results(said=not_a_case_number())


async def test_more_matches_than_the_limit_end_with_a_line_saying_so(scenario: Scenario) -> None:
    for n in range(RESULTS_LIMIT + 1):
        await requested(scenario, f"30000000{n:02d}", title="Kafka lag")
    scenario.join(BO)
    results = await scenario.use_cases.case_search.search(scenario.request(BO), "kafka")
    assert len(numbers(results)) == RESULTS_LIMIT
    assert results.found[-1].content_type == THUMBNAIL_CONTENT_TYPE
    exactly = await scenario.use_cases.case_search.search(scenario.request(BO), "3000000001")
    assert [f.content_type for f in exactly.found] == [CARD_CONTENT_TYPE]


async def test_a_case_link_unfurls_for_whoever_may_read_the_case_there(
    scenario: Scenario,
) -> None:
    await requested(scenario)
    scenario.join(BO)
    unfurl = scenario.use_cases.case_search.unfurl
    link = TEMPLATE.format(case=CASE)
    [card] = (await unfurl(scenario.request(BO), link)).found
    assert_valid_card(card.content)
    # The requester reads their own case even outside the team.
    assert len((await unfurl(scenario.request(ANA), link)).found) == 1
    assert await unfurl(scenario.request(STRANGER), link) == Results()
    chat = scenario.request(BO, kind=ConversationKind.GROUP_CHAT, conversation_id="19:chat")
    assert await unfurl(chat, link) == Results()
    assert await unfurl(scenario.request(BO), TEMPLATE.format(case="2399999999")) == Results()
    assert await unfurl(scenario.request(BO), "https://elsewhere.example/x") == Results()


async def test_without_a_case_system_no_link_unfurls(tmp_path: Path) -> None:
    async for scenario in open_scenario(tmp_path):
        await requested(scenario)
        scenario.join(BO)
        await scenario.reachable(BO)
        link = TEMPLATE.format(case=CASE)
        assert await scenario.use_cases.case_search.unfurl(scenario.request(BO), link) == Results()
