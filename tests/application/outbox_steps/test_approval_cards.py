"""ApprovalCardHandlers (application/outbox_steps/approval_cards.py): each Team Leader's
approval card sent to their personal chat and updated in place after a decision, the requester
told when the card reached nobody, and old one-item-for-all-leads items split per lead; each
run on items from a real SQLite file through the real OutboxSender to the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from application.outbox_steps.approval_cards import ApprovalCardHandlers, approvers
from handoff import effects
from handoff.escalation import Escalation, decide
from handoff.models import Person
from handoff.ports import OutboxItem, OutboxMessage
from outbox.failures import PermanentFailure

from conftest import FakeClock
from harness.fake_connector import FakeConnector
from harness.outbox_steps import StepWorld, all_text, personal_chat_id, step_world

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "2311230040009876"
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
# Leads as the process file lists them (id = Azure AD object id) ...
LEE = Person(id="aad-lee", name="Lee Lead", aad_object_id="aad-lee")
KIM = Person(id="aad-kim", name="Kim Lead", aad_object_id="aad-kim")
# ... and as Teams shows Lee when Lee writes to the bot.
LEE_IN_TEAMS = Person(id="29:lee", name="Lee Lead", aad_object_id="aad-lee")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    tmp_path: Path, clock: FakeClock, fake_connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, clock, fake_connector) as opened:
        yield opened


def handlers(world: StepWorld, leads: tuple[Person, ...] = (LEE, KIM)) -> ApprovalCardHandlers:
    return ApprovalCardHandlers(world.store, world.sender, leads, world.clock)


async def escalated(world: StepWorld, leads: tuple[Person, ...] = (LEE, KIM)) -> Escalation:
    """Ana asked to escalate the case; a card is enqueued for each lead."""
    escalation = Escalation(
        case_number=CASE,
        requester=ANA,
        summary="Autoscale stops at 20 nodes.",
        steps_tried=("Raised the quota -> same failure",),
        research=("https://example.invalid/logs",),
        created_at=NOW,
    )
    cards = effects.approval_cards(
        escalation.id, 1, leads, NOW, update=False, requester=ANA, case_number=CASE
    )
    await world.store.add_escalation(escalation, cards)
    return escalation


async def card_item(world: StepWorld, escalation: Escalation, lead: Person) -> OutboxItem:
    return await world.item(
        effects.approval_card_key(effects.OutboxKind.SEND_APPROVAL_CARD, escalation.id, 1, lead.id)
    )


async def test_each_lead_gets_the_card_in_their_chat_and_it_is_recorded(world: StepWorld) -> None:
    chat = await world.personal_chat(LEE_IN_TEAMS)
    escalation = await escalated(world)

    await world.run(handlers(world).send, await card_item(world, escalation, LEE))

    [activity] = world.connector.activities(chat)
    shown = all_text(activity["attachments"][0]["content"])
    assert f"Escalate case {CASE} to the vendor?" in shown and "Requested by Ana Lopez" in shown
    [recorded] = await world.store.escalation_cards(escalation.id)
    assert recorded.conversation_id == chat
    assert recorded.activity_id == world.connector.activity_records(chat)[0].response["id"]


async def test_a_card_item_run_again_sends_no_second_card(world: StepWorld) -> None:
    await world.personal_chat(LEE_IN_TEAMS)
    escalation = await escalated(world)
    item = await card_item(world, escalation, LEE)
    await world.run(handlers(world).send, item)
    await world.run(handlers(world).send, await world.item(item.dedupe_key))
    # Nor without the item's send journal (the card recorded by another item): the recorded
    # card is what counts.
    await handlers(world).send(item)
    assert len(world.connector.requests) == 1
    assert len(await world.store.escalation_cards(escalation.id)) == 1


async def test_a_lead_without_a_personal_chat_fails_for_good_by_name(world: StepWorld) -> None:
    escalation = await escalated(world)
    with pytest.raises(PermanentFailure, match="no personal chat with Team Leader Kim Lead"):
        await world.run(handlers(world).send, await card_item(world, escalation, KIM))
    assert world.connector.requests == []
    assert await world.store.escalation_cards(escalation.id) == []


async def test_after_a_decision_the_leads_card_is_replaced_in_place(world: StepWorld) -> None:
    chat = await world.personal_chat(LEE_IN_TEAMS)
    escalation = await escalated(world)
    await world.run(handlers(world).send, await card_item(world, escalation, LEE))
    [sent] = await world.store.escalation_cards(escalation.id)

    decided = decide(escalation, "esc_approve", LEE, "", NOW)
    updates = effects.approval_cards(escalation.id, decided.version, (LEE, KIM), NOW, update=True)
    await world.store.save_escalation(decided, escalation.version, updates)
    for update in updates:
        await world.run(handlers(world).update, await world.item(update.dedupe_key))

    _post, put = world.connector.activity_records()
    assert put.method == "PUT" and put.path.endswith(f"/activities/{sent.activity_id}")
    assert put.conversation_id == chat
    shown = all_text(world.cards(chat)[-1])
    assert "Approved" in shown and "Lee Lead" in shown
    assert len(world.connector.requests) == 2, "Kim never got the card: nothing to update"


async def test_when_every_leads_card_died_the_requester_is_told_once(world: StepWorld) -> None:
    escalation = await escalated(world)
    lee, kim = await card_item(world, escalation, LEE), await card_item(world, escalation, KIM)
    await world.store.give_up(lee.id, "no personal chat with Team Leader Lee Lead")
    await world.run(handlers(world).tell_if_nobody_reached, lee)
    assert await world.items(effects.OutboxKind.NOTIFY) == [], "Kim's card is still being tried"

    await world.store.give_up(kim.id, "no personal chat with Team Leader Kim Lead")
    await world.run(handlers(world).tell_if_nobody_reached, kim)
    await world.run(handlers(world).tell_if_nobody_reached, lee)

    [told] = await world.items(effects.OutboxKind.NOTIFY)
    assert told.payload["person"]["id"] == ANA.id
    assert "reached no Team Leader (Lee Lead and Kim Lead)" in told.payload["text"]
    assert told.lane == effects.chat_lane(ANA)


async def test_a_card_that_reached_one_lead_tells_the_requester_nothing(world: StepWorld) -> None:
    await world.personal_chat(LEE_IN_TEAMS)
    escalation = await escalated(world)
    await world.run(handlers(world).send, await card_item(world, escalation, LEE))
    kim = await card_item(world, escalation, KIM)
    await world.store.give_up(kim.id, "no personal chat")
    await world.run(handlers(world).tell_if_nobody_reached, kim)
    assert await world.items(effects.OutboxKind.NOTIFY) == []


async def test_an_old_item_for_every_lead_becomes_one_per_lead_leaving_out_the_requester(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(LEE_IN_TEAMS)
    lead_ana = Person(id="aad-ana", name="Ana Lopez", aad_object_id="aad-ana")
    escalation = await escalated(world, leads=())
    old = await world.enqueued(
        OutboxMessage(
            kind=effects.OutboxKind.SEND_APPROVAL_CARDS,
            payload={"escalation_id": escalation.id},
            dedupe_key=f"{effects.OutboxKind.SEND_APPROVAL_CARDS}:{escalation.id}",
            not_before=NOW,
            lane=f"escalation:{escalation.id}",
        )
    )

    await world.run(handlers(world, leads=(LEE, lead_ana)).split, old)

    [part] = await world.items(effects.OutboxKind.SEND_APPROVAL_CARD)
    assert part.payload["lead"]["id"] == LEE.id and part.lane == effects.chat_lane(LEE)
    await world.run(handlers(world).send, part)
    assert len(world.cards(chat)) == 1
    assert world.connector.activities(personal_chat_id(ANA)) == []


def test_a_lead_who_asked_is_no_approver_of_their_own_escalation() -> None:
    requester_as_lead = Person(id="29:lee", name="Lee Lead", aad_object_id="aad-lee")
    assert approvers((LEE, KIM), requester_as_lead) == [KIM]
