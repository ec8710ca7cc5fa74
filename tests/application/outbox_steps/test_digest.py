"""The weekly digest (application/outbox_steps/digest.py): each region's insights for the week
before, planned with the reminders for Monday 08:00 in the region's shift zone (DST included),
posted once to the Case Transfer channel by two replicas over one database, turned off and on
by a team lead; on a real SQLite file and a real PostgreSQL database, posting through the real
OutboxSender to the fake Bot Connector."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.outbox_steps.digest import DIGEST_SETTING, DigestHandlers
from application.outbox_steps.reminders import ReminderHandlers
from application.personal_settings import PersonalSettings, only_leads_digest
from application.request import Conversation, Request
from config.process import ProcessConfig, load_process_config
from config.settings import DEFAULT_CONFIG_PATH, Settings
from handoff.access import listed
from handoff.effects import OutboxKind
from handoff.models import AuditKind, Person
from handoff.ports import ConversationKind, OutboxItem
from outbox.worker import OutboxWorker
from storage.sql_store import SqlStore, open_store
from teams.connector_auth import build_connector_http, create_adapter
from teams.pacing import ConversationPacer
from teams.sending import OutboxSender

from conftest import FakeClock
from harness.card_schema import assert_valid_card
from harness.fake_connector import FakeConnector
from harness.ids import DEFAULT_CHANNEL_ID
from harness.insights_history import make_history
from harness.outbox_steps import StepWorld, all_text, translated

LOGGER = "application.outbox_steps.digest"
LEAD = Person(id="aad-lead", name="Lee Lead", aad_object_id="aad-lead")
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
SHIPPED = load_process_config(DEFAULT_CONFIG_PATH)
# The shipped process, its Case Transfer channel the one the fake connector's team has.
PROCESS = SHIPPED.model_copy(
    update={
        "case_transfer": SHIPPED.case_transfer.model_copy(update={"channel_id": DEFAULT_CHANNEL_ID})
    }
)
# Monday 2026-03-02 09:00 UTC: Los Angeles moves to summer time on Sunday 03-08, London on
# Sunday 03-29.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


class Sending:
    """The real OutboxSender to the fake Bot Connector, over one pooled connector client,
    pacing each conversation by the test's clock (weeks go by in a second)."""

    def __init__(self, clock: FakeClock) -> None:
        settings = Settings()
        http = build_connector_http(settings)
        assert http is not None
        self.http = http
        pacer = ConversationPacer(clock=lambda: clock.now().timestamp())
        self.sender = OutboxSender(create_adapter(settings, http), settings.app_id, pacer)


@pytest.fixture
async def sending(clock: FakeClock) -> AsyncIterator[Sending]:
    opened = Sending(clock)
    await opened.http.start()
    yield opened
    await opened.http.close()


@pytest.fixture
async def world(
    database_url: str, clock: FakeClock, fake_connector: FakeConnector, sending: Sending
) -> AsyncIterator[StepWorld]:
    store = await open_store(database_url, clock)
    yield StepWorld(store, clock, fake_connector, sending.sender)
    await store.close()


def digest(
    world: StepWorld, process: ProcessConfig = PROCESS, store: SqlStore | None = None
) -> DigestHandlers:
    return DigestHandlers(store or world.store, world.sender, world.clock, process)


async def planned(world: StepWorld) -> dict[str, OutboxItem]:
    return {i.dedupe_key: i for i in await world.items(OutboxKind.WEEKLY_DIGEST)}


def heading(card: dict[str, Any]) -> str:
    return str(card["body"][0].get("text", ""))


def digests_posted(world: StepWorld) -> list[dict[str, Any]]:
    """The insights cards in the channel (the meeting agendas go there too)."""
    return [c for c in world.cards(DEFAULT_CHANNEL_ID) if heading(c).startswith("Handoff insights")]


async def said(world: StepWorld, actor: Person, *args: str) -> str:
    settings = PersonalSettings(
        world.store, PROCESS.schedule(), world.clock, listed((*PROCESS.lead_ids(), LEAD.id))
    )
    request = Request(
        actor=actor,
        conversation=Conversation(id=f"a:{actor.id}", kind=ConversationKind.PERSONAL),
        args=args,
    )
    [text] = await settings.settings(request)
    assert isinstance(text, str)
    return text


async def test_planned_for_monday_eight_local_in_each_region_across_the_dst_changes(
    world: StepWorld,
) -> None:
    handlers = digest(world)
    reminders = ReminderHandlers(
        world.store,
        world.sender,
        world.clock,
        PROCESS.schedule(),
        configured_channel=DEFAULT_CHANNEL_ID,
        also_plan=(handlers.plan,),
    )
    # Planned by the reminders' rounds: on Wednesday 03-04, before Los Angeles' change...
    world.clock.advance(utc(3, 4, 12) - world.clock.now())
    await reminders.start()
    [round_] = await world.items(OutboxKind.PLAN_REMINDERS)
    await world.run(reminders.plan, round_)
    # ... and on Wednesday 03-25, before London's.
    world.clock.advance(utc(3, 25, 12) - world.clock.now())
    await handlers.plan(world.clock.now())

    due = {key: item.not_before for key, item in (await planned(world)).items()}
    assert due == {
        # London is still on GMT on 03-09; on BST (UTC+1) from 03-29.
        "digest:EMEA:2026-W11": utc(3, 9, 8),
        "digest:EMEA:2026-W14": utc(3, 30, 7),
        # Los Angeles is on PDT (UTC-7) from 03-08: 08:00 is 15:00 UTC, not 16:00.
        "digest:US:2026-W11": utc(3, 9, 15),
        "digest:US:2026-W14": utc(3, 30, 15),
        # No DST in Shanghai or Kolkata.
        "digest:APAC:2026-W11": utc(3, 9, 0),
        "digest:APAC:2026-W14": utc(3, 30, 0),
        "digest:IST:2026-W11": utc(3, 9, 2, 30),
        "digest:IST:2026-W14": utc(3, 30, 2, 30),
    }
    items = await planned(world)
    # The week before, midnight to midnight local: 167 hours for London's short week.
    london = items["digest:EMEA:2026-W14"].payload
    assert (london["since"], london["until"]) == (
        utc(3, 23, 0).isoformat(),
        utc(3, 29, 23).isoformat(),
    )
    los_angeles = items["digest:US:2026-W11"].payload
    assert (los_angeles["since"], los_angeles["until"]) == (
        utc(3, 2, 8).isoformat(),
        utc(3, 9, 7).isoformat(),
    )


async def test_a_later_digest_time_is_taken_from_the_config(world: StepWorld) -> None:
    later = PROCESS.model_copy(
        update={"insights": PROCESS.insights.model_copy(update={"digest_time": dt.time(9, 30)})}
    )
    await digest(world, later).plan(world.clock.now())
    # 09:00 UTC on Monday 03-02: London's 09:30 is still to come, so this week's is planned.
    assert (await planned(world))["digest:EMEA:2026-W10"].not_before == utc(3, 2, 9, 30)


async def test_the_card_is_the_regions_insights_for_the_week_before(world: StepWorld) -> None:
    world.clock.advance(utc(3, 19, 12) - world.clock.now())
    await make_history(world.store, world.clock)  # ends Thursday 04-02 12:00
    await world.channel()
    handlers = digest(world)
    await handlers.plan(world.clock.now())
    item = (await planned(world))["digest:EMEA:2026-W15"]
    world.clock.advance(item.not_before - world.clock.now())

    await world.run(handlers.weekly_digest, item)

    [card] = digests_posted(world)
    assert_valid_card(card)
    shown = all_text(card)
    assert "Handoff insights to EMEA" in shown
    # Mon 03-30 00:00 to Mon 04-06 00:00 London time: received by EMEA, 1000004 (its last
    # hop, accepted in 100 minutes), 1000006 (600) and 1000005 (open, no owner); not
    # 1000001-1000003, nor 1000004's first hops, which went to US and APAC.
    assert "Last week" in shown and "(Europe/London)" in shown
    assert card["body"][2]["facts"][:2] == [
        {"title": "Handoffs requested", "value": "3"},
        {"title": "Accepted", "value": "2"},
    ]
    assert "1000005" in shown and "1000001" not in shown and "1000003" not in shown


async def test_two_replicas_post_each_regions_digest_once_a_week(
    database_url: str, clock: FakeClock, fake_connector: FakeConnector, sending: Sending
) -> None:
    stores = [await open_store(database_url, clock) for _ in range(2)]
    try:
        world = StepWorld(stores[0], clock, fake_connector, sending.sender)
        await world.channel()
        workers = []
        for store in stores:  # each replica wired as build_worker wires it
            handlers = digest(world, store=store)
            reminders = ReminderHandlers(
                store,
                sending.sender,
                clock,
                PROCESS.schedule(),
                configured_channel=DEFAULT_CHANNEL_ID,
                also_plan=(handlers.plan,),
            )
            tables = {**reminders.table(), **handlers.table()}
            workers.append(OutboxWorker(store, tables, clock, on_start=(reminders.start,)))
            await reminders.start()
        # Two weeks and a day, six hours at a time; both workers poll at once, twice.
        while clock.now() < utc(3, 17, 0):
            clock.advance(timedelta(hours=6))
            for _ in range(2):
                await asyncio.gather(*(worker.run_once() for worker in workers))

        cards = digests_posted(world)
        items = await world.items(OutboxKind.WEEKLY_DIGEST)
    finally:
        for store in stores:
            await store.close()

    # Los Angeles' Monday 08:00 was still to come on 03-02 at 09:00 UTC: three for US.
    regions = [heading(c).removeprefix("Handoff insights to ") for c in cards]
    assert sorted(regions) == sorted(["EMEA", "APAC", "IST"] * 2 + ["US"] * 3)
    for card in cards:
        assert_valid_card(card)
    done = sorted(i.dedupe_key for i in items if i.state.value == "done")
    assert done == sorted(
        ["digest:US:2026-W10"]
        + [f"digest:{r}:2026-W{w}" for r in ("EMEA", "US", "APAC", "IST") for w in (11, 12)]
    )
    # The third week's are planned, once each.
    assert sorted(i.dedupe_key for i in items if i.state.value == "pending") == sorted(
        f"digest:{r}:2026-W13" for r in ("EMEA", "US", "APAC", "IST")
    )


async def test_a_lead_turns_it_off_planning_stops_and_the_planned_digest_stays_silent(
    world: StepWorld,
) -> None:
    await world.channel()
    world.clock.advance(utc(3, 4, 12) - world.clock.now())
    handlers = digest(world)
    await handlers.plan(world.clock.now())
    item = (await planned(world))["digest:EMEA:2026-W11"]

    answer = await said(world, LEAD, "digest", "off")

    assert "Weekly digest to the Case Transfer channel (for the whole team): off." in answer
    world.clock.advance(item.not_before - world.clock.now())
    await world.run(handlers.weekly_digest, item)
    world.clock.advance(timedelta(days=7))
    await handlers.plan(world.clock.now())
    assert digests_posted(world) == []
    assert sorted(await planned(world)) == sorted(
        f"digest:{r}:2026-W11" for r in ("EMEA", "US", "APAC", "IST")
    )
    [entry] = [e for e in await world.store.audit_entries() if e.subject == DIGEST_SETTING]
    assert entry.kind is AuditKind.SETTINGS_CHANGED and entry.actor.id == LEAD.id
    assert entry.data == {DIGEST_SETTING: {"from": "on", "to": "off"}}

    assert "(for the whole team): on." in await said(world, LEAD, "digest", "on")
    await handlers.plan(world.clock.now())
    later = (await planned(world))["digest:EMEA:2026-W12"]
    world.clock.advance(later.not_before - world.clock.now())
    await world.run(handlers.weekly_digest, later)
    assert len(digests_posted(world)) == 1


async def test_anyone_else_is_refused_and_the_digest_stays_on(world: StepWorld) -> None:
    assert await said(world, ANA, "digest", "off") == only_leads_digest()
    assert "digest to the Case Transfer channel (for the whole team): on." in await said(world, ANA)
    assert await world.store.get_setting(DIGEST_SETTING) is None
    await digest(world).plan(world.clock.now())
    assert len(await planned(world)) == 4


async def test_no_channel_bound_is_no_error_and_nothing_to_retry(
    world: StepWorld, caplog: pytest.LogCaptureFixture
) -> None:
    handlers = digest(world, SHIPPED)  # no channel in the file, none bound
    await handlers.plan(world.clock.now())
    item = (await planned(world))["digest:US:2026-W10"]

    with caplog.at_level(logging.INFO, logger=LOGGER):
        await world.run(handlers.weekly_digest, item)

    assert world.connector.activities() == []
    [record] = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.INFO
    assert record.getMessage() == "no Case Transfer channel for the weekly digest"
    assert (record.__dict__["region"], record.__dict__["week"]) == ("US", "2026-W10")


async def test_the_digest_is_in_the_teams_language(world: StepWorld) -> None:
    team = PROCESS.case_transfer.model_copy(update={"language": "de"})
    handlers = digest(world, PROCESS.model_copy(update={"case_transfer": team}))
    await world.channel()
    await handlers.plan(world.clock.now())
    item = (await planned(world))["digest:US:2026-W10"]

    with translated("de", {"last week": "letzte Woche"}):
        await world.run(handlers.weekly_digest, item)

    [card] = world.cards(DEFAULT_CHANNEL_ID)
    assert "letzte Woche" in all_text(card)
    assert "last week" not in all_text(card).lower()
