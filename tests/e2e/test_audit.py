"""The changes that decide who may see and do what are audited with who and when, over real
HTTP: binding the Case Transfer channel and settings changes in the audit log that `audit`
shows the leads and admins; a vendor escalation's request and decision in the case's history
that `status` shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from application import messages
from storage.sql_store import open_store

from conftest import FakeClock, StartBot
from harness import activities
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import CASE, TUESDAY, command_by, post, refusals, told, user_fields
from harness.ids import DEFAULT_USER, channel_id_for
from harness.team import LEAD, team_bot


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def test_the_channel_binding_and_settings_changes_are_in_the_audit_log(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    await command_by(bot, fake_connector, "settings region APAC", DEFAULT_USER)
    await command_by(bot, fake_connector, "settings region APAC", DEFAULT_USER)  # no change
    await command_by(bot, fake_connector, "settings zone Asia/Singapore", LEAD)

    shown = await command_by(bot, fake_connector, "audit", LEAD)
    lines = [line for line in shown.splitlines() if line.startswith("- ")]
    assert shown.startswith("**Audit log**, newest first (times in Asia/Singapore)")
    at = "Tue Nov 24, 2026, 6:00 PM UTC+08:00"
    assert lines == [
        f"- {at} · Tara Lead · changed their settings: time zone not set → Asia/Singapore",
        f"- {at} · Test User · changed their settings: region not set → APAC",
        f"- {at} · Tara Lead · bound the Case Transfer channel in Support",
    ]

    assert await command_by(bot, fake_connector, "audit", DEFAULT_USER) == (
        messages.audit_not_allowed()
    )
    assert refusals(caplog, "audit refused") == ["not an admin"]
    store = await open_store(sqlite_url, clock)
    try:
        [bound] = [e for e in await store.audit_entries() if e.kind == "channel_bound"]
    finally:
        await store.close()
    assert (bound.actor.id, bound.at) == (LEAD.id, clock.now())


async def test_the_audit_log_is_not_shown_in_a_channel(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    ask = activities.channel_message("audit", fake_connector.url, **user_fields(LEAD))
    await post(bot, ask)
    [reply] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("replyToId") == ask["id"]
    )
    assert reply["text"] == messages.audit_in_personal_chat()


async def test_an_escalations_request_and_decision_are_in_the_cases_history(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    assert await command_by(bot, fake_connector, f"escalate {CASE}", DEFAULT_USER) == (
        messages.escalation_sent(CASE)
    )
    [record] = await fake_connector.wait_for(
        lambda r: r.method == "POST" and "Escalate case" in str(r.body),
        description="the approval card sent to the lead",
    )
    card: dict[str, Any] = record.body["attachments"][0]["content"]
    [approve] = [a for a in card["actions"] if a.get("verb") == "esc_approve"]
    decision = activities.card_action_invoke(
        "esc_approve",
        {**approve["data"], "comment": "L3 agrees to look at the quota service"},
        fake_connector.url,
        str(record.response["id"]),
        **user_fields(LEAD),
    )
    _, body = await post(bot, decision)
    assert "approved" in all_text(body["value"]).lower()

    history = await command_by(bot, fake_connector, f"status {CASE}", DEFAULT_USER)
    steps = history[history.index("History") :]
    assert "Test User · asked to escalate to the vendor" in steps
    assert "Tara Lead · escalation approved: L3 agrees to look at the quota service" in steps


async def test_a_channel_bound_again_is_logged_as_such_and_a_move_says_so(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    again = activities.channel_message("setup", fake_connector.url, **user_fields(LEAD))
    elsewhere = activities.channel_message(
        "setup", fake_connector.url, channel_id=channel_id_for("Escalations"), **user_fields(LEAD)
    )
    for setup in (again, elsewhere):
        assert "now the Case Transfer channel" in await told(bot, fake_connector, setup)
    shown = await command_by(bot, fake_connector, "audit", LEAD)
    moved, bound_again, first = [line for line in shown.splitlines() if "bound" in line]
    assert moved.endswith("in Support (it was another channel)")
    assert bound_again.endswith("in Support") and first.endswith("in Support")
