"""Reminders from two bot processes on one PostgreSQL: each goes out exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from handoff.models import Case, HandoffNotes, Person, Severity, SupportPlan
from handoff.request import HandoffAnswers
from handoff.service import HandoffService
from handoff.state_machine import Accept
from handoff.user_settings import UserSettings
from storage.sql_store import open_store

from conftest import CreateDatabase, FakeClock, StartBot
from harness import activities
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_USER, fake_user
from harness.records import PLACEHOLDER_OUTPUTS, said_by

CASE = "2311230040001234"
ME = Person(id=DEFAULT_USER.id, name=DEFAULT_USER.name, aad_object_id=DEFAULT_USER.aad_object_id)


async def a_critical_case_i_own(url: str, clock: FakeClock) -> None:
    store = await open_store(url, clock)
    try:
        service = HandoffService(store, clock)
        answers = HandoffAnswers(
            case=Case(
                number=CASE,
                severity=Severity.A,
                is_24x7=True,
                plan=SupportPlan.PREMIER,
                product_skill="HDInsight",
                customer_region="EMEA",
                customer_timezone="Europe/London",
            ),
            owner_region="APAC",
            target_region="EMEA",
            kind_choice="between",
            reason="continual support",
            notes=HandoffNotes(summary="Autoscale stops at 20 nodes since the upgrade."),
        )
        outputs = PLACEHOLDER_OUTPUTS
        apac = fake_user("Apac Owner")
        handoff = await service.request(
            answers, outputs, Person(id=apac.id, name=apac.name, aad_object_id=apac.aad_object_id)
        )
        await service.act(handoff.id, Accept(actor=ME), handoff.version)
        settings = UserSettings(person=ME, region="EMEA")
        await store.save_user_settings(settings, said_by(ME, settings, clock))
    finally:
        await store.close()


async def test_two_processes_send_each_reminder_once(
    start_bot: StartBot, fake_connector: FakeConnector, create_postgres_database: CreateDatabase
) -> None:
    url = await create_postgres_database()
    # Monday 2026-11-23 16:00 UTC: the EMEA -> US meeting is at 16:30, EMEA's day ends at 17:00.
    clock = FakeClock(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    await a_critical_case_i_own(url, clock)
    first = await start_bot(clock=clock, DATABASE_URL=url)
    second = await start_bot(clock=clock, DATABASE_URL=url)
    await first.client.post(activities.bot_added_personal(fake_connector.url))
    await first.client.post(activities.bot_added_to_team(fake_connector.url))
    await second.client.post(activities.channel_message("setup", fake_connector.url))
    await fake_connector.wait_for_activities(
        predicate=lambda a: "now the Case Transfer channel" in (a.get("text") or "")
    )

    def agendas() -> list[dict[str, Any]]:
        return [
            card
            for card in fake_connector.adaptive_cards(DEFAULT_CHANNEL_ID)
            if all_text(card).startswith("Agenda: EMEA → US handoff meeting")
        ]

    def shift_ends() -> list[dict[str, Any]]:
        return [c for c in fake_connector.adaptive_cards() if "Your shift ends soon" in all_text(c)]

    clock._now = datetime(2026, 11, 23, 16, 16, tzinfo=UTC)
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments"))
            and all_text(a["attachments"][0]["content"]).startswith("Agenda: EMEA → US")
        ),
        timeout=10,
    )
    clock._now = datetime(2026, 11, 23, 16, 31, tzinfo=UTC)
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments"))
            and "Your shift ends soon" in all_text(a["attachments"][0]["content"])
        ),
        timeout=10,
    )
    # Each reminder was planned once and claimed once, by one of the two workers. The worker
    # marks an item done just after its send: wait (bounded) for that too.
    store = await open_store(url, clock)
    try:
        for _ in range(250):
            rows = await store.database.fetch_all(
                "SELECT kind, state, attempts FROM outbox WHERE kind IN (?, ?) ORDER BY kind",
                "meeting_agenda",
                "shift_end_reminder",
            )
            done = [(r["kind"], r["state"], r["attempts"]) for r in rows if r["state"] == "done"]
            if len(done) >= 2:
                break
            await asyncio.sleep(0.02)
    finally:
        await store.close()
    assert ("meeting_agenda", "done", 1) in done
    assert ("shift_end_reminder", "done", 1) in done
    assert len(agendas()) == 1
    [reminder] = shift_ends()
    assert CASE in all_text(reminder)
    [button] = reminder["actions"]
    assert button["data"] == {"msteams": {"type": "messageBack", "text": f"handoff {CASE}"}}
