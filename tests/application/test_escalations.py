"""`escalate <case>` (the Team Leaders asked to approve an escalation to the vendor), `escalate
<case> technical` (one technical level up) and a lead's decision on the approval card, as use
cases over a real SQLite file. What is asked is recorded only when a lead can get the card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application import messages
from application.transfers import CardAction
from cards.escalation_card import approval_card
from handoff import effects
from handoff.escalation import TECHNICAL_LEVELS, Escalation, EscalationState, level_name
from handoff.models import Handoff, HandoffNotes, Person
from handoff.ports import CardRef

from harness import records
from harness.escalation_case import READY
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID
from harness.scenario import (
    ANA,
    BO,
    LEAD,
    STRANGER,
    Scenario,
    buttons,
    card_words,
    cards,
    open_scenario,
    process_with,
    texts,
)

CASE = "2311230040001234"
OTHER_CASE = "2311230040005678"
UNKNOWN_CASE = "2311230040009999"
LEAD_TWO = Person(id="aad-lead-two", name="Lia Lead", aad_object_id="aad-lead-two")
CASE_TRANSFER = {
    "team_id": DEFAULT_TEAM_ID,
    "channel_id": DEFAULT_CHANNEL_ID,
    "allowed_teams": [],
    "allowed_groups": [],
}


def lead(person: Person) -> dict[str, str]:
    """A lead as the process file lists one: the name, and the AAD object id as teams_id."""
    return {"name": person.name or "", "teams_id": person.id}


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    """Two Team Leaders configured; BO is in the Case Transfer team."""
    process = process_with(
        tmp_path, leads=[lead(LEAD), lead(LEAD_TWO)], case_transfer=CASE_TRANSFER
    )
    async for opened in open_scenario(tmp_path, process):
        opened.join(BO)
        yield opened


@pytest.fixture
async def leaderless(tmp_path: Path) -> AsyncIterator[Scenario]:
    """The shipped process: no leads."""
    async for opened in open_scenario(tmp_path):
        opened.join(BO)
        yield opened


async def requested(scenario: Scenario, number: str = CASE, notes: HandoffNotes = READY) -> Handoff:
    return await scenario.use_cases.service.request(
        records.answers(number, "EMEA", "US", notes=notes), records.PLACEHOLDER_OUTPUTS, ANA
    )


async def escalate(scenario: Scenario, actor: Person, *args: str) -> list[str]:
    reply = await scenario.command("escalate", scenario.request(actor, *args))
    said = texts(reply)
    assert len(said) == len(reply) == 1
    return said


async def asked_for(scenario: Scenario) -> list[str]:
    """Whom approval cards are queued for (lead ids)."""
    return [
        item.payload["lead"]["id"]
        for item in await scenario.queued(effects.OutboxKind.SEND_APPROVAL_CARD)
    ]


async def case_steps(scenario: Scenario, handoff: Handoff) -> list[str]:
    return [event.kind for event in await scenario.store.history(handoff.id)]


# -- escalate <case> ----------------------------------------------------------------------


async def test_a_case_not_ready_is_told_what_its_notes_miss(scenario: Scenario) -> None:
    await requested(scenario, notes=HandoffNotes(summary="Autoscale stops at 20 nodes."))
    await scenario.reachable(LEAD)
    said = await escalate(scenario, ANA, CASE)
    assert said == [
        messages.escalation_not_ready(
            CASE,
            [
                "the L1/L2 steps tried, each with its outcome",
                "links to the logs or screenshots collected",
            ],
        )
    ]
    assert "is not ready for the vendor" in said[0]
    assert await scenario.store.pending_escalation(CASE) is None
    assert await asked_for(scenario) == []


async def test_without_leads_nobody_can_approve(leaderless: Scenario) -> None:
    await requested(leaderless)
    assert await escalate(leaderless, ANA, CASE) == [messages.no_leads()]
    assert await leaderless.store.pending_escalation(CASE) is None


async def test_no_lead_reachable_records_nothing(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    said = await escalate(scenario, ANA, CASE)
    assert said == [messages.no_lead_reachable(CASE, ["Lee Lead", "Lia Lead"])]
    assert "Nothing is waiting for a decision" in said[0]
    assert await scenario.store.pending_escalation(CASE) is None
    assert await asked_for(scenario) == []
    assert await case_steps(scenario, handoff) == ["requested"]
    assert scenario.woken == 0


async def test_the_reachable_leads_are_asked(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    await scenario.reachable(LEAD)  # Lia has not installed the bot
    assert await escalate(scenario, ANA, CASE) == [messages.escalation_sent(CASE)]
    pending = await scenario.store.pending_escalation(CASE)
    assert pending is not None and pending.requester.id == ANA.id
    assert pending.steps_tried == ("Raised the core quota -> same failure",)
    assert await asked_for(scenario) == [LEAD.id]
    assert await case_steps(scenario, handoff) == ["requested", "escalation_requested"]
    assert scenario.woken == 1


async def test_a_second_escalation_waits_for_the_first(scenario: Scenario) -> None:
    await requested(scenario)
    await scenario.reachable(LEAD)
    await escalate(scenario, ANA, CASE)
    first = await scenario.store.pending_escalation(CASE)
    assert await escalate(scenario, BO, CASE) == [messages.escalation_pending(CASE)]
    assert await scenario.store.pending_escalation(CASE) == first
    assert await asked_for(scenario) == [LEAD.id]


async def test_a_stranger_does_not_learn_whether_the_case_exists(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    await scenario.reachable(LEAD)
    real = await escalate(scenario, STRANGER, CASE)
    unknown = await escalate(scenario, STRANGER, UNKNOWN_CASE)
    assert real == [said.replace(UNKNOWN_CASE, CASE) for said in unknown]
    assert "not ready" not in real[0] and "Asked the Team Leaders" not in real[0]
    assert await scenario.store.pending_escalation(CASE) is None
    assert await case_steps(scenario, handoff) == ["requested"]


async def test_a_member_is_told_a_case_has_no_handoff(scenario: Scenario) -> None:
    assert await escalate(scenario, BO, UNKNOWN_CASE) == [messages.no_handoff_for(UNKNOWN_CASE)]


async def test_escalate_without_a_case_number_says_how(scenario: Scenario) -> None:
    assert await escalate(scenario, ANA, "the-cluster") == [messages.escalate_usage()]


# -- escalate <case> technical ------------------------------------------------------------


async def test_technical_escalation_climbs_one_level_at_a_time(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    for level in TECHNICAL_LEVELS[1:]:
        said = await escalate(scenario, BO, CASE, "technical")
        assert said == [messages.technical_escalation(CASE, level_name(level))]
        assert (await scenario.store.get(handoff.id)).technical_level == level
    assert await escalate(scenario, BO, CASE, "Technical") == [messages.escalation_at_top(CASE)]
    history = await scenario.store.history(handoff.id)
    assert [e.data["level"] for e in history if e.kind == "technical_escalation"] == list(
        TECHNICAL_LEVELS[1:]
    )
    [status] = cards(await scenario.command("status", scenario.request(BO, CASE)))
    assert "Technical escalation: leadership" in card_words(status)


async def test_the_level_reached_stays_with_the_case_across_handoffs(scenario: Scenario) -> None:
    first = await requested(scenario)
    await escalate(scenario, BO, CASE, "technical")  # L2
    cancelled = await scenario.use_cases.card_actions.run(
        CardAction("cancel", first.id, (await scenario.store.get(first.id)).version, {}),
        scenario.request(ANA),
    )
    assert cancelled.done
    second = await requested(scenario)
    assert second.technical_level == "L2"
    said = await escalate(scenario, BO, CASE, "technical")
    assert said == [messages.technical_escalation(CASE, level_name("SME"))]


async def test_a_stranger_cannot_escalate_technically(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    real = await escalate(scenario, STRANGER, CASE, "technical")
    unknown = await escalate(scenario, STRANGER, UNKNOWN_CASE, "technical")
    assert real == [said.replace(UNKNOWN_CASE, CASE) for said in unknown]
    assert (await scenario.store.get(handoff.id)).technical_level is None


# -- A lead's decision ----------------------------------------------------------------------


async def pending(scenario: Scenario, number: str = CASE) -> Escalation:
    """ANA's escalation of `number`, both leads reachable."""
    await requested(scenario, number)
    await scenario.reachable(LEAD)
    await scenario.reachable(LEAD_TWO)
    await escalate(scenario, ANA, number)
    escalation = await scenario.store.pending_escalation(number)
    assert escalation is not None
    return escalation


async def decide(
    scenario: Scenario,
    escalation: Escalation,
    actor: Person,
    verb: str = "esc_approve",
    *,
    comment: str = "",
    message_id: str | None = "1:approval-card",
    version: int | None = None,
) -> tuple[dict[str, object] | None, str]:
    data = buttons(approval_card(escalation))[verb]
    return await scenario.use_cases.escalations.decide(
        verb,
        str(data["escalation_id"]),
        int(str(data["version"])) if version is None else version,
        comment,
        actor,
        message_id,
    )


async def test_a_lead_approves_and_the_requester_is_told(scenario: Scenario) -> None:
    escalation = await pending(scenario)
    woken = scenario.woken
    card, said = await decide(scenario, escalation, LEAD, comment="Go ahead")
    assert said == "Recorded: approved."
    assert card is not None and "Approved by Lee Lead" in card_words(card)
    assert buttons(card) == {}
    decided = await scenario.store.get_escalation(escalation.id)
    assert decided.state is EscalationState.APPROVED and decided.decided_by is not None
    assert decided.decided_by.id == LEAD.id
    told = [
        item.payload["text"]
        for item in await scenario.queued(effects.OutboxKind.NOTIFY)
        if item.payload["person"]["id"] == ANA.id
    ]
    assert told == [messages.escalation_decided(decided)]
    assert "Lee Lead decided the escalation of case" in told[0] and "Go ahead" in told[0]
    updated = await scenario.queued(effects.OutboxKind.UPDATE_APPROVAL_CARD)
    assert sorted(item.payload["lead"]["id"] for item in updated) == sorted([LEAD.id, LEAD_TWO.id])
    assert scenario.woken == woken + 1


async def test_rejecting_needs_a_comment(scenario: Scenario) -> None:
    escalation = await pending(scenario)
    card, said = await decide(scenario, escalation, LEAD, "esc_reject")
    assert said == "Say what to do instead in the comment box, then press the button."
    assert card is not None and said in card_words(card)
    assert (await scenario.store.get_escalation(escalation.id)).state is EscalationState.PENDING


async def test_only_leads_decide_and_learn_nothing_else(scenario: Scenario) -> None:
    escalation = await pending(scenario)
    for actor in (ANA, BO, STRANGER):
        assert await decide(scenario, escalation, actor) == (None, messages.only_leads_decide())
    unknown = await scenario.use_cases.escalations.decide(
        "esc_approve", "no-such-escalation", 1, "", BO, None
    )
    assert unknown == (None, messages.only_leads_decide())
    assert (await scenario.store.get_escalation(escalation.id)).state is EscalationState.PENDING


@pytest.mark.parametrize("version", [None, 0, 2])
async def test_a_forged_version_decides_nothing(scenario: Scenario, version: int | None) -> None:
    escalation = await pending(scenario)
    result = await scenario.use_cases.escalations.decide(
        "esc_approve", escalation.id, version, "", LEAD, "1:approval-card"
    )
    assert result == (None, messages.forged_card())
    assert (await scenario.store.get_escalation(escalation.id)).state is EscalationState.PENDING


async def test_an_unknown_escalation_is_said_to_be_gone(scenario: Scenario) -> None:
    result = await scenario.use_cases.escalations.decide(
        "esc_approve", "no-such-escalation", 1, "", LEAD, None
    )
    assert result == (None, "That escalation no longer exists.")


async def test_another_cards_message_id_decides_neither(scenario: Scenario) -> None:
    first = await pending(scenario)
    second = await pending(scenario, OTHER_CASE)
    for escalation, message in ((first, "1:first-card"), (second, "1:second-card")):
        await scenario.store.add_escalation_card(
            escalation.id, CardRef(conversation_id=f"a:{LEAD.id}:{message}", activity_id=message)
        )
    card, said = await decide(scenario, first, LEAD, message_id="1:second-card")
    assert (card, said) == (None, messages.forged_card())
    for escalation in (first, second):
        state = (await scenario.store.get_escalation(escalation.id)).state
        assert state is EscalationState.PENDING


async def test_a_repeated_click_shows_the_card_and_records_once(scenario: Scenario) -> None:
    escalation = await pending(scenario)
    handoff = await scenario.store.latest_for_case(CASE)
    assert handoff is not None
    await decide(scenario, escalation, LEAD)
    card, said = await decide(scenario, escalation, LEAD)
    assert said == ""
    assert card is not None and "Approved by Lee Lead" in card_words(card)
    assert (await case_steps(scenario, handoff)).count("escalation_approved") == 1
    told = [
        i
        for i in await scenario.queued(effects.OutboxKind.NOTIFY)
        if i.payload["person"]["id"] == ANA.id
    ]
    assert len(told) == 1


async def test_a_lead_deciding_second_sees_the_first_decision(scenario: Scenario) -> None:
    escalation = await pending(scenario)
    await decide(scenario, escalation, LEAD, message_id="1:lee-card")
    # Lia's copy of the card still shows version 1.
    card, said = await decide(
        scenario, escalation, LEAD_TWO, "esc_reject", comment="No", message_id="1:lia-card"
    )
    assert said == messages.escalation_decided_first()
    assert card is not None and "Approved by Lee Lead" in card_words(card)
    decided = await scenario.store.get_escalation(escalation.id)
    assert decided.state is EscalationState.APPROVED and decided.decided_by is not None
    assert decided.decided_by.id == LEAD.id
