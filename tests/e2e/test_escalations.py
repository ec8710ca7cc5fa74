"""R-ESC over real HTTP: the L1/L2 check, the Team Leader's approval card, the decision."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from cards.transfer_card import local_time
from config.settings import DEFAULT_CONFIG_PATH
from handoff.models import (
    HandoffNotes,
)
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.chat import all_text
from harness.escalation_case import requested_case
from harness.fake_connector import FakeConnector
from harness.handoff_flow import handoff_card, told, user_fields
from harness.ids import DEFAULT_USER, fake_user
from harness.sqlite_rows import rows_written

CASE = "2311230040001234"
LEAD = fake_user("Tara Lead")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))


@pytest.fixture
def config_with_leads(tmp_path: Path) -> str:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["leads"] = [
        {"name": LEAD.name, "teams_id": LEAD.aad_object_id},
        # The requester is a lead too: still not allowed to approve their own.
        {"name": DEFAULT_USER.name, "teams_id": DEFAULT_USER.aad_object_id},
    ]
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


async def approval_card_for_lead(
    bot: RunningBot, connector: FakeConnector
) -> tuple[dict[str, Any], str]:
    await bot.client.post(activities.personal_message(f"escalate {CASE}", connector.url))
    [record] = await connector.wait_for(
        lambda r: (
            r.method == "POST"
            and bool((r.body or {}).get("attachments"))
            and "Escalate case" in all_text(r.body["attachments"][0]["content"])
        ),
        description="the approval card sent to the lead",
    )
    return record.body["attachments"][0]["content"], str(record.response["id"])


def press(
    connector: FakeConnector,
    card: dict[str, Any],
    message_id: str,
    verb: str,
    user: Any,
    **inputs: str,
) -> dict[str, Any]:
    [button] = [a for a in card["actions"] if a.get("verb") == verb]
    return activities.card_action_invoke(
        verb,
        {**button["data"], **inputs},
        connector.url,
        message_id,
        **user_fields(user),
    )


async def started(
    start_bot: StartBot, connector: FakeConnector, clock: FakeClock, config: str, sqlite_url: str
) -> RunningBot:
    await requested_case(sqlite_url, clock, CASE)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config)
    for user in (LEAD, DEFAULT_USER):
        await bot.client.post(
            activities.bot_added_personal(
                connector.url, user_id=user.id, aad_object_id=user.aad_object_id
            ),
        )
    return bot


@dataclass
class Asked:
    """An escalation of CASE asked for by DEFAULT_USER: its card on the lead's screen."""

    bot: RunningBot
    connector: FakeConnector
    card: dict[str, Any]
    message_id: str

    def button(self, verb: str, user: Any, **inputs: str) -> dict[str, Any]:
        return press(self.connector, self.card, self.message_id, verb, user, **inputs)

    async def press(self, verb: str, user: Any, **inputs: str) -> tuple[int, Any]:
        """Presses the button as `user`: the status and the body the bot answers with."""
        return await self.bot.client.post(self.button(verb, user, **inputs))


@pytest.fixture
async def asked(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    config_with_leads: str,
    sqlite_url: str,
) -> Asked:
    bot = await started(start_bot, fake_connector, clock, config_with_leads, sqlite_url)
    card, message_id = await approval_card_for_lead(bot, fake_connector)
    return Asked(bot, fake_connector, card, message_id)


async def requester_told_of_decision(connector: FakeConnector) -> dict[str, Any]:
    [told] = await connector.wait_for_activities(
        predicate=lambda a: "decided the escalation" in (a.get("text") or "")
    )
    return told


async def test_an_approved_escalation_is_recorded_shown_and_told(
    asked: Asked, fake_connector: FakeConnector
) -> None:
    assert_valid_card(asked.card)
    assert "Raised the core quota -> same failure" in all_text(asked.card)
    status, body = await asked.press("esc_approve", LEAD)
    assert status == 200
    decided = body["value"]
    assert_valid_card(decided)
    assert "Approved by Tara Lead" in all_text(decided)
    assert "actions" not in decided
    await fake_connector.wait_for(
        lambda r: r.method == "PUT" and r.activity_id == asked.message_id,
        description="lead card updated",
    )
    told = await requester_told_of_decision(fake_connector)
    assert told["text"] == f"Tara Lead decided the escalation of case {CASE}: approved."


async def test_a_rejection_needs_a_comment_and_is_told_with_it(
    asked: Asked, fake_connector: FakeConnector
) -> None:
    _, body = await asked.press("esc_reject", LEAD)
    assert "Say what to do instead in the comment box" in all_text(body["value"])
    comment = "Collect a network trace first."
    _, body = await asked.press("esc_reject", LEAD, comment=comment)
    assert "Rejected by Tara Lead" in all_text(body["value"])
    told = await requester_told_of_decision(fake_connector)
    assert told["text"].endswith(f"rejected. “{comment}”")


async def test_the_requester_cannot_approve_their_own_escalation(asked: Asked) -> None:
    _, body = await asked.press("esc_approve", DEFAULT_USER)
    shown = all_text(body["value"])
    assert "You asked for this escalation, so a Team Leader has to decide it." in shown
    # Someone who is not a lead cannot either, and is not shown the lead's card.
    _, body = await asked.press("esc_approve", fake_user("Sam Stranger"))
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert body["value"] == "Only the Team Leaders in the bot's configuration decide escalations."


async def test_escalation_without_captured_troubleshooting_says_what_is_missing(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    config_with_leads: str,
    sqlite_url: str,
) -> None:
    notes = HandoffNotes(summary="Autoscale stops at 20 nodes.")
    await requested_case(sqlite_url, clock, CASE, notes=notes)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_leads)
    await bot.client.post(activities.personal_message(f"escalate {CASE}", fake_connector.url))
    [reply] = await fake_connector.wait_for_activities(
        predicate=lambda a: "not ready for the vendor" in (a.get("text") or "")
    )
    assert "the L1/L2 steps tried, each with its outcome and links to the logs" in reply["text"]


async def test_technical_escalation_climbs_one_level_at_a_time_and_is_recorded(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    config_with_leads: str,
    sqlite_url: str,
) -> None:
    await requested_case(sqlite_url, clock, CASE)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_leads)
    said: list[str] = []

    def answer(activity: dict[str, Any]) -> bool:
        # The outbox may tell the requester meanwhile that the card has no channel to go to.
        return not str(activity.get("text") or "").startswith("Your handoff of case")

    for _ in range(6):
        before = len([a for a in fake_connector.activities() if answer(a)])
        await bot.client.post(
            activities.personal_message(f"escalate {CASE} technical", fake_connector.url)
        )
        [*_, reply] = await fake_connector.wait_for_activities(before + 1, predicate=answer)
        said.append(reply["text"])
    assert said[0].startswith(f"Case {CASE} goes up to the L2 engineer.")
    assert said[1].startswith(f"Case {CASE} goes up to the subject matter expert.")
    assert said[4].startswith(f"Case {CASE} goes up to the leadership")
    assert (
        said[5]
        == f"Case {CASE} has already reached leadership escalation; there is no level above."
    )
    store = await open_store(sqlite_url, clock)
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        levels = [
            e.data["level"]
            for e in await store.history(handoff.id)
            if e.kind == "technical_escalation"
        ]
    finally:
        await store.close()
    assert levels == ["L2", "SME", "TL", "TM", "leadership"]


async def test_a_second_escalation_waits_for_the_first_decision(
    asked: Asked, fake_connector: FakeConnector
) -> None:
    await asked.bot.client.post(activities.personal_message(f"escalate {CASE}", fake_connector.url))
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            a.get("text")
            == f"Case {CASE} already waits for a Team Leader's decision on its escalation."
        )
    )


async def test_a_decision_pressed_twice_is_recorded_and_told_once(
    asked: Asked, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    _, first = await asked.press("esc_approve", LEAD)
    _, second = await asked.press("esc_approve", LEAD)
    assert second["value"] == first["value"], "the repeat gets the same card, no notice"
    await requester_told_of_decision(fake_connector)
    store = await open_store(sqlite_url, clock)
    try:
        [row] = await store.database.fetch_all("SELECT version FROM escalations")
        told = await store.database.fetch_all(
            "SELECT id FROM outbox WHERE dedupe_key LIKE 'tell:escalation:%'"
        )
    finally:
        await store.close()
    assert row["version"] == 2
    assert len(told) == 1


async def test_refused_decisions_change_nothing_and_are_logged(
    asked: Asked, clock: FakeClock, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await asked.press("esc_approve", DEFAULT_USER)
    await asked.press("esc_approve", fake_user("Sam Stranger"))
    forged = asked.button("esc_approve", LEAD)
    forged["value"]["action"]["data"]["version"] = 7
    _, body = await asked.bot.client.post(forged)
    assert body["value"] == "That card is damaged. Use the buttons of the latest card."
    store = await open_store(sqlite_url, clock)
    try:
        [row] = await store.database.fetch_all("SELECT state, version FROM escalations")
    finally:
        await store.close()
    assert (row["state"], row["version"]) == ("pending", 1)
    reasons = [
        getattr(r, "reason", None)
        for r in caplog.records
        if r.getMessage() == "escalation decision refused"
    ]
    assert reasons == ["NotAllowed", "not a lead", "forged version"]


async def test_with_no_lead_to_reach_the_requester_is_told_at_once_and_can_ask_again(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    config_with_leads: str,
    sqlite_url: str,
) -> None:
    await requested_case(sqlite_url, clock, CASE)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_leads)
    # Only the requester (a lead, who may not decide their own) has installed the bot.
    await bot.client.post(activities.bot_added_personal(fake_connector.url))
    status, _ = await bot.client.post(
        activities.personal_message(f"escalate {CASE}", fake_connector.url)
    )
    assert status in (200, 201)
    [told] = await fake_connector.wait_for_activities(
        predicate=lambda a: "escalat" in (a.get("text") or "")
    )
    assert told["text"].startswith(f"I did not ask for the escalation of case {CASE}")
    assert "Tara Lead" in told["text"] and "teams_id" in told["text"]
    assert "installed the bot" in told["text"]
    rows = await asyncio.to_thread(rows_written, sqlite_url)
    assert "escalations" not in rows, "no escalation waits silently for a decision"

    # Once the lead has installed the bot, asking again sends the card: nothing was pending.
    await bot.client.post(
        activities.bot_added_personal(
            fake_connector.url, user_id=LEAD.id, aad_object_id=LEAD.aad_object_id
        )
    )
    card, _ = await approval_card_for_lead(bot, fake_connector)
    assert "Raised the core quota -> same failure" in all_text(card)


async def test_a_technical_escalation_keeps_the_request_time_and_shows_the_level_reached(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    card, message_id = await handoff_card(bot, fake_connector)
    requested_at = local_time(clock.now())
    assert f"Requested · {requested_at}" in all_text(card)

    # Three hours later the requester takes the case up to the SME, one level at a time.
    for _ in range(2):
        clock.advance(timedelta(hours=3))
        await bot.client.post(
            activities.personal_message(f"escalate {CASE} technical", fake_connector.url)
        )
    puts = await fake_connector.wait_for(
        lambda r: r.method == "PUT" and r.activity_id == message_id,
        count=2,
        description="the channel card updated after each level",
    )
    updated = puts[-1].body["attachments"][0]["content"]
    assert_valid_card(updated)
    shown = all_text(updated)
    assert f"Requested · {requested_at}" in shown, "the state line keeps the request time"
    assert local_time(clock.now()) not in shown.split("History")[0]
    assert "Technical escalation: subject matter expert (SME)" in shown

    # `status` says the same, with the steps in its history.
    status = activities.personal_message(f"status {CASE}", fake_connector.url)
    said = await told(bot, fake_connector, status)
    assert f"Requested · {requested_at}" in said
    assert "Technical escalation: subject matter expert (SME)" in said
