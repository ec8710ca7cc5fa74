"""DeadLetterReports (application/outbox_steps/dead_letters.py): an outbox item given up is
reported to every admin in their personal chat, at most once an hour each, with what is dead
and how to retry it; run on items from a real SQLite file, sent through the real OutboxSender
to the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.outbox_steps.dead_letters import DeadLetterReports, intro
from handoff import effects
from handoff.effects import DEAD_LETTER_WINDOW, OutboxKind
from handoff.models import Person
from handoff.ports import OutboxItem, OutboxMessage, OutboxState
from outbox.failures import PermanentFailure

from conftest import FakeClock
from harness.fake_connector import FakeConnector
from harness.outbox_steps import StepWorld, step_world

NOW = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
LEE = Person(id="aad-lee", name="Lee Lead", aad_object_id="aad-lee")
ADA = Person(id="29:ada", name="Ada Admin")
SAM = Person(id="29:sam", name="Sam Support", aad_object_id="aad-sam")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    tmp_path: Path, clock: FakeClock, fake_connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, clock, fake_connector) as opened:
        yield opened


def reports(world: StepWorld) -> DeadLetterReports:
    return DeadLetterReports(world.store, world.sender, world.clock, [LEE, ADA])


async def died(world: StepWorld, message: OutboxMessage, error: str) -> OutboxItem:
    item = await world.enqueued(message)
    await world.store.give_up(item.id, error)
    return await world.item(item.dedupe_key)


def notice(key: str) -> OutboxMessage:
    return effects.tell(SAM, "Your case was accepted.", key, NOW)


async def test_a_dead_letter_books_one_report_for_each_admin_however_many_die(
    world: StepWorld,
) -> None:
    for key in ("one", "two", "three"):
        dead = await died(world, notice(key), "no personal chat with Sam Support")
        await world.run(reports(world).died, dead)
    booked = await world.items(OutboxKind.REPORT_DEAD_LETTERS)
    assert sorted(item.payload["person"]["id"] for item in booked) == [ADA.id, LEE.id]
    assert {item.lane for item in booked} == {effects.chat_lane(LEE), effects.chat_lane(ADA)}


async def test_the_report_lists_the_dead_letters_and_how_to_retry_them(world: StepWorld) -> None:
    chat = await world.personal_chat(LEE)
    dead = await died(world, notice("one"), "no personal chat with Sam Support")
    await world.run(reports(world).died, dead)
    [report] = [
        item
        for item in await world.items(OutboxKind.REPORT_DEAD_LETTERS)
        if item.payload["person"]["id"] == LEE.id
    ]
    await world.run(reports(world).report, report)
    [text] = world.texts(chat)
    assert text.startswith(intro())
    assert f"**{dead.id}** notify for Sam Support" in text
    assert "no personal chat with Sam Support" in text
    assert "**outbox retry**" in text


async def test_an_admin_without_a_chat_is_a_permanent_failure_naming_them(
    world: StepWorld,
) -> None:
    await world.run(reports(world).died, await died(world, notice("one"), "gone"))
    [report] = [
        item
        for item in await world.items(OutboxKind.REPORT_DEAD_LETTERS)
        if item.payload["person"]["id"] == ADA.id
    ]
    with pytest.raises(PermanentFailure, match="Ada Admin"):
        await world.run(reports(world).report, report)


async def test_a_death_after_this_hours_report_went_gets_the_next_hours(
    world: StepWorld,
) -> None:
    await world.personal_chat(LEE)
    await world.personal_chat(ADA)
    await world.run(reports(world).died, await died(world, notice("one"), "gone"))
    for report in await world.items(OutboxKind.REPORT_DEAD_LETTERS):
        await world.run(reports(world).report, report)
        await world.store.complete(report.id)
    world.clock.advance(timedelta(minutes=10))
    await world.run(reports(world).died, await died(world, notice("two"), "gone again"))

    booked = await world.items(OutboxKind.REPORT_DEAD_LETTERS)
    waiting = [item for item in booked if item.state is OutboxState.PENDING]
    assert len(booked) == 4 and len(waiting) == 2, "one more each, not a second one this hour"
    assert all(item.not_before >= NOW + DEAD_LETTER_WINDOW for item in waiting)


async def test_a_report_that_dies_is_not_reported_itself(world: StepWorld) -> None:
    follow_ups = reports(world).on_dead()
    assert OutboxKind.REPORT_DEAD_LETTERS not in follow_ups
    assert set(follow_ups) == set(OutboxKind) - {OutboxKind.REPORT_DEAD_LETTERS}
