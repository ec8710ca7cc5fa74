"""UndeliveredReports (application/outbox_steps/undelivered.py): a message meant for a person
that became a dead letter is reported to whoever it was sent for, once per topic and window,
after its siblings are settled; run on items from a real SQLite file, the report sent through
the real OutboxSender to the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.outbox_steps.undelivered import UndeliveredReports, chain
from handoff import effects
from handoff.models import Person
from handoff.ports import OutboxItem, OutboxMessage, OutboxState
from outbox.failures import Paced, PermanentFailure
from outbox.worker import SendJournal

from conftest import FakeClock
from harness.fake_connector import FakeConnector
from harness.outbox_steps import StepWorld, step_world

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "2311230040004321"
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
UMA = Person(id="aad-uma", name="Uma SME", aad_object_id="aad-uma")
VIC = Person(id="aad-vic", name="Vic SME", aad_object_id="aad-vic")
ABOUT = f"the notice that the handoff of case {CASE} was escalated to them"
TOPIC = f"case:{CASE}"
RECHECK = timedelta(seconds=4)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    tmp_path: Path, clock: FakeClock, fake_connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, clock, fake_connector) as opened:
        yield opened


def reports(world: StepWorld) -> UndeliveredReports:
    return UndeliveredReports(world.store, world.sender, world.clock, recheck=RECHECK)


def notices(people: Sequence[Person], tell: Person = ANA) -> list[OutboxMessage]:
    """The SMEs' notices decided together, each naming the requester to tell."""
    keys = [f"tell:sme:{CASE}:{p.id}" for p in people]
    undelivered = effects.if_undelivered(tell, ABOUT, f"case {CASE}", TOPIC, keys)
    return [
        effects.tell(p, "Case escalated to you.", f"sme:{CASE}", NOW, undelivered=undelivered)
        for p in people
    ]


async def died(world: StepWorld, message: OutboxMessage, error: str) -> OutboxItem:
    item = await world.enqueued(message)
    await world.store.give_up(item.id, error)
    return await world.item(item.dedupe_key)


async def test_a_dead_notice_books_one_report_for_the_requester_however_many_die(
    world: StepWorld,
) -> None:
    uma, vic = notices([UMA, VIC])
    for message in (uma, vic):
        dead = await died(world, message, "no personal chat with Uma SME")
        await world.run(reports(world).dead, dead)

    [report] = await world.items(effects.OutboxKind.REPORT_UNDELIVERED)
    assert report.payload["tell"]["id"] == ANA.id and report.payload["topic"] == TOPIC
    assert report.lane == effects.chat_lane(ANA)


async def test_a_message_for_the_requester_themselves_books_no_report(world: StepWorld) -> None:
    [own] = notices([ANA])
    await world.run(reports(world).dead, await died(world, own, "no personal chat"))
    plain = effects.tell(UMA, "Hello.", "plain", NOW)
    await world.run(reports(world).dead, await died(world, plain, "no personal chat"))
    assert await world.items(effects.OutboxKind.REPORT_UNDELIVERED) == []


async def test_the_report_waits_while_a_sibling_is_still_being_tried(world: StepWorld) -> None:
    await world.personal_chat(ANA)
    uma, vic = notices([UMA, VIC])
    dead = await died(world, uma, "no personal chat with Uma SME: they have not installed the bot")
    await world.enqueued(vic)
    await world.run(reports(world).dead, dead)
    report = (await world.items(effects.OutboxKind.REPORT_UNDELIVERED))[0]

    with pytest.raises(Paced) as paced:
        await world.run(reports(world).report, report)

    assert paced.value.retry_after == RECHECK.total_seconds()
    assert world.connector.requests == []


async def test_the_report_names_each_message_its_person_and_why_in_one_message(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(ANA)
    uma, vic = notices([UMA, VIC])
    await died(world, uma, "no personal chat with Uma SME: they have not installed the bot")
    dead = await died(world, vic, "SendFailed: 503 Service Unavailable")
    await world.run(reports(world).dead, dead)
    [report] = await world.items(effects.OutboxKind.REPORT_UNDELIVERED)

    await world.run(reports(world).report, report)

    [text] = world.texts(chat)
    assert text.startswith(f"Some of my messages about case {CASE} did not reach")
    assert f"- {ABOUT}, for Uma SME: they have not installed the bot" in text
    assert f"- {ABOUT}, for Vic SME: sending it kept failing" in text
    assert "**outbox retry**" in text


async def test_approval_cards_that_reached_no_lead_are_left_to_their_own_message(
    world: StepWorld,
) -> None:
    await world.personal_chat(ANA)
    cards = effects.approval_cards(
        "e1", 1, [UMA], NOW, update=False, requester=ANA, case_number=CASE
    )
    dead = await died(world, cards[0], "no personal chat with Team Leader Uma SME")
    await world.run(reports(world).dead, dead)
    [report] = await world.items(effects.OutboxKind.REPORT_UNDELIVERED)

    await world.run(reports(world).report, report)

    assert world.connector.requests == []


async def test_a_report_for_someone_without_a_personal_chat_fails_for_good(
    world: StepWorld,
) -> None:
    [uma] = notices([UMA])
    await world.run(reports(world).dead, await died(world, uma, "no personal chat"))
    [report] = await world.items(effects.OutboxKind.REPORT_UNDELIVERED)
    with pytest.raises(PermanentFailure, match="no personal chat with Ana Lopez"):
        await world.run(reports(world).report, report)


async def test_a_new_window_gets_a_report_of_its_own(world: StepWorld) -> None:
    uma, vic = notices([UMA, VIC])
    await world.run(reports(world).dead, await died(world, uma, "no personal chat"))
    world.clock.advance(effects.UNDELIVERED_WINDOW)
    await world.run(reports(world).dead, await died(world, vic, "no personal chat"))
    assert len(await world.items(effects.OutboxKind.REPORT_UNDELIVERED)) == 2


async def test_chained_follow_ups_of_a_dead_letter_run_in_order() -> None:
    ran: list[str] = []

    async def first(item: OutboxItem, _journal: SendJournal | None = None) -> None:
        ran.append(f"first {item.id}")

    async def second(item: OutboxItem, _journal: SendJournal | None = None) -> None:
        ran.append(f"second {item.id}")

    table = chain(
        {effects.OutboxKind.NOTIFY: first},
        {effects.OutboxKind.NOTIFY: second, effects.OutboxKind.POST_CARD: second},
    )
    item = OutboxItem(
        id=7,
        kind=effects.OutboxKind.NOTIFY,
        payload={},
        dedupe_key="k",
        state=OutboxState.DEAD,
        attempts=1,
        not_before=NOW,
    )
    await table[effects.OutboxKind.NOTIFY](item, None)
    assert ran == ["first 7", "second 7"]
    assert set(table) == {effects.OutboxKind.NOTIFY, effects.OutboxKind.POST_CARD}
