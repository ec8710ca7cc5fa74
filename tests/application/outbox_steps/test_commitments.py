"""CommitmentReminders (application/outbox_steps/commitments.py): the customer's next contact
reminded to whoever has the case when the reminder comes due — the requester while the handoff
waits, the new owner once accepted — and to nobody for a time, a holder or a handoff no longer
in force; run on the items the real HandoffService writes to a real SQLite file, sent through
the real OutboxSender to the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.outbox_steps.commitments import CommitmentReminders
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff.effects import OutboxKind
from handoff.models import Handoff, HandoffNotes, NextContact, Person
from handoff.ports import OutboxItem
from handoff.service import HandoffService
from handoff.state_machine import Accept, Cancel
from handoff.user_settings import UserSettings
from outbox.failures import PermanentFailure

from conftest import FakeClock
from harness import records
from harness.fake_connector import FakeConnector
from harness.outbox_steps import StepWorld, all_text, step_world, translated

# Tuesday 2026-11-24 10:00 UTC; the customer (Chicago) was promised Wednesday 09:00 their time.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CONTACT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
NOTICE = timedelta(minutes=30)
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
CY = Person(id="29:cy", name="Cy Third", aad_object_id="aad-cy")
CASE = "2311230040001234"
SCHEDULE = load_process_config(DEFAULT_CONFIG_PATH).schedule()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    tmp_path: Path, clock: FakeClock, fake_connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, clock, fake_connector) as opened:
        yield opened


def service(world: StepWorld) -> HandoffService:
    return HandoffService(world.store, world.clock, commitment_notice=NOTICE)


def reminders(world: StepWorld) -> CommitmentReminders:
    return CommitmentReminders(world.store, world.sender, world.clock, SCHEDULE)


def notes(at: datetime | None = CONTACT) -> HandoffNotes:
    contact = NextContact(at=at, who_waits="Customer waits for our log analysis") if at else None
    return HandoffNotes(
        summary="Autoscale stops at 20 nodes since the upgrade.",
        next_steps_us=("US SE: review the autoscaler logs",),
        next_customer_contact=contact,
    )


async def requested(
    world: StepWorld, by: Person = ANA, at: datetime | None = CONTACT, origin: str = "EMEA"
) -> Handoff:
    answers = records.answers(CASE, origin, "US", notes=notes(at))
    return await service(world).request(answers, records.PLACEHOLDER_OUTPUTS, by)


async def accepted(world: StepWorld, handoff: Handoff, by: Person) -> Handoff:
    outcome = await service(world).act(handoff.id, Accept(actor=by), handoff.version)
    assert outcome.changed
    return outcome.handoff


async def planned(world: StepWorld) -> list[OutboxItem]:
    return await world.items(OutboxKind.COMMITMENT_REMINDER)


async def run_all_due(world: StepWorld) -> None:
    """Every reminder item, each run once as the worker would when it comes due."""
    for item in await planned(world):
        await world.run(reminders(world).remind, item)


async def set_settings(world: StepWorld, settings: UserSettings) -> None:
    await world.store.save_user_settings(
        settings, records.said_by(settings.person, settings, world.clock)
    )


def reminder_cards(world: StepWorld, chat: str) -> list[str]:
    return [all_text(card) for card in world.cards(chat) if "Customer contact" in all_text(card)]


async def test_the_requester_is_reminded_before_the_contact_while_nobody_took_the_case(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(ANA)
    await set_settings(world, UserSettings(person=ANA, timezone="Europe/Berlin"))
    await requested(world)
    [item] = await planned(world)
    assert item.not_before == CONTACT - NOTICE
    world.clock.advance(item.not_before - NOW)

    await world.run(reminders(world).remind, item)

    [shown] = reminder_cards(world, chat)
    assert f"Customer contact in 30 minutes: case {CASE}" in shown
    assert "Customer waits for our log analysis" in shown
    # In Ana's own saved zone, named, and in the customer's.
    assert "Wed Nov 25, 2026, 4:00 PM CET" in shown
    assert "Wed Nov 25, 2026, 9:00 AM CST" in shown
    assert "Nobody has taken your handoff yet" in shown
    assert "you have not saved a time zone" not in shown


async def test_after_an_accept_the_new_owner_gets_the_reminder_and_the_requester_none(
    world: StepWorld,
) -> None:
    ana_chat = await world.personal_chat(ANA)
    bo_chat = await world.personal_chat(BO)
    handoff = await requested(world)
    await accepted(world, handoff, BO)
    world.clock.advance(CONTACT - NOTICE - NOW)

    await run_all_due(world)

    assert reminder_cards(world, ana_chat) == []
    [shown] = reminder_cards(world, bo_chat)
    assert "Nobody has taken" not in shown
    # Bo saved no zone: the shift zone of the US, where he took the case, said as such.
    assert "Wed Nov 25, 2026, 7:00 AM PST" in shown
    assert "Times for you are in America/Los_Angeles, the US shift's zone" in shown


async def test_a_saved_region_without_a_zone_gives_that_regions_shift_zone(
    world: StepWorld,
) -> None:
    bo_chat = await world.personal_chat(BO)
    await set_settings(world, UserSettings(person=BO, region="APAC"))
    await accepted(world, await requested(world), BO)
    await run_all_due(world)
    [shown] = reminder_cards(world, bo_chat)
    assert "Wed Nov 25, 2026, 11:00 PM CST" in shown
    assert "the APAC shift's zone" in shown


async def test_a_revised_next_contact_moves_the_reminder_and_the_old_one_stays_silent(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    later = CONTACT + timedelta(hours=3)
    answers = records.answers(CASE, "EMEA", "US", notes=notes(later))
    await service(world).revise(
        handoff.id, handoff.version, answers, records.PLACEHOLDER_OUTPUTS, ANA
    )
    old, new = await planned(world)
    assert (old.not_before, new.not_before) == (CONTACT - NOTICE, later - NOTICE)

    world.clock.advance(old.not_before - NOW)
    await world.run(reminders(world).remind, old)
    assert reminder_cards(world, chat) == []
    world.clock.advance(new.not_before - old.not_before)
    await world.run(reminders(world).remind, new)
    [shown] = reminder_cards(world, chat)
    assert "Wed Nov 25, 2026, 6:00 PM GMT" in shown


async def test_a_revision_that_keeps_the_time_plans_nothing_more(world: StepWorld) -> None:
    handoff = await requested(world)
    answers = records.answers(CASE, "EMEA", "US", notes=notes())
    await service(world).revise(
        handoff.id, handoff.version, answers, records.PLACEHOLDER_OUTPUTS, ANA
    )
    assert len(await planned(world)) == 1


async def test_a_cancelled_handoff_is_not_reminded(world: StepWorld) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    await service(world).act(handoff.id, Cancel(actor=ANA), handoff.version)
    world.clock.advance(CONTACT - NOTICE - NOW)
    await run_all_due(world)
    assert world.connector.requests == []
    assert reminder_cards(world, chat) == []


async def test_when_the_owner_changes_twice_only_the_last_one_is_reminded(
    world: StepWorld,
) -> None:
    chats = {p.id: await world.personal_chat(p) for p in (ANA, BO, CY)}
    first = await requested(world)
    await accepted(world, first, BO)
    # An hour later Bo hands the case on with the same promise; Cy takes it.
    world.clock.advance(timedelta(hours=1))
    second = await requested(world, by=BO, origin="US")
    await accepted(world, second, CY)
    # Ana's and Bo's (as the first handoff's owner, then as the second's requester), and Cy's.
    assert len(await planned(world)) == 4
    world.clock.advance(CONTACT - NOTICE - world.clock.now())

    await run_all_due(world)

    assert reminder_cards(world, chats[ANA.id]) == []
    assert reminder_cards(world, chats[BO.id]) == []
    assert len(reminder_cards(world, chats[CY.id])) == 1


async def test_no_next_contact_or_one_already_past_plans_no_reminder(world: StepWorld) -> None:
    await requested(world, at=None)
    assert await planned(world) == []


async def test_a_contact_already_past_at_the_request_plans_nothing_but_an_owner_hears_of_it(
    world: StepWorld,
) -> None:
    bo_chat = await world.personal_chat(BO)
    handoff = await requested(world, at=NOW - timedelta(hours=1))
    assert await planned(world) == []
    await accepted(world, handoff, BO)
    [item] = await planned(world)
    assert item.not_before == NOW
    await world.run(reminders(world).remind, item)
    [shown] = reminder_cards(world, bo_chat)
    assert f"Customer contact overdue by 1 hour: case {CASE}" in shown


async def test_a_muted_holder_is_still_reminded(world: StepWorld) -> None:
    chat = await world.personal_chat(ANA)
    await set_settings(world, UserSettings(person=ANA, muted=True))
    await requested(world)
    await run_all_due(world)
    assert len(reminder_cards(world, chat)) == 1


async def test_a_holder_without_a_chat_with_the_bot_makes_a_dead_letter(world: StepWorld) -> None:
    await requested(world)
    [item] = await planned(world)
    with pytest.raises(PermanentFailure, match="no personal chat with Ana Lopez"):
        await world.run(reminders(world).remind, item)


async def test_a_purged_case_is_not_reminded(world: StepWorld) -> None:
    await world.personal_chat(ANA)
    handoff = await requested(world)
    [item] = await planned(world)
    gone = item.model_copy(update={"payload": {**item.payload, "handoff_id": "purged"}})
    await world.run(reminders(world).remind, gone)
    assert handoff.id != "purged"
    assert world.connector.requests == []


@pytest.mark.parametrize(
    ("contact", "shown_at"),
    [
        # The night the clocks go back: 01:30 happens twice in London; the first, BST, is meant.
        (
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            "Sun Oct 25, 2026, 1:30 AM BST",
        ),
        # The night they go forward, a contact at 01:30 UTC reads 02:30 BST.
        (
            datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
            "Sun Mar 29, 2026, 2:30 AM BST",
        ),
    ],
)
async def test_on_the_night_the_clocks_change_the_reminder_counts_real_minutes(
    world: StepWorld, contact: datetime, shown_at: str
) -> None:
    chat = await world.personal_chat(ANA)
    await set_settings(world, UserSettings(person=ANA, timezone="Europe/London"))
    world.clock.advance(contact - timedelta(hours=8) - NOW)
    await requested(world, at=contact)
    [item] = await planned(world)
    assert contact - item.not_before == NOTICE
    world.clock.advance(item.not_before - world.clock.now())

    await world.run(reminders(world).remind, item)

    [shown] = reminder_cards(world, chat)
    assert f"Customer contact in 30 minutes: case {CASE}" in shown
    assert shown_at in shown


# The note under a reminder for someone who saved no zone, as the catalogs would translate it.
ZONE_NOTE = (
    "Times for you are in {zone}, the {region} shift's zone: you have not saved a time zone. "
    "Type **settings zone** and yours, e.g. **settings zone Europe/Berlin**, to see them in it."
)
IN_GERMAN = {ZONE_NOTE: "Deine Zeiten sind in {zone}, der Zone der Schicht {region}."}
IN_FRENCH = {ZONE_NOTE: "Vos heures sont en {zone}, le fuseau de l'équipe {region}."}


@pytest.mark.parametrize(
    ("chosen", "locale", "note"),
    [
        ("de", "fr-FR", "Deine Zeiten sind in Europe/London, der Zone der Schicht EMEA."),
        (None, "fr-FR", "Vos heures sont en Europe/London, le fuseau de l'équipe EMEA."),
        (None, None, "Times for you are in Europe/London, the EMEA shift's zone"),
        (None, "nl-NL", "Times for you are in Europe/London, the EMEA shift's zone"),
    ],
)
async def test_the_reminder_is_written_in_the_language_of_whoever_gets_it(
    world: StepWorld, chosen: str | None, locale: str | None, note: str
) -> None:
    chat = await world.personal_chat(ANA, locale=locale)
    if chosen is not None:
        await set_settings(world, UserSettings(person=ANA, language=chosen))
    await requested(world)
    world.clock.advance(CONTACT - NOTICE - NOW)

    with translated("de", IN_GERMAN), translated("fr", IN_FRENCH):
        await run_all_due(world)

    [shown] = reminder_cards(world, chat)
    assert note in shown
