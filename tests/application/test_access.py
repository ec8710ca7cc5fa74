"""The access policy asked for a request, where it came from and who sees the answer: a case
is shown in a personal chat, a channel of the Case Transfer team, or its own group chat;
strangers are refused, and "cannot tell now" is never taken for a yes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from application.request import Request
from handoff.access import (
    MEMBERSHIP_UNKNOWN,
    NOT_IN_TEAM_TO_REQUEST,
    NOT_SHOWN_HERE,
    NOT_YOURS_TO_SEE,
)
from handoff.long_running import ChatMember, GroupChat, GroupChatState
from handoff.models import Handoff
from handoff.ports import ConversationKind

from harness import records
from harness.scenario import ANA, BO, STRANGER, Scenario, open_scenario, process_with

CASE = "2311230040001234"
OTHER_CASE = "2311230040005678"
CHAT = "19:chat-of-1234@thread.v2"


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        opened.join(BO)
        yield opened


async def requested(scenario: Scenario, number: str = CASE) -> Handoff:
    return await scenario.use_cases.service.request(
        records.answers(number, "EMEA", "US"), records.PLACEHOLDER_OUTPUTS, ANA
    )


async def chat_of(scenario: Scenario, number: str) -> None:
    member = ChatMember(aad_object_id="aad-bo", name="Bo Receiver", region="US")
    await scenario.store.plan_group_chat(
        GroupChat(case_number=number, topic=f"Case {number}", members=(member,))
    )
    await scenario.store.update_group_chat(number, GroupChatState.POSTED, chat_id=CHAT)


def in_chat(scenario: Scenario) -> Request:
    return scenario.request(BO, kind=ConversationKind.GROUP_CHAT, conversation_id=CHAT)


async def test_a_cases_own_group_chat_shows_that_case_only(scenario: Scenario) -> None:
    mine = await requested(scenario)
    other = await requested(scenario, OTHER_CASE)
    await chat_of(scenario, CASE)
    access = scenario.use_cases.access
    assert await access.read(in_chat(scenario), mine) is None
    assert await access.read(in_chat(scenario), other) == NOT_SHOWN_HERE
    # Nor a list of several cases.
    assert await access.see_open(in_chat(scenario)) == NOT_SHOWN_HERE
    assert await access.show_own(in_chat(scenario)) == NOT_SHOWN_HERE


async def test_a_group_chat_that_is_no_cases_shows_none(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    request = scenario.request(
        BO, kind=ConversationKind.GROUP_CHAT, conversation_id="19:random@thread.v2"
    )
    assert await scenario.use_cases.access.read(request, handoff) == NOT_SHOWN_HERE


async def test_the_cases_people_read_it_and_strangers_do_not(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    access = scenario.use_cases.access
    assert await access.read(scenario.request(ANA), handoff) is None
    assert await access.read(scenario.request(BO), handoff) is None
    assert await access.read(scenario.request(STRANGER), handoff) == NOT_YOURS_TO_SEE
    assert await access.read(scenario.request(STRANGER), None, case=CASE) == NOT_YOURS_TO_SEE


async def test_cannot_tell_now_is_not_a_yes(scenario: Scenario) -> None:
    handoff = await requested(scenario)

    async def unknown(_team: str) -> bool | None:
        return None  # Teams did not answer

    request = replace(scenario.request(BO), member_of=unknown)
    access = scenario.use_cases.access
    assert await access.read(request, handoff) == MEMBERSHIP_UNKNOWN
    assert await access.act(request, "accept", handoff) == MEMBERSHIP_UNKNOWN
    assert await access.request(request) == MEMBERSHIP_UNKNOWN


async def test_requesting_is_for_members(scenario: Scenario) -> None:
    access = scenario.use_cases.access
    assert await access.request(scenario.request(BO)) is None
    assert await access.request(scenario.request(STRANGER)) == NOT_IN_TEAM_TO_REQUEST


async def test_before_any_team_is_known_anyone_requests(tmp_path: Path) -> None:
    async for scenario in open_scenario(tmp_path, process_with(tmp_path)):
        assert await scenario.use_cases.access.request(scenario.request(STRANGER)) is None


async def test_read_and_act_reads_first(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    access = scenario.use_cases.access
    # The requester may read, but cancel is hers alone.
    assert await access.read_and_act(scenario.request(BO), "cancel", handoff, CASE) == (
        "Only Ana Lopez, who requested this handoff, can do that."
    )
    # A stranger hears the read refusal, whatever the case.
    stranger = scenario.request(STRANGER)
    assert await access.read_and_act(stranger, "cancel", handoff, CASE) == NOT_YOURS_TO_SEE
    assert await access.read_and_act(stranger, "cancel", None, OTHER_CASE) == NOT_YOURS_TO_SEE
