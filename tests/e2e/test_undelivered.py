"""A message meant for a person that never reaches them is not only a log line: the requester
of the case hears, in their personal chat, what did not reach whom and what to do; a storm of
such dead letters is one message; the admins see them under `outbox`, with who they were for."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import DEFAULT_CONFIG_PATH
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    CASE_FORM,
    NOTES_FORM,
    RECEIVER,
    TUESDAY,
    command_by,
    invoke_for,
    post,
    posted_card,
    request_handoff,
    status_card,
    user_fields,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_USER, TeamsUser, fake_user
from harness.ids import personal_conversation_id as chat_of
from harness.outbox_burst import outbox_settled

LEAD = fake_user("Tara Lead")
# The regional handoff SMEs of EMEA; neither has installed the bot.
SAM, KIM = fake_user("Sam Sme"), fake_user("Kim Sme")
UNDELIVERED = "did not reach the people they were for"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


def config(tmp_path: Path, **reminders: int) -> str:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    if reminders:
        data["reminders"] = reminders
    data["leads"] = [{"name": LEAD.name, "teams_id": LEAD.aad_object_id}]
    data["smes"]["EMEA"] = [{"name": u.name, "teams_id": u.aad_object_id} for u in (SAM, KIM)]
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


async def settled(url: str, clock: FakeClock) -> None:
    store = await open_store(url, clock)
    try:
        await outbox_settled(store, clock)
    finally:
        await store.close()


def told(connector: FakeConnector) -> list[str]:
    """What the requester was told about messages that did not arrive."""
    texts = (
        a.get("text") or "" for a in connector.activities(chat_of(DEFAULT_USER.id, DEFAULT_BOT_ID))
    )
    return [text for text in texts if UNDELIVERED in text]


async def escalate(
    bot: RunningBot,
    connector: FakeConnector,
    card: dict[str, Any],
    message_id: str,
    user: TeamsUser,
) -> dict[str, Any]:
    _, body = await post(bot, invoke_for(connector, card, message_id, "escalate", user))
    return dict(body["value"])


async def test_an_sme_notice_that_reaches_nobody_is_told_to_the_requester_once(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config(tmp_path))
    for user in (LEAD, DEFAULT_USER):
        await post(bot, activities.bot_added_personal(fake_connector.url, **_ids(user)))
    await post(bot, activities.bot_added_to_team(fake_connector.url))
    await post(bot, activities.channel_message("setup", fake_connector.url, **user_fields(LEAD)))
    await request_handoff(bot, fake_connector)
    card, message_id = await posted_card(fake_connector)

    # Escalated to the SMEs: neither can be told, so each notice is a dead letter at once.
    await escalate(bot, fake_connector, card, message_id, RECEIVER)
    await settled(sqlite_url, clock)
    [said] = told(fake_connector)
    assert said.startswith(f"Some of my messages about case {CASE} {UNDELIVERED}:")
    for sme in (SAM, KIM):
        assert (
            f"the notice that the handoff of case {CASE} was escalated to them, for {sme.name}: "
            "they have not installed the bot"
        ) in said
    assert "Reach them another way" in said and "**outbox retry**" in said

    # More dead letters about the case soon after (the lead sends it back to the queue from
    # their status card, and it is escalated again): not told again.
    lead_card, lead_message = await status_card(bot, fake_connector, LEAD)
    back = invoke_for(
        fake_connector,
        lead_card,
        lead_message,
        "back_to_queue",
        LEAD,
        "personal",
        reason="No SME answers",
    )
    _, body = await post(bot, back)
    await escalate(bot, fake_connector, body["value"], message_id, RECEIVER)
    await settled(sqlite_url, clock)
    assert len(told(fake_connector)) == 1, "a storm of dead letters is one message"

    # The admins see each dead letter with who it was for.
    listing = await command_by(bot, fake_connector, "outbox", LEAD)
    for sme in (SAM, KIM):
        assert listing.count(f"notify for {sme.name} (case {CASE})") == 2, listing


def _ids(user: TeamsUser) -> dict[str, Any]:
    return {"user_id": user.id, "aad_object_id": user.aad_object_id}


async def test_an_unaccepted_critical_handoffs_sme_notice_that_fails_is_told(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    reminders = config(tmp_path, stay_interval_minutes=60, tell_smes_after_minutes=120)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=reminders)
    await post(bot, activities.bot_added_personal(fake_connector.url))
    critical = {**CASE_FORM, "severity": "A", "is_24x7": "true"}
    notes = {**NOTES_FORM, "customer_reachable": "yes", "critsit_reason": "Production outage"}
    await request_handoff(bot, fake_connector, case_form=critical, notes=notes)

    # Two hours without an owner: the SMEs are to be told, and neither can be.
    for _ in range(2):
        clock.advance(timedelta(minutes=61))
        await settled(sqlite_url, clock)
    [said] = told(fake_connector)
    for sme in (SAM, KIM):
        assert (
            f"the notice that the critical handoff of case {CASE} has no owner, for {sme.name}: "
            "they have not installed the bot"
        ) in said
