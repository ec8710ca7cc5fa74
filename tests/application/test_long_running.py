"""R-LONG as use cases over a real SQLite file: `longrunning <case> [why]`, `longrunning <case>
chat` and the regional owners form it shows, and `shiftend` in the case's group chat. No
Microsoft Graph here: what works without it, and what is said when group chats are not
configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from application import messages
from application.request import Request
from application.transfers import CardAction
from cards.long_running_card import CHAT_OWNERS
from handoff import effects
from handoff.long_running import ChatMember, GroupChat, GroupChatState
from handoff.models import Handoff, HandoffState, Person, Severity
from handoff.ports import ConversationKind

from harness import records
from harness.scenario import (
    ANA,
    BO,
    STRANGER,
    Scenario,
    card_words,
    cards,
    open_scenario,
    texts,
)

CASE = "2311230040001234"
UNKNOWN_CASE = "2311230040009999"
CHAT_ID = "19:case-1234-chat@thread.v2"
MISSING = ("MicrosoftAppTenantId", "TEAMS_APP_ID")
FLAG = ("customer", "works", "in", "two", "zones")


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        opened.join(BO)
        yield opened


@pytest.fixture
async def no_chats(tmp_path: Path) -> AsyncIterator[Scenario]:
    """Group chats not configured: an admin has still to set MISSING."""
    async for opened in open_scenario(tmp_path, group_chats_missing=MISSING):
        opened.join(BO)
        yield opened


async def requested(scenario: Scenario, severity: Severity = Severity.A) -> Handoff:
    return await scenario.use_cases.service.request(
        records.answers(CASE, "EMEA", "US", severity=severity), records.PLACEHOLDER_OUTPUTS, ANA
    )


async def accepted(scenario: Scenario) -> Handoff:
    """ANA (EMEA) hands the case to BO (US), who takes it: each region has had an owner."""
    handoff = await requested(scenario)
    result = await scenario.use_cases.card_actions.run(
        CardAction("accept", handoff.id, handoff.version, {}), scenario.request(BO)
    )
    assert result.done
    return await scenario.store.get(handoff.id)


async def say(scenario: Scenario, actor: Person, *args: str) -> list[str]:
    reply = await scenario.command("longrunning", scenario.request(actor, *args))
    assert cards(reply) == []
    return texts(reply)


# -- longrunning <case> [why] -------------------------------------------------------------


async def test_a_case_not_flagged_says_how_to_flag_it(scenario: Scenario) -> None:
    await requested(scenario)
    assert await say(scenario, BO, CASE) == [messages.not_long_running(CASE)]


async def test_a_case_that_cannot_be_long_running_says_so(scenario: Scenario) -> None:
    await requested(scenario, Severity.C)
    assert await say(scenario, BO, CASE) == [messages.not_long_running(CASE, can_be=False)]
    # Nor can it be flagged: the rule says why, and nothing is stored.
    [refused] = await say(scenario, BO, CASE, *FLAG)
    assert refused.startswith(f"Case {CASE} cannot be long-running")
    latest = await scenario.store.latest_for_case(CASE)
    assert latest is not None and latest.long_running is None


async def test_flagging_with_a_reason_marks_it_and_shows_its_owners(scenario: Scenario) -> None:
    handoff = await accepted(scenario)
    said = await say(scenario, BO, CASE, *FLAG)
    assert said == [
        messages.long_running_status(
            CASE,
            "flagged: customer works in two zones",
            {"EMEA": "Ana Lopez", "US": "Bo Receiver"},
        )
    ]
    assert "- EMEA: Ana Lopez\n- US: Bo Receiver" in said[0]
    assert f"**longrunning {CASE} chat**" in said[0]
    assert (await scenario.store.get(handoff.id)).long_running == (
        "flagged: customer works in two zones"
    )
    assert scenario.woken == 1
    # Asked again (with or without words), it only shows where the case stands.
    assert await say(scenario, BO, CASE) == said
    assert await say(scenario, BO, CASE, "another", "reason") == said


async def test_the_status_names_what_group_chats_still_need(no_chats: Scenario) -> None:
    await accepted(no_chats)
    [said] = await say(no_chats, BO, CASE, *FLAG)
    assert "an admin must set MicrosoftAppTenantId and TEAMS_APP_ID" in said
    assert "chat**" not in said


async def test_a_stranger_learns_nothing_of_the_case(scenario: Scenario) -> None:
    await requested(scenario)
    real = await say(scenario, STRANGER, CASE, *FLAG)
    unknown = await say(scenario, STRANGER, UNKNOWN_CASE, *FLAG)
    assert real == [said.replace(UNKNOWN_CASE, CASE) for said in unknown]
    latest = await scenario.store.latest_for_case(CASE)
    assert latest is not None and latest.long_running is None


async def test_without_a_case_number_it_says_how(scenario: Scenario) -> None:
    assert await say(scenario, BO) == [messages.long_running_usage()]
    assert await say(scenario, BO, UNKNOWN_CASE) == [messages.no_handoff_for(UNKNOWN_CASE)]


# -- longrunning <case> chat, and the owners form -----------------------------------------


async def test_a_chat_for_a_case_not_long_running_is_refused(scenario: Scenario) -> None:
    await accepted(scenario)
    assert await say(scenario, BO, CASE, "chat") == [messages.not_long_running(CASE)]


async def test_group_chats_not_configured_says_what_to_set(no_chats: Scenario) -> None:
    await accepted(no_chats)
    await say(no_chats, BO, CASE, *FLAG)
    [said] = await say(no_chats, BO, CASE, "chat")
    assert said == messages.group_chats_not_configured(CASE, MISSING)
    assert "An admin must set MicrosoftAppTenantId and TEAMS_APP_ID" in said
    assert "Nothing was changed" in said
    assert await no_chats.store.group_chat(CASE) is None


async def owners_card(scenario: Scenario) -> dict[str, Any]:
    await accepted(scenario)
    await say(scenario, BO, CASE, *FLAG)
    [card] = cards(await scenario.command("longrunning", scenario.request(BO, CASE, "chat")))
    return card


def filled(card: dict[str, Any], **inputs: str) -> dict[str, Any]:
    """What Teams sends back for the card's submit button: its data, every input's value as
    shown, and what the person changed."""
    value: dict[str, Any] = {}
    for element in card["body"]:
        if str(element.get("type", "")).startswith("Input.") and "value" in element:
            value[element["id"]] = element["value"]
    [submit] = card["actions"]
    return {**submit["data"], **value, **inputs}


async def submit(scenario: Scenario, actor: Person, value: dict[str, Any]) -> list[Any]:
    return list(await scenario.form(CHAT_OWNERS, scenario.request(actor), value))


async def test_the_owners_card_proposes_who_owned_the_case(scenario: Scenario) -> None:
    card = await owners_card(scenario)
    words = card_words(card)
    assert f"Case {CASE}: regional owners" in words
    shown = filled(card)
    assert shown["owner_EMEA"] == "Ana Lopez" and shown["owner_US"] == "Bo Receiver"
    assert "owner_APAC" not in shown and "owner_IST" not in shown
    assert "aad-ana" not in words  # directory ids stay in the card's data


async def test_the_owners_form_plans_the_chat_of_the_proposed_owners(scenario: Scenario) -> None:
    card = await owners_card(scenario)
    woken = scenario.woken
    said = await submit(scenario, BO, filled(card, preference="global"))
    assert said == [messages.chat_planned(CASE, "Ana Lopez (EMEA) and Bo Receiver (US)")]
    chat = await scenario.store.group_chat(CASE)
    assert chat is not None and chat.state is GroupChatState.REQUESTED
    assert {(m.aad_object_id, m.region) for m in chat.members} == {
        ("aad-ana", "EMEA"),
        ("aad-bo", "US"),
    }
    [step] = await scenario.queued(effects.OutboxKind.CREATE_GROUP_CHAT)
    assert step.payload["case_number"] == CASE
    assert scenario.woken == woken + 1
    # Asked again, the chat exists already.
    assert await say(scenario, BO, CASE, "chat") == [messages.chat_exists(CASE, "requested")]


async def test_the_owners_form_says_what_is_missing(scenario: Scenario) -> None:
    card = await owners_card(scenario)
    [again] = await submit(scenario, BO, filled(card, owner_US=""))
    words = card_words(again.content)
    assert "What does the customer prefer?: choose one." in words
    assert await scenario.store.group_chat(CASE) is None

    [one_owner] = await submit(scenario, BO, filled(card, preference="global", owner_US=""))
    assert "Name owners in at least two regions for a group chat." in card_words(one_owner.content)
    assert await scenario.store.group_chat(CASE) is None


async def test_someone_not_in_the_history_cannot_be_named_without_graph(
    scenario: Scenario,
) -> None:
    card = await owners_card(scenario)
    [again] = await submit(
        scenario, BO, filled(card, preference="global", owner_APAC="Mallory Outsider")
    )
    assert "APAC owner: I found nobody called “Mallory Outsider”" in card_words(again.content)
    assert await scenario.store.group_chat(CASE) is None


async def test_the_customer_preferring_one_engineer_makes_no_chat(scenario: Scenario) -> None:
    card = await owners_card(scenario)
    said = await submit(scenario, BO, filled(card, preference="regional"))
    assert said == [messages.one_regional_engineer(CASE)]
    assert await scenario.store.group_chat(CASE) is None


async def test_the_owners_form_refuses_what_it_must(scenario: Scenario) -> None:
    card = await owners_card(scenario)
    value = filled(card, preference="global")
    assert await submit(scenario, BO, {**value, "case": "not a case"}) == [messages.stale_form()]
    refused = await submit(scenario, STRANGER, value)
    assert len(refused) == 1 and "not yours to see" in refused[0]
    assert await scenario.store.group_chat(CASE) is None


async def test_the_owners_form_of_a_case_not_long_running_is_refused(
    scenario: Scenario,
) -> None:
    await accepted(scenario)
    value = {"command": CHAT_OWNERS, "case": CASE, "preference": "global"}
    assert await submit(scenario, BO, value) == [messages.not_long_running(CASE)]


async def test_the_owners_form_without_group_chats_changes_nothing(no_chats: Scenario) -> None:
    await accepted(no_chats)
    await say(no_chats, BO, CASE, *FLAG)
    value = {
        "command": CHAT_OWNERS,
        "case": CASE,
        "preference": "global",
        "owner_EMEA": "Ana Lopez",
        "owner_US": "Bo Receiver",
    }
    said = await submit(no_chats, BO, value)
    assert said == [messages.group_chats_not_configured(CASE, MISSING)]
    assert await no_chats.store.group_chat(CASE) is None
    assert await no_chats.queued(effects.OutboxKind.CREATE_GROUP_CHAT) == []


# -- shiftend -----------------------------------------------------------------------------


async def case_chat(scenario: Scenario) -> None:
    """The case's group chat, made, with ANA owning EMEA and BO owning US."""
    await accepted(scenario)
    await say(scenario, BO, CASE, *FLAG)
    members = (
        ChatMember(aad_object_id="aad-ana", name="Ana Lopez", region="EMEA"),
        ChatMember(aad_object_id="aad-bo", name="Bo Receiver", region="US"),
    )
    chat = GroupChat(case_number=CASE, topic=f"Case {CASE}", members=members)
    assert await scenario.store.plan_group_chat(chat)
    await scenario.store.update_group_chat(CASE, GroupChatState.POSTED, chat_id=CHAT_ID)


def in_chat(scenario: Scenario, actor: Person, *words: str) -> Request:
    return scenario.request(
        actor, *words, kind=ConversationKind.GROUP_CHAT, conversation_id=CHAT_ID
    )


SUMMARY = ("customer", "applied", "the", "fix,", "waiting", "for", "the", "nightly", "job")


async def test_shiftend_outside_a_cases_chat_says_where_it_works(scenario: Scenario) -> None:
    await case_chat(scenario)
    reply = await scenario.command(
        "shiftend",
        scenario.request(
            BO, *SUMMARY, kind=ConversationKind.GROUP_CHAT, conversation_id="19:other@thread.v2"
        ),
    )
    assert reply == [messages.shift_end_where()]


async def test_shiftend_needs_a_summary(scenario: Scenario) -> None:
    await case_chat(scenario)
    assert await scenario.command("shiftend", in_chat(scenario, BO, "done")) == [
        messages.shift_end_usage()
    ]


async def test_only_the_current_owner_ends_the_shift(scenario: Scenario) -> None:
    await case_chat(scenario)
    before = await scenario.store.for_case(CASE)
    reply = await scenario.command("shiftend", in_chat(scenario, ANA, *SUMMARY))
    assert reply == [messages.not_your_shift(CASE, "Bo Receiver")]
    assert await scenario.store.for_case(CASE) == before


async def test_shiftend_hands_the_case_to_the_next_regions_owner(scenario: Scenario) -> None:
    await case_chat(scenario)
    reply = await scenario.command("shiftend", in_chat(scenario, BO, *SUMMARY))
    # Monday 10:00 UTC: EMEA is on shift, so the handoff is warm.
    assert reply == [
        messages.shift_ending(
            "Bo Receiver", "US", " ".join(SUMMARY), "Ana Lopez", "EMEA", on_shift=True
        )
    ]
    assert "hand over warm" in str(reply[0])
    latest = await scenario.store.latest_for_case(CASE)
    assert latest is not None and latest.state is HandoffState.REQUESTED
    assert (latest.from_region, latest.target_region) == ("US", "EMEA")
    assert latest.requester.id == BO.id
    assert latest.target_engineer is not None and latest.target_engineer.id == "aad-ana"
    assert latest.notes.summary == " ".join(SUMMARY)
    # A second shiftend while that handoff is open is told to finish it first.
    again = await scenario.command("shiftend", in_chat(scenario, BO, *SUMMARY))
    assert again == [messages.shift_end_pending(CASE)]
