"""ReminderHandlers (application/outbox_steps/reminders.py): reminders planned ahead into the
outbox in each reader's own zone, the shift-end card to an engineer with critical cases, and the
meeting agenda to the Case Transfer channel; run on items from a real SQLite file through the
real OutboxSender to the fake Bot Connector."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.outbox_steps.reminders import AGENDA_NOTICE, ReminderHandlers
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff import effects
from handoff.models import Handoff, Person, Severity
from handoff.service import HandoffService
from handoff.state_machine import Accept
from handoff.user_settings import SHIFT_END_NOTICE, UserSettings

from conftest import FakeClock
from harness import records
from harness.fake_connector import FakeConnector
from harness.ids import DEFAULT_CHANNEL_ID
from harness.outbox_steps import StepWorld, all_text, step_world

# Monday 2026-11-23 10:00 UTC: 19:00 in Tokyo.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
SCHEDULE = load_process_config(DEFAULT_CONFIG_PATH).schedule()
# Bo works 09:00-17:00 in Tokyo: today's hours are over, Tuesday's end at 08:00 UTC.
BO_IN_TOKYO = UserSettings(
    person=BO, timezone="Asia/Tokyo", start=dt.time(9, 0), end=dt.time(17, 0)
)
TUESDAY_END = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    tmp_path: Path, clock: FakeClock, fake_connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, clock, fake_connector) as opened:
        yield opened


def handlers(world: StepWorld, channel: str = DEFAULT_CHANNEL_ID) -> ReminderHandlers:
    return ReminderHandlers(
        world.store, world.sender, world.clock, SCHEDULE, configured_channel=channel
    )


async def set_settings(world: StepWorld, settings: UserSettings) -> None:
    await world.store.save_user_settings(
        settings, records.said_by(settings.person, settings, world.clock)
    )


async def owned_by_bo(world: StepWorld, number: str, severity: Severity = Severity.A) -> Handoff:
    service = HandoffService(world.store, world.clock)
    answers = records.answers(number, "EMEA", "US", severity=severity, is_24x7=True)
    handoff = await service.request(answers, records.PLACEHOLDER_OUTPUTS, ANA)
    return (await service.act(handoff.id, Accept(actor=BO), handoff.version)).handoff


async def test_planning_books_the_next_round_first_then_reminders_in_each_readers_zone(
    world: StepWorld,
) -> None:
    await set_settings(world, BO_IN_TOKYO)
    await handlers(world).start()
    [plan] = await world.items(effects.OutboxKind.PLAN_REMINDERS)

    await world.run(handlers(world).plan, plan)

    rounds = await world.items(effects.OutboxKind.PLAN_REMINDERS)
    assert [r.not_before for r in rounds] == [NOW, NOW + effects.PLANNING_INTERVAL]
    [reminder] = await world.items(effects.OutboxKind.SHIFT_END_REMINDER)
    assert reminder.payload["person"]["id"] == BO.id
    assert datetime.fromisoformat(reminder.payload["shift_end"]) == TUESDAY_END
    assert reminder.not_before == TUESDAY_END - SHIFT_END_NOTICE
    agendas = {
        i.payload["from_region"]: i for i in await world.items(effects.OutboxKind.MEETING_AGENDA)
    }
    # EMEA -> US at 08:30 Los Angeles time: 16:30 UTC on this Monday.
    emea = agendas["EMEA"]
    assert emea.not_before == datetime(2026, 11, 23, 16, 30, tzinfo=UTC) - AGENDA_NOTICE


async def test_planning_twice_in_a_round_books_each_reminder_once(world: StepWorld) -> None:
    await set_settings(world, BO_IN_TOKYO)
    await handlers(world).start()
    [plan] = await world.items(effects.OutboxKind.PLAN_REMINDERS)
    await world.run(handlers(world).plan, plan)
    await world.run(handlers(world).plan, await world.item(plan.dedupe_key))
    assert len(await world.items(effects.OutboxKind.SHIFT_END_REMINDER)) == 1
    assert len(await world.items(effects.OutboxKind.PLAN_REMINDERS)) == 2


async def test_the_shift_end_card_lists_the_critical_cases_and_shows_the_end_in_utc_for_teams(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(BO)
    await set_settings(world, BO_IN_TOKYO)
    await owned_by_bo(world, "2311230040000001")
    await owned_by_bo(world, "2311230040000002", severity=Severity.B)
    world.clock.advance(TUESDAY_END - SHIFT_END_NOTICE - NOW)
    item = await world.enqueued(
        effects.shift_end_reminder(BO, TUESDAY_END, TUESDAY_END - SHIFT_END_NOTICE)
    )

    await world.run(handlers(world).shift_end, item)

    [card] = world.cards(chat)
    shown = all_text(card)
    assert "Your shift ends soon" in shown
    # Teams renders the time in the reader's own zone from the UTC instant.
    assert "{{TIME(2026-11-24T08:00:00Z)}}" in shown
    assert "2311230040000001" in shown and "2311230040000002" not in shown
    [button] = card["actions"]
    assert button["data"]["msteams"]["text"] == "handoff 2311230040000001"


async def test_hours_changed_since_planning_leave_the_old_reminder_silent(
    world: StepWorld,
) -> None:
    await world.personal_chat(BO)
    await owned_by_bo(world, "2311230040000001")
    await set_settings(world, BO_IN_TOKYO.model_copy(update={"end": dt.time(18, 0)}))
    item = await world.enqueued(
        effects.shift_end_reminder(BO, TUESDAY_END, TUESDAY_END - SHIFT_END_NOTICE)
    )
    await world.run(handlers(world).shift_end, item)
    assert world.connector.requests == []


async def test_muted_or_without_critical_cases_nothing_is_sent(world: StepWorld) -> None:
    await world.personal_chat(BO)
    await set_settings(world, BO_IN_TOKYO)
    await owned_by_bo(world, "2311230040000002", severity=Severity.B)
    item = await world.enqueued(
        effects.shift_end_reminder(BO, TUESDAY_END, TUESDAY_END - SHIFT_END_NOTICE)
    )
    await world.run(handlers(world).shift_end, item)

    await owned_by_bo(world, "2311230040000001")
    await set_settings(world, BO_IN_TOKYO.model_copy(update={"muted": True}))
    await world.run(handlers(world).shift_end, await world.item(item.dedupe_key))

    assert world.connector.requests == []


async def test_the_agenda_reaches_the_channel_with_the_open_handoffs(world: StepWorld) -> None:
    channel = await world.channel()
    service = HandoffService(world.store, world.clock)
    answers = records.answers("2311230040000003", "EMEA", "US")
    await service.request(answers, records.PLACEHOLDER_OUTPUTS, ANA)
    meeting_at = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    item = await world.enqueued(
        effects.meeting_agenda("EMEA", meeting_at, meeting_at - AGENDA_NOTICE)
    )

    await world.run(handlers(world).meeting_agenda, item)

    [activity] = world.connector.activities(channel)
    assert activity["summary"] == "Agenda of the EMEA → US handoff meeting: 1 handoff"
    shown = all_text(activity["attachments"][0]["content"])
    assert "{{TIME(2026-11-23T16:30:00Z)}}" in shown
    assert "2311230040000003" in shown


async def test_without_a_case_transfer_channel_the_agenda_is_skipped(world: StepWorld) -> None:
    meeting_at = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    item = await world.enqueued(
        effects.meeting_agenda("EMEA", meeting_at, meeting_at - timedelta(minutes=15))
    )
    await world.run(handlers(world, channel="").meeting_agenda, item)
    assert world.connector.requests == []
