"""`audit`: the leads and the bot's admins read the audited changes, in a personal chat, in
their own zone; anyone else is refused. A use case over a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application import messages
from handoff.ports import ConversationKind

from harness.scenario import ANA, BO, Scenario, open_scenario, texts

ADMIN = ANA


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path, admin_ids=(ADMIN.id,)):
        opened.join(BO)
        yield opened


async def audit(scenario: Scenario, *, kind: ConversationKind = ConversationKind.PERSONAL) -> str:
    reply = await scenario.command("audit", scenario.request(ADMIN, kind=kind))
    [said] = texts(reply)
    return said


async def test_someone_not_an_admin_is_refused(scenario: Scenario) -> None:
    await scenario.command("settings", scenario.request(BO, "region", "US"))
    reply = await scenario.command("audit", scenario.request(BO))
    assert reply == [messages.audit_not_allowed()]


async def test_the_log_is_read_in_a_personal_chat_only(scenario: Scenario) -> None:
    assert await audit(scenario, kind=ConversationKind.CHANNEL) == messages.audit_in_personal_chat()


async def test_an_empty_log_says_so(scenario: Scenario) -> None:
    assert await audit(scenario) == messages.audit_trail([], "Etc/UTC")


async def test_the_log_shows_the_changes_newest_first_in_the_readers_zone(
    scenario: Scenario,
) -> None:
    await scenario.command("setup", scenario.request(BO, kind=ConversationKind.CHANNEL))
    await scenario.command("settings", scenario.request(BO, "region", "US"))
    await scenario.command("settings", scenario.request(ADMIN, "zone", "Asia/Kolkata"))
    lines = (await audit(scenario)).splitlines()
    assert lines[0] == "**Audit log**, newest first (times in Asia/Kolkata)"
    assert lines[2].startswith("- Mon Nov 23, 2026, 3:30 PM IST")
    assert lines[2].endswith("Ana Lopez · changed their settings: time zone not set → Asia/Kolkata")
    assert lines[3].endswith("Bo Receiver · changed their settings: region not set → US")
    assert lines[4].endswith(
        "Bo Receiver · bound the Case Transfer channel: Case Transfer in Support"
    )
