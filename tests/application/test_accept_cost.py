"""What an Accept costs and shows. The click reads once (the handoff, with all else the click
needs) and writes once (one transaction: the change, its events, its key and its outbox
messages); its card is drawn once, and the outbox's update of the channel card sends that card,
which the clicker was shown too. Counted with SQLite's own trace of the statements the bot's
connection runs; the outbox step sends through the real OutboxSender to the fake connector."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application.outbox_steps.follow_ups import EffectHandlers, StayPolicy
from application.transfers import ActionResult, CardAction
from cards import transfer_card
from handoff.models import HandoffNotes, HandoffState, NextContact, Person
from handoff.ports import CardRef, ConversationAddress, ConversationKind
from handoff.state_machine import Verb
from i18n import speaking
from outbox.worker import SendJournal

from harness import records
from harness.fake_connector import FakeConnector
from harness.ids import DEFAULT_BOT_ID, DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID
from harness.outbox_steps import all_text, outbox_sender
from harness.scenario import ANA, BO, Scenario, open_scenario

CASE = "2311230040001234"
CARD_MESSAGE = "1700000000001"


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        yield opened


@pytest.fixture
async def outbox(
    scenario: Scenario, fake_connector: FakeConnector
) -> AsyncIterator[EffectHandlers]:
    """The outbox's handlers of the Case Transfer card, sending to the fake connector, with the
    bot in the channel's team."""
    reference = {
        "serviceUrl": fake_connector.url,
        "channelId": "msteams",
        "conversation": {"id": DEFAULT_CHANNEL_ID},
        "bot": {"id": DEFAULT_BOT_ID},
    }
    await scenario.store.save_conversation(
        ConversationAddress(
            conversation_id=DEFAULT_CHANNEL_ID,
            kind=ConversationKind.CHANNEL,
            service_url=fake_connector.url,
            team_id=DEFAULT_TEAM_ID,
            channel_id=DEFAULT_CHANNEL_ID,
            reference=reference,
            updated_at=scenario.clock.now(),
        )
    )
    async with outbox_sender() as sender:
        stay = StayPolicy(interval=timedelta(hours=1), tell_smes_after=timedelta(hours=4))
        yield EffectHandlers(
            scenario.store,
            sender,
            scenario.clock,
            configured_channel=DEFAULT_CHANNEL_ID,
            stay=stay,
            smes={},
        )


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each Case Transfer card drawn, by the click or by the outbox."""
    built: list[str] = []
    real_card = transfer_card.handoff_card

    def counted_card(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append("card")
        return real_card(*args, **kwargs)

    monkeypatch.setattr("application.transfers.handoff_card", counted_card)
    monkeypatch.setattr("application.outbox_steps.follow_ups.handoff_card", counted_card)
    yield built


async def posted(scenario: Scenario, notes: HandoffNotes | None = None) -> str:
    handoff = await scenario.use_cases.service.request(
        records.answers(CASE, "EMEA", "US", notes=notes), records.PLACEHOLDER_OUTPUTS, ANA
    )
    await scenario.store.set_card(
        handoff.id, CardRef(conversation_id=DEFAULT_CHANNEL_ID, activity_id=CARD_MESSAGE)
    )
    scenario.join(BO)
    return handoff.id


async def click(
    scenario: Scenario,
    handoff_id: str,
    person: Person = BO,
    verb: str = Verb.ACCEPT,
    version: int | None = None,
    **inputs: Any,
) -> ActionResult:
    """A click on the card in the channel (on its latest version, unless told)."""
    version = version or (await scenario.store.get(handoff_id)).version
    action = CardAction(verb=verb, handoff_id=handoff_id, version=version, inputs=inputs)
    request = scenario.request(person, kind=ConversationKind.CHANNEL, message_id=CARD_MESSAGE)
    return await scenario.use_cases.card_actions.run(action, request)


async def channel_updates(
    scenario: Scenario, outbox: EffectHandlers, connector: FakeConnector
) -> list[dict[str, Any]]:
    """Runs what waits in the outbox for the Case Transfer channel (the card is posted
    already): the cards put in place."""
    while items := await scenario.store.claim(scenario.clock.now(), 50, timedelta(minutes=1)):
        for item in items:
            handler = {"post_card": outbox.post_card, "update_card": outbox.update_card}
            if item.kind in handler:
                await handler[item.kind](item, SendJournal(item, scenario.store, scenario.clock))
            await scenario.store.complete(item.id)
    return [
        r.body["attachments"][0]["content"]
        for r in connector.activity_records(DEFAULT_CHANNEL_ID)
        if r.method == "PUT"
    ]


def without_refresh(card: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in card.items() if key != "refresh"}


async def test_an_accept_reads_once_writes_once_and_draws_its_card_once(
    scenario: Scenario,
    outbox: EffectHandlers,
    fake_connector: FakeConnector,
    drawn: list[str],
) -> None:
    handoff_id = await posted(scenario)
    statements: list[str] = []
    # The real sqlite3 connection, which statements use on the event loop's thread.
    connection = scenario.store.database._conn._conn  # type: ignore[attr-defined]
    connection.set_trace_callback(statements.append)
    result = await click(scenario, handoff_id, version=1)
    connection.set_trace_callback(None)

    assert result.done and "accepted" in result.message
    said = [s.strip() for s in statements if not s.strip().startswith(("PRAGMA", "SELECT version"))]
    begin, commit = said.index("BEGIN IMMEDIATE"), said.index("COMMIT")
    reads, written, after = said[:begin], said[begin + 1 : commit], said[commit + 1 :]
    assert [re.sub(r"\s+", " ", s)[:23] for s in reads] == ["SELECT id, doc, (SELECT"]
    assert after == [], "nothing is read or written after the change"
    writes = [re.match(r"(UPDATE|INSERT INTO) (\w+)", s) for s in written]
    assert [m.group(0) if m else "" for m in writes] == [
        "UPDATE handoffs",
        "INSERT INTO handled_keys",
        "INSERT INTO handoff_events",
        "INSERT INTO handoff_facts",
        "INSERT INTO outbox",
    ]
    assert drawn == ["card"]

    [put] = await channel_updates(scenario, outbox, fake_connector)
    assert drawn == ["card"], "the outbox sends the card the click drew"
    assert without_refresh(put) == result.card, "the channel shows what the clicker was shown"
    assert put["refresh"]["action"]["data"] == {"handoff_id": handoff_id, "version": 2}
    # What the channel shows is what the outbox would have drawn itself.
    current = await scenario.store.get(handoff_id)
    assert put == transfer_card.handoff_card(
        current, refresh_users=put["refresh"]["userIds"], now=scenario.clock.now()
    )
    assert "Accepted by Bo Receiver" in all_text(put)


async def test_an_update_overtaken_by_a_later_change_shows_the_handoff_as_it_is_now(
    scenario: Scenario, outbox: EffectHandlers, fake_connector: FakeConnector
) -> None:
    """Bo's question has not reached the channel's card when the requester cancels: the
    channel never shows the question as the latest, whatever order the updates run in."""
    handoff_id = await posted(scenario)
    asked = await click(scenario, handoff_id, BO, Verb.MORE_INFO, question="Which cluster?")
    cancelled = await click(scenario, handoff_id, ANA, Verb.CANCEL)
    assert asked.done and cancelled.done

    puts = await channel_updates(scenario, outbox, fake_connector)
    assert len(puts) == 2
    assert all("Cancelled" in all_text(card) for card in puts)
    assert all(card["refresh"]["action"]["data"]["version"] == 3 for card in puts)


async def test_a_promise_that_fell_due_before_the_update_went_out_shows_as_overdue(
    scenario: Scenario, outbox: EffectHandlers, fake_connector: FakeConnector
) -> None:
    contact_at = scenario.clock.now() + timedelta(minutes=30)
    notes = HandoffNotes(
        summary="Autoscale stops at 20 nodes.",
        next_customer_contact=NextContact(at=contact_at, who_waits="the customer waits"),
    )
    handoff_id = await posted(scenario, notes)
    asked = await click(scenario, handoff_id, BO, Verb.MORE_INFO, question="Which cluster?")
    assert asked.done and "overdue" not in all_text(asked.card).lower()

    scenario.clock.at = contact_at + timedelta(minutes=5)  # the outbox was held up meanwhile
    puts = await channel_updates(scenario, outbox, fake_connector)
    # The question's update first, then the one the promise planned for its time.
    assert len(puts) == 2 and all("overdue" in all_text(put).lower() for put in puts)


async def test_twenty_clicks_at_once_give_one_owner_and_tell_the_others_who(
    scenario: Scenario, outbox: EffectHandlers, fake_connector: FakeConnector, drawn: list[str]
) -> None:
    handoff_id = await posted(scenario)
    clickers = [Person(id=f"29:clicker-{n:02d}", name=f"Clicker {n:02d}") for n in range(20)]
    for person in clickers:
        scenario.join(person)

    # Everyone clicks the card as it was posted.
    version = (await scenario.store.get(handoff_id)).version
    results = await asyncio.gather(
        *(click(scenario, handoff_id, p, version=version) for p in clickers)
    )

    [winner] = [p for p, r in zip(clickers, results, strict=True) if r.done]
    told = [r.message for r in results if not r.done]
    assert len(told) == 19
    assert all(f"accepted by {winner.name} now" in message for message in told)
    stored = await scenario.store.get(handoff_id)
    assert stored.state is HandoffState.ACCEPTED and stored.owner == winner
    assert [e.kind for e in await scenario.store.history(handoff_id)] == ["requested", "accept"]
    assert len(drawn) == 20, "one card each: the winner's serves its answer and the channel"
    [put] = await channel_updates(scenario, outbox, fake_connector)
    assert f"Accepted by {winner.name}" in all_text(put)


async def test_the_same_click_delivered_twice_at_once_accepts_once(scenario: Scenario) -> None:
    handoff_id = await posted(scenario)

    version = (await scenario.store.get(handoff_id)).version
    first, second = await asyncio.gather(
        click(scenario, handoff_id, version=version), click(scenario, handoff_id, version=version)
    )

    assert sorted([first.done, second.done]) == [False, True]
    repeat = second if first.done else first
    assert repeat.repeated and repeat.message == "", "a repeat says nothing more"
    assert repeat.card is not None and "Accepted by Bo Receiver" in all_text(repeat.card)
    assert [e.kind for e in await scenario.store.history(handoff_id)] == ["requested", "accept"]
    assert len(await scenario.queued("notify")) == 1, "the requester is told once"


@pytest.mark.real_catalogs
async def test_a_clicker_reading_another_language_gets_their_own_card_the_channel_the_teams(
    scenario: Scenario, outbox: EffectHandlers, fake_connector: FakeConnector, drawn: list[str]
) -> None:
    handoff_id = await posted(scenario)
    with speaking("fr"):
        result = await click(scenario, handoff_id)

    assert result.card is not None and "Accepted by" not in all_text(result.card)
    [put] = await channel_updates(scenario, outbox, fake_connector)
    assert "Accepted by Bo Receiver" in all_text(put)
    assert len(drawn) == 2, "the clicker's card in their language, the team's in its own"
