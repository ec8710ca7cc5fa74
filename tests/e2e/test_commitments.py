"""The customer's next contact over the Teams protocol: a handoff requested through the dialog
promises the customer a time; the reminder reaches whoever has the case before it — the new
owner once they accepted — exactly once from two bot processes on one PostgreSQL; and once
the time has passed while nobody took the case, the Case Transfer card and `mine` say so."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

from storage.sql_store import open_store

from conftest import CreateDatabase, FakeClock, StartBot
from harness import activities
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    NOTES_FORM,
    RECEIVER,
    TUESDAY,
    accept_invoke,
    command_by,
    post,
    posted_card,
    request_handoff,
    set_up_channel,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_CHANNEL_ID, DEFAULT_USER, personal_conversation_id

# The scenario's customer is in Chicago: 09:00 there on Tuesday 2026-11-24 is 15:00 UTC; the
# handoff is requested at 10:00 UTC (TUESDAY), so the reminder is due at 14:30 UTC.
PROMISED = {**NOTES_FORM, "next_contact_date": date(2026, 11, 24).isoformat()}
DUE = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
CONTACT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
OVERDUE = "Next customer contact overdue since Tue Nov 24, 2026, 9:00 AM CST (America/Chicago)"
REQUESTER_CHAT = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)
RECEIVER_CHAT = personal_conversation_id(RECEIVER.id, DEFAULT_BOT_ID)


def reminders(connector: FakeConnector, chat: str | None = None) -> list[dict[str, Any]]:
    return [c for c in connector.adaptive_cards(chat) if "Customer contact" in all_text(c)]


def is_reminder(activity: dict[str, Any]) -> bool:
    return any(
        "Customer contact" in all_text(a.get("content") or {})
        for a in activity.get("attachments") or []
    )


async def reminder_rows(url: str, clock: FakeClock, settled: int) -> list[tuple[str, str, int]]:
    """The reminder items' (person, state, attempts) once `settled` of them are done: the worker
    marks an item done just after its send (a bounded wait on that condition)."""
    store = await open_store(url, clock)
    try:
        for _ in range(250):
            rows = await store.database.fetch_all(
                "SELECT payload, state, attempts FROM outbox WHERE kind = ? ORDER BY id",
                "commitment_reminder",
            )
            found = [(str(r["payload"]), str(r["state"]), int(r["attempts"])) for r in rows]
            if sum(state == "done" for _, state, _ in found) >= settled:
                return found
            await asyncio.sleep(0.02)
        return found
    finally:
        await store.close()


async def test_two_processes_remind_the_new_owner_once_before_the_contact(
    start_bot: StartBot, fake_connector: FakeConnector, create_postgres_database: CreateDatabase
) -> None:
    url = await create_postgres_database()
    clock = FakeClock(TUESDAY)
    first = await start_bot(clock=clock, DATABASE_URL=url)
    second = await start_bot(clock=clock, DATABASE_URL=url)
    await set_up_channel(first, fake_connector)
    await request_handoff(first, fake_connector, CASE, notes=PROMISED)
    card, message_id = await posted_card(fake_connector, CASE)
    # Bo has the bot in his personal chat, and takes the case from the other process.
    await post(second, activities.bot_added_personal(fake_connector.url, user_id=RECEIVER.id))
    status, _ = await post(second, accept_invoke(fake_connector, card, message_id, RECEIVER))
    assert status == 200

    # Nothing is due before 14:30: both items wait for it (the requester's and Bo's).
    rows = await reminder_rows(url, clock, settled=0)
    assert [state for _, state, _ in rows] == ["pending", "pending"]
    clock._now = DUE
    await fake_connector.wait_for_activities(
        conversation_id=RECEIVER_CHAT, predicate=is_reminder, timeout=10
    )
    rows = await reminder_rows(url, clock, settled=2)

    # Each item was claimed once, by one of the two workers; only Bo's sent anything.
    assert [(state, attempts) for _, state, attempts in rows] == [("done", 1), ("done", 1)]
    [reminder] = reminders(fake_connector)
    assert reminders(fake_connector, RECEIVER_CHAT) == [reminder]
    assert reminders(fake_connector, REQUESTER_CHAT) == []
    shown = all_text(reminder)
    # Before the time, by the fake clock: thirty minutes ahead.
    assert f"Customer contact in 30 minutes: case {CASE}" in shown
    assert "Nobody has taken" not in shown


async def test_past_the_contact_with_nobody_on_the_case_the_card_and_mine_say_overdue(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    clock = FakeClock(TUESDAY)
    bot = await start_bot(clock=clock)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector, CASE, notes=PROMISED)
    await posted_card(fake_connector, CASE)
    assert OVERDUE not in await command_by(bot, fake_connector, "mine", DEFAULT_USER)

    # Nobody takes it: the requester, who still has the case, is reminded at 14:30...
    clock._now = DUE
    [reminder] = await fake_connector.wait_for_activities(
        conversation_id=REQUESTER_CHAT, predicate=is_reminder, timeout=10
    )
    assert "Nobody has taken your handoff yet" in all_text(reminder["attachments"][0]["content"])

    # ... and at 15:00 the card in the Case Transfer channel is brought up to date.
    clock._now = CONTACT
    await fake_connector.wait_for(
        lambda r: (
            r.method == "PUT"
            and str(r.conversation_id or "").startswith(DEFAULT_CHANNEL_ID)
            and OVERDUE in str(r.body)
        ),
        10,
        description="the Case Transfer card saying the contact is overdue",
    )
    assert OVERDUE in await command_by(bot, fake_connector, "mine", DEFAULT_USER)
    assert OVERDUE in await command_by(bot, fake_connector, f"status {CASE}", DEFAULT_USER)


async def test_a_contact_already_past_at_the_request_is_flagged_at_once_and_not_reminded(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    clock = FakeClock(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    bot = await start_bot(clock=clock)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector, CASE, notes=PROMISED)
    card, _ = await posted_card(fake_connector, CASE)
    assert OVERDUE in all_text(card)
    # The requester's own copy of the card, given at the end of the dialog, says so too.
    assert any(OVERDUE in all_text(c) for c in fake_connector.adaptive_cards(REQUESTER_CHAT))
    assert await reminder_rows(sqlite_url, clock, settled=0) == []
